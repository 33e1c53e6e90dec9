"""Screens: measured gene pairs, single-gene effects, bundled data, symbol normalisation.

Names are imported on first use (PEP 562), so the bundled catalogue (``SCREENS``) is
available without loading pandas.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from naiad_bo._lazy import lazy_attributes

#: Public name -> defining module.
_LAZY: dict[str, str] = {
    "SCREENS": "naiad_bo.data.bundled",
    "LoadReport": "naiad_bo.data.screen",
    "PairScreen": "naiad_bo.data.screen",
    "ScreenFormatError": "naiad_bo.data.screen",
    "ScreenWarning": "naiad_bo.data.screen",
    "SymbolNormalizer": "naiad_bo.data.symbols",
    "list_screens": "naiad_bo.data.bundled",
    "load_screen": "naiad_bo.data.bundled",
    "resolve_screen": "naiad_bo.data.bundled",
    "scale_interactions": "naiad_bo.data.interaction_scaling",
    "subsample_genes": "naiad_bo.data.subsample",
    "subsampled_screens": "naiad_bo.data.subsample",
}

__all__ = [
    "SCREENS",
    "LoadReport",
    "PairScreen",
    "ScreenFormatError",
    "ScreenWarning",
    "SymbolNormalizer",
    "list_screens",
    "load_screen",
    "resolve_screen",
    "scale_interactions",
    "subsample_genes",
    "subsampled_screens",
]

if TYPE_CHECKING:  # pragma: no cover
    from naiad_bo.data.bundled import SCREENS, list_screens, load_screen, resolve_screen
    from naiad_bo.data.interaction_scaling import scale_interactions
    from naiad_bo.data.screen import LoadReport, PairScreen, ScreenFormatError, ScreenWarning
    from naiad_bo.data.subsample import subsample_genes, subsampled_screens
    from naiad_bo.data.symbols import SymbolNormalizer


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
