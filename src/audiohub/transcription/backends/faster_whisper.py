"""faster-whisper (CTranslate2) transcription, fully offline."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

import faster_whisper as fw
import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel

from audiohub.config import WhisperSettings
from audiohub.domain import Segment, Transcript, Word
from audiohub.transcription import guard
from audiohub.transcription.audio import SAMPLE_RATE, DecodedAudio
from audiohub.transcription.chunking import chunk_bounds
from audiohub.transcription.models import resolve_model
from audiohub.transcription.vocabulary import decode_hints


@lru_cache(maxsize=4)
def _load(path: str, device: str, compute_type: str, cpu_threads: int) -> WhisperModel:
    """One model per process and configuration, shared by every hub built in it."""
    # No hub lookups: the weights are a local directory (see models.py).
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return WhisperModel(path, device=device, compute_type=compute_type, cpu_threads=cpu_threads)


def _segment(seg: fw.transcribe.Segment, index: int, offset: float) -> Segment:
    words = [
        Word(word=w.word, start=round(w.start + offset, 3), end=round(w.end + offset, 3),
             probability=round(w.probability, 4))
        for w in seg.words or []
    ]
    return Segment(id=index, start=round(seg.start + offset, 3), end=round(seg.end + offset, 3),
                   text=seg.text.strip(), words=words, no_speech_prob=seg.no_speech_prob,
                   avg_logprob=seg.avg_logprob)


class FasterWhisperTranscriber:
    """Whisper via faster-whisper: int8 on CPU, VAD on, word timestamps on.

    `condition_on_previous_text=False` keeps one misheard stretch from derailing the rest of a long
    call. BatchedInferencePipeline is not used: without VAD it dropped half the words of a
    4-minute call here.
    """

    name: ClassVar[str] = "faster-whisper"

    def __init__(self, settings: WhisperSettings, models_dir: Path,
                 allow_downloads: bool = False) -> None:
        self._settings = settings
        self._models_dir = models_dir
        # AUDIOHUB_ALLOW_DOWNLOADS: a model name no package holds may be fetched (models.py).
        self._allow_downloads = allow_downloads
        self._model: WhisperModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> WhisperModel:
        """The model, loaded on first use and then kept for the life of the process."""
        with self._lock:
            if self._model is None:
                # No hub lookups: the weights are a local directory (see models.py).
                path = resolve_model(self._settings.model, self._models_dir,
                                     self._allow_downloads)
                s = self._settings
                self._model = _load(str(path), s.device, s.compute_type, s.cpu_threads)
            return self._model

    def transcribe(self, audio: DecodedAudio, keyterms: Sequence[str] = ()) -> Transcript:
        out: list[Segment] = []
        language = self._settings.language or "en"
        for lo, hi in chunk_bounds(audio.samples):
            segments, info = self._transcribe_piece(audio.samples[lo:hi], keyterms)
            offset = lo / SAMPLE_RATE
            language = info.language
            for seg in segments:  # a generator: decoding happens as we iterate
                out.append(_segment(seg, len(out), offset))
        kept, flags = guard.clean(out)
        return Transcript.from_segments(kept, language=language, duration=audio.duration,
                                        flags=flags)

    def _transcribe_piece(
        self, samples: npt.NDArray[np.float32], keyterms: Sequence[str] = ()
    ) -> tuple[Iterable[fw.transcribe.Segment], fw.transcribe.TranscriptionInfo]:
        s = self._settings
        result: tuple[Iterable[fw.transcribe.Segment], fw.transcribe.TranscriptionInfo]
        result = self.model.transcribe(
            samples,
            language=s.language,
            beam_size=s.beam_size,
            vad_filter=s.vad_filter,
            vad_parameters=fw.vad.VadOptions(
                threshold=s.vad_threshold,
                min_silence_duration_ms=s.vad_min_silence_ms,
                speech_pad_ms=s.vad_speech_pad_ms,
            ),
            word_timestamps=True,
            condition_on_previous_text=False,
            **decode_hints(keyterms, s.keyterm_hint),
        )
        return result

    def load(self) -> None:
        _ = self.model

    def health(self) -> str:
        state = "loaded" if self._model is not None else "not loaded yet"
        return f"whisper {self._settings.model} ({state})"
