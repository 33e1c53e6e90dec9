"""Campaign protocols: which of a screen's pairs the simulated lab may acquire.

A simulated campaign replays a fully (or partly) measured screen as the lab's oracle. The
protocol decides, once per seed and before round 0, which pairs are *acquirable* and which
form a never-acquirable *test* split used for the prediction error (RMSE):

* :class:`PaperProtocol` (the NAIAD paper, section 5.3 and the reference code): a fixed
  fraction (30%) of the pairs is held out as test data and can never be acquired; the
  discovery metric still ranks *all* pairs, test pairs included (anchors.md).
* :class:`ProspectiveProtocol`: every pair can be acquired, as in a real campaign; there is
  no test split (test RMSE is ``nan``; the error on not-yet-measured pairs is reported
  instead).

Protocols are classes; strings (``"paper"``, ``"prospective"``) exist only at the CLI / API
boundary and are turned into instances by :func:`get_protocol`.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

__all__ = [
    "PROTOCOLS",
    "CampaignProtocol",
    "PaperProtocol",
    "ProspectiveProtocol",
    "UnknownProtocolError",
    "get_protocol",
]


class UnknownProtocolError(KeyError, ValueError):
    """A protocol name that is not in :data:`PROTOCOLS`."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class CampaignProtocol(ABC):
    """How a campaign splits a screen's pairs into acquirable and held-out test pairs."""

    #: Name used at the CLI boundary and stored in every result record.
    name: ClassVar[str] = "protocol"

    @abstractmethod
    def split(self, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Split pair rows ``0 .. n_pairs - 1``.

        Args:
            n_pairs: Number of pairs of the screen.
            rng: Seeded generator (the campaign derives it from its seed only, so every
                acquisition of a seed sees the same split).

        Returns:
            ``(acquirable, test)``: disjoint sorted int64 row indices.
        """

    def describe(self) -> dict:
        """JSON-friendly description (name and parameters)."""
        return {"protocol": self.name}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.describe().items() if k != "protocol")
        return f"{type(self).__name__}({params})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.describe() == self.describe()

    def __hash__(self) -> int:
        return hash((type(self), tuple(sorted(self.describe().items()))))


class PaperProtocol(CampaignProtocol):
    """The NAIAD paper's protocol: ``test_frac`` of the pairs is never acquirable.

    The test split is ``round(test_frac * n_pairs)`` rows drawn uniformly without replacement
    (at least one when ``test_frac > 0``).

    Args:
        test_frac: Held-out fraction in ``[0, 1)`` (paper: 0.3).
    """

    name: ClassVar[str] = "paper"

    def __init__(self, test_frac: float = 0.3) -> None:
        if isinstance(test_frac, bool) or not isinstance(test_frac, int | float | np.floating):
            raise TypeError(f"test_frac must be a float, got {type(test_frac).__name__}")
        test_frac = float(test_frac)
        if not (math.isfinite(test_frac) and 0.0 <= test_frac < 1.0):
            raise ValueError(f"test_frac must be in [0, 1), got {test_frac}")
        self.test_frac = test_frac

    def n_test(self, n_pairs: int) -> int:
        """Size of the test split for a screen of ``n_pairs`` pairs."""
        if self.test_frac == 0.0:
            return 0
        return min(n_pairs - 1, max(1, int(round(self.test_frac * n_pairs))))

    def split(self, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Uniform random test split of ``round(test_frac * n_pairs)`` rows."""
        perm = rng.permutation(int(n_pairs)).astype(np.int64)
        n_test = self.n_test(int(n_pairs))
        return np.sort(perm[n_test:]), np.sort(perm[:n_test])

    def describe(self) -> dict:
        return {"protocol": self.name, "test_frac": self.test_frac}


class ProspectiveProtocol(CampaignProtocol):
    """A prospective campaign: every pair can be acquired; no test split."""

    name: ClassVar[str] = "prospective"

    def split(self, n_pairs: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """All rows acquirable, empty test split (``rng`` unused)."""
        return np.arange(int(n_pairs), dtype=np.int64), np.empty(0, dtype=np.int64)


#: CLI name -> protocol class (instantiated with its defaults by :func:`get_protocol`).
PROTOCOLS: dict[str, type[CampaignProtocol]] = {
    PaperProtocol.name: PaperProtocol,
    ProspectiveProtocol.name: ProspectiveProtocol,
}


def get_protocol(spec: CampaignProtocol | str | type[CampaignProtocol]) -> CampaignProtocol:
    """A protocol instance from an instance, a class, or a name (``"paper"``, ...)."""
    if isinstance(spec, CampaignProtocol):
        return spec
    if isinstance(spec, type) and issubclass(spec, CampaignProtocol):
        return spec()
    if isinstance(spec, str):
        key = spec.strip().lower()
        if key in PROTOCOLS:
            return PROTOCOLS[key]()
        raise UnknownProtocolError(
            f"unknown protocol {spec!r}; choose one of: {', '.join(sorted(PROTOCOLS))}"
        )
    raise TypeError(
        f"protocol must be a CampaignProtocol, its class or a name, got {type(spec).__name__}"
    )
