"""Surrogate models over unordered gene pairs (BoTorch ``Model`` subclasses)."""
# ruff: noqa: F401  (a plain list of re-exports; append one import line per model)

from naiad_bo.models.descriptor_gp import DescriptorGP
from naiad_bo.models.embedding_mlp import EmbeddingMLPEnsemble
from naiad_bo.models.embedding_schedule import HORLBECK, NORMAN_SIMPSON, EmbeddingSchedule
from naiad_bo.models.linear import AdditiveLinearModel
from naiad_bo.models.naiad import NaiadEnsemble
from naiad_bo.models.naiad_net import NaiadNet
from naiad_bo.models.pair_ensemble import NotFittedError, PairEnsembleModel
from naiad_bo.models.recover import RecoverEnsemble
from naiad_bo.models.sampler import EnsembleMemberSampler, MemberEnsemblePosterior
from naiad_bo.models.single_sum import SingleEffectSumModel
