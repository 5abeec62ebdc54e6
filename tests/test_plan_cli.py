"""`wfm plan` end to end: files written, exit codes, nothing written on bad input."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from forecast.cli import wfm
from forecast.exceptions import ForecastWarning


def run(*args: str):
    return CliRunner().invoke(wfm, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def planned(tmp_path_factory, fast_config):
    tmp = tmp_path_factory.mktemp("plan")
    config = fast_config(tmp)
    result = run("plan", config, "--out", tmp / "out")
    return result, tmp / "out", config


def test_plan_writes_plan_daily_charts_and_manifest(planned):
    result, out, _ = planned
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
    assert names == ["chart_chat.png", "chart_email.png", "chart_social.png", "chart_voice.png",
                     "daily.csv", "manifest.json", "plan.csv"]
    assert "wfm plan: ok: 4 queue(s)" in result.output


def test_plan_csv_has_one_row_per_queue_and_open_interval(planned):
    _, out, _ = planned
    plan = pd.read_csv(out / "plan.csv", parse_dates=["ds"])
    assert list(plan.columns[:7]) == ["queue", "ds", "volume", "volume_mean", "p10", "p50", "p90"]
    assert not plan.duplicated(["queue", "ds"]).any()
    voice = plan[plan["queue"] == "voice"]
    # voice opens 08:00-20:00 on weekdays and 09:00-17:00 on Saturday, closed Sunday
    assert voice["ds"].dt.day_of_week.max() == 5
    assert voice["ds"].dt.hour.min() == 8 and voice["ds"].dt.hour.max() == 19
    assert (voice["agents_scheduled"] >= voice["agents_required"]).all()
    assert ((voice["service_level"] >= 0) & (voice["service_level"] <= 1)).all()


def test_daily_csv_adds_up_the_plan(planned):
    _, out, config = planned
    plan = pd.read_csv(out / "plan.csv", parse_dates=["ds"])
    daily = pd.read_csv(out / "daily.csv", parse_dates=["date"])
    agent_hours = (plan["agents_scheduled"] * 0.5).groupby(plan["queue"]).sum()
    assert daily.groupby("queue")["agent_hours"].sum().to_dict() == pytest.approx(
        agent_hours.to_dict())
    assert daily["fte"].iloc[0] == pytest.approx(daily["agent_hours"].iloc[0] / 7.5)


def test_same_inputs_give_byte_identical_outputs(planned, tmp_path):
    _, out, config = planned
    again = run("plan", config, "--out", tmp_path / "again")
    assert again.exit_code == 0
    for name in ("plan.csv", "daily.csv", "chart_voice.png", "manifest.json"):
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name


def test_p80_plan_costs_more_than_the_mean_plan(tmp_path, fast_config):
    config = fast_config(tmp_path)
    assert run("plan", config, "--out", tmp_path / "p50", "--no-charts",
               "--queue", "voice").exit_code == 0
    assert run("plan", config, "--out", tmp_path / "p80", "--no-charts", "--queue", "voice",
               "--quantile", "0.8").exit_code == 0
    p50 = pd.read_csv(tmp_path / "p50" / "daily.csv")["cost"].sum()
    p80 = pd.read_csv(tmp_path / "p80" / "daily.csv")["cost"].sum()
    assert p80 > p50


def test_bad_volume_row_is_one_line_error_and_no_output(tmp_path, fast_config):
    config = fast_config(tmp_path)
    volumes = pd.read_csv(tmp_path / "volumes.csv.gz")
    volumes["volume"] = volumes["volume"].astype(object)
    volumes.loc[498, "volume"] = "lots"  # file line 500 (header is line 1)
    volumes.to_csv(tmp_path / "volumes.csv.gz", index=False)
    check = CliRunner().invoke(wfm, ["check", str(tmp_path / "volumes.csv.gz")])
    assert check.exit_code == 1
    message = check.output.strip()
    assert "\n" not in message and "row 500" in message and "'volume'" in message
    result = CliRunner().invoke(wfm, ["plan", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "row 500" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_config_error_names_the_key(tmp_path, fast_config):
    config = fast_config(tmp_path, extra='\n[queues.fax]\nchannel = "fax"\n')
    result = CliRunner().invoke(wfm, ["plan", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "queues.fax.channel" in result.output and "voice, chat, email, social" in result.output


def test_usage_errors_exit_2(tmp_path):
    assert CliRunner().invoke(wfm, ["plan"]).exit_code == 2
    assert CliRunner().invoke(wfm, ["plan", "--example", "--quantile", "1.5"]).exit_code == 2
    assert CliRunner().invoke(wfm, ["plan", "--example", "--format", "pdf"]).exit_code == 2


def test_fit_then_plan_with_stored_models_gives_the_same_plan(planned, tmp_path):
    _, out, config = planned
    assert run("fit", config, "--models", tmp_path / "models").exit_code == 0
    stored = sorted(p.name for p in (tmp_path / "models").iterdir() if p.suffix == ".json")
    assert stored == ["chat.json", "email.json", "social.json", "voice.json"]
    result = run("plan", config, "--models", tmp_path / "models", "--out", tmp_path / "o",
                 "--no-charts")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o" / "plan.csv").read_bytes() == (out / "plan.csv").read_bytes()


def test_json_log_ends_with_a_summary_event(tmp_path, fast_config):
    import json

    config = fast_config(tmp_path)
    result = CliRunner().invoke(wfm, ["plan", str(config), "--out", str(tmp_path / "o"),
                                      "--no-charts", "--queue", "social", "--log-format",
                                      "json"])
    assert result.exit_code == 0
    events = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert events[-1]["event"] == "summary" and events[-1]["queues"] == 1


@pytest.mark.slow
def test_example_plan_with_automatic_model_selection(tmp_path):
    result = run("plan", "--example", "--out", tmp_path / "out", "--horizon-days", "7",
                 "--no-charts")
    assert result.exit_code == 0, result.output
    manifest = (tmp_path / "out" / "manifest.json").read_text()
    assert '"model"' in manifest


def test_a_failing_queue_exits_3_and_the_others_are_written(tmp_path, fast_config,
                                                             monkeypatch):
    import forecast.plan as plan_module

    real_staff = plan_module.staff_queue

    def staff_but_break_chat(frame, queue, **kwargs):
        if queue.name == "chat":
            raise ZeroDivisionError("chat broke")
        return real_staff(frame, queue, **kwargs)

    monkeypatch.setattr(plan_module, "staff_queue", staff_but_break_chat)
    config = fast_config(tmp_path)
    result = CliRunner().invoke(wfm, ["plan", str(config), "--out", str(tmp_path / "o"),
                                      "--no-charts"])
    assert result.exit_code == 3, result.output
    assert "queue 'chat' failed: ZeroDivisionError: chat broke" in result.output
    plan = pd.read_csv(tmp_path / "o" / "plan.csv")
    assert sorted(plan["queue"].unique()) == ["email", "social", "voice"]
    assert '"chat": "ZeroDivisionError' in (tmp_path / "o" / "manifest.json").read_text()

    # --fail-fast stops at chat, the first queue: nothing planned, exit 1, no plan written
    stopped = CliRunner().invoke(wfm, ["plan", str(config), "--out", str(tmp_path / "ff"),
                                       "--no-charts", "--fail-fast"])
    assert stopped.exit_code == 1
    assert not (tmp_path / "ff" / "plan.csv").exists()


def hand_set_patience(params: Path, seconds: float = 94.0) -> Path:
    """The calibration with a hand-set patience: the tiny test records hold one
    abandonment, too few for calibrate to set one itself."""
    text = params.read_text()
    text, n = re.subn(r"(\[queues\.all\]\naht_s = [^\n]*\n)", rf"\1patience_s = {seconds}\n",
                      text)
    assert n == 1
    params.write_text(text)
    return params


def test_calibration_from_call_records_changes_the_voice_plan(tmp_path, fast_config):
    import json

    config = fast_config(tmp_path)
    records = Path(__file__).parent / "data" / "records_technion.tsv"
    calibrated = run("calibrate", records, "--format", "technion", "--pool", "all",
                     "--out", tmp_path / "cal")
    assert calibrated.exit_code == 0, calibrated.output
    args = ["plan", str(config), "--no-charts", "--queue", "voice"]
    assert run(*args, "--out", tmp_path / "base").exit_code == 0
    with pytest.warns(ForecastWarning, match="not applied to chat, email, social"):
        result = run(*args, "--out", tmp_path / "cal_plan", "--calibration",
                     hand_set_patience(tmp_path / "cal" / "params.toml"))
    assert result.exit_code == 0, result.output
    base = pd.read_csv(tmp_path / "base" / "plan.csv")
    with_patience = pd.read_csv(tmp_path / "cal_plan" / "plan.csv")
    # the records' callers are less patient (94 s) than the config's 180 s: more of them
    # abandon, and the plan changes
    assert with_patience["abandonment"].mean() > base["abandonment"].mean()
    assert not with_patience["agents_required"].equals(base["agents_required"])
    manifest = json.loads((tmp_path / "cal_plan" / "manifest.json").read_text())
    assert manifest["settings"]["calibration"]["file"] == "params.toml"
    assert set(manifest["settings"]["calibration"]["applied"]) == {"voice"}
    missing = CliRunner().invoke(wfm, [*args, "--out", str(tmp_path / "x"), "--calibration",
                                       str(tmp_path / "nope.toml")])
    assert missing.exit_code in (1, 2) and not (tmp_path / "x" / "plan.csv").exists()


def test_pooled_calibration_changes_the_voice_plan_only_and_says_so(tmp_path, fast_config):
    import json

    config = fast_config(tmp_path)
    records = Path(__file__).parent / "data" / "records_technion.tsv"
    assert run("calibrate", records, "--format", "technion", "--pool", "all",
               "--out", tmp_path / "cal").exit_code == 0
    assert run("plan", config, "--no-charts", "--out", tmp_path / "base").exit_code == 0
    with pytest.warns(ForecastWarning, match="applies to voice queues only"):
        result = run("plan", config, "--no-charts", "--out", tmp_path / "cal_plan",
                     "--calibration", hand_set_patience(tmp_path / "cal" / "params.toml"))
    assert result.exit_code == 0, result.output
    assert "warning: queue 'voice': calibration applied: aht_s 102.8, patience_s 94" \
        in result.output
    base = pd.read_csv(tmp_path / "base" / "plan.csv")
    calibrated = pd.read_csv(tmp_path / "cal_plan" / "plan.csv")
    for name in ("chat", "email", "social"):  # chat, email and social are left alone
        pd.testing.assert_frame_equal(base[base["queue"] == name], calibrated[
            calibrated["queue"] == name])
    assert not base[base["queue"] == "voice"].equals(calibrated[calibrated["queue"] == "voice"])
    manifest = json.loads((tmp_path / "cal_plan" / "manifest.json").read_text())
    assert manifest["models"]["voice"]["warnings"][0].startswith("calibration applied: ")
    assert manifest["config"]["calibrated"]["*"]["aht_s"] == 102.8
    assert set(manifest["settings"]["calibration"]["applied"]) == {"voice"}


@pytest.mark.parametrize("old, new, text", [
    ('model = "slot_mean"', 'model = "prophett"',
     "key 'forecast.model': unknown model 'prophett'"),
    ('sat = "09:00-17:00"', 'sat = "09:10-17:00"',
     "key 'queues.voice.hours.sat': '09:10-17:00' must start and end on the 30-minute grid"),
    ('holidays_subdivision = "ENG"', 'holidays_subdivision = "XYZ"',
     "key 'centre.holidays_subdivision': unknown subdivision 'XYZ' of GB"),
])
def test_config_mistakes_exit_1_naming_the_file_and_key(tmp_path, fast_config, old, new, text):
    config = fast_config(tmp_path)
    config.write_text(config.read_text().replace(old, new))
    result = run("plan", config, "--out", tmp_path / "out")
    assert result.exit_code == 1
    assert f"centre.toml, {text}" in result.output
    assert not (tmp_path / "out").exists()


def test_data_repaired_on_reading_is_kept_in_the_manifest(tmp_path, fast_config):
    import json

    config = fast_config(tmp_path)
    volumes = tmp_path / "volumes.csv.gz"
    table = pd.read_csv(volumes)
    day = table["timestamp"].str[:10] == table["timestamp"].str[:10].iloc[len(table) // 2]
    table[~(day & (table["queue"] == "voice"))].to_csv(volumes, index=False)
    result = run("plan", config, "--no-charts", "--out", tmp_path / "out")
    assert result.exit_code == 0, result.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    filled = [w for w in manifest["warnings"] if "filled" in w]
    assert filled == ["filled 24 missing interval(s) with the same slot of the nearest week "
                      "in voice (24)"]
