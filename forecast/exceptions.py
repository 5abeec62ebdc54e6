"""Errors and warnings raised by forecast.

Every error a user can cause derives from :class:`ForecastError`; the CLI maps
those to exit code 1 and prints their one-line message. Messages say what is
wrong and what was expected, naming file, row and column where known.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ForecastError",
    "DataValidationError",
    "ConfigError",
    "NotFittedError",
    "ModelError",
    "OutputLockedError",
    "ForecastWarning",
    "DataRepairWarning",
    "ModelFallbackWarning",
]


class ForecastError(Exception):
    """Base class of every error a user's input or request can cause."""


class DataValidationError(ForecastError, ValueError):
    """An input data file (volumes, events, call records, forecast table) is invalid.

    The message (``str(error)``) is one line: ``"<file>, row <row>, column '<column>':
    <message>"``, naming only the parts that are known, with runs of whitespace in
    ``message`` collapsed to single spaces.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    file, row, column
        Where the problem is, when known. ``row`` is the 1-based line number in
        the file, counting the header as line 1, so it matches what an editor shows.

    Attributes
    ----------
    file
        ``file`` as a string, or None.
    row, column
        As given, or None.
    reason
        ``message`` as given, without the location.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        self.reason = message
        super().__init__(self._one_line())

    def _one_line(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        prefix = ", ".join(where)
        text = " ".join(self.reason.split())
        return f"{prefix}: {text}" if prefix else text


class ConfigError(ForecastError, ValueError):
    """The plan configuration (or a setting passed in code) is invalid.

    The message (``str(error)``) is one line: ``"<file>, key '<key>': <message>"``,
    naming only the parts that are known, with runs of whitespace in ``message``
    collapsed to single spaces. Messages name the allowed values where there is a
    fixed set.

    Parameters
    ----------
    message
        What is wrong and what was expected.
    file
        The configuration file the setting came from, when known.
    key
        The setting at fault, as written in the file (``"queues.voice.hours"``) or the
        name of the argument or option (``"quantile"``), when known.

    Attributes
    ----------
    file
        ``file`` as a string, or None.
    key
        As given, or None.
    reason
        ``message`` as given, without the location.
    """

    def __init__(self, message: str, *, file: str | Path | None = None, key: str | None = None):
        self.file = str(file) if file is not None else None
        self.key = key
        self.reason = message
        where = ", ".join(p for p in (self.file, f"key '{key}'" if key else None) if p)
        text = " ".join(message.split())
        super().__init__(f"{where}: {text}" if where else text)


class NotFittedError(ForecastError, RuntimeError):
    """A model was asked to predict before it was fitted."""


class ModelError(ForecastError, RuntimeError):
    """A model could not be fitted or used (too little history, numerical failure)."""


class OutputLockedError(ForecastError, RuntimeError):
    """Another run holds the lock on the output folder."""


class ForecastWarning(UserWarning):
    """Base class of warnings issued by forecast."""


class DataRepairWarning(ForecastWarning):
    """Input data was repaired by a documented rule (gap filled, duplicate dropped...)."""


class ModelFallbackWarning(ForecastWarning):
    """A model failed on a queue and a simpler one was used instead."""
