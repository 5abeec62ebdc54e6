"""What-if results a planner can trust: FTE per queue over its own window, targets kept
where they make sense, warnings instead of silent misses, labels that say what changed."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from forecast.config import load_config
from forecast.events import add_event, empty_events
from forecast.exceptions import ConfigError, ForecastWarning
from forecast.plan import build_plan, load_inputs
from forecast.summary import compare_plans, horizon_totals, plan_settings
from forecast.whatif import WhatIf, compare_totals, format_comparison, run_whatif


@pytest.fixture(scope="module")
def base(tmp_path_factory, fast_config):
    config = load_config(fast_config(tmp_path_factory.mktemp("whatif_review")))
    inputs = load_inputs(config)
    return config, inputs, build_plan(config, inputs=inputs)


def row(table, queue):
    return table[table["queue"] == queue].iloc[0]


def with_extra_day(plan, queue):
    """``plan`` with ``queue`` planned on one more day, the Saturday before its first
    Monday: a window of 8 calendar days."""
    q = plan.queues[queue]
    first = q.plan["ds"].dt.normalize().min()
    extra = q.plan[q.plan["ds"].dt.normalize() == first].assign(
        ds=lambda t: t["ds"] - pd.Timedelta(days=2))
    longer = pd.concat([extra, q.plan], ignore_index=True)
    return dataclasses.replace(plan, queues={**plan.queues, queue: dataclasses.replace(
        q, plan=longer, daily=None)})


def test_a_queue_planned_over_a_longer_window_leaves_other_queues_fte_unchanged(base):
    config, _, plan = base
    assert plan.queues["voice"].plan["ds"].iloc[0].day_name() == "Monday"
    scenario = with_extra_day(plan, "voice")
    table = compare_totals(plan, scenario)
    assert row(table, "chat")["fte_change"] == 0
    assert row(table, "email")["fte_change"] == 0
    voice = row(table, "voice")
    assert voice["agent_hours_change"] > 0
    # voice: 8 calendar days in the scenario, the 7-day horizon in the base
    assert voice["fte_scenario"] == pytest.approx(
        voice["agent_hours_scenario"] / (config.hours_per_fte * 8 / 7))
    assert voice["fte_base"] == pytest.approx(voice["agent_hours_base"] / config.hours_per_fte)
    every = row(table, "all")
    assert every["fte_change"] == pytest.approx(voice["fte_change"])


def test_service_levels_are_the_summary_ones_leaving_out_intervals_without_one(base):
    _, _, plan = base
    email = plan.queues["email"]
    busy = email.plan.index[email.plan["volume"] > 0][:3]
    unknown = email.plan.assign(service_level=email.plan["service_level"].mask(
        email.plan.index.isin(busy)))
    scenario = dataclasses.replace(plan, queues={
        **plan.queues, "email": dataclasses.replace(email, plan=unknown, daily=None)})
    table = compare_totals(plan, scenario).set_index("queue")
    for label, result in (("base", plan), ("scenario", scenario)):
        expected = horizon_totals(result.plan, **plan_settings(result)).set_index("queue")
        pd.testing.assert_series_equal(table[f"service_level_{label}"],
                                       expected["service_level"], check_names=False)
    # the same figure compare_plans (and the report) show, 'all' row included
    other = compare_plans(plan, scenario, "base", "scenario", by="total").set_index("queue")
    assert table.loc["all", "service_level_scenario"] == pytest.approx(
        other.loc["all", "service_level_scenario"], abs=0)
    # an interval without a service level is left out, not counted as fully served
    served = email.plan.drop(index=busy).dropna(subset=["service_level"])
    assert table.loc["email", "service_level_scenario"] == pytest.approx(
        (served["service_level"] * served["volume"]).sum() / served["volume"].sum())


def test_an_unchanged_plan_compares_to_zero_everywhere(base):
    _, _, plan = base
    table = compare_totals(plan, plan)
    assert (table["fte_change"] == 0).all() and (table["agent_hours_change"] == 0).all()


def test_a_target_without_queues_changes_the_immediate_queues_only_and_says_so(base):
    config, inputs, plan = base
    with pytest.warns(ForecastWarning, match=r"immediate queues only; deferred queue\(s\) "
                                             r"email, social"):
        result = run_whatif(config, WhatIf(service_level=0.9, answer_s=20), inputs=inputs,
                            base=plan)
    assert result.scenario.config.queue("voice").answer_s == 20
    assert result.scenario.config.queue("chat").service_level == 0.9
    for deferred in ("email", "social"):
        assert result.scenario.config.queue(deferred) == config.queue(deferred)
        assert row(result.comparison, deferred)["agent_hours_change"] == 0
    assert "on immediate queues" in result.change.describe()
    assert not any("below its target" in w for w in result.warnings)


def test_a_scenario_below_its_own_target_warns_naming_the_queue(base):
    config, inputs, plan = base
    change = WhatIf(service_level=0.9, answer_s=20, queues=("email",))
    with pytest.warns(ForecastWarning, match="queue 'email' expects service level 0.[0-8]"):
        result = run_whatif(config, change, inputs=inputs, base=plan)
    assert row(result.comparison, "email")["service_level_scenario"] < 0.9
    assert [w for w in result.warnings if "below its target" in w] == [
        w for w in result.warnings if "'email'" in w]


def test_no_volume_shows_a_dash_not_nan(base):
    config, inputs, plan = base
    result = run_whatif(config, WhatIf(volume_scale=0), inputs=inputs, base=plan)
    assert np.isnan(row(result.comparison, "voice")["service_level_scenario"])
    text = format_comparison(result.comparison)
    assert "nan" not in text
    voice_line = next(line for line in text.splitlines() if line.startswith("voice"))
    assert voice_line.split()[-1] == "-"
    assert "no contacts" in text


def test_a_single_queue_name_is_one_queue_not_its_letters():
    change = WhatIf(volume_scale=1.2, queues="voice")
    assert change.queues == ("voice",)
    assert change.applies_to("voice") and not change.applies_to("ice")
    assert WhatIf(remove_events="Black Friday").remove_events == ("Black Friday",)


def outage(plan, queue):
    day = plan.queues["voice"].plan["ds"].dt.normalize().iloc[0] + pd.Timedelta(days=1)
    return add_event(empty_events(), "Outage", "outage", day + pd.Timedelta(hours=9),
                     day + pd.Timedelta(hours=13), queue=queue)


def test_an_event_for_one_queue_is_labelled_with_that_queue(base):
    _, _, plan = base
    assert WhatIf(add_events=outage(plan, "voice")).describe() == "add Outage (voice)"
    assert WhatIf(add_events=outage(plan, None)).describe() == "add Outage (all queues)"
    assert WhatIf(add_events=outage(plan, "voice"),
                  queues=("voice",)).describe() == "add Outage (voice)"


def test_an_event_for_an_unknown_or_untouched_queue_is_an_error(base):
    config, inputs, plan = base
    with pytest.raises(ConfigError, match="event 'Outage' is for queue 'fax', which is not "
                                          "in the data"):
        run_whatif(config, WhatIf(add_events=outage(plan, "fax")), inputs=inputs, base=plan)
    with pytest.raises(ConfigError, match="the what-if changes chat only"):
        run_whatif(config, WhatIf(add_events=outage(plan, "voice"), queues=("chat",)),
                   inputs=inputs, base=plan)


# --------------------------------------------------------------------------- library use


def test_a_whatif_on_a_quantile_base_staffs_the_scenario_to_that_quantile(base):
    config, inputs, _ = base
    p80 = build_plan(config, inputs=inputs, quantile=0.8)
    result = run_whatif(config, WhatIf(volume_scale=1.1), inputs=inputs, base=p80)
    assert result.scenario.volume_column == "p80"
    voice = row(result.comparison, "voice")
    assert voice["volume_scenario"] == pytest.approx(1.1 * voice["volume_base"])
    # no change is no change, with or without the (agreeing) quantile
    same = run_whatif(config, WhatIf(), inputs=inputs, base=p80, quantile=0.8)
    assert (same.comparison["agent_hours_change"] == 0).all()


def test_a_quantile_that_disagrees_with_the_base_is_a_config_error(base):
    config, inputs, plan = base
    for quantile in (0.8, 0.9):
        with pytest.raises(ConfigError, match=f"quantile={quantile} disagrees with the base "
                                              "plan, which is staffed to the mean"):
            run_whatif(config, WhatIf(), inputs=inputs, base=plan, quantile=quantile)


def test_a_service_level_for_a_deferred_queue_warns_that_it_changes_nothing(base):
    config, inputs, plan = base
    with pytest.warns(ForecastWarning, match="service_level does not change deferred "
                                             "queue.s. email: .*change answer_s instead"):
        result = run_whatif(config, WhatIf(service_level=0.99, queues="email"), inputs=inputs,
                            base=plan)
    assert row(result.comparison, "email")["agent_hours_change"] == 0


@pytest.mark.parametrize(("kwargs", "key", "expected"), [
    ({"volume_scale": "1.2"}, "volume_scale", "must be a number, got str '1.2'"),
    ({"volume_scale": None}, "volume_scale", "must be a number, got NoneType None"),
    ({"aht_scale": True}, "aht_scale", "must be a number, got bool True"),
    ({"shrinkage": "0.3"}, "shrinkage", "must be a number or None, got str '0.3'"),
    ({"volume_scale": 1.5, "queues": []}, "queues", "names no queue"),
])
def test_a_whatif_field_of_the_wrong_kind_is_a_config_error_naming_it(kwargs, key, expected):
    with pytest.raises(ConfigError, match=expected) as caught:
        WhatIf(**kwargs)
    assert caught.value.key == key
