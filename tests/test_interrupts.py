"""A run stopped by Ctrl-C (SIGINT) or SIGTERM (``kill``, ``docker stop``, a job
scheduler) shuts down cleanly: exit 130 or 143, one ``interrupted`` message, no
traceback, no worker process left behind, no temporary file left, the previous outputs
intact and the output folder unlocked. A worker whose parent is killed outright exits
by itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_faults import PREVIOUS, tiny_centre

from forecast.atomic import output_lock
from forecast.cli import Interrupted, wfm
from forecast.plan import _plan_queue_task as _real_plan_task

TESTS = Path(__file__).parent

# runs `wfm` with planning of the queue 'voice' asleep for two minutes (in a worker process
# too: the worker imports this module to unpickle slow_plan_task)
DRIVER = f"""
import sys
sys.path.insert(0, {str(TESTS)!r})
import forecast.plan, test_interrupts
forecast.plan._plan_queue_task = test_interrupts.slow_plan_task
from forecast.cli import main
main()
"""


def slow_plan_task(history, events, queue, *args):
    """Plan as usual, except 'voice', which records its process id and sleeps."""
    if queue.name == "voice":
        (Path(os.environ["WFM_TEST_PIDS"]) / str(os.getpid())).touch()
        time.sleep(120)
    return _real_plan_task(history, events, queue, *args)


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (workers, the fork server, the resource tracker)."""
    parent_of = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] not in "ZX":
            parent_of[int(stat.parent.name)] = int(fields[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parent_of.items() if parent in frontier}
        found |= frontier
    return found


def running(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state not in "ZX":
            alive.add(pid)
    return alive


def wait_until_gone(pids: set[int], seconds: float = 10) -> set[int]:
    deadline = time.monotonic() + seconds
    while running(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return running(pids)


class SlowRun:
    """``wfm plan`` in a subprocess, stopped once chat is planned and voice is asleep."""

    def __init__(self, tmp_path: Path, *options: str, group: bool = False):
        config = tiny_centre(tmp_path)
        self.out = tmp_path / "out"
        self.out.mkdir()
        (self.out / "plan.csv").write_bytes(PREVIOUS)
        pids = tmp_path / "pids"
        pids.mkdir()
        self.pids = pids
        self.group = group
        self.parallel = "--workers" in options  # then chat is written when its event is out
        self.proc = subprocess.Popen(
            [sys.executable, "-c", DRIVER, "plan", str(config), "--out", str(self.out),
             *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env={**os.environ, "WFM_TEST_PIDS": str(pids)}, start_new_session=group)
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self.stderr.extend, args=(self.proc.stderr,))
        self._reader.start()

    def stop(self, sig: int) -> tuple[int, float, set[int]]:
        """Wait until voice is asleep (and chat is written), send ``sig``; return the exit
        code, the seconds it took to exit and the processes the run had started."""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.proc.poll() is None and not (
                any(self.pids.iterdir()) and (not self.parallel or any(
                    '"queue_done"' in line for line in self.stderr))):
            time.sleep(0.05)
        if not any(self.pids.iterdir()):
            pytest.fail(f"the run never reached voice: {''.join(self.stderr)}")
        time.sleep(0.3)
        children = descendants(self.proc.pid)
        sent = time.monotonic()
        if self.group:
            os.killpg(self.proc.pid, sig)
        else:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=30)
        finally:
            self.proc.kill()
            self._reader.join()
        return code, time.monotonic() - sent, children


def assert_folder_as_before(out: Path) -> None:
    assert (out / "plan.csv").read_bytes() == PREVIOUS
    assert sorted(p.name for p in out.iterdir()) == [".wfm.lock", "plan.csv"]  # no temporary
    with output_lock(out):  # released
        pass


@pytest.mark.slow
def test_sigterm_with_workers_stops_them_and_leaves_no_trace(tmp_path):
    run = SlowRun(tmp_path, "--workers", "2", "--log-format", "json")
    code, seconds, children = run.stop(signal.SIGTERM)
    assert code == 143
    assert seconds < 10
    assert len(children) >= 3  # both workers and the fork server, at least
    assert not wait_until_gone(children), "worker processes outlived the run"
    events = [json.loads(line) for line in run.stderr]  # every line is JSON
    assert [e["event"] for e in events].count("interrupted") == 1
    assert events[-1]["event"] == "interrupted" and "SIGTERM" in events[-1]["message"]
    assert_folder_as_before(run.out)


@pytest.mark.slow
def test_ctrl_c_to_the_process_group_exits_130_quietly(tmp_path):
    run = SlowRun(tmp_path, "--workers", "2", "--log-format", "json", "--no-charts",
                  group=True)
    code, seconds, children = run.stop(signal.SIGINT)
    assert code == 130
    assert not wait_until_gone(children)
    text = "".join(run.stderr)
    assert "Traceback" not in text and "KeyboardInterrupt" not in text
    assert "Aborted!" not in text
    events = [json.loads(line) for line in run.stderr]  # no blank or plain lines
    assert [e["event"] for e in events][-1:] == ["interrupted"]
    assert [e["event"] for e in events].count("interrupted") == 1
    assert_folder_as_before(run.out)


@pytest.mark.slow
def test_ctrl_c_on_a_serial_run_prints_one_line(tmp_path):
    run = SlowRun(tmp_path)
    code, _, _ = run.stop(signal.SIGINT)
    assert code == 130
    assert run.stderr == ["interrupted: wfm plan stopped by SIGINT; partly written files "
                          "were removed\n"]
    assert_folder_as_before(run.out)


@pytest.mark.slow
def test_workers_exit_by_themselves_when_the_run_is_killed_outright(tmp_path):
    run = SlowRun(tmp_path, "--workers", "2", "--no-charts", "--log-format", "json")
    code, _, children = run.stop(signal.SIGKILL)  # no chance to clean up
    assert code == -signal.SIGKILL
    assert not wait_until_gone(children, seconds=15)


# --------------------------------------------------------------------------- in process


def interrupt_voice(monkeypatch, signum: int) -> None:
    """Planning 'voice' (after chat is staged in the temporary plan) is interrupted."""
    import forecast.plan as plan_module

    def task(history, events, queue, *args):
        if queue.name == "voice":
            raise KeyboardInterrupt if signum == signal.SIGINT else Interrupted(signum)
        return _real_plan_task(history, events, queue, *args)

    monkeypatch.setattr(plan_module, "_plan_queue_task", task)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_an_interrupted_run_exits_128_plus_the_signal_with_one_message(
        tmp_path, monkeypatch, signum, code, log_format):
    config = tiny_centre(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "plan.csv").write_bytes(PREVIOUS)
    interrupt_voice(monkeypatch, signum)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = CliRunner().invoke(wfm, ["plan", str(config), "--out", str(out),
                                          "--log-format", log_format])
    assert result.exit_code == code
    name = signal.Signals(signum).name
    lines = result.stderr.splitlines()
    if log_format == "json":
        assert json.loads(lines[-1]) == {
            "event": "interrupted",
            "message": f"wfm plan stopped by {name}; partly written files were removed"}
    else:
        assert lines == [f"interrupted: wfm plan stopped by {name}; partly written files "
                         "were removed"]
    assert "Aborted!" not in result.output
    assert_folder_as_before(out)


def test_the_signal_handlers_are_restored_after_a_run(tmp_path):
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    CliRunner().invoke(wfm, ["plan", "--example", "--scheduler", "lcoal"])
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == before


def test_the_exit_codes_help_names_the_interrupt_codes():
    from forecast.cli import EXIT_CODES_HELP, EXIT_SIGINT, EXIT_SIGTERM

    assert (EXIT_SIGINT, EXIT_SIGTERM) == (130, 143)
    assert "130 interrupted" in EXIT_CODES_HELP and "143 stopped by SIGTERM" in EXIT_CODES_HELP
