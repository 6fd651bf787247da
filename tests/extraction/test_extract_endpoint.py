"""`POST /extract` on the extraction service: the seed's body carries no classification, so its
score is not known — the review must not read it as 0."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from audiohub.config import ServiceSettings
from audiohub.services import create_service_app
from tests.conftest import make_settings

TOKEN = "extract-endpoint-token"
CALL = ("Thank you for calling Maple Bank, this is Irene. Hello, my name is Tobias Grant and I "
        "lost my debit card on the bus this morning. I'm sorry to hear that. I've blocked the "
        "card ending in one two three four, and we'll post you a new one this week. "
        "Thanks a lot, that's a relief.")
SEED_BODY = {"transcription": CALL, "domain": "banking", "category": "card_block",
             "custom_prompt": None}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = make_settings(tmp_path_factory.mktemp("extract"),
                             services=ServiceSettings.model_validate({"SERVICE_TOKEN": TOKEN}))
    with TestClient(create_service_app(settings, "extraction"),
                    headers={"X-Service-Token": TOKEN}) as c:
        yield c


def test_the_seeds_body_has_no_classification_to_review(client: TestClient) -> None:
    r = client.post("/extract", json=SEED_BODY)

    assert r.status_code == 200, r.text
    metrics = r.json()["general_metrics"]
    assert not any("classification" in reason or "top two categories" in reason
                   for reason in metrics["review_reasons"]), metrics["review_reasons"]
    # Not known is reported as such, not as a score of 0.
    assert (metrics["classification_score"], metrics["classification_margin"]) == (None, None)
    assert metrics["call_outcome"] == "resolved"
    assert any("post you a new one" in item for item in metrics["action_items"])


def test_a_weak_classification_that_is_sent_is_still_reviewed(client: TestClient) -> None:
    body = {**SEED_BODY, "classification": {"domain": "banking", "category": "card_block",
                                            "score": 0.1, "margin": 0.5}}
    r = client.post("/extract", json=body)

    assert r.status_code == 200, r.text
    metrics = r.json()["general_metrics"]
    assert metrics["classification_score"] == 0.1
    assert "classification score 0.100 is under 0.30" in metrics["review_reasons"]
