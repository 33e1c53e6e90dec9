"""Surrogate models over unordered gene pairs (BoTorch ``Model`` subclasses)."""
# ruff: noqa: F401  (a plain list of re-exports; append one import line per model)

from naiad_bo.models.descriptor_gp import DescriptorGP
from naiad_bo.models.descriptor_naiad import DescriptorNaiadConfig, DescriptorNaiadEnsemble
from naiad_bo.models.embedding_mlp import EmbeddingMLPConfig, EmbeddingMLPEnsemble
from naiad_bo.models.embedding_schedule import (
    HORLBECK,
    NORMAN_SIMPSON,
    EmbeddingSchedule,
    LookupRule,
)
from naiad_bo.models.ensemble_config import CrossValidatedVarianceScale, EnsembleConfig
from naiad_bo.models.ensemble_posterior import MemberEnsemblePosterior
from naiad_bo.models.linear import AdditiveLinearModel
from naiad_bo.models.naiad import FastNaiadEnsemble, NaiadConfig, NaiadEnsemble
from naiad_bo.models.naiad_net import NaiadNet
from naiad_bo.models.noise import replicate_noise_variance
from naiad_bo.models.pair_ensemble import PairEnsembleModel, PairTrainingData
from naiad_bo.models.recover import BlissOffset, RecoverConfig, RecoverEnsemble
from naiad_bo.models.reference_naiad import ReferenceNaiadConfig, ReferenceNaiadEnsemble
from naiad_bo.models.sampler import EnsembleMemberSampler
from naiad_bo.models.single_sum import SingleEffectSumModel
from naiad_bo.models.validation import NotFittedError, as_gene_pairs
