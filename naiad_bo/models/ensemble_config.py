"""Typed, frozen training configuration of the pair deep ensembles.

:class:`EnsembleConfig` holds what every :class:`~naiad_bo.models.PairEnsembleModel` needs
(members, epochs, optimiser, scoring); each model extends it with its architecture
(:class:`~naiad_bo.models.naiad.NaiadConfig`, ...). ``None`` means "the paper's rule for this
screen" where a field has one (e.g. ``epochs``); it is resolved at fit time and the resolved
value is reported on the model (``model.epochs_``).

Models are built as ``Cls(single_effects, seed=0, **options)`` (what the CLI and the
benchmarks do); the keyword options become the config through
:meth:`EnsembleConfig.from_options`, which also accepts the CLI's spellings (``"auto"`` for
None, dtype names such as ``"float32"``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar

import numpy as np
import torch

from naiad_bo.models.validation import check_float, check_int

__all__ = ["DTYPES", "EnsembleConfig"]

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}
"""Compute dtypes a network may train and score in."""

C = TypeVar("C", bound="EnsembleConfig")


@dataclass(frozen=True)
class EnsembleConfig:
    """Training and scoring settings shared by every pair deep ensemble.

    Attributes:
        ensemble_size: Members ``s``.
        epochs: Passes over the training data; None = the paper's recipe (500 for screens
            with at most ``small_screen_max_genes`` = 200 genes, else 200).
        lr: Adam learning rate (peak of the schedule).
        batch_size: Pairs per mini-batch (all members see the same); None = full batch.
        warmup_fraction: Linear warm-up over this fraction of the steps, then linear decay
            (:func:`~naiad_bo.models.training.linear_warmup_decay`).
        weight_decay: Adam weight decay.
        grad_clip: Max gradient norm per member, None = off (clipping at 1.0 made NAIAD ~5%
            worse at small N, ``benchmarks/naiad_stability.py``).
        dtype: Compute dtype of the network (float32 or float64). Outputs come back in the
            input's float dtype; outcome-transform buffers stay float64.
        chunk_size: Pairs per scoring chunk (bounds memory when scoring millions of pairs).
    """

    ensemble_size: int = 5
    epochs: int | None = None
    lr: float = 1e-2
    batch_size: int | None = 1024
    warmup_fraction: float = 0.1
    weight_decay: float = 0.0
    grad_clip: float | None = None
    dtype: torch.dtype = torch.float32
    chunk_size: int = 8192

    def __post_init__(self) -> None:
        check_int("ensemble_size", self.ensemble_size, minimum=1)
        if self.epochs is not None:
            check_int("epochs", self.epochs, minimum=1)
        check_float("lr", self.lr, positive=True)
        if self.batch_size is not None:
            check_int("batch_size", self.batch_size, minimum=1)
        check_float("warmup_fraction", self.warmup_fraction)
        if not 0.0 <= self.warmup_fraction < 1.0:
            raise ValueError(f"warmup_fraction must be in [0, 1), got {self.warmup_fraction}")
        check_float("weight_decay", self.weight_decay)
        if self.grad_clip is not None:
            check_float("grad_clip", self.grad_clip, positive=True)
        if self.dtype not in DTYPES.values():
            raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {self.dtype!r}")
        check_int("chunk_size", self.chunk_size, minimum=1)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_options(cls: type[C], **options: Any) -> C:
        """Build from keyword options (``Cls(single_effects, **options)``, CLI values).

        ``"auto"`` means None (the field's data-dependent default), ``dtype`` may be a name
        (``"float32"``), numpy scalars become Python numbers.

        Raises:
            TypeError: an unknown option (the known ones are listed).
        """
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - names)
        if unknown:
            raise TypeError(
                f"unknown hyper-parameter(s) {unknown} for {cls.__name__}; known: "
                f"{', '.join(sorted(names))}"
            )
        values = {k: cls._coerce(k, _plain(v)) for k, v in options.items()}
        return cls(**values)

    @classmethod
    def _coerce(cls, name: str, value: Any) -> Any:
        """Option spelling -> field value (subclasses extend for their own fields)."""
        if isinstance(value, str) and value == "auto":
            return None
        if name == "dtype":
            if isinstance(value, torch.dtype):
                return value
            key = str(value).removeprefix("torch.")
            if key not in DTYPES:
                raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {value!r}")
            return DTYPES[key]
        return value

    def replace(self: C, **changes: Any) -> C:
        """A copy with ``changes`` (option spellings accepted, validated again)."""
        return dataclasses.replace(
            self, **{k: self._coerce(k, _plain(v)) for k, v in changes.items()}
        )

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """Plain values only (str / numbers / None), safe for ``torch.load(weights_only)``."""
        out = {}
        for f in fields(self):
            v = getattr(self, f.name)
            out[f.name] = self._plain_field(f.name, v)
        return out

    def _plain_field(self, name: str, value: Any) -> Any:
        if isinstance(value, torch.dtype):
            return str(value).removeprefix("torch.")
        return value

    @classmethod
    def from_dict(cls: type[C], values: Mapping[str, Any]) -> C:
        """Inverse of :meth:`to_dict`."""
        return cls.from_options(**dict(values))


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars."""
    return value.item() if isinstance(value, np.generic) else value
