"""One call's score: what was found, and what the transcript held to be found at all."""

from __future__ import annotations

from pathlib import Path

from audiohub.domain import CallResult, GeneralMetrics
from audiohub.evaluation.manifest import EvalItem
from audiohub.evaluation.runner import score_call


def test_fields_heard_counts_expected_values_the_transcript_holds() -> None:
    item = EvalItem(id="c1", audio=Path("c1.wav"), reference="", domain="banking",
                    category="card_block",
                    fields={"customer_name": "Aoife Byrne",
                            "card_last_four": "seven zero three nine",
                            "reason": "lost in a taxi", "other": None})
    # Whisper misheard the name, so no analyzer could return it; the digits and the reason were
    # heard, and the analyzer found only the digits.
    result = CallResult.model_construct(
        transcription="Hi, it's Ethan Iron, my card got lost in a taxi. It ends in 7039.",
        domain="banking", category="card_block",
        domain_specific_data={"customer_name": "Ethan Iron", "card_last_four": "7039",
                              "reason": None},
        evidence={}, general_metrics=GeneralMetrics.model_construct(needs_review=False))

    score = score_call(item, result)

    assert (score.fields_expected, score.fields_heard, score.fields_found) == (3, 2, 1)
    assert score.missed == {"customer_name": "Ethan Iron", "reason": None}
