"""`audiohub analyze DIR_OR_GLOB --jobs`: arguments expanded into audio files, every file a job
on real models and a real SQLite database, one progress bar, a summary table, dedupe."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from audiohub.cli import app
from audiohub.errors import InvalidInputError
from audiohub.jobs.batch import expand_paths
from tests.conftest import AUDIO

runner = CliRunner(env={"COLUMNS": "300"})  # the summary table on one line per file
BANKING = AUDIO / "banking_card_block_16k.wav"
REFUND = AUDIO / "ecommerce_refund_16k.wav"


@pytest.fixture
def calls_dir(tmp_path: Path) -> Path:
    """Three recordings, two of them the same audio under different names, and a non-audio file."""
    d = tmp_path / "calls"
    (d / "week2").mkdir(parents=True)
    shutil.copy(BANKING, d / "card.wav")
    shutil.copy(BANKING, d / "week2" / "card_again.WAV")
    shutil.copy(REFUND, d / "refund.wav")
    (d / "notes.txt").write_text("not a recording")
    return d


def total_calls() -> int:
    r = runner.invoke(app, ["stats", "--json"])
    assert r.exit_code == 0, r.output
    n: int = json.loads(r.stdout)["total_calls"]
    return n


def test_expand_paths(calls_dir: Path) -> None:
    assert [p.name for p in expand_paths([str(calls_dir)])] == [
        "card.wav", "refund.wav", "card_again.WAV"]
    assert [p.name for p in expand_paths([str(calls_dir / "*.wav")])] == [
        "card.wav", "refund.wav"]
    assert [p.name for p in expand_paths([str(calls_dir / "**" / "*.wav")])] == [
        "card.wav", "refund.wav"]  # case-sensitive like the shell: .WAV does not match
    # A file named twice (itself and through the directory) is analysed once.
    again = expand_paths([str(calls_dir / "refund.wav"), str(calls_dir)])
    assert [p.name for p in again] == ["refund.wav", "card.wav", "card_again.WAV"]
    assert expand_paths([str(calls_dir / "notes.txt")]) == [calls_dir / "notes.txt"]
    for arg, message in [(str(calls_dir / "*.mp3"), "no files match"),
                         (str(calls_dir / "missing.wav"), "no such file or directory"),
                         (str(calls_dir / "week2" / "empty"), "no such file")]:
        with pytest.raises(InvalidInputError, match=message):
            expand_paths([arg])
    (calls_dir / "empty").mkdir()
    with pytest.raises(InvalidInputError, match="no audio files"):
        expand_paths([str(calls_dir / "empty")])


def test_a_directory_as_jobs_dedupes_copies_and_lists_every_file(
    data_dir: Path, calls_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    r = runner.invoke(app, ["analyze", str(calls_dir), "--jobs", "--workers", "2",
                            "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "3 files" in r.output
    for name in ("card.wav", "refund.wav", "card_again.WAV"):
        assert name in r.output
    lines = [line for line in r.output.splitlines() if ".wav" in line.lower()]
    assert sum("yes" in line for line in lines) == 1  # the second copy reused the first call
    assert any("banking/" in line for line in lines) and any("ecommerce/" in line
                                                              for line in lines)
    assert total_calls() == 2  # distinct recordings
    written = {p.name: json.loads(p.read_text()) for p in out.iterdir()}
    assert sorted(written) == ["card.json", "card_again.json", "refund.json"]
    assert written["card.json"]["database"] == written["card_again.json"]["database"]
    assert written["card.json"]["domain"] == "banking"

    # Again, as a glob: all already stored, so all deduplicated and nothing new is stored.
    r = runner.invoke(app, ["analyze", str(calls_dir / "*.wav"), "--jobs", "--json"])
    assert r.exit_code == 0, r.output
    assert "2 files" in r.output
    assert total_calls() == 2


def test_a_glob_with_a_bad_file_reports_it_and_exits_1(
    data_dir: Path, tmp_path: Path
) -> None:
    d = tmp_path / "in"
    d.mkdir()
    shutil.copy(AUDIO / "healthcare_appointment_16k.wav", d / "appointment.wav")
    shutil.copy(AUDIO / "not_audio.txt", d / "broken.wav")
    shutil.copy(REFUND, d / "refund.flac.txt")  # not matched by the glob
    r = runner.invoke(app, ["analyze", str(d / "*.wav"), "--jobs"])
    assert r.exit_code == 1, r.output
    assert "broken.wav" in r.output and "unsupported_audio" in r.output
    assert "appointment.wav" in r.output and "healthcare/" in r.output
    assert "refund" not in r.output
    assert total_calls() == 1


def test_nothing_matched_is_exit_2_with_a_message(data_dir: Path, tmp_path: Path) -> None:
    r = runner.invoke(app, ["analyze", str(tmp_path / "*.wav"), "--jobs"])
    assert r.exit_code == 2
    assert "no files match" in r.output
    empty = tmp_path / "empty"
    empty.mkdir()
    r = runner.invoke(app, ["analyze", str(empty), "--jobs"])
    assert r.exit_code == 2
    assert "no audio files" in r.output
    assert not data_dir.exists()  # refused before anything was built


def test_jobs_options_need_jobs_and_plain_analyze_still_wants_files(
    data_dir: Path, calls_dir: Path
) -> None:
    r = runner.invoke(app, ["analyze", str(calls_dir / "card.wav"), "--workers", "2"])
    assert r.exit_code == 2 and "--jobs" in r.output
    r = runner.invoke(app, ["analyze", str(calls_dir)])
    assert r.exit_code == 2 and "is a directory" in r.output
    r = runner.invoke(app, ["analyze", str(calls_dir / "*.wav")])
    assert r.exit_code == 2 and "does not exist" in r.output
