"""Per-queue work gives the same results in the same order on every runner."""

from __future__ import annotations

import pytest

from forecast.exceptions import ConfigError, DataValidationError
from forecast.parallel import make_runner, run_per_queue


def square_unless_bad(queue: str, x: int) -> int:
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
