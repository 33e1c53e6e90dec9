"""A combinatorial pair screen: measured unordered gene pairs plus single-gene effects.

The common exchange format is a table with one row per measurement, ``id1,id2,score``:

* rows pairing a gene with the *control* (``negative`` in the bundled screens) give that
  gene's single-gene effect (mean over all such rows, either order);
* every other row is a measurement of the unordered pair {id1, id2}; guide-level replicates and
  swapped orders are averaged into one canonical pair ``(gene_a, gene_b)`` with
  ``gene_a <= gene_b``, keeping the replicate count ``n_obs`` and standard deviation ``sd``;
* ``id1 == id2`` rows are same-gene double perturbations: ordinary candidates, not single
  effects.

Genes are indexed in sorted-name order, so gene ids are reproducible across loads.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from naiad_bo.direction import Direction

_BOM = "\ufeff"
_CONTROL_HINTS = ("neg", "ctrl", "control", "non-targeting", "nontargeting", "safe")


class ScreenFormatError(ValueError):
    """A screen table is malformed (missing columns, bad scores, no control, ...)."""


class ScreenWarning(UserWarning):
    """Data were dropped or merged while loading a screen (counts are in the message)."""


@dataclass
class LoadReport:
    """What the loader did to the raw rows; every dropped or merged item is counted here."""

    n_rows: int = 0
    n_control_rows: int = 0
    n_pair_rows: int = 0
    n_control_control_rows: int = 0
    dropped_genes_without_single: list[str] = field(default_factory=list)
    n_pairs_dropped_without_single: int = 0
    n_rows_dropped_invalid_score: int = 0
    merged_name_variants: dict[str, list[str]] = field(default_factory=dict)
    renamed_symbols: dict[str, str] = field(default_factory=dict)
    unresolved_symbols: list[str] = field(default_factory=list)
    ambiguous_symbols: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        """Plain-dict view (JSON friendly)."""
        return dict(self.__dict__)


class PairScreen:
    """Measured unordered gene pairs with single-gene effects.

    Attributes:
        name: Screen name (bundled key or file stem).
        genes: Gene names; the list index is the gene id used everywhere else.
        single_effects: ``(M,)`` float64 single-gene effect of each gene.
        single_n_obs: ``(M,)`` number of control rows behind each single effect.
        single_sd: ``(M,)`` standard deviation of those rows (NaN with one row).
        pairs: DataFrame with one row per canonical unordered pair: ``gene_a <= gene_b``
            (int64 ids), ``id1``, ``id2`` (names of gene_a, gene_b), ``y`` (mean score),
            ``n_obs`` (replicate rows averaged), ``sd`` (their standard deviation, NaN if one).
        direction: Which phenotype counts as strong (default: most negative).
        control: Name of the control used for single effects.
        report: :class:`LoadReport` of what was dropped, merged or renamed.
        metadata: Free-form provenance (citation, source) for bundled screens.
    """

    def __init__(
        self,
        genes: list[str],
        single_effects: np.ndarray,
        pairs: pd.DataFrame,
        *,
        name: str = "screen",
        direction: Direction | str = Direction.MINIMIZE,
        control: str = "negative",
        single_n_obs: np.ndarray | None = None,
        single_sd: np.ndarray | None = None,
        report: LoadReport | None = None,
        metadata: Mapping | None = None,
    ) -> None:
        self.name = name
        self.genes = list(genes)
        self.single_effects = np.asarray(single_effects, dtype=np.float64)
        m = len(self.genes)
        if self.single_effects.shape != (m,):
            raise ValueError(
                f"single_effects has shape {self.single_effects.shape}, expected ({m},)"
            )
        if not np.isfinite(self.single_effects).all():
            bad = [self.genes[i] for i in np.flatnonzero(~np.isfinite(self.single_effects))]
            raise ValueError(f"non-finite single effects for genes {bad[:10]}")
        self.single_n_obs = (
            np.ones(m, dtype=np.int64) if single_n_obs is None else np.asarray(single_n_obs)
        )
        self.single_sd = (
            np.full(m, np.nan) if single_sd is None else np.asarray(single_sd, dtype=float)
        )
        self.pairs = pairs.reset_index(drop=True)
        self.direction = Direction.parse(direction)
        self.control = control
        self.report = report or LoadReport()
        self.metadata = dict(metadata or {})
        self._gene_index = {g: i for i, g in enumerate(self.genes)}
        self._check_pairs()

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_csv(
        cls,
        path: str | Path,
        control: str | Sequence[str] = "negative",
        *,
        id1_col: str = "id1",
        id2_col: str = "id2",
        score_col: str = "score",
        sep: str | None = None,
        direction: Direction | str = Direction.MINIMIZE,
        sign: float = 1.0,
        normalize_symbols: bool = False,
        drop_genes_without_single: bool = True,
        drop_invalid_scores: bool = False,
        name: str | None = None,
        metadata: Mapping | None = None,
    ) -> PairScreen:
        """Read a screen from a CSV/TSV file (optionally gzip-compressed).

        Args:
            path: File path; ``.gz`` is decompressed; a UTF-8 byte-order mark is accepted.
            control: Name of the control "gene" whose rows give single-gene effects, or a
                list of names read as one control (``["non-targeting", "NTC"]``; the first
                name that occurs becomes the screen's ``control``).
            id1_col, id2_col, score_col: Column names of the two genes and the score.
            sep: Field separator; inferred from the extension (``.tsv``/``.txt`` = tab) if None.
            direction: Which phenotype is strong (see :class:`~naiad_bo.Direction`).
            sign: Multiply every score by this (e.g. -1 to flip a screen's convention).
            normalize_symbols: Map outdated gene symbols to current ones (bundled NCBI table).
            drop_genes_without_single: Drop pairs of genes that have no control row (with a
                counted warning); if False, such genes are an error.
            drop_invalid_scores: Drop rows whose score is missing / non-numeric / infinite (with
                a counted warning); if False (default) they are an error naming the lines.
            name: Screen name (default: file stem).
            metadata: Provenance to attach.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"screen file not found: {path}")
        if sep is None:
            stem = path.name[:-3] if path.name.endswith(".gz") else path.name
            sep = "\t" if stem.endswith((".tsv", ".txt", ".tab")) else ","
        try:
            df = pd.read_csv(
                path, sep=sep, dtype=str, keep_default_na=False, encoding="utf-8-sig"
            )
        except pd.errors.EmptyDataError:
            raise ScreenFormatError(f"{path}: the file is empty (no header, no rows)") from None
        if name is None:
            name = path.name.split(".")[0]
        return cls.from_frame(
            df,
            control=control,
            id1_col=id1_col,
            id2_col=id2_col,
            score_col=score_col,
            direction=direction,
            sign=sign,
            normalize_symbols=normalize_symbols,
            drop_genes_without_single=drop_genes_without_single,
            drop_invalid_scores=drop_invalid_scores,
            name=name,
            metadata=metadata,
            source=str(path),
        )

    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        control: str | Sequence[str] = "negative",
        *,
        id1_col: str = "id1",
        id2_col: str = "id2",
        score_col: str = "score",
        direction: Direction | str = Direction.MINIMIZE,
        sign: float = 1.0,
        normalize_symbols: bool = False,
        drop_genes_without_single: bool = True,
        drop_invalid_scores: bool = False,
        name: str = "screen",
        metadata: Mapping | None = None,
        source: str = "DataFrame",
    ) -> PairScreen:
        """Build a screen from a raw measurement table (see :meth:`from_csv` for arguments).

        Line numbers in error messages count the header as line 1 (as in the file).
        """
        report = LoadReport()
        df = df.rename(columns=lambda c: str(c).replace(_BOM, "").strip())
        missing = [c for c in (id1_col, id2_col, score_col) if c not in df.columns]
        if missing:
            hint = ""
            lower = {str(c).lower(): c for c in df.columns}
            close = {m: lower[m.lower()] for m in missing if m.lower() in lower}
            if close:
                hint = " (case differs: " + ", ".join(f"{k!r} vs {v!r}" for k, v in close.items())
                hint += "; pass id1_col/id2_col/score_col)"
            raise ScreenFormatError(
                f"{source}: missing column(s) {missing}; found {list(df.columns)}{hint}"
            )
        if len(df) == 0:
            raise ScreenFormatError(f"{source}: no data rows")
        report.n_rows = len(df)
        line = np.arange(len(df)) + 2  # header is line 1

        a = df[id1_col].astype(str).str.replace(_BOM, "").str.strip().to_numpy(dtype=object)
        b = df[id2_col].astype(str).str.replace(_BOM, "").str.strip().to_numpy(dtype=object)
        empty = (a == "") | (b == "")
        if empty.any():
            raise ScreenFormatError(
                f"{source}: empty gene name on line(s) {_lines(line[empty])}"
            )

        raw = df[score_col]
        score = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64) * float(sign)
        bad = ~np.isfinite(score)
        if bad.any():
            examples = ", ".join(
                f"line {ln}: {v!r}" for ln, v in zip(line[bad][:5], raw.to_numpy()[bad][:5])
            )
            if not drop_invalid_scores:
                raise ScreenFormatError(
                    f"{source}: {int(bad.sum())} row(s) with a missing, non-numeric or infinite "
                    f"{score_col!r} ({examples}); fix them or pass drop_invalid_scores=True"
                )
            warnings.warn(
                f"{source}: dropped {int(bad.sum())} row(s) with invalid scores ({examples})",
                ScreenWarning,
                stacklevel=2,
            )
            report.n_rows_dropped_invalid_score = int(bad.sum())
            a, b, score, line = a[~bad], b[~bad], score[~bad], line[~bad]
            if len(score) == 0:
                raise ScreenFormatError(f"{source}: no rows with a valid score")

        # case/whitespace variants of one name -> one spelling (the most frequent one)
        a, b, merged = _merge_case_variants(a, b)
        report.merged_name_variants = merged
        if merged:
            warnings.warn(
                f"{source}: merged {len(merged)} gene name(s) that differ only in case: "
                + ", ".join(f"{k} <- {v}" for k, v in list(merged.items())[:10]),
                ScreenWarning,
                stacklevel=2,
            )
        ctrl, aliases = _resolve_controls(control, a, b, source)
        if aliases:  # several control names: one control, the first name given
            a = np.where(np.isin(a, aliases), ctrl, a).astype(object)
            b = np.where(np.isin(b, aliases), ctrl, b).astype(object)

        if normalize_symbols:
            from naiad_bo.data.symbols import SymbolNormalizer

            names = sorted((set(a) | set(b)) - {ctrl})
            result = SymbolNormalizer.bundled().normalize(names)
            report.renamed_symbols = result.renamed
            report.unresolved_symbols = result.unresolved
            report.ambiguous_symbols = result.ambiguous
            if result.renamed:
                mapping = result.renamed
                a = np.array([mapping.get(x, x) for x in a], dtype=object)
                b = np.array([mapping.get(x, x) for x in b], dtype=object)

        is_ca, is_cb = a == ctrl, b == ctrl
        both = is_ca & is_cb
        single = is_ca ^ is_cb
        pair = ~(is_ca | is_cb)
        report.n_control_control_rows = int(both.sum())
        report.n_control_rows = int(single.sum())
        report.n_pair_rows = int(pair.sum())

        single_gene = np.where(is_ca, b, a)[single]
        singles = (
            pd.DataFrame({"gene": single_gene, "y": score[single]})
            .groupby("gene", sort=True)["y"]
            .agg(["mean", "count", "std"])
        )
        pa, pb, py = a[pair], b[pair], score[pair]
        pair_genes = set(pa) | set(pb)
        without = sorted(pair_genes - set(singles.index))
        if without:
            n_drop_rows = int(np.isin(pa, without).sum() + np.isin(pb, without).sum())
            msg = (
                f"{source}: {len(without)} gene(s) have no row with control {ctrl!r}, so no "
                f"single-gene effect: {without[:10]}{' ...' if len(without) > 10 else ''}"
            )
            if not drop_genes_without_single:
                raise ScreenFormatError(msg)
            keep = ~(np.isin(pa, without) | np.isin(pb, without))
            pairs_before = _n_unordered(pa, pb)
            pa, pb, py = pa[keep], pb[keep], py[keep]
            report.n_pairs_dropped_without_single = pairs_before - _n_unordered(pa, pb)
            report.dropped_genes_without_single = without
            warnings.warn(
                f"{msg}; dropped {report.n_pairs_dropped_without_single} pair(s) "
                f"({n_drop_rows} row-ends) involving them",
                ScreenWarning,
                stacklevel=2,
            )
        genes = list(singles.index)
        if not genes:
            raise ScreenFormatError(f"{source}: no gene has a row with control {ctrl!r}")
        index = {g: i for i, g in enumerate(genes)}
        ia = np.fromiter((index[x] for x in pa), dtype=np.int64, count=len(pa))
        ib = np.fromiter((index[x] for x in pb), dtype=np.int64, count=len(pb))
        lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
        agg = (
            pd.DataFrame({"gene_a": lo, "gene_b": hi, "y": py})
            .groupby(["gene_a", "gene_b"], sort=True)["y"]
            .agg(y="mean", n_obs="count", sd="std")
            .reset_index()
        )
        gene_arr = np.array(genes, dtype=object)
        pairs = pd.DataFrame(
            {
                "gene_a": agg["gene_a"].to_numpy(np.int64),
                "gene_b": agg["gene_b"].to_numpy(np.int64),
                "id1": gene_arr[agg["gene_a"].to_numpy()],
                "id2": gene_arr[agg["gene_b"].to_numpy()],
                "y": agg["y"].to_numpy(np.float64),
                "n_obs": agg["n_obs"].to_numpy(np.int64),
                "sd": agg["sd"].to_numpy(np.float64),
            }
        )
        meta = dict(metadata or {})
        meta.setdefault("source", source)
        return cls(
            genes,
            singles["mean"].to_numpy(np.float64),
            pairs,
            name=name,
            direction=direction,
            control=ctrl,
            single_n_obs=singles["count"].to_numpy(np.int64),
            single_sd=singles["std"].to_numpy(np.float64),
            report=report,
            metadata=meta,
        )

    # ------------------------------------------------------------------ views
    @property
    def n_genes(self) -> int:
        """Number of genes M (all have a single-gene effect)."""
        return len(self.genes)

    @property
    def n_pairs(self) -> int:
        """Number of distinct measured unordered pairs (same-gene pairs included)."""
        return len(self.pairs)

    def pair_index(self) -> np.ndarray:
        """``(n_pairs, 2)`` int64 array of canonical gene-id pairs (gene_a <= gene_b)."""
        return self.pairs[["gene_a", "gene_b"]].to_numpy(np.int64, copy=True)

    def y_values(self) -> np.ndarray:
        """``(n_pairs,)`` float64 pair phenotypes, aligned with :meth:`pair_index`."""
        return self.pairs["y"].to_numpy(np.float64, copy=True)

    def gene_ids(self, names) -> np.ndarray:
        """Gene ids of ``names``; unknown names raise a KeyError-free ValueError listing them."""
        names = [str(n).strip() for n in np.atleast_1d(names)]
        unknown = [n for n in names if n not in self._gene_index]
        if unknown:
            raise ValueError(f"unknown gene(s) in screen {self.name!r}: {unknown[:10]}")
        return np.array([self._gene_index[n] for n in names], dtype=np.int64)

    def additive_prediction(self) -> np.ndarray:
        """``(n_pairs,)`` additive expectation y_a + y_b of every measured pair."""
        idx = self.pair_index()
        return self.single_effects[idx[:, 0]] + self.single_effects[idx[:, 1]]

    def strongest(self, k: int = 10) -> pd.DataFrame:
        """The ``k`` strongest measured pairs under :attr:`direction`."""
        strength = self.direction.strength(self.y_values())
        order = np.argsort(-strength, kind="stable")[:k]
        return self.pairs.iloc[order].reset_index(drop=True)

    def subset_genes(self, genes) -> PairScreen:
        """A screen restricted to ``genes`` (names), with gene ids renumbered."""
        keep = self.gene_ids(genes)
        keep = np.unique(keep)
        new_id = np.full(self.n_genes, -1, dtype=np.int64)
        new_id[keep] = np.arange(len(keep))
        p = self.pairs
        mask = (new_id[p["gene_a"].to_numpy()] >= 0) & (new_id[p["gene_b"].to_numpy()] >= 0)
        sub = p[mask].copy()
        sub["gene_a"] = new_id[sub["gene_a"].to_numpy()]
        sub["gene_b"] = new_id[sub["gene_b"].to_numpy()]
        return PairScreen(
            [self.genes[i] for i in keep],
            self.single_effects[keep],
            sub,
            name=self.name,
            direction=self.direction,
            control=self.control,
            single_n_obs=self.single_n_obs[keep],
            single_sd=self.single_sd[keep],
            metadata=self.metadata,
        )

    def to_frame(self) -> pd.DataFrame:
        """Aggregated table in the ``id1,id2,score`` format (+ ``n_obs``, ``sd``).

        Single effects are written as ``(gene, control)`` rows, so
        ``PairScreen.from_frame(screen.to_frame())`` gives the same screen back.
        """
        singles = pd.DataFrame(
            {
                "id1": self.genes,
                "id2": self.control,
                "score": self.single_effects,
                "n_obs": self.single_n_obs,
                "sd": self.single_sd,
            }
        )
        pairs = self.pairs.rename(columns={"y": "score"})[["id1", "id2", "score", "n_obs", "sd"]]
        return pd.concat([singles, pairs], ignore_index=True)

    def to_csv(self, path: str | Path | None = None) -> str | None:
        """Write :meth:`to_frame` as CSV (to ``path``, or return the text if None)."""
        frame = self.to_frame()
        if path is None:
            buf = io.StringIO()
            frame.to_csv(buf, index=False, float_format="%.10g")
            return buf.getvalue()
        frame.to_csv(path, index=False, float_format="%.10g")
        return None

    def summary(self) -> dict:
        """Headline numbers: genes, pairs, replicate noise floor, additive-model fit."""
        y = self.y_values()
        add = self.additive_prediction()
        resid = y - add
        # least-squares fit y ~ b0 + b1 (y_a + y_b): variance explained
        design = np.column_stack([np.ones_like(add), add])
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        fitted = design @ coef
        r2_fit = 1.0 - np.sum((y - fitted) ** 2) / np.sum((y - y.mean()) ** 2)
        r2_sum = 1.0 - np.sum(resid**2) / np.sum((y - y.mean()) ** 2)
        sd = self.pairs["sd"].to_numpy()
        rep = np.isfinite(sd)
        idx = self.pair_index()
        return {
            "name": self.name,
            "n_genes": self.n_genes,
            "n_pairs": self.n_pairs,
            "n_same_gene_pairs": int((idx[:, 0] == idx[:, 1]).sum()),
            "n_possible_pairs": self.n_genes * (self.n_genes + 1) // 2,
            "n_rows": self.report.n_rows,
            "n_pairs_with_replicates": int(rep.sum()),
            "median_replicate_sd": float(np.median(sd[rep])) if rep.any() else float("nan"),
            "median_single_sd": float(np.nanmedian(self.single_sd))
            if np.isfinite(self.single_sd).any()
            else float("nan"),
            "y_mean": float(y.mean()),
            "y_sd": float(y.std(ddof=1)) if len(y) > 1 else float("nan"),
            "additive_r2_sum": float(r2_sum),
            "additive_r2_fit": float(r2_fit),
            "additive_fit_coef": [float(c) for c in coef],
            "additive_pearson": float(np.corrcoef(y, add)[0, 1]) if len(y) > 2 else float("nan"),
            "direction": self.direction.value,
        }

    def __repr__(self) -> str:
        return (
            f"PairScreen(name={self.name!r}, n_genes={self.n_genes}, n_pairs={self.n_pairs}, "
            f"direction={self.direction.value!r})"
        )

    # ------------------------------------------------------------------ internals
    def _check_pairs(self) -> None:
        need = ["gene_a", "gene_b", "id1", "id2", "y", "n_obs", "sd"]
        missing = [c for c in need if c not in self.pairs.columns]
        if missing:
            raise ValueError(f"pairs table lacks columns {missing}")
        ga = self.pairs["gene_a"].to_numpy()
        gb = self.pairs["gene_b"].to_numpy()
        if len(ga) and (ga.min() < 0 or gb.max() >= self.n_genes):
            raise ValueError("pairs refer to gene ids outside 0..n_genes-1")
        if (ga > gb).any():
            raise ValueError("pairs must be canonical (gene_a <= gene_b)")
        if self.pairs.duplicated(["gene_a", "gene_b"]).any():
            raise ValueError("pairs table holds the same unordered pair twice")
        if not np.isfinite(self.pairs["y"].to_numpy(dtype=float)).all():
            raise ValueError("pairs table holds non-finite y values")


def _lines(lines: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(int(x)) for x in lines[:limit])
    return shown + (f" ... ({len(lines)} in all)" if len(lines) > limit else "")


def _n_unordered(a: np.ndarray, b: np.ndarray) -> int:
    if len(a) == 0:
        return 0
    lo = np.where(a <= b, a, b)
    hi = np.where(a <= b, b, a)
    return len(set(zip(lo.tolist(), hi.tolist())))


def _merge_case_variants(
    a: np.ndarray, b: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, list[str]]]:
    names, counts = np.unique(np.concatenate([a, b]).astype(str), return_counts=True)
    by_key: dict[str, list[tuple[int, str]]] = {}
    for n, c in zip(names, counts):
        by_key.setdefault(n.upper(), []).append((int(c), n))
    mapping: dict[str, str] = {}
    merged: dict[str, list[str]] = {}
    for variants in by_key.values():
        if len(variants) > 1:
            variants.sort(key=lambda t: (-t[0], t[1]))
            keep = variants[0][1]
            merged[keep] = [v for _, v in variants[1:]]
            for _, v in variants[1:]:
                mapping[v] = keep
    if mapping:
        a = np.array([mapping.get(x, x) for x in a], dtype=object)
        b = np.array([mapping.get(x, x) for x in b], dtype=object)
    return a, b, merged


def _resolve_controls(control, a: np.ndarray, b: np.ndarray, source: str
                      ) -> tuple[str, list[str]]:
    """``(name, aliases)`` for one control name or a list of names (e.g. ``["non-targeting",
    "NTC"]``): the first name that occurs, and the other names that occur (read as the same
    control). Names that never occur are ignored if at least one occurs."""
    if isinstance(control, str):
        return _resolve_control(control, a, b, source), []
    try:
        names = [str(c) for c in control]
    except TypeError:
        raise TypeError(
            f"control must be a name or a list of names, got {type(control).__name__}"
        ) from None
    if not names or not all(isinstance(c, str) for c in control):
        raise TypeError(f"control must be a name or a non-empty list of names, got {control!r}")
    found = []
    for name in names:
        try:
            found.append(_resolve_control(name, a, b, source))
        except ScreenFormatError:
            continue
    if not found:
        raise ScreenFormatError(
            f"{source}: none of the control names {names} occurs in the gene columns, so no "
            "single-gene effects can be read"
        )
    return found[0], [n for n in dict.fromkeys(found[1:]) if n != found[0]]


def _resolve_control(control: str, a: np.ndarray, b: np.ndarray, source: str) -> str:
    names = set(a) | set(b)
    if control in names:
        return control
    folded = [n for n in names if n.lower() == control.strip().lower()]
    if len(folded) == 1:
        return folded[0]
    hints = sorted(n for n in names if any(h in n.lower() for h in _CONTROL_HINTS))[:5]
    raise ScreenFormatError(
        f"{source}: control {control!r} never occurs in the gene columns, so no single-gene "
        f"effects can be read" + (f"; candidates: {hints}" if hints else "")
        + "; pass control=NAME"
    )
