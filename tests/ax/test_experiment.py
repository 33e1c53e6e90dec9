"""naiad_bo/ax/experiment.py: pair search space, metadata, data trials, state."""

from __future__ import annotations

import time

import numpy as np
import pytest
from ax.core.trial_status import TrialStatus

from naiad_bo import __version__
from naiad_bo.ax import (
    FORMAT_VERSION,
    ExperimentFormatError,
    attach_rows,
    create_experiment,
    experiment_settings,
    experiment_state,
    pair_search_space,
)


@pytest.mark.parametrize("n_genes", [448, 20_000])
def test_search_space_is_two_integer_ranges_with_the_order_constraint(n_genes):
    t0 = time.perf_counter()
    ss = pair_search_space(n_genes)
    assert time.perf_counter() - t0 < 1.0  # nothing enumerated
    a, b = ss.parameters["gene_a"], ss.parameters["gene_b"]
    assert (a.lower, a.upper, b.lower, b.upper) == (0, n_genes - 1, 0, n_genes - 1)
    assert a.is_numeric and a.parameter_type.name == "INT"
    (c,) = ss.parameter_constraints
    assert c.constraint_dict == {"gene_a": 1.0, "gene_b": -1.0} and c.bound == 0
    last = n_genes - 1
    assert ss.check_membership({"gene_a": 0, "gene_b": last})
    assert ss.check_membership({"gene_a": last, "gene_b": last})  # same-gene pair
    assert not ss.check_membership({"gene_a": last, "gene_b": 0})  # non-canonical order
    no_self = pair_search_space(n_genes, self_pairs=False)
    assert not no_self.check_membership({"gene_a": 5, "gene_b": 5})
    assert no_self.check_membership({"gene_a": 4, "gene_b": 5})


def test_metadata_objective_and_direction(small):
    exp = create_experiment(small.genes, small.single_effects, surrogate="linear",
                            acquisition="ucb:kappa=2", seed=3)
    props = experiment_settings(exp)
    assert props["genes"] == list(small.genes)
    np.testing.assert_array_equal(props["single_effects"], small.single_effects)
    assert props["naiad_bo_version"] == __version__
    assert props["naiad_bo_format_version"] == FORMAT_VERSION
    assert (props["surrogate"], props["acquisition"], props["seed"]) == ("linear",
                                                                        "ucb:kappa=2", 3)
    assert exp.optimization_config.objective.minimize  # growth screen: most negative
    up = create_experiment(small.genes, small.single_effects, direction="maximize")
    assert not up.optimization_config.objective.minimize


def test_bad_experiment_inputs(small):
    with pytest.raises(ValueError, match="shape"):
        create_experiment(small.genes, small.single_effects[:-1])
    with pytest.raises(ValueError, match="unique"):
        create_experiment(["A", "A", "B"], [0.0, 0.1, 0.2])
    with pytest.raises(ValueError, match="seed"):
        create_experiment(small.genes, small.single_effects, seed=-1)


def test_other_format_version_is_a_clear_error(small):
    exp = create_experiment(small.genes, small.single_effects)
    exp._properties["naiad_bo_format_version"] = FORMAT_VERSION + 1
    with pytest.raises(ExperimentFormatError, match="format version 2"):
        experiment_settings(exp)
    exp._properties.clear()
    with pytest.raises(ExperimentFormatError, match="not created by naiad_bo"):
        experiment_state(exp)


def test_attach_rows_pilot_replicates_and_pending(small):
    exp = create_experiment(small.genes, small.single_effects)
    X, y = small.pair_index(), small.y_values()
    # a pilot with one pair measured twice: Ax keeps one value per arm and trial
    pairs = np.concatenate([X[:5], X[:1]])
    scores = np.concatenate([y[:5], [y[0] + 0.1]])
    trials = attach_rows(exp, pairs[:, ::-1], scores, kind="pilot")  # either order accepted
    assert len(trials) == 2 and all(t.status is TrialStatus.COMPLETED for t in trials)
    st = experiment_state(exp)
    assert len(st.measured) == 6 and st.n_asked == 0 and len(st.pending) == 0
    np.testing.assert_array_equal(st.measured[["gene_a", "gene_b"]].to_numpy(), pairs)
    np.testing.assert_array_equal(st.measured["score"].to_numpy(), scores)  # exact values

    # an open batch trial: its arms are pending until their results arrive
    batch = exp.new_batch_trial()
    batch.add_arms_and_weights([_arm(X[7]), _arm(X[8])])
    batch.mark_running(no_runner_required=True)
    st = experiment_state(exp)
    assert st.n_asked == 1 and st.pending_trials == [batch.index]
    np.testing.assert_array_equal(st.pending, X[7:9])
    attach_rows(exp, X[7:8], y[7:8])
    assert batch.status is TrialStatus.RUNNING
    attach_rows(exp, X[8:10], y[8:10])  # X[9] was never asked: an extra data trial
    assert batch.status is TrialStatus.COMPLETED
    st = experiment_state(exp)
    assert len(st.pending) == 0 and len(st.measured) == 9
    kinds = [t.run_metadata.get("naiad_bo", "batch") for t in exp.trials.values()]
    assert kinds == ["pilot", "pilot", "batch", "extra"]
    with pytest.raises(ValueError, match="finite"):
        attach_rows(exp, X[:1], [np.nan])
    with pytest.raises(ValueError, match="0..11"):
        attach_rows(exp, [[0, 12]], [0.0])


def _arm(pair):
    from naiad_bo.ax.experiment import arm_for_pair

    return arm_for_pair(*pair)
