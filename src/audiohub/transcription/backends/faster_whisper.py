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
from audiohub.transcription.chunking import CHUNK_S, chunk_bounds
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
                   avg_logprob=seg.avg_logprob, compression_ratio=seg.compression_ratio)


class FasterWhisperTranscriber:
    """Whisper via faster-whisper: int8 on CPU, VAD on, word timestamps on.

    `condition_on_previous_text=False` keeps one misheard stretch from derailing the rest of a long
    call. On a GPU (WHISPER_DEVICE=cuda) faster-whisper's BatchedInferencePipeline decodes
    WHISPER_BATCH_SIZE VAD chunks at once, always with VAD (without it, it dropped half the words
    of a 4-minute call here); on a CPU batching buys nothing, so the sequential decoder is kept.
    `batched` overrides the choice (the tests run the batched path on a CPU).
    """

    name: ClassVar[str] = "faster-whisper"

    def __init__(self, settings: WhisperSettings, models_dir: Path,
                 allow_downloads: bool = False, batched: bool | None = None) -> None:
        self._settings = settings
        self.batched = settings.device == "cuda" if batched is None else batched
        self._models_dir = models_dir
        # AUDIOHUB_ALLOW_DOWNLOADS: a model name no package holds may be fetched (models.py).
        self._allow_downloads = allow_downloads
        self._model: WhisperModel | None = None
        self._pipeline: fw.BatchedInferencePipeline | None = None
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

    @property
    def pipeline(self) -> fw.BatchedInferencePipeline:
        """The batched pipeline around the same model, made on first use."""
        model = self.model
        with self._lock:
            if self._pipeline is None:
                self._pipeline = fw.BatchedInferencePipeline(model)
            return self._pipeline

    def transcribe(self, audio: DecodedAudio, keyterms: Sequence[str] = (), *,
                   deterministic: bool = False) -> Transcript:
        out: list[Segment] = []
        # WHISPER_LANGUAGE=auto (None): the first piece's detected language holds for the rest
        # of the call, so a long call is not split between languages by a noisy piece.
        language = self._settings.language
        # Batched decoding fills WHISPER_BATCH_SIZE 30 s windows at once: a piece that short
        # would leave the GPU idle. A GPU host holds the larger piece's features easily.
        chunk_s = max(CHUNK_S, 30.0 * self._settings.batch_size) if self.batched else CHUNK_S
        for lo, hi in chunk_bounds(audio.samples, chunk_s):
            segments, info = self._transcribe_piece(audio.samples[lo:hi], keyterms, language,
                                                    deterministic)
            offset = lo / SAMPLE_RATE
            language = language or info.language
            for seg in segments:  # a generator: decoding happens as we iterate
                out.append(_segment(seg, len(out), offset))
        kept, flags = guard.clean(out)
        return Transcript.from_segments(kept, language=language or "en",
                                        duration=audio.duration, flags=flags)

    def _transcribe_piece(
        self, samples: npt.NDArray[np.float32], keyterms: Sequence[str], language: str | None,
        deterministic: bool = False,
    ) -> tuple[Iterable[fw.transcribe.Segment], fw.transcribe.TranscriptionInfo]:
        s = self._settings
        # faster-whisper's default falls back to temperatures 0.2 ... 1.0, which sample: a
        # deterministic decode keeps temperature 0 (its best beam when the checks fail).
        temperature = {"temperature": 0.0} if deterministic else {}
        vad = fw.vad.VadOptions(threshold=s.vad_threshold,
                                min_silence_duration_ms=s.vad_min_silence_ms,
                                speech_pad_ms=s.vad_speech_pad_ms)
        result: tuple[Iterable[fw.transcribe.Segment], fw.transcribe.TranscriptionInfo]
        if self.batched:
            # Always with VAD: the batches are its speech chunks.
            result = self.pipeline.transcribe(
                samples, language=language, beam_size=s.beam_size, vad_parameters=vad,
                word_timestamps=True, condition_on_previous_text=False,
                batch_size=s.batch_size, **temperature, **decode_hints(keyterms, s.keyterm_hint))
            return result
        result = self.model.transcribe(
            samples,
            language=language,
            beam_size=s.beam_size,
            vad_filter=s.vad_filter,
            vad_parameters=vad,
            word_timestamps=True,
            condition_on_previous_text=False,
            **temperature,
            **decode_hints(keyterms, s.keyterm_hint),
        )
        return result

    def load(self) -> None:
        _ = self.model

    def health(self) -> str:
        state = "loaded" if self._model is not None else "not loaded yet"
        return f"whisper {self._settings.model} ({state})"
