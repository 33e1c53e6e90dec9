"""Executors: the same records, in the same order, serial vs processes vs Ray.

Ray runs on one local cluster (``ray.init(num_cpus=2)``) for this module. Without ray the
Ray tests skip, unless ``NAIAD_BO_REQUIRE_RAY=1`` (as in ``.ci/run``), where they fail.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from naiad_bo.campaign import CampaignResults, CampaignSimulator, run_campaigns
from naiad_bo.campaign.executors import (
    EXECUTORS,
    CampaignJob,
    ExecutorError,
    ProcessExecutor,
    RayExecutor,
    SerialExecutor,
    make_executor,
    run_jobs,
)
from naiad_bo.cli.executor_args import EXECUTOR_CHOICES
from naiad_bo.cli.main import main
from naiad_bo.models.single_sum import SingleEffectSumModel
from naiad_bo.specs import AcquisitionSpec

TIMING = ("fit_s", "score_s", "select_s", "round_s", "fit_cpu_s", "score_cpu_s", "select_cpu_s",
          "round_cpu_s")
SMALL = {"epochs": 8, "ensemble_size": 2}
ACQS = ["mpe", "thompson", "uniform"]
SEEDS = [0, 1, 2]


class FailingSum(SingleEffectSumModel):
    """y_a + y_b whose every fit fails (module level: picklable for worker processes)."""

    def fit(self, train_X, train_Y):
        raise RuntimeError("boom in fit")


class DyingSum(SingleEffectSumModel):
    """y_a + y_b whose fit kills its worker process (as the kernel's OOM killer would)."""

    def fit(self, train_X, train_Y):
        os._exit(3)


def _frame(results) -> pd.DataFrame:
    return CampaignResults(results).to_frame().drop(columns=list(TIMING))


def _assert_same(a, b) -> None:
    """Full record frames (all but timings), configs, acquired batches and test splits."""
    pd.testing.assert_frame_equal(_frame(a), _frame(b))
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.config == y.config
        assert len(x.batches) == len(y.batches)
        for bx, by in zip(x.batches, y.batches):
            np.testing.assert_array_equal(bx, by)
        np.testing.assert_array_equal(x.test_pairs, y.test_pairs)


@pytest.fixture(scope="module")
def sim(norman):
    return CampaignSimulator(norman, "naiad", initial=40, batch=20, rounds=2,
                             surrogate_options=SMALL)


@pytest.fixture(scope="module")
def serial_results(sim):
    return sim.run_many(ACQS, SEEDS)


@pytest.fixture(scope="module")
def pool():
    """One 2-process executor for the module (worker start-up is paid once)."""
    with ProcessExecutor(2) as ex:
        yield ex


@pytest.fixture(scope="module")
def ray_cluster():
    """One local 2-CPU Ray cluster for the module, shut down after."""
    required = bool(os.environ.get("NAIAD_BO_REQUIRE_RAY"))
    try:
        import ray
    except ImportError:
        if required:
            raise
        pytest.skip('ray not installed (pip install "naiad-bo[ray]")')
    tmp = tempfile.mkdtemp(prefix="naiad_ray_test_", dir="/tmp")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False, _temp_dir=tmp)
    yield ray
    ray.shutdown()


# ------------------------------------------------------------------ identical records
def test_serial_records_are_the_records_of_separate_runs(sim, serial_results):
    """The job unit (one seed, all acquisitions, round 0 shared) changes nothing."""
    assert [(r.config["seed"], r.config["acquisition"]) for r in serial_results] == [
        (s, a) for s in SEEDS for a in ACQS]
    one = sim.run("thompson", 1)
    pd.testing.assert_frame_equal(_frame(serial_results[4:5]), _frame([one]))


def test_process_executor_gives_identical_records(pool, sim, serial_results):
    res = sim.run_many(ACQS, SEEDS, executor=pool)
    _assert_same(serial_results, res)
    # the pool is reused by a second call, and run_campaigns takes the executor too
    again = run_campaigns(sim.screen, "naiad", ["mpe"], [2], executor=pool, initial=40,
                          batch=20, rounds=2, surrogate_options=SMALL)
    pd.testing.assert_frame_equal(_frame(again), _frame(serial_results[6:7]))


def test_ray_executor_gives_identical_records(ray_cluster, sim, serial_results):
    ex = RayExecutor()
    res = sim.run_many(ACQS, SEEDS, executor=ex)
    ex.close()  # Ray was started by the fixture: close leaves it running
    assert ray_cluster.is_initialized()
    _assert_same(serial_results, res)


def test_ray_job_failure_keeps_the_type_and_names_the_job(ray_cluster, norman, sim):
    # Ray workers cannot import this test module: ship FailingSum by value
    ray_cluster.cloudpickle.register_pickle_by_value(sys.modules[FailingSum.__module__])
    bad = CampaignSimulator(norman, FailingSum, initial=40, batch=20, rounds=1)
    spec = (AcquisitionSpec.parse("mpe"),)
    jobs = [CampaignJob(bad, spec, 3), CampaignJob(sim, spec, 0)]
    with pytest.raises(RuntimeError, match="boom in fit") as info:
        run_jobs(jobs, RayExecutor())
    assert "FailingSum / seed 3 [mpe]" in "".join(info.value.__notes__)
    kept = info.value.completed_results
    pd.testing.assert_frame_equal(_frame(kept), _frame(sim.run_many(["mpe"], [0])))


def test_cli_ray_executor_writes_the_serial_records(ray_cluster, tmp_path):
    """``--executor ray`` on the module's (already warm) cluster; ``--workers`` caps jobs."""
    out = {}
    for kind, extra in (("serial", []), ("ray", ["--workers", "2"])):
        path = tmp_path / f"{kind}.json"
        rc = main(["simulate", "--screen", "norman2019", "--surrogate", "linear",
                   "--acquisition", "mpe", "uniform", "--initial", "50", "--batch", "25",
                   "--rounds", "2", "--seeds", "0", "1", "--json", str(path), "--quiet",
                   "--executor", kind, *extra])
        assert rc == 0
        out[kind] = json.loads(path.read_text())
    strip = [[{k: v for k, v in r.items() if k not in TIMING} for r in out[k]["records"]]
             for k in ("serial", "ray")]
    assert len(strip[0]) == 2 * 2 * 3 and strip[0] == strip[1]
    assert out["serial"]["acquired"] == out["ray"]["acquired"]
    assert out["ray"]["settings"]["executor"] == "ray"
    assert out["ray"]["settings"]["workers"] == 2


# ------------------------------------------------------------------ failures, progress
def test_failing_worker_is_named_and_finished_jobs_are_kept(pool, norman, sim):
    bad = CampaignSimulator(norman, FailingSum, initial=40, batch=20, rounds=1)
    spec = (AcquisitionSpec.parse("uniform"),)
    jobs = [CampaignJob(sim, spec, 0), CampaignJob(bad, spec, 5), CampaignJob(sim, spec, 1)]
    with pytest.raises(RuntimeError, match="boom in fit") as info:
        run_jobs(jobs, pool)
    note = "".join(info.value.__notes__)
    assert "norman2019 / FailingSum / seed 5 [uniform] (job 2 of 3)" in note
    assert "2 finished job(s) kept in err.completed_results" in note
    kept = info.value.completed_results
    assert [r.config["seed"] for r in kept] == [0, 1]
    _assert_same(kept, sim.run_many(["uniform"], [0, 1]))
    # serial: stops at the failing job, keeps what came before
    with pytest.raises(RuntimeError, match="boom in fit") as info:
        run_jobs(jobs, SerialExecutor())
    assert [r.config["seed"] for r in info.value.completed_results] == [0]


def test_a_dead_worker_is_named_and_the_next_run_starts_a_fresh_pool(toy):
    from concurrent.futures.process import BrokenProcessPool

    dying = CampaignSimulator(toy, DyingSum, initial=20, batch=10, rounds=1, top_k=20)
    fine = CampaignSimulator(toy, "sum", initial=20, batch=10, rounds=1, top_k=20)
    spec = (AcquisitionSpec.parse("mpe"),)
    with ProcessExecutor(1) as ex:
        with pytest.raises(BrokenProcessPool) as info:
            run_jobs([CampaignJob(dying, spec, 0)], ex)
        assert "toy / DyingSum / seed 0 [mpe]" in "".join(info.value.__notes__)
        again = run_jobs([CampaignJob(fine, spec, 0)], ex)
    pd.testing.assert_frame_equal(_frame(again), _frame(fine.run_many(["mpe"], [0])))


def test_progress_counts_every_fit_across_workers(pool, monkeypatch, sim):
    from tqdm import tqdm

    from naiad_bo.campaign import executors

    bars = []

    def forced(total, progress, desc):  # a visible bar on a buffer instead of the TTY check
        bars.append(tqdm(total=total, desc=desc, file=io.StringIO(), mininterval=0))
        return bars[-1]

    monkeypatch.setattr(executors, "_bar", forced)
    spec = tuple(AcquisitionSpec.parse(a) for a in ("uniform", "mpe"))
    jobs = [CampaignJob(sim, spec, s) for s in (0, 1)]
    pool.run(jobs, progress=True)
    assert bars[-1].total == bars[-1].n == 2 * (1 + 2 * sim.rounds)  # 10 fits


def test_progress_is_silent_when_not_a_terminal(capsys, toy):
    sim = CampaignSimulator(toy, "sum", initial=20, batch=10, rounds=1, top_k=20,
                            progress=True)
    sim.run_many(["mpe"], [0])
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------ configuration errors
def test_bad_worker_counts_and_flags_are_named():
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ExecutorError, match="workers must be an integer >= 1"):
            ProcessExecutor(bad)
    with pytest.raises(ExecutorError, match="--workers must be an integer >= 1, got 0"):
        make_executor("process", 0)
    with pytest.raises(ExecutorError, match="--workers 2 needs --executor process or ray"):
        make_executor("serial", 2)
    with pytest.raises(ExecutorError, match="--ray-address needs --executor ray"):
        make_executor("process", 2, "auto")
    with pytest.raises(ExecutorError, match="--executor must be one of"):
        make_executor("dask")
    with pytest.raises(ExecutorError, match="executor must be an Executor"):
        run_jobs([], "process")
    assert isinstance(make_executor("process", 3), ProcessExecutor)
    assert make_executor("process", 3).workers == 3
    assert set(EXECUTOR_CHOICES) == set(EXECUTORS)


def test_ray_missing_says_how_to_install(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(ExecutorError, match=r'pip install "naiad-bo\[ray\]"'):
        RayExecutor()
    rc = main(["simulate", "--screen", "norman2019", "--surrogate", "sum", "--executor", "ray",
               "--quiet"])
    assert rc == 2
    assert 'needs ray: pip install "naiad-bo[ray]"' in capsys.readouterr().err


def test_cli_flags_errors(capsys):
    rc = main(["simulate", "--screen", "norman2019", "--executor", "process", "--workers", "0"])
    assert rc == 2 and "--workers must be an integer >= 1, got 0" in capsys.readouterr().err
    rc = main(["simulate", "--screen", "norman2019", "--ray-address", "auto"])
    assert rc == 2 and "--ray-address needs --executor ray" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "--screen", "norman2019", "--executor", "threads"])
    assert "invalid choice: 'threads'" in capsys.readouterr().err


_ORPHAN_DRIVER = """
import multiprocessing as mp, sys, time

def child(path):
    from naiad_bo.campaign.executors import exit_with_parent
    ok = exit_with_parent()
    import os
    with open(path, "w") as f:
        f.write(f"{os.getpid()} {ok}")
    time.sleep(120)

if __name__ == "__main__":
    p = mp.get_context("spawn").Process(target=child, args=(sys.argv[1],))
    p.start()
    time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux-only")
def test_workers_exit_when_their_driver_is_killed(tmp_path):
    """A SIGKILLed driver must not leave its spawned worker running (exit_with_parent)."""
    import signal
    import subprocess
    import time

    script, pidfile = tmp_path / "driver.py", tmp_path / "child.pid"
    script.write_text(_ORPHAN_DRIVER)
    driver = subprocess.Popen([sys.executable, str(script), str(pidfile)])
    try:
        deadline = time.monotonic() + 60
        while not (pidfile.exists() and pidfile.read_text().strip()):
            assert time.monotonic() < deadline, "the worker never started"
            time.sleep(0.1)
        pid, ok = pidfile.read_text().split()
        pid = int(pid)
        assert ok == "True"
        os.kill(pid, 0)  # alive while the driver lives
        driver.send_signal(signal.SIGKILL)
        driver.wait(10)
        deadline = time.monotonic() + 10
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            # a zombie reaped by init counts as gone once its state is Z
            stat = Path(f"/proc/{pid}/stat")
            if stat.exists() and stat.read_text().split()[2] == "Z":
                break
            assert time.monotonic() < deadline, f"worker {pid} outlived its driver"
            time.sleep(0.1)
    finally:
        driver.kill()
