"""Crash safety of ``naiad-bo recommend`` (naiad_bo/ax/loop.py, storage.py): real processes
killed with SIGKILL at named pause points and at random times.

Each run starts from the same store (pilot + one answered batch, so a run attaches results
and proposes a batch) and the same measured file. After a kill the store must load, hold
only rows of the file, have no pair in two batch trials and no measured pair pending; a rerun
must then write exactly the batch an uninterrupted run writes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from ax_helpers import pilot_rows, write_measured

from naiad_bo.ax import Store, experiment_state
from naiad_bo.ax.experiment import trial_kind
from naiad_bo.ax.loop import recommend

POINTS = ("commit:data", "generate", "commit:round", "round-saved")
#: Seconds from start to the last pause point, measured by the pause-point test.
_SPAN: list[float] = []
ARGS = dict(surrogate="linear", seed=2)


def _cmd(store, measured, out):
    return [sys.executable, "-m", "naiad_bo.cli.main", "recommend", "--store", str(store),
            "--measured", str(measured), "--batch", "6", "--out", str(out),
            "--surrogate", ARGS["surrogate"], "--seed", str(ARGS["seed"]), "--quiet"]


def _env(**extra):
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "NAIAD_BO_THREADS": "1",
           "OMP_NUM_THREADS": "1"}
    env.pop("NAIAD_BO_TEST_PAUSE_AT", None)
    return {**env, **extra}


@pytest.fixture(scope="module")
def base(tmp_path_factory, small, oracle):
    """A store with a pilot and one batch, the file answering it, and the reference batch."""
    d = tmp_path_factory.mktemp("crash")
    rows = pilot_rows(small, 12, seed=5)
    measured = write_measured(d / "m.csv", small, rows)
    recommend(d / "base.sqlite", measured, 6, d / "first.csv", **ARGS)
    nxt = pd.read_csv(d / "first.csv")
    rows += [(a, b, oracle[(a, b)]) for a, b in zip(nxt["id1"], nxt["id2"])]
    write_measured(measured, small, rows)
    shutil.copy(d / "base.sqlite", d / "ref.sqlite")
    recommend(d / "ref.sqlite", measured, 6, d / "ref.csv", **ARGS)
    return d, measured, pd.read_csv(d / "ref.csv"), rows


def _check_store(store, rows):
    exp, gs = Store(store, create=False).load()
    st = experiment_state(exp)
    file_rows = {(a, b, float(y)) for a, b, y in rows}
    assert set(zip(st.measured["id1"], st.measured["id2"], st.measured["score"])) <= file_rows
    batch_pairs = [(a.parameters["gene_a"], a.parameters["gene_b"])
                   for t in exp.trials.values() if trial_kind(t) == "batch" for a in t.arms]
    assert len(batch_pairs) == len(set(batch_pairs)), "a pair was proposed twice"
    measured = set(zip(st.measured["gene_a"], st.measured["gene_b"]))
    assert not measured & set(map(tuple, st.pending.tolist()))
    assert gs is not None and len(st.measured) in (18, 12)  # before or after the data write
    return st


def _rerun_and_compare(d, store, measured, ref):
    out = d / f"{store.stem}.csv"
    res = recommend(store, measured, 6, out, **ARGS)
    got = pd.read_csv(out)
    pd.testing.assert_frame_equal(got, ref)
    st = _check_store(store, pd.read_csv(measured).itertuples(index=False))
    assert len(st.measured) == 18 and len(st.pending) == 6 and st.n_asked == 2
    return res


def test_sigkill_at_pause_points(base):
    d, measured, ref, rows = base
    procs = {}
    for i, point in enumerate(POINTS):
        store = d / f"p{i}.sqlite"
        shutil.copy(d / "base.sqlite", store)
        marker = d / f"p{i}.paused"
        env = _env(NAIAD_BO_TEST_PAUSE_AT=point, NAIAD_BO_TEST_PAUSE_FILE=str(marker))
        procs[point] = (subprocess.Popen(_cmd(store, measured, d / f"p{i}.out.csv"), env=env,
                                         stderr=subprocess.PIPE), store, marker)
    t0 = deadline = time.monotonic()
    deadline += 240
    for point, (proc, store, marker) in procs.items():
        while not marker.exists():
            assert proc.poll() is None, (point, proc.stderr.read().decode()[-2000:])
            assert time.monotonic() < deadline, f"never reached {point}"
            time.sleep(0.1)
        assert marker.read_text() == point
        if point == POINTS[-1]:
            _SPAN.append(time.monotonic() - t0)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        st = _check_store(store, rows)
        # killed before the data commit: nothing new (batch 1 still pending); after it: the
        # results are in, and batch 2 is pending only once its own commit happened
        before_data = point == "commit:data"
        assert len(st.measured) == (12 if before_data else 18), point
        assert len(st.pending) == (6 if point in ("commit:data", "round-saved") else 0), point
        assert not (d / f"p{POINTS.index(point)}.out.csv").exists()
    for _point, (_, store, _) in procs.items():
        _rerun_and_compare(d, store, measured, ref)


def test_sigkill_at_random_times(base):
    d, measured, ref, rows = base
    # kill within the time a process needs to get through everything (measured above, or
    # here with one uninterrupted process)
    if _SPAN:  # measured with 4 processes at once; 2 run here
        span = _SPAN[0] / 2
    else:
        store = d / "timed.sqlite"
        shutil.copy(d / "base.sqlite", store)
        t0 = time.monotonic()
        subprocess.run(_cmd(store, measured, d / "timed.out.csv"), env=_env(), check=True,
                       capture_output=True)
        span = time.monotonic() - t0
        pd.testing.assert_frame_equal(pd.read_csv(d / "timed.out.csv"), ref)
    rng = np.random.default_rng(0)
    kill_at = rng.uniform(0.7, 1.1, size=2) * span
    procs = []
    for i in range(len(kill_at)):  # concurrently, each on its own copy of the store
        store = d / f"r{i}.sqlite"
        shutil.copy(d / "base.sqlite", store)
        procs.append((subprocess.Popen(_cmd(store, measured, d / f"r{i}.out.csv"), env=_env(),
                                       stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL),
                      store))
    t0 = time.monotonic()
    for (proc, _), at in sorted(zip(procs, kill_at), key=lambda x: x[1]):
        try:
            proc.wait(timeout=max(0.0, at - (time.monotonic() - t0)))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    for _, store in procs:
        _check_store(store, rows)
        _rerun_and_compare(d, store, measured, ref)
