"""Member samplers and the default-sampler dispatch for MemberEnsemblePosterior."""

from __future__ import annotations

import pytest
import torch
from botorch.posteriors.ensemble import EnsemblePosterior
from botorch.sampling.get_sampler import get_sampler
from botorch.sampling.index_sampler import IndexSampler

from naiad_bo.models import EnsembleMemberSampler, MemberEnsemblePosterior


def _values(*batch: int, s: int = 4, q: int = 3) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randn(*batch, s, q, 1, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("batch", [(), (7,), (2, 5)])
def test_samples_are_the_members_once_each(batch):
    values = _values(*batch)
    post = MemberEnsemblePosterior(values)
    sampler = EnsembleMemberSampler(ensemble_size=4)
    samples = sampler(post)
    assert samples.shape == torch.Size([4, *batch, 3, 1])
    # sample k is member k for every t-batch, jointly over the q points
    assert torch.equal(samples, values.movedim(-3, 0))
    torch.testing.assert_close(samples.mean(0), post.mean)


def test_dispatch_keeps_the_requested_shape():
    values = _values(6)
    exact = get_sampler(MemberEnsemblePosterior(values), sample_shape=torch.Size([4]))
    assert isinstance(exact, EnsembleMemberSampler) and exact.is_exact
    tiled = get_sampler(MemberEnsemblePosterior(values), sample_shape=torch.Size([512]), seed=3)
    assert isinstance(tiled, EnsembleMemberSampler) and tiled.sample_shape == (512,)
    assert tiled.is_exact  # 512 = 128 x 4: exact again
    samples = tiled(MemberEnsemblePosterior(values))
    torch.testing.assert_close(samples.mean(0), values.mean(-3))
    weighted = MemberEnsemblePosterior(values, weights=torch.tensor([1.0, 2.0, 3.0, 4.0]))
    idx = get_sampler(weighted, sample_shape=torch.Size([64]), seed=0)
    assert type(idx) is IndexSampler and idx.sample_shape == (64,)
    plain = get_sampler(EnsemblePosterior(values), sample_shape=torch.Size([512]))
    assert isinstance(plain, IndexSampler)  # stock BoTorch behaviour untouched


def test_balanced_when_not_a_multiple():
    sampler = EnsembleMemberSampler(5, sample_shape=torch.Size([512]), seed=1)
    counts = torch.bincount(sampler.member_indices().flatten(), minlength=5)
    assert not sampler.is_exact
    assert sorted(counts.tolist()) == [102, 102, 102, 103, 103]  # 2 extra, distinct members
    again = EnsembleMemberSampler(5, (512,), 1)
    assert torch.equal(sampler.member_indices(), again.member_indices())


def test_random_index_sampler_is_not_exact_but_ours_is():
    values = _values(50)
    post = MemberEnsemblePosterior(values)
    idx = IndexSampler(sample_shape=torch.Size([16]), seed=0)
    assert not torch.allclose(idx(post).mean(0), post.mean)
    torch.testing.assert_close(EnsembleMemberSampler(4, (16,))(post).mean(0), post.mean)


def test_sampler_errors():
    with pytest.raises(ValueError, match=">= 1"):
        EnsembleMemberSampler(0)
    with pytest.raises(TypeError):
        EnsembleMemberSampler(2.0)
    with pytest.raises(ValueError, match="enumerates 3 members"):
        EnsembleMemberSampler(3)(MemberEnsemblePosterior(_values()))
    weighted = MemberEnsemblePosterior(_values(), weights=torch.tensor([1.0, 2.0, 3.0, 4.0]))
    with pytest.raises(ValueError, match="uniformly weighted"):
        EnsembleMemberSampler(4)(weighted)
