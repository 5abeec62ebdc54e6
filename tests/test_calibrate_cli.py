"""`wfm calibrate`: records in, params.toml + history.csv + chart out."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm
from forecast.config import config_from_dict
from forecast.data import read_volumes

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def generic_calls(tmp_path_factory) -> Path:
    """Five days of a small queue in the generic CSV layout (names to be mapped)."""
    rng = np.random.default_rng(0)
    rows = []
    for day in range(5):
        for hour in range(9, 17):
            start = pd.Timestamp("2024-03-04") + pd.Timedelta(days=day, hours=hour)
            for _ in range(rng.poisson(40)):
                at = start + pd.Timedelta(seconds=float(rng.uniform(0, 3600)))
                patience = rng.exponential(90.0)
                answer_after = rng.exponential(40.0)
                if patience < answer_after:
                    rows.append((at, "support", round(patience, 1), "abandoned", "", ""))
                else:
                    rows.append(
                        (
                            at,
                            "support",
                            round(answer_after, 1),
                            "answered",
                            round(rng.exponential(240.0), 1),
                            f"agent{rng.integers(6)}",
                        )
                    )
    frame = pd.DataFrame(
        rows, columns=["start_time", "queue", "wait_s", "outcome", "handle_s", "agent"]
    ).sort_values("start_time")
    path = tmp_path_factory.mktemp("calls") / "calls.csv"
    frame.to_csv(path, index=False, date_format="%Y-%m-%d %H:%M:%S")
    return path


def test_calibrate_writes_params_history_and_chart(generic_calls, tmp_path):
    out = tmp_path / "cal"
    result = CliRunner().invoke(
        wfm,
        [
            "calibrate",
            str(generic_calls),
            "--format",
            "generic",
            "--column",
            "start_time=arrival",
            "--out",
            str(out),
            "--train-until",
            "2024-03-08",
            "--min-calls",
            "10",
        ],
    )
    assert result.exit_code == 0, result.output
    assert {p.name for p in out.iterdir()} == {"params.toml", "history.csv", "calibration.png"}
    params = tomllib.loads((out / "params.toml").read_text())
    assert params["calibration"]["train_end"] == "2024-03-08T00:00:00"
    support = params["queues"]["support"]
    assert set(support) == {"aht_s", "patience_s", "availability"}
    assert 200 < support["aht_s"] < 280
    fit = params["fit"]["support"]
    assert fit["patience"]["low_s"] < fit["patience"]["mean_s"] < fit["patience"]["high_s"]
    assert fit["handle_time"]["cv"] > 0.8
    assert (
        fit["availability"]["low"] <= fit["availability"]["factor"] <= fit["availability"]["high"]
    )
    # the queue section pastes into a plan config as it is
    config = config_from_dict({"data": {"volumes": "v.csv"}, "queues": params["queues"]})
    assert config.queues["support"].aht_s == support["aht_s"]

    # history.csv is a volumes file the data intake reads as it is
    history = read_volumes(out / "history.csv")
    assert list(history.columns[:5]) == ["queue", "ds", "y", "aht_s", "abandoned"]
    assert history["y"].sum() == sum(1 for _ in generic_calls.open()) - 1
    assert history["ds"].dt.hour.between(9, 16).all()
    assert (out / "calibration.png").read_bytes()[:4] == b"\x89PNG"
    assert "held_out" in result.output and "wrote" in result.output


def test_calibrate_technion_sample_without_chart(tmp_path):
    result = CliRunner().invoke(
        wfm,
        [
            "calibrate",
            str(DATA / "records_technion.tsv"),
            "--out",
            str(tmp_path),
            "--no-chart",
            "--pool",
            "all",
        ],
    )
    assert result.exit_code == 0, result.output
    params = tomllib.loads((tmp_path / "params.toml").read_text())
    assert params["calibration"]["pool"] == "all"
    assert params["calibration"]["dropped"] == {"phantom": 1, "vru_hangup": 1}
    # five calls cannot support an availability fit; handle time and patience still come out
    assert "availability" not in params["queues"]["all"]
    assert params["fit"]["all"]["patience"]["abandoned"] == 1
    assert not (tmp_path / "calibration.png").exists()


def test_bad_row_is_a_one_line_error_with_exit_code_1(tmp_path):
    result = CliRunner().invoke(
        wfm, ["calibrate", str(DATA / "records_technion_bad.tsv"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 1
    assert "row 3" in result.output and "column 'vru_entry'" in result.output
    assert not any(tmp_path.iterdir())


def test_usage_errors_exit_with_code_2(tmp_path):
    runner = CliRunner()
    calls = str(DATA / "records_technion.tsv")
    bad_interval = runner.invoke(
        wfm, ["calibrate", calls, "--out", str(tmp_path), "--interval-min", "7"]
    )
    assert bad_interval.exit_code == 2 and "divide a day" in bad_interval.output
    mapping = runner.invoke(
        wfm, ["calibrate", calls, "--out", str(tmp_path), "--column", "x=arrival"]
    )
    assert mapping.exit_code == 2 and "generic" in mapping.output
    no_out = runner.invoke(wfm, ["calibrate", calls])
    assert no_out.exit_code == 2
