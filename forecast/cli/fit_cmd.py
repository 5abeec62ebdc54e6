"""``wfm fit``: choose and fit each queue's model and save it to the model store."""

from __future__ import annotations

import time
from pathlib import Path

import click

from . import EXIT_DATA, EXIT_PARTIAL
from ._common import (
    RunLog,
    check_queue_option,
    config_argument,
    log_format_option,
    resolve_config,
    scheduler_option,
)


@click.command("fit")
@config_argument
@click.option("--models", "models_dir", default="models", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the fitted models (one JSON file per queue + SUMMARY.md).")
@click.option("--queue", "queues", multiple=True, metavar="NAME",
              help="Fit only this queue (repeatable).")
@click.option("--workers", type=click.IntRange(1, 512), default=1, show_default=True,
              help="Fit queues in this many local processes.")
@scheduler_option
@log_format_option
def fit_cmd(config: Path | None, example: bool, models_dir: Path, queues: tuple[str, ...],
            workers: int, scheduler: str | None, log_format: str) -> None:
    """Choose (by backtest) and fit each queue's model, and save it as JSON.

    Each file records the fitted state with its metadata: library versions,
    training window, a hash of the data and the backtest scores. Plan later
    without refitting:  wfm plan CONFIG --models DIR

    \b
    Exit codes: 0 ok, 1 bad data or config, 2 bad usage, 3 some queues failed
    (the others are saved), 4 models folder busy (another run holds it),
    130 interrupted (Ctrl-C), 143 stopped by SIGTERM.
    """
    from ..atomic import output_lock
    from ..plan import load_inputs
    from ..store import fit_models

    log = RunLog(log_format)
    cfg = resolve_config(config, example)
    started = time.monotonic()
    inputs = load_inputs(cfg)  # bad data or an unknown queue stops before the folder is made
    if queues:
        check_queue_option(queues, inputs.queues)
    with output_lock(models_dir):
        written, failures = fit_models(cfg, models_dir, inputs=inputs, queues=queues or None,
                                       workers=workers, scheduler=scheduler,
                                       progress=log)  # failures are logged as they happen
    fitted = len(written) - 1
    log.summary(f"wfm fit: {fitted} model(s) saved to {models_dir} in "
                f"{time.monotonic() - started:.1f}s" +
                (f"; {len(failures)} queue(s) failed" if failures else ""),
                fitted=fitted, failed=len(failures))
    if failures:
        raise click.exceptions.Exit(EXIT_PARTIAL if fitted else EXIT_DATA)
