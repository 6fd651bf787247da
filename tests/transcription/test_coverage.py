"""The coverage check with real Whisper on real audio: a stretch timestamped decoding skips is
decoded again and merged; speech that yields no words at all is flagged for review."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from audiohub.config import ReviewSettings, WhisperSettings
from audiohub.domain import Classification, Transcript
from audiohub.extraction.confidence import review
from audiohub.transcription.audio import DecodedAudio, decode_file
from audiohub.transcription.backends.faster_whisper import FasterWhisperTranscriber
from audiohub.transcription.coverage import check_coverage

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"
# Where the customer spells her name in dropped_stretch_8k.opus (see make_fixtures.sh).
SPELLING = (18.9, 24.2)
GREETING = (0.0, 3.8)
CONFIDENT = Classification(domain="utilities", category="service_connection", score=0.9,
                           margin=0.5)


def _words_in(tr: Transcript, lo: float, hi: float) -> list[str]:
    return [w.word for s in tr.segments for w in s.words if lo <= (w.start + w.end) / 2 <= hi]


def _unrepaired_coverage(tr: Transcript, audio: DecodedAudio,
                         t: FasterWhisperTranscriber) -> float | None:
    # A minimum gap longer than the call: nothing is decoded again, the coverage is measured.
    return check_coverage(tr, audio, t, (), min_gap_s=1e6).speech_coverage


def _assert_consistent(tr: Transcript) -> None:
    starts = [w.start for s in tr.segments for w in s.words]
    assert starts == sorted(starts)
    assert [s.id for s in tr.segments] == list(range(len(tr.segments)))
    assert tr.text == " ".join(s.text for s in tr.segments if s.text)
    for tw in tr.timed_words():
        assert tr.text[tw.char_start:tw.char_end] == tw.text


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> FasterWhisperTranscriber:
    # The default model: the fixture is a stretch *base* skips (tiny.en fails differently).
    return FasterWhisperTranscriber(WhisperSettings(model="base"),
                                    tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> FasterWhisperTranscriber:
    return FasterWhisperTranscriber(WhisperSettings(model="tiny.en"),
                                    tmp_path_factory.mktemp("data"))


def test_a_skipped_stretch_is_decoded_again_and_merged_in_time_order(
        base: FasterWhisperTranscriber) -> None:
    audio = decode_file(AUDIO / "dropped_stretch_8k.opus")
    # Deterministic both times (no temperature fallback, which samples): the same audio gives
    # the same transcript, so what is skipped is the same every run.
    raw = base.transcribe(audio, deterministic=True)
    # The failures: timestamped decoding gives no words for the greeting ("Tallis Energy, new
    # connections, this is Gwen.") nor where the customer spells her name, though the VAD
    # hears speech in both.
    assert raw.segments[0].start > GREETING[1]
    assert _words_in(raw, *SPELLING) == []
    before = _unrepaired_coverage(raw, audio, base)
    assert before is not None and before < 0.9

    fixed = check_coverage(raw, audio, base, (), min_gap_s=1.5)

    # The greeting, decoded on its own, is back and comes first (base at 8 kHz hears it as
    # "Ali-Matter-Geek-New Connection, if it win. I-Wen." on this machine's CPU).
    greeting = " ".join(_words_in(fixed, *GREETING)).lower()
    assert "connection" in greeting, greeting
    assert fixed.segments[0].end <= raw.segments[0].start
    assert any("decoded again on its own" in n and "0.2-" in n for n in fixed.notes)
    # The spelling, decoded on its own, fails Whisper's own checks (log-probability under -1:
    # it heard "www.thandewingamini.com."): not trusted, so flagged for a person instead.
    assert _words_in(fixed, *SPELLING) == []
    # (The stretch's end moves by a few tenths with the VAD's frames: 24.0 or 24.6 s.)
    (flag,) = fixed.flags
    lo, hi = (float(x) for x in re.findall(r"(\d+\.\d)-(\d+\.\d)s", flag)[0])
    assert flag.startswith("uncovered_speech") and lo <= SPELLING[0] + 0.5 and hi >= 23.5
    assert fixed.speech_coverage is not None and fixed.speech_coverage > before + 0.05
    # What was heard after the greeting is still there, in order.
    assert fixed.text.endswith(raw.text)
    _assert_consistent(fixed)
    # The same audio gives the same words every time (sampling gave other words each run).
    assert check_coverage(raw, audio, base, (), min_gap_s=1.5) == fixed


def test_speech_that_yields_no_words_is_flagged_and_reviewed(
        tiny: FasterWhisperTranscriber) -> None:
    call = decode_file(AUDIO / "healthcare_appointment_16k.wav")
    # The call played backwards: speech to the VAD (speech's spectrum and rhythm), no words to
    # Whisper, whole or clipped; a garbled line would be the same.
    audio = replace(call, samples=np.ascontiguousarray(call.samples[::-1]))
    raw = tiny.transcribe(audio)
    assert raw.text == ""

    checked = check_coverage(raw, audio, tiny, (), min_gap_s=1.5)

    assert checked.flags and all(f.startswith("uncovered_speech") for f in checked.flags)
    for flag in checked.flags:
        lo, hi = (float(x) for x in re.findall(r"(\d+\.\d)-(\d+\.\d)s", flag)[0])
        assert 0 <= lo < hi <= audio.duration + 0.1
    assert (checked.text, checked.speech_coverage) == ("", 0.0)
    verdict = review(checked, CONFIDENT, {}, ReviewSettings())
    assert verdict.needs_review
    assert any(r.startswith("speech with no words") for r in verdict.reasons)


def test_a_fully_heard_call_is_unchanged_but_for_its_coverage(
        tiny: FasterWhisperTranscriber) -> None:
    audio = decode_file(AUDIO / "banking_card_block_16k.wav")
    raw = tiny.transcribe(audio)
    checked = check_coverage(raw, audio, tiny, (), min_gap_s=1.5)
    assert checked.model_copy(update={"speech_coverage": None}) == raw
    assert checked.speech_coverage is not None and checked.speech_coverage > 0.95


def test_recognisers_without_their_own_word_times_are_not_checked(
        tiny: FasterWhisperTranscriber) -> None:
    audio = decode_file(AUDIO / "banking_card_block_16k.wav")
    # Gemini's words are spread evenly over its segments: their times say nothing.
    spread = tiny.transcribe(audio).model_copy(update={"word_probabilities": False})
    assert check_coverage(spread, audio, tiny, (), min_gap_s=1.5) == spread


def test_silence_has_no_speech_to_cover(tiny: FasterWhisperTranscriber) -> None:
    audio = decode_file(AUDIO / "silence_5s.wav")
    checked = check_coverage(tiny.transcribe(audio), audio, tiny, (), min_gap_s=1.5)
    assert (checked.text, checked.flags, checked.speech_coverage) == ("", [], None)
