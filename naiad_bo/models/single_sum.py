r"""The no-model baseline: rank pairs by the sum of their single-gene effects.

``y_ab = y_a + y_b`` needs no training data at all. It is the simplest expectation of a
double perturbation in log-fold-change (gamma) units and the bar every surrogate has to clear
(anchors.md: ranking Norman by it recovers ~37% of the true top-100).
"""

from __future__ import annotations

import numpy as np
import torch
from botorch.models.deterministic import DeterministicModel
from torch import Tensor

from naiad_bo.models.validation import as_gene_pairs, as_single_effects, as_targets


class SingleEffectSumModel(DeterministicModel):
    r"""Deterministic ``y_a + y_b`` (the "rank by y_a + y_b" baseline).

    ``fit`` only validates its inputs: the model has no parameters. The posterior is an
    ``EnsemblePosterior`` with a single member (zero variance).
    """

    _num_outputs = 1

    def __init__(self, single_effects: Tensor | np.ndarray, *, seed: int = 0) -> None:
        """Store the single effects.

        Args:
            single_effects: ``(M,)`` single-gene effect of every gene (index = gene id).
            seed: accepted for the common surrogate interface; unused (deterministic).
        """
        super().__init__()
        self.register_buffer("single_effects", as_single_effects(single_effects))
        self.seed = int(seed)
        self.n_train_: int | None = None

    @property
    def n_genes(self) -> int:
        """Number of genes M."""
        return int(self.single_effects.shape[0])

    @property
    def batch_shape(self) -> torch.Size:
        """Not a batched model."""
        return torch.Size([])

    def fit(self, train_X: Tensor, train_Y: Tensor) -> SingleEffectSumModel:
        """Validate the training data and return self (nothing to learn)."""
        if not isinstance(train_X, Tensor) or train_X.dim() != 2:
            raise ValueError(
                f"train_X must be an n x 2 tensor, got {getattr(train_X, 'shape', type(train_X))}"
            )
        as_gene_pairs(train_X, self.n_genes, name="train_X")
        as_targets(train_Y, int(train_X.shape[0]))
        self.n_train_ = int(train_X.shape[0])
        return self

    def forward(self, X: Tensor) -> Tensor:
        r"""``y_a + y_b``.

        Args:
            X: ``batch_shape x q x 2`` gene index pairs (long, or float holding integers).

        Returns:
            ``batch_shape x q x 1`` tensor (dtype of the stored single effects).
        """
        pairs = as_gene_pairs(X, self.n_genes)
        return self.single_effects[pairs].sum(-1, keepdim=True)
