"""The transcription backend contract: audio in, a timed transcript out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol, runtime_checkable

from audiohub.domain import CategorySpec, Classification, TokenCount, Transcript
from audiohub.transcription.audio import DecodedAudio


class Transcriber(Protocol):
    """Turns decoded 16 kHz mono audio into a transcript with word timings.

    Implementations load their model once (at construction or first use) and are safe to call
    from worker threads.
    """

    name: ClassVar[str]

    def transcribe(self, audio: DecodedAudio, keyterms: Sequence[str] = (), *,
                   deterministic: bool = False) -> Transcript:
        """Transcribe the whole recording.

        Args:
            audio: samples from `audiohub.transcription.audio.decode_file`.
            keyterms: words to expect (names, products, codes): a decoding hint where the
                backend takes one, ignored where it does not.
            deterministic: never sample (Whisper's fallback to higher temperatures draws at
                random): the same audio gives the same words every time. The coverage check's
                re-decode of a short hard stretch asks for this, where sampling gives noise.

        Returns:
            The transcript; empty text and no segments when nobody speaks.
        """
        ...

    def load(self) -> None:
        """Load models now, so the first request does not pay for it (idempotent)."""
        ...

    def health(self) -> str:
        """A one-line status for GET /health (model name and whether it is loaded)."""
        ...


@runtime_checkable
class DetectingTranscriber(Protocol):
    """A transcriber that also tells the domain and category in the same call (the seed's
    stage 1 on Gemini: audio in, transcript + domain + category out)."""

    def transcribe_and_detect(
        self, audio: DecodedAudio, candidates: Sequence[CategorySpec],
        keyterms: Sequence[str] = (),
    ) -> tuple[Transcript, Classification | None, TokenCount]:
        """Returns the transcript, the pair (None if the model gave none: the analyzer then
        classifies) and the tokens the call used."""
        ...
