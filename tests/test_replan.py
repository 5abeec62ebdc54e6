"""Intraday re-plan: an outage morning asks for more agents from the next interval on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm
from forecast.config import load_config
from forecast.exceptions import ForecastError, ForecastWarning
from forecast.plan import build_plan
from forecast.replan import ReplanSettings, replan_day


@pytest.fixture(scope="module")
def setting(tmp_path_factory, fast_config):
    tmp = tmp_path_factory.mktemp("replan")
    config = load_config(fast_config(tmp))
    plan = build_plan(config, queues=["voice"]).plan
    day = plan["ds"].dt.normalize().iloc[0]
    return tmp, config, plan, day


def actuals_for(plan, day, until_hour, factor):
    morning = plan[(plan["ds"] >= day) & (plan["ds"] < day + pd.Timedelta(hours=until_hour))]
    return pd.DataFrame({"queue": morning["queue"], "ds": morning["ds"],
                         "y": np.round(morning["volume"] * factor)})


def test_actuals_on_forecast_change_nothing(setting):
    _, config, plan, day = setting
    table = replan_day(plan, actuals_for(plan, day, 11, 1.0), config)
    ahead = table[table["status"] == "ahead"]
    assert ahead["ratio"].iloc[0] == pytest.approx(1.0, abs=0.02)
    assert ahead["change"].abs().max() <= 1


def test_outage_level_actuals_pull_in_agents_from_the_next_interval(setting):
    _, config, plan, day = setting
    table = replan_day(plan, actuals_for(plan, day, 11, 1.8), config)
    ahead = table[table["status"] == "ahead"]
    assert ahead["ds"].iloc[0] == day + pd.Timedelta(hours=11)
    assert ahead["ratio"].iloc[0] == pytest.approx(1.8, rel=0.05)
    assert ahead["change"].iloc[0] > 0 and (ahead["change"] >= 0).all()
    elapsed = table[table["status"] == "elapsed"]
    assert (elapsed["change"] == 0).all()


def test_a_decaying_surge_needs_fewer_extra_agents_late_in_the_day(setting):
    _, config, plan, day = setting
    held = replan_day(plan, actuals_for(plan, day, 11, 1.8), config)
    fading = replan_day(plan, actuals_for(plan, day, 11, 1.8), config,
                        settings=ReplanSettings(decay_hours=1.0))
    assert fading["change"].iloc[-1] < held["change"].iloc[-1]


def test_replan_cli_reports_whom_to_pull_in(setting):
    tmp, config, plan, day = setting
    plan_path = tmp / "plan.csv"
    plan.to_csv(plan_path, index=False)
    actuals = actuals_for(plan, day, 11, 2.0).rename(columns={"ds": "timestamp",
                                                             "y": "volume"})
    actuals.to_csv(tmp / "today.csv", index=False)
    result = CliRunner().invoke(wfm, ["replan", str(config.source), "--actuals",
                                      str(tmp / "today.csv"), "--plan", str(plan_path),
                                      "--out", str(tmp / "replan.csv")])
    assert result.exit_code == 0, result.output
    assert "pull in up to" in result.output and "from 11:00" in result.output
    assert (tmp / "replan.csv").is_file()


def test_a_day_forecast_at_zero_warns_that_there_is_nothing_to_scale(setting):
    _, config, plan, day = setting
    quiet = plan.assign(volume=np.where(plan["ds"].dt.normalize() == day, 0.0, plan["volume"]))
    actuals = pd.DataFrame({"queue": ["voice"], "ds": [day + pd.Timedelta(hours=8)], "y": [100]})
    with pytest.warns(ForecastWarning, match="forecasts no contacts .* 100 arrived: there is "
                                             "no forecast to scale"):
        table = replan_day(quiet, actuals, config)
    assert (table.loc[table["status"] == "ahead", "volume"] == 0).all()


def test_actuals_outside_the_plans_intervals_are_counted_in_a_warning(setting):
    _, config, plan, day = setting
    night = pd.DataFrame({"queue": "voice", "ds": [day + pd.Timedelta(hours=3),
                                                   day + pd.Timedelta(hours=3, minutes=30)],
                          "y": [50, 40]})
    actuals = pd.concat([night, actuals_for(plan, day, 10, 1.0)], ignore_index=True)
    with pytest.warns(ForecastWarning, match="2 actual row.s. fall outside the plan's "
                                             "intervals .the first at 03:00"):
        replan_day(plan, actuals, config)


def test_a_replan_time_on_another_day_is_an_error(setting):
    _, config, plan, day = setting
    with pytest.raises(ForecastError, match="not on the day of the actuals"):
        replan_day(plan, actuals_for(plan, day, 11, 1.0), config,
                   now=day + pd.Timedelta(days=39, hours=10))
    with pytest.raises(ForecastError, match="'25:00' is not a time"):
        replan_day(plan, actuals_for(plan, day, 11, 1.0), config, now="25:00")


def test_actuals_after_the_replan_time_are_counted_in_a_warning(setting):
    _, config, plan, day = setting
    with pytest.warns(ForecastWarning, match="2 actual row.s. end after the re-plan time 10:00"):
        table = replan_day(plan, actuals_for(plan, day, 11, 1.0), config,
                           now=day + pd.Timedelta(hours=10))
    assert table.loc[table["status"] == "ahead", "ds"].min() == day + pd.Timedelta(hours=10)


def test_replan_cli_says_there_is_nothing_to_scale_on_a_day_forecast_at_zero(setting):
    tmp, config, plan, day = setting
    quiet = plan.assign(volume=np.where(plan["ds"].dt.normalize() == day, 0.0, plan["volume"]))
    quiet.to_csv(tmp / "quiet.csv", index=False)
    pd.DataFrame({"queue": ["voice"], "timestamp": [day + pd.Timedelta(hours=8)],
                  "volume": [100]}).to_csv(tmp / "busy.csv", index=False)
    result = CliRunner().invoke(wfm, ["replan", str(config.source), "--actuals",
                                      str(tmp / "busy.csv"), "--plan", str(tmp / "quiet.csv")])
    assert result.exit_code == 0, result.output
    assert "voice: no forecast left today to scale" in result.output
    assert "x the forecast" not in result.output


@pytest.fixture(scope="module")
def email_setting(setting):
    tmp, config, _, _ = setting
    plan = build_plan(config, queues=["email"]).plan
    first = plan["ds"].dt.normalize().iloc[0]
    return tmp, config, plan, first


def test_email_actuals_on_forecast_keep_the_plan_the_day_starts_with_its_backlog(email_setting):
    # Tuesday: the night's emails and Monday's late ones are waiting at midnight; a
    # re-plan that started the day with an empty queue released most of the team
    _, config, plan, first = email_setting
    day = first + pd.Timedelta(days=1)
    assert plan.loc[plan["ds"] == day - pd.Timedelta(minutes=30), "backlog"].iloc[0] > 20
    morning = plan[(plan["ds"] >= day) & (plan["ds"] < day + pd.Timedelta(hours=10))]
    exact = pd.DataFrame({"queue": "email", "ds": morning["ds"], "y": morning["volume_mean"]})
    table = replan_day(plan, exact, config)
    ahead = table[table["status"] == "ahead"]
    assert ahead["ratio"].iloc[0] == pytest.approx(1.0)
    assert (ahead["change"] == 0).all()
    # rounded to whole contacts, as a real export is: at most a head either way
    rounded = replan_day(plan, actuals_for(plan, day, 10, 1.0), config)
    changed = rounded.loc[rounded["status"] == "ahead", "agents_required"] - rounded.loc[
        rounded["status"] == "ahead", "agents_required_plan"]
    assert changed.abs().max() <= 1


def test_an_email_surge_still_pulls_agents_in(email_setting):
    _, config, plan, first = email_setting
    day = first + pd.Timedelta(days=1)
    table = replan_day(plan, actuals_for(plan, day, 10, 1.8), config)
    ahead = table[table["status"] == "ahead"]
    assert ahead["change"].max() >= 2 and (ahead["change"] >= 0).all()


def test_email_on_the_plans_first_day_warns_it_starts_with_no_backlog(email_setting):
    _, config, plan, first = email_setting
    with pytest.warns(ForecastWarning, match="queue 'email': the plan has no backlog before "
                                             f"{first:%Y-%m-%d}"):
        replan_day(plan, actuals_for(plan, first, 10, 1.0), config)


def test_a_quantile_plan_is_compared_on_its_mean_and_keeps_its_margin(setting):
    _, config, _, day = setting
    p80 = build_plan(config, queues=["voice"], quantile=0.8).plan
    assert (p80["volume"] > p80["volume_mean"]).mean() > 0.9  # staffed above the mean
    at_mean = actuals_for(p80.assign(volume=p80["volume_mean"]), day, 11, 1.0)
    table = replan_day(p80, at_mean, config)
    ahead = table[table["status"] == "ahead"]
    assert ahead["ratio"].iloc[0] == pytest.approx(1.0, abs=0.02)
    assert ahead["change"].abs().max() <= 1
    planned = p80.set_index("ds").loc[ahead["ds"], "volume"].to_numpy()
    np.testing.assert_allclose(ahead["volume"], planned * ahead["ratio"])


def test_replan_cli_says_whom_to_release_and_that_aht_is_kept(setting):
    tmp, config, plan, day = setting
    plan_path = tmp / "plan_release.csv"
    plan.to_csv(plan_path, index=False)
    quiet = actuals_for(plan, day, 11, 0.5).rename(columns={"ds": "timestamp", "y": "volume"})
    quiet.assign(aht_s=300.0).to_csv(tmp / "quiet.csv", index=False)
    result = CliRunner().invoke(wfm, ["replan", str(config.source), "--actuals",
                                      str(tmp / "quiet.csv"), "--plan", str(plan_path)])
    assert result.exit_code == 0, result.output
    assert "release up to" in result.output and "from 11:00" in result.output
    assert "pull in" not in result.output
    assert "handle times are not re-planned" in result.output
