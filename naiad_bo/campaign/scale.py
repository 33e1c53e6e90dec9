"""One genome-scale campaign round on a :class:`~naiad_bo.data.synthetic.SyntheticPairScreen`.

:func:`run_scale_round` does what :meth:`Campaign.ask <naiad_bo.campaign.Campaign.ask>` does
after a pilot screen of ``n_train`` uniformly drawn pairs (same seeds, same acquisition
build, same exact chunked top-q, :func:`~naiad_bo.acquisition.select_batch`), on a chosen
device and thread count, and reports the time of each step and the process's peak memory:

1. **fit** the surrogate on the ``n_train`` measured pairs (on ``device``);
2. **score** every unmeasured pair of the ``M (M + 1) / 2`` (2 x 10^8 at M = 20,000), chunk
   by chunk, keeping the running exact top-``q`` (memory ``O(chunk + q)``: pairs are
   generated arithmetically, measured pairs excluded by flat index);
3. **select** the batch (its posterior mean / std, the frame a lab gets).

Nothing of size ``N`` pairs is allocated. The NAIAD network scores chunks with the exact
row-run kernels (:mod:`naiad_bo.models.run_kernels`) on the CPU and with the batched kernels
on other devices (CUDA, ...), where chunks are moved to the model's device.
"""

from __future__ import annotations

import resource
import sys
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from naiad_bo.acquisition.base import PointwiseAcquisition
from naiad_bo.acquisition.selection import select_batch
from naiad_bo.campaign.seeds import STREAM_ACQ, STREAM_MODEL, Clock, derive_seed
from naiad_bo.data.synthetic import SyntheticPairScreen
from naiad_bo.prediction import predict_mean_std
from naiad_bo.space import PairSet, PairSpace
from naiad_bo.specs import AcquisitionSpec, SurrogateSpec

__all__ = [
    "DEVICE_NET_CHUNK",
    "SCALE_CHUNK",
    "FlatRange",
    "ScaleRoundResult",
    "peak_rss_mb",
    "run_scale_round",
    "select_parallel",
    "split_space",
]

#: Candidate pairs per scoring chunk of a scale round (2**20).
SCALE_CHUNK = 2**20
#: Pairs per network call of an ensemble scoring on an accelerator (its batched kernels
#: hold ``s x chunk x width`` activations: 335 MB at 5 members, width 256, float32).
DEVICE_NET_CHUNK = 2**16


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process so far, in MiB (``getrusage`` ``ru_maxrss``);
    ``children=True``: of its largest waited-for child process."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    peak = resource.getrusage(who).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass(frozen=True)
class ScaleRoundResult:
    """Timings and outcome of :func:`run_scale_round`.

    Attributes:
        n_genes, n_train, q: Genes, measured pairs, batch size.
        n_scored: Candidate pairs scored (every unmeasured pair).
        fit_s, score_s, select_s: Wall seconds of the three steps (``*_cpu_s``: process CPU).
        peak_rss_mb: Peak resident memory of the process after the round (MiB).
        worker_peak_rss_mb: Largest peak of a scoring worker (0 without workers); forked
            workers share the parent's pages until written, so ``peak_rss_mb + workers *
            worker_peak_rss_mb`` is an upper bound of the round's footprint
            (:attr:`footprint_mb`).
        device, threads, workers: Where it ran (torch threads while scoring, scoring
            processes).
        embed_dim, single_dim, epochs: The fitted network's resolved architecture.
        batch: The selected pairs (``gene_a, gene_b, mean, std, acquisition``), best first.
    """

    n_genes: int
    n_train: int
    q: int
    n_scored: int
    fit_s: float
    fit_cpu_s: float
    score_s: float
    score_cpu_s: float
    select_s: float
    select_cpu_s: float
    peak_rss_mb: float
    worker_peak_rss_mb: float
    device: str
    threads: int
    workers: int
    embed_dim: int | None
    single_dim: int | None
    epochs: int | None
    batch: pd.DataFrame = field(repr=False)

    @property
    def footprint_mb(self) -> float:
        """Upper bound of the memory of the round, workers included (MiB)."""
        return self.peak_rss_mb + (self.workers * self.worker_peak_rss_mb
                                   if self.workers > 1 else 0.0)

    @property
    def total_s(self) -> float:
        """Wall seconds of fit + score + select."""
        return self.fit_s + self.score_s + self.select_s

    def as_dict(self) -> dict[str, Any]:
        """The numbers (without the batch), JSON friendly."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "batch"}
        out["total_s"] = self.total_s
        out["footprint_mb"] = self.footprint_mb
        return out


class FlatRange:
    """The pairs of a :class:`~naiad_bo.space.PairSpace` with flat index in ``[start, stop)``.

    Same chunked protocol as the space (``iter_chunks(chunk_size, exclude)``,
    ``n_available(exclude)``), in flat order, so :func:`~naiad_bo.acquisition.select_batch`
    scans one part of the space; parts partition it.
    """

    def __init__(self, space: PairSpace, start: int, stop: int) -> None:
        if not 0 <= start <= stop <= space.n_pairs:
            raise ValueError(f"flat range [{start}, {stop}) outside [0, {space.n_pairs})")
        self.space, self.start, self.stop = space, int(start), int(stop)

    @property
    def n_pairs(self) -> int:
        return self.stop - self.start

    def _excluded(self, exclude: PairSet | None) -> np.ndarray:
        flat = self.space.excluded_flat(exclude)
        lo, hi = np.searchsorted(flat, [self.start, self.stop])
        return flat[lo:hi]

    def n_available(self, exclude: PairSet | None = None) -> int:
        return self.n_pairs - len(self._excluded(exclude))

    def iter_chunks(self, chunk_size: int, exclude: PairSet | None = None):
        # a PairSpace's positions are its flat indices
        yield from self.space._iter_positions(self.start, self.stop, int(chunk_size),
                                              self._excluded(exclude))


def split_space(space: PairSpace, parts: int) -> list[FlatRange]:
    """``parts`` contiguous flat ranges with about equal numbers of pairs."""
    edges = np.linspace(0, space.n_pairs, int(parts) + 1).round().astype(np.int64)
    return [FlatRange(space, int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


_WORK: dict[str, Any] = {}  # what forked scoring workers inherit


def _score_part(index: int) -> tuple[np.ndarray, np.ndarray, int]:
    acqf, part, q, exclude, chunk_size = (_WORK[k] for k in
                                          ("acqf", "parts", "q", "exclude", "chunk"))
    part = part[index]
    torch.set_num_threads(1)
    n_avail = part.n_available(exclude)
    if n_avail == 0:
        return np.empty((0, 2), dtype=np.int64), np.empty(0), 0
    sel = select_batch(acqf, part, min(q, n_avail), exclude=exclude, chunk_size=chunk_size,
                       progress=False)
    return (sel.pairs.numpy(), sel.scores.detach().to(torch.float64).cpu().numpy(),
            int(sel.n_scored))


def select_parallel(acqf: PointwiseAcquisition, space: PairSpace, q: int, exclude: PairSet,
                    *, workers: int, chunk_size: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Exact top-``q`` of ``acqf`` over ``space`` minus ``exclude``, scored by ``workers``
    forked processes (one torch thread each), each scanning a contiguous flat range.

    Each worker keeps its exact top-``q`` (:func:`~naiad_bo.acquisition.select_batch`);
    the merge sorts the ``workers * q`` survivors by ``(-score, flat index)``, which is the
    serial scan's order (ties go to the earlier candidate), so the batch is the one
    ``select_batch`` returns on the whole space.

    Returns:
        ``(pairs (q, 2), scores (q,), n_scored)``.
    """
    import multiprocessing as mp

    parts = split_space(space, workers)
    _WORK.update(acqf=acqf, parts=parts, q=int(q), exclude=exclude, chunk=int(chunk_size))
    try:
        with mp.get_context("fork").Pool(len(parts)) as pool:
            results = pool.map(_score_part, range(len(parts)))
    finally:
        _WORK.clear()
    pairs = np.concatenate([r[0] for r in results]).reshape(-1, 2)
    scores = np.concatenate([r[1] for r in results])
    n_scored = sum(r[2] for r in results)
    if len(scores) < q:
        raise ValueError(f"q={q} exceeds the {len(scores)} available candidate pairs")
    flat = np.asarray(space.to_flat(pairs), dtype=np.int64)
    order = np.lexsort((flat, -scores))[: int(q)]
    return pairs[order], scores[order], n_scored


class _OnDevice(PointwiseAcquisition):
    """Scores CPU candidate chunks with an acquisition whose model lives on ``device``."""

    requires: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, inner: PointwiseAcquisition, device: torch.device) -> None:
        super().__init__(None)
        self.inner, self.device = inner, device

    def score(self, X: torch.Tensor) -> torch.Tensor:
        return self.inner.score(X.to(self.device)).cpu()


def run_scale_round(
    screen: SyntheticPairScreen,
    n_train: int,
    q: int,
    *,
    surrogate: SurrogateSpec | str = "naiad",
    acquisition: AcquisitionSpec | str = "mpe",
    seed: int = 0,
    device: torch.device | str = "cpu",
    threads: int | None = None,
    fit_threads: int | None = 1,
    chunk_size: int = SCALE_CHUNK,
    pilot_seed: int | None = None,
    workers: int = 1,
) -> ScaleRoundResult:
    """Fit on ``n_train`` measured pairs, score every other pair, select ``q`` (one round).

    Seeds follow :class:`~naiad_bo.campaign.Campaign` at its first ``ask`` after a pilot
    screen (model ``(seed, 0)``, acquisition ``(seed, 1)``), so on the CPU the batch equals
    ``Campaign(screen.pilot(n_train, pilot_seed), ..., seed=seed).ask(q)``.

    Args:
        screen: The synthetic screen.
        n_train: Measured pairs (uniform pilot, :meth:`SyntheticPairScreen.pilot`).
        q: Batch size.
        surrogate, acquisition: Specs (:mod:`naiad_bo.specs`); a pointwise acquisition.
            The surrogate defaults to the fast ``"naiad"``, not the campaigns'
            :data:`~naiad_bo.specs.DEFAULT_SURROGATE`: the reference network's ``256 x 256``
            layer makes scoring ``2 x 10^8`` pairs take ~45 min on one CPU thread (1.4 s per
            100,576 pairs measured) on top of a fit ~20x a K562 one, past the 15-minute round.
        seed: Campaign seed.
        device: Where the model is fitted and scores (``"cpu"``, ``"cuda"``, ...).
        threads: ``torch.set_num_threads`` while scoring and selecting (restored after);
            None = as is.
        fit_threads: Threads while fitting (default 1: the fit's steps are small and
            overhead-bound, and extra threads slowed them down on a loaded machine); None =
            as ``threads``.
        chunk_size: Candidates per scoring chunk.
        pilot_seed: Seed of the pilot draw (default ``seed``).
        workers: Scoring processes (:func:`select_parallel`, forked, one thread each; CPU
            only, no ``max_per_gene``); 1 = the serial scan in this process.

    Returns:
        A :class:`ScaleRoundResult`.
    """
    device = torch.device(device)
    old_threads = torch.get_num_threads()
    score_threads = old_threads if threads is None else int(threads)
    try:
        pilot = screen.pilot(int(n_train), seed=seed if pilot_seed is None else pilot_seed)
        pairs = pilot.pair_index()
        X = torch.from_numpy(pairs).to(torch.float64)
        Y = torch.from_numpy(pilot.y_values()).reshape(-1, 1)
        se = torch.from_numpy(screen.single_effects.copy())
        sur = SurrogateSpec.parse(surrogate)
        acq = AcquisitionSpec.parse(acquisition)

        torch.set_num_threads(score_threads if fit_threads is None else int(fit_threads))
        clock = Clock()
        model = sur.build(screen.single_effects, seed=derive_seed(seed, 0, STREAM_MODEL),
                          genes=tuple(screen.genes))
        fitted = model.fit(X.to(device), Y.to(device))
        model = fitted if fitted is not None else model
        fit_t = clock.stop()
        if device.type != "cpu" and callable(getattr(model, "set_chunk_size", None)):
            model.set_chunk_size(max(int(model.config.chunk_size), DEVICE_NET_CHUNK))

        torch.set_num_threads(score_threads)
        clock = Clock()
        acqf = acq.build(model, X.to(device), Y.to(device), se.to(device),
                         direction=screen.direction, seed=derive_seed(seed, 1, STREAM_ACQ))
        if not isinstance(acqf, PointwiseAcquisition):
            raise TypeError(f"run_scale_round needs a pointwise acquisition, got "
                            f"{type(acqf).__name__}")
        scorer = acqf if device.type == "cpu" else _OnDevice(acqf, device)
        exclude = PairSet(screen.space, pairs)
        children = _children_cpu_s()
        if workers > 1:
            if device.type != "cpu" or acq.select_options:
                raise ValueError("workers > 1 needs device='cpu' and no select options "
                                 "(max_per_gene)")
            chosen, chosen_scores, n_scored = select_parallel(
                scorer, screen.space, int(q), exclude, workers=int(workers),
                chunk_size=int(chunk_size))
        else:
            selection = select_batch(scorer, screen.space, int(q), exclude=exclude,
                                     chunk_size=int(chunk_size), progress=False,
                                     **dict(acq.select_options))
            chosen = selection.pairs.cpu().numpy().astype(np.int64)
            chosen_scores = selection.scores.detach().to(torch.float64).cpu().numpy()
            n_scored = int(selection.n_scored)
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        score_t = clock.stop()
        score_t = (score_t[0], score_t[1] + _children_cpu_s() - children)  # + workers' CPU

        clock = Clock()
        mean, std = predict_mean_std(model, torch.from_numpy(chosen).to(torch.float64).to(device))
        batch = pd.DataFrame({
            "gene_a": chosen[:, 0], "gene_b": chosen[:, 1], "mean": mean, "std": std,
            "acquisition": chosen_scores,
        })
        select_t = clock.stop()
        return ScaleRoundResult(
            n_genes=screen.n_genes, n_train=int(n_train), q=int(q),
            n_scored=n_scored,
            fit_s=fit_t[0], fit_cpu_s=fit_t[1], score_s=score_t[0], score_cpu_s=score_t[1],
            select_s=select_t[0], select_cpu_s=select_t[1], peak_rss_mb=peak_rss_mb(),
            worker_peak_rss_mb=peak_rss_mb(children=True) if workers > 1 else 0.0,
            device=str(device), threads=score_threads, workers=int(workers),
            embed_dim=getattr(model, "embed_dim_", None),
            single_dim=getattr(model, "single_dim_", None),
            epochs=getattr(model, "epochs_", None), batch=batch,
        )
    finally:
        torch.set_num_threads(old_threads)
