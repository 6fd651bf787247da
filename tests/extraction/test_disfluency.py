"""The clean copy the field rules read, and how its spans map back to the words as said."""

from __future__ import annotations

import pytest

from audiohub.extraction.backends.local.disfluency import clean


@pytest.mark.parametrize(("said", "read"), [
    ("I ordered a, um, a standing desk.", "I ordered a standing desk."),
    ("what time the, the pool opens", "what time the pool opens"),
    ("I'd rather, I'd rather just talk to the doctor.", "I'd rather just talk to the doctor."),
    ("Uh, yes. I, I want to know.", " yes. I want to know."),
    ("So I wanted to, um, ask about it.", "So I wanted to ask about it."),
    ("is there, like, accessible parking?", "is there accessible parking?"),
    ("The, the X1 I think.", "the X1 I think."),
    # Ids and spellings are said twice on purpose, and a name said again is confirmed.
    ("It's 4 4 7, eight eight, 9.", "It's 4 4 7, eight eight, 9."),
    ("A, A, R, O, N.", "A, A, R, O, N."),
    ("Meilin Tan, Tan is T, A, N.", "Meilin Tan, Tan is T, A, N."),
])
def test_hesitations_and_stutters_are_dropped(said: str, read: str) -> None:
    assert clean(said).text == read


def test_every_span_of_the_clean_copy_maps_back_to_the_words_said() -> None:
    said = "Hi, um, I ordered a, a, uh, a copper kettle."
    view = clean(said)
    start = view.text.index("copper kettle")
    s, e = view.source_span(start, start + len("copper kettle"))
    assert said[s:e] == "copper kettle"
    s, e = view.source_span(0, len(view.text))
    assert (s, e) == (0, len(said))
    # A span across a cut covers the cut words in the transcript.
    start = view.text.index("I ordered a")
    s, e = view.source_span(start, start + len("I ordered a copper"))
    assert said[s:e] == "I ordered a, a, uh, a copper"
