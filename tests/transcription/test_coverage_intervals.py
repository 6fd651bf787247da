"""The interval arithmetic of the coverage check (transcription/coverage.py), on numbers."""

from __future__ import annotations

import pytest

from audiohub.domain import Word
from audiohub.transcription.coverage import (
    merge,
    repeats_neighbours,
    subtract,
    total,
    within,
    word_cover,
    wordless_stretches,
)


def _words(*spans: tuple[float, float]) -> list[Word]:
    return [Word(word=" w", start=a, end=b, probability=0.9) for a, b in spans]


def test_merge_sorts_joins_overlaps_and_drops_empty_intervals() -> None:
    assert merge([(5, 6), (0, 2), (1, 3), (4, 4)]) == [(0, 3), (5, 6)]
    assert merge([(0, 1), (1.2, 2)], join=0.3) == [(0, 2)]
    assert merge([(0, 1), (1.5, 2)], join=0.3) == [(0, 1), (1.5, 2)]
    assert merge([]) == []


def test_subtract_cuts_holes_edges_and_whole_intervals() -> None:
    assert subtract([(0, 10)], [(2, 3), (5, 6)]) == [(0, 2), (3, 5), (6, 10)]
    assert subtract([(0, 4), (6, 8)], [(3, 7)]) == [(0, 3), (7, 8)]
    assert subtract([(1, 2)], [(0, 5)]) == []
    assert subtract([(1, 2)], []) == [(1, 2)]


def test_total_and_within_count_overlaps_once() -> None:
    assert total([(0, 2), (1, 3)]) == 3
    assert within([(0, 2), (4, 6)], 1, 5) == 2
    assert within([(0, 2)], 3, 4) == 0


def test_word_cover_widens_each_word_by_the_slack() -> None:
    assert word_cover(_words((1.0, 1.4), (1.5, 2.0)), slack=0.3) == [pytest.approx((0.7, 2.3))]


def test_a_wordless_opening_is_one_stretch() -> None:
    # Speech 0-4 s (two turns split at a breath) and 5-9 s; words only from 5 s on.
    speech = [(0.0, 1.8), (2.2, 4.0), (5.0, 9.0)]
    words = _words(*[(5.0 + i * 0.5, 5.4 + i * 0.5) for i in range(8)])
    assert wordless_stretches(speech, words, 1.5) == [(0.0, 4.0)]


def test_short_gaps_and_words_between_pieces_are_not_stretches() -> None:
    speech = [(0.0, 2.0), (2.5, 4.5)]
    # A word at 2.2 s (covering 1.9-2.6 s with its slack) splits the wordless speech in two
    # stretches of 1.9 s ...
    words = _words((2.2, 2.3))
    assert wordless_stretches(speech, words, 1.5) == [pytest.approx((0.0, 1.9)),
                                                     pytest.approx((2.6, 4.5))]
    # ... and under a 2 s minimum neither counts.
    assert wordless_stretches(speech, words, 2.0) == []


def test_two_blips_across_a_pause_do_not_add_up_to_a_turn() -> None:
    # 0.5 s + 0.5 s of speech 3 s apart: the span is 4 s, the speech 1 s.
    assert wordless_stretches([(0.0, 0.5), (3.5, 4.0)], [], 1.5) == []
    assert wordless_stretches([(0.0, 0.5), (3.5, 4.0)], [], 1.0) == [(0.0, 4.0)]


@pytest.mark.parametrize("slack", [0.0, 0.3])
def test_fully_worded_speech_has_no_stretches(slack: float) -> None:
    speech = [(0.0, 2.5)]
    words = _words(*[(i * 0.25, i * 0.25 + 0.25) for i in range(10)])
    assert subtract(speech, word_cover(words, slack)) == []
    assert wordless_stretches(speech, words, 0.1) == []


def _said(text: str, start: float) -> list[Word]:
    return [Word(word=f" {t}", start=start + i * 0.4, end=start + i * 0.4 + 0.3, probability=0.9)
            for i, t in enumerate(text.split())]


def test_a_clip_that_hears_the_next_turn_again_is_a_repeat() -> None:
    # Whisper kept the code but timed it after the stretch: the clip hears the same words.
    existing = _said("hi there", 0.0) + _said("it is B H four seven two, thanks", 9.0)
    assert repeats_neighbours(_said("it's B H four seven two", 5.0), existing, 4.5, 8.5)


def test_new_words_and_short_answers_are_not_repeats() -> None:
    existing = _said("hi there what is the name", 0.0) + _said("okay thank you", 9.0)
    assert not repeats_neighbours(_said("my name is Laura Brenwick", 4.0), existing, 3.5, 8.5)
    assert not repeats_neighbours(_said("okay", 5.0), existing, 4.5, 6.0)
    assert not repeats_neighbours(_said("okay thank you", 5.0), [], 4.5, 6.0)
