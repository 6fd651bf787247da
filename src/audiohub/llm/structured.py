"""Asking for JSON and getting a model back: validate, re-ask once with the validation error,
then keep what was valid and say the rest was not. Never an exception for a bad answer, never
a key the schema does not have."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import jiter
from pydantic import BaseModel, TypeAdapter, ValidationError

from audiohub.domain import TokenCount
from audiohub.errors import describe_invalid
from audiohub.llm.base import LLMClient, LLMReply, LLMRequest

M = TypeVar("M", bound=BaseModel)


@dataclass
class Structured(Generic[M]):
    """`value` when the answer validated; otherwise `partial` holds the fields that did, by
    name, and `problems` says why the rest is missing."""

    value: M | None
    partial: dict[str, Any] = field(default_factory=dict)
    usage: TokenCount = field(default_factory=TokenCount)
    problems: list[str] = field(default_factory=list)


def ask(client: LLMClient, request: LLMRequest, model: type[M]) -> Structured[M]:
    reply = client.complete(request)
    usage = reply.usage
    first = _validate(reply, model)
    if isinstance(first, BaseModel):
        return Structured(first, usage=usage)
    # One re-ask, carrying what was wrong: small models usually fix a type or a missing key.
    again = replace(request, user=(
        f"{request.user}\n\nYour previous answer was not valid: {first}\n"
        f"Previous answer (cut): {reply.text[:1500]}\n"
        "Answer again with one JSON object that follows the schema exactly."))
    reply2 = client.complete(again)
    usage = usage + reply2.usage
    second = _validate(reply2, model)
    if isinstance(second, BaseModel):
        return Structured(second, usage=usage)
    best = max((reply.text, reply2.text), key=lambda t: len(salvage(t, model)))
    return Structured(None, partial=salvage(best, model), usage=usage,
                      problems=[f"first answer: {first}", f"after re-asking: {second}"])


def _validate(reply: LLMReply, model: type[M]) -> M | str:
    """The validated model, or a one-line account of what was wrong."""
    try:
        return model.model_validate_json(reply.text)
    except ValidationError as exc:
        errors = describe_invalid(exc.errors()[:8], whole="answer")
        cut = " (the answer hit max_tokens and was cut off)" if reply.truncated else ""
        return f"{errors}{cut}"


def salvage(text: str, model: type[BaseModel]) -> dict[str, Any]:
    """The top-level fields of `model` that are individually valid in `text`, even when the
    JSON is cut off or other fields are wrong; nested models are salvaged the same way."""
    try:
        data = jiter.from_json(text.strip().encode(), partial_mode="trailing-strings")
    except ValueError:
        try:
            data = json.loads(text[text.index("{"):text.rindex("}") + 1])
        except ValueError:
            return {}
    if not isinstance(data, dict):
        return {}
    kept: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in data or info.annotation is None:
            continue
        nested = info.annotation
        if isinstance(nested, type) and issubclass(nested, BaseModel):
            if isinstance(data[name], dict):
                kept[name] = salvage(json.dumps(data[name]), nested)
            continue
        try:
            kept[name] = TypeAdapter[Any](info.annotation).validate_python(data[name])
        except ValidationError:
            continue
        # Bounds live in the field's metadata (max_length ...): check them too.
        try:
            model.__pydantic_validator__.validate_assignment(
                model.model_construct(), name, kept[name])
        except ValidationError:
            del kept[name]
    return kept
