"""What-if scenarios change the plan the way a planner expects."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm
from forecast.config import load_config, parse_hours
from forecast.events import add_event, empty_events
from forecast.exceptions import ConfigError, ForecastWarning
from forecast.plan import build_plan, load_inputs
from forecast.whatif import WhatIf, run_whatif


@pytest.fixture(scope="module")
def base(tmp_path_factory, fast_config):
    config = load_config(fast_config(tmp_path_factory.mktemp("whatif")))
    inputs = load_inputs(config)
    return config, inputs, build_plan(config, inputs=inputs)


def row(table, queue):
    return table[table["queue"] == queue].iloc[0]


def test_more_voice_volume_needs_more_voice_fte_and_leaves_other_queues_alone(base):
    config, inputs, plan = base
    result = run_whatif(config, WhatIf(volume_scale=1.2, queues=("voice",)), inputs=inputs,
                        base=plan)
    table = result.comparison
    voice = row(table, "voice")
    assert voice["volume_scenario"] == pytest.approx(1.2 * voice["volume_base"])
    assert voice["fte_change"] > 0 and voice["cost_change"] > 0
    assert row(table, "chat")["agent_hours_change"] == 0


def test_more_shrinkage_schedules_more_heads_for_the_same_volume(base):
    config, inputs, plan = base
    table = run_whatif(config, WhatIf(shrinkage=0.45), inputs=inputs, base=plan).comparison
    assert (table["agent_hours_change"] > 0).all()
    assert (table["volume_change"] == 0).all()


def test_a_stricter_service_target_costs_more_on_voice(base):
    config, inputs, plan = base
    change = WhatIf(service_level=0.95, answer_s=10, queues=("voice",))
    assert row(run_whatif(config, change, inputs=inputs, base=plan).comparison,
               "voice")["agent_hours_change"] > 0


def test_an_added_outage_raises_that_day_only(base):
    config, inputs, plan = base
    day = plan.queues["voice"].plan["ds"].dt.normalize().iloc[0] + pd.Timedelta(days=1)
    outage = add_event(empty_events(), "what-if outage", "outage",
                       day + pd.Timedelta(hours=9),
                       day + pd.Timedelta(hours=13), queue="voice")
    result = run_whatif(config, WhatIf(add_events=outage, queues=("voice",)), inputs=inputs,
                        base=plan)
    before = plan.queues["voice"].plan.set_index("ds")["volume"]
    after = result.scenario.queues["voice"].plan.set_index("ds")["volume"]
    lifted = after[after.index.normalize() == day].sum() - before[
        before.index.normalize() == day].sum()
    assert lifted > 0


def test_unknown_queue_or_event_is_a_config_error(base):
    config, inputs, plan = base
    with pytest.raises(ConfigError, match="not in the data"):
        run_whatif(config, WhatIf(volume_scale=1.1, queues=("fax",)), inputs=inputs, base=plan)
    with pytest.raises(ConfigError, match="no event named"):
        run_whatif(config, WhatIf(remove_events=("nope",)), inputs=inputs, base=plan)
    with pytest.raises(ConfigError):
        WhatIf(shrinkage=1.5)


def test_whatif_cli_prints_the_comparison(tmp_path, fast_config):
    config = fast_config(tmp_path)
    result = CliRunner().invoke(wfm, ["whatif", str(config), "--volume", "1.2", "--queue",
                                      "voice", "--out", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    assert "volume x1.2 (voice)" in result.output
    assert (tmp_path / "w" / "comparison.csv").is_file()
    assert (tmp_path / "w" / "scenario" / "plan.csv").is_file()


# ------------------------------------------------------------------ opening hours


def test_hours_without_history_warn_naming_the_queue_and_the_contacts_they_add(base):
    config, inputs, plan = base
    change = WhatIf(hours=parse_hours("08:00-22:00"), queues=("voice",))
    with pytest.warns(ForecastWarning, match="queue 'voice' opens hours with no history"):
        result = run_whatif(config, change, inputs=inputs, base=plan)
    note = next(w for w in result.warnings if "no history" in w)
    # voice opened 08:00-20:00 on weekdays and 09:00-17:00 on Saturdays, never on Sundays
    assert "mon-fri 20:00-22:00; sat 08:00-09:00, 17:00-22:00; sun 08:00-22:00" in note
    scenario = result.scenario.queues["voice"].plan
    added = scenario.loc[~config.queue("voice").hours.is_open(scenario["ds"]), "volume"].sum()
    assert added > 0 and f"adding {added:,.0f} contacts" in note
    assert "assumption, not history" in note
    voice = row(result.comparison, "voice")
    assert voice["volume_change"] > 0
    assert not any("no history" in w and "'chat'" in w for w in result.warnings)


def test_same_volume_spreads_the_base_total_over_the_new_hours(base):
    config, inputs, plan = base
    change = WhatIf(hours=parse_hours("08:00-22:00"), queues=("voice",), same_volume=True,
                    volume_scale=1.1)
    with pytest.warns(ForecastWarning, match="the queue's total is kept at the base's"):
        result = run_whatif(config, change, inputs=inputs, base=plan)
    voice = row(result.comparison, "voice")
    assert voice["volume_scenario"] == pytest.approx(1.1 * voice["volume_base"])
    scenario = result.scenario.queues["voice"].plan
    assert scenario.loc[scenario["ds"].dt.hour >= 20, "volume"].sum() > 0
    assert "same total volume" in change.describe()


def test_hours_the_history_has_seen_add_no_warning(base):
    config, inputs, plan = base
    change = WhatIf(hours=parse_hours({"default": "09:00-17:00", "sun": "closed"}),
                    queues=("voice",))
    result = run_whatif(config, change, inputs=inputs, base=plan)
    assert not any("no history" in w for w in result.warnings)


def test_same_volume_needs_hours():
    with pytest.raises(ConfigError, match="give hours too"):
        WhatIf(same_volume=True)


def test_whatif_cli_prints_contacts_and_rejects_same_volume_without_hours(tmp_path,
                                                                        fast_config):
    config = fast_config(tmp_path)
    result = CliRunner().invoke(wfm, ["whatif", str(config), "--volume", "1.5", "--queue",
                                      "voice", "--out", str(tmp_path / "w")])
    assert result.exit_code == 0, result.output
    header = next(line for line in result.output.splitlines() if line.startswith("queue"))
    assert header.split()[1:4] == ["contacts", "base", "scenario"]
    table = pd.read_csv(tmp_path / "w" / "comparison.csv").set_index("queue")
    voice = next(line for line in result.output.splitlines() if line.startswith("voice"))
    assert voice.split()[1:4] == [f"{table.loc['voice', 'volume_base']:,.0f}",
                                  f"{table.loc['voice', 'volume_scenario']:,.0f}",
                                  f"{table.loc['voice', 'volume_change']:+,.0f}"]
    refused = CliRunner().invoke(wfm, ["whatif", str(config), "--same-volume"])
    assert refused.exit_code == 2 and "give --hours too" in refused.output
