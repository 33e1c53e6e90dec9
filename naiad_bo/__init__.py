"""naiad_bo: Bayesian optimisation over combinatorial CRISPR gene pairs on BoTorch.

Every public name is imported on first use (PEP 562 module ``__getattr__``), so
``import naiad_bo`` and the ``naiad-bo`` command start without loading torch, BoTorch or
pandas; ``from naiad_bo import X`` works exactly as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from naiad_bo._lazy import lazy_attributes

__version__ = "0.1.0"

#: Public name -> module that defines it (imported on first access).
_LAZY: dict[str, str] = {
    "Campaign": "naiad_bo.campaign.campaign",
    "Direction": "naiad_bo.direction",
    "PairScreen": "naiad_bo.data.screen",
    "list_screens": "naiad_bo.data.bundled",
    "load_screen": "naiad_bo.data.bundled",
    "resolve_screen": "naiad_bo.data.bundled",
}

__all__ = [
    "Campaign",
    "Direction",
    "PairScreen",
    "__version__",
    "list_screens",
    "load_screen",
    "resolve_screen",
]

if TYPE_CHECKING:  # pragma: no cover - static analysers see the real imports
    from naiad_bo.campaign.campaign import Campaign
    from naiad_bo.data.bundled import list_screens, load_screen, resolve_screen
    from naiad_bo.data.screen import PairScreen
    from naiad_bo.direction import Direction


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
