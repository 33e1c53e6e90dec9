"""naiad_bo/ax/generation.py: the Ax generation strategy makes the Campaign's picks."""

from __future__ import annotations

import numpy as np
import pandas as pd
from ax.api.client import Client

from naiad_bo.ax import (
    PairGenerationNode,
    attach_rows,
    create_experiment,
    experiment_state,
    make_generation_strategy,
)
from naiad_bo.campaign import Campaign


def _tell_frame(screen, pairs, oracle):
    return pd.DataFrame({
        "id1": [screen.genes[a] for a, _ in pairs], "id2": [screen.genes[b] for _, b in pairs],
        "score": [oracle[(screen.genes[a], screen.genes[b])] for a, b in pairs],
    })


def test_batch_trials_make_exactly_the_campaigns_picks(small, oracle):
    """Uniform first batch, then 3 model rounds (linear surrogate, MPE): every Ax batch
    trial equals ``Campaign.ask`` with the same seed."""
    exp = create_experiment(small.genes, small.single_effects, surrogate="linear", seed=4)
    gs = make_generation_strategy()
    campaign = Campaign.from_state(small.genes, small.single_effects, None,
                                   surrogate="linear", seed=4)
    nodes = []
    for _ in range(4):
        gr = gs.gen_single_trial(experiment=exp, n=8)
        nodes.append(gr._generation_node_name)
        trial = exp.new_batch_trial(generator_run=gr)
        trial.mark_running(no_runner_required=True)
        ax_pairs = np.array([[a.parameters["gene_a"], a.parameters["gene_b"]]
                             for a in trial.arms])
        expected = campaign.ask(8)
        np.testing.assert_array_equal(ax_pairs, expected[["gene_a", "gene_b"]].to_numpy())
        meta = gr.gen_metadata["naiad_bo_pairs"]
        if nodes[-1] == "campaign":
            np.testing.assert_allclose(meta["mean"], expected["mean"])
            np.testing.assert_allclose(meta["acquisition"], expected["acquisition"])
        tell = _tell_frame(small, ax_pairs.tolist(), oracle)
        attach_rows(exp, ax_pairs, tell["score"].to_numpy())
        campaign.tell(tell)
    assert nodes == ["initial", "campaign", "campaign", "campaign"]
    st = experiment_state(exp)
    assert st.n_asked == 4 and len(st.measured) == 32
    assert len({tuple(p) for p in st.measured[["gene_a", "gene_b"]].to_numpy()}) == 32


def test_library_first_then_model(small, oracle):
    lib = [(0, 1), (2, 3), (4, 4), (5, 9), (1, 7)]
    exp = create_experiment(small.genes, small.single_effects, surrogate="linear")
    gs = make_generation_strategy(library=lib)
    gr = gs.gen_single_trial(experiment=exp, n=6)
    got = [(a.parameters["gene_a"], a.parameters["gene_b"]) for a in gr.arms]
    assert got == lib  # the library (fewer than n pairs), in the given order
    trial = exp.new_batch_trial(generator_run=gr)
    trial.mark_running(no_runner_required=True)
    attach_rows(exp, np.array(got), _tell_frame(small, got, oracle)["score"].to_numpy())
    gr2 = gs.gen_single_trial(experiment=exp, n=5)
    assert gr2._generation_node_name == "campaign" and len(gr2.arms) == 5
    assert not {(a.parameters["gene_a"], a.parameters["gene_b"]) for a in gr2.arms} & set(lib)


def test_client_single_arm_trials_keep_working(small, oracle):
    """``Client.get_next_trials`` makes single-arm trials from our nodes; pending arms of the
    same call are never proposed twice and measured pairs never again."""
    exp = create_experiment(small.genes, small.single_effects, surrogate="linear")
    X, y = small.pair_index(), small.y_values()
    attach_rows(exp, X[:10], y[:10], kind="pilot")
    client = Client()
    client.set_experiment(exp)
    client.set_generation_strategy(make_generation_strategy())
    seen = {tuple(p) for p in X[:10].tolist()}
    for _ in range(2):
        trials = client.get_next_trials(3)
        pairs = [(p["gene_a"], p["gene_b"]) for p in trials.values()]
        assert len(set(pairs)) == 3 and not set(pairs) & seen
        seen |= set(pairs)
        for index, (a, b) in zip(trials, pairs):
            client.complete_trial(index, raw_data={
                "phenotype": oracle[(small.genes[a], small.genes[b])]})
    st = experiment_state(exp)
    assert len(st.measured) == 16 and len(st.pending) == 0
    summary = client.summarize()
    assert len(summary) == 16 and "phenotype" in summary.columns


def test_node_storage_arguments_round_trip():
    node = PairGenerationNode("initial", library=[(3, 1), (2, 2)])
    args = PairGenerationNode.serialize_init_args(node)
    assert args["library"] == [[1, 3], [2, 2]]
    again = PairGenerationNode(**PairGenerationNode.deserialize_init_args(args))
    assert again.name == "initial" and again.library == node.library
