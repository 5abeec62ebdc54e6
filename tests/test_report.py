"""Specification of forecast.report: every output format, readable back, byte-identical."""

from __future__ import annotations

import base64
import dataclasses
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from forecast import report, summary
from forecast.config import DataSource, OpeningHours, PlanConfig, QueueConfig, load_config
from forecast.plan import EXAMPLE_CONFIG, PlanResult, QueuePlan, build_plan
from forecast.staffing import staff_queue

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ALL_FORMATS = ("csv", "parquet", "xlsx", "html")


@pytest.fixture(scope="module")
def example() -> PlanResult:
    """Two queues of the example centre (one answered live, one deferred) planned 7 days
    ahead with the fast seasonal-naive model."""
    cfg = load_config(EXAMPLE_CONFIG)
    cfg = dataclasses.replace(cfg, forecast=dataclasses.replace(
        cfg.forecast, horizon_days=7, model="seasonal_naive"))
    return build_plan(cfg, queues=["email", "voice"])


@pytest.fixture(scope="module")
def written(example, tmp_path_factory) -> tuple[Path, Path, list[Path]]:
    """Every format written twice, into two folders (the second time without the extra
    PNG files, whose drawings report.html embeds anyway)."""
    first, second = tmp_path_factory.mktemp("first"), tmp_path_factory.mktemp("second")
    files = report.write_plan_outputs(example, first, formats=ALL_FORMATS, charts="all")
    report.write_plan_outputs(example, second, formats=ALL_FORMATS, charts=True)
    return first, second, files


def synthetic_result(queue_names=("voice",)) -> PlanResult:
    """A small plan through the real staffing rule: two weeks of history, three days ahead."""
    hours = OpeningHours((((8 * 60, 12 * 60),) * 5) + (None, None))
    queues = {n: QueueConfig(name=n, aht_s=240, hours=hours) for n in queue_names}
    cfg = PlanConfig(data=DataSource(volumes=Path("volumes.csv")), name="Tiny centre",
                     queues=queues)
    plans = {}
    for i, name in enumerate(queue_names):
        past = pd.date_range("2026-03-02", "2026-03-15 23:30", freq="30min")
        past = past[hours.is_open(past)]
        future = pd.date_range("2026-03-16", "2026-03-18 23:30", freq="30min")
        future = future[hours.is_open(future)]
        shape = 20 + 10 * np.sin(np.arange(len(future)) / 3.0) + i
        fc = pd.DataFrame({"ds": future, "mean": shape, "p10": shape * 0.8,
                           "p50": shape, "p90": shape * 1.2, "aht_s": 240.0})
        plan = staff_queue(pd.DataFrame({"ds": future, "volume": shape, "aht_s": 240.0}),
                           queues[name], interval_s=cfg.interval_s)
        plan = plan.assign(volume_mean=shape, p10=shape * 0.8, p50=shape, p90=shape * 1.2)
        plan.insert(0, "queue", name)
        history = pd.DataFrame({"ds": past, "y": 20.0 + (past.hour - 8), "filled": False})
        plans[name] = QueuePlan(queue=name, model="seasonal_naive", forecast=fc, plan=plan,
                                history=history)
    events = pd.DataFrame({
        "name": ["Spring sale"], "type": ["campaign"],
        "start": [pd.Timestamp("2026-03-17")], "end": [pd.Timestamp("2026-03-18")],
        "queue": [pd.NA], "weight": [1.0]})
    return PlanResult(config=cfg, queues=plans, events=events, volume_column="mean")


# ------------------------------------------------------------------ what is written


def test_default_writes_csv_and_one_chart_per_queue(tmp_path):
    files = report.write_plan_outputs(synthetic_result(("chat", "voice")), tmp_path)
    names = sorted(p.name for p in files)
    assert names == ["chart_chat.png", "chart_voice.png", "daily.csv", "plan.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # no temporary files left


def test_every_format_writes_its_files(written, example):
    folder, _, files = written
    names = {p.name for p in files}
    assert {"plan.csv", "daily.csv", "plan.parquet", "daily.parquet", "plan.xlsx",
            "report.html"} <= names
    for queue in example.queues:
        for kind in ("chart", "heatmap"):
            png = folder / f"{kind}_{queue}.png"
            assert png.read_bytes().startswith(PNG_SIGNATURE), png.name
    # a peaks chart only for a queue with material peaks: email has one, voice (at most
    # 8% above its normal) none, and the report says so
    assert (folder / "peaks_email.png").read_bytes().startswith(PNG_SIGNATURE)
    assert not (folder / "peaks_voice.png").exists()
    html = (folder / "report.html").read_text()
    assert "No forecast interval materially above the normal range" in html


def test_same_plan_written_twice_gives_byte_identical_files(written):
    first, second, files = written
    again = [p for p in files if (second / p.name).exists()]
    assert {p.suffix for p in again} == {".csv", ".parquet", ".xlsx", ".html", ".png"}
    for path in again:
        assert path.read_bytes() == (second / path.name).read_bytes(), path.name


def test_unknown_format_is_refused(example, tmp_path):
    with pytest.raises(ValueError, match="unknown output format 'pdf'"):
        report.write_plan_outputs(example, tmp_path, formats=("csv", "pdf"))
    assert list(tmp_path.iterdir()) == []


def test_without_charts_no_png_is_written_but_html_still_embeds_them(tmp_path):
    files = report.write_plan_outputs(synthetic_result(), tmp_path, formats=("html",),
                                      charts=False)
    assert not [p for p in files if p.suffix == ".png"]
    assert "data:image/png;base64," in (tmp_path / "report.html").read_text()


# ------------------------------------------------------------------ parquet


def test_parquet_holds_the_same_tables_as_the_csv(written):
    folder, _, _ = written
    from_csv = pd.read_csv(folder / "plan.csv", parse_dates=["ds"])
    from_parquet = pd.read_parquet(folder / "plan.parquet")
    assert list(from_parquet.columns) == list(from_csv.columns)
    assert pd.api.types.is_datetime64_any_dtype(from_parquet["ds"])
    assert (from_parquet["ds"].to_numpy() == from_csv["ds"].to_numpy()).all()
    for column in ("volume", "agents_required", "agents_scheduled", "cost", "service_level"):
        np.testing.assert_allclose(from_parquet[column].to_numpy(dtype=float),
                                   from_csv[column].to_numpy(dtype=float), rtol=1e-5,
                                   err_msg=column)
    daily = pd.read_parquet(folder / "daily.parquet")
    assert list(daily.columns) == report.DAILY_COLUMNS


def test_parquet_keeps_full_precision(written, example):
    folder, _, _ = written
    from_parquet = pd.read_parquet(folder / "plan.parquet")
    plan = example.plan[report.ordered_plan_columns(example.plan)]
    np.testing.assert_array_equal(from_parquet["agents_raw"].to_numpy(),
                                  plan["agents_raw"].to_numpy())


# ------------------------------------------------------------------ Excel


def test_workbook_has_a_summary_and_one_sheet_per_queue(written, example):
    from openpyxl import load_workbook

    wb = load_workbook(written[0] / "plan.xlsx")
    assert wb.sheetnames == ["Summary", *example.queues]
    voice = wb["voice"]
    assert voice["A1"].value == "voice" and voice["B1"].value is None  # name, then table
    header = [c.value for c in voice[2]]
    assert header == [c for c in report.ordered_plan_columns(example.plan) if c != "queue"]
    assert voice.freeze_panes == "A3"
    assert voice.max_row - 2 == (example.plan["queue"] == "voice").sum()
    ds_col = header.index("ds") + 1
    sl_col = header.index("service_level") + 1
    assert voice.cell(row=3, column=ds_col).number_format == "yyyy-mm-dd hh:mm"
    assert voice.cell(row=6, column=sl_col).number_format == "0.0%"
    assert voice.column_dimensions["A"].width >= 16


def test_workbook_summary_matches_the_weekly_and_daily_tables(written, example):
    from openpyxl import load_workbook

    sheet = load_workbook(written[0] / "plan.xlsx")["Summary"]
    assert "Example telco care" in sheet["A1"].value
    header_row = next(r for r in range(1, 10) if sheet.cell(row=r, column=1).value == "period")
    assert sheet.freeze_panes == f"A{header_row + 1}"
    rows = list(sheet.iter_rows(min_row=header_row, values_only=True))
    table = pd.DataFrame(rows[1:], columns=rows[0])
    assert set(table["period"]) == {"week", "day"}
    assert set(table["queue"]) == {*example.queues, "all"}
    cfg = example.config
    weekly = summary.weekly_table(example.plan, interval_s=cfg.interval_s,
                                  hours_per_fte=cfg.hours_per_fte)
    week_all = table[(table["period"] == "week") & (table["queue"] == "all")]
    assert week_all["fte"].sum() == pytest.approx(weekly.loc[weekly["queue"] == "all",
                                                             "fte"].sum())
    assert table.loc[table["period"] == "day", "cost"].sum() == pytest.approx(
        2 * example.plan["cost"].sum())  # per queue + all-queue totals


def test_workbook_properties_come_from_the_plan_not_the_clock(written, example):
    from openpyxl import load_workbook

    props = load_workbook(written[0] / "plan.xlsx").properties
    first = example.plan["ds"].min()
    assert props.created == first.to_pydatetime()
    assert props.modified == first.to_pydatetime()
    with zipfile.ZipFile(written[0] / "plan.xlsx") as archive:
        assert {i.date_time[:3] for i in archive.infolist()} == {
            (first.year, first.month, first.day)}


def test_sheet_titles_are_valid_and_unique():
    used: set[str] = set()
    titles = [report._sheet_title(n, used) for n in
              ("sales/uk: [vip]", "sales_uk_ _vip_", "summary", "x" * 40)]
    assert titles[0] == "sales_uk_ _vip_"
    assert titles[1] == "sales_uk_ _vip_ (2)"
    assert all(len(t) <= 31 and not set(t) & set("[]:*?/\\") for t in titles)
    assert len({t.lower() for t in titles}) == 4


def test_awkward_queue_names_make_valid_files(tmp_path):
    result = synthetic_result(("sales/uk", "Sales UK"))
    files = report.write_plan_outputs(result, tmp_path, formats=("csv", "parquet", "xlsx"))
    assert {p.name for p in files} >= {f"chart_{report.safe_name('sales/uk')}.png",
                                       f"chart_{report.safe_name('Sales UK')}.png"}
    assert len(list(tmp_path.glob("chart_*.png"))) == 2
    from openpyxl import load_workbook

    assert load_workbook(tmp_path / "plan.xlsx").sheetnames == ["Summary", "sales_uk",
                                                               "Sales UK"]


# ------------------------------------------------------------------ HTML


def test_html_report_is_self_contained_with_a_section_per_queue(written, example):
    page = (written[0] / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "Example telco care" in page
    for queue, queue_plan in example.queues.items():
        assert f'id="queue-{queue}"' in page
        assert queue_plan.model in page
    images = re.findall(r'<img [^>]*src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) >= 2 * len(example.queues)
    assert all(base64.b64decode(i).startswith(PNG_SIGNATURE) for i in images)
    # nothing is fetched from elsewhere: no external src, href or url(), no scripts
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "url(" not in page and "<script" not in page


def test_html_header_shows_the_totals_over_the_horizon(written, example):
    page = (written[0] / "report.html").read_text(encoding="utf-8")
    cfg = example.config
    totals = summary.horizon_totals(example.plan, interval_s=cfg.interval_s,
                                    hours_per_fte=cfg.hours_per_fte).set_index("queue")
    assert f"<b>{totals.loc['all', 'fte']:,.1f}</b>FTE" in page
    assert f"<b>{totals.loc['all', 'cost']:,.0f}</b>cost" in page
    assert "(7 days)" in page


def test_html_shows_a_run_time_only_when_given(example):
    quiet = report.render_html(example, charts=False)
    assert "generated" not in quiet and "<img" not in quiet
    stamped = report.render_html(example, generated_at="2026-11-15 06:00", charts=False)
    assert "generated 2026-11-15 06:00" in stamped


def test_html_escapes_names(tmp_path):
    result = synthetic_result(("<b>vip</b>",))
    result = dataclasses.replace(result, config=dataclasses.replace(result.config,
                                                                    name="A & B <care>"))
    page = report.render_html(result, charts=False)
    assert "A &amp; B &lt;care&gt;" in page and "<b>vip</b>" not in page


# ------------------------------------------------------------------ charts


def test_fan_chart_draws_a_band_per_quantile_pair_and_marks_events():
    result = synthetic_result()
    qp = result.queues["voice"]
    qp = dataclasses.replace(qp, plan=qp.plan.assign(p25=qp.plan["p50"] * 0.9,
                                                     p75=qp.plan["p50"] * 1.1))
    ax = report.fan_chart(qp, result.events, interval_s=1800)
    labels = ax.get_legend_handles_labels()[1]
    assert "p10-p90" in labels and "p25-p75" in labels
    assert "event: campaign" in labels
    assert any(t.get_text() == "Spring sale" for t in ax.texts)
    assert ax.get_ylabel() == "contacts per 30-min interval"


def test_heatmap_averages_each_weekday_and_time_slot():
    result = synthetic_result()
    plan = result.queues["voice"].plan
    fig = report.staffing_heatmap(plan, interval_s=1800)
    shown = fig.axes[0].images[0].get_array()
    monday_8 = plan.loc[plan["ds"] == pd.Timestamp("2026-03-16 08:00"), "agents_scheduled"]
    assert shown[0, 0] == pytest.approx(monday_8.item())  # one Monday in the horizon
    assert shown.mask[5:].all()  # Saturday and Sunday closed
    assert fig.axes[1].get_ylabel() == "mean agents scheduled"


def test_lines_break_over_closed_hours():
    ds = pd.Series(pd.to_datetime(["2026-03-16 08:00", "2026-03-16 08:30",
                                   "2026-03-17 08:00"]))
    times, (values,) = report._with_gaps(ds, [pd.Series([1.0, 2.0, 3.0])], 1800, step=True)
    assert np.isnan(values).sum() == 1
    gap = int(np.flatnonzero(np.isnan(values))[0])
    assert values[gap - 1] == 2.0 and times[gap - 1] == np.datetime64("2026-03-16T09:00")
    assert times[-1] == np.datetime64("2026-03-17T08:30")  # the last interval is drawn


def test_peaks_table_lists_intervals_above_normal_with_their_driver(example):
    peaks = report.queue_peaks(example.queues["voice"], example.events)
    assert peaks is not None and len(peaks) <= report.TOP_PEAKS
    assert (peaks["forecast"] > peaks["normal"]).all()
    assert peaks["forecast"].is_monotonic_decreasing
    assert peaks["driver"].notna().all()


def test_peaks_show_contacts_above_normal_and_a_share_only_against_a_real_normal():
    peaks = pd.DataFrame({"level": "interval",
                          "ds": pd.to_datetime(["2026-12-01 10:00", "2026-12-01 01:00"]),
                          "forecast": [23.0, 4.5], "normal": [20.0, 0.5],
                          "excess": [0.15, np.nan], "driver": "season/trend", "event": ""})
    shown = report._display_peaks(peaks)["above normal"].tolist()
    assert shown == ["+3.0 (+15%)", "+4.0"]
    fig = report.peaks_chart(peaks)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert not any("nan" in label for label in labels)
    assert any("+4.0" in label for label in labels)
