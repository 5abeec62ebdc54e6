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

from .exceptions import ForecastError

__all__ = ["TEMP_SUFFIX", "atomic_path", "atomic_open", "write_csv", "write_text",
           "write_bytes", "write_with", "output_lock", "sweep_temporaries",
           "remove_stale_outputs", "OutputFolderError"]


#: the ending of every temporary file this module makes (``.<name>.<random>.wfm-tmp``), so
#: that cleaning up after a killed run never touches a user's own ``.*.tmp`` files
TEMP_SUFFIX = ".wfm-tmp"


class OutputFolderError(ForecastError, OSError):
    """The output folder cannot be created or written (exit code 1 on the CLI)."""


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target``.

    On any exception the temporary file is removed and ``target`` is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX,
                                    dir=target.parent)
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
    """Remove temporary files a killed run left in ``folder`` (``.<name>.<random>.wfm-tmp``).

    Other hidden files, such as a user's own ``.upload.tmp``, are left alone. Only safe
    while holding :func:`output_lock` on the folder: then no other run can be writing them.
    """
    removed = []
    for stale in Path(folder).glob(f".*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
            removed.append(stale)
    return removed


@contextlib.contextmanager
def output_lock(folder: str | Path, *, wait_s: float = 0.0) -> Iterator[Path]:
    """Hold an exclusive lock on an output folder for the duration of a run.

    A second run on the same folder waits up to ``wait_s`` seconds for the first to
    finish, then fails with :class:`~forecast.exceptions.OutputLockedError`. The lock
    is an OS file lock, released automatically if the process dies. A folder that
    cannot be created or written raises :class:`~forecast.exceptions.OutputFolderError`;
    a folder this call created is removed again if the run fails before writing to it.
    """
    import fcntl
    import time

    from .exceptions import OutputLockedError

    folder = Path(folder)
    created = _missing_parents(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock_path = folder / ".wfm.lock"
        handle = open(lock_path, "a+")  # noqa: SIM115 - held for the whole run
    except OSError as exc:
        _remove_empty(created)
        raise OutputFolderError(
            f"{folder}: cannot write to the output folder ({exc.strerror or exc}); "
            "choose a folder you can write to with --out") from None
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
    except BaseException:
        if created and set(os.listdir(folder)) <= {lock_path.name}:
            with contextlib.suppress(OSError):  # a failed first run leaves no empty folder
                lock_path.unlink()
            _remove_empty(created)
        raise
    finally:
        handle.close()


def _missing_parents(folder: Path) -> list[Path]:
    """``folder`` and those of its parents that do not exist yet, deepest first."""
    missing = []
    for path in (folder, *folder.parents):
        if path.exists():
            break
        missing.append(path)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a run created, deepest first, if they are still empty."""
    for path in folders:
        with contextlib.suppress(OSError):
            path.rmdir()


def remove_stale_outputs(folder: str | Path, previous: list[str], written: list[Path]
                         ) -> list[Path]:
    """Delete the files an earlier run wrote into ``folder`` that this run did not.

    Parameters
    ----------
    folder
        The output folder (held under :func:`output_lock`).
    previous
        File names the previous run wrote (the ``outputs`` of its manifest.json).
    written
        The files this run wrote.

    Returns
    -------
    list of Path
        The files removed. Names with a folder part are ignored: only files the tool
        wrote directly into ``folder`` are ever deleted.
    """
    keep = {Path(p).name for p in written} | {"manifest.json"}
    removed = []
    for name in previous:
        if name in keep or Path(name).name != name or name in ("", ".", ".."):
            continue
        path = Path(folder) / name
        if path.is_file():
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                removed.append(path)
    return removed
