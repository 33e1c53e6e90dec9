"""Command-line names of the surrogate models.

Every class here follows the surrogate contract ``Cls(single_effects, *, seed=0, **options)``
(options: the fields of the class's typed config, e.g. ``epochs=200``),
``.fit(train_X, train_Y) -> self``, ``.posterior(X)``; the CLI and benchmarks look classes up
by name instead of switching on strings.
"""

from __future__ import annotations

from naiad_bo.models.descriptor_gp import DescriptorGP
from naiad_bo.models.descriptor_naiad import DescriptorNaiadEnsemble
from naiad_bo.models.embedding_mlp import EmbeddingMLPEnsemble
from naiad_bo.models.linear import AdditiveLinearModel
from naiad_bo.models.naiad import FastNaiadEnsemble, NaiadEnsemble
from naiad_bo.models.recover import RecoverEnsemble
from naiad_bo.models.reference_naiad import ReferenceNaiadEnsemble
from naiad_bo.models.single_sum import SingleEffectSumModel

#: CLI name -> surrogate class.
MODELS: dict[str, type] = {
    "naiad": NaiadEnsemble,
    "naiad-fast": FastNaiadEnsemble,
    "naiad-reference": ReferenceNaiadEnsemble,
    "linear": AdditiveLinearModel,
    "sum": SingleEffectSumModel,
    "mlp": EmbeddingMLPEnsemble,
    "recover": RecoverEnsemble,
    "gp": DescriptorGP,
    "naiad-desc": DescriptorNaiadEnsemble,
}


class UnknownModelError(KeyError, ValueError):
    """Raised for a model name that is not in :data:`MODELS`."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def get_model_class(name: str) -> type:
    """The surrogate class registered under ``name`` (case-insensitive)."""
    key = str(name).strip().lower()
    if key not in MODELS:
        raise UnknownModelError(
            f"unknown model {name!r}; choose one of: {', '.join(sorted(MODELS))}"
        )
    return MODELS[key]
