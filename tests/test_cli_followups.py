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


def test_calibrate_prints_the_values_the_plan_uses_beside_the_measurements(tmp_path):
    from pathlib import Path

    records = Path(__file__).parent / "data" / "records_technion.tsv"
    result = CliRunner().invoke(wfm, ["calibrate", str(records), "--format", "technion",
                                      "--pool", "all", "--out", str(tmp_path), "--no-chart"])
    assert result.exit_code == 0, result.output
    assert "measured mean patience 94 s" in result.output
    assert "the plan uses: 5 calls, aht_s 102.8" in result.output
    assert "aht_s = 102.8" in (tmp_path / "params.toml").read_text()


def test_check_reports_a_misspelt_queue_section_before_anything_else(tmp_path):
    import shutil
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "fixtures" / "example"
    for name in ("volumes.csv.gz", "events.csv"):
        shutil.copy(example / name, tmp_path / name)
    config = tmp_path / "centre.toml"
    config.write_text((example / "centre.toml").read_text().replace("[queues.voice]",
                                                                     "[queues.voic]"))
    result = CliRunner().invoke(wfm, ["check", "--config", str(config)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"error: {config}, key 'queues.voic': no such queue in the volumes (queues in the "
        "data: chat, email, social, voice); did you mean 'voice'?"]


def test_check_shows_when_a_deferred_team_works_beside_when_contacts_arrive():
    from pathlib import Path

    config = Path(__file__).resolve().parents[1] / "fixtures" / "example" / "centre.toml"
    result = CliRunner().invoke(wfm, ["check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert "queue email: the team works mon 08:00-18:00" in result.output


def test_whatif_out_writes_a_manifest_of_both_plans_and_its_warnings(tmp_path):
    import json

    result = CliRunner().invoke(wfm, ["whatif", "--example", "--target", "0.9/20",
                                      "--horizon-days", "7", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["command"] == "whatif"
    assert {"base/plan.csv", "scenario/plan.csv", "comparison.csv"} <= set(manifest["outputs"])
    assert any(w.startswith("the service target applies to the immediate queues only")
               for w in manifest["warnings"]), manifest["warnings"]
