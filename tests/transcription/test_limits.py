"""MAX_AUDIO_MINUTES and hostile headers, at the decoder: a recording is refused by what its
header declares, or by decoding it without keeping a sample; memory never follows the file's
claims; a header no recording can have is unsupported (415), never a server error."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from audiohub.config import Settings
from audiohub.errors import AudioTooLongError, UnsupportedAudioError
from audiohub.transcription.audio import SAMPLE_RATE, decode_file
from tests.conftest import AUDIO
from tests.transcription.hostile_audio import (
    MB,
    PeakRss,
    hostile_wavs,
    lying_adts,
    silence_flac,
)


@pytest.fixture
def rss() -> Iterator[PeakRss]:
    meter = PeakRss(os.getpid())
    meter.reset()
    yield meter


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return silence_flac(tmp_path_factory.mktemp("bomb") / "bomb.flac", 10 * 3600)


def test_ten_hours_of_flac_are_refused_by_their_header(bomb: Path, rss: PeakRss) -> None:
    start = time.monotonic()
    with pytest.raises(AudioTooLongError) as refused:
        decode_file(bomb)  # MAX_AUDIO_MINUTES's default: 240
    took = time.monotonic() - start
    print(f"\n10 h FLAC ({bomb.stat().st_size / MB:.1f} MB): refused in {took:.2f} s, "
          f"peak RSS +{rss.growth / MB:.1f} MB")
    assert refused.value.status_code == 413 and refused.value.error == "audio_too_long"
    assert "header declares 600.0 min" in refused.value.detail
    assert "MAX_AUDIO_MINUTES (240 min)" in refused.value.detail
    assert rss.growth < 300 * MB  # decoded whole, it was 2.3 GB (5.6 GB in the server)


def test_a_header_that_understates_is_caught_while_decoding(tmp_path: Path,
                                                            rss: PeakRss) -> None:
    path = lying_adts(tmp_path / "lying.aac", silence_s=2 * 3600)
    with av.open(str(path)) as container:
        claimed = container.duration / av.time_base
    assert claimed < 30 * 60, "the file must claim less than the cap for this test to mean much"
    rss.reset()  # making the file is not what is measured
    start = time.monotonic()
    with pytest.raises(AudioTooLongError) as refused:
        decode_file(path, max_seconds=60 * 60)
    took = time.monotonic() - start
    print(f"\nADTS claiming {claimed / 60:.1f} min, holding 120 min, cap 60 min: refused in "
          f"{took:.2f} s, peak RSS +{rss.growth / MB:.1f} MB")
    assert "decoding stopped after 60.0 min of audio" in refused.value.detail
    # Nothing is kept while the length is measured: holding the 60 minutes would be 230 MB.
    assert rss.growth < 100 * MB


def test_a_recording_under_the_cap_costs_its_own_length_once(tmp_path: Path,
                                                             rss: PeakRss) -> None:
    path = silence_flac(tmp_path / "ten_minutes.flac", 600)
    rss.reset()
    audio = decode_file(path, max_seconds=601)
    print(f"\n10 min FLAC: {audio.samples.nbytes / MB:.1f} MB of samples, peak RSS "
          f"+{rss.growth / MB:.1f} MB")
    assert audio.samples.size == 600 * SAMPLE_RATE
    assert rss.growth < audio.samples.nbytes + 40 * MB  # one buffer, no copies
    with pytest.raises(AudioTooLongError, match=r"header declares 10\.0 min"):
        decode_file(path, max_seconds=599)


@pytest.mark.parametrize("name", sorted(hostile_wavs()))
def test_a_header_no_recording_has_is_unsupported(tmp_path: Path, name: str,
                                                  rss: PeakRss) -> None:
    path = tmp_path / name
    path.write_bytes(hostile_wavs()[name])
    rss.reset()
    with pytest.raises(UnsupportedAudioError) as refused:
        decode_file(path)
    print(f"\n{name} ({path.stat().st_size} B): 415 {refused.value.detail!r}, "
          f"peak RSS +{rss.growth / MB:.1f} MB")
    assert refused.value.status_code == 415
    assert rss.growth < 50 * MB


def test_the_rf64_claim_is_refused_before_ffmpeg_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "rf64.wav"
    path.write_bytes(hostile_wavs()["rf64_petabytes.wav"])
    with pytest.raises(UnsupportedAudioError, match=r"declares 1125899906842624 bytes of audio "
                                                    r"but only 64000 are present"):
        decode_file(path)


def test_real_recordings_still_decode() -> None:
    """The checks refuse nothing real: 8 kHz telephony and 44.1 kHz stereo both pass."""
    for name in ("banking_card_block_8k.wav", "healthcare_appointment_stereo_44k.wav"):
        assert decode_file(AUDIO / name, max_seconds=5 * 60).duration > 5


def test_the_cap_is_read_from_max_audio_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MAX_AUDIO_MINUTES", raising=False)
    assert Settings().max_audio_minutes == 240
    monkeypatch.setenv("MAX_AUDIO_MINUTES", "30")
    assert Settings().max_audio_minutes == 30
