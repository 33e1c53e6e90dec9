"""Normalisation of outdated gene symbols to current NCBI symbols.

Screens are often published with symbols that have since been renamed (SGOL1 -> SGO1,
CARS -> CARS1, TMEM173 -> STING1). Descriptor tables (STRING, DepMap, GO) use current symbols,
so without this mapping a few percent of genes silently lose their descriptors.

Policy, in order: a name that is a current symbol is kept; otherwise a name that is an alias or
previous symbol of exactly one current gene is renamed; among several candidates, the single
one that starts with the old name is taken (the aminoacyl-tRNA synthetase renames QARS -> QARS1,
MARS -> MARS1; not EPRS1 or SLA2); a name that matches several genes
(e.g. TAZ: TAFAZZIN and WWTR1) is *ambiguous* and kept unless ``overrides`` resolves it; a name
found nowhere is *unresolved* and kept. Matching is case-sensitive first, then case-insensitive.
Two input names that would map onto the same current symbol are both kept (reported as
ambiguous) rather than silently merged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd

_BUNDLED = "gene_symbol_aliases.csv.gz"


@dataclass
class NormalizationResult:
    """Outcome of :meth:`SymbolNormalizer.normalize`."""

    names: list[str]
    renamed: dict[str, str] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    ambiguous: dict[str, list[str]] = field(default_factory=dict)


class SymbolNormalizer:
    """Alias -> current-symbol lookup.

    Args:
        table: DataFrame with columns ``alias``, ``kind`` (``c`` current symbol or
            ``current_symbol``; anything else = alias/previous) and ``symbol`` (current).
    """

    def __init__(self, table: pd.DataFrame) -> None:
        kind = table["kind"].astype(str)
        current = kind.isin(["c", "current_symbol"])
        self.current_ = set(table.loc[current, "symbol"].astype(str))
        aliases = table.loc[~current, ["alias", "symbol"]].astype(str)
        self.alias_ = aliases.groupby("alias")["symbol"].agg(lambda s: sorted(set(s))).to_dict()
        self.current_upper_ = {s.upper(): s for s in self.current_}
        upper: dict[str, set[str]] = {}
        for alias, targets in self.alias_.items():
            upper.setdefault(alias.upper(), set()).update(targets)
        self.alias_upper_ = {k: sorted(v) for k, v in upper.items()}

    @classmethod
    def from_csv(cls, path: str | Path) -> SymbolNormalizer:
        """Read an alias table (e.g. ``human_gene_symbol_aliases_2022-09.csv.gz``)."""
        return cls(pd.read_csv(path, dtype=str, keep_default_na=False))

    @classmethod
    def bundled(cls) -> SymbolNormalizer:
        """The NCBI Gene (org.Hs.eg.db 3.16, 2022-09) human alias table shipped in the package."""
        return _bundled()

    def lookup(self, name: str) -> list[str]:
        """Current symbol candidates for ``name`` (one element = unambiguous)."""
        if name in self.current_:
            return [name]
        if name in self.alias_:
            return list(self.alias_[name])
        up = name.upper()
        if up in self.current_upper_:
            return [self.current_upper_[up]]
        return list(self.alias_upper_.get(up, []))

    def normalize(
        self, names: Iterable[str], overrides: Mapping[str, str] | None = None
    ) -> NormalizationResult:
        """Map ``names`` to current symbols (see module docstring for the policy)."""
        names = [str(n) for n in names]
        overrides = dict(overrides or {})
        proposal: dict[str, str] = {}
        result = NormalizationResult(names=[])
        for n in names:
            if n in overrides:
                proposal[n] = overrides[n]
                continue
            cands = self.lookup(n)
            if len(cands) == 1:
                proposal[n] = cands[0]
            elif len(cands) > 1:
                prefixed = [c for c in cands if c.upper().startswith(n.upper())]
                if len(prefixed) == 1:  # e.g. QARS -> QARS1 (not EPRS1), MARS -> MARS1
                    proposal[n] = prefixed[0]
                else:
                    result.ambiguous[n] = cands
            else:
                result.unresolved.append(n)
        # never merge two distinct input names into one symbol
        targets: dict[str, list[str]] = {}
        for n, t in proposal.items():
            targets.setdefault(t, []).append(n)
        for t, sources in targets.items():
            if len(sources) > 1 or (t in names and t not in sources):
                for s in sources:
                    if s != t:
                        result.ambiguous[s] = [t]
                        proposal.pop(s, None)
        result.renamed = {n: t for n, t in proposal.items() if n != t}
        result.names = [result.renamed.get(n, n) for n in names]
        return result


@lru_cache(maxsize=1)
def _bundled() -> SymbolNormalizer:
    with resources.as_file(resources.files("naiad_bo.data") / "_files" / _BUNDLED) as p:
        return SymbolNormalizer.from_csv(p)
