"""The ``wfm`` command line: a thin layer over the library.

Each command lives in its own module and is imported only when run, so
``wfm --help`` stays fast. Exit codes: 0 success, 1 bad data or config
(any :class:`~forecast.exceptions.ForecastError`), 2 bad usage, 3 some queues
failed while others succeeded.
"""

from __future__ import annotations

import importlib
import sys
import warnings

import click

from ..exceptions import ForecastError, ForecastWarning

__all__ = ["main", "wfm", "EXIT_OK", "EXIT_DATA", "EXIT_USAGE", "EXIT_PARTIAL"]

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3

#: command name -> "module:attribute"; a module adds itself here, nothing else changes.
COMMANDS: dict[str, str] = {
    "check": "forecast.cli.check:check",
    "plan": "forecast.cli.plan:plan",
    "erlang": "forecast.cli.erlang:erlang",
    "staff": "forecast.cli.staff:staff",
    "forecast": "forecast.cli.forecast_cmd:forecast_cmd",
    "backtest": "forecast.cli.backtest_cmd:backtest_cmd",
    "simulate": "forecast.cli.simulate_cmd:simulate_cmd",
    "calibrate": "forecast.cli.calibrate_cmd:calibrate_cmd",
    "fit": "forecast.cli.fit_cmd:fit_cmd",
    "whatif": "forecast.cli.whatif_cmd:whatif_cmd",
    "replan": "forecast.cli.replan_cmd:replan_cmd",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, and that turns library
    errors into one-line messages with exit code 1."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, target in COMMANDS.items() if _importable(target))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None or not _importable(target):
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ForecastError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(EXIT_DATA)


def _importable(target: str) -> bool:
    module_name = target.split(":")[0]
    return importlib.util.find_spec(module_name) is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="forecast")
def wfm() -> None:
    """Forecast contact volumes and plan agent staffing per interval.

    \b
    Typical weekly run:
      wfm check volumes.csv --events events.csv   # trust the export first
      wfm plan centre.toml --out out/             # forecast + staffing plan
    Try it on the bundled example centre:  wfm plan --example
    """


def _show_warning(message, category, filename, lineno, file=None, line=None):
    if issubclass(category, ForecastWarning):
        click.echo(f"warning: {message}", err=True)
    else:  # library noise (statsmodels convergence etc.) stays out of a planner's way
        pass


def main() -> None:
    """Console-script entry point."""
    warnings.showwarning = _show_warning
    sys.exit(wfm.main(standalone_mode=True))
