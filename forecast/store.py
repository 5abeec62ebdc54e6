"""The model store: fitted models saved as JSON with metadata, reused without refitting.

One file per queue, ``<models_dir>/<stem>.json``, where ``<stem>`` is the queue name
when it is a safe file name and otherwise its cleaned form plus a short hash (see
:func:`forecast.report.safe_name`)::

    {"format": "forecast-model/1", "queue": "voice", "model": {...fitted state...},
     "metadata": {"versions": {...}, "training_window": [first, last],
                  "data_sha256": "...", "backtest": [...leaderboard rows...],
                  "reason": "lowest backtest WAPE ..."}}

plus ``SUMMARY.md``, a short human-readable table. JSON, never pickle: a stored
model is data a person can read, diff and keep.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .atomic import write_text
from .config import PlanConfig
from .exceptions import ConfigError, DataValidationError, ForecastWarning
from .parallel import make_runner, run_per_queue
from .plan import PlanInputs, forecast_queue, load_inputs

__all__ = ["FORMAT", "fit_models", "save_models", "load_models", "history_sha256",
           "library_versions"]

FORMAT = "forecast-model/1"


class StaleModelWarning(ForecastWarning):
    """A stored model was trained on data that has changed since."""


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shape a forecast."""
    import importlib.metadata as md
    import platform

    versions = {"python": platform.python_version()}
    for name in ("forecast", "numpy", "pandas", "scipy", "statsmodels", "prophet"):
        try:
            versions[name] = md.version(name)
        except md.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def history_sha256(history: pd.DataFrame) -> str:
    """A fingerprint of one queue's regularised history (timestamps and volumes)."""
    digest = hashlib.sha256()
    digest.update(history["ds"].to_numpy().astype("datetime64[ns]").astype(np.int64).tobytes())
    digest.update(history["y"].to_numpy(dtype=np.float64).tobytes())
    return digest.hexdigest()


def _fit_one(history, events, queue, config):
    _, choice = forecast_queue(history, events, queue, config)
    return choice


def fit_models(
    config: PlanConfig,
    models_dir: str | Path,
    *,
    inputs: PlanInputs | None = None,
    queues: Iterable[str] | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress=None,
) -> tuple[list[Path], dict[str, str]]:
    """Choose and fit each queue's model and save it to ``models_dir``.

    Each queue's model is chosen and fitted as :func:`forecast.build_plan` would
    (the configured model, or the backtest winner for ``"auto"``) on its whole
    history, and saved as ``<models_dir>/<stem>.json`` (see
    :func:`forecast.report.safe_name`) with its metadata (library
    versions, training window and rows, a fingerprint of the history, the backtest
    leaderboard, the reason for the choice); ``SUMMARY.md`` lists the queues fitted in
    this run.
    A queue that fails does not stop the others.

    Parameters
    ----------
    config
        The plan configuration.
    models_dir
        Folder the files are written to (created if missing); each file is written
        atomically and replaces the queue's earlier one.
    inputs
        Already loaded inputs (skips reading the files again).
    queues
        Fit these queues only; default every queue in the data.
    workers, scheduler
        Where per-queue work runs, as for :func:`forecast.build_plan`.
    progress
        Called as ``progress(queue, done, total, seconds_elapsed)`` after each queue.

    Returns
    -------
    (list of Path, dict)
        The files written (one JSON file per queue fitted, then ``SUMMARY.md``), and
        the queues that failed, queue -> one-line reason.

    Raises
    ------
    DataValidationError, ConfigError
        When the inputs cannot be loaded (see :func:`forecast.load_inputs`).
    ConfigError
        When the Dask ``scheduler`` cannot be used (Dask not installed, scheduler
        unreachable).
    """
    from . import events as events_io

    inputs = inputs or load_inputs(config)
    names = (inputs.queues if queues is None else [queues] if isinstance(queues, str)
             else list(queues))
    unknown = [n for n in names if n not in inputs.queues]
    if unknown:
        raise ConfigError(f"queue '{unknown[0]}' is not in the data; queues found: "
                          f"{', '.join(inputs.queues)}")
    by_queue = dict(tuple(inputs.history.groupby("queue", sort=True)))
    tasks = ((n, (by_queue[n].reset_index(drop=True),
                  events_io.events_for_queue(inputs.events, n), config.queue(n), config))
             for n in names)
    records: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    with make_runner(workers, scheduler) as runner:
        for outcome in run_per_queue(_fit_one, tasks, runner, progress=progress):
            if not outcome.ok:
                failures[outcome.queue] = outcome.error
                continue
            history = by_queue[outcome.queue]
            records[outcome.queue] = _record(outcome.queue, outcome.value, history, config)
    return save_models(records, models_dir), failures


def _record(queue: str, choice, history: pd.DataFrame, config: PlanConfig) -> dict[str, Any]:
    board = choice.leaderboard
    return {
        "format": FORMAT,
        "queue": queue,
        "model": choice.model.to_dict(),
        "metadata": {
            "model_name": choice.name,
            "reason": choice.reason,
            "versions": library_versions(),
            "training_window": [str(history["ds"].min()), str(history["ds"].max())],
            "training_rows": int(len(history)),
            "interval_s": int(config.interval_s),
            "timezone": config.timezone,
            "data_sha256": history_sha256(history),
            "backtest": [] if board is None else _json_records(board),
        },
    }


def _json_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append({k: (None if isinstance(v, float) and not math.isfinite(v) else
                        v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out


def save_models(records: dict[str, dict[str, Any]], models_dir: str | Path) -> list[Path]:
    """Write one JSON file per queue and SUMMARY.md, each atomically."""
    from .report import safe_name

    models_dir = Path(models_dir)
    written = []
    for queue, record in sorted(records.items()):
        text = json.dumps(record, indent=1, sort_keys=True, allow_nan=False)
        written.append(write_text(text + "\n", models_dir / f"{safe_name(queue)}.json"))
    lines = ["# Fitted models", "", "| queue | model | trained on | rows | backtest WAPE |",
             "|---|---|---|---|---|"]
    for queue, record in sorted(records.items()):
        meta = record["metadata"]
        chosen = [r for r in meta["backtest"] if r.get("selected")]
        wape = chosen[0].get("wape") if chosen else None
        window = " to ".join(w[:10] for w in meta["training_window"])
        lines.append(f"| {_table_cell(queue)} | {meta['model_name']} | {window} | "
                     f"{meta['training_rows']} | {'-' if wape is None else f'{wape:.4f}'} |")
    written.append(write_text("\n".join(lines) + "\n", models_dir / "SUMMARY.md"))
    return written


def _table_cell(text: str) -> str:
    """``text`` as one Markdown table cell: ``\\`` and ``|`` escaped, line breaks as spaces."""
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").splitlines())


def load_models(models_dir: str | Path, queues: Iterable[str],
                histories: dict[str, pd.DataFrame] | None = None, *,
                config: PlanConfig | None = None) -> dict[str, Any]:
    """Load the stored model of each queue.

    Parameters
    ----------
    models_dir
        The folder :func:`fit_models` wrote.
    queues
        The queues whose models to load.
    histories
        Queue -> its current regularised history. When given, a queue whose history
        differs from the one its model was fitted on (by the fingerprint
        :func:`history_sha256` stored with the model) gets a warning.
    config
        The configuration of the run the models are for. When given, a model fitted at
        another interval length or in another time zone is refused: its forecasts are
        per interval of its own length (a 30-minute model would give each 60-minute
        interval half its volume).

    Returns
    -------
    dict
        Queue -> fitted model, ready for ``build_plan(..., models=...)``.

    Raises
    ------
    DataValidationError
        When the folder does not exist, a queue has no stored model, its file is
        not UTF-8 JSON with the ``"forecast-model/1"`` format, holds another queue's
        model (its ``"queue"`` differs), or (with ``config``) it
        was fitted at another interval or in another time zone.

    Warns
    -----
    StaleModelWarning
        For each queue whose data changed since its model was fitted (with
        ``histories`` only).
    """
    import warnings

    from .forecasters import model_from_dict
    from .report import safe_name

    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        raise DataValidationError("model folder not found; run 'wfm fit CONFIG --models "
                                  f"{models_dir}' first", file=models_dir)
    models = {}
    for queue in queues:
        path = models_dir / f"{safe_name(queue)}.json"
        if not path.is_file():
            raise DataValidationError(f"no stored model for queue '{queue}'; run 'wfm fit' "
                                      "for it", file=path)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DataValidationError(f"not a model file ({exc})", file=path) from None
        if not isinstance(record, dict) or record.get("format") != FORMAT:
            raise DataValidationError(f"not a model file; expected format '{FORMAT}'", file=path)
        if record.get("queue") != queue:
            raise DataValidationError(f"holds the model of queue {record.get('queue')!r}, not "
                                      f"of {queue!r}; refit with 'wfm fit'", file=path)
        missing = [k for k in ("model", "metadata") if not isinstance(record.get(k), dict)]
        if missing:
            raise DataValidationError(f"model file without its '{missing[0]}' section; "
                                      f"refit with 'wfm fit'", file=path)
        models[queue] = model_from_dict(record["model"])
        if config is not None:
            _check_fitted_for(models[queue], record["metadata"], config, path)
        if histories is not None and queue in histories:
            stored = record["metadata"].get("data_sha256")
            if stored != history_sha256(histories[queue]):
                window = " to ".join(record["metadata"]["training_window"])
                warnings.warn(f"queue '{queue}': the data changed since the stored model was "
                              f"fitted (trained on {window}); refit with 'wfm fit' to use the "
                              "new data", StaleModelWarning, stacklevel=2)
    return models


def _check_fitted_for(model, metadata: dict[str, Any], config: PlanConfig, path: Path) -> None:
    """Refuse a stored model fitted at another interval or in another time zone."""
    fitted_s = int(metadata.get("interval_s") or getattr(model, "interval_s_", 0) or 0)
    if fitted_s and fitted_s != config.interval_s:
        raise DataValidationError(
            f"fitted on {fitted_s // 60}-minute intervals, but this run plans "
            f"{config.interval_s // 60}-minute intervals; refit with 'wfm fit'", file=path)
    fitted_tz = metadata.get("timezone")
    if fitted_tz and fitted_tz != config.timezone:
        raise DataValidationError(
            f"fitted in time zone {fitted_tz}, but this run plans in {config.timezone}; "
            "refit with 'wfm fit'", file=path)
