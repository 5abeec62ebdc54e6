"""Queue names that are awkward as file names, HTML ids, sheet cells or table cells:
every queue keeps its own files, models and rows, and text stays text."""

from __future__ import annotations

import gc
import json
import re
import weakref
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from test_report import synthetic_result

from forecast import report
from forecast.cli import wfm
from forecast.exceptions import DataValidationError
from forecast.planwriter import PlanWriter
from forecast.report import safe_name
from forecast.store import load_models, save_models

#: Pairs that an older, simpler cleaning turned into the same file name.
CLASHING = [("sales/uk", "sales_uk"), ("chat: en", "chat_ en"), ("Voice", "voice"),
            ("a.b", "a_b"), ("客服", "__")]
AWKWARD = ["sales/uk", "sales_uk", "Voice", "voice", "=cmd|' /C calc'!A0", "line1\nline2",
           "#N/A", "returns | uk", "con"]


def run(*args) -> object:
    return CliRunner().invoke(wfm, [str(a) for a in args], catch_exceptions=False)


# ------------------------------------------------------------------ file stems


@pytest.mark.parametrize("name", ["voice", "chat", "email", "social", "sales_uk",
                                  "tier-2.backup", "q001"])
def test_a_safe_queue_name_is_its_own_file_stem(name):
    assert safe_name(name) == name


@pytest.mark.parametrize("name", ["sales/uk", "Voice", "chat: en", "con", "NUL", "com1.x",
                                  ".hidden", "soporte-españa", "Q" * 101, ""])
def test_any_other_name_gets_its_cleaned_form_and_a_hash_of_the_name(name):
    stem = safe_name(name)
    cleaned, _, digest = stem.rpartition("~")
    assert re.fullmatch(r"[0-9a-f]{6}", digest)
    assert len(cleaned) <= 60 and not cleaned.startswith(".")
    assert not set(cleaned) & set('/\\:*?"<>| ')


def test_stems_are_the_same_on_every_run():
    # a stored model is found by its stem: the stem must not depend on the run
    assert safe_name("sales/uk") == "sales_uk~184b1a"
    assert safe_name("Voice") == "Voice~87bf2b"


@pytest.mark.parametrize(("first", "second"), CLASHING)
def test_names_that_clean_alike_get_distinct_stems_even_on_case_blind_disks(first, second):
    assert safe_name(first).lower() != safe_name(second).lower()


# ------------------------------------------------------------------ plan outputs


@pytest.fixture(scope="module")
def awkward_result():
    return synthetic_result(tuple(AWKWARD))


def test_every_queue_gets_its_own_chart_and_html_anchor(awkward_result, tmp_path):
    files = report.write_plan_outputs(awkward_result, tmp_path, formats=("csv", "html"),
                                      charts="all")
    assert len(files) == len(set(files))  # no file written twice over another queue's
    for kind in ("chart", "heatmap"):
        assert len(list(tmp_path.glob(f"{kind}_*.png"))) == len(AWKWARD)
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    ids = re.findall(r'<h2 id="queue-([^"]+)"', page)
    links = re.findall(r'<a href="#queue-([^"]+)"', page)
    assert len(set(ids)) == len(AWKWARD) and links == ids


def test_workbook_text_is_never_a_formula_and_each_sheet_names_its_queue(awkward_result,
                                                                          tmp_path):
    from openpyxl import load_workbook

    report.write_workbook(awkward_result, tmp_path / "plan.xlsx")
    wb = load_workbook(tmp_path / "plan.xlsx")
    types = {c.data_type for sheet in wb for row in sheet.iter_rows() for c in row}
    assert types <= {"s", "n", "d"}  # no formula ("f"), no error value ("e")
    queue_sheets = wb.worksheets[1:]
    assert [s["A1"].value for s in queue_sheets] == AWKWARD
    assert all(len(s.title) <= 31 and not set(s.title) & set("[]:*?/\\")
               for s in queue_sheets)
    summary_queues = {c.value for c in wb["Summary"]["B"]}
    assert "=cmd|' /C calc'!A0" in summary_queues and "#N/A" in summary_queues


def plan_csv_through_writer(result, folder: Path) -> bytes:
    """plan.csv as a streamed ``wfm plan`` run writes it: each queue's rows formatted
    by its worker, then added queue by queue."""
    with PlanWriter(folder, result.config, events=result.events, charts=False) as writer:
        for queue_plan in result.queues.values():
            queue_plan.csv_rows = report.plan_csv_rows(queue_plan.plan)
            writer.add(queue_plan)
        writer.finish()
    return (folder / "plan.csv").read_bytes()


def test_streamed_plan_csv_equals_the_all_at_once_one_for_awkward_names(awkward_result,
                                                                         tmp_path):
    streamed = plan_csv_through_writer(awkward_result, tmp_path / "streamed")
    report.write_plan_outputs(awkward_result, tmp_path / "whole", charts=False)
    assert streamed == (tmp_path / "whole" / "plan.csv").read_bytes()
    plan = pd.read_csv(tmp_path / "streamed" / "plan.csv", keep_default_na=False)
    assert list(plan["queue"].unique()) == AWKWARD  # "line1\nline2" kept whole
    assert set(plan["channel"]) == {"voice"}


def test_the_writer_keeps_no_figure_alive_until_finish(tmp_path, monkeypatch):
    drawn = []

    def tracked_chart(*args, **kwargs):
        fig = real_chart(*args, **kwargs)
        drawn.append(weakref.ref(fig))
        return fig

    real_chart = report.plan_chart
    monkeypatch.setattr(report, "plan_chart", tracked_chart)
    result = synthetic_result(("chat", "voice"))
    with PlanWriter(tmp_path, result.config, events=result.events, charts=True) as writer:
        for queue_plan in result.queues.values():
            writer.add(queue_plan)
        gc.collect()
        assert len(drawn) == 2 and all(ref() is None for ref in drawn)  # memory stays flat
        assert not list(tmp_path.glob("chart_*.png"))  # nothing visible before finish
        files = writer.finish()
    assert sorted(p.name for p in files if p.suffix == ".png") == ["chart_chat.png",
                                                                   "chart_voice.png"]
    assert all(p.stat().st_size > 0 for p in files)


# ------------------------------------------------------------------ model store


def test_models_of_clashing_names_are_stored_apart_and_summarised_in_one_table(tmp_path):
    records = {q: {"format": "forecast-model/1", "queue": q, "model": {},
                   "metadata": {"model_name": "slot_mean", "backtest": [], "training_rows": 9,
                                "training_window": ["2026-01-01", "2026-02-01"]}}
               for q in ["sales/uk", "sales_uk", "returns | uk", "line1\nline2"]}
    files = save_models(records, tmp_path)
    stored = {json.loads(p.read_text())["queue"] for p in files if p.suffix == ".json"}
    assert stored == set(records)
    rows = (tmp_path / "SUMMARY.md").read_text(encoding="utf-8").splitlines()[4:]
    assert len(rows) == len(records)
    assert all(len(re.findall(r"(?<!\\)\|", row)) == 6 for row in rows)  # five cells each
    assert any(r"returns \| uk" in row for row in rows)


@pytest.fixture(scope="module")
def awkward_centre(tmp_path_factory, fast_config):
    """The example's voice history under four awkward queue names, fitted with a fast
    model; a different volume level per queue, so the models differ."""
    tmp = tmp_path_factory.mktemp("names")
    config = fast_config(tmp)
    volumes = pd.read_csv(tmp / "volumes.csv.gz")
    voice = volumes[(volumes["queue"] == "voice") & (volumes["timestamp"] >= "2026-08-01")]
    frames = [voice.assign(queue=name, volume=voice["volume"] * (i + 1))
              for i, name in enumerate(["sales/uk", "sales_uk", "Voice", "voice"])]
    pd.concat(frames).to_csv(tmp / "volumes.csv.gz", index=False)
    config.write_text(re.sub(r"\[queues\.(chat|email|social)\].*?(?=\n\[|\Z)", "",
                             config.read_text(), flags=re.S))
    result = run("fit", config, "--models", tmp / "models")
    assert result.exit_code == 0, result.output
    return config, tmp / "models"


def test_each_queue_is_planned_with_its_own_stored_model(awkward_centre, tmp_path):
    config, models = awkward_centre
    assert len(list(models.glob("*.json"))) == 4
    result = run("plan", config, "--models", models, "--out", tmp_path)
    assert result.exit_code == 0, result.output
    plan = pd.read_csv(tmp_path / "plan.csv")
    means = plan.groupby("queue")["volume_mean"].sum()
    assert means["sales_uk"] / means["sales/uk"] == pytest.approx(2 / 1, rel=1e-3)
    assert means["voice"] / means["Voice"] == pytest.approx(4 / 3, rel=1e-3)
    assert len(list(tmp_path.glob("chart_*.png"))) == 4


def test_a_model_file_holding_another_queues_model_is_refused(awkward_centre, tmp_path):
    _, models = awkward_centre
    for path in models.glob("*.json"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / f"{safe_name('sales/uk')}.json").write_bytes(
        (models / "sales_uk.json").read_bytes())
    with pytest.raises(DataValidationError, match=r"sales_uk~184b1a\.json: holds the model of "
                                                  r"queue 'sales_uk', not of 'sales/uk'"):
        load_models(tmp_path, ["sales/uk", "sales_uk"])


def test_forecast_charts_of_clashing_names_do_not_overwrite_each_other(awkward_centre,
                                                                        tmp_path):
    config, _ = awkward_centre
    result = run("forecast", config, "--out", tmp_path, "--model", "slot_mean")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.glob("forecast_*.png")) == sorted(
        f"forecast_{safe_name(q)}.png" for q in ["sales/uk", "sales_uk", "Voice", "voice"])
