"""Run per-queue work serially, in a local process pool, or on a Dask cluster.

The unit of work is a picklable top-level function applied to one queue's task.
Whichever runner is used, results come back in task order (so outputs are
byte-identical), a failing queue is reported by name without taking down the
others, and at most a bounded number of results is held in memory at once: results
are handed to the caller as soon as every earlier task has been handed over.

An exception in the caller (Ctrl-C, or the CLI's SIGTERM handler) stops the local
worker processes at once, and a worker whose parent dies exits by itself, so no
process is left behind.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import re
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from .exceptions import ConfigError, ForecastError

__all__ = ["QueueOutcome", "Runner", "make_runner", "run_per_queue", "default_workers",
           "check_scheduler"]

Progress = Callable[[str, int, int, float], None]

#: a Dask scheduler address: ``[tcp://|tls://]host:port``
_ADDRESS = re.compile(r"^(?:(?:tcp|tls)://)?(?:\[[0-9A-Fa-f:.]+\]|[\w.-]+):(\d{1,5})$")


@dataclass
class QueueOutcome:
    """The result of one queue's work, or the error that stopped it."""

    queue: str
    value: Any = None
    error: str | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def _call(fn: Callable[..., Any], queue: str, args: tuple) -> QueueOutcome:
    """Run one task, turning any exception into an outcome that names the queue."""
    started = time.perf_counter()
    try:
        value = fn(*args)
    except ForecastError as exc:
        return QueueOutcome(queue, error=str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # a queue must never take down the others
        last = traceback.extract_tb(exc.__traceback__)[-1]
        where = f"{os.path.basename(last.filename)}:{last.lineno}"
        return QueueOutcome(queue, error=f"{type(exc).__name__}: {exc} ({where})",
                            seconds=time.perf_counter() - started)
    return QueueOutcome(queue, value=value, seconds=time.perf_counter() - started)


def check_scheduler(address: str) -> str:
    """Return ``address`` if it is ``"local"`` or a scheduler address ``tcp://host:port``.

    Raises
    ------
    ConfigError
        Naming the accepted forms, for anything else (``"lcoal"``, a missing port).
    """
    match = _ADDRESS.match(address.strip())
    if address.strip() != "local" and not (match and 0 < int(match.group(1)) < 65536):
        raise ConfigError(f"'{address}' is not a Dask scheduler; expected 'local' (start one "
                          "on this machine) or an address tcp://host:port", key="scheduler")
    return address.strip()


def _watch_parent(parent: int) -> None:
    """Worker-process initializer: exit quietly on Ctrl-C's SIGINT (the parent stops the
    pool) and as soon as the parent process is gone (killed without cleaning up)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    forkserver = os.getppid()

    def watch() -> None:
        while os.getppid() == forkserver and _alive(parent):
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="wfm-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - the pid was reused by another user
        return True
    return True


class Runner:
    """Where per-queue work runs. Use :func:`make_runner`.

    Leaving its ``with`` block normally waits for work in flight; leaving it with an
    exception (including ``KeyboardInterrupt``) stops that work at once.
    """

    description = "serial"

    def submit_all(self, fn, tasks: list[tuple[str, tuple]]) -> Iterator[tuple[int, QueueOutcome]]:
        for i, (queue, args) in enumerate(tasks):
            yield i, _call(fn, queue, args)

    def close(self) -> None:
        pass

    def terminate(self) -> None:
        """Stop at once, dropping work in flight."""
        self.close()

    def __enter__(self) -> Runner:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()


class ProcessRunner(Runner):
    """A local pool of worker processes; at most ``2 x workers`` tasks in flight."""

    def __init__(self, workers: int):
        self.workers = workers
        self.description = f"{workers} local processes"
        self._pool = cf.ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
            initializer=_watch_parent, initargs=(os.getpid(),))

    def submit_all(self, fn, tasks):
        window = 2 * self.workers
        pending: dict[cf.Future, int] = {}
        todo = iter(enumerate(tasks))
        for i, (queue, args) in _take(todo, window):
            pending[self._pool.submit(_call, fn, queue, args)] = i
        while pending:
            done, _ = cf.wait(pending, return_when=cf.FIRST_COMPLETED)
            for future in done:
                i = pending.pop(future)
                yield i, future.result()
                for j, (queue, args) in _take(todo, 1):
                    pending[self._pool.submit(_call, fn, queue, args)] = j

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        processes = list((self._pool._processes or {}).values())  # no public API before 3.14
        self._pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        for process in processes:
            process.join(timeout=5)


class DaskRunner(Runner):
    """A Dask distributed cluster: an existing scheduler address, or a LocalCluster."""

    def __init__(self, scheduler: str, workers: int):
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - depends on the install
            raise ConfigError("Dask is not installed; install the 'dask' extra "
                              "(pip install 'forecast[dask]')", key="scheduler") from None
        self._cluster = None
        if scheduler == "local":
            self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                         processes=True, host="127.0.0.1",
                                         dashboard_address=None)
            self._client = Client(self._cluster)
            self.description = f"Dask LocalCluster, {workers} workers"
        else:
            try:
                self._client = Client(scheduler, timeout="20s")
            except OSError as exc:
                raise ConfigError(f"cannot reach the Dask scheduler at {scheduler}: {exc}",
                                  key="scheduler") from None
            self.description = f"Dask cluster at {scheduler}"
        self._window = 2 * max(1, len(self._client.scheduler_info().get("workers", {})) or
                               workers)

    def submit_all(self, fn, tasks):
        from dask.distributed import as_completed

        todo = iter(enumerate(tasks))
        index: dict[str, int] = {}
        first = []
        for i, (queue, args) in _take(todo, self._window):
            future = self._client.submit(_call, fn, queue, args, pure=False)
            index[future.key] = i
            first.append(future)
        completed = as_completed(first)
        for future in completed:
            i = index.pop(future.key)
            outcome = future.result()
            future.release()
            yield i, outcome
            for j, (queue, args) in _take(todo, 1):
                nxt = self._client.submit(_call, fn, queue, args, pure=False)
                index[nxt.key] = j
                completed.add(nxt)

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _take(iterator: Iterator, n: int) -> list:
    out = []
    for _ in range(n):
        try:
            out.append(next(iterator))
        except StopIteration:
            break
    return out


def make_runner(workers: int | None = 1, scheduler: str | None = None) -> Runner:
    """Pick a runner.

    Parameters
    ----------
    workers
        Number of local worker processes (``None``: all cores; 1: serial in this process).
    scheduler
        ``None`` for local execution, ``"local"`` to start a Dask LocalCluster with
        ``workers`` workers, or a scheduler address such as ``tcp://host:8786``.

    Raises
    ------
    ConfigError
        For fewer than one worker, a malformed ``scheduler`` (see
        :func:`check_scheduler`), or a scheduler that cannot be reached.
    """
    n = default_workers() if workers is None else int(workers)
    if n < 1:
        raise ConfigError(f"workers must be at least 1, got {n}", key="workers")
    if scheduler:
        return DaskRunner(check_scheduler(scheduler), n)
    if n == 1:
        return Runner()
    return ProcessRunner(n)


def run_per_queue(
    fn: Callable[..., Any],
    tasks: Iterable[tuple[str, tuple]],
    runner: Runner,
    *,
    progress: Progress | None = None,
    fail_fast: bool = False,
) -> Iterator[QueueOutcome]:
    """Apply ``fn(*args)`` to every ``(queue, args)`` task, yielding outcomes in task order.

    Outcomes that finish early wait in a small buffer until every earlier task has
    been yielded, so the caller can stream them to an output file in a stable order.

    Parameters
    ----------
    fn
        A top-level (picklable) function.
    tasks
        ``(queue name, args tuple)`` pairs.
    runner
        From :func:`make_runner`.
    progress
        Called as ``progress(queue, done, total, seconds_elapsed)`` after each task, as
        it finishes. If ``progress`` has a ``failure`` method, a failing task calls
        ``progress.failure(queue, reason)`` instead, so failures are reported as they
        happen.
    fail_fast
        Stop at the first failing queue (its outcome is still yielded).
    """
    tasks = list(tasks)
    total = len(tasks)
    buffer: dict[int, QueueOutcome] = {}
    next_index = 0
    started = time.monotonic()
    done = 0
    for i, outcome in runner.submit_all(fn, tasks):
        done += 1
        buffer[i] = outcome
        if progress and not outcome.ok and hasattr(progress, "failure"):
            progress.failure(outcome.queue, outcome.error)
        elif progress:
            progress(outcome.queue, done, total, time.monotonic() - started)
        while next_index in buffer:
            ready = buffer.pop(next_index)
            next_index += 1
            yield ready
            if fail_fast and not ready.ok:
                return
