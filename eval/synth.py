"""Synthetic two-voice call recordings for tests, evaluation and benchmarks.

Turns of a call (``("agent" | "customer", text)``) are spoken by espeak-ng with two clearly
different voices, resampled by sox and joined with short, deterministic pauses into a 16-bit mono
WAV, or into a stereo WAV with the agent on the left channel and the customer on the right (how
call-centre recorders keep the two parties apart). Helpers make an 8 kHz telephone-band copy
(sox), other container/codec variants (ffmpeg), silence, a music-like chord, and long calls for
benchmarks (rendered turn by turn and streamed to disk, so memory stays small even for an hour of
audio).

The same input gives the same bytes: espeak-ng is deterministic, sox runs without dither, pauses
come from a seeded generator and ffmpeg runs in bit-exact mode without metadata.

Command line (from the repository root)::

    python eval/synth.py call out.wav --turn "agent:Hello, how can I help?" --turn "customer:Hi."
    python eval/synth.py call out.wav --script turns.json   # [["agent", "..."], ...]
    python eval/synth.py split out.wav --fixture banking_card_block   # agent left, customer right
    python eval/synth.py telephone in.wav out_8k.wav
    python eval/synth.py convert in.wav out.mp3             # .mp3 .m4a .ogg .opus .flac .wav
    python eval/synth.py stereo in.wav out_stereo_44k.wav
    python eval/synth.py long 60 /tmp/call_60min.wav
    python eval/synth.py fixtures tests/fixtures/audio      # the three test calls + calls.json

Needs espeak-ng, sox and ffmpeg on PATH; only the standard library in Python.
"""

from __future__ import annotations

import argparse
import array
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

Speaker = Literal["agent", "customer"]
Turn = tuple[Speaker, str]

SAMPLE_WIDTH = 2  # bytes: 16-bit PCM everywhere
PAUSE_RANGE_S = (0.3, 0.8)
EDGE_SILENCE_S = 0.2  # before the first and after the last turn


@dataclass(frozen=True)
class Voice:
    """How espeak-ng speaks one side of the call."""

    espeak_voice: str  # espeak-ng -v
    speed_wpm: int  # espeak-ng -s
    pitch: int  # espeak-ng -p, 0..99
    level_db: float  # peak level of each rendered turn, dBFS (sox gain -n)


VOICES: dict[Speaker, Voice] = {
    # American male, a little faster: the agent says these lines all day.
    "agent": Voice(espeak_voice="en-us", speed_wpm=180, pitch=40, level_db=-3.0),
    # British female (variant f3), slower and higher.
    "customer": Voice(espeak_voice="en-gb+f3", speed_wpm=165, pitch=55, level_db=-5.0),
}


class SynthError(RuntimeError):
    """An external tool (espeak-ng, sox, ffmpeg) failed or is missing."""


def _run(cmd: Sequence[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise SynthError(f"{cmd[0]} is not installed (needed by eval/synth.py)")
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SynthError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()}")


def wav_duration(path: Path) -> float:
    """Length of a PCM WAV file in seconds."""
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / wav.getframerate()


def pause_seconds(index: int, seed: int = 0) -> float:
    """Deterministic pause (0.3-0.8 s, 10 ms steps) after turn ``index``."""
    rng = random.Random(f"audiohub-synth:{seed}:{index}")
    return round(rng.uniform(*PAUSE_RANGE_S), 2)


def _check_turn(speaker: str, text: str) -> Turn:
    if speaker not in get_args(Speaker):
        raise ValueError(f"speaker must be 'agent' or 'customer', not {speaker!r}")
    if not text.strip():
        raise ValueError("a turn needs some text")
    return cast(Speaker, speaker), text


def render_turn(speaker: Speaker, text: str, out_wav: Path, rate: int = 16000) -> float:
    """Speak one turn with the speaker's voice into a mono 16-bit WAV at ``rate``."""
    voice = VOICES[speaker]
    with tempfile.TemporaryDirectory(prefix="synth-turn-") as tmp:
        raw = Path(tmp) / "espeak.wav"
        _run(
            [
                "espeak-ng",
                "-v", voice.espeak_voice,
                "-s", str(voice.speed_wpm),
                "-p", str(voice.pitch),
                "-w", str(raw),
                "--", " ".join(text.split()),
            ]
        )  # fmt: skip
        _run(
            [
                "sox", "-D", "-V1", str(raw),
                "-r", str(rate), "-c", "1", "-b", "16", "-e", "signed-integer", str(out_wav),
                # espeak-ng pads each utterance with ~0.2 s of silence: trim it (keeping 50 ms) so
                # the pauses between turns are the ones chosen here.
                "silence", "1", "0.01", "0.1%", "reverse",
                "silence", "1", "0.01", "0.1%", "reverse",
                "pad", "0.05", "0.05",
                "gain", "-n", f"{voice.level_db:g}",
            ]
        )  # fmt: skip
    return wav_duration(out_wav)


class _CallWriter:
    """Appends turns and pauses to an open 16-bit mono WAV, one turn in memory at a time."""

    def __init__(self, wav: wave.Wave_write, rate: int, seed: int) -> None:
        self._wav = wav
        self._rate = rate
        self._seed = seed
        self._turns = 0
        self._frames = 0
        self._cache: dict[Turn, bytes] = {}
        self._tmp = Path(tempfile.mkdtemp(prefix="synth-call-"))

    @property
    def duration(self) -> float:
        return self._frames / self._rate

    def silence(self, seconds: float) -> None:
        frames = round(seconds * self._rate)
        chunk = bytes(SAMPLE_WIDTH * min(frames, self._rate))
        while frames > 0:
            n = min(frames, self._rate)
            self._wav.writeframesraw(chunk[: n * SAMPLE_WIDTH])
            frames -= n
            self._frames += n

    def turn(self, speaker: Speaker, text: str, *, cache: bool = False) -> None:
        if self._turns:
            self.silence(pause_seconds(self._turns - 1, self._seed))
        pcm = self._cache.get((speaker, text))
        if pcm is None:
            path = self._tmp / "turn.wav"
            render_turn(speaker, text, path, self._rate)
            with wave.open(str(path), "rb") as turn_wav:
                pcm = turn_wav.readframes(turn_wav.getnframes())
            if cache:
                self._cache[(speaker, text)] = pcm
        self._wav.writeframesraw(pcm)
        self._frames += len(pcm) // SAMPLE_WIDTH
        self._turns += 1

    def close(self) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)


@contextmanager
def _call_writer(out_wav: Path, rate: int, seed: int) -> Iterator[_CallWriter]:
    """Write a call to a temporary file next to ``out_wav`` and move it in place when done."""
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    partial = out_wav.with_name(out_wav.name + ".partial")
    try:
        with wave.open(str(partial), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(SAMPLE_WIDTH)
            wav.setframerate(rate)
            writer = _CallWriter(wav, rate, seed)
            try:
                writer.silence(EDGE_SILENCE_S)
                yield writer
                writer.silence(EDGE_SILENCE_S)
            finally:
                writer.close()
        os.replace(partial, out_wav)
    finally:
        partial.unlink(missing_ok=True)


def render_call(
    turns: Sequence[tuple[str, str]], out_wav: Path, rate: int = 16000, *, seed: int = 0
) -> float:
    """Render a two-voice call to a 16-bit mono WAV at ``rate``; returns its duration in seconds.

    ``turns`` are ``(speaker, text)`` with speaker ``"agent"`` or ``"customer"``. Turns are
    separated by deterministic 0.3-0.8 s pauses (``seed`` picks another sequence).
    """
    checked = [_check_turn(speaker, text) for speaker, text in turns]
    if not checked:
        raise ValueError("a call needs at least one turn")
    with _call_writer(out_wav, rate, seed) as writer:
        for speaker, text in checked:
            writer.turn(speaker, text)
    return wav_duration(out_wav)


def render_long_call(minutes: float, out_wav: Path, rate: int = 16000, *, seed: int = 0) -> float:
    """Render a call of about ``minutes`` (never shorter) by cycling :data:`LONG_CALL_TURNS`.

    Each distinct turn is synthesised once and then reused; audio is streamed to disk, so an
    hour-long call needs a few MB of memory. Returns the duration in seconds.
    """
    if minutes <= 0:
        raise ValueError("minutes must be positive")
    target = minutes * 60.0
    with _call_writer(out_wav, rate, seed) as writer:
        index = 0
        while writer.duration + EDGE_SILENCE_S < target:
            speaker, text = LONG_CALL_TURNS[index % len(LONG_CALL_TURNS)]
            writer.turn(speaker, text, cache=True)
            index += 1
    return wav_duration(out_wav)


def split_stereo_call(
    turns: Sequence[tuple[str, str]], out_wav: Path, rate: int = 8000, *, seed: int = 0
) -> float:
    """Render a call to a 16-bit stereo WAV, agent turns on the left channel and customer turns on
    the right, the other channel digitally silent meanwhile; returns the duration in seconds.

    Turns and pauses are those of :func:`render_call` (same ``seed``, same pause sequence), so the
    split call and the mono one say the same thing at nearly the same times.
    """
    checked = [_check_turn(speaker, text) for speaker, text in turns]
    if not checked:
        raise ValueError("a call needs at least one turn")
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    partial = out_wav.with_name(out_wav.name + ".partial")
    frame = 2 * SAMPLE_WIDTH  # one left + one right sample

    def silence(wav: wave.Wave_write, seconds: float) -> None:
        wav.writeframesraw(bytes(frame * round(seconds * rate)))

    try:
        with (
            tempfile.TemporaryDirectory(prefix="synth-split-") as tmp,
            wave.open(str(partial), "wb") as wav,
        ):
            wav.setnchannels(2)
            wav.setsampwidth(SAMPLE_WIDTH)
            wav.setframerate(rate)
            silence(wav, EDGE_SILENCE_S)
            for i, (speaker, text) in enumerate(checked):
                if i:
                    silence(wav, pause_seconds(i - 1, seed))
                path = Path(tmp) / "turn.wav"
                render_turn(speaker, text, path, rate)
                with wave.open(str(path), "rb") as turn_wav:
                    mono = turn_wav.readframes(turn_wav.getnframes())
                # Copy bytes, not samples: the WAV's little-endian order is kept on any machine.
                stereo = bytearray(2 * len(mono))
                at = 0 if speaker == "agent" else SAMPLE_WIDTH
                for b in range(SAMPLE_WIDTH):
                    stereo[at + b::frame] = mono[b::SAMPLE_WIDTH]
                wav.writeframesraw(bytes(stereo))
            silence(wav, EDGE_SILENCE_S)
        os.replace(partial, out_wav)
    finally:
        partial.unlink(missing_ok=True)
    return wav_duration(out_wav)


def telephone_copy(in_wav: Path, out_wav: Path) -> float:
    """Make an 8 kHz mono 16-bit telephone-band (300-3400 Hz) copy; returns its duration."""
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            "sox", "-D", "-V1", str(in_wav),
            "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(out_wav),
            "highpass", "300", "lowpass", "3400", "rate", "8000",
        ]
    )  # fmt: skip
    return wav_duration(out_wav)


def stereo_copy(in_wav: Path, out_wav: Path, rate: int = 44100) -> float:
    """Stereo 16-bit WAV at ``rate`` with the mono signal on both channels at the same level."""
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    _run(
        [
            "sox", "-D", "-V1", str(in_wav),
            "-r", str(rate), "-c", "2", "-b", "16", "-e", "signed-integer", str(out_wav),
            "remix", "1", "1", "rate", str(rate),
        ]
    )  # fmt: skip
    return wav_duration(out_wav)


_CODECS: dict[str, list[str]] = {
    ".mp3": ["-c:a", "libmp3lame", "-b:a", "32k", "-id3v2_version", "0", "-write_xing", "0"],
    ".m4a": ["-c:a", "aac", "-b:a", "32k", "-movflags", "+faststart"],
    ".ogg": ["-c:a", "libopus", "-b:a", "24k"],
    ".opus": ["-c:a", "libopus", "-b:a", "24k"],
    ".flac": ["-c:a", "flac", "-compression_level", "8"],
    ".wav": ["-c:a", "pcm_s16le"],
}


def convert(
    in_wav: Path, out_path: Path, *, rate: int | None = None, channels: int | None = None
) -> None:
    """Re-encode with ffmpeg; the codec follows the extension (.mp3 .m4a .ogg .opus .flac .wav).

    ``rate``/``channels`` resample or remix with ffmpeg's defaults (its mono-to-stereo upmix is
    3 dB quieter per channel; :func:`stereo_copy` keeps the level).
    """
    codec = _CODECS.get(out_path.suffix.lower())
    if codec is None:
        raise ValueError(f"unsupported extension {out_path.suffix!r}; use one of {sorted(_CODECS)}")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(in_wav)]
    cmd += ["-map", "0:a:0", "-map_metadata", "-1", "-vn"]
    if rate is not None:
        cmd += ["-ar", str(rate)]
    if channels is not None:
        cmd += ["-ac", str(channels)]
    cmd += codec
    cmd += ["-fflags", "+bitexact", "-flags:a", "+bitexact", str(out_path)]
    _run(cmd)


def write_silence(out_wav: Path, seconds: float, rate: int = 16000) -> None:
    """Digital silence (all-zero samples), mono 16-bit."""
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out_wav), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(rate)
        wav.writeframes(bytes(SAMPLE_WIDTH * round(seconds * rate)))


def write_chord(out_wav: Path, seconds: float, rate: int = 16000) -> None:
    """A music-like sound without speech: plucked C-Am-F-G chords with harmonics, mono 16-bit."""
    chords = (  # Hz: C major, A minor, F major, G major (root, third, fifth, octave)
        (261.63, 329.63, 392.00, 523.25),
        (220.00, 261.63, 329.63, 440.00),
        (174.61, 220.00, 261.63, 349.23),
        (196.00, 246.94, 293.66, 392.00),
    )
    total = round(seconds * rate)
    per_chord = math.ceil(total / len(chords))
    samples = array.array("h")
    for n in range(total):
        notes = chords[min(n // per_chord, len(chords) - 1)]
        t = n / rate
        local = (n % per_chord) / rate
        envelope = min(1.0, local / 0.01) * math.exp(-1.8 * local)  # pluck: fast attack, decay
        value = 0.0
        for freq in notes:
            for harmonic, weight in ((1, 1.0), (2, 0.35), (3, 0.15)):
                value += weight * math.sin(2 * math.pi * freq * harmonic * t)
        value *= envelope * 0.4 / (len(notes) * 1.5)
        samples.append(round(max(-1.0, min(1.0, value)) * 32767))
    if sys.byteorder != "little":
        samples.byteswap()
    out_wav.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out_wav), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())


def truncate_copy(in_path: Path, out_path: Path, fraction: float = 0.4) -> int:
    """Copy the first ``fraction`` of the bytes (a WAV header keeps claiming the full length)."""
    data = in_path.read_bytes()
    keep = int(len(data) * fraction)
    out_path.write_bytes(data[:keep])
    return keep


def write_random_bytes(out_path: Path, size: int, seed: int = 0, prefix: bytes = b"") -> None:
    """``prefix`` followed by ``size`` pseudo-random bytes from ``seed``."""
    out_path.write_bytes(prefix + random.Random(seed).randbytes(size))


# --------------------------------------------------------------------------------------------
# The committed test calls (tests/fixtures/audio). Identifiers are spoken digit by digit and the
# customer says every field; `fields` are the values as they should be extracted.


@dataclass(frozen=True)
class FixtureCall:
    name: str
    domain: str
    category: str
    turns: tuple[Turn, ...]
    fields: dict[str, str]
    # Other spellings of a field value that are also right (how Whisper may write it).
    alternatives: dict[str, tuple[str, ...]]
    # Also committed as an 8 kHz stereo recording, one party per channel (split_stereo_call).
    split_stereo: bool = False

    @property
    def reference_text(self) -> str:
        return " ".join(text for _, text in self.turns)


FIXTURE_CALLS: tuple[FixtureCall, ...] = (
    FixtureCall(
        name="healthcare_appointment",
        domain="healthcare",
        category="appointment_scheduling",
        turns=(
            ("agent", "City Clinic, how can I help?"),
            ("customer", "Hi, my name is Maria Lopez. I need an appointment with Doctor Patel."),
            ("agent", "Sure, what is the reason?"),
            ("customer", "I have back pain."),
            ("agent", "When would you like to come?"),
            ("customer", "Next Tuesday at 3 pm."),
        ),
        fields={
            "patient_name": "Maria Lopez",
            "doctor_name": "Doctor Patel",
            "appointment_date": "next Tuesday",
            "appointment_time": "3 pm",
            "reason": "back pain",
        },
        alternatives={
            "doctor_name": ("Dr. Patel", "Dr Patel", "Patel"),
            "appointment_time": ("3 p.m.", "3pm", "three pm", "3 PM", "3 P.M."),
        },
    ),
    FixtureCall(
        name="banking_card_block",
        domain="banking",
        category="card_block",
        turns=(
            ("agent", "Metro Bank, how can I help you?"),
            ("customer", "Hi, this is John Carter. My credit card was stolen. Can you block it?"),
            ("agent", "Of course. Can you give me the last four digits?"),
            ("customer", "Four five six seven."),
            ("agent", "Done, the card is blocked."),
        ),
        fields={
            "customer_name": "John Carter",
            "card_last_four": "4567",
            "reason": "stolen",
        },
        alternatives={
            "card_last_four": ("4 5 6 7", "4, 5, 6, 7", "four five six seven", "4-5-6-7"),
        },
        split_stereo=True,
    ),
    FixtureCall(
        name="ecommerce_refund",
        domain="ecommerce",
        category="refund_request",
        turns=(
            ("agent", "Online returns, how can I help?"),
            ("customer", "I want a refund for my order, number eight two four six one three."),
            ("agent", "Which item is it?"),
            ("customer", "Wireless headphones. They came broken."),
            ("agent", "What was the price?"),
            ("customer", "Forty nine dollars and ninety nine cents."),
        ),
        fields={
            "order_number": "824613",
            "item": "wireless headphones",
            "refund_amount": "$49.99",
            "reason": "came broken",
        },
        alternatives={
            "order_number": ("8 2 4 6 1 3", "8, 2, 4, 6, 1, 3", "eight two four six one three"),
            "refund_amount": (
                "49.99",
                "forty nine dollars and ninety nine cents",
                "forty-nine dollars and ninety-nine cents",
            ),
            "reason": ("broken",),
        },
    ),
)


def split_fixture_name(call: FixtureCall) -> str:
    """The split stereo copy's file name (made by tests/fixtures/make_fixtures.sh)."""
    return f"{call.name}_split_8k.wav"


def fixture_manifest_entry(call: FixtureCall, duration_s: float) -> dict[str, Any]:
    files = {"16k": f"{call.name}_16k.wav", "8k": f"{call.name}_8k.wav"}
    if call.split_stereo:
        files["split_8k"] = split_fixture_name(call)
    return {
        "domain": call.domain,
        "category": call.category,
        "files": files,
        "duration_s": round(duration_s, 3),
        "reference_text": call.reference_text,
        "turns": [{"speaker": speaker, "text": text} for speaker, text in call.turns],
        "expected_fields": call.fields,
        "field_alternatives": {k: list(v) for k, v in call.alternatives.items()},
    }


# The other committed fixtures (made by tests/fixtures/make_fixtures.sh), listed in calls.json.
FIXTURE_FORMAT_VARIANTS: dict[str, str] = {
    "mp3": "healthcare_appointment.mp3",
    "m4a": "healthcare_appointment.m4a",
    "ogg": "healthcare_appointment.ogg",
    "flac": "healthcare_appointment.flac",
    "stereo_44k_wav": "healthcare_appointment_stereo_44k.wav",
}
FIXTURE_NON_SPEECH: dict[str, str] = {
    "silence_5s.wav": "5 s of digital silence (all zero samples), 16 kHz mono 16-bit",
    "tone_5s.wav": "5 s of plucked C-Am-F-G chords with harmonics, no speech, 8 kHz mono 16-bit",
}
FIXTURE_BAD_INPUTS: dict[str, str] = {
    "not_audio.txt": "plain text, not audio",
    "truncated.wav": "first 40% of the bytes of healthcare_appointment_16k.wav; the RIFF header "
    "still claims the full length",
    "corrupt.mp3": "20 KiB of random bytes (seed 1234) with an .mp3 name",
    "empty.wav": "0 bytes",
}


def fixture_manifest(calls: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return {
        "calls": calls,
        "format_variants": {"source": "healthcare_appointment", "files": FIXTURE_FORMAT_VARIANTS},
        "non_speech": FIXTURE_NON_SPEECH,
        "bad_inputs": FIXTURE_BAD_INPUTS,
    }


def render_fixture_calls(out_dir: Path) -> dict[str, dict[str, Any]]:
    """Render every fixture call at 16 kHz plus its 8 kHz telephone copy; returns the manifest."""
    calls: dict[str, dict[str, Any]] = {}
    for call in FIXTURE_CALLS:
        wav16 = out_dir / f"{call.name}_16k.wav"
        duration = render_call(call.turns, wav16, 16000)
        telephone_copy(wav16, out_dir / f"{call.name}_8k.wav")
        calls[call.name] = fixture_manifest_entry(call, duration)
    return calls


# --------------------------------------------------------------------------------------------
# Dialogue cycled by render_long_call: a long, wandering support call across several topics.

LONG_CALL_TURNS: tuple[Turn, ...] = (
    ("agent", "Good afternoon, thank you for calling customer support. My name is Daniel."),
    ("customer", "Hi Daniel, I have a few things to sort out today, if that is alright."),
    ("agent", "Of course. Can I start with your full name and your account number?"),
    ("customer", "Sure. It is Emily Johnson, account number three one four one five nine."),
    ("agent", "Thank you, Emily. I can see your account here. What is the first issue?"),
    ("customer", "My internet has been dropping every evening for about a week now."),
    ("agent", "I am sorry about that. Are the lights on your router green or orange?"),
    ("customer", "The power light is green, but the internet light keeps flashing orange."),
    ("agent", "Let me run a line test from our side. It will take about a minute."),
    ("customer", "No problem, I will wait."),
    ("agent", "The test shows some noise on the line. I will book an engineer visit."),
    ("customer", "Can they come on Friday morning? I work from home that day."),
    ("agent", "Friday between eight and twelve is available. Shall I confirm it?"),
    ("customer", "Yes please, Friday morning is perfect."),
    ("agent", "Done. You will get a text message the day before the visit."),
    ("customer", "Great. The second thing is my last bill, it looks too high."),
    ("agent", "Let me open it. I can see a charge of twenty five dollars for extra data."),
    ("customer", "I never went over my limit, so I do not understand that charge."),
    ("agent", "You are right, the usage was under the limit. I will remove the charge."),
    ("customer", "Thank you. Will that show on my next bill?"),
    ("agent", "Yes, you will see a credit of twenty five dollars next month."),
    ("customer", "Good. And lastly, I would like to update my email address."),
    ("agent", "Sure, what is the new email address?"),
    ("customer", "It is emily dot johnson at example dot com."),
    ("agent", "Thank you, I have updated it. Is there anything else I can help with?"),
    ("customer", "Actually, can you tell me when my contract ends?"),
    ("agent", "Your contract ends on the thirtieth of June next year."),
    ("customer", "And what happens after that? Does the price go up?"),
    ("agent", "The price stays the same unless you choose a new plan."),
    ("customer", "Okay. Could you send me the details of the new plans by email?"),
    ("agent", "I will send them today. Can I help with anything else?"),
    ("customer", "Let me check my notes. One moment, please."),
    ("agent", "Take your time."),
    ("customer", "I also wanted to ask about adding a second phone line for my son."),
    ("agent", "We can do that. A second line costs fifteen dollars a month."),
    ("customer", "That sounds fine. Does he get his own number?"),
    ("agent", "Yes, he gets his own number and his own data allowance."),
    ("customer", "Perfect, please add it. He will need a new SIM card as well."),
    ("agent", "The SIM card will arrive by post in three to five working days."),
    ("customer", "Thank you so much, you have been really helpful."),
    ("agent", "You are welcome. Let me read back everything we have done today."),
    ("customer", "Sure, go ahead."),
)


# --------------------------------------------------------------------------------------------
# Command line


def _parse_turn(value: str) -> Turn:
    speaker, sep, text = value.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError("a turn is SPEAKER:TEXT, e.g. 'agent:Hello'")
    try:
        return _check_turn(speaker.strip(), text.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _load_script(path: Path) -> list[Turn]:
    """Turns from JSON: ``[["agent", "..."], ...]`` or ``[{"speaker": ..., "text": ...}, ...]``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    turns: list[Turn] = []
    for item in data:
        if isinstance(item, dict):
            turns.append(_check_turn(str(item["speaker"]), str(item["text"])))
        else:
            speaker, text = item
            turns.append(_check_turn(str(speaker), str(text)))
    return turns


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("call", help="render a two-voice call to WAV")
    p.add_argument("out", type=Path)
    p.add_argument("--turn", type=_parse_turn, action="append", default=[], metavar="SPK:TEXT")
    p.add_argument("--script", type=Path, help="JSON list of [speaker, text] turns")
    p.add_argument("--rate", type=int, default=16000)
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("long", help="render a long call of about MINUTES minutes")
    p.add_argument("minutes", type=float)
    p.add_argument("out", type=Path)
    p.add_argument("--rate", type=int, default=16000)
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("split", help="stereo call: agent on the left, customer on the right")
    p.add_argument("out", type=Path)
    p.add_argument("--turn", type=_parse_turn, action="append", default=[], metavar="SPK:TEXT")
    p.add_argument("--script", type=Path, help="JSON list of [speaker, text] turns")
    p.add_argument("--fixture", choices=[c.name for c in FIXTURE_CALLS],
                   help="the turns of this fixture call")
    p.add_argument("--rate", type=int, default=8000)
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("telephone", help="8 kHz telephone-band copy of a WAV")
    p.add_argument("input", type=Path)
    p.add_argument("out", type=Path)

    p = sub.add_parser("stereo", help="stereo copy of a mono WAV (default 44.1 kHz)")
    p.add_argument("input", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--rate", type=int, default=44100)

    p = sub.add_parser("convert", help="re-encode with ffmpeg by output extension")
    p.add_argument("input", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--rate", type=int)
    p.add_argument("--channels", type=int)

    p = sub.add_parser("silence", help="digital silence WAV")
    p.add_argument("seconds", type=float)
    p.add_argument("out", type=Path)
    p.add_argument("--rate", type=int, default=16000)

    p = sub.add_parser("chord", help="music-like chord WAV (no speech)")
    p.add_argument("seconds", type=float)
    p.add_argument("out", type=Path)
    p.add_argument("--rate", type=int, default=16000)

    p = sub.add_parser("truncate", help="copy the first FRACTION of a file's bytes")
    p.add_argument("input", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--fraction", type=float, default=0.4)

    p = sub.add_parser("random-bytes", help="seeded random bytes, optionally after a prefix")
    p.add_argument("out", type=Path)
    p.add_argument("--size", type=int, default=20 * 1024)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--prefix-from", type=Path, help="start with bytes of this file")
    p.add_argument("--prefix-bytes", type=int, default=0, help="how many bytes of --prefix-from")

    p = sub.add_parser("fixtures", help="render the fixture calls (16k + 8k) and calls.json")
    p.add_argument("out_dir", type=Path)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    try:
        if args.command == "call":
            turns: list[Turn] = list(args.turn)
            if args.script is not None:
                turns = _load_script(args.script) + turns
            seconds = render_call(turns, args.out, args.rate, seed=args.seed)
            print(f"{args.out}: {seconds:.2f} s")
        elif args.command == "split":
            turns = [t for c in FIXTURE_CALLS if c.name == args.fixture for t in c.turns]
            if args.script is not None:
                turns += _load_script(args.script)
            seconds = split_stereo_call(turns + args.turn, args.out, args.rate, seed=args.seed)
            print(f"{args.out}: {seconds:.2f} s")
        elif args.command == "long":
            seconds = render_long_call(args.minutes, args.out, args.rate, seed=args.seed)
            print(f"{args.out}: {seconds:.2f} s")
        elif args.command == "telephone":
            seconds = telephone_copy(args.input, args.out)
            print(f"{args.out}: {seconds:.2f} s")
        elif args.command == "stereo":
            seconds = stereo_copy(args.input, args.out, args.rate)
            print(f"{args.out}: {seconds:.2f} s")
        elif args.command == "convert":
            convert(args.input, args.out, rate=args.rate, channels=args.channels)
            print(args.out)
        elif args.command == "silence":
            write_silence(args.out, args.seconds, args.rate)
            print(args.out)
        elif args.command == "chord":
            write_chord(args.out, args.seconds, args.rate)
            print(args.out)
        elif args.command == "truncate":
            kept = truncate_copy(args.input, args.out, args.fraction)
            print(f"{args.out}: {kept} bytes")
        elif args.command == "random-bytes":
            prefix = b""
            if args.prefix_from is not None:
                prefix = args.prefix_from.read_bytes()[: args.prefix_bytes]
            write_random_bytes(args.out, args.size, args.seed, prefix)
            print(args.out)
        elif args.command == "fixtures":
            args.out_dir.mkdir(parents=True, exist_ok=True)
            calls = render_fixture_calls(args.out_dir)
            manifest = args.out_dir / "calls.json"
            text = json.dumps(fixture_manifest(calls), indent=2) + "\n"
            manifest.write_text(text, encoding="utf-8")
            for name, entry in calls.items():
                print(f"{name}: {entry['duration_s']:.2f} s")
            print(manifest)
    except (SynthError, ValueError, OSError) as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
