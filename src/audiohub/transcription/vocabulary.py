"""Custom vocabulary: the names, products and codes a company expects, used twice.

A company knows its brand, branch, product and agent names before any call is made, and they are
the words Whisper misses. They come from three places: VOCABULARY_FILE (company-wide), a request's
`keyterms` (this call: the customer's name, say) and a category's terms in the prompt library
(drug names for prescription calls). They are used

1. as a decoding hint (`decode_hints`: faster-whisper's `hotwords` or initial prompt, per
   WHISPER_KEYTERM_HINT), so Whisper is more likely to write them, and
2. in a correction pass after decoding (`Vocabulary.correct`, see correction.py) that replaces
   whole transcript words sounding and reading like a term, each replacement listed in
   `Transcript.corrections`.

VOCABULARY_FILE, one term a line; blank lines and `#` comments are skipped; after `=>`, comma
separated, how the term is said or commonly misheard:

    Walgreens => wall greens, all greens
    lisinopril
    Harbor Bank   # our brand
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from audiohub.domain import Transcript
from audiohub.errors import ConfigurationError, InvalidInputError
from audiohub.transcription import correction

# A term is a name or a product, not a sentence: the correction pass tries spans of up to
# (words + 2) Whisper words, so long terms make every word of a call a candidate many times.
MAX_TERM_CHARS = 50
MAX_TERM_WORDS = 4
MAX_ALIASES = 8
# The pass compares every span of a call with every form (term or alias): a 1000-term file on an
# hour-long call is ~45M RapidFuzz comparisons (C code, a few seconds); more is not a vocabulary.
MAX_FILE_TERMS = 1000
# A request names this call's expected words (a customer, an order's product), a few at most.
MAX_REQUEST_KEYTERMS = 50
# Whisper's prompt holds at most 223 tokens (half its 448-token context); names tokenise at about
# 3 characters a token, so 450 characters ("term, term, ...") stay well inside it. Longer
# prompts make Whisper copy prompt words into silence.
HINT_CHARS = 450


@dataclass(frozen=True)
class Term:
    """One vocabulary entry: how it is written, and how it may be said or misheard."""

    text: str
    aliases: tuple[str, ...] = field(default=())


def _clean(value: str) -> str:
    return " ".join(value.split())


def _problem(value: str) -> str | None:
    """Why `value` cannot be a term, or None."""
    if bad := next((c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Cs")), None):
        return f"has the control character U+{ord(bad):04X}"
    if len(value) > MAX_TERM_CHARS:
        return f"is longer than {MAX_TERM_CHARS} characters"
    if len(value.split()) > MAX_TERM_WORDS:
        return f"has more than {MAX_TERM_WORDS} words"
    if not correction.key(value):
        return "has no letters or digits"
    return None


def parse_line(line: str) -> Term | None:
    """One VOCABULARY_FILE line as a Term (None for a blank or comment line).

    Raises:
        ValueError: the line's term or one of its aliases is not a usable term (the message
            says why).
    """
    line = line.split("#", 1)[0].strip()
    if not line:
        return None
    term, arrow, said = line.partition("=>")
    term = _clean(term)
    aliases = [_clean(a) for a in said.split(",")] if arrow else []
    if arrow and not all(aliases):
        raise ValueError("has an empty spoken form after '=>' (write 'term => form, form')")
    if len(aliases) > MAX_ALIASES:
        raise ValueError(f"has more than {MAX_ALIASES} spoken forms")
    for value in (term, *aliases):
        if not value:
            raise ValueError("has no term before '=>'")
        if (why := _problem(value)) is not None:
            raise ValueError(f"{value!r} {why}")
    return Term(term, tuple(aliases))


def parse_keyterms(values: Iterable[str]) -> list[str]:
    """A request's `keyterms`, checked: trimmed, inner spaces collapsed, empty ones dropped,
    duplicates (any case) kept once, in the order given.

    Raises:
        InvalidInputError: a keyterm is too long, has too many words or a control character,
            or there are more than MAX_REQUEST_KEYTERMS.
    """
    out: dict[str, str] = {}
    for raw in values:
        value = _clean(raw)
        if not value:
            continue
        if (why := _problem(value)) is not None:
            raise InvalidInputError(f"keyterm {value[:60]!r} {why}")
        out.setdefault(value.lower(), value)
    if len(out) > MAX_REQUEST_KEYTERMS:
        raise InvalidInputError(
            f"{len(out)} keyterms: at most {MAX_REQUEST_KEYTERMS} per request (put company-wide "
            "terms in VOCABULARY_FILE)")
    return list(out.values())


def _fit(terms: Sequence[str], budget: int) -> tuple[list[str], int]:
    """The leading terms whose ", "-joined length fits `budget`; and the characters used."""
    out: list[str] = []
    used = 0
    for t in terms:
        cost = len(t) + (2 if out else 0)
        if used + cost > budget:
            break
        out.append(t)
        used += cost
    return out, used


class Vocabulary:
    """The VOCABULARY_FILE's terms, joined with a request's keyterms and a category's terms."""

    def __init__(self, terms: Sequence[Term | str] = ()) -> None:
        self.terms = [t if isinstance(t, Term) else Term(_clean(t)) for t in terms]
        # A term's spoken forms, by its lowercase text: a request naming a file term gets them.
        self._aliases = {t.text.lower(): t.aliases for t in self.terms}

    @classmethod
    def load(cls, path: Path | None) -> Vocabulary:
        """Read VOCABULARY_FILE (no file: an empty vocabulary).

        Raises:
            ConfigurationError: the file cannot be read, a line is not a usable term (the
                message names the line), or it holds more than MAX_FILE_TERMS terms.
        """
        if path is None:
            return cls()
        try:
            lines = Path(path).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"VOCABULARY_FILE {path} cannot be read: {exc}") from exc
        terms: dict[str, Term] = {}
        for number, line in enumerate(lines, start=1):
            try:
                term = parse_line(line)
            except ValueError as exc:
                raise ConfigurationError(f"VOCABULARY_FILE {path} line {number}: {exc}") from exc
            if term is None:
                continue
            if term.text.lower() in terms:
                # The same term twice: its spoken forms are joined.
                old = terms[term.text.lower()]
                term = Term(old.text, tuple(dict.fromkeys([*old.aliases, *term.aliases])))
            terms[term.text.lower()] = term
            if len(terms) > MAX_FILE_TERMS:
                raise ConfigurationError(
                    f"VOCABULARY_FILE {path} line {number}: more than {MAX_FILE_TERMS} terms")
        return cls(list(terms.values()))

    def hints(self, keyterms: Sequence[str]) -> list[str]:
        """The terms to give the decoder for one call: the request's and the file's, each
        once, within HINT_CHARS.

        Each side gets half the budget and whatever the other leaves: a long company file
        cannot push out the customer's name, nor a long request the company's brand. Within a
        side the first-listed terms win. The request's come first.
        """
        request = list(dict.fromkeys(keyterms))
        seen = {t.lower() for t in request}
        company = [t.text for t in self.terms if t.text.lower() not in seen]
        half = HINT_CHARS // 2
        mine, used = _fit(request, half)
        theirs, used_theirs = _fit(company, HINT_CHARS - used - 2)
        if len(mine) < len(request):  # the request may take what the file left
            mine, _ = _fit(request, HINT_CHARS - used_theirs - 2)
        return [*mine, *theirs]

    def correct(self, transcript: Transcript, keyterms: Sequence[str],
                settings: correction.MatchSettings = correction.DEFAULT_SETTINGS) -> Transcript:
        """Replace spans that are close phonetic and spelling matches of a term: of
        `keyterms` (the call's own terms and its category's) and of every file term, with
        the file's spoken forms. Each replacement is listed in `corrections`."""
        wanted = [(t, self._aliases.get(t.lower(), ())) for t in dict.fromkeys(keyterms)]
        wanted += [(t.text, t.aliases) for t in self.terms]
        return correction.correct(transcript, correction.forms(wanted), settings)


def decode_hints(keyterms: Sequence[str],
                 mode: Literal["hotwords", "prompt", "none"]) -> dict[str, str]:
    """faster-whisper arguments that put `keyterms` before the decoder (WHISPER_KEYTERM_HINT)."""
    if not keyterms or mode == "none":
        return {}
    joined = ", ".join(keyterms)
    return {"hotwords": joined} if mode == "hotwords" else {"initial_prompt": joined}
