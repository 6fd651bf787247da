"""Decoding uploaded audio with PyAV (the FFmpeg bindings faster-whisper ships with).

Every format FFmpeg reads works (wav, mp3, m4a/aac, ogg/opus, flac ...), at any sample rate and
channel count; the result is always 16 kHz mono float32, what Whisper expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from audiohub.errors import EmptyUploadError, UnsupportedAudioError

SAMPLE_RATE = 16000
# A stream whose decoded length is under this share of what its header declares was cut short.
_TRUNCATION_TOLERANCE = 0.9
_EXTENSIONS = {"mov": "m4a", "matroska": "mka", "ogg": "ogg", "mp3": "mp3", "wav": "wav"}


@dataclass(frozen=True)
class DecodedAudio:
    """Audio ready for a transcriber, and what the container said about itself."""

    samples: npt.NDArray[np.float32]
    format_name: str
    codec: str
    source_rate: int
    channels: int

    @property
    def duration(self) -> float:
        return len(self.samples) / SAMPLE_RATE

    @property
    def extension(self) -> str:
        """A file extension for the container (FFmpeg names some formats as lists)."""
        first = self.format_name.split(",")[0]
        return _EXTENSIONS.get(first, first)


def decode_file(path: Path) -> DecodedAudio:
    """Decode `path` to 16 kHz mono float32.

    Raises:
        EmptyUploadError: the file has no bytes.
        UnsupportedAudioError: not audio, no audio stream, corrupt or truncated data.
    """
    if path.stat().st_size == 0:
        raise EmptyUploadError("the uploaded file is empty (0 bytes)")
    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            if not container.streams.audio:
                raise UnsupportedAudioError("the file has no audio stream")
            stream = container.streams.audio[0]
            declared = _declared_seconds(container, stream)
            samples = _decode_stream(container, stream, declared)
            format_name = container.format.name
            codec = stream.codec_context.name
            rate = stream.codec_context.sample_rate or 0
            channels = stream.codec_context.channels or 0
    except av.FFmpegError as exc:
        raise UnsupportedAudioError(
            f"could not decode the file as audio ({exc.__class__.__name__}): upload wav, mp3, "
            "m4a, ogg/opus or flac"
        ) from exc
    if samples.size == 0:
        raise UnsupportedAudioError("the file decoded to no audio samples: it is empty or corrupt")
    _check_wav_complete(path)
    decoded_s = samples.size / SAMPLE_RATE
    if declared and declared > 1.0 and decoded_s < declared * _TRUNCATION_TOLERANCE:
        raise UnsupportedAudioError(
            f"the audio is truncated: its header declares {declared:.1f} s but only "
            f"{decoded_s:.1f} s could be decoded"
        )
    return DecodedAudio(samples, format_name, codec, rate, channels)


def _check_wav_complete(path: Path) -> None:
    """FFmpeg quietly clips a WAV's data chunk to the bytes present, so a cut-off upload would
    decode "successfully"; the RIFF header still says how long the data should be."""
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return
        while chunk := f.read(8):
            if len(chunk) < 8:
                return
            size = int.from_bytes(chunk[4:8], "little")
            if chunk[:4] == b"data":
                present = path.stat().st_size - f.tell()
                # 0 and 0xFFFFFFFF mean "unknown length" in streamed WAVs: nothing to compare.
                if 0 < size < 0xFFFFFFFF and present < size * _TRUNCATION_TOLERANCE:
                    raise UnsupportedAudioError(
                        f"the WAV file is truncated: its header declares {size} bytes of audio "
                        f"but only {present} are present"
                    )
                return
            f.seek(size + (size & 1), 1)


def _declared_seconds(container: av.container.InputContainer, stream: av.AudioStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def _decode_stream(
    container: av.container.InputContainer, stream: av.AudioStream, declared_s: float
) -> npt.NDArray[np.float32]:
    """Resample while decoding, straight into one buffer sized from the header.

    A one-hour call is 230 MB at 16 kHz float32; collecting frames and concatenating them would
    hold it twice, and the source rate (44.1 kHz stereo) even more.
    """
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    buf = np.empty(int(declared_s * SAMPLE_RATE) + SAMPLE_RATE, dtype=np.float32)
    used = 0

    def put(frames: list[av.AudioFrame]) -> None:
        nonlocal buf, used
        for out in frames:
            pcm = out.to_ndarray().reshape(-1)
            if used + pcm.size > buf.size:  # the header under-declared: grow geometrically
                buf = np.resize(buf, max(buf.size * 2, used + pcm.size))
            buf[used:used + pcm.size] = pcm
            used += pcm.size

    for frame in container.decode(stream):
        put(resampler.resample(frame))
    put(resampler.resample(None))
    return buf[:used].copy() if used < buf.size // 2 else buf[:used]
