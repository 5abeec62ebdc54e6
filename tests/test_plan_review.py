"""forecast.plan: one planning window for the centre, config sections matched with the
data, and clear errors for wrong arguments to the library entry points."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm
from forecast.config import load_config
from forecast.exceptions import ConfigError, ModelError
from forecast.plan import build_plan, load_inputs


@pytest.fixture(scope="module")
def fast(tmp_path_factory, fast_config) -> Path:
    return fast_config(tmp_path_factory.mktemp("fast"))


@pytest.fixture(scope="module")
def inputs(fast):
    return load_inputs(load_config(fast))


def first_and_last(result) -> dict[str, tuple[str, str]]:
    ds = result.plan.groupby("queue")["ds"]
    return {q: (f"{a:%Y-%m-%d}", f"{b:%Y-%m-%d}") for q, a, b in
            zip(ds.min().index, ds.min(), ds.max(), strict=True)}


# --------------------------------------------------------------------------- one window


@pytest.fixture(scope="module")
def chat_ends_early(inputs):
    """The example with chat's data stopping three days before the other queues'."""
    h = inputs.history
    cut = h[~((h["queue"] == "chat") & (h["ds"] >= "2026-11-13"))].reset_index(drop=True)
    return dataclasses.replace(inputs, history=cut)


def test_every_queue_is_planned_over_the_window_after_the_latest_data(chat_ends_early):
    result = build_plan(chat_ends_early.config, inputs=chat_ends_early)
    days = first_and_last(result)
    # the others' data ends 2026-11-15: everyone is planned 16th to 22nd (voice closes Sunday)
    assert days == {"chat": ("2026-11-16", "2026-11-22"), "email": ("2026-11-16", "2026-11-22"),
                    "social": ("2026-11-16", "2026-11-22"), "voice": ("2026-11-16", "2026-11-21")}
    assert result.queues["chat"].warnings == [
        "its data ends 2026-11-12 21:30, 3 day(s) before the plan window (2026-11-16 on, after "
        "the latest data of any queue): forecasting 3 day(s) further ahead of its data"]
    # voice's data ends on Saturday afternoon, but it is closed until Monday: no warning
    assert result.queues["voice"].warnings == []


def test_the_window_does_not_depend_on_which_queues_are_run(chat_ends_early):
    alone = build_plan(chat_ends_early.config, inputs=chat_ends_early, queues="chat")
    assert first_and_last(alone) == {"chat": ("2026-11-16", "2026-11-22")}


def test_whatif_plans_base_and_scenario_over_the_same_window(chat_ends_early):
    from forecast.whatif import WhatIf, run_whatif

    result = run_whatif(chat_ends_early.config, WhatIf(volume_scale=1.1, queues=("chat",),
                                                       remove_events=("Black Friday 2026",)),
                        inputs=chat_ends_early)
    assert first_and_last(result.base)["chat"] == first_and_last(result.scenario)["chat"] \
        == ("2026-11-16", "2026-11-22")
    assert not any("different windows" in w or "planned over" in w for w in result.warnings)


def test_a_plan_over_aligned_data_is_unchanged_by_the_common_window(inputs):
    from forecast.events import events_for_queue
    from forecast.plan import plan_queue

    result = build_plan(inputs.config, inputs=inputs)
    for name in inputs.queues:  # each queue planned on its own, from its own data end
        alone = plan_queue(inputs.history[inputs.history["queue"] == name],
                           events_for_queue(inputs.events, name), inputs.config.queue(name),
                           inputs.config)
        pd.testing.assert_frame_equal(result.queues[name].plan, alone.plan)


# --------------------------------------------------------------------------- sections


def test_a_misspelt_section_stops_the_run_before_anything_is_planned(tmp_path, fast_config):
    config = fast_config(tmp_path)
    config.write_text(config.read_text().replace("[queues.voice]", "[queues.voic]"))
    with pytest.raises(ConfigError, match=r"centre.toml, key 'queues.voic': no such queue in "
                                          r"the volumes \(queues in the data: chat, email, "
                                          r"social, voice\)"):
        build_plan(config)
    assert list(build_plan(config, queues="chat").queues) == ["chat"]  # chat alone has data

    out = tmp_path / "out"
    result = CliRunner().invoke(wfm, ["plan", str(config), "--out", str(out), "--no-charts"])
    assert result.exit_code == 1 and "key 'queues.voic': no such queue" in result.output
    assert not (out / "plan.csv").exists()


@pytest.mark.filterwarnings("ignore::forecast.exceptions.DataRepairWarning")  # default hours
def test_a_data_queue_without_a_section_is_planned_on_the_defaults_with_a_warning(
        tmp_path, fast_config):
    config = fast_config(tmp_path)
    text = config.read_text()
    start = text.index("[queues.social]")
    config.write_text(text[:start])  # social's section removed
    result = build_plan(config)
    assert result.queues["social"].warnings[0] == (
        "no [queues.social] section in centre.toml: planned with [defaults], channel voice")
    assert result.queues["voice"].warnings == []


# --------------------------------------------------------------------------- arguments


def test_build_plan_takes_a_single_queue_name(inputs):
    assert list(build_plan(inputs.config, inputs=inputs, queues="voice").queues) == ["voice"]


def test_build_plan_and_load_inputs_take_the_path_of_a_config(fast, inputs):
    assert load_inputs(str(fast)).history.equals(inputs.history)
    result = build_plan(fast, queues=["email"])
    assert list(result.queues) == ["email"] and result.config.source == fast


def test_build_plan_rejects_what_is_not_a_config():
    with pytest.raises(TypeError, match="config must be a PlanConfig .* or the path of a TOML "
                                        "config file, got dict"):
        build_plan({"data": {}})


@pytest.mark.parametrize("quantile, error, text", [
    ("0.8", TypeError, "quantile must be a number strictly between 0 and 1 .* got str '0.8'"),
    (True, TypeError, "got bool"),
    (80, ConfigError, "quantile must lie strictly between 0 and 1, got 80"),
    (float("nan"), ConfigError, "strictly between 0 and 1, got nan"),
])
def test_build_plan_checks_the_quantile(inputs, quantile, error, text):
    with pytest.raises(error, match=text):
        build_plan(inputs.config, inputs=inputs, quantile=quantile)


def test_staffing_a_forecast_checks_the_quantile(inputs):
    from forecast.plan import staff_forecast

    with pytest.raises(TypeError, match="quantile must be a number"):
        staff_forecast(pd.DataFrame(), inputs.config.queue("voice"), inputs.config,
                       quantile="p80")


# --------------------------------------------------------------------------- models


def test_an_unknown_model_is_an_error_not_a_fallback(inputs):
    from forecast.forecasters import fit_forecast

    history = inputs.history[inputs.history["queue"] == "voice"]
    horizon = pd.date_range("2026-11-16 08:00", periods=4, freq="30min")
    with pytest.raises(ModelError, match="unknown model 'prophett'"):
        fit_forecast(history, horizon, model="prophett")


def test_a_model_that_fails_to_fit_still_falls_back_with_a_warning(inputs, monkeypatch):
    from forecast.exceptions import ModelFallbackWarning
    from forecast.forecasters import MODELS, fit_forecast

    def broken_fit(self, *args, **kwargs):
        raise ValueError("no convergence")

    monkeypatch.setattr(MODELS["holt_winters"], "fit", broken_fit)
    history = inputs.history[inputs.history["queue"] == "voice"]
    horizon = pd.date_range("2026-11-16 08:00", periods=4, freq="30min")
    with pytest.warns(ModelFallbackWarning, match="model 'holt_winters' failed"):
        fc, choice = fit_forecast(history, horizon, model="holt_winters")
    assert choice.name == "slot_mean" and len(fc) == 4


def test_calibrated_values_are_the_ones_a_queue_is_planned_with(fast):
    from forecast.plan import calibrated_values

    cfg = load_config(fast)
    voice = dataclasses.replace(cfg.queues["voice"], aht_s=111.0, patience_s=222.0,
                                availability=0.9)
    cfg = dataclasses.replace(
        cfg, queues={**cfg.queues, "voice": voice},
        calibrated={"*": {"aht_s": 100.0, "patience_s": 222.0}, "voice": {"availability": 0.9,
                                                                          "aht_s": 111.0}})
    # its own calibration and the pooled one both count, at the values in force
    assert calibrated_values(cfg, "voice") == {"availability": 0.9, "aht_s": 111.0,
                                               "patience_s": 222.0}
    assert calibrated_values(cfg, "chat") == {}  # a pooled calibration is for voice only


# --------------------------------------------------------------------------- library use


def test_extra_events_are_added_to_given_inputs_without_changing_them(inputs):
    from forecast.events import add_event, empty_events

    outage = add_event(empty_events(), "Big outage", "outage", pd.Timestamp("2026-11-18 09:00"),
                       pd.Timestamp("2026-11-18 13:00"), queue="voice")
    before = inputs.events.copy()
    result = build_plan(inputs.config, inputs=inputs, extra_events=outage, queues="voice")
    pd.testing.assert_frame_equal(inputs.events, before)
    assert "Big outage" in set(result.events["name"])
    # the same plan as inputs loaded with the event
    loaded = build_plan(inputs.config, inputs=load_inputs(inputs.config, extra_events=outage),
                        queues="voice")
    pd.testing.assert_frame_equal(result.plan, loaded.plan)


def test_an_empty_list_of_queues_is_a_config_error(inputs):
    with pytest.raises(ConfigError, match="no queues selected"):
        build_plan(inputs.config, inputs=inputs, queues=[])


def test_the_plan_table_is_plan_csv_with_each_queues_channel(inputs, tmp_path):
    result = build_plan(inputs.config, inputs=inputs, queues=["chat", "voice"])
    plan = result.plan
    assert plan.columns[-1] == "channel"
    assert dict(zip(plan["queue"], plan["channel"], strict=True)) == {"chat": "chat",
                                                                      "voice": "voice"}
    result.write(tmp_path, charts=False)
    written = pd.read_csv(tmp_path / "plan.csv")
    assert set(written.columns) == set(plan.columns)
    assert result.quantile is None


def test_write_accepts_one_format_or_a_comma_separated_string(inputs, tmp_path):
    result = build_plan(inputs.config, inputs=inputs, queues="voice")
    one = result.write(tmp_path / "one", charts=False, formats="xlsx")
    assert [p.name for p in one] == ["plan.csv", "daily.csv", "plan.xlsx"]
    two = result.write(tmp_path / "two", charts=False, formats="parquet, xlsx")
    assert {p.name for p in two} == {"plan.csv", "daily.csv", "plan.parquet",
                                     "daily.parquet", "plan.xlsx"}
    with pytest.raises(ValueError, match="unknown output format 'pdf'"):
        result.write(tmp_path / "bad", charts=False, formats="pdf")


def test_the_plan_table_does_not_load_matplotlib(fast):
    """A notebook's charts keep its backend: the report module selects Agg on import."""
    import subprocess
    import sys

    code = ("import sys, forecast; r = forecast.build_plan(sys.argv[1], queues='voice'); "
            "r.plan; r.daily; print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(fast)], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "False"
