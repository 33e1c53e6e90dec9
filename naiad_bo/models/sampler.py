r"""MC samplers for ensemble posteriors: exact member enumeration where it is exact.

A deep ensemble's predictive distribution is a mixture over its ``s`` members. BoTorch's
default sampler for an ``EnsemblePosterior``
(:class:`~botorch.sampling.index_sampler.IndexSampler`) draws random member indices, which
is noisy (member frequencies vary). For a *uniformly weighted* ensemble,
:class:`EnsembleMemberSampler` instead uses every member equally often: with a sample count
that is a multiple of ``s`` the sample average of any MC acquisition *is* the ensemble
average.

Which sampler an MC acquisition gets by default (``botorch.sampling.get_sampler`` for a
:class:`~naiad_bo.models.ensemble_posterior.MemberEnsemblePosterior`, requested shape
``sample_shape``, e.g. BoTorch's 512):

=================================  ====================================================
uniform weights, ``n % s == 0``    :class:`EnsembleMemberSampler` (exact; ``n / s`` copies
                                   of every member)
uniform weights, ``n % s != 0``    :class:`EnsembleMemberSampler` (balanced: every member
                                   ``floor(n / s)`` times, the ``n % s`` extra draws go to
                                   distinct members chosen by ``seed``; not exact)
weighted members                   BoTorch's ``IndexSampler`` (draws from the weights)
=================================  ====================================================

The requested ``sample_shape`` is always kept, so a ``ModelList`` of an ensemble and a GP
(whose ``ListSampler`` needs equal shapes) works under MC acquisitions. Pass
``sampler=EnsembleMemberSampler(model.ensemble_size)`` to an acquisition for exactly one
sample per member.
"""

from __future__ import annotations

import torch
from botorch.posteriors.ensemble import EnsemblePosterior
from botorch.sampling.base import MCSampler
from botorch.sampling.get_sampler import GetSampler
from botorch.sampling.index_sampler import IndexSampler
from torch import Tensor

from naiad_bo.models.ensemble_posterior import MemberEnsemblePosterior

__all__ = ["EnsembleMemberSampler", "MemberEnsemblePosterior"]


class EnsembleMemberSampler(MCSampler):
    r"""Balanced index sampler for uniformly weighted ensemble posteriors.

    Sample ``j`` (in the flattened ``sample_shape``) is member ``j mod s`` for every t-batch,
    jointly over the ``q`` points (as BoTorch's ``IndexSampler`` uses one member per
    t-batch). With ``n = sample_shape.numel()`` a multiple of ``s`` every member appears
    ``n / s`` times and sample averages are exact ensemble averages (:attr:`is_exact`).
    Otherwise the last ``n mod s`` samples are distinct members drawn with ``seed``.

    Args:
        ensemble_size: Number of members ``s`` of the posteriors this sampler serves.
        sample_shape: Requested sample shape (default ``(s,)``: each member once).
        seed: Seed for the remainder members (only used when ``n mod s != 0``).
    """

    def __init__(
        self, ensemble_size: int, sample_shape: torch.Size | None = None, seed: int | None = 0
    ) -> None:
        if isinstance(ensemble_size, bool) or not isinstance(ensemble_size, int):
            raise TypeError(f"ensemble_size must be an int, got {ensemble_size!r}")
        if ensemble_size < 1:
            raise ValueError(f"ensemble_size must be >= 1, got {ensemble_size}")
        shape = torch.Size([ensemble_size]) if sample_shape is None else torch.Size(sample_shape)
        if shape.numel() < 1:
            raise ValueError(f"sample_shape must hold at least one sample, got {tuple(shape)}")
        # seed=0 by default: MCSampler would otherwise draw a seed from the global RNG
        super().__init__(sample_shape=shape, seed=0 if seed is None else seed)
        self.ensemble_size = ensemble_size

    @property
    def is_exact(self) -> bool:
        """True when every member is used equally often (sample count a multiple of ``s``)."""
        return self.sample_shape.numel() % self.ensemble_size == 0

    def forward(self, posterior: EnsemblePosterior) -> Tensor:
        """Member values: ``sample_shape x batch_shape x q x m``."""
        self._construct_base_samples(posterior=posterior)
        return posterior.rsample_from_base_samples(
            sample_shape=self.sample_shape, base_samples=self.base_samples
        )

    def member_indices(self) -> Tensor:
        """The member index of every sample, ``sample_shape`` (CPU long)."""
        n, s = self.sample_shape.numel(), self.ensemble_size
        idx = torch.arange(n) % s
        extra = n % s
        if extra:
            g = torch.Generator().manual_seed(self.seed)
            idx[n - extra :] = torch.randperm(s, generator=g)[:extra]
        return idx.view(self.sample_shape)

    def _construct_base_samples(self, posterior: EnsemblePosterior) -> None:
        if not isinstance(posterior, EnsemblePosterior):
            raise TypeError(
                f"EnsembleMemberSampler needs an EnsemblePosterior, got {type(posterior).__name__}"
            )
        if posterior.ensemble_size != self.ensemble_size:
            raise ValueError(
                f"sampler enumerates {self.ensemble_size} members but the posterior has "
                f"{posterior.ensemble_size}"
            )
        w = posterior.weights
        if not torch.allclose(w, torch.full_like(w, 1.0 / self.ensemble_size)):
            raise ValueError(
                "EnsembleMemberSampler is exact only for uniformly weighted ensembles; "
                "use botorch's IndexSampler for weighted ones"
            )
        target_shape = self.sample_shape + posterior.batch_shape
        if (
            self.base_samples is None
            or self.base_samples.shape != target_shape
            or self.base_samples.device != posterior.device
        ):
            idx = self.member_indices().to(posterior.device)
            idx = idx.view(*self.sample_shape, *([1] * len(posterior.batch_shape)))
            self.register_buffer("base_samples", idx.expand(target_shape).contiguous())

    def _update_base_samples(self, posterior: EnsemblePosterior, base_sampler: MCSampler) -> None:
        """No-op (API compatibility with BoTorch's cached-Cholesky acquisitions)."""


@GetSampler.register(MemberEnsemblePosterior)
def _get_member_sampler(
    posterior: MemberEnsemblePosterior,
    sample_shape: torch.Size,
    *,
    seed: int | None = None,
) -> MCSampler:
    """Default sampler for :class:`MemberEnsemblePosterior` (see the module table)."""
    if posterior.is_uniform:
        return EnsembleMemberSampler(posterior.ensemble_size, sample_shape=sample_shape, seed=seed)
    return IndexSampler(sample_shape=sample_shape, seed=seed)
