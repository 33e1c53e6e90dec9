r"""GP prior mean on single-gene effects: the symmetric linear baseline.

.. math::

    m(a, b) = \beta_0 + \beta_1 \min(y_a, y_b) + \beta_2 \max(y_a, y_b),

the :class:`~naiad_bo.models.AdditiveLinearModel` form, so a GP with this mean starts where
the additive model is and its kernel models the residual.
"""

from __future__ import annotations

import torch
from gpytorch.means import Mean
from torch import Tensor

__all__ = ["SingleEffectMean"]


class SingleEffectMean(Mean):
    """``b0 + b1 min(y_a, y_b) + b2 max(y_a, y_b)`` on ``... x n x 2`` gene-index inputs.

    Args:
        single_effects: ``(M,)`` single-gene effects.
        coef: initial ``(b0, b1, b2)`` (e.g. the least-squares fit); zeros if None.
    """

    def __init__(self, single_effects: Tensor, coef: Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("single_effects", torch.as_tensor(single_effects, dtype=torch.float64))
        init = torch.zeros(3, dtype=torch.float64) if coef is None else torch.as_tensor(coef)
        self.coef = torch.nn.Parameter(init.to(torch.float64).clone())

    def features(self, x: Tensor) -> Tensor:
        """``[1, min, max]`` features, ``... x n x 3``."""
        idx = x.round().long()
        ya, yb = self.single_effects[idx[..., 0]], self.single_effects[idx[..., 1]]
        return torch.stack([torch.ones_like(ya), torch.minimum(ya, yb), torch.maximum(ya, yb)], -1)

    def forward(self, x: Tensor) -> Tensor:
        """Mean ``... x n``."""
        return self.features(x) @ self.coef
