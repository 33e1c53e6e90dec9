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

__all__ = ["DTYPES", "CrossValidatedVarianceScale", "EnsembleConfig"]

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}
"""Compute dtypes a network may train and score in."""

C = TypeVar("C", bound="EnsembleConfig")


@dataclass(frozen=True)
class CrossValidatedVarianceScale:
    r"""Fit the ensemble's predictive variance on held-out pairs within the training data.

    The training pairs are split into ``folds`` random folds; for each, an ensemble with the
    same config (and a derived seed) is trained on the other folds and predicts the held-out
    one, giving residuals :math:`r_i = y_i - \mu_{-k(i)}(x_i)`, member variances
    :math:`v_i` and means :math:`\mu_i`. The predictive variance of a new measurement is
    then modelled as

    .. math:: \mathrm{Var}[y \mid x] = a\, v(x) + \sigma^2(x), \qquad
              \sigma^2(x) = \sigma^2 \exp\bigl(c\, (\mu(x) - \bar y) / s_y\bigr)

    (:math:`\bar y, s_y` the training targets' mean and std; ``c = 0`` unless
    ``mean_dependent_noise``), with :math:`(a, \sigma^2, c)` maximising the held-out Gaussian
    likelihood :math:`\prod_i \mathcal N(r_i; 0, a v_i + \sigma^2(\mu_i))`
    (:func:`~naiad_bo.models.variance_calibration.fit_variance_scale`; with given
    ``train_Yvar``, :math:`\sigma^2` is fixed at their mean). Pair phenotypes are noisier
    where they are strong (errors grow with the predicted effect), which a constant noise
    level and the members' spread both miss. The fitted model's members are spread around
    their mean by :math:`\sqrt a` (the mean, and so MPE, is unchanged);
    ``noise_variance_`` is :math:`\sigma^2` and ``noise_slope_`` is :math:`c`. Costs
    ``folds`` extra fits on ``(folds - 1) / folds`` of the data; with ``held_out_folds = h``
    only the first ``h`` folds are held out (``h`` extra fits; ``h = 1`` is a single
    hold-out split of ``1 / folds`` of the pairs, about a third of the cost of 3 folds),
    and the likelihood uses their pairs only.

    Attributes:
        folds: Number of cross-validation folds (``>= 2``).
        mean_dependent_noise: Fit the slope ``c`` of the log noise variance in the predicted
            mean (else ``c = 0``, a constant noise level).
        held_out_folds: How many of the folds are held out and refitted (None = all,
            ``1 .. folds``).
        skip_below: Policy for small training sets: with fewer training pairs than this the
            model is fitted without the calibration (the members' spread as it comes; the
            fitted model says so in ``variance_calibrated_ = False``) instead of raising.
            0 (default) never skips: too few pairs for the folds raise ``ValueError``.
    """

    folds: int = 3
    mean_dependent_noise: bool = True
    held_out_folds: int | None = None
    skip_below: int = 0

    def __post_init__(self) -> None:
        check_int("folds", self.folds, minimum=2)
        if self.held_out_folds is not None:
            check_int("held_out_folds", self.held_out_folds, minimum=1)
            if self.held_out_folds > self.folds:
                raise ValueError(
                    f"held_out_folds must be <= folds ({self.folds}), got {self.held_out_folds}"
                )
        check_int("skip_below", self.skip_below, minimum=0)
        if not isinstance(self.mean_dependent_noise, bool):
            raise TypeError(
                f"mean_dependent_noise must be a bool, got {self.mean_dependent_noise!r}"
            )


@dataclass(frozen=True)
class EnsembleConfig:
    """Training and scoring settings shared by every pair deep ensemble.

    Attributes:
        ensemble_size: Members ``s``.
        epochs: Passes over the training data; None = the model class's recipe
            (``epochs_small_screen`` for screens with at most ``small_screen_max_genes`` =
            200 genes, else ``epochs_large_screen``; the paper's 500 / 200, except
            :class:`~naiad_bo.models.FastNaiadEnsemble` on larger screens: 60).
        lr: Adam learning rate (peak of the schedule); None = the model class's recipe
            (``lr_small_screen`` / ``lr_large_screen``: the paper's 1e-2, except
            :class:`~naiad_bo.models.FastNaiadEnsemble` on screens with more than 200 genes,
            3e-2). The resolved rate is ``model.lr_``.
        batch_size: Pairs per mini-batch (all members see the same); None = full batch.
        warmup_fraction: Linear warm-up over this fraction of the steps, then linear decay
            (:func:`~naiad_bo.models.training.linear_warmup_decay`).
        weight_decay: Adam weight decay.
        grad_clip: Max gradient norm per member, None = off (clipping at 1.0 made NAIAD ~5%
            worse at small N, ``benchmarks/naiad_stability.py``).
        dtype: Compute dtype of the network (float32 or float64). Outputs come back in the
            input's float dtype; outcome-transform buffers stay float64.
        chunk_size: Pairs per scoring chunk (bounds memory when scoring millions of pairs).
        bootstrap: Train each member on its own bootstrap resample of the training pairs
            (per-member Poisson(1) weights on each pair's squared error, drawn from the
            model's seed) instead of on the same data (bagging).
        variance_calibration: None (the members' spread as it comes), or a
            :class:`CrossValidatedVarianceScale` fitted at ``fit`` time.
    """

    ensemble_size: int = 5
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = 1024
    warmup_fraction: float = 0.1
    weight_decay: float = 0.0
    grad_clip: float | None = None
    dtype: torch.dtype = torch.float32
    chunk_size: int = 8192
    bootstrap: bool = False
    variance_calibration: CrossValidatedVarianceScale | None = None

    def __post_init__(self) -> None:
        check_int("ensemble_size", self.ensemble_size, minimum=1)
        if self.epochs is not None:
            check_int("epochs", self.epochs, minimum=1)
        if self.lr is not None:
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
        if not isinstance(self.bootstrap, bool):
            raise TypeError(f"bootstrap must be a bool, got {self.bootstrap!r}")
        vc = self.variance_calibration
        if vc is not None and not isinstance(vc, CrossValidatedVarianceScale):
            raise TypeError(
                "variance_calibration must be None or a CrossValidatedVarianceScale, got "
                f"{type(vc).__name__}"
            )

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_options(cls: type[C], **options: Any) -> C:
        """Build from keyword options (``Cls(single_effects, **options)``, CLI values).

        ``"auto"`` means None (the field's data-dependent default; for
        ``variance_calibration`` the class's default, ``"none"`` / ``"off"`` turn it off,
        ``"cvK"`` is K folds), ``dtype`` may be a name (``"float32"``), numpy scalars become
        Python numbers.

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
        if name == "variance_calibration" and isinstance(value, str):
            if value == "auto":  # the class's default (on for ReferenceNaiadConfig)
                return next(f.default for f in fields(cls) if f.name == name)
            if value.lower() in ("none", "off"):
                return None
        if isinstance(value, str) and value == "auto":
            return None
        if name == "dtype":
            if isinstance(value, torch.dtype):
                return value
            key = str(value).removeprefix("torch.")
            if key not in DTYPES:
                raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {value!r}")
            return DTYPES[key]
        if name == "variance_calibration" and isinstance(value, Mapping):
            return CrossValidatedVarianceScale(**value)
        if name == "variance_calibration" and isinstance(value, str) and value.startswith("cv"):
            # CLI spelling: "cv" (3 folds) or "cvK"
            folds = value[2:]
            return CrossValidatedVarianceScale(int(folds) if folds else 3)
        if name == "bootstrap" and isinstance(value, str):
            if value.lower() not in ("true", "false", "1", "0"):
                raise ValueError(f"bootstrap must be true or false, got {value!r}")
            return value.lower() in ("true", "1")
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
        if isinstance(value, CrossValidatedVarianceScale):
            return dataclasses.asdict(value)
        return value

    @classmethod
    def from_dict(cls: type[C], values: Mapping[str, Any]) -> C:
        """Inverse of :meth:`to_dict`."""
        return cls.from_options(**dict(values))


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars."""
    return value.item() if isinstance(value, np.generic) else value
