"""The run manifest: what went in, what came out, and with which versions.

Written beside every plan as ``manifest.json``. It holds no clock time, so the same
inputs and seed give a byte-identical manifest, like every other output.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from .atomic import write_text
from .config import PlanConfig

__all__ = ["file_sha256", "build_manifest", "write_manifest", "previous_outputs"]


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Path):
        return value.name
    return value


def build_manifest(
    config: PlanConfig,
    *,
    command: str,
    models: dict[str, dict[str, str]],
    failures: dict[str, str],
    outputs: list[Path],
    settings: dict[str, Any] | None = None,
    warnings: list[str] | None = None,
    root: Path | None = None,
) -> dict[str, Any]:
    """Assemble the manifest of a run.

    Parameters
    ----------
    config
        The configuration used.
    command
        What ran (e.g. ``"plan"``).
    models
        Per queue: the selected model and why.
    failures
        Per failed queue: the reason.
    outputs
        The files written (hashed here).
    settings
        Run options (quantile, workers, what-if changes ...).
    warnings
        Warnings about the run as a whole: data repaired on reading (gaps filled,
        rows dropped, queues left out), calibration notes. A queue's own warnings are
        in ``models``.
    root
        The folder output names are given relative to (default: each file's own name,
        for runs that write one folder).
    """
    from .store import library_versions

    inputs = {}
    for role, path in (("config", config.source), ("volumes", config.data.volumes),
                       ("events", config.data.events)):
        if path is not None and Path(path).is_file():
            inputs[role] = {"file": Path(path).name, "sha256": file_sha256(path)}
    return {
        "command": command,
        "centre": config.name,
        "inputs": inputs,
        "config": _plain(dataclasses.replace(config, source=None)),
        "seed": config.forecast.seed,
        "settings": settings or {},
        "versions": library_versions(),
        "models": models,
        "failures": failures,
        "warnings": list(dict.fromkeys(warnings or [])),
        "outputs": {(p.name if root is None else Path(p).relative_to(root).as_posix()):
                    file_sha256(p) for p in sorted(outputs)},
    }


def write_manifest(manifest: dict[str, Any], out_dir: str | Path) -> Path:
    text = json.dumps(manifest, indent=1, sort_keys=True, default=str)
    return write_text(text + "\n", Path(out_dir) / "manifest.json")


def previous_outputs(out_dir: str | Path) -> list[str]:
    """The file names listed as outputs in ``out_dir/manifest.json`` (empty if there is
    none or it cannot be read)."""
    path = Path(out_dir) / "manifest.json"
    try:
        outputs = json.loads(path.read_text(encoding="utf-8")).get("outputs", {})
    except (OSError, ValueError, AttributeError):
        return []
    return [str(name) for name in outputs] if isinstance(outputs, dict) else []
