"""A call as a dialogue: its sentences, who says each, which ask something, and which answer.

A mono transcript has no speaker labels, so who speaks is a guess (speakers.py: a model of how
agents and customers talk, fitted on the tuning calls) unless the recording tells (split stereo,
given as `agent`). Questions are found by their words as well as
their question mark, which Whisper often drops. `answers` is the one reader of "a question, then
the sentence that answers it" that every kind of field uses.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Iterable
from typing import Any

from spacy.tokens import Doc

from audiohub.extraction.backends.local.speakers import agent_sentences

Span = tuple[int, int]

# A sentence that asks, with or without its question mark: "May I have your full name."
_ASKS = re.compile(r"^(?:\W*(?:okay|ok|sure|so|and|thanks?|thank you|great|alright|all right"
                   r"|right|perfect|lovely)\b[\s,.]*)*(?:what|what's|which|who|whose|who's|when"
                   r"|where|how|can|could|may|would|do|does|did|is|are|will|have)\b", re.I)
# A question asked as a bare phrase: "And the service address.", "Your date of birth."
_ELLIPTIC = re.compile(r"^\W*(?:and\s+)?(?:the|your)\s+(?:[\w'-]+\s*){1,4}\W*$", re.I)
# Words an answer starts with that are not the answer: "Yes, it's ...", "Sure, that's ..."
_LEAD = re.compile(r"(?:(?:yes|yeah|yep|sure|okay|ok|so|um|uh|it's|it is|that's|that is"
                   r"|that would be|of course|certainly)\b[\s,.]*)+", re.I)
# A value said and then taken back ("2908. Sorry, no, 2906."), or turned down ("Friday's no
# good", "that won't work"): general ways English speakers correct and decline.
TAKEN_BACK = re.compile(r"[\s,.;:?-]*(?:(?:or|um|uh|er|the|a)[\s,.;:-]+)*(?:(?:sorry|no|wait"
                        r"|I mean|actually|oops|correction|rather|make that|scratch that)"
                        r"[\s,.;:!-]*)+", re.I)
TURNED_DOWN = re.compile(r"(?:'s|\s+is|\s+are)?\s+(?:no good|not good|too (?:early|late))\b"
                         r"|[\s,]+(?:that |it )?(?:doesn't|does not|won't|wouldn't|will not"
                         r"|can't) (?:work|suit|do)", re.I)

# A speaker taking an offered value: "Thursday at two works", "the 9th is fine".
_ACCEPTS = re.compile(r"\b(?:works|suits me|(?:is|'s|would be) (?:fine|great|good|perfect)"
                      r"|sounds (?:good|great)|I'll take it)\b", re.I)


def term_pattern(terms: Iterable[str], gaps: bool = False) -> re.Pattern[str] | None:
    """One case-insensitive pattern for whole-word phrases ("date of birth", "when").

    With `gaps`, up to two words may come between the words of a phrase: the cue "move to"
    also finds "move the flight to" and "move it to"."""
    between = r"\s+(?:[\w'-]+\s+){0,2}?" if gaps else r"\s+"
    alts = sorted({between.join(re.escape(w) for w in t.split()) for t in terms if t.strip()},
                  key=len, reverse=True)
    return re.compile(rf"(?<!\w)(?:{'|'.join(alts)})(?!\w)", re.I) if alts else None


class CallText:
    """The parsed call (implements call.CallView)."""

    def __init__(self, doc: Doc, agent: set[int] | None = None) -> None:
        """`agent`: the sentences the agent says, where the recording tells (split stereo);
        guessed by speakers.py otherwise."""
        self.doc, self.text = doc, doc.text
        if agent is not None:
            self._agent = agent  # the cached property's slot: no guess is made
        self.sents: list[Span] = [(s.start_char, s.end_char) for s in doc.sents]
        self.memo: dict[str, Any] = {}
        self._starts = [s for s, _ in self.sents]
        said = [self.text[s:e].strip() for s, e in self.sents]
        self._asks = {i for i, t in enumerate(said)
                      if t.endswith("?") or _ASKS.match(t) or _ELLIPTIC.match(t)}

    @functools.cached_property
    def _agent(self) -> set[int]:
        return agent_sentences(self.text, self.sents, self._asks)

    def sentence(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self._starts, pos) - 1)

    def by_agent(self, sent: int) -> bool:
        return sent in self._agent

    def is_question(self, sent: int) -> bool:
        return sent in self._asks

    def opening(self, sent: int) -> bool:
        """The agent's greeting: it names the company and the agent, never the caller's values."""
        return sent in self._agent and sent <= min(self._agent | {len(self.sents)}) + 1

    def answers(self, asked: re.Pattern[str] | None) -> list[tuple[int, Span]]:
        """The replies to questions `asked` finds a word of: for each, the question's sentence
        and the span that answers it.

        The answer is the next sentence that is no question, less its lead ("Yes, it's ..."),
        and the one after it when the first is only a word or two ("Sure. Laura Chen.").
        """
        out: list[tuple[int, Span]] = []
        if asked is None:
            return out
        for q in sorted(self._asks):
            qs, qe = self.sents[q]
            if not asked.search(self.text, qs, qe):
                continue
            for a in range(q + 1, min(q + 3, len(self.sents))):
                if a in self._asks:
                    break
                s, e = self.sents[a]
                lead = _LEAD.match(self.text, s, e)
                start = lead.end() if lead else s
                said = self.text[start:e].rstrip(" .!,")
                if said:
                    out.append((q, (start, start + len(said))))
                if len(self.text[s:e].split()) > 2:
                    break
        return out

    def taken_back(self, end: int, next_start: int) -> bool:
        """Whether a value ending at `end` is corrected by the next one, at `next_start`."""
        back = TAKEN_BACK.match(self.text, end)
        return bool(back and back.end() > end + 1 and 0 <= next_start - back.end() <= 24)

    def accepts(self, sent: int) -> bool:
        """Whether sentence `sent` takes a value offered ("Thursday at two works for me")."""
        s, e = self.sents[sent]
        return sent not in self._asks and bool(_ACCEPTS.search(self.text, s, e))

    def turned_down(self, end: int) -> bool:
        """Whether the speaker declines the value that ends at `end` ("Friday's no good")."""
        return bool(TURNED_DOWN.match(self.text, end))
