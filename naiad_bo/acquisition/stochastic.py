"""Stochastic acquisitions: uniform sampling and soft-BALD, reproducible per pair.

Random numbers come from a counter-based hash of ``(seed, gene_a, gene_b)`` (SplitMix64),
not from a stream: a pair gets the same number whatever the chunking, the candidate order or
the excluded set, so a selection is reproducible from the seed alone. Sampling ``q`` items
without replacement then is an exact top-``q`` (Gumbel-top-k), which
:func:`~naiad_bo.acquisition.select_batch` does in its ordinary chunked pass.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from botorch.models.model import Model
from torch import Tensor

from naiad_bo.acquisition.base import PointwiseAcquisition, as_index_pairs

__all__ = ["SoftBALD", "Uniform", "pair_uniform"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_MASK64 = (1 << 64) - 1


def _splitmix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on a uint64 array (wrapping arithmetic)."""
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def pair_uniform(X: Tensor, seed: int) -> Tensor:
    """Uniform(0, 1) numbers keyed by the unordered pair and the seed.

    Args:
        X: ``n x 2`` gene-index pairs; ``(a, b)`` and ``(b, a)`` give the same number.
        seed: Any Python int.

    Returns:
        ``(n,)`` float64 values in the open interval (0, 1).
    """
    X = as_index_pairs(X).reshape(-1, 2)
    lo = torch.minimum(X[:, 0], X[:, 1]).cpu().numpy().astype(np.uint64)
    hi = torch.maximum(X[:, 0], X[:, 1]).cpu().numpy().astype(np.uint64)
    key = (lo << np.uint64(32)) | hi
    s = _splitmix64(np.array([int(seed) & _MASK64], dtype=np.uint64))[0]
    with np.errstate(over="ignore"):
        z = _splitmix64(_splitmix64(key ^ s) + s)
    u = ((z >> np.uint64(11)).astype(np.float64) + 0.5) / float(1 << 53)
    return torch.from_numpy(u).to(X.device)


class Uniform(PointwiseAcquisition):
    """Uniform random acquisition (NAIAD's "uniform", GeneDisco's "random").

    The score of a pair is an i.i.d. Uniform(0, 1) number keyed by ``(seed, pair)``, so the
    top-``q`` over the available pairs is a uniform sample without replacement. Needs no model.

    Args:
        model: Ignored (may be ``None``); kept for the uniform constructor signature.
        seed: Seed of the per-pair random numbers.
    """

    def __init__(self, model: Model | None = None, seed: int = 0) -> None:
        super().__init__(model)
        self.seed = int(seed)

    def score(self, X: Tensor) -> Tensor:
        """Per-pair Uniform(0, 1) numbers; ``X``: ``n x 2`` -> ``(n,)``."""
        return pair_uniform(X, self.seed)


class SoftBALD(PointwiseAcquisition):
    r"""Soft-BALD (GeneDisco "softuncertain"): sample pairs by a tempered softmax of uncertainty.

    A batch is drawn without replacement with probabilities proportional to
    :math:`\exp(e(x) / T)`, the energy being the log predictive variance
    :math:`e(x) = \log(\epsilon + \mathrm{Var}(y \mid x))`, so
    :math:`p(x) \propto (\epsilon + \mathrm{Var})^{1/T}`. This is the energy of GeneDisco's
    released code (``log(1e-7 + std**2)``, ``T = 0.9``); the paper's printed form uses the BALD
    score :math:`\tfrac12 \log(1 + \mathrm{Var})`, which on phenotype scales with variances
    ~1e-4 makes every probability equal (uniform sampling). The draw is exact: score =
    energy / T + Gumbel noise, top-``q`` (Gumbel-top-k trick). ``T -> 0`` approaches BALD,
    ``T -> inf`` uniform.

    Args:
        model: A surrogate with a predictive variance.
        temperature: ``T > 0``.
        seed: Seed of the per-pair Gumbel noise.
        eps: Variance floor inside the log.
    """

    requires: ClassVar[frozenset[str]] = frozenset({"variance"})

    def __init__(
        self, model: Model, temperature: float = 0.9, seed: int = 0, eps: float = 1e-7
    ) -> None:
        super().__init__(model)
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if not eps > 0:
            raise ValueError(f"eps must be > 0, got {eps}")
        self.temperature = float(temperature)
        self.seed = int(seed)
        self.eps = float(eps)

    def energy(self, X: Tensor) -> Tensor:
        """Log-variance energy ``(n,)`` at ``X`` (``n x 2``)."""
        var = self._mean_variance(X)[1].to(torch.float64)
        return (var + self.eps).log()

    def score(self, X: Tensor) -> Tensor:
        """Energy / T + Gumbel(0, 1) noise; ``X``: ``n x 2`` -> ``(n,)``."""
        as_index_pairs(X)
        u = pair_uniform(X, self.seed)
        gumbel = -(-u.log()).log()
        return self.energy(X) / self.temperature + gumbel.to(X.device)
