"""Second CLI review: what each command reports must match what it did.

* ``wfm erlang --agents`` says whether the target and every cap are met, and calls an
  overloaded Erlang C queue overloaded;
* ``wfm simulate --error-scope day`` is refused where no forecast error is drawn;
* ``wfm staff`` writes plan.csv's layout, so ``wfm simulate`` knows each queue's channel;
* ``wfm calibrate`` never prints a negative handle-time bound and plans with no
  patience measured from a handful of abandonments;
* ``wfm forecast`` names every event type acting on the horizon, prior ones marked.
"""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.calibrate import estimate_handle_time, estimate_patience
from forecast.calibrate.core import (
    MIN_ABANDONED_FOR_PATIENCE,
    MIN_CALLS_FOR_AHT,
    QueueCalibration,
)
from forecast.cli import wfm
from forecast.exceptions import ForecastWarning
from forecast.report import PLAN_COLUMNS

ROOT_DATA = "tests/data/records_technion.tsv"


def run(*args):
    return CliRunner().invoke(wfm, [str(a) for a in args])


def erlang(*args):
    return run("erlang", "--volume", 100, "--aht", 180, "--interval", 30, *args)


# --------------------------------------------------------------------------- wfm erlang


class TestErlangGivenAgents:
    def test_an_occupancy_cap_that_is_exceeded_is_reported(self):
        res = erlang("--agents", 11, "--max-occupancy", 0.5, "--json")
        out = json.loads(res.output)
        assert out["meets_target"] is False
        assert any("occupancy 90.9% > cap 50%" in m for m in out["misses"])

    def test_the_text_output_says_why_the_target_is_missed(self):
        res = erlang("--agents", 11, "--max-occupancy", 0.5)
        assert res.exit_code == 0
        assert "meets       no: service level 39.0% < target 80% within 20 s; " \
               "occupancy 90.9% > cap 50%" in res.output

    def test_enough_agents_meet_the_target_and_caps(self):
        res = erlang("--agents", 14, "--max-occupancy", 0.85, "--json")
        out = json.loads(res.output)
        assert out["meets_target"] is True and out["misses"] == []
        assert "meets       yes" in erlang("--agents", 14).output

    def test_an_abandonment_cap_is_checked_under_erlang_a(self):
        out = json.loads(erlang("--agents", 11, "--patience", 60, "--max-abandon", 0.01,
                                "--target", "0.1/20", "--json").output)
        assert out["abandonment"] > 0.01
        assert out["meets_target"] is False
        assert out["misses"] == [f"abandonment {out['abandonment']:.1%} > cap 1%"]

    def test_an_asa_cap_is_checked(self):
        out = json.loads(erlang("--agents", 14, "--max-asa", 5, "--json").output)
        assert out["misses"] == ["ASA 7.8 s > cap 5 s"]

    @pytest.mark.parametrize("agents", [0, -3])
    def test_fewer_than_one_agent_is_a_usage_error(self, agents):
        res = erlang("--agents", agents)
        assert res.exit_code == 2
        assert "--agents" in res.output and ">= 1" in res.output

    @pytest.mark.parametrize("agents", [5, 10])
    def test_agents_at_or_below_the_load_are_an_overloaded_queue(self, agents):
        out = json.loads(erlang("--agents", agents, "--json").output)
        assert out["overloaded"] is True and out["meets_target"] is False
        assert out["asa_s"] is None
        assert "infinite wait" in out["misses"][0]
        text = erlang("--agents", agents).output
        assert "OVERLOADED" in text and "every wait is infinite" in text
        assert "occupancy" not in text and "service " not in text  # no made-up figures

    def test_erlang_a_is_never_overloaded(self):
        out = json.loads(erlang("--agents", 5, "--patience", 90, "--json").output)
        assert out["overloaded"] is False
        assert 0 < out["service_level"] < 0.8

    def test_required_mode_output_is_unchanged(self):
        out = json.loads(erlang("--json").output)
        assert "meets_target" not in out and out["agents"] == 14


# --------------------------------------------------------------------------- wfm simulate


@pytest.fixture
def small_plan(tmp_path):
    ds = pd.date_range("2024-03-04 08:00", periods=8, freq="30min")
    plan = pd.DataFrame({"queue": "voice", "ds": ds, "volume": 120.0, "p10": 100.0,
                         "p90": 140.0, "aht_s": 240.0, "agents_required": 20,
                         "service_level": 0.85, "channel": "voice"})
    path = tmp_path / "plan.csv"
    plan.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("arrivals", ["poisson", "counts"])
def test_simulate_day_error_scope_without_forecast_errors_is_a_usage_error(small_plan, arrivals):
    res = run("simulate", small_plan, "--error-scope", "day", "--arrivals", arrivals, "-n", 2)
    assert res.exit_code == 2
    assert "--error-scope" in res.output and "only with --arrivals forecast or negbin" in res.output


def test_simulate_day_error_scope_is_used_with_forecast_arrivals(small_plan):
    res = run("simulate", small_plan, "--error-scope", "day", "--arrivals", "forecast", "-n", 2)
    assert res.exit_code == 0, res.output
    assert "arrivals forecast (day errors)" in res.output


# --------------------------------------------------------------------------- wfm staff


@pytest.fixture(scope="module")
def forecast_run(tmp_path_factory, fast_config):
    folder = tmp_path_factory.mktemp("centre")
    config = fast_config(folder)
    res = run("forecast", config, "--out", folder / "fc", "--no-charts")
    assert res.exit_code == 0, res.output
    return config, folder / "fc" / "forecast.csv"


def test_staff_writes_the_plan_csv_layout(forecast_run, tmp_path):
    config, forecast_csv = forecast_run
    out = tmp_path / "staffed.csv"
    res = run("staff", forecast_csv, "--config", config, "--out", out)
    assert res.exit_code == 0, res.output
    header = out.read_text().splitlines()[0].split(",")
    quantiles = ["p10", "p50", "p90"]
    fixed = [c for c in PLAN_COLUMNS if c in header]
    assert header == fixed[:4] + quantiles + fixed[4:] + ["model", "channel"]
    assert set(PLAN_COLUMNS) <= set(header)
    plan = pd.read_csv(out, dtype=str)
    assert plan["ds"].str.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d").all()  # no seconds
    forecast = pd.read_csv(forecast_csv)
    assert np.allclose(plan["volume_mean"].astype(float), forecast["mean"], rtol=1e-5)
    assert dict(zip(plan["queue"], plan["channel"], strict=False)) == {
        "chat": "chat", "email": "email", "social": "social", "voice": "voice"}
    # floats written like plan.csv (%.6g), not to 17 digits
    assert plan["workload_erlangs"].str.len().max() <= 12


def test_simulate_reads_the_channels_of_a_staffed_forecast(forecast_run, tmp_path):
    config, forecast_csv = forecast_run
    out = tmp_path / "staffed.csv"
    run("staff", forecast_csv, "--config", config, "--out", out)
    res = run("simulate", out, "-n", 2)
    assert res.exit_code == 0, res.output
    rows = [line.split()[0] for line in res.output.splitlines()]
    assert "voice" in rows and "chat" not in rows
    assert "note: queue 'chat' (chat) is not simulated without --config" in res.output
    assert "no channel column" not in res.output


def test_staffing_a_staffed_plan_again_does_not_duplicate_columns(forecast_run, tmp_path):
    config, forecast_csv = forecast_run
    once, twice = tmp_path / "once.csv", tmp_path / "twice.csv"
    run("staff", forecast_csv, "--config", config, "--out", once)
    res = run("staff", once, "--config", config, "--out", twice)
    assert res.exit_code == 0, res.output
    assert once.read_text().splitlines()[0] == twice.read_text().splitlines()[0]


# --------------------------------------------------------------------------- wfm calibrate


def test_calibrate_on_a_few_calls_gives_no_negative_bound_and_no_patience(tmp_path, root):
    out = tmp_path / "cal"
    with pytest.warns(ForecastWarning) as record:
        res = run("calibrate", root / ROOT_DATA, "--out", out)
    assert res.exit_code == 0, res.output
    warned = " | ".join(str(w.message) for w in record)
    params = (out / "params.toml").read_text()
    bounds = [float(x) for x in re.findall(r"mean handle time \[(-?[\d.]+),", params)]
    assert bounds and min(bounds) >= 0
    assert "lower bound clipped at 0" in params
    assert "patience_s" not in params.split("[fit.")[0]  # no planned patience
    assert "'PS': patience from only 1 abandonment(s) (fewer than 10)" in warned
    assert "'PS': mean handle time from only 2 answered call(s) (fewer than 30)" in warned
    assert "not used (fewer than 10): Erlang C" in res.output


def test_handle_time_interval_never_reaches_below_zero():
    est = estimate_handle_time(np.array([10.0, 12.0, 900.0]))
    assert est.low_s == 0.0 < est.mean_s < est.high_s
    big = estimate_handle_time(np.random.default_rng(0).exponential(200.0, 5000))
    assert big.low_s == pytest.approx(big.mean_s - 1.96 * big.mean_s / math.sqrt(5000),
                                      rel=0.05)  # unchanged for large samples


def _queue(abandoned: int, answered: int = 100) -> QueueCalibration:
    wait = np.full(answered + abandoned, 30.0)
    gone = np.r_[np.zeros(answered, bool), np.ones(abandoned, bool)]
    return QueueCalibration(queue="q", calls=answered + abandoned, answered=answered,
                            abandoned=abandoned,
                            handle_time=estimate_handle_time(np.full(answered, 200.0)),
                            patience=estimate_patience(wait, gone), availability=None)


def test_patience_needs_the_minimum_number_of_abandonments():
    assert MIN_ABANDONED_FOR_PATIENCE == 10 and MIN_CALLS_FOR_AHT == 30
    assert "patience_s" not in _queue(MIN_ABANDONED_FOR_PATIENCE - 1).config_values()
    enough = _queue(MIN_ABANDONED_FOR_PATIENCE)
    assert enough.config_values()["patience_s"] == pytest.approx(110 * 30.0 / 10)
    assert enough.sample_warnings() == []
    assert len(_queue(3, answered=5).sample_warnings()) == 2


# --------------------------------------------------------------------------- wfm forecast


def test_forecast_summary_names_prior_event_effects(tmp_path, fast_config):
    config = fast_config(tmp_path)
    res = run("forecast", config, "--out", tmp_path / "fc", "--no-charts", "--model",
              "slot_mean", "--event", "Strike,outage,2026-11-17 10:00,2026-11-17 12:00")
    assert res.exit_code == 0, res.output
    lines = {line.split(":")[0]: line for line in res.output.splitlines()}
    # chat and email never had an outage: the built-in prior is applied and said so
    assert "outage x1.50 (assumed: none in the history)" in lines["chat"]
    assert "outage x1.50 (assumed: none in the history)" in lines["email"]
    # voice learned its outages from the history
    voice = re.search(r"outage x([\d.]+)( \(assumed)?", lines["voice"])
    assert voice and voice.group(2) is None


def test_forecast_summary_leaves_out_event_types_not_in_the_horizon(tmp_path, fast_config):
    config = fast_config(tmp_path)
    res = run("forecast", config, "--out", tmp_path / "fc", "--no-charts")
    assert res.exit_code == 0, res.output
    assert "outage" not in res.output  # learned from the history, but none is coming
