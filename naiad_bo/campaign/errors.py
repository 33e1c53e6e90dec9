"""Errors of campaigns (configuration, told data, campaign files, surrogate / acquisition fit)
and the integer validator behind the configuration errors."""

from __future__ import annotations

from typing import Any

import numpy as np

from naiad_bo.acquisition.base import AcquisitionModelError

__all__ = ["CampaignError", "CampaignFileError", "IncompatibleSurrogateError", "check_count"]


class CampaignError(ValueError):
    """A campaign cannot run as configured, or told data are invalid (rows are named)."""


class CampaignFileError(CampaignError):
    """A campaign file is truncated, of another format version, or inconsistent."""


class IncompatibleSurrogateError(AcquisitionModelError, ValueError):
    """The surrogate cannot provide what the acquisition needs (e.g. variance from ``sum``)."""


def check_count(name: str, value: Any, minimum: int, hint: str = "") -> int:
    """``value`` as an int ``>= minimum``, else a :class:`CampaignError` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise CampaignError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise CampaignError(f"{name} must be >= {minimum}, got {value}{hint}")
    return int(value)
