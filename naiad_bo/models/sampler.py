"""Exact Monte-Carlo sampling of a finite ensemble: every member exactly once.

A deep ensemble's predictive distribution is a uniform mixture over its ``s`` members.
BoTorch's default sampler for an :class:`~botorch.posteriors.ensemble.EnsemblePosterior`
(:class:`~botorch.sampling.index_sampler.IndexSampler`) draws 512 random member indices,
which is both noisy (member frequencies vary) and wasteful (512 evaluations of what are
only ``s`` distinct values). :class:`EnsembleMemberSampler` instead returns the ``s``
member predictions once each, so an MC acquisition's sample average *is* the ensemble
average.

:class:`MemberEnsemblePosterior` is an ``EnsemblePosterior`` whose default sampler (the
one BoTorch's ``get_sampler`` dispatcher hands to MC acquisitions constructed without
``sampler=``) is the exact :class:`EnsembleMemberSampler`. Our ensemble models return it
from ``posterior()``, so ``qUpperConfidenceBound(model, beta)`` is exact out of the box.
For any other ``EnsemblePosterior`` pass the sampler explicitly::

    sampler = EnsembleMemberSampler(ensemble_size=model.ensemble_size)
    acqf = qSimpleRegret(model, sampler=sampler)
"""

from __future__ import annotations

import torch
from botorch.posteriors.ensemble import EnsemblePosterior
from botorch.sampling.base import MCSampler
from botorch.sampling.get_sampler import GetSampler
from torch import Tensor


class MemberEnsemblePosterior(EnsemblePosterior):
    """An :class:`EnsemblePosterior` whose default MC sampler enumerates the members.

    Identical to its parent in every statistic (``mean``, ``variance``, ``rsample``);
    the only difference is the sampler that ``botorch.sampling.get_sampler`` returns
    for it: :class:`EnsembleMemberSampler` instead of a random ``IndexSampler``.
    """


class EnsembleMemberSampler(MCSampler):
    r"""Exact sampler for uniformly weighted ensemble posteriors.

    Produces ``sample_shape = (s,)`` samples where sample ``k`` is member ``k`` for every
    t-batch, i.e. ``samples[k, ..., q, m] = posterior.values[..., k, q, m]``. Averages over
    the sample dimension are therefore exact ensemble averages, and the same member is
    used jointly for all ``q`` points of a t-batch (as BoTorch's ``IndexSampler`` does).

    Args:
        ensemble_size: Number of members ``s`` of the posteriors this sampler serves.
    """

    def __init__(self, ensemble_size: int) -> None:
        if isinstance(ensemble_size, bool) or not isinstance(ensemble_size, int):
            raise TypeError(f"ensemble_size must be an int, got {ensemble_size!r}")
        if ensemble_size < 1:
            raise ValueError(f"ensemble_size must be >= 1, got {ensemble_size}")
        # seed=0: MCSampler would otherwise draw a seed from the global RNG; unused here.
        super().__init__(sample_shape=torch.Size([ensemble_size]), seed=0)
        self.ensemble_size = ensemble_size

    def forward(self, posterior: EnsemblePosterior) -> Tensor:
        """Return all members' values: ``s x batch_shape x q x m``."""
        self._construct_base_samples(posterior=posterior)
        return posterior.rsample_from_base_samples(
            sample_shape=self.sample_shape, base_samples=self.base_samples
        )

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
            idx = torch.arange(self.ensemble_size, device=posterior.device)
            idx = idx.view(-1, *([1] * len(posterior.batch_shape))).expand(target_shape)
            self.register_buffer("base_samples", idx.contiguous())

    def _update_base_samples(self, posterior: EnsemblePosterior, base_sampler: MCSampler) -> None:
        """No-op (API compatibility with BoTorch's cached-Cholesky acquisitions)."""


@GetSampler.register(MemberEnsemblePosterior)
def _get_member_sampler(
    posterior: MemberEnsemblePosterior,
    sample_shape: torch.Size,
    *,
    seed: int | None = None,
) -> EnsembleMemberSampler:
    """Default sampler for :class:`MemberEnsemblePosterior`: exact member enumeration.

    The requested ``sample_shape`` (BoTorch's default is 512 draws) is deliberately
    replaced by ``(s,)``: the ``s`` members are the whole distribution.
    """
    return EnsembleMemberSampler(ensemble_size=posterior.ensemble_size)
