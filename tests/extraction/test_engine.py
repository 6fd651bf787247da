"""The field engine's general rules, each on a spec and sentences of our own."""

from __future__ import annotations

from audiohub.domain import CategorySpec
from audiohub.extraction.backends.local.call import Candidate
from audiohub.extraction.backends.local.engine import FieldExtractor, same_value
from audiohub.fieldspec import FieldSpec
from tests.extraction.transcripts import make_transcript


def _extract(extractor: FieldExtractor, turns: list[str], *fields: FieldSpec
             ) -> dict[str, str | None]:
    spec = CategorySpec(domain="test", category="test", description="A test category.",
                        prompt="Extract the fields.", fields=list(fields))
    values, evidence = extractor.extract(make_transcript(turns), spec)
    transcript = make_transcript(turns)
    for ev in evidence.values():
        assert transcript.text[ev.char_start:ev.char_end] == ev.text
    return values


def test_cues_decide_between_two_fields_of_one_kind(extractor: FieldExtractor) -> None:
    values = _extract(
        extractor,
        ["The van picks up on the 3rd of April.", "It drops off on the 9th of April."],
        FieldSpec(name="pickup_date", kind="date", cues=["picks up"]),
        FieldSpec(name="dropoff_date", kind="date", cues=["drops off"]))

    assert values == {"pickup_date": "3rd of April", "dropoff_date": "9th of April"}


def test_a_value_answering_the_question_for_its_field(extractor: FieldExtractor) -> None:
    values = _extract(
        extractor,
        ["When did you first notice the leak?", "Last Thursday.",
         "And when can the plumber come?", "Monday afternoon would suit."],
        FieldSpec(name="noticed_on", kind="date", cues=["notice"]),
        FieldSpec(name="visit_day", kind="date", cues=["plumber come", "visit"]))

    assert values["noticed_on"] == "Last Thursday"
    assert values["visit_day"] is not None and values["visit_day"].startswith("Monday")


def test_a_birth_date_is_no_other_date_when_no_field_claims_it(
        extractor: FieldExtractor) -> None:
    values = _extract(
        extractor, ["I was born on the 2nd of May, 1961, and I'd like a lesson on Friday."],
        FieldSpec(name="lesson_day", kind="date", cues=["lesson"]))

    assert values == {"lesson_day": "Friday"}


def test_a_code_taken_back_gives_way_to_its_correction(extractor: FieldExtractor) -> None:
    values = _extract(
        extractor, ["My membership number is 7 3 8 1 2. Sorry, no, 7 3 8 1 5."],
        FieldSpec(name="membership_number", kind="code"))

    assert values == {"membership_number": "73815"}


def test_an_offer_turned_down_gives_way_to_the_one_taken(extractor: FieldExtractor) -> None:
    values = _extract(
        extractor,
        ["We could come on Tuesday.", "Tuesday is no good, I'm away.", "How about Wednesday?",
         "Wednesday works."],
        FieldSpec(name="call_out_day", kind="date", cues=["come"]))

    assert values == {"call_out_day": "Wednesday"}


def test_a_name_said_in_part_and_in_full_is_the_full_name(extractor: FieldExtractor) -> None:
    values = _extract(
        extractor, ["Riverside Motor Club, you're speaking with Dev.",
                    "Hello, I'm calling about my renewal.",
                    "Can I take your full name?", "Gwen Talbot-Hughes.", "Thank you, Gwen."],
        FieldSpec(name="member_name", kind="person", said_by="customer"))

    assert values == {"member_name": "Gwen Talbot-Hughes"}


def test_who_speaks_is_taken_from_the_recording_when_it_tells(extractor: FieldExtractor) -> None:
    # The caller introduces herself like an agent would; a split stereo recording says it is
    # her, so her name is not taken for the agent's.
    turns = [("agent", "Riverside Motor Club, you're speaking with Dev."),
             ("customer", "Hello, this is Gwen, calling about my renewal."),
             ("agent", "Can I take your full name?"), ("customer", "Gwen Talbot-Hughes.")]
    transcript = make_transcript([said for _, said in turns])
    transcript = transcript.model_copy(update={"segments": [
        seg.model_copy(update={"speaker": who})
        for seg, (who, _) in zip(transcript.segments, turns, strict=True)]})
    spec = CategorySpec(domain="test", category="test", description="A test category.",
                        prompt="Extract the fields.", fields=[
                            FieldSpec(name="member_name", kind="person", said_by="customer")])

    values, _ = extractor.extract(transcript, spec)

    assert values == {"member_name": "Gwen Talbot-Hughes"}


def test_one_value_goes_to_one_field(extractor: FieldExtractor) -> None:
    values = _extract(
        extractor, ["Northgate Heating, how can I help?", "My name is Ivo Marsh.",
                    "Yes, Ivo Marsh, that's right."],
        FieldSpec(name="caller_name", kind="person", said_by="customer"),
        FieldSpec(name="engineer_name", kind="person", cues=["engineer"]))

    assert values == {"caller_name": "Ivo Marsh", "engineer_name": None}


def test_a_code_of_the_field_length_only(extractor: FieldExtractor) -> None:
    values = _extract(
        extractor, ["The meter reads 4 0 9 1 7 and the pin is 2 2 6 1."],
        FieldSpec(name="pin", kind="digits", length=4, cues=["pin"]))

    assert values == {"pin": "2261"}


def test_no_value_for_a_field_the_call_never_mentions(extractor: FieldExtractor) -> None:
    values = _extract(
        extractor, ["Hello, I just wanted to say thanks for the help last time."],
        FieldSpec(name="pickup_town", kind="place"),
        FieldSpec(name="parcel_code", kind="code"))

    assert values == {"pickup_town": None, "parcel_code": None}


def test_a_question_naming_two_fields_asks_for_the_one_named_last(
        extractor: FieldExtractor) -> None:
    values = _extract(
        extractor,
        ["I see your lesson is currently on the 4th of June, when would you like it instead?",
         "The 11th of June, please."],
        FieldSpec(name="booked_date", kind="date", cues=["currently"]),
        FieldSpec(name="wanted_date", kind="date", cues=["instead"]))

    assert values == {"booked_date": "4th of June", "wanted_date": "11th of June"}


def test_a_clause_holding_a_word_is_not_that_word_said_again() -> None:
    said = Candidate(0, 6, "kettle", "text")
    clause = Candidate(20, 50, "could you unplug the kettle", "text")
    again = Candidate(60, 66, "Kettle", "text")

    assert not same_value(said, clause)
    assert same_value(said, again)



def test_a_code_read_back_shorter_is_the_same_code() -> None:
    said = Candidate(0, 12, "QX4LTP58", "code")
    read_back = Candidate(40, 50, "QX4P58", "code")  # two letters dropped in the read-back
    other = Candidate(60, 70, "ZZ9120", "code")

    assert same_value(said, read_back)
    assert not same_value(said, other)


def test_a_text_value_may_hold_another_text_fields_value(extractor: FieldExtractor) -> None:
    turns = ["Hello, returns desk.",
             "Hi. The standing lamp I ordered arrived with a cracked glass shade."]
    values = _extract(
        extractor, turns,
        FieldSpec(name="item", kind="text", description="the product being returned",
                  cues=["I ordered"], examples=["the [wireless speaker] I bought"]),
        FieldSpec(name="return_reason", kind="text", description="what is wrong with it",
                  examples=["it [arrived with a broken handle]"]))
    assert values["item"] is not None and "lamp" in values["item"]
    assert values["return_reason"] is not None and "cracked" in values["return_reason"]


def test_a_span_that_names_a_field_is_no_text_value(extractor: FieldExtractor) -> None:
    # "membership number" is what the caller is asked for, not the class she wants to join.
    values = _extract(
        extractor,
        ["Can I have your membership number?", "Yes, it's 4 4 0 7 1 2. The membership number."],
        FieldSpec(name="membership_number", kind="digits", description="the member's number"),
        FieldSpec(name="class_wanted", kind="text", description="the fitness class to book",
                  examples=["I'd like to join [the Tuesday spin class]"]))
    assert values["membership_number"] == "440712"
    assert values["class_wanted"] is None


def test_a_date_said_again_more_precisely_is_the_precise_one(extractor: FieldExtractor) -> None:
    values = _extract(
        extractor,
        ["When did the tree come down on the fence?",
         "Last weekend. Sunday morning, so that's the ninth of November."],
        FieldSpec(name="damage_date", kind="date", cues=["come down"]))
    assert values == {"damage_date": "ninth of November"}


def test_a_vague_date_answering_a_new_question_is_not_merged(extractor: FieldExtractor) -> None:
    values = _extract(
        extractor,
        ["When did the tree come down?", "Last weekend.",
         "And when can our fencer visit?", "The ninth of November."],
        FieldSpec(name="damage_date", kind="date", cues=["come down"]),
        FieldSpec(name="visit_date", kind="date", cues=["visit"]))
    assert values == {"damage_date": "weekend", "visit_date": "ninth of November"}
