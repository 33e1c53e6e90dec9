"""Simulated AI + lab campaigns on a measured screen (NAIAD paper section 5.3, appendix D).

The screen is the lab's oracle: "measuring" a pair reveals its value in the screen. A campaign
for one seed runs:

1. **Split** (:mod:`~naiad_bo.campaign.protocol`): the paper protocol holds out 30% of the
   pairs as a never-acquirable test split; the prospective protocol holds out nothing.
2. **Round 0**: ``initial`` pairs drawn uniformly from the acquirable pairs. The split and
   the initial library depend on the seed only, so every acquisition of a seed starts from
   the same data (the paper: "we started with the same uniformly sampled gene pairs for all
   acquisition functions").
3. After each round ``r = 0 .. R``: a fresh surrogate (seeded by ``(seed, r)``) is fitted on
   the measured pairs, it predicts every pair of the screen, and the round is recorded.
4. **Round r >= 1**: the acquisition, built from the round ``r - 1`` model
   (``Cls.from_training_data``), selects ``batch`` new pairs among the acquirable,
   not-yet-measured ones with :func:`naiad_bo.acquisition.select_batch` (exact top-q in one
   chunked pass; no per-pair Python loop). The paper's "round 4" is after 4 acquisition
   rounds: ``initial + 4 * batch`` pairs measured.

Recorded per round (see :data:`naiad_bo.campaign.result.RECORD_FIELDS`):

* ``top_k_discovered`` (and ``top{k}_discovered`` for a curve of ``k``): the paper's
  definition. ``X`` = measured values for measured pairs, predictions for all others
  (test pairs included); count ``|topk(X) & topk(y)|`` with the true top-k over *all* pairs
  of the screen (:func:`naiad_bo.metrics.top_k_curve`). Aligned arrays, so no pair is ever
  left at its prediction after being measured (the reference code's merge bug).
* ``measured_top_k`` (``measured_top{k}``): true top-k pairs actually measured (lab's view).
* ``batch_top_k_hits``, ``batch_mean_y``: how good this round's library was.
* ``hit_ratio``: fraction of the strongest ``hit_frac`` (5%) of pairs measured (GeneDisco).
* ``test_rmse``, ``test_pearson``: on the test split (NaN without one);
  ``unmeasured_rmse``: on every pair not measured yet.
* ``fit_s`` (surrogate fit), ``score_s`` (posterior mean of every pair of the screen),
  ``select_s`` (building the acquisition and selecting the batch measured in this round:
  one scoring pass over the remaining candidates; round 0: the uniform draw), ``round_s``
  (their sum): wall-clock seconds; ``*_cpu_s``: the same as process CPU seconds, which stay
  comparable on a shared machine (with one torch thread, CPU time ~ wall time when idle).

For an incomplete screen only measured pairs exist in the oracle, so the candidates are the
screen's pairs (a :class:`~naiad_bo.space.CandidateSet`); a complete screen uses the
:class:`~naiad_bo.space.PairSpace` itself.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from botorch.models.deterministic import DeterministicModel
from botorch.models.ensemble import EnsembleModel
from tqdm.auto import tqdm

from naiad_bo.acquisition.base import AcquisitionModelError
from naiad_bo.campaign.protocol import CampaignProtocol, get_protocol
from naiad_bo.campaign.result import CampaignResult, CampaignResults
from naiad_bo.direction import Direction
from naiad_bo.evaluation import predict_mean
from naiad_bo.metrics import pearson, rmse, strength_order, top_k_curve
from naiad_bo.space import CandidateSet, PairSet, PairSpace

__all__ = [
    "DEFAULT_CURVE_KS",
    "MIN_GENES",
    "AcquisitionSpec",
    "CampaignError",
    "CampaignSimulator",
    "IncompatibleSurrogateError",
    "predict_mean",
    "run_campaigns",
    "simulate_campaign",
]

#: Default ``k`` values of the top-k discovery curve (those above the screen size are dropped).
DEFAULT_CURVE_KS: tuple[int, ...] = (10, 25, 50, 100, 200, 500, 1000)
#: Smallest screen a campaign accepts: with fewer genes there is at most one pair of two
#: distinct genes, nothing to learn about interactions.
MIN_GENES = 3
#: Keyword arguments of :func:`~naiad_bo.acquisition.select_batch` that an
#: :class:`AcquisitionSpec` may set (everything else goes to the acquisition).
SELECT_OPTIONS = frozenset({"max_per_gene"})
#: Pairs per posterior call when predicting every pair of a screen.
PREDICT_CHUNK = 2**17

# stream ids of the seed derivation (see _derive_seed)
_STREAM_SPLIT, _STREAM_MODEL, _STREAM_ACQ = 0, 1, 2


class CampaignError(ValueError):
    """A campaign cannot run as configured (sizes, screen, names, options)."""


class IncompatibleSurrogateError(AcquisitionModelError, ValueError):
    """The surrogate cannot provide what the acquisition needs (e.g. variance from ``sum``)."""


# ---------------------------------------------------------------------------- specs
@dataclass(frozen=True)
class AcquisitionSpec:
    """An acquisition as a campaign uses it: class, its options, batch-selection options.

    Args:
        acquisition: Registry name (``"mpe"``, ``"ucb"``, ...) or an acquisition class with
            ``from_training_data``.
        options: The acquisition's own hyper-parameters (``kappa``, ``temperature``, ...).
        select_options: Options of :func:`~naiad_bo.acquisition.select_batch`
            (``max_per_gene``).
        label: Name in the records (default: registry name, plus ``:key=value`` options).
    """

    acquisition: str | type
    options: Mapping[str, Any] = field(default_factory=dict)
    select_options: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None

    @classmethod
    def parse(cls, spec: AcquisitionSpec | str | type) -> AcquisitionSpec:
        """Accept a spec, a class, a name, or ``"name:key=value,key=value"``.

        Values are read as Python literals (``"mpe:max_per_gene=8"``,
        ``"ucb:kappa=2.0"``); ``max_per_gene`` goes to the batch selection, any other key
        to the acquisition.
        """
        if isinstance(spec, AcquisitionSpec):
            return spec
        if isinstance(spec, type):
            return cls(spec)
        if not isinstance(spec, str):
            raise TypeError(
                f"acquisition must be a name, a class or an AcquisitionSpec, got "
                f"{type(spec).__name__}"
            )
        name, _, rest = spec.partition(":")
        name = name.strip()
        if not name:
            raise CampaignError(f"empty acquisition name in {spec!r}")
        options: dict[str, Any] = {}
        select: dict[str, Any] = {}
        for item in filter(None, (p.strip() for p in rest.split(","))):
            key, eq, raw = item.partition("=")
            key = key.strip()
            if not eq or not key:
                raise CampaignError(
                    f"bad acquisition option {item!r} in {spec!r}; expected key=value"
                )
            value = _literal(raw.strip())
            (select if key in SELECT_OPTIONS else options)[key] = value
        return cls(name, options, select, label=spec.strip() if rest.strip() else None)

    @property
    def name(self) -> str:
        """Label used in records."""
        if self.label:
            return self.label
        if isinstance(self.acquisition, str):
            return self.acquisition.strip().lower()
        return self.acquisition.__name__

    def resolve(self) -> type:
        """The acquisition class (registry lookup for names)."""
        if isinstance(self.acquisition, str):
            from naiad_bo.acquisition.registry import get_acquisition_class

            return get_acquisition_class(self.acquisition)
        if not callable(getattr(self.acquisition, "from_training_data", None)):
            raise TypeError(
                f"{self.acquisition!r} has no from_training_data(model, train_X, train_Y, "
                "single_effects, direction=..., seed=...) constructor"
            )
        return self.acquisition


def _literal(raw: str) -> Any:
    import ast

    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw


def _resolve_surrogate(spec: str | type | Callable) -> tuple[str, Callable]:
    """``(name, factory)``: ``factory(single_effects, seed=..., **options)`` -> unfitted model."""
    if isinstance(spec, str):
        from naiad_bo.models.registry import get_model_class

        cls = get_model_class(spec)
        return spec.strip().lower(), cls
    if callable(spec):
        return getattr(spec, "__name__", type(spec).__name__), spec
    raise TypeError(
        f"surrogate must be a registry name, a model class or a factory, got {type(spec).__name__}"
    )


def _check_compatible(surrogate: Any, acq_cls: type, surrogate_name: str, acq_name: str) -> None:
    """Fail early when a surrogate class statically cannot serve an acquisition."""
    if not isinstance(surrogate, type):
        return
    requires = frozenset(getattr(acq_cls, "requires", frozenset()))
    spread = requires & {"variance", "members"}
    problem = None
    if spread and issubclass(surrogate, DeterministicModel):
        problem = (
            f"surrogate {surrogate_name!r} ({surrogate.__name__}) is deterministic: it has no "
            f"{'/'.join(sorted(spread))}"
        )
    elif "members" in requires and not issubclass(surrogate, EnsembleModel):
        problem = f"surrogate {surrogate_name!r} ({surrogate.__name__}) is not an ensemble"
    if problem:
        raise IncompatibleSurrogateError(
            f"acquisition {acq_name!r} ({acq_cls.__name__}) needs the model's "
            f"{', '.join(sorted(requires))}, but {problem}; use an ensemble surrogate (e.g. "
            "'naiad') or an acquisition that needs only the mean (e.g. 'mpe', 'uniform')"
        )


def _derive_seed(seed: int, round_: int, stream: int) -> int:
    """A 31-bit seed for (campaign seed, round, stream), independent across streams."""
    state = np.random.SeedSequence([int(seed), int(round_), int(stream)]).generate_state(1)
    return int(state[0] & 0x7FFFFFFF)


class _Clock:
    """Wall-clock and process CPU seconds since construction (``stop()`` -> both)."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def stop(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


@dataclass
class _SeedState:
    """Round-0 state of one seed, shared by every acquisition of that seed."""

    seed: int
    acquirable: np.ndarray
    test: np.ndarray
    rows: np.ndarray
    model: Any
    record: dict


# ---------------------------------------------------------------------------- simulator
class CampaignSimulator:
    """Replays AI + lab campaigns on a measured screen (see the module docstring).

    Args:
        screen: A :class:`~naiad_bo.PairScreen`, or a bundled name / CSV path.
        surrogate: Registry name (``"naiad"``, ``"linear"``, ``"sum"``, ...), a model class,
            or a factory ``f(single_effects, seed=..., **options)`` returning an unfitted
            model with ``.fit(train_X, train_Y) -> model`` and ``.posterior``. A fresh model
            is built every round, seeded by ``(seed, round)``.
        initial: Pairs measured in round 0 (uniform draw).
        batch: Pairs acquired per round (``q``).
        rounds: Acquisition rounds after round 0 (paper: 4).
        protocol: ``"paper"`` (30% test split never acquirable), ``"prospective"``, or a
            :class:`~naiad_bo.campaign.protocol.CampaignProtocol`.
        top_k: ``k`` of the headline discovery metric (paper: 200).
        curve_ks: Further ``k`` values recorded as ``top{k}_discovered`` /
            ``measured_top{k}`` (values above the screen size are dropped).
        direction: Which phenotype is strong (default: the screen's).
        surrogate_options: Hyper-parameters passed to the surrogate constructor.
        hit_frac: Fraction of strongest pairs behind ``hit_ratio``.
        chunk_size: Pairs per chunk when scoring and selecting.
        progress: Show a progress bar over model fits.
        surrogate_label: Name of the surrogate in the records (default: the registry name,
            or the class / factory name), e.g. to tell two option sets apart.

    Raises:
        CampaignError: too few genes, ``batch < 1``, ``initial < 1``, ``rounds < 0``,
            ``initial + rounds * batch`` above the acquirable pairs, ``top_k`` above the
            number of pairs.
    """

    def __init__(
        self,
        screen: Any,
        surrogate: str | type | Callable = "naiad",
        *,
        initial: int = 100,
        batch: int = 100,
        rounds: int = 4,
        protocol: CampaignProtocol | str = "paper",
        top_k: int = 200,
        curve_ks: Iterable[int] = DEFAULT_CURVE_KS,
        direction: Direction | str | None = None,
        surrogate_options: Mapping[str, Any] | None = None,
        hit_frac: float = 0.05,
        chunk_size: int = PREDICT_CHUNK,
        progress: bool = False,
        surrogate_label: str | None = None,
    ) -> None:
        if isinstance(screen, str) or hasattr(screen, "__fspath__"):
            from naiad_bo.data import resolve_screen

            screen = resolve_screen(screen)
        for attr in ("pair_index", "y_values", "single_effects", "n_genes", "n_pairs"):
            if not hasattr(screen, attr):
                raise TypeError(f"screen must be a PairScreen, got {type(screen).__name__}")
        self.screen = screen
        self.initial = _check_count("initial", initial, 1)
        self.batch = _check_count("batch", batch, 1, hint=" (q = 0 selects nothing)")
        self.rounds = _check_count("rounds", rounds, 0)
        self.protocol = get_protocol(protocol)
        self.direction = Direction.parse(
            direction if direction is not None else getattr(screen, "direction", None)
        )
        self.surrogate_name, self.surrogate_factory = _resolve_surrogate(surrogate)
        if surrogate_label is not None:
            self.surrogate_name = str(surrogate_label)
        self.surrogate_options = dict(surrogate_options or {})
        self.progress = bool(progress)
        self.chunk_size = _check_count("chunk_size", chunk_size, 1)
        if not 0.0 < float(hit_frac) <= 1.0:
            raise CampaignError(f"hit_frac must be in (0, 1], got {hit_frac}")
        self.hit_frac = float(hit_frac)

        n_genes, n_pairs = int(screen.n_genes), int(screen.n_pairs)
        name = getattr(screen, "name", "screen")
        if n_genes < MIN_GENES:
            raise CampaignError(
                f"screen {name!r} has {n_genes} gene(s); a campaign needs at least {MIN_GENES} "
                "(fewer genes leave at most one pair of distinct genes to learn from)"
            )
        self.top_k = _check_count("top_k", top_k, 1)
        if self.top_k > n_pairs:
            raise CampaignError(
                f"top_k={self.top_k} exceeds the {n_pairs:,} pairs of screen {name!r}; "
                "pass a smaller top_k"
            )
        ks = {int(k) for k in curve_ks if 1 <= int(k) <= n_pairs}
        self.curve_ks = tuple(sorted(ks | {self.top_k}))
        self.n_test = len(self.protocol.split(n_pairs, np.random.default_rng(0))[1])
        self.n_acquirable = n_pairs - self.n_test
        need = self.initial + self.rounds * self.batch
        if need > self.n_acquirable:
            held = (
                f" ({self.n_test:,} of {n_pairs:,} are held out by the {self.protocol.name} "
                "protocol's test split)"
                if self.n_test
                else ""
            )
            raise CampaignError(
                f"initial {self.initial:,} + {self.rounds} rounds x batch {self.batch:,} = "
                f"{need:,} pairs, but screen {name!r} has only {self.n_acquirable:,} "
                f"acquirable pairs{held}; lower batch, rounds or initial"
            )

        # aligned per-pair arrays over the screen's rows
        self._pairs_np = np.ascontiguousarray(screen.pair_index(), dtype=np.int64)
        self._pairs = torch.from_numpy(self._pairs_np.copy())
        self._y = np.asarray(screen.y_values(), dtype=np.float64)
        self._single = np.array(screen.single_effects, dtype=np.float64, copy=True)
        order = strength_order(self._y, self.direction)
        self._rank = np.empty(n_pairs, dtype=np.int64)
        self._rank[order] = np.arange(n_pairs)
        self._true_order = order
        self._n_hits = max(1, int(np.ceil(self.hit_frac * n_pairs - 1e-9)))

        # hyper-parameter names / values fail now, not after the first fit
        try:
            self.surrogate_factory(self._single, seed=0, **self.surrogate_options)
        except (TypeError, ValueError) as err:
            raise CampaignError(
                f"cannot build surrogate {self.surrogate_name!r} with options "
                f"{self.surrogate_options}: {err}"
            ) from err

        # candidates: the complete space when the screen is complete, else its pairs
        same = self._pairs_np[:, 0] == self._pairs_np[:, 1]
        if n_pairs == PairSpace(n_genes).n_pairs:
            self.candidates: PairSpace | CandidateSet = PairSpace(n_genes)
        elif not same.any() and n_pairs == PairSpace(n_genes, include_self=False).n_pairs:
            self.candidates = PairSpace(n_genes, include_self=False)
        else:
            self.candidates = CandidateSet(self._pairs_np, n_genes)
        flat = np.asarray(self.candidates.space.to_flat(self._pairs_np), dtype=np.int64)
        self._flat = flat
        self._flat_order = np.argsort(flat, kind="stable")
        self._flat_sorted = flat[self._flat_order]

    # ------------------------------------------------------------------ public API
    def run(
        self,
        acquisition: AcquisitionSpec | str | type = "mpe",
        seed: int = 0,
        *,
        acquisition_options: Mapping[str, Any] | None = None,
    ) -> CampaignResult:
        """Run one campaign.

        Args:
            acquisition: Registry name, class, ``"name:key=value"`` or
                :class:`AcquisitionSpec`.
            seed: Campaign seed (split, initial library, model and acquisition seeds).
            acquisition_options: Extra options of the acquisition (merged into the spec).

        Returns:
            A :class:`~naiad_bo.campaign.result.CampaignResult` with rounds ``0 .. R``.
        """
        spec = AcquisitionSpec.parse(acquisition)
        if acquisition_options:
            spec = AcquisitionSpec(
                spec.acquisition,
                {**spec.options, **acquisition_options},
                spec.select_options,
                spec.label,
            )
        return self.run_many([spec], [seed])[0]

    def run_many(
        self,
        acquisitions: Sequence[AcquisitionSpec | str | type],
        seeds: Iterable[int] = (0,),
    ) -> CampaignResults:
        """Run every acquisition for every seed; round 0 is fitted once per seed and shared.

        Sharing is exact: round 0 depends only on the seed, so the records equal those of
        separate :meth:`run` calls (up to the shared round-0 timings).

        Returns:
            :class:`~naiad_bo.campaign.result.CampaignResults`, seed-major.
        """
        if isinstance(acquisitions, str | type | AcquisitionSpec):
            acquisitions = [acquisitions]
        specs = [AcquisitionSpec.parse(a) for a in acquisitions]
        if not specs:
            raise CampaignError("no acquisition given")
        names = [s.name for s in specs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise CampaignError(f"acquisition label(s) given twice: {dupes}")
        classes = [s.resolve() for s in specs]
        for spec, cls in zip(specs, classes):
            _check_compatible(self.surrogate_factory, cls, self.surrogate_name, spec.name)
            unknown = set(spec.select_options) - SELECT_OPTIONS
            if unknown:
                raise CampaignError(f"unknown selection option(s) {sorted(unknown)}")
            _check_options(cls, spec)
        seeds = [_check_seed(s) for s in seeds]
        if not seeds:
            raise CampaignError("no seed given")
        if len(set(seeds)) != len(seeds):
            raise CampaignError(f"seeds given twice: {seeds}")

        total = len(seeds) * (1 + len(specs) * self.rounds)
        bar = tqdm(
            total=total,
            desc=f"{self.surrogate_name} on {getattr(self.screen, 'name', 'screen')}",
            unit="fit",
            disable=not self.progress,
        )
        results = CampaignResults()
        try:
            for seed in seeds:
                state = self._round0(seed)
                bar.update(1)
                for spec, cls in zip(specs, classes):
                    bar.set_postfix_str(f"seed {seed}, {spec.name}")
                    results.extend([self._campaign(state, spec, cls, bar)])
        finally:
            bar.close()
        return results

    def config(self, acquisition: str = "", seed: int | None = None) -> dict:
        """JSON-friendly settings of a campaign."""
        return {
            "screen": getattr(self.screen, "name", "screen"),
            "n_genes": int(self.screen.n_genes),
            "n_pairs": int(self.screen.n_pairs),
            "surrogate": self.surrogate_name,
            "surrogate_options": dict(self.surrogate_options),
            "acquisition": acquisition,
            "seed": seed,
            "initial": self.initial,
            "batch": self.batch,
            "rounds": self.rounds,
            **self.protocol.describe(),
            "n_test": self.n_test,
            "n_acquirable": self.n_acquirable,
            "top_k": self.top_k,
            "curve_ks": list(self.curve_ks),
            "direction": self.direction.value,
            "candidates": type(self.candidates).__name__,
            "torch_threads": torch.get_num_threads(),
        }

    # ------------------------------------------------------------------ internals
    def _round0(self, seed: int) -> _SeedState:
        rng = np.random.default_rng(_derive_seed(seed, 0, _STREAM_SPLIT))
        clock = _Clock()
        acquirable, test = self.protocol.split(int(self.screen.n_pairs), rng)
        rows = np.sort(rng.choice(acquirable, size=self.initial, replace=False)).astype(np.int64)
        select_s = clock.stop()
        model, fit_s = self._fit(rows, seed, 0)
        pred, score_s = self._predict(model)
        record = self._record(
            rows, rows, test, pred, seed=seed, round_=0, acquirable=len(acquirable),
            fit_s=fit_s, score_s=score_s, select_s=select_s,
        )
        return _SeedState(seed, acquirable, test, rows, model, record)

    def _campaign(self, state: _SeedState, spec: AcquisitionSpec, cls: type, bar) -> CampaignResult:
        seed = state.seed
        label = spec.name
        records = [dict(state.record, acquisition=label)]
        batches = [self._pairs_np[state.rows]]
        measured_rows = state.rows
        model = state.model
        for r in range(1, self.rounds + 1):
            new_rows, select_s = self._select(model, measured_rows, state.test, spec, cls, seed, r)
            measured_rows = np.concatenate([measured_rows, new_rows])
            batches.append(self._pairs_np[new_rows])
            model, fit_s = self._fit(measured_rows, seed, r)
            pred, score_s = self._predict(model)
            rec = self._record(
                measured_rows, new_rows, state.test, pred, seed=seed, round_=r,
                acquirable=len(state.acquirable), fit_s=fit_s, score_s=score_s,
                select_s=select_s,
            )
            rec["acquisition"] = label
            records.append(rec)
            bar.update(1)
        config = self.config(label, seed)
        config["acquisition_options"] = dict(spec.options)
        config["select_options"] = dict(spec.select_options)
        return CampaignResult(
            records=records,
            config=config,
            batches=batches,
            test_pairs=self._pairs_np[state.test],
        )

    def _train_data(self, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        X = torch.from_numpy(self._pairs_np[rows].copy())
        Y = torch.from_numpy(self._y[rows].copy()).unsqueeze(-1)
        return X, Y

    def _fit(self, rows: np.ndarray, seed: int, round_: int) -> tuple[Any, float]:
        X, Y = self._train_data(rows)
        clock = _Clock()
        model = self.surrogate_factory(
            self._single, seed=_derive_seed(seed, round_, _STREAM_MODEL), **self.surrogate_options
        )
        fitted = model.fit(X, Y)
        model = fitted if fitted is not None else model
        return model, clock.stop()

    def _predict(self, model: Any) -> tuple[np.ndarray, tuple[float, float]]:
        clock = _Clock()
        pred = predict_mean(model, self._pairs, self.chunk_size)
        if not np.isfinite(pred).all():
            raise FloatingPointError(
                f"surrogate {self.surrogate_name!r} predicted NaN/inf for "
                f"{int((~np.isfinite(pred)).sum())} pair(s)"
            )
        return pred, clock.stop()

    def _select(
        self,
        model: Any,
        measured_rows: np.ndarray,
        test_rows: np.ndarray,
        spec: AcquisitionSpec,
        cls: type,
        seed: int,
        round_: int,
    ) -> tuple[np.ndarray, tuple[float, float]]:
        from naiad_bo.acquisition.selection import select_batch

        X, Y = self._train_data(measured_rows)
        clock = _Clock()
        exclude = PairSet(
            self.candidates, self._flat[np.concatenate([measured_rows, test_rows])]
        )
        try:
            acqf = cls.from_training_data(
                model,
                X,
                Y,
                torch.from_numpy(self._single.copy()),
                direction=self.direction,
                seed=_derive_seed(seed, round_, _STREAM_ACQ),
                **dict(spec.options),
            )
            selection = select_batch(
                acqf,
                self.candidates,
                self.batch,
                exclude=exclude,
                chunk_size=self.chunk_size,
                progress=False,
                **dict(spec.select_options),
            )
        except IncompatibleSurrogateError:
            raise
        except AcquisitionModelError as err:
            raise IncompatibleSurrogateError(
                f"acquisition {spec.name!r} cannot use surrogate {self.surrogate_name!r}: {err}"
            ) from err
        select_s = clock.stop()
        pairs = selection.pairs if hasattr(selection, "pairs") else selection[0]
        rows = self._rows_of(pairs)
        taken = np.zeros(len(self._y), dtype=bool)
        taken[measured_rows] = True
        taken[test_rows] = True
        if len(rows) != self.batch or len(np.unique(rows)) != len(rows) or taken[rows].any():
            raise RuntimeError(
                f"batch selection returned {len(rows)} pair(s) ({len(np.unique(rows))} "
                f"distinct, {int(taken[rows].sum())} already measured or held out) for "
                f"q={self.batch}"
            )
        return rows, select_s

    def _rows_of(self, pairs: torch.Tensor | np.ndarray) -> np.ndarray:
        """Screen rows of gene-index pairs (vectorised; every pair must be in the screen)."""
        arr = pairs.cpu().numpy() if isinstance(pairs, torch.Tensor) else np.asarray(pairs)
        flat = np.asarray(self.candidates.space.to_flat(arr.reshape(-1, 2)), dtype=np.int64)
        pos = np.searchsorted(self._flat_sorted, flat)
        pos = np.minimum(pos, len(self._flat_sorted) - 1)
        if not np.array_equal(self._flat_sorted[pos], flat):
            raise RuntimeError("batch selection returned pairs that are not in the screen")
        return self._flat_order[pos]

    def _record(
        self,
        measured_rows: np.ndarray,
        batch_rows: np.ndarray,
        test_rows: np.ndarray,
        pred: np.ndarray,
        *,
        seed: int,
        round_: int,
        acquirable: int,
        fit_s: tuple[float, float],
        score_s: tuple[float, float],
        select_s: tuple[float, float],
    ) -> dict:
        y = self._y
        measured = np.zeros(len(y), dtype=bool)
        measured[measured_rows] = True
        ks = np.asarray(self.curve_ks, dtype=np.int64)
        curve = top_k_curve(y, pred, measured, ks, self.direction)
        recall_cum = np.cumsum(measured[self._true_order])
        recall = recall_cum[ks - 1]
        k_idx = int(np.searchsorted(ks, self.top_k))
        unmeasured = ~measured
        has_test = len(test_rows) > 0
        rec: dict[str, Any] = {
            "screen": getattr(self.screen, "name", "screen"),
            "surrogate": self.surrogate_name,
            "acquisition": "",
            "protocol": self.protocol.name,
            "seed": int(seed),
            "round": int(round_),
            "n_measured": int(measured.sum()),
            "n_acquired": int(len(batch_rows)),
            "n_available": int(acquirable - measured.sum()),
            "top_k": self.top_k,
            "top_k_discovered": int(curve[k_idx]),
            "measured_top_k": int(recall[k_idx]),
            "batch_top_k_hits": int((self._rank[batch_rows] < self.top_k).sum()),
            "batch_mean_y": float(y[batch_rows].mean()),
            "hit_ratio": float(recall_cum[self._n_hits - 1] / self._n_hits),
            "test_rmse": rmse(y[test_rows], pred[test_rows]) if has_test else float("nan"),
            "test_pearson": (
                pearson(y[test_rows], pred[test_rows]) if len(test_rows) > 1 else float("nan")
            ),
            "unmeasured_rmse": (
                rmse(y[unmeasured], pred[unmeasured]) if unmeasured.any() else float("nan")
            ),
            "fit_s": fit_s[0],
            "score_s": score_s[0],
            "select_s": select_s[0],
            "round_s": fit_s[0] + score_s[0] + select_s[0],
            "fit_cpu_s": fit_s[1],
            "score_cpu_s": score_s[1],
            "select_cpu_s": select_s[1],
            "round_cpu_s": fit_s[1] + score_s[1] + select_s[1],
        }
        for k, c, m in zip(ks.tolist(), curve.tolist(), recall.tolist()):
            rec[f"top{k}_discovered"] = int(c)
            rec[f"measured_top{k}"] = int(m)
        return rec


# ---------------------------------------------------------------------------- functions
def simulate_campaign(
    screen: Any,
    surrogate: str | type | Callable = "naiad",
    acquisition: AcquisitionSpec | str | type = "mpe",
    initial: int = 100,
    batch: int = 100,
    rounds: int = 4,
    seed: int = 0,
    protocol: CampaignProtocol | str = "paper",
    **kwargs: Any,
) -> CampaignResult:
    """Simulate one AI + lab campaign (see :class:`CampaignSimulator` for every option).

    Example:
        >>> screen = naiad_bo.load_screen("norman2019")
        >>> res = simulate_campaign(screen, "naiad", "mpe", initial=100, batch=100, rounds=4)
        >>> res.to_frame()[["round", "n_measured", "top200_discovered", "measured_top200"]]

    Args:
        screen: :class:`~naiad_bo.PairScreen` (or bundled name / CSV path): the oracle.
        surrogate: Registry name, model class or factory; fresh model every round.
        acquisition: Registry name, class, ``"name:key=value"`` or :class:`AcquisitionSpec`.
        initial, batch, rounds: Round-0 size, batch size ``q``, acquisition rounds.
        seed: Campaign seed.
        protocol: ``"paper"`` / ``"prospective"`` or a protocol instance.
        **kwargs: Further :class:`CampaignSimulator` options (``top_k``, ``curve_ks``,
            ``direction``, ``surrogate_options``, ``progress``, ...) and
            ``acquisition_options``.
    """
    acquisition_options = kwargs.pop("acquisition_options", None)
    sim = CampaignSimulator(
        screen, surrogate, initial=initial, batch=batch, rounds=rounds, protocol=protocol,
        **kwargs,
    )
    return sim.run(acquisition, seed, acquisition_options=acquisition_options)


def run_campaigns(
    screen: Any,
    surrogate: str | type | Callable = "naiad",
    acquisitions: Sequence[AcquisitionSpec | str | type] = ("mpe", "uniform"),
    seeds: Iterable[int] = (0, 1, 2),
    **kwargs: Any,
) -> CampaignResults:
    """Run several acquisitions over several seeds (round 0 shared per seed).

    Keyword arguments are :class:`CampaignSimulator` options.
    """
    return CampaignSimulator(screen, surrogate, **kwargs).run_many(acquisitions, seeds)


# ---------------------------------------------------------------------------- validation
def _check_count(name: str, value: Any, minimum: int, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise CampaignError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise CampaignError(f"{name} must be >= {minimum}, got {value}{hint}")
    return int(value)


def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise CampaignError(f"seeds must be non-negative integers, got {seed!r}")
    return int(seed)


def _check_options(cls: type, spec: AcquisitionSpec) -> None:
    """Unknown acquisition options fail before any model is fitted."""
    if not spec.options:
        return
    hook = cls.from_training_data
    params = set(inspect.signature(hook).parameters)
    params |= set(inspect.signature(cls.__init__).parameters)
    params -= {"self", "cls", "model", "options", "kwargs"}
    unknown = sorted(set(spec.options) - params)
    if unknown:
        raise CampaignError(
            f"acquisition {spec.name!r} ({cls.__name__}) has no option(s) {unknown}; "
            f"known: {sorted(params - {'train_X', 'train_Y', 'single_effects'})}"
        )

