"""run_scale_round: the Campaign.ask batch, every unmeasured pair scored, device plumbing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from naiad_bo.acquisition.base import PointwiseAcquisition
from naiad_bo.acquisition.selection import select_batch
from naiad_bo.campaign import Campaign
from naiad_bo.campaign.scale import (
    _OnDevice,
    peak_rss_mb,
    run_scale_round,
    select_parallel,
    split_space,
)
from naiad_bo.data.synthetic import SyntheticPairScreen, SyntheticScreenConfig
from naiad_bo.space import PairSet, PairSpace

SURROGATE = "naiad:epochs=5,ensemble_size=3"


@pytest.fixture(scope="module")
def synth(norman):
    return SyntheticPairScreen(SyntheticScreenConfig(n_genes=80, seed=0, n_calibration=2000),
                               source=norman)


@pytest.mark.parametrize("acquisition", ["mpe", "optimistic"])
def test_round_returns_the_campaign_batch(synth, acquisition):
    result = run_scale_round(synth, 400, 25, surrogate=SURROGATE, acquisition=acquisition,
                             seed=3, pilot_seed=7, chunk_size=500)
    campaign = Campaign(synth.pilot(400, seed=7), surrogate=SURROGATE, acquisition=acquisition,
                        seed=3)
    batch = campaign.ask(25)
    assert np.array_equal(result.batch[["gene_a", "gene_b"]].to_numpy(),
                          batch[["gene_a", "gene_b"]].to_numpy())
    assert np.allclose(result.batch["mean"], batch["mean"])
    assert np.allclose(result.batch["acquisition"], batch["acquisition"])
    assert result.n_scored == synth.n_pairs - 400
    measured = set(map(tuple, synth.pilot(400, seed=7).pair_index().tolist()))
    assert not measured & set(map(tuple, result.batch[["gene_a", "gene_b"]].to_numpy().tolist()))
    assert result.fit_s > 0 and result.score_s > 0 and result.peak_rss_mb >= 1
    assert result.as_dict()["total_s"] == pytest.approx(result.total_s)
    assert result.embed_dim is not None and result.epochs == 5


def test_threads_are_restored(synth):
    before = torch.get_num_threads()
    result = run_scale_round(synth, 300, 5, surrogate=SURROGATE, threads=2)
    assert result.threads == 2 and torch.get_num_threads() == before


def test_device_wrapper_scores_like_the_acquisition(synth):
    from naiad_bo.acquisition import MaxPredictedEffect
    from naiad_bo.models import NaiadEnsemble

    pilot = synth.pilot(300, seed=0)
    X = torch.from_numpy(pilot.pair_index()).double()
    model = NaiadEnsemble(synth.single_effects, seed=0, epochs=3).fit(
        X, torch.from_numpy(pilot.y_values()).reshape(-1, 1))
    acqf = MaxPredictedEffect(model)
    pairs = synth.space.sample(200, seed=1)
    wrapped = _OnDevice(acqf, torch.device("cpu"))
    assert torch.equal(wrapped.score(pairs), acqf.score(pairs))
    assert peak_rss_mb() > 10


def test_non_pointwise_acquisition_is_rejected(synth):
    with pytest.raises(TypeError, match="pointwise"):
        run_scale_round(synth, 300, 5, surrogate=SURROGATE, acquisition="thompson")


class _Ties(PointwiseAcquisition):
    """Scores with many ties: ``(a + 2 b) mod 7`` (tie-breaking must follow flat order)."""

    def __init__(self):
        super().__init__(None)

    def score(self, X):
        X = X.long()
        return ((X[:, 0] + 2 * X[:, 1]) % 7).double()


@pytest.mark.parametrize("workers", [2, 3])
def test_parallel_selection_equals_the_serial_scan(workers):
    space = PairSpace(90)
    exclude = PairSet(space, space.sample(500, seed=0))
    acqf = _Ties()
    serial = select_batch(acqf, space, 300, exclude=exclude, chunk_size=311, progress=False)
    pairs, scores, n = select_parallel(acqf, space, 300, exclude, workers=workers,
                                       chunk_size=311)
    assert np.array_equal(pairs, serial.pairs.numpy())
    assert np.array_equal(scores, serial.scores.numpy())
    assert n == serial.n_scored == space.n_pairs - 500
    parts = split_space(space, workers)
    assert sum(p.n_available(exclude) for p in parts) == n
    flat = np.concatenate([f.numpy() for p in parts for f, _ in p.iter_chunks(97, exclude)])
    assert np.array_equal(flat, np.concatenate([f.numpy() for f, _ in
                                                space.iter_chunks(97, exclude)]))


def test_round_with_workers_returns_the_serial_batch(synth):
    one = run_scale_round(synth, 300, 15, surrogate=SURROGATE, seed=1, chunk_size=700)
    two = run_scale_round(synth, 300, 15, surrogate=SURROGATE, seed=1, chunk_size=700,
                          workers=2)
    assert two.batch[["gene_a", "gene_b"]].equals(one.batch[["gene_a", "gene_b"]])
    assert np.allclose(two.batch["mean"], one.batch["mean"])
    assert two.n_scored == one.n_scored and two.workers == 2
    assert two.footprint_mb > two.peak_rss_mb
