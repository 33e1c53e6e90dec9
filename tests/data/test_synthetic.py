"""SyntheticPairScreen: source statistics, symmetry, determinism, lazy == materialised."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ks_2samp

from naiad_bo.data.synthetic import SyntheticOracle, SyntheticPairScreen, SyntheticScreenConfig

QS = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]


@pytest.fixture(scope="module")
def k562_synth(horlbeck):
    return SyntheticPairScreen(SyntheticScreenConfig(n_genes=4000, seed=3), source=horlbeck)


@pytest.mark.parametrize("source_name", ["horlbeck", "norman"])
def test_statistics_match_the_source_screen(source_name, request):
    source = request.getfixturevalue(source_name)
    synth = SyntheticPairScreen(SyntheticScreenConfig(n_genes=4000, seed=1), source=source)
    # single effects: quantiles and moments of the source's single effects
    se, src = synth.single_effects, source.single_effects
    spread = src.std()
    assert ks_2samp(se, src).statistic < 0.04  # distribution (2.5x the 5% critical value)
    assert np.allclose(np.quantile(se, QS), np.quantile(src, QS), atol=0.2 * spread)
    assert abs(se.mean() - src.mean()) < 0.05 * spread
    assert abs(se.std() / spread - 1) < 0.05
    # interactions of fresh random pairs (not the calibration draw): source residual quantiles
    pairs = synth.space.sample(100_000, seed=99).numpy()
    g = synth.interaction(pairs)
    resid = synth.source_residuals
    rs = resid.std()
    assert ks_2samp(g, resid).statistic < 0.02
    assert np.allclose(np.quantile(g, QS), np.quantile(resid, QS), atol=0.05 * rs)
    assert abs(g.std() / rs - 1) < 0.05
    assert abs(g.mean() - resid.mean()) < 0.05 * rs
    # pair values: the additive fit plus the interaction
    c0, c1 = synth.additive_coef
    y = synth.values(pairs)
    add = c0 + c1 * (se[pairs[:, 0]] + se[pairs[:, 1]])
    assert np.allclose(y - add, g)
    assert np.corrcoef(add, y)[0, 1] > 0.5  # additive part dominates, as in the source


def test_symmetric_and_deterministic(k562_synth, horlbeck):
    pairs = k562_synth.space.sample(5000, seed=0).numpy()
    y = k562_synth.values(pairs)
    assert np.array_equal(y, k562_synth.values(pairs[:, ::-1]))
    again = SyntheticPairScreen(SyntheticScreenConfig(n_genes=4000, seed=3), source=horlbeck)
    assert np.array_equal(y, again.values(pairs))
    assert np.array_equal(k562_synth.single_effects, again.single_effects)
    other = SyntheticPairScreen(SyntheticScreenConfig(n_genes=4000, seed=4), source=horlbeck)
    assert not np.allclose(y, other.values(pairs))
    with pytest.raises(ValueError, match="out of range"):
        k562_synth.values(np.array([[0, 4000]]))


def test_lazy_values_equal_the_materialised_table(norman):
    cfg = SyntheticScreenConfig(n_genes=70, seed=5, n_calibration=2000)
    synth = SyntheticPairScreen(cfg, source=norman)
    table = synth.materialize()
    assert table.n_pairs == 70 * 71 // 2
    full = table.pair_index()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(full))
    assert np.array_equal(synth.values(full[order]), table.y_values()[order])
    streamed = np.concatenate([y for _, _, y in synth.iter_values(chunk_size=97)])
    assert np.array_equal(streamed, table.y_values())
    # without pair noise the interaction is a monotone map of the brute-force low-rank matrix
    flat_cfg = SyntheticScreenConfig(n_genes=70, seed=5, n_calibration=2000, noise_fraction=0.0)
    low = SyntheticPairScreen(flat_cfg, source=norman)
    u, v = low.factors
    latent = (u @ v.T + v @ u.T) / math.sqrt(2 * cfg.rank)
    assert np.allclose(latent, latent.T)
    h = latent[full[:, 0], full[:, 1]]
    g = low.interaction(full)
    by_h = np.argsort(h, kind="stable")
    assert np.all(np.diff(g[by_h]) >= -1e-12)
    assert np.corrcoef(h, g)[0, 1] > 0.9


@pytest.mark.parametrize("self_pairs", [True, False])
def test_streamed_top_k_equals_brute_force(norman, self_pairs):
    cfg = SyntheticScreenConfig(n_genes=90, seed=2, n_calibration=2000, include_self=self_pairs)
    synth = SyntheticPairScreen(cfg, source=norman)
    table = synth.materialize()
    y = table.y_values()
    flat = np.asarray(synth.space.to_flat(table.pair_index()))
    order = np.lexsort((flat, -synth.direction.strength(y)))[:40]
    top = synth.top_k(40, chunk_size=113)
    assert np.array_equal(top[["gene_a", "gene_b"]].to_numpy(), table.pair_index()[order])
    assert np.array_equal(top["y"].to_numpy(), y[order])
    assert len(synth.top_k(10**6)) == synth.n_pairs


def test_pilot_and_oracle_feed_a_campaign(norman):
    from naiad_bo.campaign import Campaign

    synth = SyntheticPairScreen(SyntheticScreenConfig(n_genes=50, seed=0, n_calibration=1000),
                                source=norman)
    pilot = synth.pilot(200, seed=1)
    assert pilot.n_pairs == 200 and pilot.n_genes == 50
    assert np.array_equal(pilot.y_values(), synth.values(pilot.pair_index()))
    campaign = Campaign(pilot, surrogate="linear", acquisition="mpe", seed=0)
    batch = campaign.ask(10)
    told = SyntheticOracle(synth).measure(batch[["gene_a", "gene_b"]].to_numpy())
    report = campaign.tell(told)
    assert report.new_pairs == 10 and campaign.n_measured == 210


def test_config_rejects_bad_values():
    with pytest.raises(ValueError, match="n_genes"):
        SyntheticScreenConfig(n_genes=2)
    with pytest.raises(ValueError, match="noise_fraction"):
        SyntheticScreenConfig(noise_fraction=1.5)
    with pytest.raises(ValueError, match="MAX_MATERIALIZED_PAIRS"):
        SyntheticPairScreen(SyntheticScreenConfig(n_genes=5000, n_calibration=1000)).materialize()
