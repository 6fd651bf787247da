"""Checks on what an upload's header claims, made before FFmpeg decodes a byte of it.

A header is the client's word, and FFmpeg believes it: a 64 KB RF64 WAV may claim petabytes of
audio, a WAV header a sample rate of 1 Hz (every byte then decodes to 16 000 samples at 16 kHz).
What cannot be true of the bytes we hold is refused here as unsupported (415); what could be true
but is too long is the duration cap's business (audio.py, 413).
"""

from __future__ import annotations

from pathlib import Path

from audiohub.errors import UnsupportedAudioError

# A stream whose decoded length is under this share of what its header declares was cut short.
TRUNCATION_TOLERANCE = 0.9
# Below this there is no intelligible speech (telephony is 8 kHz); above it no audio format
# FFmpeg decodes to PCM (DSD decodes to 352.8 kHz).
MIN_SOURCE_RATE = 2000
MAX_SOURCE_RATE = 768_000
_MAX_CHANNELS = 64
# The chunks looked at before the data chunk (a real WAV has a handful).
_MAX_CHUNKS = 256
_UNKNOWN = 0xFFFFFFFF  # a data size streamed WAVs (and RF64, which keeps it in ds64) leave open


def check_shape(rate: int, channels: int) -> None:
    """Refuse sample rates and channel counts no recording has.

    Raises:
        UnsupportedAudioError: the rate or channel count is outside what we decode.
    """
    if not MIN_SOURCE_RATE <= rate <= MAX_SOURCE_RATE:
        raise UnsupportedAudioError(
            f"the file's header declares a sample rate of {rate} Hz; recordings between "
            f"{MIN_SOURCE_RATE} and {MAX_SOURCE_RATE} Hz are accepted")
    if not 1 <= channels <= _MAX_CHANNELS:
        raise UnsupportedAudioError(
            f"the file's header declares {channels} channels; 1 to {_MAX_CHANNELS} are accepted")


def check_wav_sizes(path: Path) -> None:
    """A RIFF or RF64 WAV's data chunk must fit in the file.

    FFmpeg quietly clips a WAV's data to the bytes present, so a cut-off upload would decode
    "successfully"; and it takes an RF64 header's 64-bit data size as the stream's duration,
    which is how a 64 KB file once asked for 1.6 PiB. Neither reaches the decoder.

    Raises:
        UnsupportedAudioError: the header declares more audio than the file holds.
    """
    size_on_disk = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(12)
        if len(head) < 12 or head[:4] not in (b"RIFF", b"RF64", b"BW64") or head[8:] != b"WAVE":
            return
        ds64_data: int | None = None
        for _ in range(_MAX_CHUNKS):
            chunk = f.read(8)
            if len(chunk) < 8:
                return
            tag, size = chunk[:4], int.from_bytes(chunk[4:8], "little")
            if tag == b"ds64" and size >= 16:
                ds64 = f.read(16)
                ds64_data = int.from_bytes(ds64[8:16], "little") if len(ds64) == 16 else None
                f.seek(size - len(ds64) + (size & 1), 1)
                continue
            if tag == b"data":
                if size == _UNKNOWN and ds64_data is not None:
                    size = ds64_data
                elif size == _UNKNOWN:
                    return  # a streamed WAV: its length is whatever the file holds
                present = size_on_disk - f.tell()
                if size > 0 and present < size * TRUNCATION_TOLERANCE:
                    raise UnsupportedAudioError(
                        f"the WAV file is truncated or its header is wrong: it declares {size} "
                        f"bytes of audio but only {present} are present")
                return
            f.seek(size + (size & 1), 1)
