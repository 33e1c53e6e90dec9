"""Which phenotype counts as "strong", decided in one place.

Growth screens call the most negative phenotype the strongest; other screens want the largest
value or the largest magnitude. Every metric, acquisition and selector takes a
:class:`Direction` so that this is one argument away, never an edit of the data.

Where the direction comes from: a model built from a screen
(``NaiadEnsemble(screen, ...)``) carries ``model.direction``; an acquisition built for that
model takes it unless told otherwise (:func:`resolve_direction`), and a direction that
contradicts the model's is an error. Stock BoTorch acquisitions *maximise*; for them
:func:`posterior_transform` gives the ``ScalarizedPosteriorTransform`` (weight -1 for
"minimize") that makes "strong" the maximum::

    tf = posterior_transform(model)                     # or posterior_transform("minimize")
    acqf = UpperConfidenceBound(model, beta=4.0, posterior_transform=tf)
"""

from __future__ import annotations

import sys
from enum import Enum
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # torch / BoTorch are imported on first use (fast ``import naiad_bo``)
    import torch
    from botorch.acquisition.objective import ScalarizedPosteriorTransform

__all__ = [
    "Direction",
    "DirectionMismatchError",
    "model_direction",
    "posterior_transform",
    "resolve_direction",
]


class Direction(Enum):
    """How a phenotype value maps to "strength" (higher strength = better pair).

    ``MINIMIZE``: most negative is strongest (default, growth screens).
    ``MAXIMIZE``: most positive is strongest.
    ``ABS``: largest magnitude is strongest.
    """

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"
    ABS = "abs"

    @classmethod
    def parse(cls, value: Direction | str | None) -> Direction:
        """Accept a Direction or its name ("minimize", "maximize", "abs"); None = MINIMIZE."""
        if value is None:
            return cls.MINIMIZE
        if isinstance(value, Direction):
            return value
        try:
            return cls(str(value).strip().lower())
        except ValueError:
            names = ", ".join(d.value for d in cls)
            raise ValueError(f"unknown direction {value!r}; expected one of: {names}") from None

    def strength(self, y):
        """Map phenotype values to strength (higher = stronger); numpy or torch in, same out."""
        if self is Direction.MINIMIZE:
            return -y
        if self is Direction.MAXIMIZE:
            return y
        torch = sys.modules.get("torch")  # a tensor implies torch is already imported
        if torch is not None and isinstance(y, torch.Tensor):
            return y.abs()
        return np.abs(y)


class DirectionMismatchError(ValueError):
    """An acquisition was asked for a direction that contradicts its model's."""


def model_direction(model: Any) -> Direction | None:
    """The direction a model (or screen) carries, None if it has none."""
    d = getattr(model, "direction", None)
    return None if d is None else Direction.parse(d)


def resolve_direction(
    direction: Direction | str | None, model: Any, *, default: Direction = Direction.MINIMIZE
) -> Direction:
    """The direction an acquisition on ``model`` uses.

    ``direction`` if given (it must agree with the model's, if the model has one), else the
    model's (a model built from a screen takes the screen's), else ``default``.

    Raises:
        DirectionMismatchError: ``direction`` contradicts ``model.direction``.
    """
    known = model_direction(model)
    if direction is None:
        return default if known is None else known
    d = Direction.parse(direction)
    if known is not None and d is not known:
        raise DirectionMismatchError(
            f"direction={d.value!r} contradicts the model's direction {known.value!r} (taken "
            "from the screen it was built on); omit direction= to use the model's, or build "
            "the model with direction=" + repr(d.value)
        )
    return d


def posterior_transform(
    source: Any, *, dtype: torch.dtype | None = None, device: torch.device | str | None = None
) -> ScalarizedPosteriorTransform:
    """The ``posterior_transform`` that lets stock (maximising) BoTorch acquisitions rank
    strong pairs first: weight -1 for ``MINIMIZE``, +1 for ``MAXIMIZE``.

    Args:
        source: A :class:`Direction` or its name, or a model / screen with a ``direction``.
        dtype, device: Of the weight tensor (dtype default ``torch.float64``).

    Raises:
        ValueError: ``ABS`` (``|y|`` is not linear, so no scalarisation expresses it: use
            ``naiad_bo.acquisition.MaxPredictedEffect(model, direction="abs")``, or an MC
            acquisition with ``objective=GenericMCObjective(lambda Y, X: Y.abs()[..., 0])``),
            or a model without a direction.
    """
    if isinstance(source, (Direction, str)):
        d = Direction.parse(source)
    else:
        d = model_direction(source)
        if d is None:
            raise ValueError(
                f"{type(source).__name__} carries no direction; pass one "
                "(posterior_transform('minimize'))"
            )
    if d is Direction.ABS:
        raise ValueError(
            "direction 'abs' (largest |y|) has no linear posterior transform; use "
            "naiad_bo.acquisition.MaxPredictedEffect(model, direction='abs') or an MC "
            "acquisition with objective=GenericMCObjective(lambda Y, X: Y.abs()[..., 0])"
        )
    import torch
    from botorch.acquisition.objective import ScalarizedPosteriorTransform

    w = -1.0 if d is Direction.MINIMIZE else 1.0
    dtype = torch.float64 if dtype is None else dtype
    return ScalarizedPosteriorTransform(weights=torch.tensor([w], dtype=dtype, device=device))
