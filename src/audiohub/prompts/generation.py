"""The seed's validate-and-generate: a known pair's prompt, or, for a pair the library lacks and
an analyzer that can write one (an LLM), a generated prompt and field schema, used at once and
saved in the background as version 1 with source "generated", for a person to review. The next
call of that pair reads it from the store instead of generating again."""

from __future__ import annotations

import logging
import re
import threading
from typing import Protocol, runtime_checkable

from audiohub.domain import CategorySpec, FieldSpec, TokenCount
from audiohub.errors import NotFoundError
from audiohub.llm.schemas import GeneratedSpec
from audiohub.prompts.base import PromptStore
from audiohub.prompts.schemas import PromptEdit

log = logging.getLogger("audiohub")
# Pairs the store may keep: what PairRequest accepts (never an empty or odd name).
_NAME = re.compile(r"[A-Za-z0-9_\-]{1,100}")


@runtime_checkable
class SpecAuthor(Protocol):
    """An analyzer that can write a category's prompt and fields (the LLM analyzers)."""

    def generate_spec(
        self, domain: str, category: str
    ) -> tuple[GeneratedSpec | None, TokenCount]: ...


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
        spec = self.store.get(domain, category)
        if spec is not None or self.author is None or not (_NAME.fullmatch(domain)
                                                            and _NAME.fullmatch(category)):
            return spec
        with self._guard:
            lock = self._pairs.setdefault((domain, category), threading.Lock())
        with lock:  # the same new pair twice at once is generated once
            spec = self.store.get(domain, category) or self._pending(domain, category)
            if spec is not None:
                return spec
            written, _ = self.author.generate_spec(domain, category)
            if written is None:
                return None
            spec = CategorySpec(
                domain=domain, category=category, description=written.description,
                prompt=written.prompt, source="generated",
                fields=[FieldSpec(name=f.name, description=f.description) for f in written.fields],
            )
            self._generated[(domain, category)] = spec
        thread = threading.Thread(target=self._save, args=(spec,), name="save-prompt")
        self._saving.append(thread)
        thread.start()
        return spec

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
