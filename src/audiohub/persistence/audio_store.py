"""Uploaded recordings, kept under the data dir by content (sha256), never by their filename."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

_SAFE_EXT = re.compile(r"^[a-z0-9]{1,8}$")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class AudioStore:
    """Content-addressed files: `<root>/<sha[:2]>/<sha>.<ext>`; the same audio is stored once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str, ext: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{64}", sha256):
            raise ValueError("not a sha256 hex digest")
        ext = ext if _SAFE_EXT.match(ext) else "bin"
        return self.root / sha256[:2] / f"{sha256}.{ext}"

    def put(self, source: Path, sha256: str, ext: str) -> tuple[Path, bool]:
        """Copy `source` into the store.

        Returns:
            The stored path, and whether this call created it (so a failed database write can
            remove exactly what it added, and never a recording another call still uses).
        """
        target = self.path_for(sha256, ext)
        if target.exists():
            return target, False
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            os.replace(tmp, target)  # atomic: readers see the whole file or none
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return target, True

    def remove(self, sha256: str, ext: str) -> None:
        self.path_for(sha256, ext).unlink(missing_ok=True)

    def find(self, sha256: str) -> Path | None:
        folder = self.root / sha256[:2]
        matches = sorted(folder.glob(f"{sha256}.*")) if folder.is_dir() else []
        return matches[0] if matches else None
