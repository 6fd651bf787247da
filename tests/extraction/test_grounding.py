"""Grounding and review hold for any backend: they run in the extraction service."""

from __future__ import annotations

from audiohub.config import ReviewSettings
from audiohub.domain import Classification, Evidence, Transcript
from audiohub.extraction.confidence import review
from audiohub.extraction.grounding import ground, locate
from tests.extraction.transcripts import make_transcript


def transcript(text: str, prob: float = 0.9, flags: list[str] | None = None) -> Transcript:
    return make_transcript([text], word_s=0.4, gap_s=0.1, probability=prob, flags=flags)


def test_locate_verbatim_and_spoken_digits() -> None:
    text = "My card ends in 4, 5, 6, 7. Policy PL-12345 please."
    assert text[slice(*locate(text, "4567"))] == "4, 5, 6, 7"  # type: ignore[misc]
    assert text[slice(*locate(text, "pl12345"))] == "PL-12345"  # type: ignore[misc]
    assert text[slice(*locate(text, "policy"))] == "Policy"  # type: ignore[misc]
    assert locate(text, "4568") is None
    assert locate(text, "45") is None  # too short to match across separators
    assert locate(text, "") is None


def test_good_evidence_is_kept_bad_evidence_is_found_again_unfound_is_flagged() -> None:
    tr = transcript("Hi this is John Carter my card 4 5 6 7 was stolen")
    text = tr.text
    good = Evidence(text="John Carter", char_start=11, char_end=22, start_s=None, end_s=None)
    wrong = Evidence(text="4567", char_start=0, char_end=4, start_s=1.0, end_s=2.0)
    data = {"customer_name": "John Carter", "card_last_four": "4567",
            "reason": "left it in a taxi", "other": None}
    out = ground(tr, data, {"customer_name": good, "card_last_four": wrong})
    assert set(out) == {"customer_name", "card_last_four", "reason"}
    for ev in out.values():
        if ev.grounded:
            assert ev.char_start is not None and ev.char_end is not None
            assert text[ev.char_start:ev.char_end] == ev.text
    assert out["customer_name"].start_s == 1.5 and out["customer_name"].end_s == 2.4
    assert out["card_last_four"].text == "4 5 6 7"
    assert out["reason"].grounded is False
    assert out["reason"].char_start is None and out["reason"].start_s is None


def test_review_flags_weak_calls_and_says_why() -> None:
    s = ReviewSettings(min_classification_score=0.3, min_margin=0.05, min_word_probability=0.7)
    sure = Classification(domain="banking", category="card_block", score=0.6, margin=0.2)
    ok = review(transcript("my card was stolen"), sure, {}, s)
    assert (ok.needs_review, ok.reasons, ok.mean_word_probability) == (False, [], 0.9)
    weak = Classification(domain="banking", category="card_block", score=0.2, margin=0.01)
    unsure = review(transcript("my card was stolen", prob=0.5, flags=["loop"]), weak,
                    {"x": Evidence(text="v", char_start=None, char_end=None, start_s=None,
                                   end_s=None, grounded=False)}, s)
    assert unsure.needs_review
    text = " ".join(unsure.reasons)
    for part in ("score 0.200", "within 0.010", "probability 0.500", "removed or lost", ": x"):
        assert part in text
    silent = review(Transcript(text="", language="en", duration=5.0), sure, {}, s)
    assert silent.needs_review and silent.reasons == ["no speech was recognised"]
