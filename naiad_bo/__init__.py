"""naiad_bo: Bayesian optimisation over combinatorial CRISPR gene pairs on BoTorch."""

from naiad_bo.data import PairScreen, list_screens, load_screen, resolve_screen
from naiad_bo.direction import Direction

__version__ = "0.1.0"

__all__ = [
    "Campaign",
    "Direction",
    "PairScreen",
    "__version__",
    "list_screens",
    "load_screen",
    "resolve_screen",
]


def __getattr__(name: str):
    """``naiad_bo.Campaign`` is imported on first use (it pulls in torch and BoTorch)."""
    if name == "Campaign":
        from naiad_bo.campaign.campaign import Campaign

        return Campaign
    raise AttributeError(f"module 'naiad_bo' has no attribute {name!r}")
