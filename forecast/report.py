"""Planner-facing outputs of a plan: CSV, Parquet, an Excel workbook, a self-contained
HTML report, and PNG charts (matplotlib, Agg backend).

Every file is written atomically (see :mod:`forecast.atomic`), so a scheduled job
never picks up a half-written export, and every format is deterministic: the same
:class:`~forecast.plan.PlanResult` written twice gives byte-identical files (no run
dates, no software stamps, fixed workbook and zip timestamps taken from the plan).

Files written by :func:`write_plan_outputs`
-------------------------------------------
plan.csv / plan.parquet
    One row per queue x interval, columns :func:`ordered_plan_columns` (the fixed
    :data:`PLAN_COLUMNS` with the forecast quantiles after ``volume_mean``, and the
    queue's ``channel`` last).
daily.csv / daily.parquet
    One row per queue x day, :data:`DAILY_COLUMNS`.
plan.xlsx
    A ``Summary`` sheet (weekly and daily per queue, with ``all``-queue totals) and
    one sheet per queue: the queue's name in its first row, then its interval plan.
report.html
    One file, no external assets: header figures, per-queue sections with tables and
    charts embedded as base64 PNG.
chart_<queue>.png
    Forecast fan chart with history and events over required vs scheduled agents;
    with ``charts="all"`` also ``heatmap_<queue>.png`` and ``peaks_<queue>.png``.
    ``<queue>`` is the queue's file stem (:func:`safe_name`): its name when that is a
    safe file name, else a cleaned form and a short hash, so no two queues share a file.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import io
import os
import sys
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib

if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
    # files only (command line, workers); a notebook's own backend is left alone
    matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from . import summary as summaries  # noqa: E402
from .atomic import atomic_path, write_bytes, write_csv, write_text, write_with  # noqa: E402
from .plan import with_channel  # noqa: E402,F401  (re-exported)

if TYPE_CHECKING:
    from .plan import PlanResult, QueuePlan

__all__ = [
    "PLAN_COLUMNS",
    "DAILY_COLUMNS",
    "FORMATS",
    "ordered_plan_columns",
    "with_channel",
    "write_plan_outputs",
    "write_parquet",
    "write_workbook",
    "render_html",
    "plan_chart",
    "fan_chart",
    "requirement_chart",
    "staffing_heatmap",
    "peaks_chart",
    "queue_peaks",
    "figure_png",
    "save_figure",
    "safe_name",
]

#: plan.csv columns in order; quantile columns (p10, p50, p90, ...) follow ``volume_mean``.
PLAN_COLUMNS = [
    "queue", "ds", "volume", "volume_mean", "aht_s", "workload_erlangs", "agents_raw",
    "agents_required", "binding", "agents_scheduled", "service_level", "asa_s", "occupancy",
    "abandonment", "backlog", "cost",
]
DAILY_COLUMNS = ["queue", "date", "volume", "agent_hours", "fte", "peak_agents", "cost",
                 "service_level"]
#: Output formats :func:`write_plan_outputs` accepts (CSV is always written).
FORMATS = ("csv", "parquet", "xlsx", "html")
FLOAT_FORMAT = "%.6g"
PLAN_DATE_FORMAT = "%Y-%m-%d %H:%M"
HISTORY_WEEKS_SHOWN = 4
PNG_DPI = 110
TOP_PEAKS = 10
EVENT_COLOURS = {"campaign": "tab:purple", "outage": "tab:red", "holiday": "tab:gray",
                 "release": "tab:cyan", "other": "tab:olive"}


def ordered_plan_columns(plan: pd.DataFrame) -> list[str]:
    """plan.csv's documented column order: fixed columns, quantiles after volume_mean,
    other columns, then ``channel`` (when present) last."""
    quantiles = _quantile_columns(plan)
    head = PLAN_COLUMNS[:4] + quantiles
    rest = [c for c in PLAN_COLUMNS[4:] if c in plan.columns]
    extra = [c for c in plan.columns if c not in head and c not in rest and c != "channel"]
    return head + rest + extra + (["channel"] if "channel" in plan.columns else [])


def plan_csv_rows(plan: pd.DataFrame, columns: list[str] | None = None) -> str:
    """plan.csv's rows for ``plan`` (no header), exactly as the file holds them."""
    return plan[columns or ordered_plan_columns(plan)].to_csv(
        index=False, header=False, lineterminator="\n", float_format=FLOAT_FORMAT,
        date_format=PLAN_DATE_FORMAT)


def _quantile_columns(frame: pd.DataFrame) -> list[str]:
    return sorted((c for c in frame.columns if c.startswith("p") and c[1:2].isdigit()),
                  key=lambda c: float(c[1:]))


# =========================================================================== writing


def write_plan_outputs(
    result: PlanResult,
    out_dir: Path,
    *,
    formats: Sequence[str] = ("csv",),
    charts: bool | str = True,
    generated_at: str | None = None,
) -> list[Path]:
    """Write the plan's outputs into ``out_dir``.

    Parameters
    ----------
    result
        The plan.
    out_dir
        Target folder (created if missing).
    formats
        Any of :data:`FORMATS`; ``plan.csv`` and ``daily.csv`` are always written.
    charts
        ``True``: ``chart_<queue>.png`` per queue; ``"all"``: also the staffing heatmap
        and peaks charts as PNG files; ``False``: no PNG files (the HTML report still
        embeds its charts).
    generated_at
        Text shown as the run time in the HTML report (omitted when ``None``, so the
        report stays byte-identical between runs).

    Returns
    -------
    list of Path
        The files written, in writing order.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown output format '{unknown[0]}'; expected one of "
                         f"{', '.join(FORMATS)}")
    if charts not in (True, False, "all"):
        raise ValueError(f"charts must be True, False or 'all', got {charts!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    plan = with_channel(result.plan, result.config)
    plan = plan[ordered_plan_columns(plan)]
    daily = result.daily[DAILY_COLUMNS]
    written = [
        write_csv(plan, out_dir / "plan.csv", float_format=FLOAT_FORMAT,
                  date_format=PLAN_DATE_FORMAT),
        write_csv(daily, out_dir / "daily.csv", float_format=FLOAT_FORMAT,
                  date_format="%Y-%m-%d"),
    ]
    if "parquet" in formats:
        written.append(write_parquet(plan, out_dir / "plan.parquet"))
        written.append(write_parquet(daily, out_dir / "daily.parquet"))
    if "xlsx" in formats:
        written.append(write_workbook(result, out_dir / "plan.xlsx"))
    images = {}
    if charts or "html" in formats:
        images = {name: _queue_images(result, name, full=charts == "all" or "html" in formats)
                  for name in result.queues}
    if charts:
        for name, pngs in images.items():
            kinds = ("chart", "heatmap", "peaks") if charts == "all" else ("chart",)
            for kind in kinds:
                if pngs.get(kind) is not None:
                    written.append(write_bytes(pngs[kind],
                                               out_dir / f"{kind}_{safe_name(name)}.png"))
    if "html" in formats:
        written.append(write_text(render_html(result, images=images,
                                              generated_at=generated_at),
                                  out_dir / "report.html"))
    return written


_SAFE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
_RESERVED_STEMS = frozenset(["con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)),
                             *(f"lpt{i}" for i in range(10))])
_MAX_STEM = 100


def safe_name(name: str) -> str:
    """A queue's file stem (``chart_<stem>.png``, ``<stem>.json``) and HTML id: distinct
    for distinct queue names, the same on every run and machine.

    A name that is already safe stays as it is: at most 100 characters, only lower-case
    ASCII letters, digits, ``-``, ``_`` and ``.``, not starting with ``.`` and not a
    Windows device name (``con``, ``nul``, ``com1``, ...). Any other name (upper-case
    letters included, so that ``Voice`` and ``voice`` differ on case-insensitive disks)
    becomes its cleaned form (other characters replaced by ``_``, at most 60 kept) then
    ``~`` and the first 6 hex digits of the SHA-256 of the name: ``sales/uk`` ->
    ``sales_uk~<hash>``. ``~`` never occurs in a safe name, so a cleaned stem can equal
    neither a safe name nor another name's stem (barring a 6-hex-digit hash collision).
    """
    name = str(name)
    if (0 < len(name) <= _MAX_STEM and set(name) <= _SAFE_CHARS and not name.startswith(".")
            and name.split(".")[0] not in _RESERVED_STEMS):
        return name
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name[:60])
    if cleaned.startswith("."):
        cleaned = "_" + cleaned[1:]
    return f"{cleaned}~{hashlib.sha256(name.encode('utf-8')).hexdigest()[:6]}"


def write_parquet(frame: pd.DataFrame, target: str | Path) -> Path:
    """Write ``frame`` as Parquet atomically (no index; zstd; deterministic bytes).

    Timestamps are stored as naive (local) timestamps; the only metadata is the
    pandas schema, which holds no run-dependent values.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False)

    def write(tmp: Path) -> None:
        pq.write_table(table, tmp, compression="zstd")

    return write_with(write, target)


# --------------------------------------------------------------------------- Excel

_SHEET_FORBIDDEN = set("[]:*?/\\")
_FORMATS_BY_COLUMN = {
    "ds": "yyyy-mm-dd hh:mm", "peak_ds": "yyyy-mm-dd hh:mm", "date": "yyyy-mm-dd",
    "start": "yyyy-mm-dd", "volume": "#,##0.0", "volume_mean": "#,##0.0", "aht_s": "0",
    "workload_erlangs": "0.00", "agents_raw": "0.00", "agents_required": "0",
    "agents_scheduled": "0", "peak_agents": "0", "service_level": "0.0%", "asa_s": "0.0",
    "occupancy": "0.0%", "abandonment": "0.0%", "backlog": "#,##0.0", "cost": "#,##0.00",
    "agent_hours": "#,##0.0", "fte": "#,##0.0", "days": "0",
}
_WIDTHS = {"ds": 17, "peak_ds": 17, "date": 11, "start": 11, "binding": 14}


def write_workbook(result: PlanResult, target: str | Path) -> Path:
    """Write ``plan.xlsx``: a Summary sheet and one interval-plan sheet per queue.

    The Summary sheet has a title block, then one table (frozen header, filter) of
    weekly and daily rows per queue and for all queues. Each queue sheet (its title the
    queue name, cut to Excel's 31 characters without ``[]:*?/\\``, numbered when two
    clash) has the full queue name in its first row, then the plan columns of
    :func:`ordered_plan_columns`. Text is always stored as text, never as a formula.
    Workbook properties and zip entry times are set from the plan's first day, so the
    file is byte-identical between runs.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.writer.excel import ExcelWriter

    cfg = result.config
    plan = result.plan
    plan = plan[ordered_plan_columns(plan)]
    stamp = _plan_stamp(plan)

    wb = Workbook()
    summary_sheet = wb.active
    summary_sheet.title = "Summary"
    table = _summary_rows(result)
    title = [
        [f"{cfg.name}: staffing plan"],
        [_horizon_text(plan, cfg.forecast.horizon_days) + f"; staffed to {result.volume_column}; "
         f"{cfg.interval_min}-minute intervals; FTE = {cfg.hours_per_fte:g} h a week (a day: "
         "a fifth; a partial week: pro-rated to its days)"],
        ["Models: " + ", ".join(f"{name} {q.model}" for name, q in result.queues.items())],
        [],
    ]
    for row in title:
        summary_sheet.append(row)
    _as_text(summary_sheet["A"][:len(title)])
    summary_sheet["A1"].font = Font(bold=True, size=14)
    _append_table(summary_sheet, table, header_row=len(title) + 1)

    used = {"summary"}
    for name, queue_plan in result.queues.items():
        sheet = wb.create_sheet(_sheet_title(name, used))
        sheet.append([name])  # the title may be cut short or numbered: the real name
        _as_text([sheet["A1"]])
        sheet["A1"].font = Font(bold=True, size=14)
        frame = plan[plan["queue"] == name].drop(columns="queue")
        if len(frame) == 0:
            frame = queue_plan.plan.reindex(columns=[c for c in plan.columns if c != "queue"])
        _append_table(sheet, frame, header_row=2)

    props = wb.properties
    props.creator = "forecast"
    props.lastModifiedBy = "forecast"
    props.title = f"{cfg.name}: staffing plan"
    props.created = stamp
    props.modified = stamp

    def write(tmp: Path) -> None:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            ExcelWriter(wb, archive).save()  # unlike Workbook.save, keeps props.modified
        _rezip_with_fixed_times(buffer.getvalue(), tmp, stamp)

    return write_with(write, target)


def _plan_stamp(plan: pd.DataFrame) -> dt.datetime:
    """The plan's first interval start (zip timestamps cannot precede 1980)."""
    first = pd.to_datetime(plan["ds"]).min() if len(plan) else pd.NaT
    if pd.isna(first) or first.year < 1980:
        return dt.datetime(1980, 1, 1)
    return first.to_pydatetime().replace(microsecond=0)


def _rezip_with_fixed_times(data: bytes, target: Path, stamp: dt.datetime) -> None:
    """Copy a zip archive, giving every entry the same timestamp and permissions."""
    date_time = (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute,
                 stamp.second - stamp.second % 2)
    with zipfile.ZipFile(io.BytesIO(data)) as source, \
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            out.writestr(info, source.read(entry.filename))


def _sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique Excel sheet title (31 characters, no []:*?/\\)."""
    base = "".join("_" if ch in _SHEET_FORBIDDEN else ch for ch in str(name)).strip("'")
    base = (base or "queue")[:31]
    title, n = base, 2
    while title.lower() in used:
        suffix = f" ({n})"
        title, n = base[:31 - len(suffix)] + suffix, n + 1
    used.add(title.lower())
    return title


def _summary_rows(result: PlanResult) -> pd.DataFrame:
    settings = summaries.plan_settings(result)
    plan = result.plan
    table = pd.concat([summaries.weekly_table(plan, **settings),
                       summaries.daily_table(plan, interval_s=settings["interval_s"],
                                             hours_per_fte=settings["hours_per_fte"])],
                      ignore_index=True)
    return _order_summary(table)


def _order_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Weeks before days; per-queue rows then the all-queue totals; by start."""
    rank = np.where(table["period"].eq("week"), 0, np.where(table["period"].eq("day"), 1, 2))
    totals = table["queue"].eq(summaries.ALL_QUEUES).to_numpy()
    order = np.lexsort((table["start"].to_numpy(), table["queue"].to_numpy(), totals, rank))
    columns = ["period", "queue", "start", "days", "volume", "agent_hours", "fte", "cost",
               "service_level", "peak_ds", "peak_agents"]
    return table.iloc[order][columns].reset_index(drop=True)


def _append_table(sheet, frame: pd.DataFrame, *, header_row: int) -> None:
    """Append ``frame`` below the sheet's rows: bold frozen header, filter, formats."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    columns = list(frame.columns)
    sheet.append(columns)
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in _excel_rows(frame):
        sheet.append(row)
    last_row = header_row + len(frame)
    for idx, column in enumerate(columns, start=1):
        if not _is_number_column(frame[column]):
            _as_text(cell for (cell,) in sheet.iter_rows(min_row=header_row, max_row=last_row,
                                                         min_col=idx, max_col=idx))
        letter = get_column_letter(idx)
        width = _WIDTHS.get(column, max(len(column) + 2, 10))
        sheet.column_dimensions[letter].width = width
        number_format = _FORMATS_BY_COLUMN.get(column)
        if number_format is None and column.startswith("p") and column[1:2].isdigit():
            number_format = "#,##0.0"
        if number_format and len(frame):
            first = sheet.cell(row=header_row + 1, column=idx)
            first.number_format = number_format
            style = first._style  # one shared style array: far faster than per-cell formats
            for (cell,) in sheet.iter_rows(min_row=header_row + 2, max_row=last_row,
                                           min_col=idx, max_col=idx):
                cell._style = style
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=1)
    if columns:
        last_column = get_column_letter(len(columns))
        sheet.auto_filter.ref = f"A{header_row}:{last_column}{max(last_row, header_row)}"


def _is_number_column(values: pd.Series) -> bool:
    """Whether :func:`_excel_rows` writes the column as numbers, dates or booleans."""
    return (pd.api.types.is_datetime64_any_dtype(values) or pd.api.types.is_bool_dtype(values)
            or pd.api.types.is_integer_dtype(values) or pd.api.types.is_float_dtype(values))


def _as_text(cells: Iterable) -> None:
    """Store the text in ``cells`` as text: openpyxl would store a string starting with
    ``=`` as a live formula (a queue named ``=cmd|' /C calc'!A0`` would run on opening)
    and ``#N/A`` as an error value."""
    for cell in cells:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def _excel_rows(frame: pd.DataFrame) -> Iterable[list]:
    """Rows of plain Python values; NaN and NaT become empty cells."""
    converted = []
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            converted.append([None if pd.isna(v) else v.to_pydatetime() for v in values])
        elif pd.api.types.is_bool_dtype(values):
            converted.append([bool(v) for v in values])
        elif pd.api.types.is_integer_dtype(values):
            converted.append([int(v) for v in values])
        elif pd.api.types.is_float_dtype(values):
            arr = values.to_numpy(dtype=float)
            converted.append([float(v) if np.isfinite(v) else None for v in arr])
        else:
            converted.append([None if pd.isna(v) else str(v) for v in values])
    return (list(row) for row in zip(*converted, strict=True)) if converted else iter(())


# ---------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;
max-width:1200px;color:#222;padding:0 1em}
h1{margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
.meta{color:#555}.figures{display:flex;flex-wrap:wrap;gap:1em;margin:1em 0}
.figure{background:#f4f6f8;border-radius:6px;padding:.6em 1em;min-width:9em}
.figure b{display:block;font-size:1.4em}
table{border-collapse:collapse;margin:.6em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:.25em .6em;text-align:right}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}
tr.total td{font-weight:bold;background:#fafafa}
img{max-width:100%;height:auto;display:block;margin:.6em 0}
.warn{color:#a40}nav a{margin-right:1em}
"""


def render_html(
    result: PlanResult,
    *,
    images: dict[str, dict[str, bytes | None]] | None = None,
    generated_at: str | None = None,
    charts: bool = True,
) -> str:
    """The plan as one self-contained HTML page (charts embedded as base64 PNG).

    Parameters
    ----------
    result
        The plan.
    images
        Pre-rendered PNGs per queue (``{"chart", "heatmap", "peaks"}`` and the
        ``"peaks_table"``), to avoid drawing twice; drawn here when missing.
    generated_at
        Shown in the header when given; nothing run-dependent is shown otherwise.
    charts
        Embed the charts (``False`` gives a small tables-only page).
    """
    cfg = result.config
    plan = result.plan
    settings = summaries.plan_settings(result)
    totals = summaries.horizon_totals(plan, **settings)
    weekly = summaries.weekly_table(plan, **settings)
    daily = summaries.daily_table(plan, interval_s=cfg.interval_s,
                                  hours_per_fte=cfg.hours_per_fte)
    everything = totals[totals["queue"] == summaries.ALL_QUEUES].iloc[0] if len(totals) else None
    esc = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(cfg.name)}: staffing plan</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{esc(cfg.name)}: staffing plan</h1>",
        f'<p class="meta">{esc(_horizon_text(plan, cfg.forecast.horizon_days))}; staffed to '
        f"<b>{esc(result.volume_column)}</b> of the forecast; {cfg.interval_min}-minute "
        f"intervals; times are local ({esc(cfg.timezone)}); 1 FTE = "
        f"{cfg.hours_per_fte:g} hours a week"
        + (f"; generated {esc(generated_at)}" if generated_at else "") + ".</p>",
    ]
    if everything is not None:
        parts.append('<div class="figures">' + "".join(
            f'<div class="figure"><b>{value}</b>{esc(label)}</div>' for label, value in (
                ("FTE (average over the horizon)", f"{everything['fte']:,.1f}"),
                ("agent-hours scheduled", f"{everything['agent_hours']:,.0f}"),
                ("cost", f"{everything['cost']:,.0f}"),
                ("contacts forecast", f"{everything['volume']:,.0f}"),
                ("expected service level", _pct(everything["service_level"])),
                ("peak agents on shift", f"{everything['peak_agents']:,d} at "
                 f"{everything['peak_ds']:%a %d %b %H:%M}"),
            )) + "</div>")
    if result.failures:
        parts.append('<p class="warn">Not planned: ' + "; ".join(
            f"{esc(q)} ({esc(reason)})" for q, reason in sorted(result.failures.items()))
            + "</p>")
    parts.append("<nav>" + "".join(f'<a href="#queue-{esc(safe_name(n))}">{esc(n)}</a>'
                                   for n in result.queues) + "</nav>")
    parts += ["<h2>Queues</h2>", _html_table(_queue_overview(result, totals))]
    parts += ["<h2>Weekly</h2>",
              "<p>Weeks run Monday to Sunday; <i>days</i> &lt; 7 marks a partial week, "
              "whose FTE is pro-rated to those days (weekly hours x days / 7).</p>",
              _html_table(_display_summary(weekly), total_rows=weekly["queue"].eq(
                  summaries.ALL_QUEUES).to_numpy())]
    for name in result.queues:
        pngs = (images or {}).get(name) or (_queue_images(result, name, full=True)
                                            if charts else {})
        qdaily = daily[daily["queue"] == name]
        parts += [f'<h2 id="queue-{esc(safe_name(name))}">{esc(name)}</h2>',
                  f'<p class="meta">{esc(_queue_description(result, name))}</p>']
        for kind, alt in (("chart", "forecast fan chart over agents required and scheduled"),
                          ("heatmap", "staffing heatmap"), ("peaks", "forecast peaks")):
            if pngs.get(kind) is not None:
                parts.append(f'<img alt="{esc(name)}: {alt}" '
                             f'src="data:image/png;base64,{base64.b64encode(pngs[kind]).decode()}">')
        peaks = pngs.get("peaks_table")
        if isinstance(peaks, pd.DataFrame) and len(peaks):
            parts += ["<h3>Peaks</h3>", _html_table(_display_peaks(peaks))]
        elif isinstance(peaks, pd.DataFrame):
            parts.append("<p>No forecast interval materially above the normal range of "
                         "recent weeks (at least 10% and 3 contacts above it).</p>")
        parts += ["<h3>Daily</h3>", _html_table(_display_summary(qdaily))]
    parts += ["<h2>Definitions</h2>", "<ul>",
              "<li><b>agent-hours</b>: heads scheduled (after shrinkage and availability) "
              "x interval length.</li>",
              "<li><b>FTE</b>: agent-hours / contracted hours (a day: weekly hours / 5; a "
              "week or the horizon: weekly hours x days / 7, so a full week is weekly "
              "hours and a partial week is pro-rated).</li>",
              "<li><b>service level</b>: share of contacts answered within the target, "
              "volume-weighted over the period.</li>",
              "<li><b>peak</b>: the interval with the most agents scheduled.</li>",
              "</ul></body></html>", ""]
    return "\n".join(parts)


def _horizon_text(plan: pd.DataFrame, horizon_days: int | None = None) -> str:
    if len(plan) == 0:
        return "empty plan"
    first, last = pd.to_datetime(plan["ds"]).min(), pd.to_datetime(plan["ds"]).max()
    if horizon_days is not None:
        last = max(last, first.normalize() + pd.Timedelta(days=horizon_days - 1))
    days = (last.normalize() - first.normalize()).days + 1
    return f"{first:%a %d %b %Y} to {last:%a %d %b %Y} ({days} days)"


def _queue_description(result: PlanResult, name: str) -> str:
    q = result.config.queue(name)
    target = (f"{q.service_level:.0%} within {q.answer_s / 3600:g} h (open hours)"
              if q.is_deferred else f"{q.service_level:.0%} within {q.answer_s:g} s")
    extra = []
    if q.patience_s:
        extra.append(f"patience {q.patience_s:g} s")
    if q.max_abandon is not None:
        extra.append(f"abandonment <= {q.max_abandon:.0%}")
    if q.concurrency > 1:
        extra.append(f"{q.concurrency} sessions per agent")
    return (f"{q.channel}; model {result.queues[name].model}; target {target}; "
            f"shrinkage {q.shrinkage:.0%}; occupancy cap {q.max_occupancy:.0%}; "
            f"cost {q.cost_per_hour:g} per hour" + "".join(f"; {e}" for e in extra))


def _queue_overview(result: PlanResult, totals: pd.DataFrame) -> pd.DataFrame:
    by_queue = totals.set_index("queue")
    rows = []
    for name in [*result.queues, summaries.ALL_QUEUES]:
        if name not in by_queue.index:
            continue
        t = by_queue.loc[name]
        is_all = name == summaries.ALL_QUEUES
        rows.append({
            "queue": name,
            "channel": "" if is_all else result.config.queue(name).channel,
            "model": "" if is_all else result.queues[name].model,
            "contacts": f"{t['volume']:,.0f}",
            "agent-hours": f"{t['agent_hours']:,.0f}",
            "FTE": f"{t['fte']:,.1f}",
            "cost": f"{t['cost']:,.0f}",
            "service level": _pct(t["service_level"]),
            "peak agents": f"{t['peak_agents']:,d}",
            "peak at": f"{t['peak_ds']:%a %d %b %H:%M}",
        })
    return pd.DataFrame(rows)


def _display_summary(table: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "queue": table["queue"].astype(str),
        "from": pd.to_datetime(table["start"]).dt.strftime("%a %d %b"),
        "days": table["days"].astype(str),
        "contacts": table["volume"].map("{:,.0f}".format),
        "agent-hours": table["agent_hours"].map("{:,.1f}".format),
        "FTE": table["fte"].map("{:,.1f}".format),
        "cost": table["cost"].map("{:,.0f}".format),
        "service level": table["service_level"].map(_pct),
        "peak agents": table["peak_agents"].astype(str),
        "peak at": pd.to_datetime(table["peak_ds"]).dt.strftime("%a %d %b %H:%M"),
    })
    if table["period"].eq("day").all():
        out = out.drop(columns="days").rename(columns={"from": "day"})
    return out


def _display_peaks(peaks: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "interval": pd.to_datetime(peaks["ds"]).dt.strftime("%a %d %b %H:%M"),
        "forecast": peaks["forecast"].map("{:,.1f}".format),
        "normal (p95 of recent weeks)": peaks["normal"].map("{:,.1f}".format),
        "above normal": [_above_normal(row) for row in peaks.itertuples(index=False)],
        "driver": peaks["driver"].astype(str),
        "event": peaks["event"].astype(str),
    })


def _above_normal(peak) -> str:
    """A peak's excess in contacts, with the share of normal when there is one (none
    against a normal of almost no contacts, see :func:`forecast.peaks.find_peaks`)."""
    text = f"{peak.forecast - peak.normal:+,.1f}"
    return text + (f" ({peak.excess:+.0%})" if np.isfinite(peak.excess) else "")


def _pct(value: float) -> str:
    return "n/a" if value is None or not np.isfinite(value) else f"{value:.1%}"


def _html_table(frame: pd.DataFrame, total_rows: np.ndarray | None = None) -> str:
    esc = html.escape
    head = "".join(f"<th>{esc(str(c))}</th>" for c in frame.columns)
    body = []
    for i, row in enumerate(frame.itertuples(index=False)):
        css = ' class="total"' if total_rows is not None and total_rows[i] else ""
        body.append(f"<tr{css}>" + "".join(f"<td>{esc(str(v))}</td>" for v in row) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


# =========================================================================== charts


def figure_png(fig: plt.Figure, dpi: int = PNG_DPI) -> bytes:
    """A figure as PNG bytes without run-dependent metadata; closes the figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def save_figure(fig: plt.Figure, target: Path, dpi: int = PNG_DPI) -> Path:
    """Save a figure as PNG atomically, without metadata that would change between runs."""
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return target


def _queue_images(result: PlanResult, name: str, *, full: bool) -> dict:
    """Draw one queue's charts as PNG bytes: the composite chart, and with ``full`` the
    heatmap and peaks charts plus the peaks table."""
    queue_plan = result.queues[name]
    events = _queue_events(result.events, name)
    interval_s = result.config.interval_s
    images: dict = {"chart": figure_png(plan_chart(queue_plan, events, interval_s=interval_s))}
    if not full:
        return images
    images["heatmap"] = figure_png(staffing_heatmap(queue_plan.plan, interval_s=interval_s,
                                                    title=f"{name}: agents scheduled"))
    peaks = queue_peaks(queue_plan, events)
    images["peaks_table"] = peaks
    images["peaks"] = (figure_png(peaks_chart(peaks, title=f"{name}: top forecast peaks"))
                       if peaks is not None and len(peaks) else None)
    return images


def _queue_events(events: pd.DataFrame | None, name: str) -> pd.DataFrame | None:
    if events is None or len(events) == 0:
        return events
    from .events import events_for_queue

    return events_for_queue(events, name)


def plan_chart(queue_plan: QueuePlan, events: pd.DataFrame | None, *, interval_s: int
               ) -> plt.Figure:
    """History and forecast fan (top) over agents required and scheduled (bottom)."""
    fig, (ax_vol, ax_agents) = plt.subplots(
        2, 1, figsize=(12, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    fan_chart(queue_plan, events, interval_s=interval_s, ax=ax_vol)
    ax_vol.set_title(f"{queue_plan.queue}: forecast and staffing")
    requirement_chart(queue_plan.plan, interval_s=interval_s, ax=ax_agents)
    ax_vol.set_xlabel("")
    fig.subplots_adjust(left=0.06, right=0.985, top=0.95, bottom=0.08, hspace=0.12)
    return fig


def fan_chart(queue_plan: QueuePlan, events: pd.DataFrame | None, *, interval_s: int,
              ax: plt.Axes | None = None, history_weeks: int = HISTORY_WEEKS_SHOWN) -> plt.Axes:
    """Recent history, the mean forecast, a band per quantile pair, and events.

    Quantile columns are paired outside-in (p10 with p90, p25 with p75, ...); inner
    bands are drawn darker. Events overlapping the window are shaded by type and
    labelled with their name. When the plan staffs to a quantile, that line is drawn.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 4.2))
    plan = queue_plan.plan
    history = queue_plan.history
    start_shown = plan["ds"].min() - pd.Timedelta(weeks=history_weeks)
    recent = history[history["ds"] >= start_shown]
    _gapped_line(ax, recent["ds"], recent["y"], interval_s, color="0.35", lw=0.8,
                 label="history")
    quantiles = _quantile_columns(plan)
    pairs = [(lo, hi) for lo, hi in zip(quantiles, reversed(quantiles), strict=True)
             if float(lo[1:]) < float(hi[1:])]
    for depth, (lo, hi) in enumerate(pairs):
        ds_gapped, (low, high) = _with_gaps(plan["ds"], [plan[lo], plan[hi]], interval_s,
                                            step=True)
        ax.fill_between(ds_gapped, low, high, step="post", color="tab:blue",
                        alpha=0.22 + 0.12 * depth, lw=0, label=f"{lo}-{hi}")
    _gapped_line(ax, plan["ds"], plan["volume_mean"], interval_s, color="tab:blue", lw=1.0,
                 label=f"forecast mean ({queue_plan.model})")
    if "volume" in plan and not np.allclose(plan["volume"], plan["volume_mean"]):
        _gapped_line(ax, plan["ds"], plan["volume"], interval_s, color="tab:orange", lw=0.8,
                     ls="--", label="volume staffed to")
    if events is not None and len(events):
        _shade_events(ax, events, start_shown, plan["ds"].max())
    ax.axvline(plan["ds"].min(), color="k", lw=0.8, ls="--")
    ax.set_ylabel(f"contacts per {interval_s // 60}-min interval")
    ax.set_xlabel("local time")
    ax.set_title(f"{queue_plan.queue}: history and forecast")
    top = np.nanmax([recent["y"].max(), plan[quantiles[-1] if quantiles else "volume_mean"]
                     .max(), 1.0])
    ax.set_ylim(0, top * 1.3)  # headroom for the legend and event labels
    ax.legend(loc="upper left", fontsize=8, ncol=6)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    return ax


def requirement_chart(plan: pd.DataFrame, *, interval_s: int | None = None,
                      ax: plt.Axes | None = None, title: str | None = None) -> plt.Axes:
    """Fractional requirement, agents required (on queue) and scheduled (heads) over
    time; lines break over closed hours (``interval_s`` defaults to the plan's
    smallest step)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 3.2))
    if interval_s is None:
        steps = np.diff(pd.to_datetime(plan["ds"]).to_numpy()).astype("timedelta64[s]")
        steps = steps[steps > np.timedelta64(0, "s")]
        interval_s = int(steps.min().astype(int)) if len(steps) else 3600
    times, (raw, required, scheduled) = _with_gaps(
        plan["ds"], [plan["agents_raw"], plan["agents_required"], plan["agents_scheduled"]],
        interval_s, step=True)
    ax.step(times, raw, where="post", color="0.5", lw=0.7, label="requirement (fractional)")
    ax.step(times, required, where="post", color="tab:orange", lw=0.9,
            label="agents required (on queue)")
    ax.step(times, scheduled, where="post", color="tab:green", lw=0.9,
            label="agents scheduled (after shrinkage)")
    ax.set_ylabel("agents")
    ax.set_xlabel("local time")
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8, ncol=3)
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    return ax


def staffing_heatmap(plan: pd.DataFrame, *, interval_s: int, column: str = "agents_scheduled",
                     title: str | None = None) -> plt.Figure:
    """Weekday x time of day: the mean of ``column`` over the horizon (blank = closed)."""
    ds = pd.to_datetime(plan["ds"])
    slots_per_day = 86400 // interval_s
    slot = ((ds.dt.hour * 3600 + ds.dt.minute * 60) // interval_s).to_numpy()
    weekday = ds.dt.day_of_week.to_numpy()
    grid = pd.DataFrame({"weekday": weekday, "slot": slot,
                         "value": plan[column].to_numpy(dtype=float)}).groupby(
        ["weekday", "slot"])["value"].mean().unstack("slot").reindex(
        index=range(7), columns=range(slots_per_day))
    values = np.ma.masked_invalid(grid.to_numpy(dtype=float))
    open_slots = np.flatnonzero(~values.mask.all(axis=0)) if values.mask.any() else \
        np.arange(slots_per_day)
    first, last = (open_slots[0], open_slots[-1] + 1) if len(open_slots) else (0, slots_per_day)

    fig, ax = plt.subplots(figsize=(12, 3.6))
    cmap = plt.get_cmap("viridis").with_extremes(bad="0.92")
    image = ax.imshow(values[:, first:last], aspect="auto", cmap=cmap, interpolation="nearest",
                      extent=(first - 0.5, last - 0.5, 6.5, -0.5))
    ax.set_yticks(range(7), ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"])
    hour_slots = 3600 // interval_s if interval_s <= 3600 else 1
    ticks = [s for s in range(first, last) if s % (2 * hour_slots) == 0]
    ax.set_xticks(ticks, [f"{s * interval_s // 3600:02d}:00" for s in ticks])
    ax.set_xlabel("interval start (local time)")
    ax.set_title(title or f"mean {column.replace('_', ' ')} by weekday and time of day")
    fig.subplots_adjust(left=0.05, right=0.99, top=0.9, bottom=0.15)
    fig.colorbar(image, ax=ax, label=f"mean {column.replace('_', ' ')}", pad=0.01)
    return fig


def queue_peaks(queue_plan: QueuePlan, events: pd.DataFrame | None = None, *,
                top: int = TOP_PEAKS) -> pd.DataFrame | None:
    """The ``top`` forecast intervals above the normal range of recent weeks, largest
    first, with their driver (see :func:`forecast.peaks.find_peaks`); ``None`` when the
    peaks module is unavailable."""
    try:
        from .peaks import find_peaks
    except ImportError:  # pragma: no cover - the peaks module ships with the package
        return None
    forecast = queue_plan.forecast
    if "mean" not in forecast.columns:
        return None
    found = find_peaks(queue_plan.history, forecast, events)
    intervals = found[found["level"] == "interval"]
    return intervals.sort_values(["forecast", "ds"], ascending=[False, True],
                                 kind="stable").head(top).reset_index(drop=True)


def peaks_chart(peaks: pd.DataFrame, *, title: str = "top forecast peaks") -> plt.Figure:
    """Horizontal bars: each peak interval's forecast against its normal level,
    coloured by driver."""
    frame = peaks.iloc[::-1].reset_index(drop=True)
    labels = pd.to_datetime(frame["ds"]).dt.strftime("%a %d %b %H:%M")
    drivers = frame["driver"].astype(str)
    palette = plt.get_cmap("tab10")
    colours = {d: palette(i % 10) for i, d in enumerate(sorted(drivers.unique()))}
    fig, ax = plt.subplots(figsize=(12, 0.35 * len(frame) + 1.4))
    ax.barh(range(len(frame)), frame["forecast"], color=[colours[d] for d in drivers])
    ax.scatter(frame["normal"], range(len(frame)), marker="|", s=200, color="k",
               label="normal (p95 of recent weeks)", zorder=3)
    for i, row in frame.iterrows():
        text = row["driver"] + (f": {row['event']}" if row["event"] else "")
        ax.annotate(f" {text} ({_above_normal(row)})", (row["forecast"], i), va="center",
                    fontsize=8)
    ax.set_yticks(range(len(frame)), labels)
    ax.set_xlabel("contacts forecast in the interval")
    ax.set_xlim(0, float(frame["forecast"].max()) * 1.45 if len(frame) else 1)
    ax.set_title(title)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in colours.values()]
    ax.legend(handles + [ax.collections[0]], list(colours) + ["normal (p95 of recent weeks)"],
              loc="lower right", fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    height = fig.get_figheight()
    fig.subplots_adjust(left=0.14, right=0.985, top=1 - 0.45 / height, bottom=0.55 / height)
    return fig


def _with_gaps(ds: pd.Series, columns: Sequence[pd.Series], interval_s: int, *,
               step: bool = False) -> tuple[np.ndarray, list[np.ndarray]]:
    """Break lines and bands over closed hours instead of bridging them.

    Where the grid jumps by more than one interval, a NaN point is inserted at the end
    of the last open interval. For ``step=True`` (post-step drawing, each value held
    over its interval) the last value is first repeated at the interval's end, and the
    series is closed at the end of its last interval.
    """
    times = pd.to_datetime(pd.Series(ds)).to_numpy()
    values = [np.asarray(c, dtype=float) for c in columns]
    if len(times) == 0:
        return times, values
    width = np.timedelta64(interval_s, "s")
    breaks = np.flatnonzero(np.diff(times) > width) + 1
    ends = times[breaks - 1] + width
    if not step:
        return (np.insert(times, breaks, ends), [np.insert(v, breaks, np.nan) for v in values])
    at = np.repeat(breaks, 2)
    gap_times = np.column_stack([ends, ends + np.timedelta64(1, "s")]).ravel()
    new_times = np.append(np.insert(times, at, gap_times), times[-1] + width)
    new_values = []
    for v in values:
        held = np.column_stack([v[breaks - 1], np.full(len(breaks), np.nan)]).ravel()
        new_values.append(np.append(np.insert(v, at, held), v[-1]))
    return new_times, new_values


def _gapped_line(ax, ds: pd.Series, values: pd.Series, interval_s: int, **kwargs) -> None:
    """Plot a line that breaks over closed hours instead of bridging them."""
    times, (ys,) = _with_gaps(ds, [values], interval_s)
    ax.plot(times, ys, **kwargs)


def _shade_events(ax, events: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> None:
    """Shade each event in the window by type and label it with its name."""
    shown = events[(events["end"] > start) & (events["start"] < end)]
    shown = shown.sort_values(["start", "name"], kind="stable")
    labelled = set()
    for row in shown.itertuples(index=False):
        colour = EVENT_COLOURS.get(str(row.type), "tab:olive")
        left, right = max(row.start, start), min(row.end, end)
        label = None if row.type in labelled else f"event: {row.type}"
        labelled.add(row.type)
        ax.axvspan(left, right, color=colour, alpha=0.15, lw=0, label=label)
        ax.annotate(str(row.name)[:28], (left, 0.88), xycoords=("data", "axes fraction"),
                    fontsize=7, va="top", ha="left", rotation=90, color=colour)
