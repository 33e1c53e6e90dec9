"""One discovery campaign over the unordered pairs of a fixed gene set: ``ask`` / ``tell``.

:class:`Campaign` is the loop every driver shares (a real lab, the Ax adapter, the
simulator): it holds the genes, their single-gene effects, the measured pairs (every told row
kept, replicate counts included), the pending batches, the round history, the surrogate and
acquisition specs (:mod:`naiad_bo.specs`), the seed, the direction, and whether same-gene
pairs are candidates.

* :meth:`Campaign.ask` fits the surrogate on everything measured, scores every candidate pair
  that is neither measured, pending nor blocked, and returns the exact top-``q`` as a new
  pending batch (columns ``batch, rank, id1, id2, gene_a, gene_b, mean, std, acquisition``).
  While a batch is pending, ``ask`` returns it again unless ``new_batch=True``. With nothing
  measured the first batch is drawn uniformly.
* :meth:`Campaign.tell` attaches ``id1, id2, score`` rows (either order, replicates allowed),
  completes the pending pairs they cover, and returns a :class:`TellReport` (rows attached,
  duplicates ignored, extra pairs never asked for, pending pairs completed).
* :meth:`Campaign.save` / :meth:`Campaign.load`: a versioned JSON file (:data:`FORMAT`,
  :data:`FORMAT_VERSION`) written atomically (temporary file, fsync, rename).
* :meth:`Campaign.propose` returns the batch the next ``ask(new_batch=True)`` would return,
  without recording it (no pending bookkeeping, no round counted): for a driver that keeps its
  own state, such as an Ax generation node.
* :meth:`Campaign.from_state` rebuilds a campaign from stored state (genes, single effects,
  measured rows in the order they were measured, pending pairs, batches asked so far);
  :meth:`Campaign.to_dict` / :meth:`Campaign.from_dict` are the same state as plain data.

Determinism: the surrogate fitted after ``r`` asked batches is seeded by ``(seed, r)`` and
the acquisition choosing batch ``r + 1`` by ``(seed, r + 1)`` (:mod:`naiad_bo.campaign.seeds`),
and the training rows are the measured pairs in the order they were first measured, so
``load`` (or ``from_state``) then ``ask`` returns exactly the batch the original campaign
would have returned.

Told data policies (every error names the rows, 0-based positions of the told table; a
rejected ``tell`` attaches nothing):

* unknown gene names, missing / NaN / infinite scores: error (``drop_invalid_scores=True``
  drops invalid scores instead, counted in the report);
* an empty table, or one whose rows all pair a gene with the control: error. Control rows
  (single-gene effects) in a table with pair rows are kept in the campaign file and counted,
  but do not change the single effects, which are fixed when the campaign starts;
* replicates: a row's identity is ``(pair, replicate)``; without a ``replicate`` column the
  ``k``-th row of a pair within one ``tell`` is replicate ``k``. The same identity told again
  with the same score is a duplicate (ignored, counted: ``tell`` is idempotent); with a
  different score it is a contradiction (error naming both values; give a ``replicate``
  column to add a new replicate of a measured pair);
* a pair never asked for is attached as extra data and counted. An optional ``n_obs`` column
  weights a row that is itself the mean of ``n_obs`` replicates (a pilot screen's pairs are
  told so); a pair's value is the ``n_obs``-weighted mean of its rows.

Example (the lab path)::

    screen = naiad_bo.PairScreen.from_csv("pilot.csv")        # single effects + pilot pairs
    campaign = naiad_bo.Campaign(screen, acquisition="mpe", seed=0)  # naiad-reference
    campaign.ask(96).to_csv("next_library.csv", index=False)
    campaign.save("campaign.json")
    # ... measure ..., later:
    campaign = naiad_bo.Campaign.load("campaign.json")
    campaign.tell(pd.read_csv("results.csv"))                  # id1,id2,score
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from botorch.models.deterministic import DeterministicModel
from botorch.models.ensemble import EnsembleModel

from naiad_bo.acquisition.base import AcquisitionModelError, as_index_pairs
from naiad_bo.campaign.errors import (
    CampaignError,
    CampaignFileError,
    IncompatibleSurrogateError,
    check_count,
)
from naiad_bo.campaign.seeds import STREAM_ACQ, STREAM_MODEL, Clock, derive_seed
from naiad_bo.direction import Direction
from naiad_bo.prediction import predict_mean_std
from naiad_bo.space import CandidateSet, PairSet, PairSpace
from naiad_bo.specs import DEFAULT_SURROGATE, AcquisitionSpec, SurrogateSpec

__all__ = [
    "BATCH_COLUMNS",
    "FORMAT",
    "FORMAT_VERSION",
    "MIN_GENES",
    "Campaign",
    "TellReport",
]

#: ``format`` field of a campaign file.
FORMAT = "naiad_bo.campaign"
#: Version of the campaign file format this code reads and writes.
FORMAT_VERSION = 1
#: Smallest gene set a campaign accepts: with fewer genes there is at most one pair of two
#: distinct genes, nothing to learn about interactions.
MIN_GENES = 3
#: Candidate pairs scored per chunk.
SCORE_CHUNK = 2**17
#: Columns of a batch returned by :meth:`Campaign.ask`.
BATCH_COLUMNS = ("batch", "rank", "id1", "id2", "gene_a", "gene_b", "mean", "std", "acquisition")
_OBS_FIELDS = ("gene_a", "gene_b", "replicate", "score", "n_obs", "round")


@dataclass(frozen=True)
class TellReport:
    """What one :meth:`Campaign.tell` did.

    Attributes:
        n_rows: Rows in the told table.
        attached: Rows attached (new measurements).
        duplicates: Rows already attached before (same pair, replicate and score): ignored.
        new_pairs: Distinct pairs measured for the first time.
        extra_pairs: Distinct attached pairs that no batch ever asked for.
        completed: Pending pairs this call completed.
        still_pending: Pending pairs left afterwards.
        control_rows: Rows pairing a gene with the control (kept, not used by the model).
        dropped_invalid: Rows dropped for an invalid score (``drop_invalid_scores=True``).
    """

    n_rows: int
    attached: int
    duplicates: int
    new_pairs: int
    extra_pairs: int
    completed: int
    still_pending: int
    control_rows: int = 0
    dropped_invalid: int = 0

    def as_dict(self) -> dict:
        """Plain-dict view (JSON friendly)."""
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"told {self.n_rows} row(s): {self.attached} attached ({self.new_pairs} new "
            f"pair(s), {self.extra_pairs} never asked for), {self.duplicates} duplicate(s) "
            f"ignored, {self.completed} pending pair(s) completed, {self.still_pending} still "
            f"pending" + (f", {self.control_rows} control row(s) kept" if self.control_rows else "")
            + (f", {self.dropped_invalid} invalid row(s) dropped" if self.dropped_invalid else "")
        )


@dataclass
class _Batch:
    """One asked batch: its frame and the pairs still open."""

    index: int
    frame: pd.DataFrame
    open: set[tuple[int, int]]


# ---------------------------------------------------------------------------- campaign
class Campaign:
    """The state of one discovery campaign (see the module docstring).

    Args:
        screen: A :class:`~naiad_bo.PairScreen` (or bundled name / CSV path) holding what is
            measured so far: single-gene effects plus pilot pairs (no pilot pairs is allowed;
            the first batch is then uniform).
        surrogate: Spec string (default :data:`~naiad_bo.specs.DEFAULT_SURROGATE`,
            ``"naiad-reference"``; ``"naiad"``, ``"naiad:epochs=100"``), a model class or a
            factory ``f(single_effects, seed=..., **options)``
            (:class:`~naiad_bo.specs.SurrogateSpec`).
        acquisition: Spec string (``"mpe"``, ``"mpe:max_per_gene=8"``, ``"ucb:kappa=2"``), an
            acquisition class or an :class:`~naiad_bo.specs.AcquisitionSpec`.
        seed: Campaign seed (model and acquisition seeds derive from it and the round).
        self_pairs: Whether same-gene pairs ``(a, a)`` are candidates (told ones are data
            either way).
        direction: Which phenotype is strong (default: the screen's).
        surrogate_options: Options merged over the surrogate spec's.
        acquisition_options: Options merged over the acquisition spec's.
        candidates: ``n x 2`` gene-index pairs that may be asked (default: every pair of the
            gene set); e.g. the pairs a library can make.
        blocked: ``n x 2`` pairs never asked (e.g. a held-out test split).
        chunk_size: Candidates scored per chunk (memory bound).
        name: Campaign name (default: the screen's).

    Raises:
        CampaignError: fewer than :data:`MIN_GENES` genes, bad options, an acquisition the
            surrogate cannot serve, bad candidate / blocked pairs.
    """

    def __init__(
        self,
        screen: Any,
        surrogate: SurrogateSpec | str | type | Any = DEFAULT_SURROGATE,
        acquisition: AcquisitionSpec | str | type = "mpe",
        seed: int = 0,
        self_pairs: bool = True,
        *,
        direction: Direction | str | None = None,
        surrogate_options: Mapping[str, Any] | None = None,
        acquisition_options: Mapping[str, Any] | None = None,
        candidates: Any = None,
        blocked: Any = None,
        chunk_size: int = SCORE_CHUNK,
        name: str | None = None,
    ) -> None:
        if isinstance(screen, str) or hasattr(screen, "__fspath__"):
            from naiad_bo.data import resolve_screen

            screen = resolve_screen(screen)
        for attr in ("genes", "single_effects", "pairs", "control"):
            if not hasattr(screen, attr):
                raise TypeError(f"screen must be a PairScreen, got {type(screen).__name__}")
        self._init_core(
            genes=list(screen.genes),
            single_effects=screen.single_effects,
            control=str(screen.control),
            direction=direction if direction is not None else getattr(screen, "direction", None),
            surrogate=surrogate,
            acquisition=acquisition,
            seed=seed,
            self_pairs=self_pairs,
            surrogate_options=surrogate_options,
            acquisition_options=acquisition_options,
            candidates=candidates,
            blocked=blocked,
            chunk_size=chunk_size,
            name=name if name is not None else str(getattr(screen, "name", "campaign")),
        )
        pairs = screen.pairs
        if len(pairs):
            n_obs = (
                pairs["n_obs"].to_numpy(np.int64)
                if "n_obs" in pairs.columns
                else np.ones(len(pairs), dtype=np.int64)
            )
            self._attach(
                pairs["gene_a"].to_numpy(np.int64),
                pairs["gene_b"].to_numpy(np.int64),
                np.zeros(len(pairs), dtype=np.int64),
                pairs["y"].to_numpy(np.float64),
                n_obs,
            )

    def _init_core(
        self, *, genes, single_effects, control, direction, surrogate, acquisition, seed,
        self_pairs, surrogate_options, acquisition_options, candidates, blocked, chunk_size,
        name,
    ) -> None:
        self.name = name
        self.genes: tuple[str, ...] = tuple(str(g) for g in genes)
        if len(set(self.genes)) != len(self.genes):
            raise CampaignError("gene names are not unique")
        self._gene_index = {g: i for i, g in enumerate(self.genes)}
        self.single_effects = np.array(single_effects, dtype=np.float64, copy=True)
        m = len(self.genes)
        if self.single_effects.shape != (m,):
            raise CampaignError(
                f"single_effects has shape {self.single_effects.shape}, expected ({m},)"
            )
        if not np.isfinite(self.single_effects).all():
            bad = [self.genes[i] for i in np.flatnonzero(~np.isfinite(self.single_effects))]
            raise CampaignError(f"non-finite single effects for genes {bad[:10]}")
        if m < MIN_GENES:
            raise CampaignError(
                f"campaign {name!r} has {m} gene(s); a campaign needs at least {MIN_GENES} "
                "(fewer genes leave at most one pair of distinct genes to learn from)"
            )
        self.control = control
        self.direction = Direction.parse(direction)
        self.seed = check_count("seed", seed, 0)
        self.self_pairs = bool(self_pairs)
        self.chunk_size = check_count("chunk_size", chunk_size, 1)
        self.surrogate = SurrogateSpec.parse(surrogate, surrogate_options)
        self.acquisition = AcquisitionSpec.parse(acquisition, acquisition_options)
        self._acq_cls = self.acquisition.resolve()
        self.acquisition.check_options()
        _check_compatible(self.surrogate, self._acq_cls, self.acquisition.name)
        # option names / values fail now, not after the first fit
        self.surrogate.build(self.single_effects, seed=0, genes=self.genes)

        if candidates is None:
            self.candidates: PairSpace | CandidateSet = PairSpace(m, include_self=self.self_pairs)
            self._candidate_pairs = None
        else:
            arr = self._index_pairs(candidates, "candidates")
            if not self.self_pairs:
                arr = arr[arr[:, 0] != arr[:, 1]]
            if not len(arr):
                raise CampaignError("no candidate pairs left")
            self._candidate_pairs = arr
            self.candidates = CandidateSet(arr, m, include_self=self.self_pairs)
        blocked_arr = (
            np.empty((0, 2), dtype=np.int64) if blocked is None
            else self._index_pairs(blocked, "blocked")
        )
        self._blocked = blocked_arr
        self._blocked_flat = self._flat_in_space(blocked_arr)

        # observations, in the order told (pilot first)
        self._obs: dict[str, list] = {f: [] for f in _OBS_FIELDS}
        self._obs_key: dict[tuple[int, int, int], int] = {}
        self._pair_stats: dict[tuple[int, int], list] = {}  # pair -> [sum w*y, sum w, rows, y0]
        self._control_obs: list[tuple[str, float, int]] = []
        self._asked_pairs: set[tuple[int, int]] = set()
        self._batches: list[_Batch] = []
        self.n_asked = 0
        self._history: list[dict] = []
        self._version = 0
        self._fit_cache: tuple[tuple[int, int], Any, tuple[float, float]] | None = None

    # ------------------------------------------------------------------ views
    @property
    def n_genes(self) -> int:
        """Number of genes."""
        return len(self.genes)

    @property
    def n_measured(self) -> int:
        """Number of distinct measured pairs."""
        return len(self._pair_stats)

    @property
    def measured(self) -> pd.DataFrame:
        """Measured pairs in the order first measured: ``id1, id2, gene_a, gene_b, y, n_obs,
        n_rows, first_round`` (``y``: ``n_obs``-weighted mean of the pair's rows)."""
        keys = list(self._pair_stats)
        a = np.array([k[0] for k in keys], dtype=np.int64)
        b = np.array([k[1] for k in keys], dtype=np.int64)
        first_round: dict[tuple[int, int], int] = {}
        for ga, gb, r in zip(self._obs["gene_a"], self._obs["gene_b"], self._obs["round"]):
            first_round.setdefault((ga, gb), r)
        stats = [self._pair_stats[k] for k in keys]
        names = np.array(self.genes, dtype=object)
        return pd.DataFrame(
            {
                "id1": names[a] if len(a) else np.array([], dtype=object),
                "id2": names[b] if len(b) else np.array([], dtype=object),
                "gene_a": a,
                "gene_b": b,
                "y": np.array([_pair_value(s) for s in stats], dtype=np.float64),
                "n_obs": np.array([s[1] for s in stats], dtype=np.int64),
                "n_rows": np.array([s[2] for s in stats], dtype=np.int64),
                "first_round": np.array([first_round[k] for k in keys], dtype=np.int64),
            }
        )

    @property
    def observations(self) -> pd.DataFrame:
        """Every attached row: ``id1, id2, gene_a, gene_b, replicate, score, n_obs, round``."""
        obs = pd.DataFrame({f: self._obs[f] for f in _OBS_FIELDS})
        names = np.array(self.genes, dtype=object)
        obs.insert(0, "id2", names[obs["gene_b"].to_numpy(np.int64)] if len(obs) else [])
        obs.insert(0, "id1", names[obs["gene_a"].to_numpy(np.int64)] if len(obs) else [])
        return obs.astype({"gene_a": np.int64, "gene_b": np.int64, "replicate": np.int64,
                           "score": np.float64, "n_obs": np.int64, "round": np.int64})

    @property
    def pending(self) -> pd.DataFrame:
        """Pending pairs (asked, not yet told): ``batch, rank, id1, id2, gene_a, gene_b``."""
        frames = [b.frame[[(a, c) in b.open for a, c in zip(b.frame["gene_a"], b.frame["gene_b"])]]
                  for b in self._batches if b.open]
        cols = ["batch", "rank", "id1", "id2", "gene_a", "gene_b"]
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype=object if c in ("id1", "id2") else np.int64)
                                 for c in cols})
        return pd.concat(frames, ignore_index=True)[cols]

    @property
    def n_pending(self) -> int:
        """Number of pending pairs."""
        return sum(len(b.open) for b in self._batches)

    @property
    def history(self) -> pd.DataFrame:
        """One row per asked batch: ``batch, n_measured, n_pending, batch_size, fit_s,
        score_s, select_s`` (+ ``*_cpu_s``); ``n_measured`` / ``n_pending``: distinct pairs
        measured / pending when the batch was asked. ``fit_s``: fitting the surrogate used (timed
        when it was fitted; 0 for a uniform first batch);
        ``score_s``: building the acquisition and scoring every available candidate with
        its running exact top-q (one chunked pass); ``select_s``: turning the top-q into the
        batch (posterior mean / std of the batch, names, bookkeeping)."""
        cols = ["batch", "n_measured", "n_pending", "batch_size", "fit_s", "score_s",
                "select_s", "fit_cpu_s", "score_cpu_s", "select_cpu_s"]
        return pd.DataFrame(self._history, columns=cols)

    def n_available(self) -> int:
        """Candidate pairs that are neither measured, pending nor blocked."""
        return int(self.candidates.n_available(self._exclude()))

    def __repr__(self) -> str:
        return (
            f"Campaign(name={self.name!r}, n_genes={self.n_genes}, measured={self.n_measured}, "
            f"pending={self.n_pending}, batches={self.n_asked}, surrogate={self.surrogate.name!r}, "
            f"acquisition={self.acquisition.name!r}, seed={self.seed})"
        )

    # ------------------------------------------------------------------ ask
    def ask(self, q: int, new_batch: bool = False) -> pd.DataFrame:
        """The next batch of ``q`` pairs to measure, recorded as pending.

        Args:
            q: Batch size (``>= 1``).
            new_batch: Ask a further batch although one is pending (the pending pairs are
                excluded from it). Default: return the latest pending batch (its open pairs).

        Returns:
            DataFrame with columns :data:`BATCH_COLUMNS`, best first: ``mean`` / ``std`` the
            surrogate's posterior (``std`` NaN for a deterministic surrogate), ``acquisition``
            the score that ranked the pair (NaN for a uniform first batch).

        Raises:
            CampaignError: ``q < 1``, or ``q`` above the pairs left.
            IncompatibleSurrogateError: the acquisition cannot use the fitted surrogate.
        """
        q = check_count("q", q, 1, hint=" (q = 0 asks for nothing)")
        if not new_batch:
            open_batches = [b for b in self._batches if b.open]
            if open_batches:
                latest = open_batches[-1]
                keep = [(a, b) in latest.open
                        for a, b in zip(latest.frame["gene_a"], latest.frame["gene_b"])]
                return latest.frame[keep].reset_index(drop=True).copy()
        frame, timing = self._propose(q)
        self.n_asked += 1
        frame["batch"] = self.n_asked
        keys = set(zip(frame["gene_a"].tolist(), frame["gene_b"].tolist()))
        self._batches.append(_Batch(self.n_asked, frame.copy(), keys))
        self._asked_pairs |= keys
        fit, score, select = timing
        self._history.append({
            "batch": self.n_asked, "n_measured": self.n_measured,
            "n_pending": self.n_pending - len(keys), "batch_size": len(frame),
            "fit_s": fit[0], "score_s": score[0], "select_s": select[0],
            "fit_cpu_s": fit[1], "score_cpu_s": score[1], "select_cpu_s": select[1],
        })
        return frame.copy()

    def propose(self, q: int) -> pd.DataFrame:
        """The batch :meth:`ask` with ``new_batch=True`` would return now, not recorded.

        Nothing is marked pending and no round is counted, so a driver that keeps its own
        state (an Ax generation node rebuilding the campaign each round with
        :meth:`from_state`) can call it repeatedly and always gets the same batch. Its
        ``batch`` column is the index the batch would get (``n_asked + 1``).
        """
        q = check_count("q", q, 1, hint=" (q = 0 asks for nothing)")
        frame, _ = self._propose(q)
        frame["batch"] = self.n_asked + 1
        return frame

    def fit(self) -> Any:
        """The surrogate fitted on everything measured (seeded by ``(seed, n_asked)``; cached
        until the next :meth:`tell` that attaches rows or the next :meth:`ask`).

        Raises:
            CampaignError: nothing measured yet.
        """
        return self._fitted()[0]

    @property
    def last_fit_seconds(self) -> tuple[float, float]:
        """``(wall, CPU)`` seconds of the cached fit (``(0, 0)`` before any fit)."""
        return (0.0, 0.0) if self._fit_cache is None else self._fit_cache[2]

    def _fitted(self) -> tuple[Any, tuple[float, float]]:
        key = (self._version, self.n_asked)
        if self._fit_cache is not None and self._fit_cache[0] == key:
            return self._fit_cache[1], self._fit_cache[2]
        if not self._pair_stats:
            raise CampaignError("nothing measured yet: tell some pairs before fitting")
        X, Y = self.training_data()
        clock = Clock()
        model = self.surrogate.build(
            self.single_effects, seed=derive_seed(self.seed, self.n_asked, STREAM_MODEL),
            genes=self.genes,
        )
        fitted = model.fit(X, Y)
        model = fitted if fitted is not None else model
        elapsed = clock.stop()
        self._fit_cache = (key, model, elapsed)
        return model, elapsed

    def training_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(train_X, train_Y)``: ``n x 2`` float64 gene-index pairs in the order first
        measured and ``n x 1`` float64 pair values (``n_obs``-weighted means)."""
        keys = list(self._pair_stats)
        X = torch.tensor(keys, dtype=torch.float64).reshape(-1, 2)
        y = [_pair_value(self._pair_stats[k]) for k in keys]
        return X, torch.tensor(y, dtype=torch.float64).reshape(-1, 1)

    def _propose(self, q: int) -> tuple[pd.DataFrame, tuple]:
        exclude = self._exclude()
        available = int(self.candidates.n_available(exclude))
        if q > available:
            raise CampaignError(
                f"q={q} exceeds the {available:,} candidate pair(s) left "
                f"({self.candidates.n_pairs:,} candidates; {self.n_measured:,} measured, "
                f"{self.n_pending:,} pending, {len(self._blocked_flat):,} blocked); lower q"
            )
        none = (0.0, 0.0)
        if not self._pair_stats:
            clock = Clock()
            pairs = self.candidates.sample(
                q, seed=derive_seed(self.seed, self.n_asked + 1, STREAM_ACQ), exclude=exclude
            ).numpy()
            pairs = np.sort(pairs, axis=1)
            nan = np.full(q, np.nan)
            frame = self._frame(pairs, nan, nan, nan)
            return frame, (none, none, clock.stop())
        from naiad_bo.acquisition.selection import select_batch

        model, fit_t = self._fitted()
        X, Y = self.training_data()
        clock = Clock()
        try:
            acqf = self.acquisition.build(
                model, X, Y, torch.from_numpy(self.single_effects.copy()),
                direction=self.direction,
                seed=derive_seed(self.seed, self.n_asked + 1, STREAM_ACQ),
            )
            selection = select_batch(
                acqf, self.candidates, q, exclude=exclude, chunk_size=self.chunk_size,
                progress=False, **dict(self.acquisition.select_options),
            )
        except IncompatibleSurrogateError:
            raise
        except AcquisitionModelError as err:
            raise IncompatibleSurrogateError(
                f"acquisition {self.acquisition.name!r} cannot use surrogate "
                f"{self.surrogate.name!r}: {err}"
            ) from err
        score_t = clock.stop()
        clock = Clock()
        pairs = selection.pairs.cpu().numpy().astype(np.int64)
        if len(pairs) != q or len({(a, b) for a, b in pairs.tolist()}) != q:
            raise RuntimeError(f"batch selection returned {len(pairs)} pair(s) for q={q}")
        mean, std = predict_mean_std(model, torch.from_numpy(pairs).to(torch.float64))
        frame = self._frame(
            pairs, mean, std, selection.scores.detach().to(torch.float64).cpu().numpy()
        )
        return frame, (fit_t, score_t, clock.stop())

    def _frame(self, pairs: np.ndarray, mean, std, score) -> pd.DataFrame:
        names = np.array(self.genes, dtype=object)
        return pd.DataFrame({
            "batch": np.full(len(pairs), self.n_asked + 1, dtype=np.int64),
            "rank": np.arange(1, len(pairs) + 1, dtype=np.int64),
            "id1": names[pairs[:, 0]],
            "id2": names[pairs[:, 1]],
            "gene_a": pairs[:, 0].astype(np.int64),
            "gene_b": pairs[:, 1].astype(np.int64),
            "mean": np.asarray(mean, dtype=np.float64),
            "std": np.asarray(std, dtype=np.float64),
            "acquisition": np.asarray(score, dtype=np.float64),
        })

    def _exclude(self) -> PairSet:
        keys = list(self._pair_stats) + [k for b in self._batches for k in b.open]
        arr = np.array(keys, dtype=np.int64).reshape(-1, 2)
        flat = np.concatenate([self._flat_in_space(arr), self._blocked_flat])
        return PairSet(self.candidates, flat)

    def _flat_in_space(self, pairs: np.ndarray) -> np.ndarray:
        """Flat indices (candidate space numbering) of the pairs that belong to the space."""
        if not len(pairs):
            return np.empty(0, dtype=np.int64)
        if not self.candidates.space.include_self:
            pairs = pairs[pairs[:, 0] != pairs[:, 1]]
        return np.unique(np.asarray(self.candidates.space.to_flat(pairs), dtype=np.int64))

    # ------------------------------------------------------------------ tell
    def tell(self, results: pd.DataFrame | str | Path, *,
             drop_invalid_scores: bool = False) -> TellReport:
        """Attach measured rows ``id1, id2, score`` (optional ``replicate``, ``n_obs``).

        Args:
            results: A DataFrame or a CSV path. Gene names in either order; rows pairing a
                gene with the control are single-effect rows (kept, not used).
            drop_invalid_scores: Drop rows with a missing / NaN / infinite score (counted)
                instead of rejecting the table.

        Returns:
            A :class:`TellReport`.

        Raises:
            CampaignError: empty table, missing columns, unknown genes, invalid scores,
                only control rows, contradictory scores (rows named; nothing attached).
        """
        if isinstance(results, str | Path):
            results = pd.read_csv(results, dtype={"id1": str, "id2": str},
                                  keep_default_na=False)
        if not isinstance(results, pd.DataFrame):
            raise TypeError(f"tell needs a DataFrame or a CSV path, got {type(results).__name__}")
        df = results.reset_index(drop=True)
        missing = [c for c in ("id1", "id2", "score") if c not in df.columns]
        if missing:
            raise CampaignError(
                f"tell: missing column(s) {missing}; found {list(df.columns)} (need id1, id2, "
                "score)"
            )
        n_rows = len(df)
        if n_rows == 0:
            raise CampaignError("tell got an empty table: no rows to attach")
        a = df["id1"].astype(str).str.strip().to_numpy(dtype=object)
        b = df["id2"].astype(str).str.strip().to_numpy(dtype=object)
        score = pd.to_numeric(df["score"], errors="coerce").to_numpy(dtype=np.float64)
        rows = np.arange(n_rows)
        dropped = 0
        bad = ~np.isfinite(score)
        if bad.any():
            detail = _rows_text(rows[bad], a[bad], b[bad], df["score"].to_numpy()[bad])
            if not drop_invalid_scores:
                raise CampaignError(
                    f"tell: {int(bad.sum())} row(s) with a missing, non-numeric or infinite "
                    f"score ({detail}); fix them or pass drop_invalid_scores=True"
                )
            warnings.warn(f"tell: dropped {int(bad.sum())} row(s) with invalid scores ({detail})",
                          UserWarning, stacklevel=2)
            dropped = int(bad.sum())
        keep = ~bad
        is_ca, is_cb = a == self.control, b == self.control
        control = keep & (is_ca | is_cb)
        pair_rows = keep & ~(is_ca | is_cb)
        unknown = np.array([x not in self._gene_index or y not in self._gene_index
                            for x, y in zip(a, b)], dtype=bool) & pair_rows
        unknown |= control & np.array(
            [(x if y == self.control else y) not in self._gene_index and
             not (x == y == self.control) for x, y in zip(a, b)], dtype=bool)
        if unknown.any():
            names = sorted({n for x, y in zip(a[unknown], b[unknown]) for n in (x, y)
                            if n not in self._gene_index and n != self.control})
            raise CampaignError(
                f"tell: {int(unknown.sum())} row(s) name gene(s) not in the campaign "
                f"{names[:10]} ({_rows_text(rows[unknown], a[unknown], b[unknown])}); a "
                "campaign's gene set is fixed when it starts"
            )
        if not pair_rows.any():
            raise CampaignError(
                f"tell: all {int(keep.sum())} valid row(s) pair a gene with the control "
                f"{self.control!r} (single-gene effects); a campaign's single effects are fixed "
                "when it starts, so there is nothing to attach"
            )
        idx = rows[pair_rows]
        ia = np.array([self._gene_index[x] for x in a[idx]], dtype=np.int64)
        ib = np.array([self._gene_index[x] for x in b[idx]], dtype=np.int64)
        lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
        s = score[idx]
        weight = (self._int_column(df, "n_obs", idx, 1, default=1))
        if "replicate" in df.columns:
            rep = self._int_column(df, "replicate", idx, 0, default=0)
        else:
            rep = pd.DataFrame({"a": lo, "b": hi}).groupby(["a", "b"]).cumcount().to_numpy(
                np.int64)

        # duplicates and contradictions, within the call and against what is attached
        new: list[int] = []
        seen: dict[tuple[int, int, int], int] = {}
        problems: list[str] = []
        duplicates = 0
        for j in range(len(idx)):
            key = (int(lo[j]), int(hi[j]), int(rep[j]))
            if key in seen:  # told earlier in this table
                old, where = s[seen[key]], f"row {idx[seen[key]]} of this table"
            elif key in self._obs_key:  # attached before
                pos = self._obs_key[key]
                old, where = self._obs["score"][pos], f"round {self._obs['round'][pos]}"
            else:
                seen[key] = j
                new.append(j)
                continue
            if _same(old, s[j]):
                duplicates += 1
            else:
                problems.append(
                    f"row {idx[j]} ({a[idx[j]]}, {b[idx[j]]}) replicate {key[2]}: "
                    f"{float(s[j])!r} contradicts {float(old)!r} told in {where}"
                )
        if problems:
            raise CampaignError(
                f"tell: {len(problems)} contradictory score(s): " + "; ".join(problems[:10])
                + ("; ..." if len(problems) > 10 else "")
                + ". A pair's replicate is told once; add a 'replicate' column to tell a new "
                "replicate of a measured pair"
            )

        new_idx = np.array(new, dtype=np.int64)
        before = set(self._pair_stats)
        told_pairs = set(zip(lo.tolist(), hi.tolist()))
        new_keys = set(zip(lo[new_idx].tolist(), hi[new_idx].tolist())) if new else set()
        self._attach(lo[new_idx], hi[new_idx], rep[new_idx], s[new_idx], weight[new_idx])
        completed = 0
        for batch in self._batches:
            done = batch.open & told_pairs
            completed += len(done)
            batch.open -= done
        for j in rows[control]:
            gene = b[j] if a[j] == self.control else a[j]
            self._control_obs.append((str(gene), float(score[j]), self.n_asked))
        return TellReport(
            n_rows=n_rows,
            attached=len(new),
            duplicates=duplicates,
            new_pairs=len(new_keys - before),
            extra_pairs=len(new_keys - self._asked_pairs),
            completed=completed,
            still_pending=self.n_pending,
            control_rows=int(control.sum()),
            dropped_invalid=dropped,
        )

    def _int_column(self, df: pd.DataFrame, col: str, idx: np.ndarray, minimum: int,
                    default: int) -> np.ndarray:
        if col not in df.columns:
            return np.full(len(idx), default, dtype=np.int64)
        raw = pd.to_numeric(df[col].iloc[idx], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(raw) | (raw != np.round(raw)) | (raw < minimum)
        if bad.any():
            raise CampaignError(
                f"tell: column {col!r} must hold integers >= {minimum}; bad row(s) "
                f"{idx[bad][:10].tolist()}"
            )
        return raw.astype(np.int64)

    def _attach(self, a, b, rep, score, n_obs) -> None:
        """Append observations (canonical pairs, validated) in order."""
        if not len(a):
            return
        for ga, gb, r, s, w in zip(np.asarray(a).tolist(), np.asarray(b).tolist(),
                                   np.asarray(rep).tolist(), np.asarray(score).tolist(),
                                   np.asarray(n_obs).tolist()):
            key = (ga, gb, r)
            if key in self._obs_key:
                raise CampaignError(f"observation {key} attached twice")
            self._obs_key[key] = len(self._obs["score"])
            for f, v in zip(_OBS_FIELDS, (ga, gb, r, s, w, self.n_asked)):
                self._obs[f].append(v)
            stats = self._pair_stats.get((ga, gb))
            if stats is None:
                self._pair_stats[(ga, gb)] = [w * s, w, 1, s]
            else:
                stats[0] += w * s
                stats[1] += w
                stats[2] += 1
        self._version += 1

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        """The campaign as JSON-friendly data (what :meth:`save` writes)."""
        sur_cls, acq_cls = _importable(self.surrogate.surrogate), _importable(
            self.acquisition.acquisition)
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "name": self.name,
            "genes": list(self.genes),
            "single_effects": [float(x) for x in self.single_effects],
            "control": self.control,
            "direction": self.direction.value,
            "seed": self.seed,
            "self_pairs": self.self_pairs,
            "chunk_size": self.chunk_size,
            "surrogate": {"text": self.surrogate.to_text(), "label": self.surrogate.label,
                          "class": sur_cls, "options": _jsonable(self.surrogate.options)},
            "acquisition": {"text": self.acquisition.to_text(), "label": self.acquisition.label,
                            "class": acq_cls,
                            "options": _jsonable({**self.acquisition.options,
                                                  **self.acquisition.select_options})},
            "candidates": None if self._candidate_pairs is None
            else self._candidate_pairs.tolist(),
            "blocked": self._blocked.tolist(),
            "observations": {f: list(self._obs[f]) for f in _OBS_FIELDS},
            "control_observations": [list(x) for x in self._control_obs],
            "n_asked": self.n_asked,
            "batches": [
                {"batch": bt.index,
                 "pairs": bt.frame[["gene_a", "gene_b"]].to_numpy(np.int64).tolist(),
                 "mean": _floats(bt.frame["mean"]), "std": _floats(bt.frame["std"]),
                 "acquisition": _floats(bt.frame["acquisition"]),
                 "open": sorted([list(k) for k in bt.open])}
                for bt in self._batches
            ],
            "history": [dict(h) for h in self._history],
            "n_measured_pairs": self.n_measured,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, surrogate: Any = None,
                  acquisition: Any = None, source: str = "campaign data") -> Campaign:
        """Rebuild a campaign from :meth:`to_dict` data.

        Args:
            data: The mapping.
            surrogate, acquisition: Override the stored specs (needed when the campaign was
                built with a class or factory that cannot be imported by name).
            source: Name used in error messages (the file path for :meth:`load`).

        Raises:
            CampaignFileError: other format or version, missing fields, inconsistent state
                (pending pairs also measured, ids out of range, counts that disagree).
        """
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, Mapping) else None
            raise CampaignFileError(
                f"{source}: not a naiad_bo campaign file (format field {found!r})"
            )
        version = data.get("format_version")
        if version != FORMAT_VERSION:
            raise CampaignFileError(
                f"{source}: campaign format version {version!r}; this naiad_bo reads version "
                f"{FORMAT_VERSION}"
            )
        try:
            obs = data["observations"]
            genes = list(data["genes"])
            m = len(genes)
            surrogate = surrogate if surrogate is not None else _stored_spec(
                data["surrogate"], "surrogate", source)
            acquisition = acquisition if acquisition is not None else _stored_spec(
                data["acquisition"], "acquisition", source)
            self = cls.__new__(cls)
            self._init_core(
                genes=genes, single_effects=data["single_effects"], control=data["control"],
                direction=data["direction"], surrogate=surrogate, acquisition=acquisition,
                seed=data["seed"], self_pairs=data["self_pairs"], surrogate_options=None,
                acquisition_options=None,
                candidates=None if data["candidates"] is None
                else np.asarray(data["candidates"], dtype=np.int64).reshape(-1, 2),
                blocked=np.asarray(data["blocked"], dtype=np.int64).reshape(-1, 2),
                chunk_size=data["chunk_size"], name=data["name"],
            )
            cols = {f: np.asarray(obs[f]) for f in _OBS_FIELDS}
            n = {len(v) for v in cols.values()}
            if len(n) != 1:
                raise CampaignFileError(f"{source}: observation columns differ in length")
            ga, gb = cols["gene_a"].astype(np.int64), cols["gene_b"].astype(np.int64)
            if len(ga) and (ga.min() < 0 or gb.max() >= m or (ga > gb).any()):
                raise CampaignFileError(f"{source}: observations hold gene ids outside "
                                        f"0..{m - 1} or non-canonical pairs")
            if not np.isfinite(cols["score"].astype(np.float64)).all():
                raise CampaignFileError(f"{source}: observations hold non-finite scores")
            rounds = cols["round"].astype(np.int64)
            if not np.all(np.diff(rounds) >= 0):
                raise CampaignFileError(f"{source}: observations are not in the order told")
            for r in np.unique(rounds):  # attach with the round each row was told in
                sel = rounds == r
                self.n_asked = int(r)
                self._attach(ga[sel], gb[sel], cols["replicate"].astype(np.int64)[sel],
                             cols["score"].astype(np.float64)[sel],
                             cols["n_obs"].astype(np.int64)[sel])
            self._control_obs = [(str(g), float(v), int(r))
                                 for g, v, r in data["control_observations"]]
            self.n_asked = check_count("n_asked", data["n_asked"], 0)
            for bt in data["batches"]:
                pairs = np.asarray(bt["pairs"], dtype=np.int64).reshape(-1, 2)
                if len(pairs) and (pairs.min() < 0 or pairs.max() >= m):
                    raise CampaignFileError(f"{source}: batch {bt['batch']} holds gene ids "
                                            f"outside 0..{m - 1}")
                frame = self._frame(pairs, _nan_floats(bt["mean"]), _nan_floats(bt["std"]),
                                    _nan_floats(bt["acquisition"]))
                frame["batch"] = int(bt["batch"])
                open_ = {(int(x), int(y)) for x, y in bt["open"]}
                keys = set(zip(frame["gene_a"].tolist(), frame["gene_b"].tolist()))
                if not open_ <= keys:
                    raise CampaignFileError(
                        f"{source}: batch {bt['batch']} has pending pairs it never asked for")
                both = sorted(open_ & set(self._pair_stats))
                if both:
                    raise CampaignFileError(
                        f"{source}: {len(both)} pending pair(s) of batch {bt['batch']} are "
                        f"also measured, e.g. {[(genes[x], genes[y]) for x, y in both[:5]]}; "
                        "the file is inconsistent (edited by hand?)"
                    )
                self._batches.append(_Batch(int(bt["batch"]), frame, open_))
                self._asked_pairs |= keys
            if self._batches and max(b.index for b in self._batches) > self.n_asked:
                raise CampaignFileError(f"{source}: batch index above n_asked")
            self._history = [dict(h) for h in data["history"]]
            if int(data["n_measured_pairs"]) != self.n_measured:
                raise CampaignFileError(
                    f"{source}: {self.n_measured} measured pair(s) in the observations, but "
                    f"the file says {data['n_measured_pairs']}"
                )
        except CampaignFileError:
            raise
        except (KeyError, TypeError, ValueError, IndexError) as err:
            raise CampaignFileError(
                f"{source}: inconsistent campaign file ({type(err).__name__}: {err})"
            ) from err
        return self

    def save(self, path: str | Path) -> Path:
        """Write the campaign as versioned JSON, atomically (temporary file, fsync, rename).

        Returns:
            The path written.
        """
        path = Path(path)
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        _atomic_write(path, text)
        return path

    @classmethod
    def load(cls, path: str | Path, *, surrogate: Any = None,
             acquisition: Any = None) -> Campaign:
        """Read a campaign written by :meth:`save` (see :meth:`from_dict` for overrides).

        Raises:
            FileNotFoundError: no such file.
            CampaignFileError: truncated / not JSON, other format version, inconsistent.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise CampaignFileError(
                f"{path}: not a campaign file (not UTF-8 text: {err})"
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise CampaignFileError(
                f"{path}: truncated or not a campaign file ({len(text)} bytes; JSON error at "
                f"line {err.lineno}, column {err.colno}: {err.msg})"
            ) from None
        return cls.from_dict(data, surrogate=surrogate, acquisition=acquisition,
                             source=str(path))

    @classmethod
    def from_state(
        cls,
        genes: Sequence[str],
        single_effects: Any,
        measured: pd.DataFrame,
        pending: Any = None,
        n_asked: int = 0,
        *,
        control: str = "negative",
        name: str = "campaign",
        **kwargs: Any,
    ) -> Campaign:
        """Rebuild a campaign from stored state (e.g. an Ax experiment's data, each round).

        The result proposes what the original in-memory campaign proposes, provided
        ``measured`` lists the rows in the order they were told (the original's pilot pairs
        first, with their ``n_obs``) and ``n_asked`` is the number of batches asked so far.

        Args:
            genes: Gene names (the gene ids are their positions).
            single_effects: ``(M,)`` single-gene effects.
            measured: ``id1, id2, score`` rows (optional ``replicate``, ``n_obs``), in the
                order told; may be empty.
            pending: Pending pairs: an ``(n, 2)`` gene-index array or a frame with ``id1,
                id2``; recorded as one open batch with index ``n_asked``.
            n_asked: Batches asked so far (the seed of the next fit / acquisition).
            control: Control name (for control rows in ``measured``).
            name: Campaign name.
            **kwargs: :class:`Campaign` options (``surrogate``, ``acquisition``, ``seed``,
                ``self_pairs``, ``direction``, ``candidates``, ``blocked``, ...).
        """
        from naiad_bo.data.screen import PairScreen

        empty = pd.DataFrame({
            "gene_a": np.empty(0, np.int64), "gene_b": np.empty(0, np.int64), "id1": [],
            "id2": [], "y": np.empty(0), "n_obs": np.empty(0, np.int64), "sd": np.empty(0),
        })
        screen = PairScreen(list(genes), np.asarray(single_effects, dtype=np.float64), empty,
                            name=name, control=control,
                            direction=kwargs.pop("direction", None) or Direction.MINIMIZE)
        self = cls(screen, **kwargs)
        n_asked = check_count("n_asked", n_asked, 0)
        if measured is not None and len(measured):
            self.tell(measured)
        self.n_asked = n_asked
        if pending is not None and len(pending):
            if isinstance(pending, pd.DataFrame):
                pairs = np.column_stack([self._ids(pending["id1"]), self._ids(pending["id2"])])
            else:
                pairs = self._index_pairs(pending, "pending")
            pairs = np.sort(pairs, axis=1)
            both = sorted(set(map(tuple, pairs.tolist())) & set(self._pair_stats))
            if both:
                named = [(self.genes[a], self.genes[b]) for a, b in both[:5]]
                raise CampaignError(
                    f"from_state: {len(both)} pending pair(s) are also measured, e.g. {named}"
                )
            nan = np.full(len(pairs), np.nan)
            frame = self._frame(pairs, nan, nan, nan)
            frame["batch"] = max(n_asked, 1)
            keys = set(zip(frame["gene_a"].tolist(), frame["gene_b"].tolist()))
            self._batches.append(_Batch(max(n_asked, 1), frame, keys))
            self._asked_pairs |= keys
        return self

    def copy(self, acquisition: AcquisitionSpec | str | type | None = None) -> Campaign:
        """An independent copy (optionally with another acquisition); a fitted surrogate of
        the current state is shared, not refitted."""
        data = self.to_dict()
        surrogate = self.surrogate
        acq = self.acquisition if acquisition is None else acquisition
        other = Campaign.from_dict(data, surrogate=surrogate, acquisition=acq)
        other._fit_cache = self._fit_cache
        return other

    # ------------------------------------------------------------------ helpers
    def _ids(self, names) -> np.ndarray:
        out = []
        for n in names:
            n = str(n).strip()
            if n not in self._gene_index:
                raise CampaignError(f"unknown gene {n!r}")
            out.append(self._gene_index[n])
        return np.array(out, dtype=np.int64)

    def _index_pairs(self, pairs: Any, what: str) -> np.ndarray:
        """Validated ``(n, 2)`` canonical int64 gene-id pairs (the package's index validator,
        :func:`~naiad_bo.acquisition.base.as_index_pairs`, plus the gene range)."""
        try:
            tensor = pairs if isinstance(pairs, torch.Tensor) else torch.as_tensor(
                np.array(pairs))  # a copy: the caller's array may be read-only
            arr = as_index_pairs(tensor.detach().cpu()).numpy()
        except (TypeError, ValueError, RuntimeError) as err:
            raise CampaignError(f"{what}: {err}") from err
        if arr.ndim != 2:
            raise CampaignError(f"{what} must be an (n, 2) array of gene ids, got shape "
                                f"{arr.shape}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_genes):
            raise CampaignError(f"{what} refer to gene ids outside 0..{self.n_genes - 1}")
        return np.sort(arr, axis=1)


# ---------------------------------------------------------------------------- functions
def _pair_value(stats: list) -> float:
    """A pair's value: its only row's score, else the n_obs-weighted mean."""
    return float(stats[3]) if stats[2] == 1 else float(stats[0] / stats[1])


def _same(x: float, y: float) -> bool:
    return math.isclose(float(x), float(y), rel_tol=1e-9, abs_tol=1e-12)


def _rows_text(rows, a, b, values=None, limit: int = 5) -> str:
    parts = []
    for i in range(min(limit, len(rows))):
        extra = f": {values[i]!r}" if values is not None else ""
        parts.append(f"row {int(rows[i])} ({a[i]}, {b[i]}){extra}")
    more = f", ... ({len(rows)} in all)" if len(rows) > limit else ""
    return ", ".join(parts) + more


def _check_compatible(surrogate: SurrogateSpec, acq_cls: type, acq_name: str) -> None:
    """Fail early when a surrogate class statically cannot serve an acquisition."""
    target = surrogate.resolve()
    if not isinstance(target, type):
        return
    requires = frozenset(getattr(acq_cls, "requires", frozenset()))
    spread = requires & {"variance", "members"}
    problem = None
    if spread and issubclass(target, DeterministicModel):
        problem = (
            f"surrogate {surrogate.name!r} ({target.__name__}) is deterministic: it has no "
            f"{'/'.join(sorted(spread))}"
        )
    elif "members" in requires and not issubclass(target, EnsembleModel):
        problem = f"surrogate {surrogate.name!r} ({target.__name__}) is not an ensemble"
    if problem:
        raise IncompatibleSurrogateError(
            f"acquisition {acq_name!r} ({acq_cls.__name__}) needs the model's "
            f"{', '.join(sorted(requires))}, but {problem}; use an ensemble surrogate (e.g. "
            "'naiad') or an acquisition that needs only the mean (e.g. 'mpe', 'uniform')"
        )


def _floats(values) -> list:
    return [None if not math.isfinite(float(v)) else float(v) for v in values]


def _nan_floats(values) -> np.ndarray:
    return np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)


def _jsonable(options: Mapping[str, Any]) -> dict:
    out = {}
    for k, v in options.items():
        try:
            json.dumps(v, allow_nan=False)
            out[k] = v
        except (TypeError, ValueError):
            out[k] = repr(v)
    return out


def _importable(obj: Any) -> str | None:
    """``module:qualname`` of a class / function importable under that name, else None."""
    if isinstance(obj, str):
        return None
    module, qual = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if not module or not qual or "<" in qual:
        return None
    try:
        found = _import(f"{module}:{qual}")
    except (ImportError, AttributeError):
        return None
    return f"{module}:{qual}" if found is obj else None


def _import(path: str) -> Any:
    import importlib

    module, _, qual = path.partition(":")
    obj = importlib.import_module(module)
    for part in qual.split("."):
        obj = getattr(obj, part)
    return obj


def _stored_spec(entry: Mapping[str, Any], kind: str, source: str) -> Any:
    """A spec from a file's ``surrogate`` / ``acquisition`` entry."""
    if entry.get("text"):
        if kind == "surrogate":
            return SurrogateSpec.parse(entry["text"], label=entry.get("label"))
        spec = AcquisitionSpec.parse(entry["text"])
        if entry.get("label") and entry["label"] != spec.name:
            spec = AcquisitionSpec(spec.acquisition, spec.options, spec.select_options,
                                   entry["label"])
        return spec
    if entry.get("class"):
        try:
            target = _import(entry["class"])
        except (ImportError, AttributeError) as err:
            raise CampaignFileError(
                f"{source}: cannot import the {kind} {entry['class']!r} ({err}); pass "
                f"Campaign.load(path, {kind}=...)"
            ) from None
        options = dict(entry.get("options") or {})
        if kind == "surrogate":
            return SurrogateSpec.parse(target, options, label=entry.get("label"))
        return AcquisitionSpec.parse(target, options)
    raise CampaignFileError(
        f"{source}: the {kind} was a class or factory that cannot be imported by name; pass "
        f"Campaign.load(path, {kind}=...)"
    )


def _atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder, fsync, then rename over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    try:  # make the rename itself durable (POSIX)
        fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

