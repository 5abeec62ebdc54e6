"""The `wfm erlang` and `wfm staff` commands: outputs, exit codes, files written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(wfm, [str(a) for a in args], catch_exceptions=False)

    return invoke


class TestErlangCommand:
    def test_required_agents_as_json(self, run):
        res = run("erlang", "--volume", 100, "--aht", 180, "--interval", 30, "--target",
                  "0.8/20", "--json")
        assert res.exit_code == 0
        out = json.loads(res.output)
        assert out["agents"] == 14
        assert out["service_level"] >= 0.8
        assert set(out) >= {"agents", "service_level", "asa_s", "occupancy"}
        assert "abandonment" not in out

    def test_patience_adds_abandonment_and_peer_numbers(self, run):
        res = run("erlang", "--volume", 600, "--aht", 300, "--interval", 30,
                  "--patience", 120, "--json")
        out = json.loads(res.output)
        assert out["agents"] == 98
        assert out["abandonment"] == pytest.approx(0.0599, abs=1e-3)

    def test_reverse_mode_with_agents(self, run):
        res = run("erlang", "--volume", 600, "--aht", 300, "--agents", 108, "--json")
        out = json.loads(res.output)
        assert out["agents"] == 108
        assert out["service_level"] == pytest.approx(0.8074, abs=1e-3)

    def test_text_output_names_the_numbers(self, run):
        res = run("erlang", "--volume", 100, "--aht", 180)
        assert res.exit_code == 0
        assert "agents      14" in res.output and "ASA" in res.output

    def test_understaffed_reverse_mode_is_not_an_error(self, run):
        res = run("erlang", "--volume", 100, "--aht", 180, "--agents", 5, "--json")
        out = json.loads(res.output)
        assert out["service_level"] == 0.0 and out["asa_s"] is None

    @pytest.mark.parametrize("args,needle", [
        (["--volume", -5, "--aht", 180], "--volume"),
        (["--volume", 5, "--aht", 0], "--aht"),
        (["--volume", 5, "--aht", 180, "--target", "80"], "SHARE/SECONDS"),
        (["--volume", 5, "--aht", 180, "--max-occupancy", 1.5], "--max-occupancy"),
        (["--volume", 5, "--aht", 180, "--max-abandon", 0.05], "--patience"),
    ])
    def test_bad_numbers_are_usage_errors(self, run, args, needle):
        res = run("erlang", *args)
        assert res.exit_code == 2
        assert needle in res.output


CONFIG = """
[centre]
interval_min = 30
[data]
volumes = "volumes.csv"
[queues.phone]
channel = "voice"
aht_s = 300
[queues.mail]
channel = "email"
aht_s = 600
answer_s = 14400
hours = "08:00-20:00"
"""


@pytest.fixture
def centre(tmp_path):
    (tmp_path / "centre.toml").write_text(CONFIG)
    ds = pd.date_range("2026-03-02", periods=48, freq="30min")
    rng = np.random.default_rng(3)
    frames = [pd.DataFrame({"queue": q, "ds": ds, "mean": rng.uniform(0, 100, 48).round(1),
                            "p90": 130.0}) for q in ("phone", "mail")]
    pd.concat(frames).to_csv(tmp_path / "forecast.csv", index=False)
    return tmp_path


class TestStaffCommand:
    def test_writes_a_plan_for_every_queue(self, run, centre):
        out = centre / "plan.csv"
        res = run("staff", centre / "forecast.csv", "--config", centre / "centre.toml",
                  "--out", out)
        assert res.exit_code == 0, res.output
        plan = pd.read_csv(out)
        assert len(plan) == 96 and set(plan["queue"]) == {"phone", "mail"}
        assert {"agents_required", "agents_scheduled", "binding", "cost", "p90"} <= set(plan)
        assert plan["volume"].equals(plan["volume_mean"])
        mail = plan[plan["queue"] == "mail"]
        assert (mail.loc[pd.to_datetime(mail["ds"]).dt.hour < 8, "agents_required"] == 0).all()

    def test_volume_column_picks_a_quantile(self, run, centre):
        out = centre / "plan.csv"
        run("staff", centre / "forecast.csv", "--config", centre / "centre.toml", "--out", out,
            "--volume-column", "p90")
        plan = pd.read_csv(out)
        assert (plan["volume"] == 130.0).all()

    def test_bad_cell_names_file_row_and_column(self, run, centre):
        path = centre / "forecast.csv"
        lines = path.read_text().splitlines()
        fields = lines[4].split(",")
        fields[2] = "lots"
        lines[4] = ",".join(fields)
        path.write_text("\n".join(lines) + "\n")
        out = centre / "plan.csv"
        res = run("staff", path, "--config", centre / "centre.toml", "--out", out)
        assert res.exit_code == 1
        assert "forecast.csv, row 5, column 'mean'" in res.output
        assert not out.exists()

    def test_missing_column_is_a_one_line_error(self, run, centre):
        path = centre / "forecast.csv"
        pd.read_csv(path).drop(columns=["mean"]).to_csv(path, index=False)
        res = run("staff", path, "--config", centre / "centre.toml", "--out", centre / "p.csv",
                  "--volume-column", "mean")
        assert res.exit_code == 1
        assert "missing column 'mean'" in res.output
        assert len(res.output.strip().splitlines()) == 1
