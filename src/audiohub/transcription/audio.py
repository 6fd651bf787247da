"""Decoding uploaded audio with PyAV (the FFmpeg bindings faster-whisper ships with).

Every format FFmpeg reads works (wav, mp3, m4a/aac, ogg/opus, flac ...), at any sample rate from
2 to 768 kHz and any channel count; the result is always 16 kHz mono float32, what Whisper
expects. Two-channel input also keeps each channel's loudness over time (`channel_energy`),
which is what tells the parties of a call-centre stereo recording apart (see speakers.py).

Work is bounded by the recording's length, never by what its header claims: headers are checked
first (headers.py), the length is capped (MAX_AUDIO_MINUTES) before and while decoding.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from audiohub.errors import AudioTooLongError, EmptyUploadError, UnsupportedAudioError
from audiohub.transcription.headers import TRUNCATION_TOLERANCE, check_shape, check_wav_sizes

SAMPLE_RATE = 16000
ENERGY_RATE = 100  # channel_energy frames per second: 10 ms, finer than Whisper's word timings
# MAX_AUDIO_MINUTES's default, for callers without settings (tests, scripts).
DEFAULT_MAX_SECONDS = 240 * 60.0
# Decoded audio may run this far past the cap: codecs pad their last frame, resamplers flush.
_CAP_SLACK_S = 1.0
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


def decode_file(path: Path, max_seconds: float = DEFAULT_MAX_SECONDS) -> DecodedAudio:
    """Decode `path` to 16 kHz mono float32, refusing recordings longer than `max_seconds`.

    The length is checked against what the container declares, then measured by decoding
    without keeping a sample (a header can lie or say nothing), and only then are the samples
    decoded into one buffer of that length. A recording that is too long is refused having
    cost one decoded frame of memory, whatever its header claims or its bytes hold; one that
    is not costs its own length, at most `max_seconds`.

    Raises:
        EmptyUploadError: the file has no bytes.
        AudioTooLongError: the recording is longer than `max_seconds`.
        UnsupportedAudioError: not audio, no audio stream, a header no recording can have,
            corrupt or truncated data.
    """
    if path.stat().st_size == 0:
        raise EmptyUploadError("the uploaded file is empty (0 bytes)")
    check_wav_sizes(path)
    try:
        with _open(path) as container:
            stream = _audio_stream(container)
            rate = stream.codec_context.sample_rate or 0
            channels = stream.codec_context.channels or 0
            check_shape(rate, channels)
            declared = _declared_seconds(container, stream)
            if declared > max_seconds:
                raise AudioTooLongError(_too_long(max_seconds, f"its header declares "
                                                               f"{declared / 60:.1f} min"))
            length_s = _measure(container, stream, max_seconds)
        # A second pass rather than a seek back: raw streams (ADTS, piped formats) seek badly.
        with _open(path) as container:
            stream = container.streams.audio[0]
            meter = _ChannelEnergy(rate, length_s) if channels == 2 else None
            samples = _decode_stream(container, stream, length_s, max_seconds, meter)
            format_name = container.format.name
            codec = stream.codec_context.name
    except av.FFmpegError as exc:
        raise UnsupportedAudioError(
            f"could not decode the file as audio ({exc.__class__.__name__}): upload wav, mp3, "
            "m4a, ogg/opus or flac"
        ) from exc
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        # PyAV's answer to header values it cannot represent (layouts, time bases, sizes).
        raise UnsupportedAudioError(
            f"the file's header has values the decoder cannot use ({exc.__class__.__name__}): "
            "upload wav, mp3, m4a, ogg/opus or flac") from exc
    if samples.size == 0:
        raise UnsupportedAudioError("the file decoded to no audio samples: it is empty or corrupt")
    decoded_s = samples.size / SAMPLE_RATE
    if declared and declared > 1.0 and decoded_s < declared * TRUNCATION_TOLERANCE:
        raise UnsupportedAudioError(
            f"the audio is truncated: its header declares {declared:.1f} s but only "
            f"{decoded_s:.1f} s could be decoded"
        )
    energy = meter.envelope() if meter is not None else None
    return DecodedAudio(samples, format_name, codec, rate, channels, energy)


def _open(path: Path) -> av.container.InputContainer:
    return av.open(str(path), mode="r", metadata_errors="ignore")


def _audio_stream(container: av.container.InputContainer) -> av.AudioStream:
    if not container.streams.audio:
        raise UnsupportedAudioError("the file has no audio stream")
    stream = container.streams.audio[0]
    if stream.codec_context is None:  # FFmpeg read the header but has no decoder for it
        raise UnsupportedAudioError(
            "the file's audio codec cannot be decoded: upload wav, mp3, m4a, ogg/opus or flac")
    return stream


def _too_long(max_seconds: float, found: str) -> str:
    return (f"the recording is longer than MAX_AUDIO_MINUTES ({max_seconds / 60:g} min): "
            f"{found}. Send a shorter recording (split it), or raise MAX_AUDIO_MINUTES on the "
            "service that transcribes (about 3.84 MB of memory per minute while it runs)")


def _declared_seconds(container: av.container.InputContainer, stream: av.AudioStream) -> float:
    """The stream's length by its container: its duration, else its frame count, else the
    container's duration (FFmpeg's estimate from bitrate or timestamps); 0 if none says."""
    if stream.duration is not None and stream.time_base is not None:
        return max(float(stream.duration * stream.time_base), 0.0)
    ctx = stream.codec_context
    if stream.frames and ctx.frame_size and ctx.sample_rate:
        return float(stream.frames * ctx.frame_size / ctx.sample_rate)
    if container.duration is not None:
        return max(container.duration / av.time_base, 0.0)
    return 0.0


def _measure(container: av.container.InputContainer, stream: av.AudioStream,
             max_seconds: float) -> float:
    """The stream's real length in seconds, decoded one frame at a time and nothing kept.

    Raises:
        AudioTooLongError: more than `max_seconds` (and the slack) decoded; decoding stops there.
    """
    seconds = 0.0
    for frame in container.decode(stream):
        seconds += frame.samples / frame.sample_rate  # the rate may change midway
        if seconds > max_seconds + _CAP_SLACK_S:
            raise AudioTooLongError(_too_long(
                max_seconds, f"decoding stopped after {seconds / 60:.1f} min of audio"))
    return seconds


def _decode_stream(
    container: av.container.InputContainer, stream: av.AudioStream, length_s: float,
    max_seconds: float, meter: _ChannelEnergy | None = None,
) -> npt.NDArray[np.float32]:
    """Resample while decoding, straight into one buffer of the measured length.

    A one-hour call is 230 MB at 16 kHz float32; collecting frames and concatenating them would
    hold it twice, and the source rate (44.1 kHz stereo) even more. `meter`, if given, sees each
    original frame before the downmix.

    Raises:
        AudioTooLongError: the stream decoded longer than it measured (it cannot, but the buffer
            is never outgrown, so the cap holds whatever a decoder does).
    """
    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)

    def pieces() -> Iterator[npt.NDArray[np.float32]]:
        for frame in container.decode(stream):
            if meter is not None:
                meter.add(frame)
            for out in resampler.resample(frame):
                yield np.asarray(out.to_ndarray(), dtype=np.float32).reshape(-1)
        for out in resampler.resample(None):
            yield np.asarray(out.to_ndarray(), dtype=np.float32).reshape(-1)

    size = int((min(length_s, max_seconds) + _CAP_SLACK_S) * SAMPLE_RATE)
    buf = np.empty(size, dtype=np.float32)
    used = 0
    for pcm in pieces():
        if used + pcm.size > size:
            break
        buf[used:used + pcm.size] = pcm
        used += pcm.size
    else:
        return buf[:used]
    del buf  # before raising: the traceback keeps this frame's locals alive
    raise AudioTooLongError(_too_long(
        max_seconds, f"decoding stopped after {used / SAMPLE_RATE / 60:.1f} min of audio"))


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
