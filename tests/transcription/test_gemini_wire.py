"""Gemini transcriber WIRE-FORMAT tests (TRANSCRIBER=gemini, the seed's stage 1): the official
google-genai SDK talks to a local server speaking Gemini's REST wire format
(tests/fakes/gemini_server.py), since there is no network here. A real fixture recording is
decoded and sent; the tests check what goes over the wire (inline audio under the limit, the
Files API's resumable upload above it, the candidate pairs, the response schema) and what comes
back: transcript, classification, token usage, interpolated and flagged word times. The scripted
answers stand in for Gemini's judgement, which these tests do not check."""

from __future__ import annotations

import base64
import io
import itertools
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from audiohub.config import LLMSettings
from audiohub.domain import TokenCount
from audiohub.errors import ConfigurationError
from audiohub.prompts.library import load_library
from audiohub.transcription.audio import DecodedAudio, decode_file
from audiohub.transcription.backends import get_transcriber
from audiohub.transcription.backends.gemini import INTERPOLATED, GeminiTranscriber
from audiohub.transcription.base import DetectingTranscriber
from tests.conftest import AUDIO, make_settings
from tests.fakes.gemini_server import GeminiServer, Reply, answer, schema_problems

SEGMENTS = [
    {"speaker": "agent", "start": 0.2, "end": 2.1, "text": "City Clinic, how can I help?"},
    {"speaker": "customer", "start": 2.4, "end": 7.0,
     "text": "Hi, my name is Maria Lopez. I need an appointment with Doctor Patel."},
    {"speaker": "agent", "start": 7.3, "end": 9.0, "text": "Sure, what is the reason?"},
]
DETECTED = {"language": "en", "segments": SEGMENTS, "domain": "healthcare",
            "category": "appointment_scheduling", "confidence": 0.92,
            "runner_up_confidence": 0.2}


@pytest.fixture(scope="module")
def call() -> DecodedAudio:
    return decode_file(AUDIO / "healthcare_appointment_16k.wav")


def settings(server: GeminiServer, **kw: Any) -> LLMSettings:
    return LLMSettings(GEMINI_API_KEY="test-key", GEMINI_BASE_URL=server.url,
                       GEMINI_MODEL="gemini-2.0-flash", GEMINI_TIMEOUT=5, **kw)


def transcriber(server: GeminiServer, **kw: Any) -> GeminiTranscriber:
    return GeminiTranscriber(settings(server), backoff_seconds=0.05, poll_seconds=0.05, **kw)


def _b64(text: str) -> bytes:
    """Proto JSON bytes: the SDK sends URL-safe base64 (Gemini's proto JSON parser takes both
    alphabets)."""
    return base64.urlsafe_b64decode(text)


def _wav_bytes(data: bytes) -> tuple[int, int, int, int]:
    with wave.open(io.BytesIO(data)) as w:
        return w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()


def test_wire_inline_audio_under_the_limit_gives_transcript_and_classification(
        gemini: GeminiServer, call: DecodedAudio) -> None:
    gemini.script = [answer(DETECTED, prompt_tokens=1200, output_tokens=180)]
    candidates = load_library()
    transcript, detected, tokens = transcriber(gemini).transcribe_and_detect(call, candidates)

    (sent,) = gemini.generate_requests()
    assert not [r for r in gemini.requests if "/files" in r.path]  # no Files API
    audio, prompt = sent.body["contents"][0]["parts"]
    assert audio["inlineData"]["mimeType"] == "audio/wav"
    channels, width, rate, frames = _wav_bytes(_b64(audio["inlineData"]["data"]))
    assert (channels, width, rate, frames) == (1, 2, 16000, len(call.samples))
    assert all(f"- {c.domain}/{c.category}: {c.description}" in prompt["text"]
               for c in candidates)
    config = sent.body["generationConfig"]
    assert schema_problems(config["responseSchema"]) == []
    assert {"segments", "domain", "category", "confidence"} <= set(
        config["responseSchema"]["properties"])
    assert config["maxOutputTokens"] >= 1024

    assert transcript.text.startswith("City Clinic, how can I help? Hi, my name is Maria Lopez")
    assert [s.speaker for s in transcript.segments] == ["agent", "customer", "agent"]
    assert transcript.language == "en" and transcript.duration == pytest.approx(call.duration)
    assert detected is not None
    assert (detected.domain, detected.category) == ("healthcare", "appointment_scheduling")
    assert detected.score == pytest.approx(0.92) and detected.margin == pytest.approx(0.72)
    assert tokens == TokenCount(input_tokens=1200, output_tokens=180, total_tokens=1380)


def test_wire_words_are_interpolated_over_segment_time_and_flagged(
        gemini: GeminiServer, call: DecodedAudio) -> None:
    gemini.script = [answer(DETECTED)]
    transcript, _, _ = transcriber(gemini).transcribe_and_detect(call, load_library())
    assert INTERPOLATED in transcript.notes and not transcript.word_probabilities
    seg = transcript.segments[1]
    words = seg.words
    assert [w.word.strip() for w in words] == seg.text.split()
    assert words[0].start == seg.start and words[-1].end == pytest.approx(seg.end, abs=1e-3)
    assert all(a.end == pytest.approx(b.start, abs=1e-3) for a, b in itertools.pairwise(words))
    per_char = [(w.end - w.start) / len(w.word.strip()) for w in words]
    assert max(per_char) - min(per_char) < 1e-2  # time in proportion to length
    timed = transcript.timed_words()
    assert transcript.text[timed[3].char_start:timed[3].char_end] == timed[3].text


def test_wire_files_api_above_the_limit(gemini: GeminiServer, call: DecodedAudio) -> None:
    gemini.script = [answer(DETECTED)]
    gemini.processing_polls = 2  # the file says PROCESSING twice before ACTIVE
    small = transcriber(gemini, inline_limit=100_000)  # the fixture's WAV is ~496 kB
    transcript, detected, _ = small.transcribe_and_detect(call, load_library())

    calls = [(r.method, r.path) for r in gemini.requests]
    start, chunk = gemini.requests[0], gemini.requests[1]
    assert calls[:2] == [("POST", "/upload/v1beta/files")] * 2
    assert start.headers["x-goog-upload-protocol"] == "resumable"
    assert start.headers["x-goog-upload-command"] == "start"
    assert start.headers["x-goog-upload-header-content-type"] == "audio/wav"
    wav_size = 44 + 2 * len(call.samples)
    assert int(start.headers["x-goog-upload-header-content-length"]) == wav_size
    assert chunk.headers["x-goog-upload-command"] == "upload, finalize"
    assert chunk.body == wav_size  # the bytes went in the upload, not in generateContent
    assert calls.count(("GET", calls[2][1])) == 2 and calls[2][1].startswith("/v1beta/files/")
    (sent,) = gemini.generate_requests()
    file_data = sent.body["contents"][0]["parts"][0]["fileData"]
    assert file_data["mimeType"] == "audio/wav"
    assert file_data["fileUri"].endswith(calls[2][1])
    assert "inlineData" not in str(sent.body)
    assert calls[-1] == ("DELETE", calls[2][1])  # uploaded audio is not left at Google
    assert transcript.text and detected is not None


def test_wire_transcribe_without_candidates_asks_no_classification(
        gemini: GeminiServer, call: DecodedAudio) -> None:
    gemini.script = [answer({"language": "en", "segments": SEGMENTS})]
    gem = transcriber(gemini)
    transcript = gem.transcribe(call)
    assert len(transcript.segments) == 3
    props = gemini.generate_requests()[0].body["generationConfig"]["responseSchema"]["properties"]
    assert "domain" not in props
    assert "Candidates" not in str(gemini.generate_requests()[0].body["contents"])
    assert isinstance(gem, DetectingTranscriber)


def test_wire_keyterms_are_named_in_every_piece_prompt(gemini: GeminiServer,
                                                       call: DecodedAudio) -> None:
    samples = np.concatenate([call.samples, call.samples])
    long_call = DecodedAudio(samples, "wav", "pcm_s16le", 16000, 1)
    gemini.script = [answer(DETECTED), answer({"language": "en", "segments": SEGMENTS[:1]})]
    transcriber(gemini, chunk_seconds=20).transcribe_and_detect(
        long_call, load_library(), ["Maria Lopez", "Doctor Patel"])
    prompts = [r.body["contents"][0]["parts"][1]["text"] for r in gemini.generate_requests()]
    assert len(prompts) == 2
    for prompt in prompts:
        assert "write it spelled exactly so: Maria Lopez; Doctor Patel." in prompt
    gemini.reset()
    gemini.script = [answer({"language": "en", "segments": SEGMENTS})]
    transcriber(gemini).transcribe(call)
    assert "spelled exactly" not in str(gemini.generate_requests()[0].body["contents"])


def test_wire_unknown_pair_is_returned_as_is(gemini: GeminiServer, call: DecodedAudio) -> None:
    gemini.script = [answer({**DETECTED, "domain": "Telecom", "category": "SIM swap"})]
    _, detected, _ = transcriber(gemini).transcribe_and_detect(call, load_library())
    assert detected is not None
    assert (detected.domain, detected.category) == ("telecom", "sim_swap")


def test_wire_truncated_answer_keeps_complete_segments_with_a_reason(
        gemini: GeminiServer, call: DecodedAudio) -> None:
    text = answer(DETECTED).text
    cut = text[:text.index('"Sure')]  # cut inside the third segment, before domain/category
    gemini.script = [Reply(text=cut, finish_reason="MAX_TOKENS", output_tokens=400),
                     Reply(text=cut, finish_reason="MAX_TOKENS", output_tokens=400)]
    transcript, detected, tokens = transcriber(gemini).transcribe_and_detect(
        call, load_library())
    assert [s.text for s in transcript.segments] == [s["text"] for s in SEGMENTS[:2]]
    problem = [f for f in transcript.flags if "not valid" in f]
    assert len(problem) == 1 and "max_tokens" in problem[0]
    assert detected is None  # never answered: the analyzer classifies the text instead
    assert tokens.output_tokens == 800  # both attempts counted


def test_wire_long_call_goes_in_pieces_with_times_offset(gemini: GeminiServer,
                                                         call: DecodedAudio) -> None:
    samples = np.concatenate([call.samples, decode_file(
        AUDIO / "banking_card_block_16k.wav").samples])
    long_call = DecodedAudio(samples, "wav", "pcm_s16le", 16000, 1)
    gemini.script = [answer(DETECTED), answer({"language": "en", "segments": SEGMENTS[:1]})]
    transcript, detected, tokens = transcriber(gemini, chunk_seconds=20).transcribe_and_detect(
        long_call, load_library())
    first, second = gemini.generate_requests()
    assert "Candidates" in first.body["contents"][0]["parts"][1]["text"]
    assert "Candidates" not in second.body["contents"][0]["parts"][1]["text"]
    second_frames = _wav_bytes(_b64(
        second.body["contents"][0]["parts"][0]["inlineData"]["data"]))[3]
    offset = (len(samples) - second_frames) / 16000
    assert 14 < offset < 26  # cut in a pause near 20 s
    last = transcript.segments[-1]
    assert last.start == pytest.approx(offset + 0.2, abs=1e-3)
    assert detected is not None and detected.domain == "healthcare"
    assert tokens.total_tokens == 240


def test_missing_gemini_api_key_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="set GEMINI_API_KEY or choose TRANSCRIBER"):
        GeminiTranscriber(LLMSettings(GEMINI_API_KEY=None))
    with pytest.raises(ConfigurationError, match="GEMINI_API_KEY"):
        get_transcriber(make_settings(tmp_path, transcriber="gemini",
                                      llm=LLMSettings(GEMINI_API_KEY=None)))


def test_wire_transcriber_registered_as_gemini(gemini: GeminiServer, tmp_path: Path) -> None:
    built = get_transcriber(make_settings(tmp_path, transcriber="gemini", llm=settings(gemini)))
    assert isinstance(built, GeminiTranscriber) and built.name == "gemini"
    assert "gemini-2.0-flash" in built.health()
