"""What the LLM backends say to the model. Short, explicit about JSON and about saying null
rather than guessing: every value must be words from the call, or the grounding drops it."""

from __future__ import annotations

from collections.abc import Sequence

from audiohub.domain import CategorySpec

CLASSIFY_SYSTEM = (
    "You classify customer-service phone calls. Read the transcript and answer one JSON object "
    "with the call's domain and category and your confidence from 0 to 1. Choose among the "
    "listed pairs. Only if none fits at all, answer a new short snake_case domain and category, "
    "or general / general_inquiry."
)

EXTRACT_SYSTEM = (
    "You analyse one customer-service phone call transcript (it may be one part of a longer "
    "call). Answer one JSON object with: `fields`, each field's value copied exactly as it is "
    "said in the transcript, or null when the transcript does not say it (never guess, never "
    "reformat); and `general`, the call's summary (1-3 sentences), sentiment label and score, "
    "outcome, key topics, action items and the types of personal data mentioned."
)

GENERATE_SYSTEM = (
    "You design the data-extraction prompt for a kind of customer-service call. Answer one JSON "
    "object with a one-sentence description of such calls, an extraction prompt, and 2-6 "
    "fields an agent would record for it: each with a snake_case name, a one-sentence "
    "description, its kind (person, organization, place, address, code, digits, money, date, "
    "time, phone, email, quantity, choice with its choices, yes_no or text), who says it (agent, "
    "customer or either) and the short phrases that introduce it."
)


def candidates_text(candidates: Sequence[CategorySpec]) -> str:
    return "\n".join(f"- {c.domain} / {c.category}: {c.description}" for c in candidates)


def language_line(language: str | None) -> str:
    """The call's language as the recogniser heard it (a Whisper code), for the model."""
    if not language:
        return ""
    return (f"Language of the call: {language} (ISO 639-1). Copy values in that language as "
            "said; write the summary, topics and action items in English.\n\n")


def classify_user(transcript: str, candidates: Sequence[CategorySpec],
                  language: str | None = None) -> str:
    return (f"{language_line(language)}Known pairs:\n{candidates_text(candidates)}\n\n"
            f"Transcript:\n{transcript}")


def extract_user(spec: CategorySpec, transcript: str, part: tuple[int, int] | None,
                 language: str | None = None) -> str:
    fields = "\n".join(f"- {f.name}: {f.description}" for f in spec.fields)
    which = f" (part {part[0]} of {part[1]})" if part else ""
    return (f"{spec.prompt}\n\nCall type: {spec.domain} / {spec.category}\nFields:\n{fields}\n\n"
            f"{language_line(language)}Transcript{which}:\n{transcript}")


def generate_user(domain: str, category: str) -> str:
    return f"Domain: {domain}\nCategory: {category}"
