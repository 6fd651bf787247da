"""Hostile recordings, made for real: by ffmpeg where ffmpeg can write them, by hand where no
encoder would (headers that lie), and the peak memory of a process while it handles them."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import numpy as np

MB = 1024 * 1024


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def silence_flac(path: Path, seconds: float) -> Path:
    """The issue's "bomb": hours of 16 kHz silence compress to a few MB of FLAC, and its
    STREAMINFO states the true length."""
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", str(seconds), "-c:a", "flac",
           str(path))
    return path


def lying_adts(path: Path, silence_s: float) -> Path:
    """An AAC (ADTS) stream that understates its length, written by ffmpeg as it is: ADTS has
    no duration field, so FFmpeg estimates one from the bitrate of the first frames. 20 s of
    loud noise at 128 kbit/s, then `silence_s` of silence (a few hundred bytes a second): the
    estimate is a small fraction of the real length."""
    ffmpeg("-f", "lavfi", "-i", "anoisesrc=d=20:r=16000:a=0.5",
           "-f", "lavfi", "-i", f"anullsrc=r=16000:cl=mono:d={silence_s}",
           "-filter_complex", "[0:a][1:a]concat=n=2:v=0:a=1", "-c:a", "aac", "-b:a", "128k",
           "-f", "adts", str(path))
    return path


def _tone(seconds: float = 1.0, rate: int = 16000, channels: int = 1) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    pcm = (np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2")
    return np.repeat(pcm, channels).tobytes()


def fmt_chunk(channels: int = 1, rate: int = 16000, bits: int = 16, tag: int = 1,
              align: int | None = None) -> bytes:
    align = channels * bits // 8 if align is None else align
    return b"fmt " + struct.pack("<IHHIIHH", 16, tag, channels, rate, (rate * align) & 0xFFFFFFFF,
                                 align, bits)


def wav(fmt: bytes, data: bytes, data_size: int | None = None) -> bytes:
    """A RIFF WAV whose data chunk declares `data_size` bytes (default: the bytes it holds)."""
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", min(len(body), 0xFFFFFFFF)) + body


def rf64(data_size: int, channels: int = 2, seconds: float = 1.0) -> bytes:
    """An RF64 WAV (EBU 3306): the RIFF header's sizes are 0xFFFFFFFF and the real ones are
    64-bit fields of the ds64 chunk, here claiming `data_size` bytes of audio."""
    data = _tone(seconds, channels=channels)
    ds64 = b"ds64" + struct.pack("<IQQQI", 28, data_size + 36, data_size,
                                 data_size // (2 * channels), 0)
    body = b"WAVE" + ds64 + fmt_chunk(channels) + b"data" + struct.pack("<I", 0xFFFFFFFF) + data
    return b"RF64" + struct.pack("<I", 0xFFFFFFFF) + body


def hostile_wavs() -> dict[str, bytes]:
    """Headers no recording has, each a few KB: name -> file bytes."""
    tone = _tone()
    return {
        # The case: 64 KB claiming 1.6 PiB (then: 500 "Unable to allocate 1.60 PiB").
        "rf64_petabytes.wav": rf64(1 << 50, channels=2, seconds=1.0),
        "rf64_mono_huge.wav": rf64(1 << 62, channels=1),
        "data_bigger_than_file.wav": wav(fmt_chunk(), tone, data_size=len(tone) * 1000),
        "zero_channels.wav": wav(fmt_chunk(channels=0, align=2), tone),
        "rate_1hz.wav": wav(fmt_chunk(rate=1), tone),  # 16 000x upsampled: 32 KB -> 1 GB
        "rate_2ghz.wav": wav(fmt_chunk(rate=0x7FFFFFFF), tone),
        "rate_4ghz.wav": wav(fmt_chunk(rate=0xFFFFFFFF), tone),
        "rate_0.wav": wav(fmt_chunk(rate=0), tone),
        "bits_0.wav": wav(fmt_chunk(bits=0, align=2), tone),
        "channels_65535.wav": wav(fmt_chunk(channels=65535, align=2), tone),
    }


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


class PeakRss:
    """A process's resident memory now and its peak since `reset` (the kernel's VmHWM, which
    writing 5 to /proc/PID/clear_refs sets back to the current RSS)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.before = 0

    def reset(self) -> None:
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        self.before = _status_kb(self.pid, "VmRSS") * 1024

    @property
    def growth(self) -> int:
        """Bytes the peak rose above the RSS at `reset`."""
        return _status_kb(self.pid, "VmHWM") * 1024 - self.before
