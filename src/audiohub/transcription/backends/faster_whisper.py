"""faster-whisper (CTranslate2) transcription, fully offline."""

from __future__ import annotations

import os
import threading
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

from faster_whisper import WhisperModel

from audiohub.config import WhisperSettings
from audiohub.domain import Segment, Transcript, Word
from audiohub.transcription.audio import DecodedAudio
from audiohub.transcription.models import resolve_model


@lru_cache(maxsize=4)
def _load(path: str, device: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    """One model per process and configuration, shared by every hub built in it."""
    # No hub lookups: the weights are a local directory (see models.py).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads)


class FasterWhisperTranscriber:
    """Whisper via faster-whisper: int8 on CPU, VAD on, word timestamps on.

    `condition_on_previous_text=False` keeps one misheard stretch from derailing the rest of a long
    call. BatchedInferencePipeline is not used: without VAD it dropped half the words of a
    4-minute call here.
    """

    name: ClassVar[str] = "faster-whisper"

    def __init__(self, settings: WhisperSettings, models_dir: Path) -> None:
        self._settings = settings
        self._models_dir = models_dir
        self._model: WhisperModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> WhisperModel:
        """The model, loaded on first use and then kept for the life of the process."""
        with self._lock:
            if self._model is None:
                # No hub lookups: the weights are a local directory (see models.py).
                path = resolve_model(self._settings.model, self._models_dir)
                s = self._settings
                self._model = _load(str(path), s.device, s.compute_type, s.cpu_threads)
            return self._model

    def transcribe(self, audio: DecodedAudio) -> Transcript:
        s = self._settings
        segments, info = self.model.transcribe(
            audio.samples,
            language=s.language,
            beam_size=s.beam_size,
            vad_filter=s.vad_filter,
            word_timestamps=True,
            condition_on_previous_text=False,
        )
        out: list[Segment] = []
        for seg in segments:  # a generator: decoding happens as we iterate
            words = [
                Word(word=w.word, start=round(w.start, 3), end=round(w.end, 3),
                     probability=round(w.probability, 4))
                for w in seg.words or []
            ]
            out.append(Segment(id=len(out), start=round(seg.start, 3), end=round(seg.end, 3),
                               text=seg.text.strip(), words=words,
                               no_speech_prob=seg.no_speech_prob, avg_logprob=seg.avg_logprob))
        return Transcript.from_segments(out, language=info.language, duration=audio.duration)

    def load(self) -> None:
        _ = self.model

    def health(self) -> str:
        state = "loaded" if self._model is not None else "not loaded yet"
        return f"whisper {self._settings.model} ({state})"
