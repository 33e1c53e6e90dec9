"""Screens: measured gene pairs, single-gene effects, bundled data, symbol normalisation."""

from naiad_bo.data.bundled import SCREENS, list_screens, load_screen, resolve_screen
from naiad_bo.data.screen import LoadReport, PairScreen, ScreenFormatError, ScreenWarning
from naiad_bo.data.subsample import subsample_genes, subsampled_screens
from naiad_bo.data.symbols import SymbolNormalizer

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
    "subsample_genes",
    "subsampled_screens",
]
