"""The ``wfm simulate`` command: exit codes, the summary it prints, the file it writes."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm


@pytest.fixture
def plan_file(tmp_path):
    day1 = pd.date_range("2024-03-04 08:00", periods=8, freq="30min")
    day2 = pd.date_range("2024-03-05 08:00", periods=8, freq="30min")
    ds = day1.append(day2)
    voice = pd.DataFrame(
        {
            "queue": "voice",
            "ds": ds,
            "volume": 120.0,
            "aht_s": 240.0,
            "agents_required": 20,
            "agents_scheduled": 29,
            "service_level": 0.85,
        }
    )
    sales = voice.assign(queue="sales", volume=20.0, agents_required=5, service_level=0.7)
    path = tmp_path / "plan.csv"
    pd.concat([voice, sales], ignore_index=True).to_csv(path, index=False)
    return path


def run(*args):
    return CliRunner().invoke(wfm, ["simulate", *map(str, args)])


def test_prints_promise_beside_simulated_service_level_per_queue(plan_file):
    result = run(plan_file, "--replications", 20, "--seed", 1)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    header = next(line for line in lines if line.startswith("queue"))
    assert "promised SL" in header and "simulated SL" in header
    voice = next(line for line in lines if line.startswith("voice"))
    assert "85.0%" in voice  # the plan's promise, volume-weighted
    assert any(line.startswith("sales") for line in lines)


def test_writes_the_per_interval_table_when_asked(plan_file, tmp_path):
    out = tmp_path / "results" / "simulated.csv"
    result = run(plan_file, "-n", 10, "--patience", 90, "--out", out)
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 32
    for column in (
        "queue",
        "ds",
        "agents",
        "promised_service_level",
        "service_level",
        "service_level_lo",
        "service_level_hi",
        "asa_s",
        "abandonment",
        "occupancy",
        "offered",
        "waiting",
    ):
        assert column in table.columns
    assert table["abandonment"].gt(0).any()  # patience was applied
    assert not list(out.parent.glob(".*.wfm-tmp"))  # no temporary file left behind


def test_same_seed_writes_identical_bytes(plan_file, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run(plan_file, "-n", 5, "--seed", 3, "--out", a).exit_code == 0
    assert run(plan_file, "-n", 5, "--seed", 3, "--out", b).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_uses_another_agents_column_when_told(plan_file):
    required = run(plan_file, "-n", 5)
    scheduled = run(plan_file, "-n", 5, "--agents-column", "agents_scheduled")
    assert required.exit_code == scheduled.exit_code == 0
    assert required.output != scheduled.output


def test_bad_plan_row_gives_a_one_line_error_and_exit_1(tmp_path, plan_file):
    plan = pd.read_csv(plan_file)
    plan.loc[4, "agents_required"] = -3
    bad = tmp_path / "bad.csv"
    plan.to_csv(bad, index=False)
    result = run(bad, "-n", 2)
    assert result.exit_code == 1
    message = result.output.strip()
    assert message.count("\n") == 0
    assert str(bad) in message and "row 6" in message and "'agents_required'" in message


def test_missing_plan_file_is_exit_1(tmp_path):
    result = run(tmp_path / "nope.csv")
    assert result.exit_code == 1
    assert "not found" in result.output


def test_plan_missing_a_column_is_exit_1(tmp_path, plan_file):
    bad = tmp_path / "bad.csv"
    pd.read_csv(plan_file).drop(columns="aht_s").to_csv(bad, index=False)
    result = run(bad)
    assert result.exit_code == 1
    assert "'aht_s'" in result.output


def test_usage_errors_are_exit_2(plan_file):
    assert run(plan_file, "--arrivals", "negbin").exit_code == 2  # needs --dispersion
    assert run(plan_file, "--replications", 0).exit_code == 2
    assert run(plan_file, "--service", "lognormal").exit_code == 2  # needs --service-cv


def test_over_dispersed_arrivals_and_lognormal_service_run(plan_file):
    result = run(
        plan_file,
        "-n",
        5,
        "--arrivals",
        "negbin",
        "--dispersion",
        0.15,
        "--service",
        "lognormal",
        "--service-cv",
        1.2,
    )
    assert result.exit_code == 0, result.output
    assert "arrivals negbin" in result.output


CENTRE_TOML = """
[centre]
interval_min = 30

[data]
volumes = "volumes.csv"

[queues.voice]
channel = "voice"
answer_s = 15
aht_s = 240
patience_s = 120

[queues.sales]
channel = "chat"
answer_s = 60
concurrency = 2
concurrency_aht_factor = 0.25

[queues.mail]
channel = "email"
answer_s = 28800
"""


def test_config_sets_targets_patience_and_channels(plan_file, tmp_path):
    plan = pd.read_csv(plan_file)
    mail = plan[plan["queue"] == "sales"].assign(queue="mail")
    both = tmp_path / "plan3.csv"
    pd.concat([plan, mail]).to_csv(both, index=False)
    config = tmp_path / "centre.toml"
    config.write_text(CENTRE_TOML)
    out = tmp_path / "sim.csv"
    result = run(both, "-n", 10, "--config", config, "--out", out)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    voice = next(line for line in lines if line.startswith("voice")).split()
    sales = next(line for line in lines if line.startswith("sales")).split()
    assert voice[2] == "15" and sales[2] == "60"  # each queue's own answer_s
    assert "intervals >= goal" in lines[1]
    assert voice[-2] == "80.0%"  # the default service_level goal of the config
    assert "queue 'mail' is a deferred (email) queue: not simulated" in result.output
    table = pd.read_csv(out)
    assert set(table["queue"]) == {"voice", "sales"}
    assert table.loc[table["queue"] == "voice", "abandonment"].gt(0).any()  # patience_s
    assert table.loc[table["queue"] == "sales", "abandonment"].eq(0).all()


def test_bad_config_is_exit_1(plan_file, tmp_path):
    config = tmp_path / "centre.toml"
    config.write_text("[centre]\ninterval_min = 7\n[data]\nvolumes = 'v.csv'\n")
    result = run(plan_file, "--config", config)
    assert result.exit_code == 1
    assert "interval_min" in result.output


def test_forecast_error_from_the_plans_quantiles(tmp_path, plan_file):
    plan = pd.read_csv(plan_file)
    plan = plan.assign(p10=plan["volume"] * 0.7, p90=plan["volume"] * 1.3)
    path = tmp_path / "plan_q.csv"
    plan.to_csv(path, index=False)
    result = run(path, "-n", 5, "--arrivals", "forecast", "--error-scope", "day")
    assert result.exit_code == 0, result.output
    assert "arrivals forecast (day errors)" in result.output
    result = run(plan_file, "-n", 5, "--arrivals", "forecast")  # no quantile columns
    assert result.exit_code == 1
    assert "quantile columns" in result.output
