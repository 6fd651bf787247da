"""faster-whisper with the bundled tiny.en model, on the committed synthetic calls."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from audiohub.config import WhisperSettings
from audiohub.domain import Transcript
from audiohub.transcription.audio import decode_file
from audiohub.transcription.backends.faster_whisper import FasterWhisperTranscriber

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"


@pytest.fixture(scope="module")
def transcriber(tmp_path_factory: pytest.TempPathFactory) -> FasterWhisperTranscriber:
    return FasterWhisperTranscriber(WhisperSettings(), tmp_path_factory.mktemp("data"))


def _transcribe(t: FasterWhisperTranscriber, name: str) -> Transcript:
    return t.transcribe(decode_file(AUDIO / name))


def test_transcript_has_text_segments_and_timed_words(
    transcriber: FasterWhisperTranscriber, manifest: dict[str, Any]
) -> None:
    call = manifest["calls"]["healthcare_appointment"]
    tr = _transcribe(transcriber, call["files"]["16k"])
    assert tr.language == "en"
    assert tr.duration == pytest.approx(call["duration_s"], abs=0.1)
    text = tr.text.lower()
    for expected in ("maria lopez", "patel", "back pain", "tuesday"):
        assert expected in text
    assert tr.segments and all(s.words for s in tr.segments)
    words = [w for s in tr.segments for w in s.words]
    assert all(0 <= w.start <= w.end <= tr.duration + 0.5 for w in words)
    assert [w.start for w in words] == sorted(w.start for w in words)
    assert all(0.0 <= w.probability <= 1.0 for w in words)
    # The text is the segments joined, so offsets computed from words slice it exactly.
    for tw in tr.timed_words():
        assert tr.text[tw.char_start:tw.char_end] == tw.text


def test_phone_audio_8k_is_transcribed(
    transcriber: FasterWhisperTranscriber, manifest: dict[str, Any]
) -> None:
    tr = _transcribe(transcriber, manifest["calls"]["banking_card_block"]["files"]["8k"])
    assert len(tr.text.split()) > 10
    assert tr.segments[0].words


@pytest.mark.parametrize("name", ["silence_5s.wav", "tone_5s.wav"])
def test_no_speech_gives_an_empty_transcript(
    transcriber: FasterWhisperTranscriber, name: str
) -> None:
    tr = _transcribe(transcriber, name)
    assert tr.text == ""
    assert tr.segments == []
    assert tr.duration == pytest.approx(5.0, abs=0.05)


def test_model_is_loaded_once_per_process(tmp_path: Path) -> None:
    a = FasterWhisperTranscriber(WhisperSettings(), tmp_path)
    b = FasterWhisperTranscriber(WhisperSettings(), tmp_path)
    assert a.model is b.model
    assert "loaded" in a.health()


def test_vad_settings_reach_faster_whisper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WHISPER_VAD_* are passed as Silero VAD options; their defaults are faster-whisper's."""
    monkeypatch.setenv("WHISPER_VAD_MIN_SILENCE_MS", "500")
    settings = WhisperSettings()
    assert (settings.vad_threshold, settings.vad_min_silence_ms, settings.vad_speech_pad_ms) \
        == (0.5, 500, 400)
    t = FasterWhisperTranscriber(settings, tmp_path)
    seen: dict[str, Any] = {}

    def fake(samples: Any, **kwargs: Any) -> tuple[list[Any], Any]:
        seen.update(kwargs)
        return [], type("Info", (), {"language": "en"})()

    monkeypatch.setattr(t.model, "transcribe", fake)
    t.transcribe(decode_file(AUDIO / "silence_5s.wav"))
    vad = seen["vad_parameters"]
    assert (vad.threshold, vad.min_silence_duration_ms, vad.speech_pad_ms) == (0.5, 500, 400)


def test_the_batched_pipeline_is_chosen_for_cuda_and_transcribes(
        tmp_path: Path, manifest: dict[str, Any]) -> None:
    """WHISPER_DEVICE=cuda takes BatchedInferencePipeline; here its path runs on the CPU."""
    assert FasterWhisperTranscriber(WhisperSettings(device="cuda"), tmp_path).batched
    assert not FasterWhisperTranscriber(WhisperSettings(), tmp_path).batched
    t = FasterWhisperTranscriber(WhisperSettings(batch_size=4), tmp_path, batched=True)
    call = manifest["calls"]["healthcare_appointment"]
    tr = _transcribe(t, call["files"]["16k"])
    text = tr.text.lower()
    for expected in ("maria lopez", "patel", "back pain", "tuesday"):
        assert expected in text
    words = [w for s in tr.segments for w in s.words]
    assert words and [w.start for w in words] == sorted(w.start for w in words)
    assert all(s.avg_logprob < 0 and s.compression_ratio > 0 for s in tr.segments)
    for tw in tr.timed_words():
        assert tr.text[tw.char_start:tw.char_end] == tw.text


def test_auto_language_detects_german(tmp_path: Path) -> None:
    """WHISPER_LANGUAGE=auto with a multilingual model (base): the call's own language."""
    settings = WhisperSettings(model="base", language="auto")
    assert settings.language is None
    tr = FasterWhisperTranscriber(settings, tmp_path).transcribe(
        decode_file(AUDIO / "german_library_16k.opus"))
    assert tr.language == "de"
    assert "guten tag" in tr.text.lower()
