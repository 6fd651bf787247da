"""The LLM backends' text tools, on their own: chunking long transcripts, PII redaction and its
restoration, and salvaging the valid part of a broken answer."""

from __future__ import annotations

import time

import pytest

from audiohub.llm.base import retry_after
from audiohub.llm.chunks import chunk
from audiohub.llm.redact import redact
from audiohub.llm.schemas import FIELD_MAX, GeneralAnalysis, combined_model
from audiohub.llm.structured import salvage
from audiohub.prompts.library import library_spec

CALL = ("Metro Bank, how can I help you? Hi, this is Long Carka, my credit card was stolen. "
        "Can you block it? Of course, can you give me the last four digits? Four, five, six, "
        "seven. My email is long.carka@example.com and my phone is +1 555 123 4567.")


@pytest.mark.parametrize("limit", [40, 80, 200])
def test_chunks_cover_the_text_in_order_within_the_limit(limit: int) -> None:
    pieces = chunk(CALL, limit)
    assert " ".join(pieces) == CALL
    assert all(len(p) <= limit for p in pieces)
    assert chunk(CALL, 10_000) == [CALL]


def test_a_sentence_longer_than_the_limit_is_cut_at_spaces() -> None:
    words = " ".join(["word"] * 50)
    pieces = chunk(words, 23)
    assert " ".join(pieces) == words and all(len(p) <= 23 for p in pieces)


def test_redaction_hides_names_numbers_emails_phones_and_restores_them() -> None:
    start = CALL.index("Long Carka")
    r = redact(CALL, lambda text: [(start, start + len("Long Carka"))])
    for secret in ("Long Carka", "Four, five, six, seven", "long.carka@example.com",
                   "+1 555 123 4567"):
        assert secret not in r.text
    assert "[PERSON_1]" in r.text and "[EMAIL_1]" in r.text and "[PHONE_1]" in r.text
    assert r.restore("Customer [PERSON_1], card [NUMBER_1].") == (
        "Customer Long Carka, card Four, five, six, seven.")
    # Placeholders it did not hand out stay as they are.
    assert r.restore("[PERSON_9]") == "[PERSON_9]"


def test_the_same_value_gets_the_same_placeholder() -> None:
    r = redact("Order 55512 arrived. Yes, order 55512.")
    assert r.text == "Order [NUMBER_1] arrived. Yes, order [NUMBER_1]."


def test_salvage_keeps_only_valid_schema_fields_of_a_cut_off_answer() -> None:
    model = combined_model(library_spec("banking", "card_block"))
    cut = ('{"fields": {"customer_name": "Long Carka", "card_last_four": 4567, "pin": "1234"}, '
           '"general": {"summary": "A stolen card was blocked.", "sentiment_label": "upset", '
           '"call_outcome": "resol')
    assert salvage(cut, model) == {
        "fields": {"customer_name": "Long Carka"},  # 4567 is not a string; "pin" not a field
        "general": {"summary": "A stolen card was blocked."},
    }
    assert salvage("not json at all", model) == {}


def test_bounds_hold_in_salvaged_fields_too() -> None:
    model = combined_model(library_spec("banking", "card_block"))
    long = "x" * (FIELD_MAX + 1)
    assert salvage(f'{{"fields": {{"reason": "{long}"}}}}', model) == {"fields": {}}
    assert salvage(f'{{"summary": "{"y" * 601}", "sentiment_score": 2}}', GeneralAnalysis) == {}


def test_retry_after_reads_every_form_a_server_sends() -> None:
    from email.utils import formatdate

    assert retry_after({"retry-after-ms": "1500"}) == 1.5
    assert retry_after({"retry-after": "7"}) == 7.0
    assert retry_after({"retry-after": "2.5"}) == 2.5
    at = retry_after({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    assert at is not None and 25 < at <= 31
    assert retry_after({"retry-after": "soon"}) is None
    assert retry_after({}) is None
