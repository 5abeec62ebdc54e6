"""params.toml / JSON writing and reading of a :class:`~forecast.calibrate.Calibration`."""

from __future__ import annotations

import json
import math
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ConfigError
from .core import Calibration

__all__ = ["calibration_to_toml", "load_calibration"]

# --------------------------------------------------------------------------- TOML / JSON


def calibration_to_toml(calibration: Calibration) -> str:
    """params.toml text: ``[queues.<name>]`` holds only plan-config keys, each with a
    comment saying which figure it is (paste them into a plan config as they are, or
    edit them: ``wfm plan --calibration`` uses these values); ``[fit.<name>...]`` holds
    the estimates, their uncertainty and diagnostics, for the record; ``[calibration]``
    the period and settings."""
    data = calibration.to_dict()
    lines = [
        "# Calibration learned from call records by forecast (wfm calibrate).",
        f"# Learning period: {calibration.train_start} to {calibration.train_end} (end exclusive).",
        "# [queues.*] holds the values a plan uses ('wfm plan --calibration' reads them, hand",
        "# edits included); their keys match the plan config's queue keys. [fit.*] holds the",
        "# estimates behind them and their uncertainty, for the record.",
        "",
    ]
    _toml_table(lines, ["calibration"], data["calibration"])
    for name, values in data["queues"].items():
        notes = calibration.queues[name].value_notes()
        _toml_table(lines, ["queues", name], values, notes)
    for name, values in data["fit"].items():
        _toml_table(lines, ["fit", name], values)
    return "\n".join(lines).rstrip() + "\n"


def _toml_key(key: str) -> str:
    if key and all(c.isalnum() or c in "_-" for c in key):
        return key
    return json.dumps(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(value, str):
        return json.dumps(value)
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_table(lines: list[str], path: list[str], values: Mapping[str, Any],
                comments: Mapping[str, str] | None = None) -> None:
    scalars = {k: v for k, v in values.items() if not isinstance(v, Mapping)}
    tables = {k: v for k, v in values.items() if isinstance(v, Mapping)}
    lines.append("[" + ".".join(_toml_key(p) for p in path) + "]")
    for k, v in scalars.items():
        note = (comments or {}).get(k)
        lines.append(f"{_toml_key(k)} = {_toml_value(v)}" + (f"  # {note}" if note else ""))
    lines.append("")
    for k, v in tables.items():
        _toml_table(lines, [*path, k], v)


def load_calibration(path: str | Path) -> Calibration:
    """Read a calibration written as params.toml or JSON.

    The values a plan takes are those of ``[queues.<name>]``: edit them there.

    Parameters
    ----------
    path
        A params.toml from ``wfm calibrate`` (UTF-8), or the JSON of
        :meth:`Calibration.to_json` (a ``.json`` suffix; any other is read as TOML).

    Returns
    -------
    Calibration
        With each queue's plan values taken from its ``[queues.<name>]`` table.

    Raises
    ------
    ConfigError
        Naming the file (and the key where there is one): file missing, not valid
        TOML/JSON, not a calibration written by forecast, or a ``[queues.<name>]``
        value that is invalid or belongs to no calibrated queue.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError("calibration file not found", file=path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason})", file=path) from None
    try:
        raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot be read ({exc})", file=path) from None
    try:
        return Calibration.from_dict(raw)
    except ConfigError as exc:  # the same error, now naming the file
        raise ConfigError(exc.reason, file=path, key=exc.key) from None
