"""The seed's validate-and-generate: a known pair's prompt, or, for a pair the library lacks and
an analyzer that can write one (an LLM), a generated prompt and field schema, used at once and
saved in the background as version 1 with source "generated", for a person to review. The next
call of that pair reads it from the store instead of generating again.

When no prompt is written, the answer says why (`PromptAnswer.reason`) and a warning in the log
says it too; the call is then analysed with the general fallback's fields, as for any pair
without a prompt."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

import httpx
from pydantic import ValidationError

from audiohub.domain import CategorySpec, FieldSpec
from audiohub.errors import LLMUnavailableError, NotFoundError
from audiohub.extraction.backends.local.kinds import infer_kind
from audiohub.llm.schemas import GeneratedSpec
from audiohub.llm.structured import Structured
from audiohub.prompts.base import PromptStore
from audiohub.prompts.library import default_prompt
from audiohub.prompts.schemas import PromptCreate, PromptEdit

log = logging.getLogger("audiohub")
# Pairs the store may keep: what PairRequest accepts (never an empty or odd name).
_NAME = re.compile(r"[A-Za-z0-9_\-]{1,100}")

# Why a pair got no prompt (`reason_code`): the analyzer cannot write prompts (ANALYZER=local),
# the names cannot be stored, the LLM's answer was not a valid prompt even re-asked, the LLM did
# not answer in LLM_TIMEOUT, or it did not answer usefully at all (refused, 429, 5xx).
NoPrompt = Literal["local_analyzer", "invalid_name", "invalid_output", "llm_timeout",
                   "llm_unavailable"]


@runtime_checkable
class SpecAuthor(Protocol):
    """An analyzer that can write a category's prompt and fields (the LLM analyzers)."""

    def generate_spec(self, domain: str, category: str) -> Structured[GeneratedSpec]: ...


@dataclass(frozen=True)
class PromptAnswer:
    """The pair's prompt, or, when there is none, why not (`code`, and `reason` in words)."""

    spec: CategorySpec | None
    code: NoPrompt | None = None
    reason: str | None = None


class PromptGenerator:
    def __init__(self, store: PromptStore, author: object | None = None) -> None:
        self.store = store
        # The local analyzer cannot write prompts: it never invents pairs.
        self.author = author if isinstance(author, SpecAuthor) else None
        self._pairs: dict[tuple[str, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._saving: list[threading.Thread] = []
        # Generated but not saved yet: served from here until the store has it.
        self._generated: dict[tuple[str, str], CategorySpec] = {}

    def validate_and_generate(self, domain: str, category: str) -> CategorySpec | None:
        """The pair's prompt (None: use the general fallback); `answer` also says why not."""
        return self.answer(domain, category).spec

    def answer(self, domain: str, category: str) -> PromptAnswer:
        """The pair's stored prompt, or one the analyzer writes now, or why there is none."""
        spec = self.store.get(domain, category)
        if spec is not None:
            return PromptAnswer(spec)
        if self.author is None:
            return _none("local_analyzer", domain, category, "the analyzer (ANALYZER=local) "
                         "does not write prompts; set ANALYZER=openai or gemini to have one "
                         "written, or add the pair to the library")
        if not (_NAME.fullmatch(domain) and _NAME.fullmatch(category)):
            return _none("invalid_name", domain, category, "the names are not ones the prompt "
                         "store keeps (1-100 letters, digits, '_' or '-')")
        with self._guard:
            lock = self._pairs.setdefault((domain, category), threading.Lock())
        with lock:  # the same new pair twice at once is generated once
            spec = self.store.get(domain, category) or self._pending(domain, category)
            if spec is not None:
                return PromptAnswer(spec)
            try:
                answer = self.author.generate_spec(domain, category)
            except LLMUnavailableError as exc:
                code: NoPrompt = "llm_timeout" if _timed_out(exc) else "llm_unavailable"
                return _none(code, domain, category, str(exc))
            written = answer.value
            if written is None:
                return _none("invalid_output", domain, category, "the LLM's answer was not a "
                             "valid prompt and field list, even re-asked: "
                             + "; ".join(answer.problems))
            spec = CategorySpec(
                domain=domain, category=category, description=written.description,
                prompt=written.prompt, source="generated",
                fields=[written_field(f.model_dump()) for f in written.fields],
            )
            self._generated[(domain, category)] = spec
        thread = threading.Thread(target=self._save, args=(spec,), name="save-prompt")
        self._saving.append(thread)
        thread.start()
        return PromptAnswer(spec)

    def save(self, domain: str, category: str, edit: PromptEdit) -> CategorySpec:
        """Store a person's edit or approval as the pair's next version and return it.

        Nothing here caches a stored version (`_generated` only bridges a new pair until its
        background save lands), so the next `validate_and_generate` and classification read it.

        Raises:
            NotFoundError: the store has no such pair (edits never create pairs).
        """
        # Pairs are never deleted, so one that exists now still exists when the version is added.
        if self.store.get(domain, category) is None:
            raise NotFoundError(
                f"no prompt for {domain}/{category} to edit; GET /prompts lists the pairs")
        saved = self.store.save(edit.spec(domain, category))
        log.info("saved %s prompt %s/%s v%d", edit.source, domain, category, saved.version)
        return saved

    def create(self, new: PromptCreate) -> CategorySpec:
        """Store a person's new pair as its version 1 and return it: the next call's
        classification and `validate_and_generate` read it from the store (nothing caches it).

        Raises:
            ConflictError: the pair exists (edits add versions to it instead).
        """
        saved = self.store.create(new.spec(default_prompt(new.domain, new.category)))
        log.info("created prompt %s/%s v%d with %d fields", saved.domain, saved.category,
                 saved.version, len(saved.fields))
        return saved

    def _pending(self, domain: str, category: str) -> CategorySpec | None:
        return self._generated.get((domain, category))

    def _save(self, spec: CategorySpec) -> None:
        try:
            saved = self.store.save(spec)
            log.info("saved generated prompt %s/%s v%d for review", spec.domain, spec.category,
                     saved.version)
        except Exception:  # the call already has its prompt; the next one will generate again
            log.exception("could not save the generated prompt %s/%s", spec.domain,
                          spec.category)
        finally:
            self._generated.pop((spec.domain, spec.category), None)

    def wait_saved(self, timeout: float = 30) -> None:
        """Wait for background saves (shutdown, tests)."""
        for thread in list(self._saving):
            thread.join(timeout)
        self._saving = [t for t in self._saving if t.is_alive()]


def written_field(answer: Mapping[str, Any]) -> FieldSpec:
    """A field as the LLM wrote it: its kind when it is one of ours and fits (a `choice` needs
    its choices), else one inferred from the name and description (`kind_inferred: true`, for
    the reviewer to confirm); each hint (said_by, cues, choices) kept where it is valid."""
    name, description = answer["name"], answer.get("description") or ""
    data: dict[str, Any] = {"name": name, "description": description,
                            **{k: answer[k] for k in _HINTS if answer.get(k)}}
    data["kind"] = answer.get("kind") or None
    for _ in range(len(_HINTS) + 2):  # each round drops what failed; the name cannot fail
        if data["kind"] is None:
            data.update(kind=infer_kind(name, description), kind_inferred=True)
        try:
            return FieldSpec.model_validate(data)
        except ValidationError as exc:
            failed = {str(e["loc"][0]) if e["loc"] else "kind" for e in exc.errors()}
        if "kind" in failed and not data.get("kind_inferred"):
            data["kind"] = None  # not a kind of ours, or a choice without its choices
        for key in failed & set(_HINTS):
            del data[key]
    return FieldSpec(name=name, description=description, kind_inferred=True)


_HINTS = ("said_by", "cues", "choices")


def _none(code: NoPrompt, domain: str, category: str, reason: str) -> PromptAnswer:
    """No prompt for the pair, said in the log: a warning when an LLM failed to write one."""
    level = logging.INFO if code == "local_analyzer" else logging.WARNING
    log.log(level, "no prompt for %s/%s (%s): %s; its calls use the general fallback's fields",
            domain, category, code, reason)
    return PromptAnswer(None, code, reason)


def _timed_out(exc: BaseException) -> bool:
    """Whether the provider's failure was a timeout (LLM_TIMEOUT or GEMINI_TIMEOUT passed): the
    SDKs raise their own errors from the HTTP client's timeout."""
    chain: list[BaseException] = []
    link: BaseException | None = exc
    while link is not None and link not in chain:  # a chain can loop back on itself
        chain.append(link)
        link = link.__cause__ or link.__context__
    return any(isinstance(e, TimeoutError | httpx.TimeoutException) for e in chain)
