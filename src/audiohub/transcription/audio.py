"""Decoding uploaded audio with PyAV (the FFmpeg bindings faster-whisper ships with).

Every format FFmpeg reads works (wav, mp3, m4a/aac, ogg/opus, flac ...), at any sample rate and
channel count; the result is always 16 kHz mono float32, what Whisper expects. Two-channel input
also keeps each channel's loudness over time (`channel_energy`), which is what tells the parties
of a call-centre stereo recording apart (see speakers.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from audiohub.errors import EmptyUploadError, UnsupportedAudioError

SAMPLE_RATE = 16000
ENERGY_RATE = 100  # channel_energy frames per second: 10 ms, finer than Whisper's word timings
# A stream whose decoded length is under this share of what its header declares was cut short.
_TRUNCATION_TOLERANCE = 0.9
_MAX_RESERVE_S = 4 * 3600.0
_EXTENSIONS = {"mov": "m4a", "matroska": "mka", "ogg": "ogg", "mp3": "mp3", "wav": "wav"}


@dataclass(frozen=True)
class DecodedAudio:
    """Audio ready for a transcriber, and what the container said about itself."""

    samples: npt.NDArray[np.float32]
    format_name: str
    codec: str
    source_rate: int
    channels: int
    # Two-channel input only: each channel's RMS per 10 ms of the original (not downmixed)
    # signal, shape (2, frames), ENERGY_RATE frames a second. None for any other channel count.
    channel_energy: npt.NDArray[np.float32] | None = None

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
            rate = stream.codec_context.sample_rate or 0
            channels = stream.codec_context.channels or 0
            meter = _ChannelEnergy(rate, declared) if channels == 2 and rate >= 100 else None
            samples = _decode_stream(container, stream, declared, meter)
            format_name = container.format.name
            codec = stream.codec_context.name
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
    energy = meter.envelope() if meter is not None else None
    return DecodedAudio(samples, format_name, codec, rate, channels, energy)


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
    container: av.container.InputContainer, stream: av.AudioStream, declared_s: float,
    meter: _ChannelEnergy | None = None,
) -> npt.NDArray[np.float32]:
    """Resample while decoding, straight into one buffer sized from the header.

    A one-hour call is 230 MB at 16 kHz float32; collecting frames and concatenating them would
    hold it twice, and the source rate (44.1 kHz stereo) even more. `meter`, if given, sees each
    original frame before the downmix.
    """
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    # A header can claim anything: never reserve more than _MAX_RESERVE_S up front (the buffer
    # grows if the audio really is longer).
    reserve_s = min(max(declared_s, 0.0), _MAX_RESERVE_S)
    buf = np.empty(int(reserve_s * SAMPLE_RATE) + SAMPLE_RATE, dtype=np.float32)
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
        if meter is not None:
            meter.add(frame)
        put(resampler.resample(frame))
    put(resampler.resample(None))
    return buf[:used].copy() if used < buf.size // 2 else buf[:used]


class _ChannelEnergy:
    """Per-channel RMS over 10 ms frames of a two-channel stream, fed one decoded frame at a time.

    Only a sum of squares per channel and 10 ms is kept (2 x 100 float32 a second: 2.9 MB for an
    hour), never the stereo samples, which at 44.1 kHz would be 1.3 GB as float32.
    """

    def __init__(self, rate: int, declared_s: float) -> None:
        self._rate = rate
        self._sums = np.zeros((2, int(declared_s * ENERGY_RATE) + ENERGY_RATE), dtype=np.float32)
        self._seen = 0  # samples per channel so far
        self._usable = True

    def add(self, frame: av.AudioFrame) -> None:
        if not self._usable:
            return
        if frame.layout.nb_channels != 2 or frame.sample_rate != self._rate:
            # A stream that changes shape midway: no envelope rather than a misaligned one.
            self._usable = False
            return
        pcm = _float_channels(frame)
        n = pcm.shape[1]
        if n == 0:
            return
        # Sample i belongs to frame i * 100 // rate, so frame k starts at ceil(k * rate / 100);
        # rates that are no multiple of 100 (11025 Hz) give frames of unequal length, which
        # envelope() divides by their own sample counts.
        first = self._seen * ENERGY_RATE // self._rate
        last = (self._seen + n - 1) * ENERGY_RATE // self._rate
        starts = -(-np.arange(first, last + 1, dtype=np.int64) * self._rate // ENERGY_RATE)
        starts = np.maximum(starts - self._seen, 0)  # the first may have begun in an earlier frame
        if last >= self._sums.shape[1]:  # the header under-declared: grow geometrically
            grown = np.zeros((2, max(2 * self._sums.shape[1], last + 1)), dtype=np.float32)
            grown[:, :self._sums.shape[1]] = self._sums
            self._sums = grown
        self._sums[:, first:last + 1] += np.add.reduceat(np.square(pcm), starts, axis=1)
        self._seen += n

    def envelope(self) -> npt.NDArray[np.float32] | None:
        """The (2, frames) RMS envelope; None if the stream changed shape or had no samples."""
        if not self._usable or self._seen == 0:
            return None
        n = -(-self._seen * ENERGY_RATE // self._rate)
        rms = self._sums[:, :n]  # in place: the sums are not needed any more
        # In blocks, so the per-frame sample counts never cost more than a few hundred kB.
        for lo in range(0, n, 1 << 15):
            k = np.arange(lo, min(n, lo + (1 << 15)) + 1, dtype=np.int64)
            edges = np.minimum(-(-k * self._rate // ENERGY_RATE), self._seen)
            rms[:, lo:lo + len(k) - 1] /= np.maximum(np.diff(edges), 1).astype(np.float32)
        np.sqrt(rms, out=rms)
        return rms.copy() if n < self._sums.shape[1] // 2 else rms


def _float_channels(frame: av.AudioFrame) -> npt.NDArray[np.float32]:
    """A frame's samples as float32 in [-1, 1], shape (channels, samples), whatever its format."""
    data: npt.NDArray[Any] = frame.to_ndarray()
    if not frame.format.is_planar:  # packed: one row of interleaved samples
        data = data.reshape(-1, frame.layout.nb_channels).T
    out = data.astype(np.float32)
    if data.dtype.kind == "u":  # 8-bit PCM is offset binary: 128 is silence
        out -= 128.0
    if data.dtype.kind in "iu":
        out /= float(2 ** (8 * data.dtype.itemsize - 1))
    return out
