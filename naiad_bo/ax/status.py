"""A stored campaign in a lab's words, and its discovery-over-rounds plot.

:func:`round_table` is one row per trial in store order: ``trial_index, kind`` (pilot, batch,
extra), ``status``, ``n_arms``, ``n_results``, ``batch_best`` (strongest value measured in the
trial, by the experiment's direction), ``best_so_far`` and ``n_measured`` (distinct pairs
measured up to and including the trial). :func:`status_text` summarises it with the strongest
pairs so far; :func:`plot_discovery` draws ``best_so_far`` and each batch's best per round.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from ax.core.experiment import Experiment

from naiad_bo.ax.experiment import experiment_settings, experiment_state, trial_kind
from naiad_bo.direction import Direction

__all__ = ["best_pairs", "plot_discovery", "round_table", "status_text"]


def best_pairs(experiment: Experiment, k: int = 10) -> pd.DataFrame:
    """The ``k`` strongest measured pairs: ``id1, id2, score`` (mean of replicates),
    ``n_values``."""
    direction = Direction.parse(experiment_settings(experiment)["direction"])
    m = experiment_state(experiment).measured
    if not len(m):
        return pd.DataFrame(columns=["id1", "id2", "score", "n_values"])
    g = m.groupby(["id1", "id2"], sort=False)["score"].agg(["mean", "size"]).reset_index()
    g.columns = ["id1", "id2", "score", "n_values"]
    order = np.argsort(-direction.strength(g["score"].to_numpy()), kind="stable")
    return g.iloc[order[:k]].reset_index(drop=True)


def round_table(experiment: Experiment) -> pd.DataFrame:
    """One row per trial (see the module docstring)."""
    direction = Direction.parse(experiment_settings(experiment)["direction"])
    m = experiment_state(experiment).measured
    rows, seen, best = [], set(), None
    for index in sorted(experiment.trials):
        trial = experiment.trials[index]
        here = m[m["trial_index"] == index]
        seen |= set(zip(here["gene_a"], here["gene_b"]))
        batch_best = np.nan
        if len(here):
            s = direction.strength(here["score"].to_numpy())
            batch_best = float(here["score"].to_numpy()[int(np.argmax(s))])
            if best is None or direction.strength(np.array([batch_best]))[0] > \
                    direction.strength(np.array([best]))[0]:
                best = batch_best
        rows.append({
            "trial_index": index, "kind": trial_kind(trial),
            "status": trial.status.name.lower(), "n_arms": len(trial.arms),
            "n_results": len(here), "batch_best": batch_best,
            "best_so_far": np.nan if best is None else best, "n_measured": len(seen),
        })
    return pd.DataFrame(rows, columns=["trial_index", "kind", "status", "n_arms", "n_results",
                                       "batch_best", "best_so_far", "n_measured"])


def status_text(experiment: Experiment, top: int = 10) -> str:
    """Rounds, measured, pending and best pairs so far, as lines a lab reads."""
    props = experiment_settings(experiment)
    state = experiment_state(experiment)
    table = round_table(experiment)
    batches = table[table["kind"] == "batch"]
    n_pairs = len(set(zip(state.measured["gene_a"], state.measured["gene_b"])))
    lines = [
        f"experiment {experiment.name!r}: {len(props['genes']):,} genes, strongest = "
        f"{props['direction']}; surrogate {props['surrogate']}, acquisition "
        f"{props['acquisition']}, seed {props['seed']} (naiad-bo {props['naiad_bo_version']})",
        f"rounds: {len(batches)} batch(es) proposed, "
        f"{int((batches['status'] == 'completed').sum())} complete; "
        f"{int((table['kind'] != 'batch').sum())} data trial(s) (pilot / unrequested results)",
        f"measured: {len(state.measured):,} result(s) for {n_pairs:,} distinct pair(s)",
    ]
    if len(state.pending):
        lines.append(f"pending: {len(state.pending):,} pair(s) waiting for results in trial(s) "
                     f"{state.pending_trials}")
    else:
        lines.append("pending: nothing; run recommend for the next batch")
    best = best_pairs(experiment, top)
    if len(best):
        lines.append(f"best {len(best)} pair(s) so far:")
        for i, r in enumerate(best.itertuples(), start=1):
            rep = f" (mean of {r.n_values})" if r.n_values > 1 else ""
            lines.append(f"  {i:>3}. {r.id1} + {r.id2}: {r.score:.4f}{rep}")
    if len(batches):
        lines.append("per round (trial: results, best in batch, best so far):")
        for r in table.itertuples():
            bb = "-" if np.isnan(r.batch_best) else f"{r.batch_best:.4f}"
            bs = "-" if np.isnan(r.best_so_far) else f"{r.best_so_far:.4f}"
            lines.append(f"  trial {r.trial_index} ({r.kind}, {r.status}): {r.n_results}/"
                         f"{r.n_arms}, {bb}, {bs}")
    return "\n".join(lines)


def plot_discovery(experiment: Experiment, path: str | Path) -> Path:
    """Best value so far and each trial's best, per trial (the discovery over rounds)."""
    from naiad_bo.plotting import _pyplot, save_figure

    plt = _pyplot()
    t = round_table(experiment)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    x = np.arange(len(t))
    ax.plot(x, t["best_so_far"], marker="o", label="best so far")
    ax.scatter(x, t["batch_best"], marker="x", color="C1", label="best in trial")
    ax.set_xticks(x, [f"{i}\n{k}" for i, k in zip(t["trial_index"], t["kind"])])
    ax.set_xlabel("trial (round)")
    ax.set_ylabel(f"phenotype ({experiment_settings(experiment)['direction']} is strong)")
    ax.set_title(f"{experiment.name}: discovery over rounds")
    ax.legend()
    return save_figure(fig, path)
