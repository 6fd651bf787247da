"""A call as the field rules should read it: without hesitations and stutters.

Callers say "I ordered a, um, a standing desk" and "what time the, the pool opens"; Whisper keeps
some of that. The rules read a clean copy ("I ordered a standing desk"), and every span they find
there maps back to the transcript, so evidence still slices the words as said.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A hesitation with the commas around it: "I wanted to, um, ask" is "I wanted to ask"; "is
# there, like, parking".
_FILLER = re.compile(r"(?:,\s*|\s+|^)(?:u+m+|u+h+|e+r+m+|e+r|hmm+)\b[,.]?(?:(?=\s)|$)"
                     r"|,\s*(?:like|you know|I mean),(?=\s)", re.I)
# A word or two said again at once: "the, the", "I, I", "I'd rather, I'd rather". Not numbers,
# in digits or words ("4 4 7", "eight eight four" are ids), nor capital letters alone (a
# spelling: "A, A, R, O, N").
_NUMBER = (r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen"
           r"|\w+ty|hundred|thousand|double|triple)\b")
_WORD = rf"(?!(?i:{_NUMBER}))(?:[a-z][\w']*|I|[A-Z][\w']+)"
_REPEAT = re.compile(rf"\b({_WORD}(?:\s+{_WORD}){{0,2}})(?P<again>(?:[,.]?\s+(?i:\1)\b)+)")


@dataclass(frozen=True)
class CleanText:
    """`text` without hesitations and repeats; `source[i]` is where its i-th character was said
    in the transcript."""

    text: str
    source: list[int]

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """The transcript span of `text[start:end]` (end exclusive, start < end)."""
        return self.source[start], self.source[end - 1] + 1


def clean(text: str) -> CleanText:
    """Drop hesitations, then words said twice in a row (keeping the last saying, which is
    what the speaker went on from)."""
    cut = [m.span() for m in _FILLER.finditer(text)]
    kept = _without(text, cut)
    for m in _REPEAT.finditer(kept.text):
        last = kept.text[m.end("again") - len(m.group(1)):m.end("again")]
        first = last.split()[0]
        if first[0].isupper() and first != "I" and not first.startswith("I'"):
            continue  # a name said again is a name confirmed: "Tan, Tan is T, A, N"
        # Remove every saying but the last, with what separates them.
        cut.append(kept.source_span(m.start(1), m.end("again") - len(m.group(1))))
    return _without(text, cut)


def _without(text: str, cut: list[tuple[int, int]]) -> CleanText:
    drop = bytearray(len(text))
    for s, e in cut:
        drop[s:e] = b"\x01" * (e - s)
    source = [i for i in range(len(text)) if not drop[i]]
    return CleanText("".join(text[i] for i in source), source)
