"""Atomic file output: write to a temporary file in the target folder, then rename.

A reader (or a scheduled job picking up files) never sees a half-written file, and
a run killed mid-write leaves the previous file intact.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pandas as pd

__all__ = ["atomic_path", "atomic_open", "write_csv", "write_text", "write_bytes", "write_with",
           "output_lock", "sweep_temporaries"]


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    On any exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


@contextlib.contextmanager
def atomic_open(target: str | Path, mode: str = "w", **kwargs: Any) -> Iterator[IO]:
    """Open a temporary file for writing that replaces ``target`` when closed cleanly."""
    with atomic_path(target) as tmp, open(tmp, mode, **kwargs) as handle:
        yield handle


def write_csv(frame: pd.DataFrame, target: str | Path, **kwargs: Any) -> Path:
    """Write ``frame`` as CSV atomically (no index, LF line ends, stable float format)."""
    kwargs.setdefault("index", False)
    kwargs.setdefault("lineterminator", "\n")
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, **kwargs)
    return Path(target)


def write_text(text: str, target: str | Path) -> Path:
    with atomic_open(target, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)
    return Path(target)


def write_bytes(data: bytes, target: str | Path) -> Path:
    with atomic_open(target, "wb") as handle:
        handle.write(data)
    return Path(target)


def write_with(writer: Callable[[Path], None], target: str | Path) -> Path:
    """Run ``writer(tmp_path)`` and move the result to ``target`` atomically."""
    with atomic_path(target) as tmp:
        writer(tmp)
    return Path(target)


def sweep_temporaries(folder: str | Path) -> list[Path]:
    """Remove temporary files a killed run left in ``folder`` (``.<name>.<random>.tmp``).

    Only safe while holding :func:`output_lock` on the folder: then no other run can be
    writing them.
    """
    removed = []
    for stale in Path(folder).glob(".*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
            removed.append(stale)
    return removed


@contextlib.contextmanager
def output_lock(folder: str | Path, *, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold an exclusive lock on an output folder for the duration of a run.

    A second run on the same folder waits up to ``wait_s`` seconds for the first to
    finish, then fails with :class:`~forecast.exceptions.OutputLockedError`. The lock
    is an OS file lock, released automatically if the process dies.
    """
    import fcntl
    import time

    from .exceptions import OutputLockedError

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock_path = folder / ".wfm.lock"
    handle = open(lock_path, "a+")  # noqa: SIM115 - held for the whole run
    deadline = time.monotonic() + max(wait_s, 0.0)
    try:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another run"
                    raise OutputLockedError(
                        f"{folder}: output folder is in use by {holder}; wait for it to "
                        "finish or use --wait SECONDS") from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        sweep_temporaries(folder)
        yield lock_path
    finally:
        handle.close()
