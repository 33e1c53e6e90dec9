r"""Gene kernels: a learnable mixture of fixed descriptor Gram matrices, single effects, identity.

.. math::

    G = \sum_j w_j K_j + w_y \exp\!\Big(-\frac{(y_a - y_c)^2}{2 \ell^2}\Big) + w_0 I,
    \qquad w = \operatorname{softmax}(\theta),

with ``K_j`` the ``M x M`` unit-diagonal descriptor Grams (e.g.
:meth:`naiad_bo.descriptors.AlignedDescriptor.gram`), ``y`` the (standardised) single-gene
effects and the identity term the per-gene fallback. Every term has unit diagonal and the
weights sum to one, so ``G`` is a correlation matrix; scales live in the pair kernel.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from gpytorch.constraints import Positive
from gpytorch.module import Module
from torch import Tensor

__all__ = ["GeneGram"]


class GeneGram(Module):
    """Learnable ``M x M`` gene correlation matrix (formula in the module docstring).

    Args:
        grams: fixed ``M x M`` descriptor Gram matrices (unit diagonal, PSD); may be empty.
        single_effects: ``(M,)`` single-gene effects for the effect term, or None to omit it.
        identity: include the identity term (needed whenever a descriptor misses genes).
    """

    def __init__(
        self,
        grams: Sequence[Tensor],
        single_effects: Tensor | None = None,
        *,
        identity: bool = True,
    ) -> None:
        super().__init__()
        grams = [torch.as_tensor(g, dtype=torch.float64) for g in grams]
        n_terms = len(grams) + (single_effects is not None) + bool(identity)
        if n_terms == 0:
            raise ValueError("GeneGram needs at least one term (descriptor, effects or identity)")
        m = None
        for g in grams:
            if g.dim() != 2 or g.shape[0] != g.shape[1]:
                raise ValueError(f"descriptor Gram must be square, got {tuple(g.shape)}")
            m = m or g.shape[0]
            if g.shape[0] != m:
                raise ValueError("descriptor Gram matrices differ in size")
        if single_effects is not None:
            y = torch.as_tensor(single_effects, dtype=torch.float64).reshape(-1)
            if m is not None and y.shape[0] != m:
                raise ValueError(f"{y.shape[0]} single effects for {m} genes")
            m = y.shape[0]
            y = (y - y.mean()) / y.std().clamp_min(1e-12)
            self.register_buffer("effects", y)
            self.register_parameter(
                "raw_lengthscale", torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
            )
            self.register_constraint("raw_lengthscale", Positive())
        else:
            self.register_buffer("effects", None)
        if m is None:
            raise ValueError("GeneGram with only an identity term needs n_genes; pass grams")
        self.n_genes = int(m)
        self.register_buffer(
            "grams", torch.stack(grams) if grams else torch.zeros(0, m, m, dtype=torch.float64)
        )
        self.identity = bool(identity)
        self.raw_weights = torch.nn.Parameter(torch.zeros(n_terms, dtype=torch.float64))

    @property
    def weights(self) -> Tensor:
        """Mixture weights ``(n_terms,)`` (descriptors, then effects, then identity)."""
        return torch.softmax(self.raw_weights, dim=0)

    @property
    def lengthscale(self) -> Tensor | None:
        """Length scale of the single-effect term (in standard deviations of ``y``)."""
        if self.effects is None:
            return None
        return self.raw_lengthscale_constraint.transform(self.raw_lengthscale)

    def forward(self) -> Tensor:
        """The ``M x M`` gene Gram matrix."""
        w = self.weights
        k = self.grams.shape[0]
        G = torch.einsum("j,jab->ab", w[:k], self.grams) if k else None
        i = k
        if self.effects is not None:
            d = self.effects[:, None] - self.effects[None, :]
            term = w[i] * torch.exp(-0.5 * (d / self.lengthscale) ** 2)
            G = term if G is None else G + term
            i += 1
        if self.identity:
            eye = w[i] * torch.eye(self.n_genes, dtype=w.dtype)
            G = eye if G is None else G + eye
        return G
