from __future__ import annotations

from pathlib import Path

import pytest

from audiohub.errors import EmptyUploadError, UnsupportedAudioError
from audiohub.transcription.audio import SAMPLE_RATE, decode_file

AUDIO = Path(__file__).parents[1] / "fixtures" / "audio"


@pytest.mark.parametrize(
    ("name", "ext", "rate", "channels"),
    [
        ("healthcare_appointment_16k.wav", "wav", 16000, 1),
        ("healthcare_appointment_8k.wav", "wav", 8000, 1),
        ("healthcare_appointment_stereo_44k.wav", "wav", 44100, 2),
        ("healthcare_appointment.mp3", "mp3", None, None),
        ("healthcare_appointment.m4a", "m4a", None, None),
        ("healthcare_appointment.ogg", "ogg", None, None),
        ("healthcare_appointment.flac", "flac", None, None),
    ],
)
def test_every_common_format_decodes_to_16k_mono(
    name: str, ext: str, rate: int | None, channels: int | None
) -> None:
    reference = decode_file(AUDIO / "healthcare_appointment_16k.wav")
    audio = decode_file(AUDIO / name)
    assert audio.samples.ndim == 1
    assert audio.samples.dtype.name == "float32"
    assert audio.extension == ext
    # Codec padding differs by format; the length of the call must not.
    assert abs(audio.duration - reference.duration) < 0.15
    if rate is not None:
        assert audio.source_rate == rate
        assert audio.channels == channels
    assert SAMPLE_RATE == 16000


def test_empty_file_is_refused() -> None:
    with pytest.raises(EmptyUploadError, match="empty"):
        decode_file(AUDIO / "empty.wav")


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("not_audio.txt", "could not decode"),
        ("corrupt.mp3", "could not decode|no audio"),
        ("truncated.wav", "truncated"),
    ],
)
def test_bad_audio_says_what_is_wrong(name: str, says: str) -> None:
    with pytest.raises(UnsupportedAudioError, match=says):
        decode_file(AUDIO / name)


def test_streamed_wav_with_unknown_length_is_not_called_truncated(tmp_path: Path) -> None:
    # Recorders that stream WAV write 0xFFFFFFFF as the data size: that is not truncation.
    data = bytearray((AUDIO / "silence_5s.wav").read_bytes())
    at = data.index(b"data")
    data[at + 4:at + 8] = (0xFFFFFFFF).to_bytes(4, "little")
    path = tmp_path / "streamed.wav"
    path.write_bytes(bytes(data))
    assert decode_file(path).duration == pytest.approx(5.0, abs=0.05)
