"""GPyTorch kernels over unordered gene pairs built from gene Gram matrices."""

from naiad_bo.kernels.gene import GeneGram
from naiad_bo.kernels.mean import SingleEffectMean
from naiad_bo.kernels.pair import (
    SymmetricPairKernel,
    gram_gather,
    pair_kernel_matvec,
    pair_prior_variance_table,
    pair_quadratic_table,
)

__all__ = [
    "GeneGram",
    "SingleEffectMean",
    "SymmetricPairKernel",
    "gram_gather",
    "pair_kernel_matvec",
    "pair_prior_variance_table",
    "pair_quadratic_table",
]
