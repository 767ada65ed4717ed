"""Files: where Asterisk leaves finished recordings, and ccplane's own store.

MixMonitor's command moves each closed file to ``<monitor_dir>/ccplane/done/``;
from there :func:`move_into_store` takes it to ``<store>/<domain id>/<file>``
atomically: a rename on one file system, else a copy to a temporary name in
the store (fsynced) renamed into place, then the source removed. A reader never
sees half a file under its final name."""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

HEADER_BYTES = 4096


def done_dir(monitor_dir: Path) -> Path:
    return monitor_dir / "ccplane" / "done"


def stored_path(store: Path, domain_id: int, file: str) -> Path:
    return store / str(domain_id) / file


def move_into_store(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.replace(source, target)
        return
    except OSError as exc:
        if exc.errno != 18:  # EXDEV: another file system
            raise
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix="." + target.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        shutil.copystat(source, tmp)  # keeps when MixMonitor finished it
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    source.unlink(missing_ok=True)


def read_header(path: Path) -> tuple[bytes, int, float]:
    """The file's first bytes, its size and when it was last written (MixMonitor's end)."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        return fh.read(HEADER_BYTES), st.st_size, st.st_mtime
