"""Command-line names of the acquisition functions.

The CLI, the campaign simulator and benchmarks look classes up by name here and build them
through the uniform hook :meth:`~naiad_bo.acquisition.PairAcquisitionFunction.from_training_data`
(see :func:`build_acquisition`), never by switching on strings.
"""

from __future__ import annotations

from typing import Any

from botorch.models.model import Model
from torch import Tensor

from naiad_bo.acquisition.base import PairAcquisitionFunction
from naiad_bo.acquisition.effect import MaxPredictedEffect, OptimisticEffect
from naiad_bo.acquisition.recover_ucb import RecoverUCB
from naiad_bo.acquisition.stochastic import SoftBALD, Uniform
from naiad_bo.acquisition.thompson import ThompsonSampling
from naiad_bo.acquisition.uncertainty import BALD, EnsembleVariance, Margin
from naiad_bo.direction import Direction

__all__ = ["ACQUISITIONS", "UnknownAcquisitionError", "build_acquisition", "get_acquisition_class"]

#: CLI name -> acquisition class.
ACQUISITIONS: dict[str, type[PairAcquisitionFunction]] = {
    "mpe": MaxPredictedEffect,
    "ucb": RecoverUCB,
    "variance": EnsembleVariance,
    "uniform": Uniform,
    "bald": BALD,
    "softbald": SoftBALD,
    "margin": Margin,
    "thompson": ThompsonSampling,
    "optimistic": OptimisticEffect,
}


class UnknownAcquisitionError(KeyError, ValueError):
    """Raised for an acquisition name that is not in :data:`ACQUISITIONS`."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


def get_acquisition_class(name: str) -> type[PairAcquisitionFunction]:
    """The acquisition class registered under ``name`` (case-insensitive, ``-``/``_`` ignored)."""
    key = str(name).strip().lower().replace("-", "").replace("_", "")
    if key not in ACQUISITIONS:
        raise UnknownAcquisitionError(
            f"unknown acquisition {name!r}; choose one of: {', '.join(sorted(ACQUISITIONS))}"
        )
    return ACQUISITIONS[key]


def build_acquisition(
    name: str,
    model: Model | None,
    train_X: Tensor | None = None,
    train_Y: Tensor | None = None,
    single_effects: Any = None,
    *,
    direction: Direction | str | None = None,
    seed: int | None = 0,
    **options: Any,
) -> PairAcquisitionFunction:
    """Build the acquisition registered under ``name`` from a campaign round's data.

    Equivalent to ``get_acquisition_class(name).from_training_data(model, train_X, train_Y,
    single_effects, direction=direction, seed=seed, **options)``.
    """
    cls = get_acquisition_class(name)
    return cls.from_training_data(
        model, train_X, train_Y, single_effects, direction=direction, seed=seed, **options
    )
