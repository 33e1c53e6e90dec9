"""Seconds per campaign round, a whole K562 campaign, and CLI start-up, against the reference.

Issue 12 targets (1 torch thread): a default NAIAD + MPE round at round 4 >= 15x faster than
the reference implementation (aim 30x) on K562 and Norman, a whole K562 MPE campaign >= 15x,
``naiad-bo --help`` and ``naiad-bo screens`` under 0.5 s.

* **Round 4** (the lab path, :class:`naiad_bo.Campaign` with its defaults): a pilot of
  ``initial`` uniformly drawn pairs, 4 rounds of ``ask(batch)`` / ``tell`` with the screen's
  measured values, then the timed round: ``ask(batch)`` = fit the 5-member ensemble on every
  measured pair (K562 2,500, Norman 500), score every remaining candidate, pick the exact
  top-``batch``. Fit / score / select wall and process-CPU seconds from
  ``Campaign.history``; each seed's round is timed ``--repeats`` times on copies of the
  campaign (identical work) after one untimed warm-up round (imports, first-call costs).
  Median over seeds x repeats; min and max beside it.
* **Whole K562 MPE campaign**: :func:`naiad_bo.campaign.simulate_campaign` rounds 0-4 (paper
  protocol, 500 + 4 x 500, which also predicts every pair each round for its metrics), timed
  in a process that has run one campaign round already (no import costs).
* **CLI start-up**: fresh processes of ``naiad-bo --help`` and ``naiad-bo screens``
  (median of 5), plus whether each imported torch.

Reference numbers: issue 12 (the public NAIAD code run beside ours, one thread, quiet
machine): 12.5 s per K562 round, 2.20 s per Norman round, 42.3 s per K562 campaign.

Usage: python benchmarks/round_speed.py [--seeds 0 1] [--repeats 3] [--quick]
Writes benchmarks/results/round_speed.{json,png}.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))  # provenance.py

import numpy as np  # noqa: E402
import torch  # noqa: E402
from provenance import output_dir, provenance, save_png, write_json  # noqa: E402

#: Reference seconds (issue 12, measured beside ours on one thread, quiet machine).
REFERENCE = {"horlbeck2018_k562": 12.5, "norman2019": 2.20, "k562_campaign": 42.3}
#: Ours before issue 12 (same measurements, issue 12): round 4, campaign, `screens` start-up.
BEFORE = {"horlbeck2018_k562": 1.79, "norman2019": 0.58, "k562_campaign": 6.1,
          "cli_screens": 1.4}
TARGET_SPEEDUP, AIM_SPEEDUP, TARGET_CLI_S = 15.0, 30.0, 0.5
#: (initial, batch) per screen: the paper's schedule.
SIZES = {"norman2019": (100, 100), "horlbeck2018_k562": (500, 500)}


def _round4(name: str, seed: int, repeats: int, surrogate: str = "naiad") -> list[dict]:
    """Time the round-4 ``ask`` of a default NAIAD + MPE campaign ``repeats`` times."""
    import naiad_bo
    from naiad_bo.data.screen import PairScreen

    screen = naiad_bo.load_screen(name)
    initial, batch = SIZES[name]
    pairs = screen.pairs
    value = {(int(a), int(b)): float(y) for a, b, y in
             zip(pairs["gene_a"], pairs["gene_b"], pairs["y"], strict=True)}
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(len(pairs), size=initial, replace=False))
    pilot = PairScreen(list(screen.genes), screen.single_effects, pairs.iloc[rows], name=name,
                       direction=screen.direction, control=screen.control)
    campaign = naiad_bo.Campaign(pilot, surrogate, "mpe", seed)
    for _ in range(4):
        frame = campaign.ask(batch)
        score = [value.get((min(a, b), max(a, b)), value.get((a, b)))
                 for a, b in zip(frame["gene_a"], frame["gene_b"], strict=True)]
        campaign.tell(frame.assign(score=score)[["id1", "id2", "score"]])
    campaign.copy().ask(batch)  # warm-up
    out = []
    for rep in range(repeats):
        c = campaign.copy()
        t0, c0 = time.perf_counter(), time.process_time()
        c.ask(batch)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        h = c.history.iloc[-1]
        out.append({
            "screen": name, "seed": seed, "repeat": rep, "n_train": int(h["n_measured"]),
            "fit_s": float(h["fit_s"]), "score_s": float(h["score_s"]),
            "select_s": float(h["select_s"]), "round_s": wall,
            "fit_cpu_s": float(h["fit_cpu_s"]), "score_cpu_s": float(h["score_cpu_s"]),
            "select_cpu_s": float(h["select_cpu_s"]), "round_cpu_s": cpu,
        })
    return out


def _campaign(seed: int, surrogate: str = "naiad") -> dict:
    """A whole K562 NAIAD + MPE campaign, rounds 0-4 (imports already paid)."""
    import naiad_bo
    from naiad_bo.campaign import simulate_campaign

    screen = naiad_bo.load_screen("horlbeck2018_k562")
    initial, batch = SIZES["horlbeck2018_k562"]
    t0, c0 = time.perf_counter(), time.process_time()
    res = simulate_campaign(screen, surrogate, "mpe", initial=initial, batch=batch, rounds=4,
                            seed=seed, progress=False)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    last = res.to_frame().iloc[-1]
    return {"seed": seed, "wall_s": wall, "cpu_s": cpu,
            "top200_discovered": float(last["top200_discovered"])}


def _cli(argv: list[str], runs: int) -> dict:
    """Fresh-process start-up seconds of ``naiad-bo ARGV`` (median of ``runs``)."""
    exe = shutil.which("naiad-bo", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "naiad_bo.cli.main"]
    env = dict(os.environ, NAIAD_BO_THREADS="1")
    walls, cpus = [], []
    for _ in range(runs):
        before = os.times()
        t0 = time.perf_counter()
        subprocess.run([*cmd, *argv], check=True, capture_output=True, env=env)
        walls.append(time.perf_counter() - t0)
        after = os.times()
        cpus.append((after.children_user - before.children_user)
                    + (after.children_system - before.children_system))
    probe = subprocess.run(
        [sys.executable, "-c",
         "import sys, contextlib, io\nfrom naiad_bo.cli.main import main\n"
         "with contextlib.redirect_stdout(io.StringIO()):\n"
         f"    try: main({argv!r})\n    except SystemExit: pass\n"
         "print('torch' in sys.modules)"],
        capture_output=True, text=True, check=True, env=env)
    return {"command": " ".join(["naiad-bo", *argv]), "median_s": statistics.median(walls),
            "min_s": min(walls), "max_s": max(walls), "cpu_median_s": statistics.median(cpus),
            "runs": runs, "imports_torch": probe.stdout.strip() == "True"}


def _summary(rows: list[dict], key: str) -> dict:
    vals = [r[key] for r in rows]
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cli-runs", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="1 seed, 1 repeat, no campaign")
    ap.add_argument("--out", default=None)
    ap.add_argument("--surrogate", default="naiad",
                    help="surrogate of the timed rounds (default naiad: the committed "
                    "round_speed.json; e.g. naiad-reference, the campaigns' default)")
    ap.add_argument("--stem", default=None, help="file name stem (default round_speed, or "
                    "round_speed_SURROGATE for another surrogate)")
    args = ap.parse_args()
    stem = args.stem or ("round_speed" if args.surrogate == "naiad"
                         else f"round_speed_{args.surrogate.replace('-', '_')}")
    torch.set_num_threads(args.threads)
    if args.quick:
        args.seeds, args.repeats, args.cli_runs = args.seeds[:1], 1, 2
    out = output_dir(args.quick, args.out)
    prov = provenance()
    load = os.getloadavg()
    print(f"threads {torch.get_num_threads()}, load average {load[0]:.1f} (machine shared: "
          "CPU seconds are the fairer number)")

    cli = [_cli(["--help"], args.cli_runs), _cli(["screens"], args.cli_runs)]
    rounds: dict[str, list[dict]] = {}
    for name in ("norman2019", "horlbeck2018_k562"):
        rounds[name] = [r for seed in args.seeds
                        for r in _round4(name, seed, args.repeats, args.surrogate)]
    campaign = None if args.quick else _campaign(args.seeds[0], args.surrogate)
    # the opt-in faster recipe (FastNaiadEnsemble, "naiad-fast"; K562-size screens only),
    # beside the naiad rows only
    with_fast = args.surrogate == "naiad"
    fast_rows = [r for seed in (args.seeds if with_fast else [])
                 for r in _round4("horlbeck2018_k562", seed, args.repeats, "naiad-fast")]
    fast_campaign = None if args.quick or not with_fast else _campaign(args.seeds[0],
                                                                       "naiad-fast")

    summary = {}
    print(f"\nround 4 (median over seeds {args.seeds} x {args.repeats} repeats; "
          "wall s, CPU s in brackets)")
    print(f"{'screen':<18} {'n_train':>7} {'fit':>13} {'score':>13} {'select':>13} "
          f"{'round':>13} {'reference':>9} {'speed-up':>8} {'before':>6}")
    for name, rows in rounds.items():
        s = {k: _summary(rows, k) for k in rows[0] if k.endswith("_s")}
        ref = REFERENCE[name]
        s["speedup_wall"] = ref / s["round_s"]["median"]
        s["speedup_cpu"] = ref / s["round_cpu_s"]["median"]
        summary[name] = s

        def cell(key, s=s):
            return f"{s[key]['median']:.3f} ({s[key.replace('_s', '_cpu_s')]['median']:.3f})"

        print(f"{name:<18} {rows[0]['n_train']:>7} {cell('fit_s'):>13} {cell('score_s'):>13} "
              f"{cell('select_s'):>13} {cell('round_s'):>13} {ref:>9.2f} "
              f"{s['speedup_wall']:>7.1f}x {BEFORE[name]:>6.2f}")
    if campaign is not None:
        campaign["speedup_wall"] = REFERENCE["k562_campaign"] / campaign["wall_s"]
        campaign["speedup_cpu"] = REFERENCE["k562_campaign"] / campaign["cpu_s"]
        print(f"\nwhole K562 MPE campaign (rounds 0-4, seed {campaign['seed']}): "
              f"{campaign['wall_s']:.2f} s wall ({campaign['cpu_s']:.2f} s CPU); reference "
              f"{REFERENCE['k562_campaign']} s -> {campaign['speedup_wall']:.1f}x wall "
              f"({campaign['speedup_cpu']:.1f}x CPU); before {BEFORE['k562_campaign']} s")
    fast = {k: _summary(fast_rows, k) for k in fast_rows[0] if k.endswith("_s")} if (
        fast_rows) else None
    ref = REFERENCE["horlbeck2018_k562"]
    if fast is not None:
        fast["speedup_wall"] = ref / fast["round_s"]["median"]
        fast["speedup_cpu"] = ref / fast["round_cpu_s"]["median"]
        print(f"\nnaiad-fast (opt-in recipe) K562 round 4: fit {fast['fit_s']['median']:.3f} "
              f"s, round {fast['round_s']['median']:.3f} s wall "
              f"({fast['round_cpu_s']['median']:.3f} s CPU) -> {fast['speedup_wall']:.1f}x the "
              f"reference's {ref} s")
    if fast_campaign is not None:
        fast_campaign["speedup_wall"] = REFERENCE["k562_campaign"] / fast_campaign["wall_s"]
        print(f"naiad-fast whole K562 campaign: {fast_campaign['wall_s']:.2f} s wall -> "
              f"{fast_campaign['speedup_wall']:.1f}x")
    print("\nCLI start-up (fresh process, median of "
          f"{args.cli_runs}; target < {TARGET_CLI_S} s)")
    for c in cli:
        print(f"  {c['command']:<20} {c['median_s']:.3f} s wall ({c['cpu_median_s']:.3f} s CPU)"
              f"  [{c['min_s']:.3f}-{c['max_s']:.3f}]  imports torch: {c['imports_torch']}")
    print(f"\ntargets: round speed-up >= {TARGET_SPEEDUP}x (aim {AIM_SPEEDUP}x) per screen "
          "and for the campaign; CLI < 0.5 s")

    payload = {
        "description": "issue 12: seconds per NAIAD + MPE round at round 4, whole K562 "
                       "campaign, CLI start-up; 1 thread",
        "surrogate": args.surrogate,
        "load_average": list(load), "seeds": args.seeds, "repeats": args.repeats,
        "reference_s": REFERENCE, "before_s": BEFORE,
        "targets": {"speedup": TARGET_SPEEDUP, "aim": AIM_SPEEDUP, "cli_s": TARGET_CLI_S},
        "round4": summary, "round4_runs": rounds, "k562_campaign": campaign, "cli": cli,
        "naiad_fast": {"note": "opt-in FastNaiadEnsemble ('naiad-fast'), not the default",
                       "round4_k562": fast, "round4_k562_runs": fast_rows,
                       "k562_campaign": fast_campaign},
    }
    write_json(out / f"{stem}.json", payload, indent=2)
    _figure(summary, campaign, cli, out / f"{stem}.png", load[0])
    print(f"wrote {out / stem}.json and {stem}.png (commit {prov['git_commit']})")


#: Short screen names for the figure's axis.
_SHORT = {"norman2019": "Norman", "horlbeck2018_k562": "K562"}


def _figure(summary: dict, campaign: dict | None, cli: list[dict], path: Path,
            load: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [3, 1]})
    labels, x = [], 0
    for name, s in summary.items():
        bottom = 0.0
        for key, color in (("fit_s", "C0"), ("score_s", "C1"), ("select_s", "C2")):
            v = s[key]["median"]
            ax.bar(x, v, bottom=bottom, color=color, label=key[:-2] if x == 0 else None)
            bottom += v
        ax.bar(x + 1, REFERENCE[name], color="C3", label="reference" if x == 0 else None)
        ax.bar(x + 2, BEFORE[name], color="0.6",
               label="before issue 12 (issue's machine)" if x == 0 else None)
        ax.hlines(REFERENCE[name] / TARGET_SPEEDUP, x - 0.4, x + 0.4, colors="k",
                  linestyles="--", lw=1, label="15x target" if x == 0 else None)
        ax.text(x, bottom, f"{s['speedup_wall']:.1f}x", ha="center", va="bottom")
        labels += [f"{_SHORT.get(name, name)}\nours", "ref.", "before"]
        x += 4
    if campaign is not None:
        ax.bar(x, campaign["wall_s"], color="C4", label="K562 campaign (ours)")
        ax.bar(x + 1, REFERENCE["k562_campaign"], color="C3")
        ax.bar(x + 2, BEFORE["k562_campaign"], color="0.6")
        ax.hlines(REFERENCE["k562_campaign"] / TARGET_SPEEDUP, x - 0.4, x + 0.4, colors="k",
                  linestyles="--", lw=1)
        ax.text(x, campaign["wall_s"], f"{campaign['speedup_wall']:.1f}x", ha="center",
                va="bottom")
        labels += ["K562 campaign\nours", "ref.", "before"]
    ticks = [i for i in range(x + 3) if i % 4 != 3]
    ax.set_xticks(ticks[: len(labels)], labels, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylim(bottom=0.05)
    ax.set_ylabel("seconds (wall, 1 thread)")
    ax.set_title(f"round 4 and a whole campaign (load {load:.1f})")
    ax.legend(fontsize=7)
    ax2.bar(range(len(cli)), [c["median_s"] for c in cli], color="C0")
    ax2.axhline(TARGET_CLI_S, color="C3", ls="--", lw=1, label="target")
    ax2.set_xticks(range(len(cli)), [c["command"].removeprefix("naiad-bo ") for c in cli])
    ax2.set_title("CLI start-up (s)")
    ax2.legend(fontsize=7)
    fig.tight_layout()
    save_png(fig, path)


if __name__ == "__main__":
    main()
