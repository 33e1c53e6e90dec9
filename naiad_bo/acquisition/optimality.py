r"""Batch probability of optimality (qPO, Fromer et al. 2024, arXiv 2410.06333).

qPO scores each candidate by the probability that it is the strongest of the whole candidate
set :math:`C` under the posterior,

.. math:: \pi(x) = P\Bigl(\mathrm{strength}(f(x)) = \max_{x' \in C} \mathrm{strength}(f(x'))\Bigr),

and takes the batch with the largest total probability :math:`\sum_{x \in B} \pi(x)` (the
probability that the batch contains the optimum): additive over candidates, so the exact
top-``q`` selection of :func:`~naiad_bo.acquisition.select_batch` applies. Two ways to compute
:math:`\pi`:

* ``members=False`` (default, any model): independent Gaussian marginals of strength
  :math:`s_j \sim \mathcal N(m_j, \sigma_j^2)` (a GP's or the moment-matched ensemble's),

  .. math:: \pi(x) = \int \phi_x(t) \prod_{j \ne x} \Phi_j(t)\, dt
            = \int \phi_x(t)\, \frac{G(t)}{\Phi_x(t)}\, dt, \qquad
            G(t) = \prod_{j \in C} \Phi\Bigl(\frac{t - m_j}{\sigma_j}\Bigr),

  with :math:`\log G` accumulated over the candidate set once (one chunked pass at
  construction) on a grid of ``grid_size`` points and the integral taken by the trapezoid
  rule. Fromer et al. estimate :math:`\pi` by Monte Carlo from joint posterior samples; the
  independent-marginal integral is exact for the marginals (cross-pair correlations are
  ignored, which an ensemble's moment-matched Gaussian does not have anyway);
* ``members=True`` (ensembles): exactly over members,
  :math:`\pi(x) = \sum_k w_k 1\{x = \arg\max_{x'} \mathrm{strength}(f_k(x'))\}`; with ``s``
  members at most ``s`` pairs get a non-zero score (the rest tie at 0 and are taken in index
  order), so it suits large ensembles only.

The candidate set is all unordered pairs of the model's genes (same-gene pairs included)
except the measured ones, unless ``candidates`` is given.
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch
from botorch.models.model import Model
from torch import Tensor

from naiad_bo.acquisition.base import PointwiseAcquisition, as_index_pairs
from naiad_bo.direction import Direction, resolve_direction

__all__ = ["BatchProbabilityOfOptimality"]

_SQRT2 = 2.0**0.5
_LOG_SQRT_2PI = 0.5 * torch.log(torch.tensor(2.0 * torch.pi)).item()


def _log_ndtr(z: Tensor) -> Tensor:
    return torch.special.log_ndtr(z)


class BatchProbabilityOfOptimality(PointwiseAcquisition):
    r"""qPO: probability that a pair is the strongest of the candidate set (module formula).

    Args:
        model: A fitted surrogate with a predictive variance (``members=True``: an ensemble).
        candidates: ``n x 2`` candidate pairs the optimum is taken over.
        direction: Which phenotype is strong (None = the model's, else MINIMIZE); ``ABS`` is
            not supported (the strength of a Gaussian is then not Gaussian).
        members: Exact over ensemble members instead of independent Gaussian marginals.
        grid_size: Quadrature points of the Gaussian integral.
        chunk_size: Candidates per posterior call in the pass over ``candidates``.
    """

    requires: ClassVar[frozenset[str]] = frozenset({"mean", "variance"})

    def __init__(
        self,
        model: Model,
        candidates: Tensor,
        direction: Direction | str | None = None,
        members: bool = False,
        grid_size: int = 512,
        chunk_size: int = 16_384,
    ) -> None:
        if members:
            self.requires = frozenset({"members"})
        super().__init__(model)
        self.direction = resolve_direction(direction, model)
        if self.direction is Direction.ABS:
            raise ValueError(
                "BatchProbabilityOfOptimality supports MINIMIZE / MAXIMIZE, not ABS"
            )
        if int(grid_size) < 16:
            raise ValueError(f"grid_size must be >= 16, got {grid_size}")
        C = as_index_pairs(candidates)
        if C.ndim != 2 or C.shape[0] < 1:
            raise ValueError(f"candidates must be a non-empty n x 2 tensor, got {tuple(C.shape)}")
        self.members = bool(members)
        self.grid_size = int(grid_size)
        with torch.no_grad():
            if self.members:
                self._init_members(C, int(chunk_size))
            else:
                self._init_gaussian(C, int(chunk_size))

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_training_data(
        cls,
        model: Model | None,
        train_X: Tensor | None = None,
        train_Y: Tensor | None = None,
        single_effects: Any = None,
        *,
        direction: Direction | str | None = None,
        seed: int | None = 0,
        candidates: Tensor | None = None,
        members: bool = False,
        grid_size: int = 512,
    ) -> BatchProbabilityOfOptimality:
        """Candidates = all pairs of the model's genes minus ``train_X`` unless given."""
        if candidates is None:
            n_genes = getattr(model, "n_genes", None)
            if n_genes is None and single_effects is not None:
                n_genes = len(single_effects)
            if n_genes is None:
                raise ValueError(
                    "BatchProbabilityOfOptimality needs candidates= or a model / single "
                    "effects that give the number of genes"
                )
            candidates = _all_pairs_except(int(n_genes), train_X)
        return cls(model, candidates, direction=direction, members=members, grid_size=grid_size)

    def _strength_moments(self, X: Tensor) -> tuple[Tensor, Tensor]:
        mean, var = self._mean_variance(X.double())
        m = self.direction.strength(mean.double())
        return m, var.double().sqrt().clamp_min(1e-12)

    def _init_gaussian(self, C: Tensor, chunk: int) -> None:
        lo, hi = float("inf"), -float("inf")
        moments = []
        for start in range(0, C.shape[0], chunk):
            m, s = self._strength_moments(C[start : start + chunk])
            moments.append((m, s))
            lo = min(lo, float((m - 8 * s).max()))  # the max is above every pair's lower tail
            hi = max(hi, float((m + 8 * s).max()))
        lo = min(lo, hi - 1e-9)
        grid = torch.linspace(lo, hi, self.grid_size, dtype=torch.float64)
        log_g = torch.zeros_like(grid)
        for m, s in moments:
            log_g += _log_ndtr((grid[None, :] - m[:, None]) / s[:, None]).sum(dim=0)
        self.grid = grid
        self.log_G = log_g

    def _init_members(self, C: Tensor, chunk: int) -> None:
        best_val, best_idx = None, None
        for start in range(0, C.shape[0], chunk):
            vals = self.direction.strength(self._member_values(C[start : start + chunk]))
            v, i = vals.max(dim=0)  # (s,)
            i = i + start
            if best_val is None:
                best_val, best_idx = v, i
            else:
                better = v > best_val
                best_val = torch.where(better, v, best_val)
                best_idx = torch.where(better, i, best_idx)
        s = best_idx.numel()
        w = getattr(self.model, "ensemble_weights", None)
        w = torch.full((s,), 1.0 / s, dtype=torch.float64) if w is None else (
            torch.as_tensor(w, dtype=torch.float64) / torch.as_tensor(w).sum()
        )
        self._winners = {}
        for k in range(s):
            key = tuple(C[int(best_idx[k])].tolist())
            key = (min(key), max(key))
            self._winners[key] = self._winners.get(key, 0.0) + float(w[k])

    # ------------------------------------------------------------------ scoring
    def score(self, X: Tensor) -> Tensor:
        """Probability of being the strongest candidate; ``X``: ``n x 2`` -> ``(n,)``."""
        pairs = as_index_pairs(X)
        if self.members:
            out = torch.zeros(pairs.shape[0], dtype=torch.float64)
            for i, (a, b) in enumerate(pairs.tolist()):
                out[i] = self._winners.get((min(a, b), max(a, b)), 0.0)
            return out
        m, s = self._strength_moments(pairs)
        z = (self.grid[None, :] - m[:, None]) / s[:, None]
        log_pdf = -0.5 * z**2 - _LOG_SQRT_2PI - torch.log(s)[:, None]
        integrand = torch.exp(log_pdf + self.log_G[None, :] - _log_ndtr(z))
        return torch.trapezoid(integrand, self.grid, dim=-1).clamp(0.0, 1.0)


def _all_pairs_except(n_genes: int, measured: Tensor | None) -> Tensor:
    """All unordered pairs ``a <= b`` of ``n_genes`` genes minus ``measured`` (``n x 2``)."""
    a, b = torch.triu_indices(n_genes, n_genes)
    keep = torch.ones(a.numel(), dtype=torch.bool)
    if measured is not None and len(measured):
        mp = as_index_pairs(torch.as_tensor(measured)).reshape(-1, 2)
        lo, hi = mp.min(dim=1).values, mp.max(dim=1).values
        # flat index of (lo, hi) in the row-major upper triangle
        flat = lo * n_genes - lo * (lo - 1) // 2 + (hi - lo)
        keep[flat] = False
    return torch.stack([a[keep], b[keep]], dim=1)
