"""Per-queue work gives the same results in the same order on every runner."""

from __future__ import annotations

import time

import pytest
from click.testing import CliRunner

from forecast.cli import wfm
from forecast.exceptions import ConfigError, DataValidationError
from forecast.parallel import check_scheduler, make_runner, run_per_queue


def square_unless_bad(queue: str, x: int) -> int:
    if queue == "slow":
        time.sleep(60)
    if queue == "bad":
        raise DataValidationError("no history", column="y")
    if queue == "crash":
        raise ZeroDivisionError("boom")
    return x * x


def tasks(names):
    return [(name, (name, i)) for i, name in enumerate(names)]


@pytest.mark.parametrize("workers", [1, 2])
def test_results_come_back_in_task_order(workers):
    names = [f"q{i:03d}" for i in range(40)]
    with make_runner(workers) as runner:
        outcomes = list(run_per_queue(square_unless_bad, tasks(names), runner))
    assert [o.queue for o in outcomes] == names
    assert [o.value for o in outcomes] == [i * i for i in range(40)]


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failing_queue_is_named_and_the_others_still_run(workers):
    with make_runner(workers) as runner:
        outcomes = list(run_per_queue(square_unless_bad, tasks(["a", "bad", "crash", "d"]),
                                      runner))
    by_queue = {o.queue: o for o in outcomes}
    assert by_queue["a"].value == 0 and by_queue["d"].value == 9
    assert "no history" in by_queue["bad"].error
    assert by_queue["crash"].error.startswith("ZeroDivisionError: boom")


def test_fail_fast_stops_after_the_first_failure():
    with make_runner(1) as runner:
        outcomes = list(run_per_queue(square_unless_bad, tasks(["a", "bad", "c"]), runner,
                                      fail_fast=True))
    assert [o.queue for o in outcomes] == ["a", "bad"]


def test_progress_counts_every_queue():
    seen = []
    with make_runner(1) as runner:
        list(run_per_queue(square_unless_bad, tasks(["a", "b", "c"]), runner,
                           progress=lambda q, done, total, s: seen.append((q, done, total))))
    assert seen == [("a", 1, 3), ("b", 2, 3), ("c", 3, 3)]


class Recorder:
    """A progress callback with a ``failure`` method, like the CLI's RunLog."""

    def __init__(self):
        self.seen = []

    def __call__(self, queue, done, total, seconds):
        self.seen.append(("done", queue))

    def failure(self, queue, reason):
        self.seen.append(("failed", queue, reason))


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failure_goes_to_the_progress_failure_method_as_it_happens(workers):
    progress = Recorder()
    with make_runner(workers) as runner:
        for outcome in run_per_queue(square_unless_bad, tasks(["bad", "b"]), runner,
                                     progress=progress):
            if outcome.queue == "bad":  # reported before the caller even sees it
                assert ("failed", "bad", outcome.error) in progress.seen
    assert sorted(entry[:2] for entry in progress.seen) == [("done", "b"), ("failed", "bad")]


def test_leaving_a_pool_with_an_exception_stops_work_in_flight_at_once():
    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt), make_runner(2) as runner:
        for _ in run_per_queue(square_unless_bad, tasks(["a", "slow"]), runner):
            workers = list(runner._pool._processes.values())
            raise KeyboardInterrupt  # Ctrl-C while "slow" sleeps for a minute
    assert time.monotonic() - started < 20
    assert workers and not any(p.is_alive() for p in workers)


@pytest.mark.parametrize("address", ["local", "tcp://10.0.0.5:8786", "scheduler:8786",
                                     "tls://host.example:8786"])
def test_scheduler_addresses_dask_accepts_pass(address):
    assert check_scheduler(address) == address


@pytest.mark.parametrize("address", ["lcoal", "tcp://host", "tcp://host:0", "http://host:80"])
def test_a_malformed_scheduler_is_a_config_error_naming_the_forms(address):
    with pytest.raises(ConfigError, match="expected 'local' .* tcp://host:port"):
        make_runner(2, scheduler=address)


@pytest.mark.parametrize("command", ["plan", "fit"])
def test_a_malformed_scheduler_on_the_cli_is_a_usage_error(command):
    result = CliRunner().invoke(wfm, [command, "--example", "--scheduler", "lcoal"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "--scheduler" in result.stderr and "'lcoal'" in result.stderr
    assert "'local'" in result.stderr and "tcp://host:port" in result.stderr


def test_zero_workers_is_a_config_error():
    with pytest.raises(ConfigError, match="workers"):
        make_runner(0)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_same_results():
    pytest.importorskip("dask.distributed")
    names = [f"q{i:02d}" for i in range(12)] + ["bad"]
    with make_runner(2, scheduler="local") as runner:
        outcomes = list(run_per_queue(square_unless_bad, tasks(names), runner))
    assert [o.queue for o in outcomes] == names
    assert [o.value for o in outcomes[:-1]] == [i * i for i in range(12)]
    assert "no history" in outcomes[-1].error
