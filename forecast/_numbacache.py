"""Where numba caches the compiled kernels, for users who cannot write the defaults.

The kernels (:mod:`forecast.queueing`, :mod:`forecast.simulate.kernel`) are compiled
with ``cache=True``. numba caches beside the source (``__pycache__``) or else under the
user's cache folder (``~/.cache/numba``), and raises ``RuntimeError: cannot cache
function ... no locator available`` at import when it can write neither, e.g. for a
``nobody`` cron user with an installed package and no home. :func:`configure` runs
in each kernel module before its kernels are compiled (not on ``import forecast``, which
stays light) and, in that case only, points ``NUMBA_CACHE_DIR`` at a per-user folder in
the system temp folder.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["configure", "fallback_cache_dir"]

#: the folders that hold compiled kernels, relative to the package
KERNEL_PACKAGES = ("queueing", "simulate")


def _writable(folder: Path) -> bool:
    """Whether ``folder`` can be written, or created under its nearest existing parent."""
    for path in (folder, *folder.parents):
        if path.exists():
            return path.is_dir() and os.access(path, os.W_OK | os.X_OK)
    return False


def _user_cache(environ: Mapping[str, str]) -> Path | None:
    """numba's user-wide cache folder (``$XDG_CACHE_HOME/numba`` or ``~/.cache/numba``)."""
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]) / "numba"
    home = environ.get("HOME")
    return Path(home) / ".cache" / "numba" if home else None


def fallback_cache_dir(environ: Mapping[str, str], kernel_dirs: Iterable[Path], *,
                       temp_dir: str | Path, user: str) -> Path | None:
    """The cache folder to set, or ``None`` when numba's defaults work.

    Parameters
    ----------
    environ
        The environment (``NUMBA_CACHE_DIR`` set by the user always wins).
    kernel_dirs
        The folders of the kernel modules; numba caches in their ``__pycache__``.
    temp_dir
        The system temp folder.
    user
        A name for the current user, to keep users' caches apart.

    Returns
    -------
    Path or None
        ``<temp_dir>/forecast-numba-<user>`` when neither every kernel folder's
        ``__pycache__`` nor the user cache folder is writable, else ``None``.
    """
    if environ.get("NUMBA_CACHE_DIR"):
        return None
    if all(_writable(Path(d) / "__pycache__") for d in kernel_dirs):
        return None
    user_cache = _user_cache(environ)
    if user_cache is not None and _writable(user_cache):
        return None
    return Path(temp_dir) / f"forecast-numba-{user}"


def configure() -> None:
    """Set ``NUMBA_CACHE_DIR`` when numba could not cache the kernels otherwise."""
    package = Path(__file__).resolve().parent
    user = str(os.getuid()) if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    folder = fallback_cache_dir(os.environ, [package / p for p in KERNEL_PACKAGES],
                                temp_dir=tempfile.gettempdir(), user=user)
    if folder is None:
        return
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        usable = os.access(folder, os.W_OK | os.X_OK) and (
            not hasattr(os, "getuid") or folder.stat().st_uid == os.getuid())
    except OSError:
        usable = False
    if not usable:  # taken by someone else: a private folder of this run's own
        folder = Path(tempfile.mkdtemp(prefix="forecast-numba-"))
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    config = sys.modules.get("numba.core.config")
    if config is not None:  # numba already imported: its settings were read already
        config.CACHE_DIR = str(folder)
