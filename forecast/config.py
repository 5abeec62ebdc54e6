"""The plan configuration: a TOML file describing the centre, its data and its queues.

Example
-------
.. code-block:: toml

    [centre]
    name = "Example telco care"
    timezone = "Europe/London"      # the centre's clock; timestamps with offsets are converted
    interval_min = 30               # 15, 30 or 60
    hours_per_fte = 37.5            # contracted hours a week per full-time agent
    holidays_country = "GB"         # optional: public holidays become events
    holidays_subdivision = "ENG"    # optional: region within the country

    [data]
    volumes = "volumes.csv.gz"      # relative to this file
    events = "events.csv"           # optional

    [forecast]
    model = "auto"                  # or one model name; "auto" picks per queue by backtest
    horizon_days = 42

    [defaults]                      # every queue starts from these
    service_level = 0.8
    answer_s = 20
    shrinkage = 0.30
    max_occupancy = 0.85
    cost_per_hour = 24.0
    hours = "08:00-20:00"           # or a table per weekday, see OpeningHours

    [queues.voice]
    channel = "voice"
    aht_s = 300

Everything is validated on load; errors name the file, the key and the allowed values.
"""

from __future__ import annotations

import codecs
import difflib
import math
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd

from .exceptions import ConfigError

__all__ = [
    "CHANNELS",
    "WEEKDAYS",
    "OpeningHours",
    "QueueConfig",
    "ForecastSettings",
    "DataSource",
    "PlanConfig",
    "load_config",
    "config_from_dict",
    "parse_hours",
    "check_timezone",
    "check_holidays",
    "check_queues",
]

CHANNELS = ("voice", "chat", "email", "social")
DEFERRED_CHANNELS = ("email", "social")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ALLOWED_INTERVALS_MIN = (5, 10, 15, 30, 60)
TIMESTAMP_MODES = ("auto", "local")


@dataclass(frozen=True)
class OpeningHours:
    """Opening hours per weekday.

    Attributes
    ----------
    by_weekday
        Seven entries, Monday first; each ``(open_min, close_min)`` in minutes after
        midnight, or ``None`` for a closed day. ``close_min`` may be 1440 (midnight).
    """

    by_weekday: tuple[tuple[int, int] | None, ...]

    @classmethod
    def always(cls) -> OpeningHours:
        """Open 24 hours, 7 days."""
        return cls(((0, 1440),) * 7)

    def is_open(self, starts: pd.DatetimeIndex | pd.Series) -> np.ndarray:
        """Boolean mask: does each interval start fall inside opening hours?"""
        idx = pd.DatetimeIndex(starts)
        weekday = idx.day_of_week.to_numpy()
        minute = (idx.hour * 60 + idx.minute).to_numpy()
        opens = np.array([h[0] if h else 0 for h in self.by_weekday])[weekday]
        closes = np.array([h[1] if h else 0 for h in self.by_weekday])[weekday]
        return (minute >= opens) & (minute < closes)

    def open_minutes_per_week(self) -> int:
        return sum((h[1] - h[0]) for h in self.by_weekday if h)

    def describe(self) -> str:
        parts = []
        for day, h in zip(WEEKDAYS, self.by_weekday, strict=True):
            parts.append(f"{day} " + (f"{_hhmm(h[0])}-{_hhmm(h[1])}" if h else "closed"))
        return ", ".join(parts)


@dataclass(frozen=True)
class QueueConfig:
    """How one queue is staffed.

    Attributes
    ----------
    name
        Queue name as it appears in the volumes file.
    channel
        ``voice`` (Erlang C, or Erlang A when ``patience_s`` is set), ``chat``
        (concurrent sessions), ``email`` or ``social`` (deferred work with backlog).
    service_level, answer_s
        Target: ``service_level`` of contacts answered within ``answer_s`` seconds. For
        email/social, ``answer_s`` is the response-time target counted in open hours.
    aht_s
        Default average handle time, used where the data has none.
    shrinkage
        Share of paid time agents are unavailable (breaks, training, absence), in [0, 1).
    max_occupancy
        Cap on the share of available time agents spend handling contacts, in (0, 1].
    cost_per_hour
        Cost of one scheduled agent-hour.
    hours
        Opening hours; ``None`` means inferred from the data.
    patience_s
        Mean caller patience (voice); switches the voice rule to Erlang A.
    max_asa_s, max_abandon
        Optional additional targets: average speed of answer, abandonment rate.
    concurrency
        Chat sessions an agent handles at once.
    concurrency_aht_factor
        Handle-time stretch per extra concurrent session: the handle time of one
        session at concurrency ``k`` is ``aht_s * (1 + factor * (k - 1))``.
    availability
        Effective share of scheduled agents who serve the queue (from calibration), in (0, 1].
    arrival_hours
        Hours during which contacts arrive, when they differ from ``hours``. ``None``:
        voice and chat contacts arrive while the queue is open (``hours``); email and
        social contacts arrive around the clock (inferred from the data), while
        ``hours`` are the hours the team works them.
    """

    name: str
    channel: str = "voice"
    service_level: float = 0.8
    answer_s: float = 20.0
    aht_s: float = 300.0
    shrinkage: float = 0.30
    max_occupancy: float = 0.85
    cost_per_hour: float = 25.0
    hours: OpeningHours | None = None
    patience_s: float | None = None
    max_asa_s: float | None = None
    max_abandon: float | None = None
    concurrency: int = 1
    concurrency_aht_factor: float = 0.0
    availability: float = 1.0
    arrival_hours: OpeningHours | None = None

    @property
    def is_deferred(self) -> bool:
        return self.channel in DEFERRED_CHANNELS


@dataclass(frozen=True)
class ForecastSettings:
    """Which models to fit and how to evaluate them (the ``[forecast]`` table).

    Attributes
    ----------
    model
        ``"auto"`` (pick per queue among ``candidates``) or one registered model name.
    candidates
        Models ``"auto"`` chooses among; empty:
        :data:`~forecast.forecasters.select.AUTO_CANDIDATES`.
    quantiles
        Forecast quantiles, each strictly between 0 and 1 (sorted, unique).
    horizon_days
        Days planned after the latest data.
    backtest_folds, backtest_horizon_days, backtest_step_days
        Rolling-origin backtest layout: number of origins, days scored per fold, days
        between origins.
    seed
        Random seed of the plan backtest's simulated replay (``wfm backtest --plans``).
    """

    model: str = "auto"
    candidates: tuple[str, ...] = ()
    quantiles: tuple[float, ...] = (0.1, 0.5, 0.9)
    horizon_days: int = 42
    backtest_folds: int = 4
    backtest_horizon_days: int = 7
    backtest_step_days: int = 7
    seed: int = 0


@dataclass(frozen=True)
class DataSource:
    """Where the data lives and how its columns are named.

    ``timestamps`` is ``"auto"`` (naive times are local; times with a UTC offset are
    converted to the centre's zone) or ``"local"`` (any offset in the file is ignored:
    for exports that stamp local clock times with a spurious ``Z``).

    ``timestamp_format`` (``"%d/%m/%Y %H:%M"``) is needed only for dates that are not
    ISO 8601 and whose day/month order the data cannot settle. ``encoding`` names the
    volumes file's text encoding (default UTF-8). ``max_volume`` is the plausibility
    bound: a row with more contacts than this in one interval is rejected as a unit
    mix-up or corrupt export (raise it for a very large centre).
    """

    volumes: Path
    events: Path | None = None
    timestamp_column: str = "timestamp"
    volume_column: str = "volume"
    queue_column: str = "queue"
    aht_column: str = "aht_s"
    abandoned_column: str = "abandoned"
    queue: str | None = None
    timestamps: str = "auto"
    timestamp_format: str | None = None
    encoding: str = "utf-8"
    max_volume: float = 1_000_000.0


@dataclass(frozen=True)
class PlanConfig:
    """A whole plan configuration. Build with :func:`load_config` or :func:`config_from_dict`.

    Attributes
    ----------
    data
        Where the volumes (and events) are and how their columns are named.
    name
        The centre's name, shown in reports.
    timezone
        IANA zone of the centre's clock (``"Europe/London"``).
    interval_min
        Interval length in minutes (5, 10, 15, 30 or 60).
    hours_per_fte
        Contracted hours a week of one full-time agent.
    holidays_country, holidays_subdivision
        Public-holiday calendar whose days become events; None: none.
    forecast
        Model choice and backtest settings.
    defaults
        The ``[defaults]`` queue settings, used for a queue without a section.
    queues
        Queue name -> settings, one per ``[queues.*]`` section.
    source
        The TOML file read, if any (named in errors).
    calibrated
        Values set by :func:`forecast.calibrate.apply_calibration`, per queue (see
        below); empty unless calibrated.
    """

    data: DataSource
    name: str = "contact centre"
    timezone: str = "UTC"
    interval_min: int = 30
    hours_per_fte: float = 37.5
    holidays_country: str | None = None
    holidays_subdivision: str | None = None
    forecast: ForecastSettings = field(default_factory=ForecastSettings)
    defaults: QueueConfig = field(default_factory=lambda: QueueConfig(name="*"))
    queues: Mapping[str, QueueConfig] = field(default_factory=dict)
    source: Path | None = None
    #: values set by :func:`forecast.calibrate.apply_calibration`, per queue (``"*"``: the
    #: defaults and every voice queue); applied already to the sections and defaults, and
    #: by :meth:`queue` to a queue without a section
    calibrated: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @property
    def interval_s(self) -> int:
        return self.interval_min * 60

    def queue(self, name: str) -> QueueConfig:
        """The settings for queue ``name``: its own section, or the defaults (with the
        values calibrated for ``name``, if any)."""
        if name in self.queues:
            return self.queues[name]
        return replace(self.defaults, name=name, **self.calibrated.get(name, {}))


def check_queues(config: PlanConfig, data_queues: Iterable[str], *,
                 selected: Iterable[str] | None = None) -> dict[str, str]:
    """Match the config's ``[queues.*]`` sections with the queues in the data.

    Parameters
    ----------
    config
        The plan configuration.
    data_queues
        The queue names in the volumes.
    selected
        The queues a run is restricted to (``--queue``); None: every queue in the data.

    Returns
    -------
    dict
        Queue -> warning, for each planned data queue without a section of its own
        when the config has sections for other queues (it is planned with the defaults).

    Raises
    ------
    ConfigError
        For a section naming a queue that is not in the data (a typo would otherwise
        leave the real queue on the defaults). A run restricted to ``selected`` needs
        data for those queues only.
    """
    data = sorted(set(data_queues))
    planned = data if selected is None else list(dict.fromkeys(selected))
    sections = config.queues if selected is None else [q for q in config.queues if q in planned]
    absent = [q for q in sections if q not in data]
    if absent:
        close = _close_match(absent[0], data)
        hint = f"; did you mean '{close}'?" if close else ""
        raise ConfigError(f"no such queue in the volumes (queues in the data: "
                          f"{', '.join(data)}){hint}", file=config.source,
                          key=f"queues.{absent[0]}")
    if not config.queues:  # no sections at all: every queue runs on the defaults by design
        return {}
    where = f" in {config.source.name}" if config.source is not None else ""
    return {q: f"no [queues.{q}] section{where}: planned with [defaults], channel "
               f"{config.defaults.channel}" for q in planned if q not in config.queues}


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path) -> PlanConfig:
    """Read and validate a plan configuration from a TOML file.

    Parameters
    ----------
    path
        The TOML file (UTF-8, with or without BOM). Relative data paths in it are
        resolved against its folder.

    Returns
    -------
    PlanConfig
        The validated configuration, with ``source = path``.

    Raises
    ------
    ConfigError
        When the file is missing, is not UTF-8 or not TOML, or fails a check of
        :func:`config_from_dict`; the message names the file and the key.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError("config file not found", file=path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text ({exc.reason})", file=path) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML: {exc}", file=path) from None
    return config_from_dict(raw, base_dir=path.parent, source=path)


def config_from_dict(
    raw: Mapping[str, Any], *, base_dir: str | Path = ".", source: Path | None = None
) -> PlanConfig:
    """Validate a configuration given as nested dictionaries (the TOML structure).

    Parameters
    ----------
    raw
        Tables ``centre``, ``data`` (required), ``forecast``, ``defaults`` and
        ``queues``, as :func:`tomllib.loads` returns them.
    base_dir
        Folder that relative ``data`` paths are resolved against.
    source
        The file the values came from, named in errors and kept as
        :attr:`PlanConfig.source`.

    Returns
    -------
    PlanConfig
        The configuration; each ``[queues.X]`` section starts from ``[defaults]``.

    Raises
    ------
    ConfigError
        Naming the key: an unknown key (with the closest allowed one), a value of the
        wrong type or out of range, a missing ``[data]`` table or ``data.volumes``, an
        unknown timezone, interval, channel, model, encoding, holiday country or
        subdivision, or malformed opening hours.
    """
    p = _Parser(source)
    p.only_keys(raw, "", {"centre", "data", "forecast", "defaults", "queues"})
    centre = p.table(raw, "centre")
    p.only_keys(
        centre,
        "centre",
        {"name", "timezone", "interval_min", "hours_per_fte", "holidays_country",
         "holidays_subdivision"},
    )
    data = p.table(raw, "data", required=True)
    forecast = p.table(raw, "forecast")
    defaults_raw = p.table(raw, "defaults")
    queues_raw = p.table(raw, "queues")

    timezone = check_timezone(p.string(centre, "centre.timezone", "UTC"), file=source,
                              key="centre.timezone")
    interval_min = p.integer(centre, "centre.interval_min", 30)
    if interval_min not in ALLOWED_INTERVALS_MIN:
        raise ConfigError(
            f"got {interval_min}; expected one of {', '.join(map(str, ALLOWED_INTERVALS_MIN))}",
            file=source,
            key="centre.interval_min",
        )

    defaults = _queue_from(p, defaults_raw, "defaults", QueueConfig(name="*"), interval_min)
    queues: dict[str, QueueConfig] = {}
    for qname, qraw in queues_raw.items():
        if not isinstance(qraw, Mapping):
            raise ConfigError("expected a table", file=source, key=f"queues.{qname}")
        queues[qname] = _queue_from(p, qraw, f"queues.{qname}", replace(defaults, name=qname),
                                    interval_min)
    country = p.string(centre, "centre.holidays_country", None)
    subdivision = p.string(centre, "centre.holidays_subdivision", None)
    check_holidays(country, subdivision, file=source)

    return PlanConfig(
        data=_data_from(p, data, Path(base_dir)),
        name=p.string(centre, "centre.name", "contact centre"),
        timezone=timezone,
        interval_min=interval_min,
        hours_per_fte=p.number(centre, "centre.hours_per_fte", 37.5, low=1, high=168),
        holidays_country=country,
        holidays_subdivision=subdivision,
        forecast=_forecast_from(p, forecast),
        defaults=defaults,
        queues=queues,
        source=source,
    )


def _data_from(p: _Parser, data: Mapping[str, Any], base_dir: Path) -> DataSource:
    names = {f.name for f in fields(DataSource)}
    p.only_keys(data, "data", names)
    volumes = p.string(data, "data.volumes", None)
    if volumes is None:
        raise ConfigError("missing; expected the path of the volumes file", file=p.source,
                          key="data.volumes")
    events = p.string(data, "data.events", None)
    kwargs = {
        k: p.string(data, f"data.{k}", getattr(DataSource, k, None))
        for k in names - {"volumes", "events", "max_volume"}
        if k in data
    }
    if "max_volume" in data:
        kwargs["max_volume"] = p.number(data, "data.max_volume", None, low=0, open_low=True)
    if "encoding" in kwargs:
        try:
            codecs.lookup(kwargs["encoding"])
        except LookupError:
            raise ConfigError(f"unknown encoding '{kwargs['encoding']}'; expected e.g. utf-8, "
                              "latin-1 or cp1252", file=p.source, key="data.encoding") from None
    if "timestamp_format" in kwargs and "%" not in kwargs["timestamp_format"]:
        raise ConfigError(f"'{kwargs['timestamp_format']}' has no % directives; expected a "
                          "strftime format such as '%d/%m/%Y %H:%M'", file=p.source,
                          key="data.timestamp_format")
    if kwargs.get("timestamps", "auto") not in TIMESTAMP_MODES:
        raise ConfigError(
            f"unknown timestamp mode '{kwargs['timestamps']}'; expected one of "
            f"{', '.join(TIMESTAMP_MODES)}", file=p.source, key="data.timestamps",
        )
    return DataSource(
        volumes=_resolve(base_dir, volumes),
        events=_resolve(base_dir, events) if events else None,
        **kwargs,
    )


def _forecast_from(p: _Parser, raw: Mapping[str, Any]) -> ForecastSettings:
    p.only_keys(raw, "forecast", {f.name for f in fields(ForecastSettings)})
    d = ForecastSettings()
    quantiles = tuple(p.number_list(raw, "forecast.quantiles", d.quantiles, low=0, high=1))
    if any(q <= 0 or q >= 1 for q in quantiles):
        raise ConfigError("quantiles must lie strictly between 0 and 1", file=p.source,
                          key="forecast.quantiles")
    from .forecasters import MODELS  # the registry only: no model library is imported

    model = p.string(raw, "forecast.model", d.model)
    p.choice(model, "forecast.model", ["auto", *MODELS], "model")
    candidates = tuple(p.string_list(raw, "forecast.candidates", d.candidates))
    for name in candidates:
        p.choice(name, "forecast.candidates", MODELS, "model")
    return ForecastSettings(
        model=model,
        candidates=candidates,
        quantiles=tuple(sorted(set(quantiles))),
        horizon_days=p.integer(raw, "forecast.horizon_days", d.horizon_days, low=1, high=366),
        backtest_folds=p.integer(raw, "forecast.backtest_folds", d.backtest_folds, low=1, high=52),
        backtest_horizon_days=p.integer(
            raw, "forecast.backtest_horizon_days", d.backtest_horizon_days, low=1, high=92
        ),
        backtest_step_days=p.integer(
            raw, "forecast.backtest_step_days", d.backtest_step_days, low=1, high=92
        ),
        seed=p.integer(raw, "forecast.seed", d.seed, low=0),
    )


def check_holidays(country: str | None, subdivision: str | None, *,
                   file: Path | None = None) -> None:
    """Check a holiday country and subdivision against the ``holidays`` package.

    The country is checked first, then the subdivision as a region of it.

    Parameters
    ----------
    country
        ISO 3166 code such as ``"GB"``; None: no holidays.
    subdivision
        Region within ``country`` (``"ENG"``); None: the whole country.
    file
        The config file named in the error, if any.

    Raises
    ------
    ConfigError
        Keyed ``centre.holidays_country`` for an unknown country, or
        ``centre.holidays_subdivision`` for an unknown subdivision (naming the allowed
        ones) or a subdivision without a country.
    """
    if country is None:
        if subdivision is not None:
            raise ConfigError("needs centre.holidays_country (the subdivision is a region of "
                              "it)", file=file, key="centre.holidays_subdivision")
        return
    import holidays

    try:
        calendar = holidays.country_holidays(country)
    except NotImplementedError:
        raise ConfigError(f"unknown country code '{country}'; expected an ISO 3166 code such "
                          "as GB or US", file=file, key="centre.holidays_country") from None
    if subdivision is None:
        return
    try:
        holidays.country_holidays(country, subdiv=subdivision)
    except NotImplementedError:
        _Parser(file).choice(subdivision, "centre.holidays_subdivision",
                             calendar.subdivisions, "subdivision", of=country)


def _queue_from(p: _Parser, raw: Mapping[str, Any], where: str, base: QueueConfig,
                interval_min: int | None = None) -> QueueConfig:
    allowed = {f.name for f in fields(QueueConfig)} - {"name"}
    p.only_keys(raw, where, allowed)
    channel = p.string(raw, f"{where}.channel", base.channel)
    if channel not in CHANNELS:
        raise ConfigError(
            f"unknown channel '{channel}'; expected one of {', '.join(CHANNELS)}",
            file=p.source,
            key=f"{where}.channel",
        )
    hours = base.hours
    if "hours" in raw:
        hours = parse_hours(raw["hours"], key=f"{where}.hours", source=p.source,
                            interval_min=interval_min)
    arrival_hours = base.arrival_hours
    if "arrival_hours" in raw:
        arrival_hours = parse_hours(raw["arrival_hours"], key=f"{where}.arrival_hours",
                                    source=p.source, interval_min=interval_min)
    q = replace(
        base,
        channel=channel,
        service_level=p.number(raw, f"{where}.service_level", base.service_level,
                               low=0, high=1, open_low=True, open_high=True),
        answer_s=p.number(raw, f"{where}.answer_s", base.answer_s, low=0),
        aht_s=p.number(raw, f"{where}.aht_s", base.aht_s, low=0, open_low=True),
        shrinkage=p.number(raw, f"{where}.shrinkage", base.shrinkage, low=0, high=1,
                           open_high=True),
        max_occupancy=p.number(raw, f"{where}.max_occupancy", base.max_occupancy, low=0,
                               high=1, open_low=True),
        cost_per_hour=p.number(raw, f"{where}.cost_per_hour", base.cost_per_hour, low=0),
        hours=hours,
        arrival_hours=arrival_hours,
        patience_s=p.number(raw, f"{where}.patience_s", base.patience_s, low=0, open_low=True),
        max_asa_s=p.number(raw, f"{where}.max_asa_s", base.max_asa_s, low=0, open_low=True),
        max_abandon=p.number(raw, f"{where}.max_abandon", base.max_abandon, low=0, high=1,
                             open_low=True, open_high=True),
        concurrency=p.integer(raw, f"{where}.concurrency", base.concurrency, low=1, high=20),
        concurrency_aht_factor=p.number(raw, f"{where}.concurrency_aht_factor",
                                        base.concurrency_aht_factor, low=0, high=2),
        availability=p.number(raw, f"{where}.availability", base.availability, low=0, high=1,
                              open_low=True),
    )
    for attr in ("hours", "arrival_hours"):
        value = getattr(q, attr)
        if attr in raw and value is not None and not any(value.by_weekday):
            raise ConfigError("closed every day, so there is nothing to plan; expected "
                              "opening hours on at least one day", file=p.source,
                              key=f"{where}.{attr}")
    if q.channel != "chat" and "concurrency" in raw and q.concurrency != 1:
        raise ConfigError(f"concurrency applies to chat queues only (channel is '{q.channel}')",
                          file=p.source, key=f"{where}.concurrency")
    return q


def check_timezone(name: str, *, file: Path | None = None, key: str = "timezone") -> str:
    """Return ``name`` if it is a known IANA time zone, else raise :class:`ConfigError`."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(
            f"unknown time zone '{name}'; expected an IANA name such as 'Europe/London'",
            file=file, key=key,
        ) from None
    return name


def parse_hours(value: Any, *, key: str = "hours", source: Path | None = None,
                interval_min: int | None = None) -> OpeningHours:
    """Parse opening hours.

    Accepts one string for every day (``"08:00-20:00"``, ``"24h"``, ``"closed"``) or a
    table keyed by weekday (``mon`` ... ``sun``, missing days closed), with an optional
    ``default`` key for the days not named. With ``interval_min``, every opening and
    closing time must fall on that interval grid.
    """
    if isinstance(value, str):
        span = _parse_span(value, key, source, interval_min)
        return OpeningHours((span,) * 7)
    if isinstance(value, Mapping):
        unknown = set(value) - set(WEEKDAYS) - {"default"}
        if unknown:
            raise ConfigError(
                f"unknown day '{sorted(unknown)[0]}'; expected {', '.join(WEEKDAYS)} or default",
                file=source, key=key,
            )
        default = _parse_span(value["default"], f"{key}.default", source, interval_min) \
            if "default" in value else None
        days = tuple(
            _parse_span(value[d], f"{key}.{d}", source, interval_min) if d in value else default
            for d in WEEKDAYS
        )
        return OpeningHours(days)
    raise ConfigError("expected a string like '08:00-20:00' or a table per weekday",
                      file=source, key=key)


def _parse_span(text: Any, key: str, source: Path | None,
                interval_min: int | None = None) -> tuple[int, int] | None:
    if not isinstance(text, str):
        raise ConfigError("expected a string like '08:00-20:00', '24h' or 'closed'",
                          file=source, key=key)
    t = text.strip().lower()
    if t == "closed":
        return None
    if t in ("24h", "00:00-24:00"):
        return (0, 1440)
    try:
        start_s, end_s = t.split("-")
        start, end = _minutes(start_s), _minutes(end_s)
    except ValueError:
        raise ConfigError(f"cannot read '{text}'; expected 'HH:MM-HH:MM', '24h' or 'closed'",
                          file=source, key=key) from None
    if not 0 <= start < end <= 1440:
        raise ConfigError(f"'{text}' must open before it closes, within one day",
                          file=source, key=key)
    if interval_min and (start % interval_min or end % interval_min):
        raise ConfigError(f"'{text}' must start and end on the {interval_min}-minute grid of "
                          "centre.interval_min", file=source, key=key)
    return (start, end)


def _minutes(hhmm: str) -> int:
    h, m = hhmm.strip().split(":")
    hours, minutes = int(h), int(m)
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or (hours == 24 and minutes):
        raise ValueError(hhmm)
    return hours * 60 + minutes


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _resolve(base_dir: Path, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base_dir / p)


def _close_match(word: str, choices: Iterable[str]) -> str | None:
    """The choice closest to ``word`` (a likely typo), or None."""
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return close[0] if close else None


class _Parser:
    """Typed access to TOML values with errors that name the key."""

    def __init__(self, source: Path | None):
        self.source = source

    def fail(self, key: str, expected: str, got: Any) -> ConfigError:
        return ConfigError(f"got {got!r}; expected {expected}", file=self.source, key=key)

    def only_keys(self, raw: Mapping[str, Any], where: str, allowed: set[str]) -> None:
        for k in raw:
            if k not in allowed:
                key = f"{where}.{k}" if where else k
                close = _close_match(str(k), allowed)
                hint = f"did you mean '{close}'? " if close else ""
                raise ConfigError(
                    f"unknown key; {hint}expected one of {', '.join(sorted(allowed))}",
                    file=self.source, key=key,
                )

    def choice(self, value: str, key: str, allowed: Iterable[str], what: str,
               of: str = "") -> str:
        """``value`` if it is one of ``allowed``, else an error naming the allowed values
        and the closest one (``of`` says whose values they are)."""
        allowed = sorted(allowed)
        if value in allowed:
            return value
        close = _close_match(value, allowed)
        hint = f" (did you mean '{close}'?)" if close else ""
        whose = f" of {of}" if of else ""
        raise ConfigError(f"unknown {what} '{value}'{whose}; expected one of "
                          f"{', '.join(allowed)}{hint}", file=self.source, key=key)

    def table(self, raw: Mapping[str, Any], key: str, required: bool = False) -> Mapping:
        if key not in raw:
            if required:
                raise ConfigError(f"missing section [{key}]", file=self.source, key=key)
            return {}
        if not isinstance(raw[key], Mapping):
            raise self.fail(key, "a table", raw[key])
        return raw[key]

    def string(self, raw: Mapping[str, Any], key: str, default: Any) -> Any:
        leaf = key.rsplit(".", 1)[-1]
        if leaf not in raw:
            return default
        value = raw[leaf]
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "a non-empty string", value)
        return value

    def number(self, raw, key, default, *, low=None, high=None, open_low=False, open_high=False):
        leaf = key.rsplit(".", 1)[-1]
        if leaf not in raw:
            return default
        value = raw[leaf]
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(
            value
        ):
            raise self.fail(key, "a number", value)
        lo_ok = low is None or (value > low if open_low else value >= low)
        hi_ok = high is None or (value < high if open_high else value <= high)
        if not (lo_ok and hi_ok):
            lb = "" if low is None else ("(" if open_low else "[") + f"{low}"
            hb = "" if high is None else f"{high}" + (")" if open_high else "]")
            rng = f"{lb}, {hb}" if low is not None and high is not None else (
                f"{'>' if open_low else '>='} {low}" if low is not None
                else f"{'<' if open_high else '<='} {high}")
            expected = f"a number in {rng}" if high is not None and low is not None \
                else f"a number {rng}"
            if high == 1 and 1 < value <= 100:
                expected += f" (a share: write {value:g}% as {value / 100:g})"
            raise self.fail(key, expected, value)
        return float(value)

    def integer(self, raw, key, default, *, low=None, high=None):
        leaf = key.rsplit(".", 1)[-1]
        if leaf not in raw:
            return default
        value = raw[leaf]
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, "a whole number", value)
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"from {low}" + (f" to {high}" if high is not None else " up")
            raise self.fail(key, f"a whole number {bounds}", value)
        return value

    def string_list(self, raw, key, default):
        leaf = key.rsplit(".", 1)[-1]
        if leaf not in raw:
            return default
        value = raw[leaf]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "a list of strings", value)
        return value

    def number_list(self, raw, key, default, *, low=None, high=None):
        leaf = key.rsplit(".", 1)[-1]
        if leaf not in raw:
            return default
        value = raw[leaf]
        if not isinstance(value, list) or not value or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in value
        ):
            raise self.fail(key, "a non-empty list of numbers", value)
        return [float(v) for v in value]
