"""Many bags in parallel: local worker processes or Ray tasks, one bag per task.

A failed bag is reported and the rest go on. SIGINT/SIGTERM reach every running bag (the
signal is passed on to local workers; Ray tasks are cancelled), each closes a valid output,
and bags not yet started are reported as such.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection, wait
from typing import Any, TextIO

from promptdepth_ros.errors import ConfigError
from promptdepth_ros.tools.bag_frames import BagOptions
from promptdepth_ros.tools.bag_job import BagJob, BagResult, process_bag
from promptdepth_ros.tools.cli import Stopped, StopSignals

Report = Callable[[BagResult], None]
STOP_POLL_S = 1.0  # how often a Ray task asks whether the run was stopped


def _worker(job: BagJob, options: BagOptions, conn: Connection) -> None:
    """A local worker process: one bag, its result sent back through ``conn``."""
    with StopSignals() as signals:
        result = process_bag(job, options, signals=signals)
        with signals.shielded():
            conn.send(result)
            conn.close()


def run_local(
    jobs: Sequence[BagJob], options: BagOptions, workers: int, report: Report
) -> tuple[list[BagResult], int | None]:
    """Run ``jobs`` in at most ``workers`` processes; ``report`` sees each result as it comes.

    Returns the results in the order of ``jobs`` and the signal (SIGINT/SIGTERM) that stopped
    the run, if one did: it is passed on to the running bags, which close their outputs.
    """
    context = multiprocessing.get_context("fork")  # the tool's modules are already imported
    results: dict[int, BagResult] = {}
    running: dict[Any, tuple[int, Any, Connection]] = {}  # sentinel -> (index, process, conn)
    pending = list(enumerate(jobs))
    with StopSignals() as signals:
        try:
            while pending or running:
                while pending and len(running) < workers:
                    index, job = pending.pop(0)
                    receive, send = context.Pipe(duplex=False)
                    process = context.Process(target=_worker, args=(job, options, send))
                    process.start()
                    send.close()
                    running[process.sentinel] = (index, process, receive)
                for sentinel in wait(list(running)):
                    index, process, conn = running.pop(sentinel)
                    results[index] = _collect(jobs[index], process, conn)
                    report(results[index])
        except Stopped as stop:
            with signals.shielded():
                for _, process, _ in running.values():
                    os.kill(process.pid, stop.signum)
                for index, process, conn in running.values():
                    results[index] = _collect(jobs[index], process, conn)
                    report(results[index])
    return _in_order(jobs, results), signals.signum


def _in_order(jobs: Sequence[BagJob], results: dict[int, BagResult]) -> list[BagResult]:
    """Results in the order of ``jobs``; a job without one did not start."""
    return [
        results.get(i, BagResult(job.input, job.output, "not started"))
        for i, job in enumerate(jobs)
    ]


def _collect(job: BagJob, process: Any, conn: Connection) -> BagResult:
    """The result a worker sent, or a failure naming how the worker ended."""
    result: BagResult | None = None
    try:
        if conn.poll(None):
            result = conn.recv()
    except (EOFError, OSError):
        result = None
    process.join()
    if result is None:
        code = process.exitcode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        result = BagResult(job.input, job.output, "failed", reason=f"worker died ({how})")
    return result


def run_ray(
    jobs: Sequence[BagJob], options: BagOptions, address: str, cpus: int, report: Report
) -> tuple[list[BagResult], int | None]:
    """Run ``jobs`` as Ray tasks on the cluster at ``address`` (``local``: a cluster started
    in this process with ``cpus`` CPUs). Outputs must be on storage every node can write.

    Raises ConfigError when ray is not installed or the cluster cannot be reached; returns as
    :func:`run_local` (on a signal the tasks learn it from a :class:`StopFlag` actor and close
    their outputs; tasks not started yet return at once).
    """
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--ray needs the ray package: pip install 'promptdepth_ros[cluster]'"
        ) from None
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    try:
        if address == "local":
            ray.init(num_cpus=cpus, include_dashboard=False, **quiet)
        else:
            ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as error:
        raise ConfigError(f"cannot reach the Ray cluster at {address}: {error}") from None
    flag = ray.remote(num_cpus=0)(StopFlag).remote()
    task = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
    refs = {task.remote(job, options, flag): i for i, job in enumerate(jobs)}
    results: dict[int, BagResult] = {}
    waiting = list(refs)
    signals = StopSignals()
    stopped: int | None = None
    try:
        with signals:
            try:
                while waiting:
                    ready, waiting = ray.wait(waiting, num_returns=1)
                    index = refs[ready[0]]
                    results[index] = _ray_result(ray, ready[0], jobs[index])
                    report(results[index])
            # Ray's wait turns the handler's Stopped into a plain KeyboardInterrupt.
            except KeyboardInterrupt:
                stopped = signals.signum or signal.SIGINT
                with signals.shielded():
                    ray.get(flag.set.remote(stopped))
                    for ref in waiting:
                        index = refs[ref]
                        results[index] = _ray_result(ray, ref, jobs[index])
                        report(results[index])
    finally:
        ray.shutdown()
    return _in_order(jobs, results), stopped


class StopFlag:
    """A Ray actor's state: the signal that stopped the run (None while it goes on)."""

    def __init__(self) -> None:
        self.signum: int | None = None

    def set(self, signum: int) -> None:
        """Ask every task to stop as ``signum`` would."""
        self.signum = signum

    def get(self) -> int | None:
        """The signal to stop on, or None."""
        return self.signum


def _ray_task(job: BagJob, options: BagOptions, flag: Any) -> BagResult:
    """One bag as a Ray task; asks the run's StopFlag actor about once a second whether to stop
    (``ray.cancel`` did not stop a running task with Ray 2.60: its bag ran to the end)."""
    import ray

    checked = [0.0, None]

    def stop_requested() -> int | None:
        now = time.monotonic()
        if now - checked[0] >= STOP_POLL_S:
            checked[:] = [now, ray.get(flag.get.remote())]
        return checked[1]

    if stop_requested() is not None:  # queued behind the bags that ran when the run stopped
        return BagResult(job.input, job.output, "not started")
    return process_bag(job, options, stop_requested=stop_requested)


def _ray_result(ray: Any, ref: Any, job: BagJob) -> BagResult:
    """A task's result; a lost worker or node as a failed bag."""
    try:
        return ray.get(ref)  # type: ignore[no-any-return]
    except ray.exceptions.RayError as error:
        reason = " ".join(str(error).split())[:300]
        return BagResult(job.input, job.output, "failed", reason=f"ray: {reason}")


def summary_table(results: Sequence[BagResult], stream: TextIO | None = None) -> None:
    """One row per bag (status, frames, skips, errors, seconds), a total, then the reasons."""
    stream = stream or sys.stdout
    rows = [("bag", "status", "frames", "skipped", "errors", "time s")]
    for r in results:
        rows.append(
            (
                r.input.name,
                r.status,
                str(r.frames),
                str(sum(r.skipped.values())),
                str(sum(r.errors.values())),
                f"{r.seconds:.1f}",
            )
        )
    ok = sum(r.ok for r in results)
    rows.append(
        (
            f"{len(results)} bags",
            f"{ok} ok",
            str(sum(r.frames for r in results)),
            str(sum(sum(r.skipped.values()) for r in results)),
            str(sum(sum(r.errors.values()) for r in results)),
            "",
        )
    )
    widths = [max(len(row[c]) for row in rows) for c in range(len(rows[0]))]
    for n, row in enumerate(rows):
        if n == len(rows) - 1:
            print("  ".join("-" * w for w in widths), file=stream)
        print(
            "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip(), file=stream
        )
    for r in results:
        if r.status == "failed":
            print(f"failed {r.input}: {r.reason}", file=stream)
        causes = [*r.skipped.items(), *r.errors.items()]
        for cause, n in sorted(causes)[:5]:
            print(f"{r.input.name}: {n} x {cause}", file=stream)
