"""Heterogeneous ensembles of the two member networks (issue 11, a remedy tried, not adopted).

The two networks fail on different screens: NAIAD's (``naiad``) measures more of Norman's
true top-200 (118.8 vs 115.2) and has the lower Norman RMSE, the reference network
(``naiad-reference``, the default) discovers more on both screens and has the lower K562
RMSE. A mixture of the two ensembles (5 + 5 members, one ``EnsemblePosterior``) is the
standard remedy for that pattern. Two weights are probed:

* ``mix``: the fixed equal weight, mean ``mu = (mu_naiad + mu_ref) / 2``;
* ``stack``: the weight ``w`` on a grid 0, 0.1, ..., 1 that minimises the 2-fold
  cross-validated squared error of ``w mu_naiad + (1 - w) mu_ref`` inside each round's
  training pairs (both networks refitted on each half), so no screen sets it.

Members of each network keep their spread around their own mean and are shifted to the
mixture mean. Protocol: the paper's campaign (``acquisition.py``: 30% test split,
Norman 100 + 4 x 100, K562 500 + 4 x 500, MPE, round 4), the acquisition benchmark's seeds
(Norman 0-4, K562 0-1: a probe, not a tuning run), paired with the committed default-network
rows of ``results/acquisition_reference_records.csv`` (same seed, same round-0 library).
Both networks uncalibrated (MPE reads only the mean).

Writes ``benchmarks/results/mixture_probe.{csv,json,png}``; ``--quick`` a smoke run into
``benchmarks/quick_results``. One torch thread (``NAIAD_BO_THREADS``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from botorch.models.ensemble import EnsembleModel
from botorch.posteriors.ensemble import EnsemblePosterior

sys.path.insert(0, str(Path(__file__).resolve().parent))
from provenance import RESULTS, output_dir, provenance, save_png, write_csv, write_json  # noqa: E402

import naiad_bo  # noqa: E402
from naiad_bo.campaign import CampaignSimulator  # noqa: E402
from naiad_bo.models import NaiadEnsemble, ReferenceNaiadEnsemble  # noqa: E402

SIZES = {"norman2019": (100, 100), "horlbeck2018_k562": (500, 500)}
SEEDS = {"norman2019": (0, 1, 2, 3, 4), "horlbeck2018_k562": (0, 1)}
WEIGHTS = torch.linspace(0.0, 1.0, 11, dtype=torch.float64)
#: Paper Table 2 (NAIAD + MPE) and the reference implementation here (anchors.md).
PAPER = {"norman2019": 144, "horlbeck2018_k562": 94}
REFERENCE = {"norman2019": 138.8, "horlbeck2018_k562": 100.2}


class TwoNetworkMixture(EnsembleModel):
    """Mixture of a NAIAD and a reference-network ensemble (probe; not in the library).

    ``posterior(X)`` values ``batch x (s_a + s_b) x q x 1``: member ``i`` of network ``k``
    is ``v_ki - mean_k + (w mean_a + (1 - w) mean_b)``.
    """

    def __init__(self, single_effects, *, seed: int = 0, stack: bool = False,
                 quick: bool = False):
        super().__init__()
        self.single_effects, self.seed, self.stack = single_effects, int(seed), bool(stack)
        self.extra = {"epochs": 5} if quick else {}
        self.weight = 0.5

    @property
    def num_outputs(self) -> int:
        return 1

    def _networks(self, seed: int) -> tuple[NaiadEnsemble, ReferenceNaiadEnsemble]:
        return (NaiadEnsemble(self.single_effects, seed=seed, **self.extra),
                ReferenceNaiadEnsemble(self.single_effects, seed=seed + 7919,
                                       variance_calibration=None, **self.extra))

    def _cv_weight(self, X: torch.Tensor, Y: torch.Tensor) -> float:
        g = torch.Generator().manual_seed(31 * self.seed + 5)
        perm = torch.randperm(X.shape[0], generator=g)
        folds = (perm[: X.shape[0] // 2], perm[X.shape[0] // 2:])
        pa, pb, yy = [], [], []
        for i, held in enumerate(folds):
            train = folds[1 - i]
            a, b = self._networks(self.seed + 1000 * (i + 1))
            a.fit(X[train], Y[train])
            b.fit(X[train], Y[train])
            pa.append(a.posterior(X[held]).mean.reshape(-1))
            pb.append(b.posterior(X[held]).mean.reshape(-1))
            yy.append(Y[held].reshape(-1))
        pa, pb, yy = (torch.cat(t).to(torch.float64) for t in (pa, pb, yy))
        mse = torch.stack([((w * pa + (1 - w) * pb - yy) ** 2).mean() for w in WEIGHTS])
        return float(WEIGHTS[mse.argmin()])

    def fit(self, X, Y, *args, **kwargs) -> TwoNetworkMixture:
        X, Y = torch.as_tensor(X), torch.as_tensor(Y)
        if self.stack:
            self.weight = self._cv_weight(X, Y)
        self.a, self.b = self._networks(self.seed)
        self.a.fit(X, Y)
        self.b.fit(X, Y)
        return self

    def forward(self, X):  # posterior() is overridden; nothing calls forward
        raise NotImplementedError

    def posterior(self, X, output_indices=None, observation_noise=False,
                  posterior_transform=None, **kwargs) -> EnsemblePosterior:
        va, vb = self.a.posterior(X).values, self.b.posterior(X).values
        ma, mb = va.mean(-3, keepdim=True), vb.mean(-3, keepdim=True)
        m = self.weight * ma + (1 - self.weight) * mb
        return EnsemblePosterior(torch.cat([va - ma + m, vb - mb + m], dim=-3))


def run(name: str, variant: str, seeds, quick: bool) -> pd.DataFrame:
    weights: list[float] = []

    def factory(single_effects, *, seed=0, **kw):
        model = TwoNetworkMixture(single_effects, seed=seed, stack=variant == "stack",
                                  quick=quick)
        original = model.fit

        def fit(X, Y, *a, **k):
            out = original(X, Y)
            weights.append(model.weight)
            return out

        model.fit = fit
        return model

    initial, batch = SIZES[name]
    sim = CampaignSimulator(naiad_bo.load_screen(name), factory, initial=initial, batch=batch,
                            rounds=2 if quick else 4, protocol="paper", top_k=200,
                            surrogate_label=variant, progress=False)
    rows = []
    for seed in seeds:
        weights.clear()
        t0 = time.perf_counter()
        res = list(sim.run_many(["mpe"], [seed]))[0]
        last = res.to_frame().iloc[-1]
        rows.append({"screen": name, "variant": variant, "seed": int(seed),
                     "round": int(last["round"]),
                     "top_k_discovered": int(last["top_k_discovered"]),
                     "measured_top_k": int(last["measured_top_k"]),
                     "test_rmse": float(last["test_rmse"]),
                     "weights_naiad": " ".join(f"{w:.1f}" for w in weights),
                     "campaign_s": time.perf_counter() - t0})
        print(f"  {name:18s} {variant:6s} seed {seed}: discovered {rows[-1]['top_k_discovered']}"
              f", measured {rows[-1]['measured_top_k']}, w(naiad) {rows[-1]['weights_naiad']}",
              flush=True)
    return pd.DataFrame(rows)


def paired(df: pd.DataFrame) -> pd.DataFrame:
    """Per (screen, variant): means and the paired difference to the default network."""
    ref = pd.read_csv(RESULTS / "acquisition_reference_records.csv")
    ref = ref[(ref.surrogate == "naiad_reference") & (ref.acquisition == "mpe")]
    out = []
    for (screen, variant), g in df.groupby(["screen", "variant"], sort=False):
        base = ref[(ref.screen == screen) & (ref["round"] == int(g["round"].iloc[0]))]
        base = base.set_index("seed").reindex(g.seed)
        row = {"screen": screen, "variant": variant, "seeds": len(g),
               "paper_naiad_mpe": PAPER[screen], "reference_implementation": REFERENCE[screen]}
        for col in ("top_k_discovered", "measured_top_k", "test_rmse"):
            d = g.set_index("seed")[col] - base[col]
            row.update({f"{col}_mean": g[col].mean(), f"{col}_sem": g[col].sem(),
                        f"default_{col}_mean": base[col].mean(),
                        f"diff_{col}_mean": d.mean(), f"diff_{col}_sem": d.sem()})
        out.append(row)
    return pd.DataFrame(out)


def figure(summary: pd.DataFrame, path: Path) -> None:
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, col in zip(axes, ("top_k_discovered", "measured_top_k")):
        labels = [f"{s.split('2019')[0].split('2018_')[-1]} {v}"
                  for s, v in zip(summary.screen, summary.variant)]
        y = np.arange(len(summary))
        ax.errorbar(summary[f"diff_{col}_mean"], y, xerr=summary[f"diff_{col}_sem"].fillna(0),
                    fmt="o", capsize=3)
        ax.axvline(0, color="k", lw=0.8)
        ax.set_yticks(y, labels)
        ax.set_xlabel(f"{col} - default network's (round 4)")
    fig.suptitle("Mixture of NAIAD and reference-network ensembles vs the default (paired)")
    fig.tight_layout()
    save_png(fig, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="smoke run (benchmarks/quick_results)")
    p.add_argument("--screens", nargs="+", default=list(SIZES), choices=list(SIZES))
    p.add_argument("--variants", nargs="+", default=["mix", "stack"], choices=["mix", "stack"])
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("NAIAD_BO_THREADS", "1")))
    out = output_dir(args.quick, args.out)
    prov = provenance()
    wall0 = time.perf_counter()
    frames = [run(s, v, SEEDS[s][:1] if args.quick else SEEDS[s], args.quick)
              for s in args.screens for v in args.variants]
    df = pd.concat(frames, ignore_index=True)
    summary = paired(df)
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    write_csv(df, out / "mixture_probe.csv")
    write_json(out / "mixture_probe.json", {
        "settings": {"sizes": SIZES, "seeds": {s: list(SEEDS[s]) for s in args.screens},
                     "variants": args.variants, "weights_grid": WEIGHTS.tolist(),
                     "acquisition": "mpe", "quick": args.quick,
                     "paired_with": "results/acquisition_reference_records.csv "
                                    "(naiad_reference, mpe)"},
        "torch_threads": prov["torch_threads"], "wall_s_total": time.perf_counter() - wall0,
        "summary": summary.to_dict(orient="records"),
    }, indent=1, default=float)
    figure(summary, out / "mixture_probe.png")
    print(f"wrote {out}/mixture_probe.*")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
