"""Can a general change raise NAIAD + MPE top-200 discovery on both screens? (tuning study)

Question (project issue): the default NAIAD + MPE campaign discovers 143.6 (Norman,
100 + 4 x 100) and 108.2 (Horlbeck K562, 500 + 4 x 500) of the true top-200 at round 4
(benchmark seeds 0..4). Does a *general* change (same rule on every screen: no per-dataset
switch) to the training recipe, ensemble, widths or acquisition raise both?

Protocol: paper campaigns (30% test split never acquirable, :mod:`naiad_bo.campaign`),
tuning seeds 100..104 only (the benchmark seeds 0..4 are never used here). One torch thread.
Each variant is a (surrogate options, acquisition) pair; options that scale the screen's
"auto" recipe (e.g. twice the paper epochs) are expressed as a rule evaluated per screen from
the gene count only, exactly as the default "auto" is. Round 0 is shared per seed by variants
that use the same surrogate options.

A variant would be adopted only if it raises the mean on BOTH screens and is not worse by
more than noise on any, and the small-sample RMSE check (benchmarks/naiad_stability.py) still
holds.

Usage::

    nice python benchmarks/campaign_tuning.py --screen norman2019 --variants base ens10 ...
    python benchmarks/campaign_tuning.py --merge        # rebuild csv/json from the parts

Findings (2026-11-21, one thread; wall times are inflated by a heavily shared machine):
NEGATIVE, nothing adopted. On the tuning seeds every variant is within ~2 paired s.e. of
``base`` (round-4 top-200 discovered: Norman base 142.2 +- 1.9, K562 111.8 +- 5.1). The best
looking pair, ensemble_size=10 + OptimisticEffect(beta=1) (+3.6 +- 1.4 Norman, +3.0 +- 2.6
K562), and its parts were re-run on fresh non-benchmark seeds 105..109 and did not replicate
(Norman -4.4 +- 2.8, K562 -0.2 +- 2.9; ensemble_size=10 with MPE -1.2 / -0.8; optimistic
beta=1 -5.0 / -2.0), i.e. the tuning-seed gains were selection noise over ~25 variants.
Single-screen gains (embed schedule "horlbeck" / embed_dim=16 on Norman, lr=3e-2 on K562)
reverse or vanish on the other screen; mini-batch 256 ruins the 2N/M = 4 RMSE check on K562
(6.03 vs linear 6.03, loses in 6/10 seeds). ensemble_size=10 improves that RMSE (Norman
4.85 vs 4.98, K562 5.54 vs 5.65) at 2x cost, but not discovery.

Every (screen, variant, seed) result is appended to
``benchmarks/results/campaign_tuning_parts/<screen>[_<tag>].csv`` as soon as it is done; ``--merge``
writes ``benchmarks/results/campaign_tuning.csv`` (one row per screen, variant, seed: round-4
metrics) and ``campaign_tuning.json`` (mean +- s.e. per screen and variant, and the deltas to
``base`` paired by seed).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))  # naiad_stability helpers

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402
from provenance import append_csv, provenance, write_csv, write_json  # noqa: E402

import naiad_bo  # noqa: E402
from naiad_bo.campaign import CampaignSimulator  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
PARTS = RESULTS / "campaign_tuning_parts"
SIZES = {"norman2019": (100, 100), "horlbeck2018_k562": (500, 500)}
TUNING_SEEDS = (100, 101, 102, 103, 104)
ROUNDS = 4


def _auto_epochs(n_genes: int) -> int:
    """The default 'auto' epochs (paper recipe): 500 for <= 200 genes, else 200."""
    return 500 if n_genes <= 200 else 200


#: name -> (surrogate options as a function of n_genes, acquisition spec).
VARIANTS = {
    "base": (lambda m: {}, "mpe"),
    "ens10": (lambda m: {"ensemble_size": 10}, "mpe"),
    "ens3": (lambda m: {"ensemble_size": 3}, "mpe"),
    "fullbatch": (lambda m: {"batch_size": None}, "mpe"),
    "epochs_x2": (lambda m: {"epochs": 2 * _auto_epochs(m)}, "mpe"),
    "epochs_half": (lambda m: {"epochs": _auto_epochs(m) // 2}, "mpe"),
    "lr_3e-3": (lambda m: {"lr": 3e-3}, "mpe"),
    "lr_3e-2": (lambda m: {"lr": 3e-2}, "mpe"),
    "batch_256": (lambda m: {"batch_size": 256}, "mpe"),
    "wd_1e-4": (lambda m: {"weight_decay": 1e-4}, "mpe"),
    "single_128": (lambda m: {"single_dim": 128}, "mpe"),
    "embed_horlbeck": (lambda m: {"schedule": "horlbeck"}, "mpe"),
    "embed_8": (lambda m: {"embed_dim": 8}, "mpe"),
    "embed_16": (lambda m: {"embed_dim": 16}, "mpe"),
    "embed_64": (lambda m: {"embed_dim": 64}, "mpe"),
    "single_32": (lambda m: {"single_dim": 32}, "mpe"),
    "ens10_thompson": (lambda m: {"ensemble_size": 10}, "thompson"),
    "ens10_optimistic_1": (lambda m: {"ensemble_size": 10}, "optimistic:beta=1.0"),
    "gelu": (lambda m: {"activation": "gelu"}, "mpe"),
    "linear_skip": (lambda m: {"linear_skip": True}, "mpe"),
    "optimistic_0.25": (lambda m: {}, "optimistic:beta=0.25"),
    "optimistic_0.5": (lambda m: {}, "optimistic:beta=0.5"),
    "optimistic_1": (lambda m: {}, "optimistic:beta=1.0"),
    "thompson": (lambda m: {}, "thompson"),
}


def _key(opts: dict) -> str:
    return json.dumps(opts, sort_keys=True)


def run(screen_name: str, variants: list[str], seeds: list[int], tag: str = "") -> None:
    torch.set_num_threads(1)
    screen = naiad_bo.load_screen(screen_name)
    initial, batch = SIZES[screen_name]
    PARTS.mkdir(parents=True, exist_ok=True)
    out = PARTS / f"{screen_name}{tag and '_' + tag}.csv"
    done = set()
    if out.exists():
        prev = pd.read_csv(out)
        done = set(zip(prev["variant"], prev["seed"]))
    # group variants by surrogate options so round 0 is shared
    groups: dict[str, list[str]] = {}
    for v in variants:
        opts = VARIANTS[v][0](screen.n_genes)
        groups.setdefault(_key(opts), []).append(v)
    for key, names in groups.items():
        opts = json.loads(key)
        sim = CampaignSimulator(
            screen, "naiad", initial=initial, batch=batch, rounds=ROUNDS, protocol="paper",
            surrogate_options=opts,
        )
        for seed in seeds:
            todo = [v for v in names if (v, seed) not in done]
            if not todo:
                continue
            t0 = time.perf_counter()
            res = sim.run_many([VARIANTS[v][1] for v in todo], [seed])
            wall = time.perf_counter() - t0
            df = res.to_frame()
            df = df[df["round"] == ROUNDS]
            rows = []
            for v in todo:
                acq_name = VARIANTS[v][1]
                r = df[df["acquisition"] == acq_name].iloc[0]
                rows.append({
                    "screen": screen_name, "variant": v, "seed": seed,
                    "surrogate_options": key, "acquisition": acq_name,
                    "top200_discovered": int(r["top200_discovered"]),
                    "measured_top200": int(r["measured_top_k"]),
                    "top100_discovered": int(r["top100_discovered"]),
                    "top500_discovered": int(r["top500_discovered"]),
                    "test_rmse": float(r["test_rmse"]),
                    "wall_s": wall / len(todo),
                })
                print(f"{screen_name} {v} seed={seed} top200={rows[-1]['top200_discovered']} "
                      f"measured={rows[-1]['measured_top200']} rmse={rows[-1]['test_rmse']:.4f} "
                      f"({wall:.0f}s)", flush=True)
            append_csv(pd.DataFrame(rows), out)


def rmse_check(variants: list[str], n_seeds: int = 10) -> None:
    """Small-sample RMSE check of benchmarks/naiad_stability.py (2N/M = 4, 10% test).

    Same splits and seeds as that benchmark; writes
    ``campaign_tuning_parts/rmse_check.csv`` (per seed, with the linear model's RMSE).
    """
    from naiad_stability import linear_rmse

    from naiad_bo.models import NaiadEnsemble

    torch.set_num_threads(1)
    PARTS.mkdir(parents=True, exist_ok=True)
    out = PARTS / "rmse_check.csv"
    rows = []
    for name in SIZES:
        screen = naiad_bo.load_screen(name)
        pairs, y, se = screen.pair_index(), screen.y_values(), screen.single_effects
        P, Y = torch.as_tensor(pairs.copy()), torch.as_tensor(y.copy())
        n_train = 2 * screen.n_genes
        for seed in range(n_seeds):
            perm = np.random.default_rng(seed).permutation(len(pairs))
            tr, rest = perm[:n_train], perm[n_train:]
            te = rest[: len(pairs) // 10]
            lin = linear_rmse(se, pairs, y, tr, te)
            for v in variants:
                opts = VARIANTS[v][0](screen.n_genes)
                model = NaiadEnsemble(se, seed=seed, **opts).fit(P[tr], Y[tr].unsqueeze(-1))
                with torch.no_grad():
                    mean = model.posterior(P[te]).mean.squeeze(-1).numpy()
                r = float(np.sqrt(np.mean((mean - y[te]) ** 2)))
                rows.append({"screen": name, "variant": v, "seed": seed, "rmse": r,
                             "linear_rmse": lin, "loses_to_linear": r > lin})
                print(f"rmse {name} {v} seed={seed} {r * 100:.2f} (linear {lin * 100:.2f})",
                      flush=True)
    append_csv(pd.DataFrame(rows), out)


def merge() -> None:
    parts = [pd.read_csv(p) for p in sorted(PARTS.glob("*.csv")) if p.stem != "rmse_check"]
    df = pd.concat(parts, ignore_index=True).drop_duplicates(["screen", "variant", "seed"])
    df["seed_set"] = np.where(df.seed.isin(TUNING_SEEDS), "tuning", "confirm")
    df = df.sort_values(["seed_set", "screen", "variant", "seed"],
                        ascending=[False, True, True, True])
    write_csv(df.drop(columns=["git_commit", "git_clean"], errors="ignore"),
              RESULTS / "campaign_tuning.csv")
    summary = []
    for (seed_set, screen, variant), g in df.groupby(["seed_set", "screen", "variant"],
                                                     sort=False):
        base = df[(df.screen == screen) & (df.variant == "base")].set_index("seed")
        gi = g.set_index("seed")
        common = gi.index.intersection(base.index)
        delta = (gi.loc[common, "top200_discovered"] - base.loc[common, "top200_discovered"])
        n = len(g)
        summary.append({
            "seed_set": seed_set, "screen": screen, "variant": variant, "n_seeds": n,
            "seeds": [int(v) for v in g.seed],
            "acquisition": g["acquisition"].iloc[0],
            "surrogate_options": g["surrogate_options"].iloc[0],
            "top200_mean": float(g.top200_discovered.mean()),
            "top200_se": float(g.top200_discovered.std(ddof=1) / np.sqrt(n)) if n > 1 else None,
            "measured_top200_mean": float(g.measured_top200.mean()),
            "test_rmse_mean": float(g.test_rmse.mean()),
            "delta_vs_base_mean": float(delta.mean()) if len(delta) else None,
            "delta_vs_base_se": (float(delta.std(ddof=1) / np.sqrt(len(delta)))
                                 if len(delta) > 1 else None),
            "wall_s_per_campaign": float(g.wall_s.mean()),
        })
    rmse_summary = []
    check = PARTS / "rmse_check.csv"
    if check.exists():
        rc = pd.read_csv(check).drop_duplicates(["screen", "variant", "seed"], keep="last")
        for (screen, variant), g in rc.groupby(["screen", "variant"]):
            rmse_summary.append({
                "screen": screen, "variant": variant, "n_seeds": len(g),
                "rmse_x100_mean": float(g.rmse.mean() * 100),
                "rmse_x100_se": float(g.rmse.std(ddof=1) / np.sqrt(len(g)) * 100),
                "linear_rmse_x100_mean": float(g.linear_rmse.mean() * 100),
                "losses_to_linear": int(g.loses_to_linear.sum()),
            })
        print(pd.DataFrame(rmse_summary).to_string(index=False))
    js = {
        "question": "general change raising NAIAD+MPE round-4 top-200 discovered on both screens",
        "protocol": "paper (30% test never acquirable), Norman 100+4x100, K562 500+4x500",
        "tuning_seeds": list(TUNING_SEEDS), "torch_threads": 1,
        "confirm_seeds": "105..109 (fresh non-benchmark seeds, only to re-test the best variants)",
        "summary": summary,
        "rmse_check_2N_over_M_4": rmse_summary,
    }
    write_json(RESULTS / "campaign_tuning.json", js, indent=1)
    print(pd.DataFrame(summary)[["seed_set", "screen", "variant", "n_seeds",
                                 "top200_mean", "top200_se",
                                 "delta_vs_base_mean", "delta_vs_base_se",
                                 "measured_top200_mean", "test_rmse_mean",
                                 "wall_s_per_campaign"]].to_string(index=False))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--screen", choices=sorted(SIZES))
    ap.add_argument("--variants", nargs="+", default=["base"], choices=sorted(VARIANTS))
    ap.add_argument("--seeds", nargs="+", type=int, default=list(TUNING_SEEDS))
    ap.add_argument("--tag", default="", help="suffix of the parts file (parallel runs)")
    ap.add_argument("--rmse-check", action="store_true",
                    help="small-sample RMSE check (2N/M = 4, 10 seeds) of --variants")
    ap.add_argument("--merge", action="store_true")
    args = ap.parse_args()
    provenance()  # the code's state when the run starts
    if any(s in range(0, 5) for s in args.seeds):
        raise SystemExit("seeds 0..4 are the benchmark seeds; tune on 100..104")
    if args.screen:
        run(args.screen, args.variants, args.seeds, args.tag)
    if args.rmse_check:
        rmse_check(args.variants)
    if args.merge:
        merge()


if __name__ == "__main__":
    main()
