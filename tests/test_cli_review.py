"""The CLI's promises from the review: one-line errors with the right exit code, nothing
written on failure, no stale outputs, JSON logs that are JSON, one --target parser."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner
from test_faults import tiny_centre, visible

from forecast import _numbacache
from forecast.atomic import OutputFolderError, output_lock, remove_stale_outputs
from forecast.cli import wfm
from forecast.cli._common import parse_target


def run(*args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CliRunner().invoke(wfm, [str(a) for a in args])


# --------------------------------------------------------------------------- output folder


def test_an_unwritable_output_folder_is_one_line_error_and_nothing_is_made(tmp_path,
                                                                             monkeypatch):
    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(OutputFolderError, match=r"rodir/sub: cannot write to the output "
                                                r"folder \(Permission denied\)"):
        with output_lock(tmp_path / "rodir" / "sub"):
            pass
    assert not (tmp_path / "rodir").exists()


def test_a_lock_file_that_cannot_be_opened_is_an_output_folder_error(tmp_path, monkeypatch):
    import forecast.atomic as atomic

    def refuse(path, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(atomic, "open", refuse, raising=False)
    with pytest.raises(OutputFolderError, match="rodir: cannot write"):
        with output_lock(tmp_path / "rodir"):
            pass
    assert not (tmp_path / "rodir").exists()


def test_a_failed_run_removes_the_folder_it_created_but_not_an_existing_one(tmp_path):
    with pytest.raises(RuntimeError), output_lock(tmp_path / "new" / "out"):
        raise RuntimeError("queue failed")
    assert not (tmp_path / "new").exists()
    (tmp_path / "old").mkdir()
    with pytest.raises(RuntimeError), output_lock(tmp_path / "old"):
        raise RuntimeError("queue failed")
    assert (tmp_path / "old").is_dir()


def test_a_busy_output_folder_exits_4_in_fit_too(tmp_path):
    config = tiny_centre(tmp_path)
    with output_lock(tmp_path / "models"):
        result = run("fit", config, "--models", tmp_path / "models")
    assert result.exit_code == 4
    assert "output folder is in use" in result.output


def test_plan_help_lists_exit_code_4():
    assert "4 output folder busy" in " ".join(run("plan", "--help").output.split())
    assert "4 models folder busy" in " ".join(run("fit", "--help").output.split())


# --------------------------------------------------------------------------- stale outputs


def test_files_of_an_earlier_run_that_this_run_did_not_write_are_removed(tmp_path):
    config = tiny_centre(tmp_path)
    out = tmp_path / "out"
    assert run("plan", config, "--out", out, "--format", "parquet,html",
               "--no-charts").exit_code == 0
    assert {"plan.parquet", "daily.parquet", "report.html"} <= set(visible(out))
    (out / "notes.txt").write_text("mine")  # a planner's own file
    assert run("plan", config, "--out", out, "--quantile", "0.9", "--no-charts").exit_code == 0
    assert visible(out) == ["daily.csv", "manifest.json", "notes.txt", "plan.csv"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert sorted(manifest["outputs"]) == ["daily.csv", "plan.csv"]


def test_stale_output_removal_never_leaves_the_folder(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "secret").write_text("x")
    (tmp_path / "out" / "old.csv").write_text("x")
    removed = remove_stale_outputs(tmp_path / "out", ["old.csv", "../secret", "plan.csv"],
                                   [tmp_path / "out" / "plan.csv"])
    assert removed == [tmp_path / "out" / "old.csv"]
    assert (tmp_path / "secret").exists()


# --------------------------------------------------------------------------- usage errors


@pytest.mark.parametrize("args", [
    ("fit", "--queue", "nosuch"),
    ("plan", "--queue", "nosuch"),
    ("forecast", "--queue", "nosuch", "--out", "OUT"),
    ("backtest", "--queue", "nosuch", "--out", "OUT"),
])
def test_an_unknown_queue_is_a_usage_error_and_creates_no_folder(tmp_path, args):
    config = tiny_centre(tmp_path)
    out = tmp_path / "mq"
    args = [str(out) if a == "OUT" else a for a in args]
    extra = ["--models", out] if args[0] == "fit" else ["--out", out] if args[0] == "plan" else []
    result = run(args[0], config, *args[1:], *extra)
    assert result.exit_code == 2
    assert "unknown queue 'nosuch'" in result.output
    assert not out.exists()


def test_replan_now_that_is_not_a_time_is_a_usage_error(tmp_path):
    actuals = tmp_path / "today.csv"
    actuals.write_text("queue,timestamp,volume\nvoice,2026-11-16 08:00,10\n")
    result = run("replan", "--example", "--actuals", actuals, "--now", "2026-11-16 25:00")
    assert result.exit_code == 2
    assert "'--now'" in result.output and "not a date-time" in result.output


@pytest.mark.parametrize("text,expected", [("0.8/20", (0.8, 20.0)), ("80/20", (0.8, 20.0)),
                                           ("80%/20", (0.8, 20.0)),
                                           ("12.5%/30", (0.125, 30.0))])
def test_target_accepts_a_share_or_a_percentage(text, expected):
    share, seconds = parse_target(None, None, text)
    assert share == pytest.approx(expected[0]) and seconds == expected[1]


@pytest.mark.parametrize("text", ["1.5/20", "0/20", "1/20", "100%/20", "0.8", "0.8/-1",
                                  "x/20"])
def test_target_rejects_ambiguous_or_out_of_range_values(text):
    with pytest.raises(click.BadParameter):
        parse_target(None, None, text)


@pytest.mark.parametrize("command", [("erlang", "--volume", 100, "--aht", 180),
                                     ("whatif", "--example")])
@pytest.mark.parametrize("target", ["1.5/20", "0/20"])
def test_every_command_rejects_the_same_targets_naming_the_option(command, target):
    result = run(*command, "--target", target)
    assert result.exit_code == 2
    assert "'--target'" in result.output and "key '" not in result.output


def test_erlang_echoes_the_target_it_used():
    result = run("erlang", "--volume", 100, "--aht", 180, "--target", "80%/20")
    assert result.exit_code == 0
    assert "target      80% answered within 20 s" in result.output


@pytest.mark.parametrize("option,value", [("--aht", 0), ("--aht", "inf"), ("--volume", "nan"),
                                          ("--shrinkage", 1), ("--max-occupancy", 0)])
def test_whatif_option_ranges_are_checked_before_planning(option, value):
    result = run("whatif", "--example", option, value)
    assert result.exit_code == 2
    assert option in result.output


# --------------------------------------------------------------------------- json logs


def test_json_log_format_prints_fatal_errors_as_json(tmp_path):
    config = tiny_centre(tmp_path)
    (tmp_path / "volumes.csv").write_text("queue,timestamp,volume\nvoice,2026-11-02 08:00,-3\n")
    result = run("plan", config, "--out", tmp_path / "out", "--log-format", "json")
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines and all(json.loads(line)["event"] == "error" for line in lines)


def test_json_log_format_prints_usage_errors_and_warnings_as_json(monkeypatch, capsys):
    from forecast.cli import _common, _show_warning
    from forecast.exceptions import DataRepairWarning

    result = run("plan", "--example", "--log-format", "json", "--quantile", "7")
    assert result.exit_code == 2
    assert json.loads(result.output.strip())["event"] == "error"
    assert run("erlang", "--volume", 1, "--aht", 0).output.startswith("Usage")  # reset
    monkeypatch.setitem(_common._JSON_LOG, "on", True)
    _show_warning(DataRepairWarning("dropped 1 exact duplicate row(s)"), DataRepairWarning,
                  "x", 1)
    line = json.loads(capsys.readouterr().err)
    assert line == {"event": "warning", "message": "dropped 1 exact duplicate row(s)"}


# --------------------------------------------------------------------------- little history


def test_a_queue_too_short_to_backtest_is_warned_about_and_nothing_is_selected(tmp_path):
    rows = ["queue,timestamp,volume"] + [
        f"voice,2026-11-02 {8 + s // 2:02d}:{30 * (s % 2):02d},{20 + s}" for s in range(8)]
    (tmp_path / "volumes.csv").write_text("\n".join(rows) + "\n")
    config = tiny_centre(tmp_path, volumes=tmp_path / "volumes.csv", model="auto")
    with pytest.warns(UserWarning, match="too little history for a backtest"):
        result = CliRunner().invoke(wfm, ["backtest", str(config), "--out",
                                          str(tmp_path / "bt"), "--queue", "voice"])
    assert result.exit_code == 0
    board = pd.read_csv(tmp_path / "bt" / "leaderboard.csv")
    assert not board["selected"].any()
    planned = run("plan", config, "--out", tmp_path / "out", "--no-charts", "--queue", "voice")
    assert "warning: queue 'voice': too little history to backtest" in planned.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert any("too little history" in w for w in manifest["models"]["voice"]["warnings"])


# --------------------------------------------------------------------------- staff


def test_staff_refuses_a_header_only_forecast_and_off_grid_times(tmp_path):
    config = tiny_centre(tmp_path)
    (tmp_path / "empty.csv").write_text("queue,ds,mean\n")
    result = run("staff", tmp_path / "empty.csv", "--config", config, "--out", tmp_path / "p.csv")
    assert result.exit_code == 1 and "no rows" in result.output
    (tmp_path / "grid.csv").write_text("queue,ds,mean\nvoice,2026-11-16 08:00,5\n"
                                       "voice,2026-11-16 08:07,5\n")
    result = run("staff", tmp_path / "grid.csv", "--config", config, "--out", tmp_path / "p.csv")
    assert result.exit_code == 1
    assert "row 3" in result.output and "interval grid" in result.output
    assert not (tmp_path / "p.csv").exists()


def test_staff_warns_about_unknown_queues_and_closed_intervals(tmp_path):
    config = tiny_centre(tmp_path)
    (tmp_path / "f.csv").write_text("queue,ds,mean\nvoice,2026-11-16 03:00,50\n"
                                    "voice,2026-11-16 08:00,50\nnew,2026-11-16 08:00,5\n")
    with pytest.warns(UserWarning) as caught:
        result = CliRunner().invoke(wfm, ["staff", str(tmp_path / "f.csv"), "--config",
                                          str(config), "--out", str(tmp_path / "p.csv")])
    assert result.exit_code == 0
    texts = [str(w.message) for w in caught]
    assert any("queue 'new' is not in the config" in t for t in texts)
    assert any("queue 'voice': 1 interval(s) outside its opening hours" in t for t in texts)


# --------------------------------------------------------------------------- simulate


@pytest.fixture(scope="module")
def example_plan(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("plan")
    assert run("plan", "--example", "--out", out, "--no-charts").exit_code == 0
    return out / "plan.csv"


def test_plan_csv_names_each_queues_channel(example_plan):
    plan = pd.read_csv(example_plan)
    assert plan.columns[-1] == "channel"
    assert plan.groupby("queue")["channel"].first().to_dict() == {
        "chat": "chat", "email": "email", "social": "social", "voice": "voice"}


def test_simulate_without_config_simulates_only_the_voice_queues(example_plan):
    result = run("simulate", example_plan, "-n", 2)
    assert result.exit_code == 0
    assert "target 20 s" in result.output and "target per queue" not in result.output
    assert "note: queue 'chat' (chat) is not simulated without --config" in result.output
    table = result.output.split("note:")[0]
    assert "voice" in table and "\nchat " not in table


def test_simulate_an_old_plan_without_channel_warns_every_queue_is_voice(example_plan,
                                                                          tmp_path):
    old = tmp_path / "old.csv"
    pd.read_csv(example_plan).drop(columns="channel").to_csv(old, index=False)
    with pytest.warns(UserWarning, match="every queue is simulated as a voice queue"):
        result = CliRunner().invoke(wfm, ["simulate", str(old), "-n", "2"])
    assert result.exit_code == 0


def test_simulate_refuses_an_empty_plan_and_a_stray_dispersion(example_plan, tmp_path):
    header = tmp_path / "header.csv"
    header.write_text(example_plan.read_text().splitlines()[0] + "\n")
    result = run("simulate", header)
    assert result.exit_code == 1 and "no rows in PLAN" in result.output
    result = run("simulate", example_plan, "--dispersion", 0.2)
    assert result.exit_code == 2 and "--dispersion" in result.output


def test_simulated_confidence_bounds_stay_in_range(example_plan, tmp_path):
    out = tmp_path / "sim.csv"
    assert run("simulate", example_plan, "-n", 3, "--out", out).exit_code == 0
    sim = pd.read_csv(out)
    for name in ("service_level", "abandonment", "occupancy"):
        assert sim[f"{name}_lo"].min() >= 0 and sim[f"{name}_hi"].max() <= 1
    assert sim["asa_s_lo"].min() >= 0


# --------------------------------------------------------------------------- help and numba


@pytest.mark.parametrize("command,needle", [
    ("fit", "--workers"), ("whatif", "--shrinkage"), ("whatif", "--horizon-days"),
    ("simulate", "--seed"), ("forecast", "--example"), ("backtest", "--example")])
def test_help_documents_every_option(command, needle):
    text = run(command, "--help").output
    line = next(ln for ln in text.splitlines() if ln.strip().startswith(needle))
    assert len(line.split(needle, 1)[1].split()) > 2  # has help text, not just a type


def test_help_names_the_config_for_defaults():
    assert "the config's horizon_days" in " ".join(run("plan", "--help").output.split())
    assert "[7]" not in run("backtest", "--help").output
    assert "p80" not in run("staff", "--help").output


def test_numba_cache_falls_back_to_temp_only_when_nothing_else_is_writable(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("")  # nothing can be created under a file, even by root
    kernels = [blocked / "queueing", blocked / "simulate"]
    env = {"HOME": str(blocked / "home")}
    assert _numbacache.fallback_cache_dir(env, kernels, temp_dir=tmp_path, user="65534") == (
        tmp_path / "forecast-numba-65534")
    assert _numbacache.fallback_cache_dir({**env, "NUMBA_CACHE_DIR": "/x"}, kernels,
                                          temp_dir=tmp_path, user="1") is None
    assert _numbacache.fallback_cache_dir({"HOME": str(tmp_path)}, kernels,
                                          temp_dir=tmp_path, user="1") is None
    assert _numbacache.fallback_cache_dir(env, [tmp_path / "pkg"], temp_dir=tmp_path,
                                          user="1") is None
