"""naiad_bo/ax/status.py: round table and best pairs against a brute-force reference."""

from __future__ import annotations

import numpy as np

from naiad_bo.ax import attach_rows, create_experiment
from naiad_bo.ax.experiment import arm_for_pair
from naiad_bo.ax.status import best_pairs, plot_discovery, round_table, status_text


def test_round_table_and_best_pairs(tmp_path, small):
    X, y = small.pair_index(), small.y_values()
    exp = create_experiment(small.genes, small.single_effects)
    attach_rows(exp, X[:10], y[:10], kind="pilot")
    batch = exp.new_batch_trial()
    batch.add_arms_and_weights([arm_for_pair(*p) for p in X[10:14]])
    batch.mark_running(no_runner_required=True)
    attach_rows(exp, X[10:12], y[10:12])
    table = round_table(exp)
    assert table["kind"].tolist() == ["pilot", "batch"]
    assert table["n_results"].tolist() == [10, 2] and table["n_measured"].tolist() == [10, 12]
    assert table["batch_best"].tolist() == [y[:10].min(), y[10:12].min()]
    assert table["best_so_far"].iloc[-1] == y[:12].min()  # growth screen: most negative
    best = best_pairs(exp, 3)
    order = np.argsort(y[:12])[:3]
    assert best["score"].tolist() == y[:12][order].tolist()
    assert best["id1"].tolist() == [small.genes[a] for a in X[:12][order, 0]]
    text = status_text(exp, top=3)
    assert "pending: 2 pair(s)" in text and "1 batch(es) proposed, 0 complete" in text
    assert plot_discovery(exp, tmp_path / "d.png").stat().st_size > 5_000
