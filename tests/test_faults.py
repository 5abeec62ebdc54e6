"""Faults a nightly job meets: a run killed mid-write, two runs on one folder, a model
that fails on one queue, a queue with too little history, a horizon with no open hours.

The promise: the previous outputs stay intact, no partial file is ever visible, and
every failure is one clear line with exit code 1 (or 3 when only some queues failed).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from forecast.atomic import output_lock
from forecast.cli import wfm
from forecast.exceptions import ModelError

CORPUS = Path(__file__).parent / "corpus"
PREVIOUS = b"queue,ds,volume\nvoice,2026-11-09 08:00,42\n"  # last week's good plan


def two_weeks(folder: Path) -> Path:
    """Two queues, two weeks of half-hours 08:00-12:00 from Monday 2026-11-02."""
    rows = ["queue,timestamp,volume,aht_s"]
    for day in range(14):
        for slot in range(8):
            stamp = f"2026-11-{2 + day:02d} {8 + slot // 2:02d}:{30 * (slot % 2):02d}"
            rows += [f"voice,{stamp},{20 + slot},300", f"chat,{stamp},{10 + day % 3},600"]
    path = folder / "volumes.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def tiny_centre(folder: Path, *, model: str = "slot_mean", hours: str = '"08:00-12:00"',
                horizon_days: int = 2, volumes: Path | None = None) -> Path:
    """A two-queue centre on two weeks of half-hours (plans in about a second)."""
    source = volumes or two_weeks(folder)
    if source.parent != folder:
        (folder / source.name).write_bytes(source.read_bytes())
    config = folder / "centre.toml"
    config.write_text(f"""
[centre]
timezone = "Europe/London"
[data]
volumes = "{source.name}"
[forecast]
model = "{model}"
horizon_days = {horizon_days}
[queues.voice]
hours = {hours}
[queues.chat]
channel = "chat"
hours = {hours}
""")
    return config


def plan(*args) -> object:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CliRunner().invoke(wfm, ["plan", *map(str, args), "--no-charts"])


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


# --------------------------------------------------------------------------- killed runs


@pytest.mark.slow
def test_a_run_killed_mid_write_leaves_the_previous_plan_intact(tmp_path, fast_config):
    config = fast_config(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.csv").write_bytes(PREVIOUS)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from forecast.cli import main; main()", "plan", str(config),
         "--out", str(out), "--no-charts"], stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            # the hidden temporary plan has rows in it: the run is writing
            if any(p.stat().st_size > 0 for p in out.glob(".plan.csv.*.wfm-tmp")):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert (out / "plan.csv").read_bytes() == PREVIOUS  # byte-identical
    assert visible(out) == ["plan.csv"]  # no partial plan, daily or manifest
    leftovers = [p.name for p in out.iterdir() if p.name.startswith(".plan.csv.")]
    assert leftovers and all(n.endswith(".wfm-tmp") for n in leftovers)  # hidden, ignored


@pytest.mark.slow
def test_a_run_killed_mid_write_leaves_every_previous_output_intact(tmp_path, fast_config):
    config = fast_config(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    previous = {"plan.csv": PREVIOUS, "daily.csv": b"queue,date\n",
                "chart_chat.png": b"last week", "chart_email.png": b"last week",
                "chart_social.png": b"last week", "chart_voice.png": b"last week"}
    for name, data in previous.items():
        (out / name).write_bytes(data)
    proc = subprocess.Popen(
        [sys.executable, "-c", "from forecast.cli import main; main()", "plan", str(config),
         "--out", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    try:
        # kill the moment any previous output changes, while the run is still going
        while time.monotonic() < deadline and proc.poll() is None:
            if any((out / n).read_bytes() != d for n, d in previous.items()):
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.01)
    finally:
        proc.kill()
        proc.wait()
    now = {name: (out / name).read_bytes() for name in previous}
    changed = {name for name in previous if now[name] != previous[name]}
    # outputs are staged as temporaries and switched by one run of renames at the very end,
    # plan.csv last: a kill can only fall inside that run of renames (microseconds), so
    # every file is whole (old or new), and a new plan.csv means every output is new
    for name in changed:
        assert now[name].startswith(b"\x89PNG") if name.endswith(".png") else \
            now[name].startswith(b"queue,")
        assert now[name].endswith(b"IEND\xaeB`\x82") if name.endswith(".png") else \
            now[name].endswith(b"\n")
    if "plan.csv" in changed:
        assert changed == set(previous)
    if proc.returncode != -signal.SIGKILL:
        assert proc.returncode == 0 and changed == set(previous)


def test_temporary_files_left_by_a_killed_run_are_ignored_by_the_next(tmp_path):
    config = tiny_centre(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".plan.csv.k1ll3d.wfm-tmp"
    stale.write_text("queue,ds\nvoice,half a line")
    result = plan(config, "--out", out)
    assert result.exit_code == 0, result.output
    text = (out / "plan.csv").read_text()
    assert "half a line" not in text and text.startswith("queue,ds,")


def test_the_next_run_sweeps_temporary_files_left_by_a_killed_run(tmp_path):
    config = tiny_centre(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    stale = out / ".plan.csv.k1ll3d.wfm-tmp"
    stale.write_text("queue,ds\nvoice,half a line")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    assert plan(config, "--out", out).exit_code == 0
    assert not stale.exists()


# --------------------------------------------------------------------------- two runs


def test_a_second_run_on_a_busy_folder_fails_with_one_clear_line(tmp_path):
    config = tiny_centre(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.csv").write_bytes(PREVIOUS)
    with output_lock(out):
        result = plan(config, "--out", out)
    assert result.exit_code == 4  # "output folder busy"
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: ") and "output folder is in use by process" in lines[0]
    assert "--wait" in lines[0]
    assert (out / "plan.csv").read_bytes() == PREVIOUS


def test_a_second_run_with_wait_runs_when_the_first_finishes(tmp_path):
    config = tiny_centre(tmp_path)
    out = tmp_path / "out"
    holding, release = threading.Event(), threading.Event()

    def first_run():
        with output_lock(out):
            holding.set()
            release.wait(30)

    thread = threading.Thread(target=first_run)
    thread.start()
    holding.wait(10)
    timer = threading.Timer(1.0, release.set)
    timer.start()
    started = time.monotonic()
    try:
        result = plan(config, "--out", out, "--wait", "60")
    finally:
        release.set()
        thread.join()
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started >= 0.9  # it waited for the first run
    assert (out / "plan.csv").is_file()


# --------------------------------------------------------------------------- failing models


class _FailingModel:
    """Stands in for a model whose fit breaks numerically on every queue."""

    name = "always_fails"
    handles_events = False

    def __init__(self, **params):
        pass

    def fit(self, history, events=None):
        raise ModelError("always_fails: singular matrix in the level update")


@pytest.fixture
def failing_model(monkeypatch):
    from forecast.forecasters import base

    base._load_builtin_models()
    monkeypatch.setitem(base.MODELS, "always_fails", _FailingModel)
    return "always_fails"


def test_a_model_that_fails_falls_back_to_the_baseline_and_the_run_succeeds(
        tmp_path, failing_model):
    config = tiny_centre(tmp_path, model=failing_model)
    out = tmp_path / "out"
    result = CliRunner().invoke(wfm, ["plan", str(config), "--out", str(out), "--no-charts"])
    assert result.exit_code == 0, result.output
    # the fallback is reported per queue, also when queues run in worker processes
    assert re.search(r"warning: queue 'voice': model 'always_fails' failed .*using slot_mean",
                     result.stderr)
    manifest = json.loads((out / "manifest.json").read_text())
    assert {q: m["model"] for q, m in manifest["models"].items()} == {
        "chat": "slot_mean", "voice": "slot_mean"}
    assert manifest["failures"] == {}


def test_the_manifest_records_the_fallback_and_its_reason(tmp_path, failing_model):
    config = tiny_centre(tmp_path, model=failing_model)
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert CliRunner().invoke(wfm, ["plan", str(config), "--out", str(out),
                                        "--no-charts"]).exit_code == 0
    text = (out / "manifest.json").read_text()
    assert "always_fails" in text and "singular matrix" in text


# --------------------------------------------------------------------------- thin data


def short_volumes(folder: Path) -> Path:
    """voice: three full days; chat: only its first three half-hours."""
    lines = (CORPUS / "volumes_clean.csv").read_text().splitlines()
    keep = [lines[0]] + [ln for ln in lines[1:]
                         if not (ln.startswith("chat,") and ln.split(",")[1] > "2026-11-09 09:00")]
    path = folder / "short.csv"
    path.write_text("\n".join(keep) + "\n")
    return path


def test_a_queue_with_too_little_history_is_planned_or_says_how_much_it_needs(tmp_path):
    config = tiny_centre(tmp_path, volumes=short_volumes(tmp_path), model="auto")
    result = plan(config, "--out", tmp_path / "out")
    assert "read-only" not in result.output
    assert result.exit_code in (0, 3), result.output
    if result.exit_code == 3:
        assert "needs at least" in result.stderr


def test_a_horizon_without_open_hours_fails_with_a_clear_line_per_queue(tmp_path):
    # history ends on a Sunday; open Saturdays only: a one-day horizon (Monday) is closed
    config = tiny_centre(tmp_path, hours='{ sat = "08:00-12:00" }', horizon_days=1)
    out = tmp_path / "out"
    result = plan(config, "--out", out)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2 and all(ln.startswith("error: queue '") for ln in lines)
    assert all("no open intervals in the 1-day horizon" in ln for ln in lines)
    assert not out.exists()  # a folder this run created is removed again on failure


def test_a_configured_queue_missing_from_the_data_stops_check(tmp_path):
    config = tiny_centre(tmp_path)
    config.write_text(config.read_text() + '\n[queues.email]\nchannel = "email"\n')
    result = CliRunner().invoke(wfm, ["check", "--config", str(config)])
    assert result.exit_code == 1
    assert "key 'queues.email': no such queue in the volumes" in result.output


# --------------------------------------------------------------------------- a queue that fails


@pytest.fixture
def broken_queue(monkeypatch):
    """``broken_queue("voice")``: planning that queue raises, the others plan as usual."""
    import forecast.plan as plan_module

    real = plan_module._plan_queue_task

    def break_one(name: str) -> None:
        def task(history, events, queue, *args):
            if queue.name == name:
                raise ZeroDivisionError(f"{name} broke")
            return real(history, events, queue, *args)

        monkeypatch.setattr(plan_module, "_plan_queue_task", task)

    return break_one


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.name != ".wfm.lock"}


def json_events(stderr: str) -> list[dict]:
    return [json.loads(line) for line in stderr.splitlines()]


def test_fail_fast_publishes_nothing_and_keeps_the_previous_run(tmp_path, broken_queue):
    config = tiny_centre(tmp_path)
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        previous_run = CliRunner().invoke(wfm, ["plan", str(config), "--out", str(out)])
    assert previous_run.exit_code == 0, previous_run.output
    before = snapshot(out)  # plan, daily, manifest and both charts
    broken_queue("voice")  # chat (planned first) succeeds, then voice fails
    result = plan(config, "--out", out, "--fail-fast", "--log-format", "json")
    assert result.exit_code == 1, result.output
    # not a partial plan of chat only, and the charts --no-charts would drop are kept
    assert snapshot(out) == before
    events = json_events(result.stderr)
    assert [e["event"] for e in events] == ["queue_done", "queue_failed", "error"]
    assert events[0]["queue"] == "chat"  # no queue_done for the failed queue
    assert events[1]["queue"] == "voice"
    assert events[1]["reason"].startswith("ZeroDivisionError: voice broke")
    assert "queue 'voice' failed: ZeroDivisionError: voice broke" in events[2]["message"]
    assert "--fail-fast" in events[2]["message"]


def test_fail_fast_with_an_all_at_once_format_writes_nothing(tmp_path, broken_queue):
    config = tiny_centre(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.csv").write_bytes(PREVIOUS)
    broken_queue("voice")
    result = plan(config, "--out", out, "--fail-fast", "--format", "html")
    assert result.exit_code == 1, result.output
    assert snapshot(out) == {"plan.csv": PREVIOUS}


def test_without_fail_fast_the_others_are_written_and_exit_3(tmp_path, broken_queue):
    config = tiny_centre(tmp_path)
    broken_queue("voice")
    result = plan(config, "--out", tmp_path / "out")
    assert result.exit_code == 3, result.output
    assert visible(tmp_path / "out") == ["daily.csv", "manifest.json", "plan.csv"]
    assert result.stderr.count("error: queue 'voice' failed: ZeroDivisionError") == 1


def test_a_failure_is_logged_when_the_queue_fails_not_at_the_end(tmp_path, broken_queue):
    config = tiny_centre(tmp_path)
    broken_queue("chat")  # the first queue
    result = plan(config, "--out", tmp_path / "out", "--log-format", "json")
    assert result.exit_code == 3, result.output
    events = json_events(result.stderr)
    assert [(e["event"], e.get("queue")) for e in events] == [
        ("queue_failed", "chat"), ("queue_done", "voice"), ("summary", None)]
