"""The hallucination guard on Whisper-shaped segments."""

from __future__ import annotations

from audiohub.domain import Segment, Transcript, Word
from audiohub.transcription.guard import clean


def seg(i: int, text: str, start: float, *, no_speech: float = 0.01,
        logprob: float = -0.2) -> Segment:
    words = [Word(word=f" {w}", start=start + k * 0.4, end=start + k * 0.4 + 0.3,
                  probability=0.9) for k, w in enumerate(text.split())]
    return Segment(id=i, start=start, end=words[-1].end, text=text, words=words,
                   no_speech_prob=no_speech, avg_logprob=logprob)


def test_repetition_loop_is_kept_once_and_flagged() -> None:
    loop = " ".join(["thank you for calling"] * 6)
    segments = [seg(0, "My card was stolen.", 0.0), seg(1, loop, 3.0)]
    kept, flags = clean(segments)
    text = Transcript.from_segments(kept, "en", 20.0).text
    assert text == "My card was stolen. thank you for calling"
    assert len(flags) == 1 and "x6" in flags[0] and "3.0s" in flags[0]
    assert [s.id for s in kept] == [0, 1]
    assert kept[1].end == kept[1].words[-1].end


def test_loop_across_segment_boundaries() -> None:
    segments = [seg(i, "okay okay", i * 1.0) for i in range(4)]  # one word x8
    kept, flags = clean(segments)
    assert [w.word.strip() for s in kept for w in s.words] == ["okay"]
    assert len(flags) == 1


def test_spoken_digits_and_normal_speech_are_untouched() -> None:
    segments = [seg(0, "my account is one one one one one two", 0.0),
                seg(1, "yes yes that is right", 4.0)]
    kept, flags = clean(segments)
    assert kept == segments and flags == []


def test_no_speech_segment_is_dropped() -> None:
    segments = [seg(0, "Hello, how can I help?", 0.0),
                seg(1, "Thanks for watching!", 5.0, no_speech=0.9, logprob=-1.4),
                seg(2, "I lost my card.", 9.0, no_speech=0.9, logprob=-0.3)]  # sure of itself
    kept, flags = clean(segments)
    assert [s.text for s in kept] == ["Hello, how can I help?", "I lost my card."]
    assert len(flags) == 1 and "no speech" in flags[0] and "Thanks for watching" in flags[0]
