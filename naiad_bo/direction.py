"""Which phenotype counts as "strong".

Growth screens call the most negative phenotype the strongest; other screens want the largest
value or the largest magnitude. Every metric, acquisition and selector takes a
:class:`Direction` so that this is one argument away, never an edit of the data.
"""

from __future__ import annotations

from enum import Enum

import numpy as np
import torch


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
        if isinstance(y, torch.Tensor):
            return y.abs()
        return np.abs(y)
