"""Where computed embeddings are cached: ``$NAIAD_BO_CACHE`` or ``~/.cache/naiad_bo``."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_dir"]

#: Environment variable overriding the cache directory.
CACHE_ENV = "NAIAD_BO_CACHE"


def cache_dir() -> Path:
    """The cache directory (created on first use).

    ``$NAIAD_BO_CACHE`` if set, else ``$XDG_CACHE_HOME/naiad_bo``, else ``~/.cache/naiad_bo``.
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        path = Path(env)
    else:
        base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        path = Path(base) / "naiad_bo"
    path.mkdir(parents=True, exist_ok=True)
    return path
