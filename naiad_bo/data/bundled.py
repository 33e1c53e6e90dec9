"""Screens shipped inside the package (gzip-compressed), usable offline."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas and the screen class load on first use (fast CLI start)
    import pandas as pd

    from naiad_bo.data.screen import PairScreen


@dataclass(frozen=True)
class BundledScreen:
    """Catalogue entry of a bundled screen."""

    name: str
    filename: str
    title: str
    modality: str
    citation: str
    source: str
    n_rows: int
    n_genes: int
    n_pairs: int
    control: str = "negative"

    def metadata(self) -> dict:
        """Provenance dictionary attached to the loaded screen."""
        return {
            "title": self.title,
            "modality": self.modality,
            "citation": self.citation,
            "source": self.source,
            "bundled_file": self.filename,
        }


SCREENS: dict[str, BundledScreen] = {
    s.name: s
    for s in (
        BundledScreen(
            name="norman2019",
            filename="norman2019.csv.gz",
            title="Norman et al. 2019, CRISPRa K562 growth (gamma)",
            modality="CRISPRa, K562",
            citation=(
                "Norman TM, Horlbeck MA, et al. Exploring genetic interaction manifolds "
                "constructed from rich single-cell phenotypes. Science 365:786-793 (2019)"
            ),
            source="Table S3 (gamma, triple sequencing), via NeptuneBio/NAIAD tutorials/data",
            n_rows=51_984,
            n_genes=112,
            n_pairs=6_328,
        ),
        BundledScreen(
            name="horlbeck2018_k562",
            filename="horlbeck2018_k562.csv.gz",
            title="Horlbeck et al. 2018, CRISPRi K562 growth (gamma)",
            modality="CRISPRi, K562",
            citation=(
                "Horlbeck MA, Xu A, et al. Mapping the genetic landscape of human cells. "
                "Cell 174:953-967 (2018)"
            ),
            source="Mendeley dataset rdzk59n6j4 (replicate mean), via NeptuneBio/NAIAD",
            n_rows=101_025,
            n_genes=448,
            n_pairs=100_576,
        ),
    )
}


def catalogue() -> list[dict]:
    """The rows of :func:`list_screens` as plain dictionaries (no pandas import)."""
    return [
        {
            "name": s.name,
            "title": s.title,
            "rows": s.n_rows,
            "genes": s.n_genes,
            "pairs": s.n_pairs,
            "citation": s.citation,
        }
        for s in SCREENS.values()
    ]


def list_screens() -> pd.DataFrame:
    """Bundled screens with their sizes and citations (one row each)."""
    import pandas as pd

    return pd.DataFrame(catalogue())


def bundled_path(name: str) -> Path:
    """Filesystem path of a bundled screen file (inside the installed package)."""
    entry = _entry(name)
    return Path(str(resources.files("naiad_bo.data") / "_files" / entry.filename))


def load_screen(name: str, **kwargs) -> PairScreen:
    """Load a bundled screen by name (``list_screens()`` shows the names).

    Keyword arguments are passed to :meth:`PairScreen.from_csv` (e.g. ``normalize_symbols``,
    ``direction``). Without them the parsed screen is cached, so repeated loads are cheap
    (a fresh, independent copy is returned each time).
    """
    from naiad_bo.data.screen import PairScreen

    entry = _entry(name)
    if kwargs:
        return _read(entry, **kwargs)
    cached = _cached(entry.name)
    return PairScreen(
        cached.genes,
        cached.single_effects.copy(),
        cached.pairs.copy(),
        name=cached.name,
        direction=cached.direction,
        control=cached.control,
        single_n_obs=cached.single_n_obs.copy(),
        single_sd=cached.single_sd.copy(),
        report=cached.report,
        metadata=cached.metadata,
    )


def resolve_screen(name_or_path: str | Path, **kwargs) -> PairScreen:
    """A bundled screen by name, or a screen file (CSV/TSV, optionally .gz) by path."""
    key = str(name_or_path)
    if key in SCREENS:
        return load_screen(key, **kwargs)
    path = Path(key)
    if path.exists():
        from naiad_bo.data.screen import PairScreen

        return PairScreen.from_csv(path, **kwargs)
    raise ValueError(
        f"{key!r} is neither a bundled screen ({', '.join(SCREENS)}) nor an existing file"
    )


def _entry(name: str) -> BundledScreen:
    try:
        return SCREENS[name]
    except KeyError:
        raise ValueError(
            f"unknown bundled screen {name!r}; available: {', '.join(SCREENS)}"
        ) from None


def _read(entry: BundledScreen, **kwargs) -> PairScreen:
    from naiad_bo.data.screen import PairScreen

    kwargs.setdefault("control", entry.control)
    kwargs.setdefault("name", entry.name)
    kwargs.setdefault("metadata", entry.metadata())
    with resources.as_file(resources.files("naiad_bo.data") / "_files" / entry.filename) as p:
        return PairScreen.from_csv(p, **kwargs)


@cache
def _cached(name: str) -> PairScreen:
    return _read(SCREENS[name])
