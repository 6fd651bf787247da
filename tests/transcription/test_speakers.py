"""Telling the parties apart: the split stereo call, and recordings that do not allow it."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audiohub.config import Settings, WhisperSettings
from audiohub.domain import Segment, Transcript, Word
from audiohub.evaluation.normalize import normalize_for_wer
from audiohub.transcription.audio import ENERGY_RATE, DecodedAudio, decode_file
from audiohub.transcription.backends.faster_whisper import FasterWhisperTranscriber
from audiohub.transcription.speakers import assign_speakers

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"
SWAP = {"agent": "customer", "customer": "agent", None: None}


@pytest.fixture(scope="module")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> FasterWhisperTranscriber:
    return FasterWhisperTranscriber(WhisperSettings(), tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def split_call(
    transcriber: FasterWhisperTranscriber, manifest: dict[str, Any]
) -> tuple[DecodedAudio, Transcript, list[dict[str, str]]]:
    """The banking call with the agent on the left channel: audio, Whisper's transcript, turns."""
    call = manifest["calls"]["banking_card_block"]
    audio = decode_file(AUDIO / call["files"]["split_8k"])
    return audio, transcriber.transcribe(audio), call["turns"]


def _words(transcript: Transcript) -> list[Word]:
    return [w for s in transcript.segments for w in s.words]


def reference_turns(words: list[Word], turns: list[dict[str, str]]) -> list[int | None]:
    """The script's turn of each recognised word: the words are aligned with the turns' words
    (numbers normalised, "4" == "four"); a word that aligns with none gets None.

    Text, not time: the reference must not depend on the word timings under test.
    """
    ref = [(tok, i) for i, t in enumerate(turns) for tok in normalize_for_wer(t["text"]).split()]
    hyp = [(tok, i) for i, w in enumerate(words) for tok in normalize_for_wer(w.word).split()]
    matcher = difflib.SequenceMatcher(a=[t for t, _ in ref], b=[t for t, _ in hyp],
                                      autojunk=False)
    out: list[int | None] = [None] * len(words)
    for a, b, size in matcher.get_matching_blocks():
        for k in range(size):
            out[hyp[b + k][1]] = ref[a + k][1]
    return out


def test_split_stereo_call_labels_the_parties(
    split_call: tuple[DecodedAudio, Transcript, list[dict[str, str]]],
) -> None:
    audio, raw, turns = split_call
    tr = assign_speakers(raw, audio, "left")
    words = _words(tr)
    turn_of = reference_turns(words, turns)
    reference = [None if t is None else turns[t]["speaker"] for t in turn_of]
    labelled = [w for w in words if w.speaker is not None]
    checked = [(w.speaker, r) for w, r in zip(words, reference, strict=True)
               if w.speaker is not None and r is not None]

    assert len(labelled) >= 0.9 * len(words)
    assert len(checked) >= 0.8 * len(words)  # the script explains most of what was heard
    assert sum(s == r for s, r in checked) == len(checked)  # and no label contradicts it
    # The greeting: every word of it that got a label is the agent's, and most got one (a
    # turn-final word Whisper stretches into the customer's reply may stay unlabelled).
    greeting = [w.speaker for w, t in zip(words, turn_of, strict=True) if t == 0]
    assert greeting.count("agent") >= len(greeting) - 1 >= 4
    assert set(greeting) <= {"agent", None}
    # Every segment Whisper kept within one party's turns carries that party.
    kept_apart = 0
    for seg in tr.segments:
        parties = {reference[words.index(w)] for w in seg.words} - {None}
        if len(parties) == 1:
            kept_apart += 1
            assert seg.speaker == parties.pop(), seg.text
    assert kept_apart >= 2
    assert any(s.speaker == "customer" for s in tr.segments)
    # Only labels were added: the words, times and text are Whisper's.
    assert tr.text == raw.text
    assert [(w.word, w.start, w.end) for w in words] == [(w.word, w.start, w.end)
                                                         for w in _words(raw)]
    assert all(w.speaker is None for w in _words(raw))  # the input was not modified


def test_agent_on_the_right_swaps_the_labels(
    split_call: tuple[DecodedAudio, Transcript, list[dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audio, raw, _ = split_call
    monkeypatch.setenv("STEREO_AGENT_CHANNEL", "right")
    channel = Settings().stereo_agent_channel
    assert channel == "right"

    left, right = assign_speakers(raw, audio, "left"), assign_speakers(raw, audio, channel)
    assert [SWAP[w.speaker] for w in _words(left)] == [w.speaker for w in _words(right)]
    assert [SWAP[s.speaker] for s in left.segments] == [s.speaker for s in right.segments]
    assert right.segments[0].speaker == "customer"


@pytest.mark.parametrize("name", ["healthcare_appointment_stereo_44k.wav",
                                  "healthcare_appointment_8k.wav"])
def test_mono_and_same_signal_stereo_are_not_diarized(
    transcriber: FasterWhisperTranscriber, name: str
) -> None:
    audio = decode_file(AUDIO / name)
    raw = transcriber.transcribe(audio)
    tr = assign_speakers(raw, audio, "left")

    assert tr == raw and len(_words(tr)) > 20
    assert all(w.speaker is None for w in _words(tr))
    assert all(s.speaker is None for s in tr.segments)


@pytest.mark.parametrize(("name", "channels"), [
    ("banking_card_block_split_8k.wav", 2), ("healthcare_appointment_stereo_44k.wav", 2),
    ("healthcare_appointment_16k.wav", 1), ("healthcare_appointment.mp3", 1)])
def test_channel_energy_only_for_two_channels(
    manifest: dict[str, Any], name: str, channels: int
) -> None:
    audio = decode_file(AUDIO / name)
    source = "banking_card_block" if name.startswith("banking") else "healthcare_appointment"
    # Decoding is unchanged: the 16 kHz mono samples still last as long as the call.
    assert audio.duration == pytest.approx(manifest["calls"][source]["duration_s"], abs=0.15)
    assert audio.channels == channels and audio.samples.ndim == 1
    if channels == 1:
        assert audio.channel_energy is None
        return
    energy = audio.channel_energy
    assert energy is not None and energy.dtype == np.float32
    assert energy.shape[0] == 2
    assert abs(energy.shape[1] - ENERGY_RATE * audio.duration) <= 2
    assert float(energy.min()) >= 0.0 and float(energy.max()) <= 1.0
    if "split" in name:  # the agent speaks first, alone on the left channel
        opening = energy[:, : int(2.0 * ENERGY_RATE)]
        assert opening[0].max() > 0.1 and opening[1].max() == 0.0
    else:  # one signal copied to both channels
        assert np.allclose(energy[0], energy[1], atol=1e-6)


def _audio(energy: np.ndarray[Any, np.dtype[np.float32]]) -> DecodedAudio:
    samples = np.zeros(energy.shape[1] * 160, dtype=np.float32)  # unused by assign_speakers
    return DecodedAudio(samples, "wav", "pcm_s16le", 8000, 2, energy)


def _alternating(left_gain: float, right_gain: float) -> tuple[DecodedAudio, Transcript]:
    """Ten 1 s turns, left party first; while one talks the other channel carries it at
    `*_gain` (crosstalk), or a same-signal recording when the gains are set so."""
    rng = np.random.default_rng(7)
    speech = (0.1 * rng.uniform(0.3, 1.0, 1000)).astype(np.float32)
    energy = np.zeros((2, 1000), dtype=np.float32)
    words, segments = [], []
    for turn in range(10):
        frames = slice(turn * 100 + 10, turn * 100 + 90)  # 0.1 s pauses at each end
        talker = turn % 2
        energy[talker, frames] = speech[frames]
        energy[1 - talker, frames] = speech[frames] * (right_gain if talker == 0 else left_gain)
        w = Word(word=f" w{turn}", start=turn + 0.1, end=turn + 0.9, probability=1.0)
        words.append(w)
        segments.append(Segment(id=turn, start=w.start, end=w.end, text=w.word, words=[w]))
    return _audio(energy), Transcript.from_segments(segments, "en", 10.0)


def test_crosstalk_still_separates_but_a_panned_mono_call_does_not() -> None:
    # Each party leaks into the other's channel 20 dB down, as headset echo does.
    audio, raw = _alternating(0.1, 0.1)
    tr = assign_speakers(raw, audio, "left")
    assert [s.speaker for s in tr.segments] == ["agent", "customer"] * 5

    # One signal on both channels, the right 10 dB quieter: left is always louder, which says
    # nothing about who talks.
    energy = np.stack([np.full(1000, 0.1), np.full(1000, 0.1 * 10 ** -0.5)]).astype(np.float32)
    assert assign_speakers(raw, _audio(energy), "left") is raw
    # A dead right channel: nothing shows that the left carries only one party.
    audio, _ = _alternating(0.0, 0.0)
    assert audio.channel_energy is not None
    audio.channel_energy[1] = 0.0
    assert assign_speakers(raw, audio, "left") is raw
