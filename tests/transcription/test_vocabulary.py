"""Custom vocabulary: VOCABULARY_FILE parsing, request keyterms, decoder hints and the correction
pass, on transcripts built from our own words and on a clip rendered with espeak-ng."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from audiohub.config import WhisperSettings
from audiohub.domain import Segment, Transcript, Word
from audiohub.errors import ConfigurationError, InvalidInputError
from audiohub.transcription.audio import decode_file
from audiohub.transcription.backends.faster_whisper import FasterWhisperTranscriber
from audiohub.transcription.correction import MatchSettings
from audiohub.transcription.vocabulary import (
    HINT_CHARS,
    MAX_FILE_TERMS,
    MAX_REQUEST_KEYTERMS,
    MAX_TERM_CHARS,
    Term,
    Vocabulary,
    decode_hints,
    parse_keyterms,
)


def _segment(index: int, text: str, start: float, probability: float = 0.5) -> Segment:
    """A segment whose words are `text`'s, 0.3 s each, Whisper-style (leading space)."""
    words = [Word(word=f" {w}", start=round(start + 0.3 * n, 3),
                  end=round(start + 0.3 * (n + 1), 3), probability=probability)
             for n, w in enumerate(text.split())]
    return Segment(id=index, start=start, end=words[-1].end, text=text, words=words)


def _transcript(*texts: str, probability: float = 0.5) -> Transcript:
    segments = [_segment(n, t, 10.0 * n, probability) for n, t in enumerate(texts)]
    return Transcript.from_segments(segments, language="en", duration=10.0 * len(texts))


def _assert_exact(tr: Transcript) -> None:
    """Corrections and words slice the text exactly, and the text is the segments joined."""
    assert tr.text == " ".join(s.text for s in tr.segments)
    for c in tr.corrections:
        assert tr.text[c.char_start:c.char_end] == c.to
    for tw in tr.timed_words():
        assert tr.text[tw.char_start:tw.char_end] == tw.text
    assert len(tr.timed_words()) == sum(len(s.words) for s in tr.segments)


# --- VOCABULARY_FILE ------------------------------------------------------------------------

def test_file_terms_aliases_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "vocab.txt"
    path.write_text("# our brand and partners\n\nHarbor Bank   # the brand\n"
                    "Walgreens => wall greens,  all greens\nlisinopril\n"
                    "walgreens => wal greens\n", encoding="utf-8")
    vocab = Vocabulary.load(path)
    assert vocab.terms == [
        Term("Harbor Bank"),
        # The same term twice (any case): one entry, its spoken forms joined.
        Term("Walgreens", ("wall greens", "all greens", "wal greens")),
        Term("lisinopril"),
    ]
    assert Vocabulary.load(None).terms == []


@pytest.mark.parametrize(("line", "why"), [
    ("Walgreens =>", "empty spoken form"),
    ("=> wall greens", "no term"),
    ("Walgreens => wall greens,, all", "empty spoken form"),
    ("x" * (MAX_TERM_CHARS + 1), f"longer than {MAX_TERM_CHARS}"),
    ("one two three four five", "more than 4 words"),
    ("Bad\x07Term", "control character"),
    ("--- ...", "no letters or digits"),
])
def test_file_errors_name_the_line(tmp_path: Path, line: str, why: str) -> None:
    path = tmp_path / "vocab.txt"
    path.write_text(f"# header\nHarbor Bank\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigurationError, match=f"line 3: .*{why}"):
        Vocabulary.load(path)


def test_file_that_cannot_be_read_or_is_too_long(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Vocabulary.load(tmp_path / "missing.txt")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Cafe\xe9".encode("latin-1"))
    with pytest.raises(ConfigurationError, match="cannot be read"):
        Vocabulary.load(latin1)
    big = tmp_path / "big.txt"
    big.write_text("".join(f"Term{n}\n" for n in range(MAX_FILE_TERMS + 1)), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=f"line {MAX_FILE_TERMS + 1}: more than"):
        Vocabulary.load(big)


# --- a request's keyterms ----------------------------------------------------------------------

def test_request_keyterms_are_trimmed_and_deduplicated() -> None:
    assert parse_keyterms(["  Megan   Foster ", "megan foster", "", "Walgreens", "   "]) == [
        "Megan Foster", "Walgreens"]


@pytest.mark.parametrize(("values", "message"), [
    (["ok", "x" * (MAX_TERM_CHARS + 1)], f"longer than {MAX_TERM_CHARS} characters"),
    (["Tab\tinside"], None),  # a tab is whitespace: collapsed, not refused
    (["Bell\x07"], "control character"),
    (["Zero\u200bwidth"], "control character"),
    ([f"Term{n}" for n in range(MAX_REQUEST_KEYTERMS + 1)], f"at most {MAX_REQUEST_KEYTERMS}"),
])
def test_request_keyterm_errors(values: list[str], message: str | None) -> None:
    if message is None:
        assert parse_keyterms(values) == ["Tab inside"]
        return
    with pytest.raises(InvalidInputError, match=message):
        parse_keyterms(values)


# --- decoder hints -----------------------------------------------------------------------------

def test_hints_join_request_and_file_terms_once() -> None:
    vocab = Vocabulary([Term("Harbor Bank"), Term("Walgreens", ("wall greens",))])
    assert vocab.hints(["Megan Foster", "walgreens"]) == ["Megan Foster", "walgreens",
                                                         "Harbor Bank"]
    assert decode_hints(["A b", "C"], "hotwords") == {"hotwords": "A b, C"}
    assert decode_hints(["A b", "C"], "prompt") == {"initial_prompt": "A b, C"}
    assert decode_hints(["A b"], "none") == {} == decode_hints([], "prompt")


def test_hints_are_capped_and_each_side_keeps_its_share() -> None:
    company = Vocabulary([f"Company Term {n:03d}" for n in range(200)])
    request = [f"Request Term {n:03d}" for n in range(40)]
    hints = company.hints(request)
    assert len(", ".join(hints)) <= HINT_CHARS
    mine = [h for h in hints if h.startswith("Request")]
    theirs = [h for h in hints if h.startswith("Company")]
    # Half the budget each: neither a long file nor a long request pushes the other out.
    assert abs(len(mine) - len(theirs)) <= 1 and mine == request[:len(mine)]
    # A short request leaves the file the rest of the budget, and the other way round.
    assert len(company.hints(["Megan Foster"])) > len(theirs) + 1
    assert len(Vocabulary(["Harbor Bank"]).hints(request)) > len(mine) + 1


# --- the correction pass -----------------------------------------------------------------------

def test_split_name_is_corrected_with_exact_spans_and_time() -> None:
    tr = _transcript("Hello, thank you for calling.", "Yes, my pharmacy is Wall greens, on Main.")
    out = Vocabulary().correct(tr, ["Walgreens"])
    assert out.text == "Hello, thank you for calling. Yes, my pharmacy is Walgreens, on Main."
    [c] = out.corrections
    assert (c.heard, c.to) == ("Wall greens", "Walgreens")
    # The replaced words' time: "Wall" starts at 10 + 4 * 0.3, "greens," ends 0.6 s later.
    assert (c.start, c.end) == pytest.approx((11.2, 11.8))
    assert c.model_dump()["from"] == "Wall greens"
    words = out.segments[1].words
    assert [w.word for w in words] == [" Yes,", " my", " pharmacy", " is", " Walgreens,", " on",
                                       " Main."]
    assert (words[4].start, words[4].end) == pytest.approx((11.2, 11.8))
    _assert_exact(out)


def test_multi_word_term_keeps_each_word_time() -> None:
    tr = _transcript("My name is Brace Thompson.", "Thank you Brace Thompson, one moment.")
    out = Vocabulary().correct(tr, ["Grace Thompson"])
    assert [c.heard for c in out.corrections] == ["Brace Thompson", "Brace Thompson"]
    assert out.segments[0].text == "My name is Grace Thompson."
    assert [(w.word, w.start) for w in out.segments[1].words[2:4]] == [
        (" Grace", 10.6), (" Thompson,", 10.9)]
    _assert_exact(out)


def test_possessive_ending_is_kept() -> None:
    tr = _transcript("I called Doctor Ramaswami's office, then Ramaswamy's nurse.")
    out = Vocabulary().correct(tr, ["Ramaswamy"])
    assert out.text == "I called Doctor Ramaswamy's office, then Ramaswamy's nurse."
    assert [(c.heard, c.to) for c in out.corrections] == [("Ramaswami", "Ramaswamy")]
    _assert_exact(out)


def test_file_aliases_correct_what_the_term_alone_would_not() -> None:
    tr = _transcript("I see doctor new yen on Friday.")
    assert Vocabulary().correct(tr, ["Nguyen"]).corrections == []
    vocab = Vocabulary([Term("Nguyen", ("new yen",))])
    # File terms correct every call, named in the request or not.
    out = vocab.correct(tr, [])
    assert out.text == "I see doctor Nguyen on Friday."
    _assert_exact(out)


def test_common_words_are_not_turned_into_terms() -> None:
    tr = _transcript("I lost my card and my cart at the card one shop.",
                     "Fine, I will call Finn later.")
    out = Vocabulary().correct(tr, ["Cardone", "Fynn", "Carter"])
    # "card one" reads and sounds like "Cardone"; "card" alone, "cart" and "Finn" are too short
    # or too far from the terms to be changed.
    assert [(c.heard, c.to) for c in out.corrections] == [("card one", "Cardone")]
    _assert_exact(out)


def test_confident_words_need_an_exact_match() -> None:
    tr = _transcript("Let us go away to the coast.", probability=0.99)
    assert Vocabulary().correct(tr, ["Galway"]).corrections == []
    # Without the guard, two common words read and sound like the place.
    loose = MatchSettings(max_probability=1.0)
    assert [c.heard for c in Vocabulary().correct(tr, ["Galway"], loose).corrections] == [
        "go away"]
    spaced = _transcript("Order from Stream Plus please.", probability=0.99)
    assert [c.to for c in Vocabulary().correct(spaced, ["StreamPlus"]).corrections] == [
        "StreamPlus"]


def test_no_terms_or_terms_already_there_change_nothing() -> None:
    tr = _transcript("Thank you for calling Harbor Bank, this is Megan Foster.")
    assert Vocabulary().correct(tr, []) == tr
    assert Vocabulary().correct(tr, ["harbor bank", "Megan Foster", "Foster"]) == tr


def test_overlapping_candidates_give_one_correction_the_best() -> None:
    tr = _transcript("Please send it to Sofia Rossy today.")
    out = Vocabulary().correct(tr, ["Rossi", "Sofia Rossi", "Sophia"])
    assert [(c.heard, c.to) for c in out.corrections] == [("Sofia Rossy", "Sofia Rossi")]
    _assert_exact(out)


def test_a_text_not_built_from_its_segments_is_left_alone() -> None:
    tr = _transcript("my pharmacy is Wall greens")
    odd = tr.model_copy(update={"text": "MY PHARMACY IS WALL GREENS"})
    assert Vocabulary().correct(odd, ["Walgreens"]) == odd


# --- real audio ---------------------------------------------------------------------------------

@pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                    reason="needs espeak-ng and sox")
def test_misheard_surname_in_rendered_speech_is_corrected(tmp_path: Path) -> None:
    sentence = ("Hello, thank you for calling. My name is Laura Brenwick, and I would like to "
                "check my order.")
    raw, wav = tmp_path / "raw.wav", tmp_path / "call.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), sentence],
                   check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", str(wav)], check=True)
    whisper = FasterWhisperTranscriber(WhisperSettings(model="tiny.en", keyterm_hint="none"),
                                       tmp_path / "data")
    heard = whisper.transcribe(decode_file(wav))
    assert "laura" in heard.text.lower() and "brenwick" not in heard.text.lower()  # misheard
    out = Vocabulary().correct(heard, ["Laura Brenwick"])
    [c] = out.corrections
    assert c.to == "Laura Brenwick" and "Brenwick" in out.text
    words = [w for s in heard.segments for w in s.words]
    laura = next(w for w in words if "Laura" in w.word)
    after = words[words.index(laura) + 1]
    assert (c.start, c.end) == (laura.start, after.end)
    # "My name is" comes about three seconds in, "and I would like" after the name.
    assert 2.0 < c.start < c.end < 5.0
    _assert_exact(out)
