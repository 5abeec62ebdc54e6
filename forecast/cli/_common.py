"""Options and helpers shared by the planning commands."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
from pathlib import Path

import click

from ..config import PlanConfig, load_config
from ..exceptions import ConfigError

EXAMPLE_HINT = "run 'python fixtures/make_example.py' to regenerate it"


def resolve_config(config: Path | None, example: bool, *, horizon_days: int | None = None
                   ) -> PlanConfig:
    """Load CONFIG, or the bundled example with --example, applying a horizon override."""
    from ..plan import EXAMPLE_CONFIG

    if example and config is not None:
        raise click.UsageError("give either CONFIG or --example, not both")
    if not example and config is None:
        raise click.UsageError("missing CONFIG (or use --example for the bundled centre)")
    path = EXAMPLE_CONFIG if example else config
    if example and not path.is_file():
        raise ConfigError(f"the example centre is missing; {EXAMPLE_HINT}", file=path)
    cfg = load_config(path)
    if horizon_days is not None:
        cfg = dataclasses.replace(
            cfg, forecast=dataclasses.replace(cfg.forecast, horizon_days=horizon_days))
    return cfg


def config_argument(func):
    """CONFIG argument plus --example."""
    func = click.option("--example", is_flag=True,
                        help="Use the bundled example centre (fixtures/example/centre.toml).")(func)
    return click.argument("config", required=False,
                          type=click.Path(dir_okay=False, path_type=Path))(func)


class RunLog:
    """Progress and events of a long run.

    ``text``: a progress line on a terminal (nothing when not attached to one), an
    error line for each failing queue as it fails, and a summary line at the end.
    ``json``: one JSON object per line on stderr for every queue done or failed, and
    the summary, for log collectors of scheduled jobs.

    Pass the log itself as the ``progress`` of :func:`forecast.parallel.run_per_queue`
    (through ``build_plan`` or ``fit_models``): finished queues call it, failing ones
    call :meth:`failure`.
    """

    def __init__(self, log_format: str = "text"):
        self.json = log_format == "json"
        self.tty = sys.stderr.isatty()
        self._line_open = False  # a progress line without its newline is on the terminal

    def __call__(self, queue: str, done: int, total: int, elapsed_s: float) -> None:
        self.progress(queue, done, total, elapsed_s)

    def event(self, kind: str, **fields) -> None:
        if self.json:
            click.echo(json.dumps({"event": kind, **fields}, default=str, sort_keys=True),
                       err=True)

    def progress(self, queue: str, done: int, total: int, elapsed_s: float) -> None:
        self.event("queue_done", queue=queue, done=done, total=total,
                   elapsed_s=round(elapsed_s, 3))
        if self.tty and not self.json:
            left_s = elapsed_s / done * (total - done)
            click.echo(f"\r  [{done}/{total}] {queue[:24]:<24} {elapsed_s:6.0f}s elapsed, "
                       f"~{left_s:.0f}s left ", err=True, nl=done == total)
            self._line_open = done != total

    def failure(self, queue: str, reason: str) -> None:
        if self.json:
            self.event("queue_failed", queue=queue, reason=reason)
        else:
            if self._line_open:
                click.echo(err=True)
                self._line_open = False
            click.echo(f"error: queue '{queue}' failed: {reason}", err=True)

    def warning(self, queue: str, text: str) -> None:
        if self.json:
            self.event("queue_warning", queue=queue, message=text)
        else:
            click.echo(f"warning: queue '{queue}': {text}", err=True)

    def summary(self, text: str, **fields) -> None:
        if self.json:
            self.event("summary", message=text, **fields)
        else:
            click.echo(text)


#: set by ``--log-format json`` before any other option is read, so that errors and
#: warnings printed outside a :class:`RunLog` (fatal errors, data repairs) are JSON too.
_JSON_LOG = {"on": False}


def json_logging() -> bool:
    """Whether this run prints JSON lines (``--log-format json``)."""
    return _JSON_LOG["on"]


def _set_log_format(ctx, param, value: str) -> str:
    _JSON_LOG["on"] = value == "json"
    return value


def echo_message(level: str, text: str) -> None:
    """Print ``error: text`` / ``warning: text`` on stderr, or one JSON object in JSON mode."""
    if json_logging():
        click.echo(json.dumps({"event": level, "message": text}, sort_keys=True), err=True)
    else:
        click.echo(f"{level}: {text}", err=True)


def log_format_option(func):
    return click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
                        show_default=True, is_eager=True, callback=_set_log_format,
                        help="json: one JSON line per event on stderr (errors and warnings "
                        "too), for scheduled jobs.")(func)


def parse_target(ctx, param, value: str | None) -> tuple[float, float] | None:
    """``--target SHARE/SECONDS``: ``0.8/20``, ``80/20`` or ``80%/20`` -> ``(0.8, 20.0)``.

    A plain share must lie in (0, 1); a whole number in (1, 100) is a percentage, as is
    any number in (0, 100) written with ``%``. Anything else (``1.5/20``, ``0/20``,
    ``1/20``) is a usage error naming the option.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        share_text, seconds_text = text.split("/")
        share_text = share_text.strip()
        percent = share_text.endswith("%")
        share = float(share_text.rstrip("%"))
        seconds = float(seconds_text)
    except ValueError:
        raise click.BadParameter(
            f"'{value}' is not SHARE/SECONDS; expected e.g. 0.8/20, 80/20 or 80%/20 "
            "(80% answered within 20 s)", ctx=ctx, param=param) from None
    if percent:
        if not 0 < share < 100:
            raise click.BadParameter(f"'{value}': a percentage must lie strictly between "
                                     "0 and 100", ctx=ctx, param=param)
        share /= 100.0
    elif 1 < share < 100 and share == int(share):  # 80/20: a whole percentage
        share /= 100.0
    elif not 0 < share < 1:
        raise click.BadParameter(
            f"'{value}': the share must lie strictly between 0 and 1, or be a whole "
            "percentage such as 80/20 (or write e.g. 12.5%/20)", ctx=ctx, param=param)
    if not math.isfinite(seconds) or seconds < 0:
        raise click.BadParameter(f"'{value}': the seconds must be a number >= 0",
                                 ctx=ctx, param=param)
    return share, seconds


def finite(ctx, param, value: float | None) -> float | None:
    """Option callback: reject ``nan`` and ``inf`` (which click's ranges let through)."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number", ctx=ctx, param=param)
    return value


def parse_scheduler(ctx, param, value: str | None) -> str | None:
    """``--scheduler``: ``local`` or ``tcp://host:port``; anything else is a usage error."""
    from ..parallel import check_scheduler

    if value is None:
        return None
    try:
        return check_scheduler(value)
    except ConfigError as exc:
        raise click.BadParameter(exc.reason, ctx=ctx,
                                 param=param) from None


def scheduler_option(func):
    """``--scheduler ADDRESS`` for the commands that can run queues on Dask."""
    return click.option("--scheduler", default=None, metavar="ADDRESS", callback=parse_scheduler,
                        help="Run queues on a Dask cluster: 'local' starts one on this "
                        "machine, or give a scheduler address such as tcp://host:8786.")(func)


def check_queue_option(queues: tuple[str, ...], known: list[str]) -> None:
    """``--queue``: a usage error (exit 2) naming the first of ``queues`` not in ``known``.

    Not :func:`forecast.config.check_queues`, which matches the config's queue sections
    with the data."""
    unknown = sorted(set(queues) - set(known))
    if unknown:
        raise click.BadParameter(f"unknown queue '{unknown[0]}'; the data has "
                                 f"{', '.join(sorted(known))}", param_hint="--queue")

