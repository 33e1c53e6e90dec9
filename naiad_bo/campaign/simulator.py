"""Simulated AI + lab campaigns on a measured screen (NAIAD paper section 5.3, appendix D).

The simulator is a client of :class:`~naiad_bo.campaign.Campaign`, the loop a real lab
uses: a :class:`~naiad_bo.campaign.oracle.ScreenOracle` (the fully measured screen) answers
every ``ask`` with a ``tell``, and a :class:`~naiad_bo.campaign.recorder.CampaignRecorder`
records each round with :mod:`naiad_bo.metrics`. A campaign for one seed runs:

1. **Split** (:mod:`~naiad_bo.campaign.protocol`): the paper protocol holds out 30% of the
   pairs as a never-acquirable test split (``blocked`` pairs of the campaign); the
   prospective protocol holds out nothing.
2. **Round 0**: ``initial`` pairs drawn uniformly from the acquirable pairs are the
   campaign's pilot screen. The split and the initial library depend on the seed only, so
   every acquisition of a seed starts from the same data (the paper: "we started with the
   same uniformly sampled gene pairs for all acquisition functions").
3. After each round ``r = 0 .. R``: the campaign's surrogate (seeded by ``(seed, r)``) is
   fitted on the measured pairs, it predicts every pair of the screen, and the round is
   recorded. The next ``ask`` reuses that fit.
4. **Round r >= 1**: ``campaign.ask(batch)`` builds the acquisition from the round ``r - 1``
   model (``Cls.from_training_data``, seeded by ``(seed, r)``) and selects the exact top-q
   among the acquirable, not-yet-measured pairs (:func:`naiad_bo.acquisition.select_batch`);
   the oracle measures them and ``campaign.tell`` attaches them. The paper's "round 4" is
   after 4 acquisition rounds: ``initial + 4 * batch`` pairs measured.

**Mean-only fits.** When every acquisition of a seed reads only the posterior mean (MPE,
uniform: :attr:`~naiad_bo.specs.AcquisitionSpec.reads_only_mean`), the campaigns fit
:meth:`~naiad_bo.specs.SurrogateSpec.for_mean_only`: the default network's 2-fold variance
calibration, which only rescales the spread around an unchanged mean, is skipped (about
half the fit; batches and records are the same bit for bit). A calibration named in the
surrogate options is kept. Each result's config records what was fitted
(``surrogate_options_fitted``). A lab's own :class:`~naiad_bo.campaign.Campaign` always fits
the spec as given (its batches report the calibrated ``std``).

Records are described in :mod:`naiad_bo.campaign.recorder`; ``select_s`` of round ``r >= 1``
is the ask minus its fit (building the acquisition, one scoring pass over the remaining
candidates, the batch's posterior), of round 0 the uniform draw; ``fit_s`` / ``score_s`` are
the fit of the round's model and the prediction of every pair of the screen.

With ``self_pairs=False`` same-gene pairs are removed from the screen before anything else:
they are neither candidates nor counted in the true top-k (two guides against one gene are
not a genetic interaction). The default keeps them, as the paper does.

For an incomplete screen only measured pairs exist in the oracle, so the campaign's
candidates are the screen's pairs (a :class:`~naiad_bo.space.CandidateSet`); a complete
screen uses the :class:`~naiad_bo.space.PairSpace` itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch

from naiad_bo.campaign.campaign import MIN_GENES, SCORE_CHUNK, Campaign
from naiad_bo.campaign.errors import CampaignError, IncompatibleSurrogateError, check_count
from naiad_bo.campaign.oracle import ScreenOracle
from naiad_bo.campaign.protocol import CampaignProtocol, get_protocol
from naiad_bo.campaign.recorder import CampaignRecorder
from naiad_bo.campaign.result import CampaignResult, CampaignResults
from naiad_bo.campaign.seeds import STREAM_SPLIT, Clock, derive_seed
from naiad_bo.direction import Direction
from naiad_bo.prediction import predict_mean
from naiad_bo.space import CandidateSet, PairSpace
from naiad_bo.specs import DEFAULT_SURROGATE, AcquisitionSpec, SurrogateSpec

if TYPE_CHECKING:
    from naiad_bo.campaign.executors import Executor

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
#: Pairs per posterior call when predicting every pair of a screen.
PREDICT_CHUNK = SCORE_CHUNK


class CampaignSimulator:
    """Replays AI + lab campaigns on a measured screen (see the module docstring).

    Args:
        screen: A :class:`~naiad_bo.PairScreen`, or a bundled name / CSV path.
        surrogate: Spec string (default :data:`~naiad_bo.specs.DEFAULT_SURROGATE`;
            ``"naiad"``, ``"naiad:epochs=100"``), a model class, or a
            factory ``f(single_effects, seed=..., **options)`` (:mod:`naiad_bo.specs`). A
            fresh model is built every round, seeded by ``(seed, round)``.
        initial: Pairs measured in round 0 (uniform draw).
        batch: Pairs acquired per round (``q``).
        rounds: Acquisition rounds after round 0 (paper: 4).
        protocol: ``"paper"`` (30% test split never acquirable), ``"prospective"``, or a
            :class:`~naiad_bo.campaign.protocol.CampaignProtocol`.
        top_k: ``k`` of the headline discovery metric (paper: 200).
        curve_ks: Further ``k`` values recorded as ``top{k}_discovered`` /
            ``measured_top{k}`` (values above the screen size are dropped).
        direction: Which phenotype is strong (default: the screen's).
        surrogate_options: Options merged over the surrogate spec's.
        hit_frac: Fraction of strongest pairs behind ``hit_ratio``.
        chunk_size: Pairs per chunk when scoring and selecting.
        progress: Show a progress bar over model fits.
        surrogate_label: Name of the surrogate in the records (default: the spec text, or
            the class / factory name), e.g. to tell two option sets apart.
        self_pairs: Keep same-gene pairs (default, as the paper); ``False`` removes them from
            the screen (neither candidates nor part of the true top-k).

    Raises:
        CampaignError: too few genes, ``batch < 1``, ``initial < 1``, ``rounds < 0``,
            ``initial + rounds * batch`` above the acquirable pairs, ``top_k`` above the
            number of pairs, bad surrogate options.
    """

    def __init__(
        self,
        screen: Any,
        surrogate: SurrogateSpec | str | type | Callable = DEFAULT_SURROGATE,
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
        self_pairs: bool = True,
    ) -> None:
        if isinstance(screen, str) or hasattr(screen, "__fspath__"):
            from naiad_bo.data import resolve_screen

            screen = resolve_screen(screen)
        for attr in ("pair_index", "y_values", "single_effects", "n_genes", "n_pairs"):
            if not hasattr(screen, attr):
                raise TypeError(f"screen must be a PairScreen, got {type(screen).__name__}")
        self.self_pairs = bool(self_pairs)
        if not self.self_pairs:
            screen = _without_self_pairs(screen)
        self.screen = screen
        self.initial = check_count("initial", initial, 1)
        self.batch = check_count("batch", batch, 1, hint=" (q = 0 selects nothing)")
        self.rounds = check_count("rounds", rounds, 0)
        self.protocol = get_protocol(protocol)
        self.direction = Direction.parse(
            direction if direction is not None else getattr(screen, "direction", None)
        )
        self.surrogate = SurrogateSpec.parse(surrogate, surrogate_options, label=surrogate_label)
        self.surrogate_name = self.surrogate.name
        self.surrogate_options = dict(self.surrogate.options)
        self.progress = bool(progress)
        self.chunk_size = check_count("chunk_size", chunk_size, 1)
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
        self.top_k = check_count("top_k", top_k, 1)
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
        self.oracle = ScreenOracle(screen)
        self._pairs = torch.from_numpy(self.oracle.pairs.astype(np.float64))  # BoTorch: floats
        same = self.oracle.pairs[:, 0] == self.oracle.pairs[:, 1]
        complete_with_self = n_pairs == PairSpace(n_genes).n_pairs
        complete_without = (
            not same.any() and n_pairs == PairSpace(n_genes, include_self=False).n_pairs
        )
        #: Candidate pairs handed to each campaign (None: the whole pair space).
        self._candidates = None if complete_with_self or complete_without else self.oracle.pairs
        self._campaign_self_pairs = not complete_without
        #: The campaigns' candidate pairs (a PairSpace for a complete screen).
        self.candidates: PairSpace | CandidateSet = (
            PairSpace(n_genes, include_self=self._campaign_self_pairs)
            if self._candidates is None
            else CandidateSet(self.oracle.pairs, n_genes)
        )
        # surrogate option names / values fail now, not after the first fit
        try:
            self.surrogate.build(np.asarray(screen.single_effects, dtype=np.float64), seed=0,
                                 genes=list(screen.genes))
        except ValueError as err:
            raise CampaignError(str(err)) from err

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
            acquisition: Spec string (``"mpe"``, ``"ucb:kappa=2"``), class or
                :class:`~naiad_bo.specs.AcquisitionSpec`.
            seed: Campaign seed (split, initial library, model and acquisition seeds).
            acquisition_options: Extra options of the acquisition (merged into the spec).

        Returns:
            A :class:`~naiad_bo.campaign.result.CampaignResult` with rounds ``0 .. R``.
        """
        spec = AcquisitionSpec.parse(acquisition, acquisition_options)
        return self.run_many([spec], [seed])[0]

    def run_many(
        self,
        acquisitions: Sequence[AcquisitionSpec | str | type],
        seeds: Iterable[int] = (0,),
        *,
        executor: Executor | None = None,
    ) -> CampaignResults:
        """Run every acquisition for every seed; round 0 is fitted once per seed and shared.

        Sharing is exact: round 0 depends only on the seed, so the records equal those of
        separate :meth:`run` calls (up to the shared round-0 timings). Each seed is one job
        of ``executor`` (:mod:`naiad_bo.campaign.executors`; default serial): the records
        are the same, in the same order, whatever the executor (only ``*_s`` timings differ).

        Args:
            acquisitions: Specs, classes or :class:`~naiad_bo.specs.AcquisitionSpec` s.
            seeds: Campaign seeds.
            executor: :class:`~naiad_bo.campaign.executors.SerialExecutor` (default),
                :class:`~naiad_bo.campaign.executors.ProcessExecutor` or
                :class:`~naiad_bo.campaign.executors.RayExecutor`; it is not closed here.

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
        seeds = [_check_seed(s) for s in seeds]
        if not seeds:
            raise CampaignError("no seed given")
        if len(set(seeds)) != len(seeds):
            raise CampaignError(f"seeds given twice: {seeds}")
        for spec in specs:  # names, options, compatibility: fail before any fit
            self._campaign(self.screen.pairs.iloc[:0], np.empty(0, np.int64), spec, 0)

        from naiad_bo.campaign.executors import CampaignJob, run_jobs

        jobs = [CampaignJob(self, tuple(specs), seed) for seed in seeds]
        return run_jobs(jobs, executor, progress=self.progress,
                        desc=f"{self.surrogate_name} on {getattr(self.screen, 'name', 'screen')}")

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
            "self_pairs": self.self_pairs,
            "candidates": type(self.candidates).__name__,
            "torch_threads": torch.get_num_threads(),
        }

    # ------------------------------------------------------------------ internals
    def _campaign(self, pilot: pd.DataFrame, test: np.ndarray, spec: AcquisitionSpec,
                  seed: int, surrogate: SurrogateSpec | None = None) -> Campaign:
        from naiad_bo.data.screen import PairScreen

        screen = self.screen
        pilot_screen = PairScreen(
            list(screen.genes), screen.single_effects, pilot,
            name=getattr(screen, "name", "screen"), direction=self.direction,
            control=getattr(screen, "control", "negative"),
        )
        return Campaign(
            pilot_screen, surrogate or self.surrogate, spec, seed, self._campaign_self_pairs,
            direction=self.direction, candidates=self._candidates,
            blocked=self.oracle.pairs[test], chunk_size=self.chunk_size,
        )

    def surrogate_for(self, specs: Sequence[AcquisitionSpec]) -> SurrogateSpec:
        """The surrogate a seed's campaigns fit: :meth:`SurrogateSpec.for_mean_only` when
        every acquisition reads only the posterior mean (a simulation reports no spread, so
        the default network's variance calibration would be fitted for nothing; the batches
        and records are the same), else the spec as given."""
        if all(spec.reads_only_mean for spec in specs):
            return self.surrogate.for_mean_only()
        return self.surrogate

    def _round0(self, seed: int, spec: AcquisitionSpec,
                surrogate: SurrogateSpec | None = None) -> tuple[Campaign, dict]:
        rng = np.random.default_rng(derive_seed(seed, 0, STREAM_SPLIT))
        clock = Clock()
        acquirable, test = self.protocol.split(int(self.screen.n_pairs), rng)
        rows = np.sort(rng.choice(acquirable, size=self.initial, replace=False)).astype(np.int64)
        select_s = clock.stop()
        campaign = self._campaign(self.screen.pairs.iloc[rows], test, spec, seed, surrogate)
        recorder = self._recorder(test, len(acquirable))
        pred, fit_s, score_s = self._fit_predict(campaign)
        record = recorder.record(pred, rows, rows, seed=seed, round_=0, fit_s=fit_s,
                                 score_s=score_s, select_s=select_s)
        return campaign, {"seed": seed, "rows": rows, "test": test, "recorder": recorder,
                          "record": record}

    def _recorder(self, test: np.ndarray, n_acquirable: int) -> CampaignRecorder:
        return CampaignRecorder(
            self.oracle.y, test, direction=self.direction, top_k=self.top_k,
            curve_ks=self.curve_ks, hit_frac=self.hit_frac, n_acquirable=n_acquirable,
            labels={"screen": getattr(self.screen, "name", "screen"),
                    "surrogate": self.surrogate_name, "acquisition": "",
                    "protocol": self.protocol.name},
        )

    def _fit_predict(self, campaign: Campaign):
        model = campaign.fit()
        fit_s = campaign.last_fit_seconds
        clock = Clock()
        pred = predict_mean(model, self._pairs, self.chunk_size)
        if not np.isfinite(pred).all():
            raise FloatingPointError(
                f"surrogate {self.surrogate_name!r} predicted NaN/inf for "
                f"{int((~np.isfinite(pred)).sum())} pair(s)"
            )
        return pred, fit_s, clock.stop()

    def _run_seed(self, specs: list[AcquisitionSpec], seed: int,
                  on_fit: Callable[[], None] | None = None) -> list[CampaignResult]:
        """Every acquisition of one seed after a shared round 0 (one executor job)."""
        on_fit = on_fit if on_fit is not None else _no_op
        base, state = self._round0(seed, specs[0], self.surrogate_for(specs))
        on_fit()
        return [self._run_one(base, state, spec, on_fit) for spec in specs]

    def _run_one(self, base: Campaign, state: dict, spec: AcquisitionSpec,
                 on_fit: Callable[[], None]) -> CampaignResult:
        seed, label = state["seed"], spec.name
        campaign = base.copy(acquisition=spec)
        recorder: CampaignRecorder = state["recorder"]
        records = [dict(state["record"], acquisition=label)]
        measured_rows = state["rows"]
        batches = [self.oracle.pairs[measured_rows]]
        for r in range(1, self.rounds + 1):
            frame = campaign.ask(self.batch)
            last = campaign.history.iloc[-1]
            select_s = (float(last["score_s"] + last["select_s"]),
                        float(last["score_cpu_s"] + last["select_cpu_s"]))
            new_rows = self.oracle.rows_of(frame[["gene_a", "gene_b"]].to_numpy(np.int64))
            report = campaign.tell(self.oracle.measure(new_rows))
            if report.attached != len(new_rows) or report.still_pending:
                raise RuntimeError(f"oracle answer not attached in full: {report}")
            measured_rows = np.concatenate([measured_rows, new_rows])
            batches.append(self.oracle.pairs[new_rows])
            pred, fit_s, score_s = self._fit_predict(campaign)
            records.append(recorder.record(
                pred, measured_rows, new_rows, seed=seed, round_=r, fit_s=fit_s,
                score_s=score_s, select_s=select_s, acquisition=label,
            ))
            on_fit()
        config = self.config(label, seed)
        config["acquisition_options"] = dict(spec.options)
        config["surrogate_options_fitted"] = dict(campaign.surrogate.options)
        config["select_options"] = dict(spec.select_options)
        return CampaignResult(
            records=records,
            config=config,
            batches=batches,
            test_pairs=self.oracle.pairs[state["test"]],
        )


def _no_op() -> None:
    pass


def _without_self_pairs(screen: Any) -> Any:
    """The screen without its same-gene pairs."""
    from naiad_bo.data.screen import PairScreen

    p = screen.pairs
    keep = p["gene_a"].to_numpy() != p["gene_b"].to_numpy()
    return PairScreen(
        list(screen.genes), screen.single_effects, p[keep], name=screen.name,
        direction=screen.direction, control=screen.control, single_n_obs=screen.single_n_obs,
        single_sd=screen.single_sd, metadata=screen.metadata,
    )


# ---------------------------------------------------------------------------- functions
def simulate_campaign(
    screen: Any,
    surrogate: SurrogateSpec | str | type | Callable = DEFAULT_SURROGATE,
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
        surrogate: Spec string, model class or factory; fresh model every round.
        acquisition: Spec string, class or :class:`~naiad_bo.specs.AcquisitionSpec`.
        initial, batch, rounds: Round-0 size, batch size ``q``, acquisition rounds.
        seed: Campaign seed.
        protocol: ``"paper"`` / ``"prospective"`` or a protocol instance.
        **kwargs: Further :class:`CampaignSimulator` options (``top_k``, ``curve_ks``,
            ``direction``, ``surrogate_options``, ``self_pairs``, ``progress``, ...) and
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
    surrogate: SurrogateSpec | str | type | Callable = DEFAULT_SURROGATE,
    acquisitions: Sequence[AcquisitionSpec | str | type] = ("mpe", "uniform"),
    seeds: Iterable[int] = (0, 1, 2),
    *,
    executor: Executor | None = None,
    **kwargs: Any,
) -> CampaignResults:
    """Run several acquisitions over several seeds (round 0 shared per seed).

    ``executor`` runs one job per seed (:mod:`naiad_bo.campaign.executors`; default serial,
    same records whatever the executor); other keyword arguments are
    :class:`CampaignSimulator` options.
    """
    return CampaignSimulator(screen, surrogate, **kwargs).run_many(
        acquisitions, seeds, executor=executor)


# ---------------------------------------------------------------------------- validation
def _check_seed(seed: Any) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise CampaignError(f"seeds must be non-negative integers, got {seed!r}")
    return int(seed)
