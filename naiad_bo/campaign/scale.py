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
from naiad_bo.space import PairSet
from naiad_bo.specs import AcquisitionSpec, SurrogateSpec

__all__ = ["SCALE_CHUNK", "ScaleRoundResult", "peak_rss_mb", "run_scale_round"]

#: Candidate pairs per scoring chunk of a scale round (2**20).
SCALE_CHUNK = 2**20


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (``getrusage`` ``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


@dataclass(frozen=True)
class ScaleRoundResult:
    """Timings and outcome of :func:`run_scale_round`.

    Attributes:
        n_genes, n_train, q: Genes, measured pairs, batch size.
        n_scored: Candidate pairs scored (every unmeasured pair).
        fit_s, score_s, select_s: Wall seconds of the three steps (``*_cpu_s``: process CPU).
        peak_rss_mb: Peak resident memory of the process after the round (MiB).
        device, threads: Where it ran.
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
    device: str
    threads: int
    embed_dim: int | None
    single_dim: int | None
    epochs: int | None
    batch: pd.DataFrame = field(repr=False)

    @property
    def total_s(self) -> float:
        """Wall seconds of fit + score + select."""
        return self.fit_s + self.score_s + self.select_s

    def as_dict(self) -> dict[str, Any]:
        """The numbers (without the batch), JSON friendly."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "batch"}
        out["total_s"] = self.total_s
        return out


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
    chunk_size: int = SCALE_CHUNK,
    pilot_seed: int | None = None,
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
        seed: Campaign seed.
        device: Where the model is fitted and scores (``"cpu"``, ``"cuda"``, ...).
        threads: ``torch.set_num_threads`` for the round (restored after); None = as is.
        chunk_size: Candidates per scoring chunk.
        pilot_seed: Seed of the pilot draw (default ``seed``).

    Returns:
        A :class:`ScaleRoundResult`.
    """
    device = torch.device(device)
    old_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(int(threads))
    try:
        pilot = screen.pilot(int(n_train), seed=seed if pilot_seed is None else pilot_seed)
        pairs = pilot.pair_index()
        X = torch.from_numpy(pairs).to(torch.float64)
        Y = torch.from_numpy(pilot.y_values()).reshape(-1, 1)
        se = torch.from_numpy(screen.single_effects.copy())
        sur = SurrogateSpec.parse(surrogate)
        acq = AcquisitionSpec.parse(acquisition)

        clock = Clock()
        model = sur.build(screen.single_effects, seed=derive_seed(seed, 0, STREAM_MODEL),
                          genes=tuple(screen.genes))
        fitted = model.fit(X.to(device), Y.to(device))
        model = fitted if fitted is not None else model
        fit_t = clock.stop()

        clock = Clock()
        acqf = acq.build(model, X.to(device), Y.to(device), se.to(device),
                         direction=screen.direction, seed=derive_seed(seed, 1, STREAM_ACQ))
        if not isinstance(acqf, PointwiseAcquisition):
            raise TypeError(f"run_scale_round needs a pointwise acquisition, got "
                            f"{type(acqf).__name__}")
        scorer = acqf if device.type == "cpu" else _OnDevice(acqf, device)
        exclude = PairSet(screen.space, pairs)
        selection = select_batch(scorer, screen.space, int(q), exclude=exclude,
                                 chunk_size=int(chunk_size), progress=False,
                                 **dict(acq.select_options))
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        score_t = clock.stop()

        clock = Clock()
        chosen = selection.pairs.cpu().numpy().astype(np.int64)
        mean, std = predict_mean_std(model, torch.from_numpy(chosen).to(torch.float64).to(device))
        batch = pd.DataFrame({
            "gene_a": chosen[:, 0], "gene_b": chosen[:, 1], "mean": mean, "std": std,
            "acquisition": selection.scores.detach().to(torch.float64).cpu().numpy(),
        })
        select_t = clock.stop()
        return ScaleRoundResult(
            n_genes=screen.n_genes, n_train=int(n_train), q=int(q),
            n_scored=int(selection.n_scored),
            fit_s=fit_t[0], fit_cpu_s=fit_t[1], score_s=score_t[0], score_cpu_s=score_t[1],
            select_s=select_t[0], select_cpu_s=select_t[1], peak_rss_mb=peak_rss_mb(),
            device=str(device), threads=torch.get_num_threads(),
            embed_dim=getattr(model, "embed_dim_", None),
            single_dim=getattr(model, "single_dim_", None),
            epochs=getattr(model, "epochs_", None), batch=batch,
        )
    finally:
        torch.set_num_threads(old_threads)
