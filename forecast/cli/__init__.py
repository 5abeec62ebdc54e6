"""The ``wfm`` command line: a thin layer over the library.

Each command lives in its own module and is imported only when run, so
``wfm --help`` stays fast. Exit codes: 0 success, 1 bad data or config
(any :class:`~forecast.exceptions.ForecastError`), 2 bad usage, 3 some queues
failed while others succeeded, 4 the output folder is busy (another run holds its
lock), 130 interrupted by Ctrl-C (SIGINT), 143 stopped by SIGTERM (``kill``, ``docker
stop``, a scheduler). An interrupted run unwinds: worker processes are stopped,
partly written files removed and the output folder's lock released.
"""

from __future__ import annotations

import contextlib
import importlib
import signal
import sys
import threading
import warnings
from collections.abc import Iterator

import click

from ..exceptions import ForecastError, ForecastWarning, OutputLockedError

__all__ = ["main", "wfm", "EXIT_OK", "EXIT_DATA", "EXIT_USAGE", "EXIT_PARTIAL", "EXIT_BUSY",
           "EXIT_SIGINT", "EXIT_SIGTERM"]

EXIT_OK = 0
EXIT_DATA = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_BUSY = 4
EXIT_SIGINT = 128 + signal.SIGINT  # 130, as a shell reports a Ctrl-C
EXIT_SIGTERM = 128 + signal.SIGTERM  # 143

#: the exit codes, for every command's --help
EXIT_CODES_HELP = ("Exit codes: 0 ok, 1 bad data or config, 2 bad usage, 3 some queues "
                   "failed (the others are written), 4 output folder busy, 130 interrupted "
                   "(Ctrl-C), 143 stopped by SIGTERM (nothing half-written is left).")

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


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised in the main thread so that the run unwinds: every
    ``finally`` and context manager runs (workers stopped, temporaries removed)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):  # one clean shutdown: later signals wait
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while a command runs."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return
    previous = {sig: signal.signal(sig, _interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class LazyGroup(click.Group):
    """A group whose commands are imported on first use, and that turns library
    errors into one-line messages: exit code 4 for a busy output folder, 1 for any
    other library error or an unwritable file; an interrupted run (SIGINT, SIGTERM)
    exits 130 or 143 with one ``interrupted`` message. With ``--log-format json`` the
    message (and a usage error) is one JSON object."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, target in COMMANDS.items() if _importable(target))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None or not _importable(target):
            return None
        module_name, attr = target.split(":")
        return getattr(importlib.import_module(module_name), attr)

    def invoke(self, ctx: click.Context):
        from ._common import _JSON_LOG, echo_message, json_logging

        _JSON_LOG["on"] = False  # until this run's --log-format says otherwise
        try:
            with _interruptible():
                try:
                    return super().invoke(ctx)
                except KeyboardInterrupt as exc:
                    signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
                    command = " ".join(filter(None, ["wfm", ctx.invoked_subcommand]))
                    echo_message("interrupted", f"{command} stopped by "
                                 f"{signal.Signals(signum).name}; partly written files "
                                 "were removed")
                    ctx.exit(128 + signum)
        except OutputLockedError as exc:
            echo_message("error", str(exc))
            ctx.exit(EXIT_BUSY)
        except ForecastError as exc:
            echo_message("error", str(exc))
            ctx.exit(EXIT_DATA)
        except PermissionError as exc:  # e.g. --out FILE in a folder the user cannot write
            echo_message("error", f"{exc.filename}: cannot write ({exc.strerror})")
            ctx.exit(EXIT_DATA)
        except click.ClickException as exc:
            if not json_logging():
                raise
            echo_message("error", exc.format_message())
            ctx.exit(exc.exit_code)


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
        from ._common import echo_message

        echo_message("warning", str(message))
    else:  # library noise (statsmodels convergence etc.) stays out of a planner's way
        pass


def main() -> None:
    """Console-script entry point."""
    warnings.showwarning = _show_warning
    sys.exit(wfm.main(standalone_mode=True))
