"""Screens: measured gene pairs, single-gene effects, bundled data, symbol normalisation.

Names are imported on first use (PEP 562), so the bundled catalogue (``SCREENS``) is
available without loading pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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
]

if TYPE_CHECKING:  # pragma: no cover
    from naiad_bo.data.bundled import SCREENS, list_screens, load_screen, resolve_screen
    from naiad_bo.data.screen import LoadReport, PairScreen, ScreenFormatError, ScreenWarning
    from naiad_bo.data.symbols import SymbolNormalizer


def __getattr__(name: str) -> Any:
    """Import a public name on first use and cache it in the module namespace."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'naiad_bo.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
