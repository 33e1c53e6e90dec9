"""naiad_bo: Bayesian optimisation over combinatorial CRISPR gene pairs on BoTorch."""

from naiad_bo.data import PairScreen, list_screens, load_screen, resolve_screen
from naiad_bo.direction import Direction

__version__ = "0.1.0"

__all__ = [
    "Direction",
    "PairScreen",
    "__version__",
    "list_screens",
    "load_screen",
    "resolve_screen",
]
