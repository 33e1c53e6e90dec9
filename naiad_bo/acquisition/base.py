"""Base classes of naiad_bo's acquisition functions over gene pairs.

Every acquisition here is a BoTorch :class:`~botorch.acquisition.AcquisitionFunction` whose
inputs are gene-index pairs ``... x 2`` (long, or float holding integers as Ax hands them).
Two kinds exist:

* :class:`PointwiseAcquisition`: the value of a batch is the sum of per-pair scores, so the
  best batch of ``q`` is the exact top-``q`` of :meth:`PointwiseAcquisition.score`.
  :func:`naiad_bo.acquisition.select_batch` finds it in one chunked pass (``O(N log q)``,
  bounded memory) instead of BoTorch's ``q`` sequential passes.
* :class:`MemberwiseAcquisition`: per-member scores of an ensemble (Thompson sampling over
  members); :func:`~naiad_bo.acquisition.select_batch` keeps a top list per member.

Uniform construction hook (for campaign code, CLIs, Ax adapters)
----------------------------------------------------------------
Every class builds from the same call::

    acqf = Cls.from_training_data(
        model, train_X, train_Y, single_effects, direction=direction, seed=seed, **options
    )

``model`` is the fitted surrogate, ``train_X`` (``n x 2``) / ``train_Y`` (``n x 1``) the pairs
measured so far and their values, ``single_effects`` the ``(M,)`` single-gene effects,
``direction`` a :class:`~naiad_bo.direction.Direction` (or its name) and ``seed`` an ``int``
for stochastic acquisitions. ``options`` are the class's own hyper-parameters (``kappa``,
``temperature``, ...). Classes that need the data use it (:class:`RecoverUCB` fits an
:class:`~naiad_bo.models.AdditiveLinearModel` there); the others ignore it, and ``direction``
/ ``seed`` are passed only to constructors that accept them. Pass ``seed`` differently per
round to get fresh randomness each round.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from botorch.acquisition import AcquisitionFunction
from botorch.models.deterministic import DeterministicModel
from botorch.models.ensemble import EnsembleModel
from botorch.models.model import Model
from botorch.posteriors.ensemble import EnsemblePosterior
from torch import Tensor

from naiad_bo.direction import Direction
from naiad_bo.models.validation import as_gene_pairs

__all__ = [
    "AcquisitionModelError",
    "MemberwiseAcquisition",
    "PairAcquisitionFunction",
    "PointwiseAcquisition",
    "as_index_pairs",
]


class AcquisitionModelError(TypeError):
    """The surrogate cannot provide what an acquisition needs (e.g. variance, members)."""


def as_index_pairs(X: Tensor) -> Tensor:
    """Validate gene-index pairs ``... x 2`` and return them as a long tensor.

    The acquisitions' name for :func:`naiad_bo.models.as_gene_pairs` without a gene count
    (float inputs must hold non-negative integers; the model checks the upper bound).

    Raises:
        ValueError: wrong last dimension, non-integer, non-finite or negative entries.
        TypeError: not a tensor.
    """
    if not isinstance(X, Tensor):
        raise TypeError(f"expected a tensor of gene-index pairs, got {type(X).__name__}")
    return as_gene_pairs(X, None, name="gene-index pairs")


class PairAcquisitionFunction(AcquisitionFunction):
    """Base of all naiad_bo acquisitions: model checks and the uniform construction hook.

    Subclasses declare what they need from the surrogate in ``requires`` (a subset of
    ``{"mean", "variance", "members"}``); the constructor raises
    :class:`AcquisitionModelError` when the model cannot provide it (a deterministic model has
    no variance; a GP has no ensemble members), and scoring re-checks the posterior.
    """

    requires: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, model: Model | None) -> None:
        super().__init__(model=model)
        self.X_pending: Tensor | None = None
        self._check_model(model)

    # ------------------------------------------------------------------ model checks
    def _check_model(self, model: Model | None) -> None:
        name = type(self).__name__
        if not self.requires:
            return
        if model is None:
            raise AcquisitionModelError(f"{name} needs a fitted surrogate model, got None")
        if not isinstance(model, Model):
            raise AcquisitionModelError(f"{name} needs a BoTorch Model, got {type(model).__name__}")
        n_out = getattr(model, "num_outputs", 1)
        if n_out != 1:
            raise AcquisitionModelError(f"{name} needs a single-output model, got {n_out} outputs")
        needs_spread = self.requires & {"variance", "members"}
        if needs_spread and isinstance(model, DeterministicModel):
            raise AcquisitionModelError(
                f"{name} needs the model's {'/'.join(sorted(needs_spread))}, but "
                f"{type(model).__name__} is deterministic (no predictive uncertainty); use an "
                "ensemble (e.g. NaiadEnsemble) or a model with a posterior variance"
            )
        if "members" in self.requires and not isinstance(model, EnsembleModel):
            raise AcquisitionModelError(
                f"{name} needs ensemble members (an EnsembleModel with an EnsemblePosterior), "
                f"got {type(model).__name__}"
            )

    # ------------------------------------------------------------------ posterior helpers
    def _posterior(self, X: Tensor):
        """Marginal posterior at ``X`` (``n x 2``).

        Ensembles get one joint call (their members carry no cross-point covariance); other
        models get ``n`` t-batches of one point each, so a GP never builds an ``n x n``
        covariance.
        """
        if isinstance(self.model, EnsembleModel):
            return self.model.posterior(X)
        return self.model.posterior(X.unsqueeze(-2))

    def _mean(self, X: Tensor) -> Tensor:
        """Posterior mean ``(n,)`` at ``X`` (``n x 2``)."""
        return self._posterior(X).mean.reshape(-1)

    def _mean_variance(self, X: Tensor) -> tuple[Tensor, Tensor]:
        """Posterior mean and variance, each ``(n,)``; exact over members for ensembles."""
        post = self._posterior(X)
        if isinstance(post, EnsemblePosterior) and post.ensemble_size < 2:
            raise AcquisitionModelError(
                f"{type(self).__name__} needs a predictive variance, but the posterior has "
                f"{post.ensemble_size} ensemble member(s); use at least 2 members"
            )
        return post.mean.reshape(-1), post.variance.reshape(-1).clamp_min(0.0)

    def _member_values(self, X: Tensor) -> Tensor:
        """Member predictions ``n x s`` at ``X`` (``n x 2``) from an ``EnsemblePosterior``."""
        post = self._posterior(X)
        if not isinstance(post, EnsemblePosterior):
            raise AcquisitionModelError(
                f"{type(self).__name__} needs ensemble members, but "
                f"{type(self.model).__name__}.posterior returned {type(post).__name__} "
                "(no members)"
            )
        if post.ensemble_size < 2:
            raise AcquisitionModelError(
                f"{type(self).__name__} needs at least 2 ensemble members, got {post.ensemble_size}"
            )
        values = post.values  # (batch) x s x n x 1
        if values.ndim != 3:
            values = values.reshape(-1, *values.shape[-3:])
            if values.shape[0] != 1:
                raise ValueError(f"unexpected batched ensemble values {tuple(post.values.shape)}")
            values = values[0]
        return values[..., 0].transpose(0, 1)

    # ------------------------------------------------------------------ construction hook
    @classmethod
    def from_training_data(
        cls,
        model: Model | None,
        train_X: Tensor | None = None,
        train_Y: Tensor | None = None,
        single_effects: Tensor | Any | None = None,
        *,
        direction: Direction | str | None = None,
        seed: int | None = 0,
        **options: Any,
    ) -> PairAcquisitionFunction:
        """Build the acquisition from what a campaign round has (see module docstring).

        Args:
            model: The fitted surrogate (ignored by :class:`Uniform`).
            train_X: ``n x 2`` measured pairs (used by data-dependent acquisitions).
            train_Y: ``n x 1`` measured values.
            single_effects: ``(M,)`` single-gene effects.
            direction: Which phenotype is strong; passed if the constructor takes it. None
                = the model's direction (a model built from a screen), else MINIMIZE.
            seed: Randomness of stochastic acquisitions; passed if the constructor takes it.
            **options: The class's own hyper-parameters.
        """
        params = inspect.signature(cls.__init__).parameters
        kwargs = dict(options)
        if "direction" in params:
            kwargs.setdefault("direction", direction)
        if "seed" in params:
            kwargs.setdefault("seed", seed)
        unknown = [k for k in kwargs if k not in params]
        if unknown:
            raise TypeError(f"{cls.__name__} got unknown option(s): {', '.join(sorted(unknown))}")
        return cls(model, **kwargs)


class PointwiseAcquisition(PairAcquisitionFunction):
    """An acquisition whose batch value is the sum of per-pair scores.

    Subclasses implement :meth:`score`; :meth:`forward` delegates to it, so the class works
    with BoTorch's ``optimize_acqf_discrete`` (``q = 1``: argmax; ``q > 1``: its greedy loop
    returns the top-``q`` too, only slower). :func:`naiad_bo.acquisition.select_batch` calls
    :meth:`score` on chunks of candidates directly.
    """

    def score(self, X: Tensor) -> Tensor:
        """Per-pair scores (higher = acquire first).

        Args:
            X: ``n x 2`` gene-index pairs.

        Returns:
            ``(n,)`` scores.
        """
        raise NotImplementedError

    def forward(self, X: Tensor) -> Tensor:
        r"""Batch value :math:`\alpha(X) = \sum_{k=1}^{q} \mathrm{score}(x_k)`.

        Args:
            X: ``batch x q x 2`` gene-index pairs (``q = 1`` is BoTorch's t-batch
                convention for discrete optimisation).

        Returns:
            ``batch`` acquisition values.
        """
        if X.ndim < 2 or X.shape[-1] != 2:
            raise ValueError(f"expected X of shape batch x q x 2, got {tuple(X.shape)}")
        flat = X.reshape(-1, 2)
        values = self.score(flat)
        return values.reshape(X.shape[:-1]).sum(dim=-1)


class MemberwiseAcquisition(PairAcquisitionFunction):
    """An acquisition defined by per-member scores of an ensemble (e.g. Thompson sampling).

    :meth:`member_scores` gives ``n x s`` scores; :func:`naiad_bo.acquisition.select_batch`
    keeps an exact top list per member in one chunked pass and then lets
    :meth:`draw_members` decide which member fills each slot of the batch.
    """

    requires: ClassVar[frozenset[str]] = frozenset({"members"})

    def member_scores(self, X: Tensor) -> Tensor:
        """Per-member scores ``n x s`` at ``X`` (``n x 2``); higher = better."""
        raise NotImplementedError

    def draw_members(self, q: int, n_members: int) -> Tensor:
        """Member index for each of ``q`` slots, LongTensor ``(q,)``."""
        raise NotImplementedError
