"""Small promises of the CLI and the package that reviews found broken."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
from click.testing import CliRunner

from forecast.cli import wfm


def test_submodules_are_reachable_as_attributes_of_a_fresh_import():
    code = "import forecast; print(forecast.summary.plan_settings.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "plan_settings"


def test_check_names_a_queue_column_less_file_after_the_configs_only_queue(tmp_path):
    pd.DataFrame({"timestamp": pd.date_range("2026-11-02 08:00", periods=16 * 14, freq="30min"),
                  "volume": 10}).to_csv(tmp_path / "calls.csv", index=False)
    (tmp_path / "centre.toml").write_text(
        '[centre]\ntimezone = "UTC"\n[data]\nvolumes = "calls.csv"\n'
        '[queues.voice]\nchannel = "voice"\naht_s = 300\n')
    result = CliRunner().invoke(wfm, ["check", "--config", str(tmp_path / "centre.toml")])
    assert result.exit_code == 0, result.output
    assert "voice" in result.output and "calls" not in result.output.replace("calls.csv", "")


def test_whatif_shows_a_dash_not_nan_for_a_queue_without_contacts():
    result = CliRunner().invoke(wfm, ["whatif", "--example", "--volume", "0", "--queue", "chat",
                                      "--horizon-days", "7"])
    assert result.exit_code == 0, result.output
    assert "nan" not in result.output
    assert 'SL "-": no contacts to serve' in result.output
