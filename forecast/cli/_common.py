"""Options and helpers shared by the planning commands."""

from __future__ import annotations

import dataclasses
import json
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

    ``text``: a progress line on a terminal (nothing when not attached to one) and a
    summary line at the end. ``json``: one JSON object per line on stderr for every
    queue done or failed, and the summary, for log collectors of scheduled jobs.
    """

    def __init__(self, log_format: str = "text"):
        self.json = log_format == "json"
        self.tty = sys.stderr.isatty()

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

    def failure(self, queue: str, reason: str) -> None:
        if self.json:
            self.event("queue_failed", queue=queue, reason=reason)
        else:
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


def log_format_option(func):
    return click.option("--log-format", type=click.Choice(["text", "json"]), default="text",
                        show_default=True,
                        help="json: one JSON line per event on stderr, for scheduled jobs.")(func)
