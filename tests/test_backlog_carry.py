"""Email/social work waiting when a plan starts is carried in, not dropped.

The weekend's emails are in the history, not in the plan window: a plan that started
with an empty queue staffed its first Monday for a third of the work of the Monday a
week later (77.5 against 220 agent-hours on the example).
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm
from forecast.config import load_config
from forecast.plan import build_plan, carried_backlog, load_inputs


@pytest.fixture(scope="module")
def two_weeks(tmp_path_factory, fast_config):
    """The example centre planned over two weeks (Mon 16 to Sun 29 Nov 2026)."""
    tmp = tmp_path_factory.mktemp("backlog")
    path = fast_config(tmp)
    path.write_text(path.read_text().replace("horizon_days = 7", "horizon_days = 14"))
    config = load_config(path)
    return config, build_plan(config, queues=["email", "social"])


def mondays(result, queue):
    daily = result.daily[result.daily["queue"] == queue].set_index("date")
    first = daily.index.min()
    assert first.day_name() == "Monday"
    return daily.loc[first], daily.loc[first + pd.Timedelta(days=7)]


def test_the_first_monday_is_staffed_like_the_next_for_the_weekends_email(two_weeks):
    _, result = two_weeks
    first, second = mondays(result, "email")
    # Both Mondays open on a weekend's emails; the first one's come from the history
    # (last weekend's actual 551), the second's from the forecast (about 510), and
    # the Monday's own volumes differ by 1-2%: 15% leaves room for that, while the
    # dropped backlog left the first Monday 65% short.
    assert first["agent_hours"] == pytest.approx(second["agent_hours"], rel=0.15)
    assert first["peak_agents"] == pytest.approx(second["peak_agents"], rel=0.2)


def test_the_carried_backlog_is_recorded_in_the_queues_warnings(two_weeks):
    _, result = two_weeks
    email = result.queues["email"]
    assert email.initial_backlog > 400  # the weekend's emails, about 550 arrived
    note = next(w for w in email.warnings if "contacts waiting at the plan start" in w)
    assert re.match(rf"{email.initial_backlog:.0f} contacts waiting at the plan start "
                    r"\(2026-11-16 00:00\), estimated by staffing the last 7 days", note)
    assert email.plan["backlog"].iloc[0] >= email.initial_backlog
    assert result.queues["social"].initial_backlog >= 0


def test_voice_and_chat_carry_nothing(two_weeks):
    config, _ = two_weeks
    result = build_plan(config, queues=["voice"])
    assert result.queues["voice"].initial_backlog == 0
    assert not any("waiting at the plan start" in w for w in result.queues["voice"].warnings)


def test_a_plan_starting_after_the_history_carries_the_estimate_across(two_weeks):
    config, result = two_weeks
    inputs = load_inputs(config)
    history = inputs.history[inputs.history["queue"] == "email"]
    at_end, _ = carried_backlog(history, config.queue("email"), config,
                                pd.Timestamp("2026-11-16 00:00"))
    later, note = carried_backlog(history, config.queue("email"), config,
                                  pd.Timestamp("2026-11-18 00:00"))
    assert at_end == later == result.queues["email"].initial_backlog
    assert "the history ends 2.0 days before the plan starts: they are assumed to be " \
           "still waiting" in note


def test_a_plan_starting_inside_the_history_uses_the_week_before_its_start(two_weeks):
    config, _ = two_weeks
    inputs = load_inputs(config)
    history = inputs.history[inputs.history["queue"] == "email"]
    monday, _ = carried_backlog(history, config.queue("email"), config,
                                pd.Timestamp("2026-11-09 00:00"))
    friday, _ = carried_backlog(history, config.queue("email"), config,
                                pd.Timestamp("2026-11-13 12:00"))
    assert monday > 300  # after a weekend
    assert friday < monday / 2  # mid-week, the team keeps up


def test_the_manifest_records_the_carried_backlog(two_weeks, tmp_path):
    config, _ = two_weeks
    out = tmp_path / "out"
    run = CliRunner().invoke(wfm, ["plan", str(config.source), "--queue", "email", "--out",
                                   str(out), "--no-charts"])
    assert run.exit_code == 0, run.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert any("contacts waiting at the plan start" in w
               for w in manifest["models"]["email"]["warnings"])
