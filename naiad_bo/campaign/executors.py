"""Executors: where the campaign jobs of :meth:`CampaignSimulator.run_many` run.

A :class:`CampaignJob` is one seed of one simulator (screen x surrogate) with every
acquisition of that seed: round 0 depends on the seed only, so it is fitted once per job and
shared by the acquisitions exactly as in a serial run. Every random choice of a job is seeded
from ``(seed, round, stream)`` (:mod:`naiad_bo.campaign.seeds`), so a job's records do not
depend on where it runs: every executor returns the same records in the same (job) order;
only the ``*_s`` timings differ.

* :class:`SerialExecutor` (default): one job after another in this process.
* :class:`ProcessExecutor`: local worker processes (``spawn`` start method, one torch thread
  each), via :class:`concurrent.futures.ProcessPoolExecutor`.
* :class:`RayExecutor`: Ray tasks (``pip install "naiad-bo[ray]"``) on a local cluster it
  starts (``num_cpus``) or on an existing one (``address``); ``ray`` is imported only here.

Progress: a tqdm bar on stderr counting finished model fits (``1 + acquisitions x rounds``
per job; per fit for serial and process workers, per job for Ray), shown only when asked for
and stderr is a terminal.

Failures: a job's exception is re-raised with its type kept, a note naming the job
(``add_note``, shown in the traceback) and ``err.completed_results``, a
:class:`~naiad_bo.campaign.result.CampaignResults` of every job that finished (in job order).
Worker executors let the other jobs finish first, so nothing computed is lost. Process
workers end with their driver: a killed driver's workers get SIGTERM
(:func:`exit_with_parent`) instead of running on as orphans.

The CLI strings ``serial`` / ``process`` / ``ray`` map to these classes in one place:
:func:`make_executor`.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import queue as queue_mod
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from tqdm.auto import tqdm

if TYPE_CHECKING:
    from naiad_bo.campaign.result import CampaignResult, CampaignResults
    from naiad_bo.campaign.simulator import CampaignSimulator
    from naiad_bo.specs import AcquisitionSpec

__all__ = [
    "EXECUTORS",
    "CampaignJob",
    "Executor",
    "ExecutorError",
    "ProcessExecutor",
    "RayExecutor",
    "SerialExecutor",
    "exit_with_parent",
    "make_executor",
    "run_jobs",
]

RAY_HINT = 'pip install "naiad-bo[ray]"'


class ExecutorError(ValueError):
    """An executor cannot be built as configured (the flag or argument is named)."""


@dataclass(frozen=True)
class CampaignJob:
    """One seed of one simulator, every acquisition of it (the unit an executor runs).

    Attributes:
        simulator: The :class:`~naiad_bo.campaign.CampaignSimulator` (screen x surrogate).
        acquisitions: Parsed acquisition specs, run in this order after a shared round 0.
        seed: Campaign seed.
    """

    simulator: CampaignSimulator
    acquisitions: tuple[AcquisitionSpec, ...]
    seed: int

    @property
    def name(self) -> str:
        """``screen / surrogate / seed s [acquisitions]``, the job's name in errors."""
        sim = self.simulator
        acqs = ", ".join(a.name for a in self.acquisitions)
        return (f"{getattr(sim.screen, 'name', 'screen')} / {sim.surrogate_name} / "
                f"seed {self.seed} [{acqs}]")

    @property
    def n_fits(self) -> int:
        """Model fits of the job: round 0 once, then one per acquisition and round."""
        return 1 + len(self.acquisitions) * self.simulator.rounds

    def run(self, on_fit: Callable[[], None] | None = None) -> list[CampaignResult]:
        """Run the job here; ``on_fit()`` is called after every model fit."""
        return self.simulator._run_seed(list(self.acquisitions), self.seed, on_fit)


class Executor:
    """Base class: runs :class:`CampaignJob` s and returns their results in job order.

    Executors that hold workers (a process pool, a Ray cluster they started) keep them
    between :meth:`run` calls until :meth:`close` (or the end of a ``with`` block).
    """

    #: Concurrent jobs (1 for serial).
    workers: int = 1

    def run(self, jobs: Sequence[CampaignJob], *, progress: bool = False,
            desc: str = "campaigns") -> list[list[CampaignResult]]:
        """Run ``jobs``; element ``i`` of the result is job ``i``'s campaigns.

        Raises:
            Exception: the first failing job's exception (type kept), with a note naming
                the job and ``completed_results`` (every finished job's campaigns).
        """
        jobs = list(jobs)
        bar = _bar(sum(j.n_fits for j in jobs), progress, desc)
        try:
            out: list[list[CampaignResult] | None] = [None] * len(jobs)
            failures = self._run(jobs, out, bar)
        finally:
            bar.close()
        if failures:
            _raise_first(jobs, out, failures)
        return out  # type: ignore[return-value]

    def _run(self, jobs, out, bar) -> list[tuple[int, BaseException]]:
        """Fill ``out[i]`` with job ``i``'s results; return ``(i, exception)`` failures."""
        raise NotImplementedError

    def close(self) -> None:
        """Release workers (no-op for serial)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(workers={self.workers})"


class SerialExecutor(Executor):
    """Jobs one after another in this process (the default); stops at the first failure."""

    def _run(self, jobs, out, bar):
        for i, job in enumerate(jobs):
            bar.set_postfix_str(job.name, refresh=False)
            try:
                out[i] = job.run(lambda: bar.update(1))
            except Exception as err:  # noqa: BLE001 - re-raised with the job named
                return [(i, err)]
        return []


class ProcessExecutor(Executor):
    """Jobs on ``workers`` local processes, each with one torch thread.

    Args:
        workers: Worker processes (default: the CPUs this process may use).
        start_method: ``"spawn"`` (default, safe with torch and threads) or ``"forkserver"``.

    Raises:
        ExecutorError: ``workers`` not a positive integer.
    """

    def __init__(self, workers: int | None = None, *,
                 start_method: Literal["spawn", "forkserver"] = "spawn") -> None:
        self.workers = _check_workers(workers if workers is not None else _cpu_count(),
                                      "workers")
        if start_method not in ("spawn", "forkserver"):
            raise ExecutorError(f"start_method must be 'spawn' or 'forkserver', got "
                                f"{start_method!r}")
        self.start_method = start_method
        self._pool: cf.ProcessPoolExecutor | None = None
        self._queue = None

    def _ensure_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            ctx = mp.get_context(self.start_method)
            self._queue = ctx.Queue()
            self._pool = cf.ProcessPoolExecutor(
                max_workers=self.workers, mp_context=ctx, initializer=_init_worker,
                initargs=(self._queue,),
            )
        return self._pool

    def _run(self, jobs, out, bar):
        pool = self._ensure_pool()
        futures = {pool.submit(_process_job, job): i for i, job in enumerate(jobs)}
        failures = []
        pending = set(futures)
        while pending:
            done, pending = cf.wait(pending, timeout=0.2, return_when=cf.FIRST_COMPLETED)
            _drain(self._queue, bar)
            for fut in done:
                i = futures[fut]
                try:
                    out[i] = fut.result()
                except Exception as err:  # noqa: BLE001 - collected, re-raised after the rest
                    failures.append((i, err))
        _drain(self._queue, bar)
        if any(isinstance(err, BrokenProcessPool) for _, err in failures):
            self.close()  # a worker died (e.g. killed for memory): the next run starts afresh
        return failures

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        if self._queue is not None:
            self._queue.close()
            self._queue = None


class RayExecutor(Executor):
    """Jobs as Ray tasks (one CPU each, one torch thread).

    Ray is imported and initialised on the first :meth:`run`. With ``address`` it connects to
    that cluster (``"auto"``: the one this machine belongs to); otherwise, unless Ray is
    already initialised in this process, it starts a local cluster of ``num_cpus`` CPUs
    without dashboard or driver logs, and :meth:`close` shuts down what it started.

    Args:
        address: Ray cluster address (``ray.init(address=...)``); ``None``: a local cluster.
        num_cpus: CPUs of the local cluster (default: the CPUs this process may use);
            with ``address``, at most this many jobs run at once (default: no cap).

    Raises:
        ExecutorError: ``num_cpus`` not a positive integer, or ``ray`` not installed (says
            ``pip install "naiad-bo[ray]"``).
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        if num_cpus is not None:
            num_cpus = _check_workers(num_cpus, "num_cpus")
        if address is not None and (not isinstance(address, str) or not address.strip()):
            raise ExecutorError(f"address must be a non-empty string, got {address!r}")
        _import_ray()  # fail now, not after the first screen is loaded
        self.address = address
        self.num_cpus = num_cpus
        self.workers = num_cpus if num_cpus is not None else (
            _cpu_count() if address is None else 0)
        self._started = False
        self._tmp: str | None = None

    def _ensure_ray(self):
        ray = _import_ray()
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if self.address is not None:
                ray.init(address=self.address, **kwargs)
            else:
                self._tmp = tempfile.mkdtemp(prefix="naiad_ray_", dir="/tmp")
                ray.init(num_cpus=self.workers, _temp_dir=self._tmp, **kwargs)
            self._started = True
        return ray

    def _run(self, jobs, out, bar):
        ray = self._ensure_ray()
        task = ray.remote(num_cpus=1, max_retries=0)(_ray_job)
        refs_of: dict[int, Any] = {}  # one object-store copy per simulator
        cap = self.workers if self.workers > 0 else len(jobs)
        queued = list(range(len(jobs)))
        running: dict[Any, int] = {}
        failures = []
        while queued or running:
            while queued and len(running) < cap:
                i = queued.pop(0)
                job = jobs[i]
                sim_ref = refs_of.get(id(job.simulator))
                if sim_ref is None:
                    sim_ref = refs_of[id(job.simulator)] = ray.put(job.simulator)
                running[task.remote(sim_ref, job.acquisitions, job.seed)] = i
            done, _ = ray.wait(list(running), num_returns=1)
            for ref in done:
                i = running.pop(ref)
                try:
                    out[i] = ray.get(ref)
                    bar.update(jobs[i].n_fits)
                except Exception as err:  # noqa: BLE001 - collected, re-raised after the rest
                    failures.append((i, _ray_cause(err)))
        return failures

    def close(self) -> None:
        if self._started:
            ray = _import_ray()
            ray.shutdown()
            self._started = False

    def __repr__(self) -> str:
        return f"RayExecutor(address={self.address!r}, num_cpus={self.num_cpus})"


#: CLI names of the executors (``--executor``).
EXECUTORS: dict[str, type[Executor]] = {
    "serial": SerialExecutor, "process": ProcessExecutor, "ray": RayExecutor}


def make_executor(kind: str = "serial", workers: int | None = None,
                  ray_address: str | None = None) -> Executor:
    """The executor of the CLI flags ``--executor KIND --workers N --ray-address ADDR``.

    Raises:
        ExecutorError: unknown ``--executor``, ``--workers`` below 1 or given with
            ``serial``, ``--ray-address`` without ``--executor ray``, ray not installed.
    """
    if kind not in EXECUTORS:
        raise ExecutorError(f"--executor must be one of {sorted(EXECUTORS)}, got {kind!r}")
    if workers is not None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ExecutorError(f"--workers must be an integer >= 1, got {workers!r}")
        if kind == "serial" and workers != 1:
            raise ExecutorError(f"--workers {workers} needs --executor process or ray "
                                "(serial runs one job at a time)")
    if ray_address is not None and kind != "ray":
        raise ExecutorError(f"--ray-address needs --executor ray (got --executor {kind})")
    if kind == "serial":
        return SerialExecutor()
    if kind == "process":
        return ProcessExecutor(workers)
    return RayExecutor(address=ray_address, num_cpus=workers)


def run_jobs(jobs: Sequence[CampaignJob], executor: Executor | None = None, *,
             progress: bool = False, desc: str = "campaigns") -> CampaignResults:
    """Run ``jobs`` on ``executor`` (default serial); their campaigns, in job order."""
    from naiad_bo.campaign.result import CampaignResults

    executor = SerialExecutor() if executor is None else executor
    if not isinstance(executor, Executor):
        raise ExecutorError(f"executor must be an Executor (SerialExecutor, ProcessExecutor, "
                            f"RayExecutor), got {type(executor).__name__}")
    results = CampaignResults()
    for campaigns in executor.run(jobs, progress=progress, desc=desc):
        results.extend(campaigns)
    return results


# ---------------------------------------------------------------------------- internals
def _bar(total: int, progress: bool, desc: str):
    # disable=None: tqdm shows the bar only on a terminal
    return tqdm(total=total, desc=desc, unit="fit", disable=None if progress else True)


def _raise_first(jobs, out, failures) -> None:
    from naiad_bo.campaign.result import CampaignResults

    completed = CampaignResults()
    for res in out:
        if res is not None:
            completed.extend(res)
    i, err = min(failures, key=lambda f: f[0])
    others = f"; {len(failures) - 1} other job(s) failed too" if len(failures) > 1 else ""
    note = (f"in campaign job {jobs[i].name} (job {i + 1} of {len(jobs)}); "
            f"{sum(r is not None for r in out)} finished job(s) kept in "
            f"err.completed_results{others}")
    if hasattr(err, "add_note"):
        err.add_note(note)
    err.completed_results = completed
    raise err


def _check_workers(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExecutorError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _import_ray():
    try:
        import ray
    except ImportError as err:
        raise ExecutorError(f"the Ray executor needs ray: {RAY_HINT}") from err
    return ray


def _one_thread() -> None:
    import torch

    torch.set_num_threads(1)


_PROGRESS_QUEUE = None


def exit_with_parent() -> bool:
    """Make this (worker) process receive SIGTERM when its parent dies (Linux only).

    A killed driver (``kill``, a crashed notebook) would otherwise leave its spawned
    workers running their current job to the end and idling after it. Uses
    ``prctl(PR_SET_PDEATHSIG, SIGTERM)``; if the parent is already gone, exits at once.

    Returns:
        Whether the guard is in place (False off Linux or without ``prctl``).
    """
    import sys

    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    import signal

    spawner = mp.parent_process()
    parent = spawner.pid if spawner is not None else os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            return False
    except (OSError, AttributeError):
        return False
    if os.getppid() != parent:  # the parent died before the guard was set
        os._exit(1)
    return True


#: ``prctl`` option of <linux/prctl.h>: signal sent to this process when its parent dies.
_PR_SET_PDEATHSIG = 1


def _init_worker(progress_queue) -> None:
    global _PROGRESS_QUEUE
    exit_with_parent()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MKL_NUM_THREADS", "1")
    _PROGRESS_QUEUE = progress_queue
    _one_thread()


def _process_job(job: CampaignJob):
    q = _PROGRESS_QUEUE
    return job.run((lambda: q.put(1)) if q is not None else None)


def _drain(q, bar) -> None:
    if q is None:
        return
    n = 0
    while True:
        try:
            n += q.get_nowait()
        except (queue_mod.Empty, OSError, ValueError):
            break
    if n:
        bar.update(n)


def _ray_job(simulator, acquisitions, seed):
    _one_thread()
    return CampaignJob(simulator, tuple(acquisitions), seed).run()


def _ray_cause(err: BaseException) -> BaseException:
    """The task's own exception inside Ray's ``RayTaskError`` (the wrapper if none)."""
    cause = getattr(err, "cause", None)
    return cause if isinstance(cause, BaseException) else err
