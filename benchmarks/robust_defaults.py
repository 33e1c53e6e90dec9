"""Robust defaults: tune on gene-subsampled screens, confirm on fresh seeds and subsets.

Issue 11, build item 4. The campaign defaults were chosen on the two bundled screens and
must hold on screens we never see (the project is judged on held-out screens; on one of
them, a K562-like screen, the reference implementation found 156.0 +- 1.5 of the top-200 at
round 4 where our default found 151.6 +- 1.6). Protocol:

* **Screens.** Random 60% gene subsets of each bundled screen
  (:func:`naiad_bo.data.subsample_genes`, every pair among the kept genes, single effects
  kept): a subset changes the hub genes and the top pairs. Tuning subsets are drawn with
  subset seeds 0-3, confirmation subsets with 10-13 (fresh), per bundled screen.
* **Campaigns** (the paper's, :class:`naiad_bo.campaign.CampaignSimulator`, 30% test split
  never acquirable, 4 rounds after round 0). On a subset the paper's round sizes (Norman
  100 + 4 x 100, K562 500 + 4 x 500) are scaled by the share of genes kept (``--scale
  genes``, default: ``initial = batch = round(0.6 I)``, so the average gene occurrence 2N/M
  of every round, which Table 5 and the reference's per-round dims are keyed on, is the
  paper campaign's: 1.8 ... 8.9 Norman, 2.2 ... 11.2 K562) or by the share of pairs kept
  (``--scale pairs``: ``f = P_sub / P``, about 0.36, every round measures the paper's share
  of the screen; 2N/M is then 0.6x the paper's). The discovery ``k`` is always scaled by the
  share of pairs, ``k = round(200 P_sub / P)`` (72 on both screens), so the top-k is the
  same share of the pairs as the paper's top-200. The full screens run at the paper's
  sizes with ``k = 200`` (confirmation only, fresh seeds).
* **Seeds.** Tuning campaign seeds 300-303 on every tuning subset; confirmation seeds
  400-402 on the fresh subsets and on the full screens (the benchmark seeds 0-4 of
  ``acquisition.py`` and the earlier tuning seeds 100-109 are never used).
* **Variants** (:data:`VARIANTS`): the default (NAIAD + MPE, Table 5 read by the floor
  rule); the other readings of Table 5 (nearest row; the table's size column; the
  reference's fixed per-round dims 2, 4, 4, 8, 16 / 2, 8, 8, 16, 32); the reference
  implementation's whole recipe (those dims, full-batch Adam lr 1e-2, 200 / 100 epochs,
  single-gene width 64 / 256, 5 members: ``refrecipe``); probability of hit (estimated
  top-k cut-off), with and without the CV variance scale; 10 members.

Reported per bundled screen and phase: mean +- s.e. over all campaigns, the mean of each
subset (the per-subset spread), and the paired difference to the default and to the
reference recipe (same subset, seed and round-0 library). A variant would replace the
default only if it beats it on the tuning subsets of **both** screens (paired mean > 0 on
each) and again on the fresh confirmation subsets and seeds, and Table-1 RMSE
(``small_sample.py``) does not get worse.

**Speed recipes** (issue 12: ``fast``, ``fast_lr2``, fewer optimiser steps at a higher
rate) must not *lose* discovery rather than win it; their rule was declared before they ran
(:func:`decide_speed`): in every (phase, screen, full/subsets) cell of the tuning and the
confirmation phases, the paired mean difference to the default of both ``top_k_discovered``
and ``measured_top_k`` is at least minus one paired standard error, and Table-1 RMSE
(2N/M = 4 and 20, both screens, seeds 0-4 and fresh seeds 5-9) is not above the default's
mean plus one standard error. If both pass, the one with fewer steps is kept.
Outcome (``results/fast_recipe.*``, commit in the file; there ``default`` is the paper's
recipe, which ``paper_recipe`` reproduces at any later commit): both fail on the Norman
subsets (-1.25 +- 0.57, -1.0 +- 0.49 of 72); on K562 ``fast`` passes (tuning -0.3 +- 0.4,
confirmation +0.0 +- 0.5, full screen -0.3 +- 0.9), so it was made the K562-size default,
then withdrawn when the acquisition benchmark's own seeds 0-4 on the full K562 screen gave
-2.6 +- 1.6 (MPE) and -5.0 +- 1.4 (no same-gene pairs): it is the opt-in
:class:`naiad_bo.models.FastNaiadEnsemble` (``"naiad-fast"``).
``long`` (1.5x the paper's epochs) tests the other direction under the issue-11 rule
(:func:`decide`: better than the default on the tuning subsets of both screens and again on
the confirmation subsets), declared before it ran.

**Small-screen study** (declared before it ran; ``--phase small_tuning`` /
``small_confirmation``, :func:`decide_small`). Earlier-growing embeddings (the nearest-row
reading) won on every phase of the Norman subsets (+2.0, +1.8 of 72) and lost slightly on
the K562 60% subsets (-0.2, -0.2), which use the Horlbeck rows; but Norman is the only
screen of <= 200 genes, where the Norman / Simpson rows apply, so a gain there may be
Norman's own. The study asks whether it is a property of small screens: ``nearest_small``
(nearest row on screens of <= 200 genes, floor above, so larger screens are unchanged bit
for bit) against the default on small screens drawn from **both** bundled screens: Norman
60% subsets (67 genes) and **K562 40% subsets** (179 genes: the Norman / Simpson rows,
round sizes 200 + 4 x 200 so 2N/M per round is the paper campaign's, k = 32 by the share of
pairs), fresh subsets 30-33 x seeds 600-603 (tuning), 40-43 x 700-702 (confirmation), and
full Norman on seeds 700-704 (reported, not in the rule). Rule: adopt ``nearest_small`` as
the default only if its paired mean difference to the default is > 0 on the subsets of both
sources in both phases. Table 1 is unaffected (floor and nearest pick the same row at
2N/M = 4, 10 and 20).

**Additive screens** (diagnostic, declared before it ran; ``--phase additive``). On the
held-out K562-like screen the reference implementation beat our default (156.0 vs 151.6),
which no bundled screen or subset reproduced. The paper's Jurkat screen, the other Horlbeck
screen, is much easier than K562 (uniform sampling finds 79 vs 39 of the top-200): its top
pairs follow the single effects more closely. The phase makes both bundled screens more
additive (:func:`naiad_bo.data.scale_interactions`, interaction residuals x 0.6, so the
additive rule's top-200 holds 83 of K562's true top-200 instead of 37) and runs the default,
the reference recipe and the reference dims on the full screens (seeds 800-804) and on 60%
subsets 50-53 (seeds 800-802). Reading: if the default is below the reference recipe there
(paired mean < 0 on the full K562 screen and its subsets), the held-out loss is reproduced and
these screens join the tuning set; otherwise the proxy does not explain it.

**Table 5 on the default surrogate** (declared before it ran; :func:`decide_refnet`). With
NAIAD, the readings that step the embedding up sooner (nearest row, size column) gained on
the Norman subsets (+2.0 / +0.9 of 72) and were level or slightly behind on K562, and the
default surrogate is now the reference network (``refnet``), whose K562 behaviour may
differ; Norman is where the default still misses issue 11's target (147.8 < 150). Variants
``refnet_nearest`` and ``refnet_size_column`` against ``refnet`` on the tuning subsets
(0-3 x seeds 300-303, ``--out robust_defaults_refnet``, reusing its ``refnet`` rows) and, only
for a variant that passes there, the confirmation subsets and seeds. Rule: paired mean
difference of top-k discovered > 0 on the subsets of both screens in both phases, and of
true top-k measured >= minus one s.e. in each of those cells.

**Thompson sampling on the default's calibrated posterior** (declared before it ran; the same
rule, :func:`decide_refnet`). On the acquisition benchmark's seeds 0-4 (full screens) it is
the only spread-based acquisition level with MPE on the default network: +0.8 +- 0.4
(Norman) and +0.4 +- 1.1 (K562) discovered, paired, where UCB and variance lose 43-66 pairs.
``refnet_thompson_cal`` (``naiad-reference`` with its 2-fold CV variance scale, Thompson over
the scaled members) against ``refnet`` (MPE), tuning subsets then confirmation subsets and
seeds, ``--out robust_defaults_refnet``; it would become the default acquisition only if it
passes both phases (its fit costs ~1.9x MPE's, which skips the calibration). Outcome: it
passes tuning (+0.12 +- 0.15 Norman, +0.12 +- 0.34 K562 of 72) and fails confirmation
(-0.17 +- 0.30 / -0.17 +- 0.21), so MPE stays.

Writes ``results/robust_defaults_records.csv`` (every round of every campaign),
``robust_defaults.csv`` (last round, one row per campaign), ``robust_defaults.json``
(settings, summaries, paired tests, checks) and ``robust_defaults.png``, with provenance.
``--quick`` runs a tiny grid into ``quick_results/``.

Run::

    python benchmarks/robust_defaults.py --phase tuning --executor process --workers 2
    python benchmarks/robust_defaults.py --phase confirmation --variants default refrecipe ...
    python benchmarks/robust_defaults.py --report      # rebuild json / png from the records
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import multiprocessing as mp
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # measure this checkout
sys.path.insert(0, str(Path(__file__).resolve().parent))

from provenance import (  # noqa: E402
    append_csv,
    output_dir,
    provenance,
    save_png,
    write_csv,
    write_json,
)

#: (initial, batch) of the paper's campaigns per bundled screen.
SIZES = {"norman2019": (100, 100), "horlbeck2018_k562": (500, 500)}
#: Table 5 family of each bundled screen (Norman/Simpson rows, Horlbeck row).
TABLE = {"norman2019": "norman", "horlbeck2018_k562": "horlbeck"}
TOP_K = 200
ROUNDS = 4
FRACTION = 0.6
PHASES = {
    "tuning": {"subsets": (0, 1, 2, 3), "seeds": (300, 301, 302, 303), "full_seeds": ()},
    "confirmation": {"subsets": (10, 11, 12, 13), "seeds": (400, 401, 402),
                     "full_seeds": (400, 401, 402)},
    #: A further check of the closest candidate (``refdims``) on subsets and seeds no earlier
    #: phase used; it does not enter the adoption rule above (declared before it ran).
    "reconfirmation": {"subsets": (20, 21, 22, 23, 24, 25), "seeds": (500, 501, 502, 503),
                       "full_seeds": (500, 501, 502, 503, 504)},
    #: The small-screen study (:func:`decide_small`, declared before it ran): screens of at
    #: most 200 genes drawn from *both* bundled screens (Norman 60%: 67 genes, K562 40%: 179
    #: genes), fresh subsets and seeds; full Norman (112 genes) on fresh seeds too.
    "small_tuning": {"subsets": (30, 31, 32, 33), "seeds": (600, 601, 602, 603),
                     "full_seeds": (), "fraction": {"horlbeck2018_k562": 0.4}},
    "small_confirmation": {"subsets": (40, 41, 42, 43), "seeds": (700, 701, 702),
                           "full_seeds": {"norman2019": (700, 701, 702, 703, 704)},
                           "fraction": {"horlbeck2018_k562": 0.4}},
    #: Diagnostic (declared before it ran): screens made more additive than the bundled ones
    #: (:func:`naiad_bo.data.scale_interactions`, interactions x 0.6: the additive rule's
    #: top-200 holds 83 instead of 37 of K562's true top-200), like the held-out K562-like
    #: screen on which the reference implementation beat our default.
    "additive": {"subsets": (50, 51, 52, 53), "seeds": (800, 801, 802),
                 "full_seeds": (800, 801, 802, 803, 804), "interaction_factor": 0.6},
}
#: Phases of the small-screen study.
SMALL_PHASES = ("small_tuning", "small_confirmation")
#: Paper Table 2 and the reference implementation (anchors.md), full screens, MPE, round 4.
PAPER = {"norman2019": 144, "horlbeck2018_k562": 94}
REFERENCE = {"norman2019": (138.8, 1.5), "horlbeck2018_k562": (100.2, 2.7)}
#: The held-out K562-like screen (issue 11): reference 156.0 +- 1.5, our default 151.6 +- 1.6.
HELD_OUT = {"reference": (156.0, 1.5), "default": (151.6, 1.6), "refrecipe": 146.6}


@dataclass(frozen=True)
class Design:
    """One screen's campaign design.

    Attributes:
        label: ``base`` for a full screen, ``base/sub60-S`` for a subset.
        base: Bundled screen name.
        subset: Subset seed, or -1 for the full screen.
        n_genes: ``M``.
        n_pairs: ``P``.
        initial: Round-0 pairs.
        batch: Pairs per round.
        top_k: ``k`` of "top-k discovered".
    """

    label: str
    base: str
    subset: int
    n_genes: int
    n_pairs: int
    initial: int
    batch: int
    top_k: int

    @property
    def table(self) -> str:
        return TABLE[self.base]


#: How round sizes are scaled on a subset: "genes" (keep 2N/M) or "pairs" (keep the share).
SCALE = {"mode": "genes"}


def phase_fraction(phase: str, base: str) -> float:
    """Share of genes kept by the subsets of ``base`` in ``phase`` (default 0.6)."""
    return float(PHASES[phase].get("fraction", {}).get(base, FRACTION))


def phase_full_seeds(phase: str, base: str) -> tuple[int, ...]:
    """Campaign seeds on the full ``base`` screen in ``phase`` (per screen or for all)."""
    seeds = PHASES[phase]["full_seeds"]
    return tuple(seeds.get(base, ())) if isinstance(seeds, dict) else tuple(seeds)


def phase_screen(phase: str, base: str):
    """The bundled screen ``base`` as ``phase`` uses it (interactions scaled where it says)."""
    import naiad_bo
    from naiad_bo.data import scale_interactions

    screen = naiad_bo.load_screen(base)
    factor = PHASES[phase].get("interaction_factor")
    return screen if factor is None else scale_interactions(screen, factor)


def load_design(base: str, subset: int, fraction: float = FRACTION,
                phase: str | None = None) -> tuple[Design, object]:
    """(design, screen) for a bundled screen (``subset = -1``) or one of its subsets
    (``fraction`` of its genes); ``phase`` may transform the screen first
    (:func:`phase_screen`)."""
    import naiad_bo
    from naiad_bo.data import subsample_genes

    full = naiad_bo.load_screen(base) if phase is None else phase_screen(phase, base)
    initial, batch = SIZES[base]
    if subset < 0:
        return Design(full.name, base, -1, full.n_genes, full.n_pairs, initial, batch,
                      TOP_K), full
    screen = subsample_genes(full, fraction, seed=subset)
    f = screen.n_pairs / full.n_pairs
    g = f if SCALE["mode"] == "pairs" else screen.n_genes / full.n_genes
    design = Design(screen.name, base, subset, screen.n_genes, screen.n_pairs,
                    round(g * initial), round(g * batch), round(f * TOP_K))
    return design, screen


# ------------------------------------------------------------------------------- variants
def _none(d: Design) -> dict:
    return {}


def _nearest(d: Design) -> dict:
    return {"schedule": "norman_simpson_nearest" if d.table == "norman" else "horlbeck_nearest"}


def _nearest_small(d: Design) -> dict:
    # the candidate rule of the small-screen study: Table 5 read by the nearest row on
    # screens of <= 200 genes (the Norman / Simpson rows), unchanged above
    from naiad_bo.models.embedding_schedule import SMALL_SCREEN_MAX_GENES

    return {"schedule": "norman_simpson_nearest"} if d.n_genes <= SMALL_SCREEN_MAX_GENES else {}


def _size_column(d: Design) -> dict:
    return {"schedule": f"{d.table}_size_column"}


def _refdims(d: Design) -> dict:
    from naiad_bo.models.embedding_schedule import REFERENCE_ROUND_DIMS, round_schedule

    return {"schedule": round_schedule(REFERENCE_ROUND_DIMS[d.table], d.initial, d.batch,
                                       d.n_genes)}


def _refrecipe(d: Design) -> dict:
    # anchors.md: 5 members, full batch, Adam lr 1e-2, 200 (Norman) / 100 (Horlbeck) epochs,
    # single-gene width 64 / 256, embed dims by round
    return {**_refdims(d), "batch_size": None, "lr": 1e-2, "ensemble_size": 5,
            "epochs": 200 if d.table == "norman" else 100,
            "single_dim": 64 if d.table == "norman" else 256}


def _anchored(d: Design) -> dict:
    return {"anchor_no_effect": True}


def _anchored_gelu(d: Design) -> dict:
    return {"anchor_no_effect": True, "activation": "gelu"}


def _cv3(d: Design) -> dict:
    from naiad_bo.models import CrossValidatedVarianceScale

    return {"variance_calibration": CrossValidatedVarianceScale(3)}


def _ens10(d: Design) -> dict:
    return {"ensemble_size": 10}


def _fast(d: Design) -> dict:
    # issue 12: a third to a tenth of the optimiser steps at a higher peak rate
    return {"lr": 3e-2, "epochs": 120 if d.table == "norman" else 60}


def _paper_recipe(d: Design) -> dict:
    # the paper's optimiser recipe for every screen size (the default before issue 12)
    return {"lr": 1e-2, "epochs": 500 if d.table == "norman" else 200}


def _fast10(d: Design) -> dict:
    # the fast recipe with 10 members on Horlbeck-size screens (~0.6x the default's fit);
    # Norman-size screens keep the default
    return {} if d.table == "norman" else {"lr": 3e-2, "epochs": 60, "ensemble_size": 10}


def _long(d: Design) -> dict:
    # the other direction: 1.5x the paper's epochs (the short recipes lost on full K562)
    return {"lr": 1e-2, "epochs": 750 if d.table == "norman" else 300}


def _fast_lr2(d: Design) -> dict:
    return {"lr": 2e-2, "epochs": 150 if d.table == "norman" else 70}


def _single64(d: Design) -> dict:
    # a 64-wide single-gene branch on every screen (Norman-size screens already use 64)
    return {"single_dim": 64}


def _single256(d: Design) -> dict:
    # the reference implementation's width (d_pheno_hid = 256) on every screen; Horlbeck-size
    # screens already use 256
    return {"single_dim": 256}


def _half_epochs_large(d: Design) -> dict:
    # half the Horlbeck-size epochs (100 instead of 200): the reference network's K562 round
    # at the reference implementation's cost; Norman-size screens keep the recipe
    return {} if d.table == "norman" else {"epochs": 100}


def _calibrated(d: Design) -> dict:
    # the default network's own 2-fold CV variance scale, named so that it is kept
    from naiad_bo.models.reference_naiad import DEFAULT_VARIANCE_CALIBRATION

    return {"variance_calibration": DEFAULT_VARIANCE_CALIBRATION}


def _mpe(d: Design) -> str:
    return "mpe"


def _thompson(d: Design) -> str:
    return "thompson"


def _hit(d: Design) -> str:
    return f"hit:k={d.top_k},estimate_cutoff=True"


@dataclass(frozen=True)
class Variant:
    """A candidate default: surrogate options and acquisition as functions of the design."""

    name: str
    options: Callable[[Design], dict]
    acquisition: Callable[[Design], str]
    note: str
    surrogate: str = "naiad"


VARIANTS: dict[str, Variant] = {v.name: v for v in (
    Variant("default", _none, _mpe, "NAIAD + MPE, Table 5 floor rule (the default)"),
    Variant("nearest", _nearest, _mpe, "Table 5 nearest row (log scale)"),
    Variant("nearest_small", _nearest_small, _mpe,
            "Table 5 nearest row on screens of <= 200 genes, floor above"),
    Variant("size_column", _size_column, _mpe, "Table 5 size column, as 2N/M of its screen"),
    Variant("refdims", _refdims, _mpe, "reference's fixed dims per round, our recipe"),
    Variant("refrecipe", _refrecipe, _mpe, "the reference implementation's whole recipe"),
    Variant("hit", _none, _hit, "probability of hit, estimated top-k cut-off"),
    Variant("cv3_hit", _cv3, _hit, "hit on the CV-variance-scaled posterior"),
    Variant("ens10", _ens10, _mpe, "10 members"),
    Variant("anchored", _anchored, _mpe,
            "single branch anchored at no effect (the reference's parameterisation)"),
    Variant("anchored_gelu", _anchored_gelu, _mpe, "anchored, GELU (the reference's "
            "single-branch activation)"),
    Variant("refnet", _none, _mpe, "the reference implementation's member network "
            "(naiad-reference), our recipe", "naiad-reference"),
    Variant("refnet_recipe", _refrecipe, _mpe, "the reference network with the reference "
            "recipe: a stand-in for the reference implementation", "naiad-reference"),
    Variant("refnet_h64", _single64, _mpe, "naiad-reference with a 64-wide single branch "
            "on every screen (a 16x cheaper H x H layer on Horlbeck-size screens)",
            "naiad-reference"),
    Variant("refnet_h256", _single256, _mpe, "naiad-reference with a 256-wide single "
            "branch on every screen (the reference's width; Norman-size screens use 64)",
            "naiad-reference"),
    Variant("refnet_e100", _half_epochs_large, _mpe, "naiad-reference with 100 epochs on "
            "Horlbeck-size screens (half the fit)", "naiad-reference"),
    Variant("refnet_nearest", _nearest, _mpe, "naiad-reference (the default surrogate) with "
            "Table 5 read by the nearest row", "naiad-reference"),
    Variant("refnet_size_column", _size_column, _mpe, "naiad-reference with Table 5's size "
            "column", "naiad-reference"),
    Variant("refnet_thompson_cal", _calibrated, _thompson, "Thompson sampling on the default "
            "surrogate's calibrated posterior (naiad-reference with its 2-fold CV variance "
            "scale); compared with refnet (MPE)", "naiad-reference"),
    Variant("paper_recipe", _paper_recipe, _mpe,
            "lr 1e-2, 500 (Norman-size) / 200 epochs (the default before issue 12)"),
    Variant("fast", _fast, _mpe, "lr 3e-2, 120 (Norman-size) / 60 epochs"),
    Variant("fast_lr2", _fast_lr2, _mpe, "lr 2e-2, 150 (Norman-size) / 70 epochs"),
    Variant("fast10", _fast10, _mpe, "Horlbeck-size: lr 3e-2, 60 epochs, 10 members"),
    Variant("long", _long, _mpe, "lr 1e-2, 750 (Norman-size) / 300 epochs (issue 11 rule)"),
)}


def _group_key(variant: Variant, options: dict) -> str:
    return repr((variant.surrogate, sorted(options.items())))


def units(phase: str, variants: list[str], bases: list[str], quick: bool) -> list[tuple]:
    """Work units ``(base, subset, seed, (variant, ...))``: variants that share surrogate
    options share one simulator and round 0."""
    spec = PHASES[phase]
    subsets, seeds = spec["subsets"], spec["seeds"]
    if quick:
        subsets, seeds = subsets[:1], seeds[:1]
    out = []
    for base in bases:
        full_seeds = () if quick else phase_full_seeds(phase, base)
        layout = [(s, seeds) for s in subsets] + ([(-1, full_seeds)] if full_seeds else [])
        for subset, seed_list in layout:
            design, _ = load_design(base, subset, phase_fraction(phase, base), phase)
            groups: dict[str, list[str]] = {}
            for v in variants:
                groups.setdefault(_group_key(VARIANTS[v], VARIANTS[v].options(design)),
                                  []).append(v)
            for seed in seed_list:
                for names in groups.values():
                    out.append((base, subset, int(seed), tuple(names)))
    return out


def run_unit(unit: tuple, phase: str, quick: bool, scale: str = "genes") -> pd.DataFrame:
    """One simulator (screen x surrogate options), one seed, the unit's variants."""
    import torch

    SCALE["mode"] = scale
    from naiad_bo.campaign import CampaignSimulator

    torch.set_num_threads(1)
    base, subset, seed, names = unit
    design, screen = load_design(base, subset, phase_fraction(phase, base), phase)
    # the simulator skips the default network's variance calibration when every acquisition
    # reads only the mean (CampaignSimulator.surrogate_for), as the MPE studies ran
    options = VARIANTS[names[0]].options(design)
    if quick:
        options = {**options, "epochs": 20}
    sim = CampaignSimulator(
        screen, VARIANTS[names[0]].surrogate, initial=design.initial, batch=design.batch,
        rounds=ROUNDS, protocol="paper", top_k=design.top_k, surrogate_options=options,
        surrogate_label=names[0],
    )
    acqs = [VARIANTS[n].acquisition(design) for n in names]
    t0, c0 = time.perf_counter(), time.process_time()
    results = list(sim.run_many(acqs, [seed]))
    if len(results) != len(names):
        raise RuntimeError(f"expected {len(names)} campaigns, got {len(results)}")
    frames = []
    for name, acq, res in zip(names, acqs, results):
        got = str(res.config.get("acquisition", ""))
        if got.split(":")[0] != acq.split(":")[0]:
            raise RuntimeError(f"campaign order: expected {acq}, got {got}")
        f = res.to_frame()
        f.insert(0, "variant", name)
        f.insert(1, "phase", phase)
        f.insert(2, "base_screen", base)
        f.insert(3, "subset", subset)
        f["screen"] = design.label
        f["n_genes"] = design.n_genes
        f["n_pairs"] = design.n_pairs
        f["initial"] = design.initial
        f["batch"] = design.batch
        f["scale"] = scale
        f["unit"] = "+".join(names)
        f["unit_wall_s"] = time.perf_counter() - t0
        f["unit_cpu_s"] = time.process_time() - c0
        frames.append(f)
    return pd.concat(frames, ignore_index=True)


def _init_worker() -> None:
    import os

    from naiad_bo.campaign.executors import exit_with_parent

    exit_with_parent()  # a killed driver takes its workers with it

    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "NAIAD_BO_THREADS"):
        os.environ[var] = "1"
    import torch

    torch.set_num_threads(1)


def run_phase(phase: str, variants: list[str], bases: list[str], quick: bool, out_csv: Path,
              workers: int) -> None:
    """Run the phase's units not yet in ``out_csv`` (appended as each finishes)."""
    todo = units(phase, variants, bases, quick)
    if out_csv.exists():
        prev = pd.read_csv(out_csv)
        done = set(zip(prev["phase"], prev["variant"], prev["base_screen"], prev["subset"],
                       prev["seed"]))
        todo = [(*u[:3], tuple(n for n in u[3] if (phase, n, u[0], u[1], u[2]) not in done))
                for u in todo]
        todo = [u for u in todo if u[3]]
    print(f"{phase}: {len(todo)} unit(s) to run on {workers} worker(s)", flush=True)
    start = time.perf_counter()

    def report(unit, frame):
        append_csv(frame, out_csv)
        last = frame[frame["round"] == ROUNDS]
        print(f"  [{time.perf_counter() - start:6.0f} s] {last['screen'].iloc[0]:28s} seed "
              f"{unit[2]} " + ", ".join(
                  f"{r.variant} {int(r.top_k_discovered)}/{int(r.top_k)}"
                  for r in last.itertuples()), flush=True)

    if workers <= 1:
        for u in todo:
            report(u, run_unit(u, phase, quick, SCALE["mode"]))
        return
    ctx = mp.get_context("spawn")
    with cf.ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker) as pool:
        futures = {pool.submit(run_unit, u, phase, quick, SCALE["mode"]): u for u in todo}
        for fut in cf.as_completed(futures):
            report(futures[fut], fut.result())


# ------------------------------------------------------------------------------- analysis
METRICS = ("top_k_discovered", "measured_top_k")


def _mse(x: np.ndarray) -> tuple[float, float]:
    x = np.asarray(x, float)
    se = float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else float("nan")
    return float(x.mean()), se


def summarize_phase(last: pd.DataFrame) -> list[dict]:
    """Per (phase, base screen, full/subsets, variant): mean +- s.e., per-subset means, and
    paired differences to ``default`` and ``refrecipe``."""
    rows = []
    keys = ["phase", "base_screen", "kind"]
    last = last.assign(kind=np.where(last["subset"] < 0, "full", "subsets"))
    for (phase, base, kind), g in last.groupby(keys, sort=False):
        piv = {m: g.pivot_table(index=["subset", "seed"], columns="variant", values=m)
               for m in METRICS}
        frac = g.assign(frac=g["top_k_discovered"] / g["top_k"])
        for variant, gv in g.groupby("variant", sort=False):
            row = {"phase": phase, "base_screen": base, "kind": kind, "variant": variant,
                   "n_campaigns": len(gv), "top_k": sorted(set(int(k) for k in gv["top_k"]))}
            for m in METRICS:
                row[f"{m}_mean"], row[f"{m}_se"] = _mse(gv[m])
            fv = frac[frac["variant"] == variant]
            row["discovered_fraction_mean"] = float(fv["frac"].mean())
            row["per_subset"] = {
                int(s): {m: float(gs[m].mean()) for m in METRICS} | {"n": len(gs)}
                for s, gs in gv.groupby("subset")}
            if kind == "subsets":
                means = [v["top_k_discovered"] for v in row["per_subset"].values()]
                row["subset_means_min"], row["subset_means_max"] = min(means), max(means)
            for ref in ("default", "refrecipe", "paper_recipe", "refnet"):
                for m in METRICS:
                    p = piv[m]
                    if ref == variant or ref not in p or variant not in p:
                        continue
                    d = (p[variant] - p[ref]).dropna()
                    if not len(d):
                        continue
                    mean, se = _mse(d.to_numpy())
                    by_subset = d.groupby(level="subset").mean()
                    row[f"{m}_minus_{ref}"] = {
                        "mean": mean, "se": se, "n": len(d), "wins": int((d > 0).sum()),
                        "losses": int((d < 0).sum()),
                        "per_subset": {int(k): float(v) for k, v in by_subset.items()},
                        "subsets_below": int((by_subset < 0).sum()),
                    }
            rows.append(row)
    return rows


def decide(summary: list[dict]) -> list[dict]:
    """The pre-declared adoption rule, evaluated per variant (see the module docstring)."""
    out = []
    variants = sorted({r["variant"] for r in summary if r["phase"] not in SMALL_PHASES}
                      - {"default"})
    for v in variants:
        verdict = {"variant": v}
        for phase in [p for p in PHASES if p not in SMALL_PHASES
                      and any(r["phase"] == p for r in summary)]:
            deltas = {r["base_screen"]: r.get("top_k_discovered_minus_default")
                      for r in summary
                      if r["variant"] == v and r["phase"] == phase and r["kind"] == "subsets"}
            if len(deltas) < len(SIZES) or any(d is None for d in deltas.values()):
                verdict[phase] = None
                continue
            verdict[phase] = {b: round(d["mean"], 2) for b, d in deltas.items()}
            verdict[f"{phase}_pass"] = all(d["mean"] > 0 for d in deltas.values())
        verdict["adopt"] = bool(verdict.get("tuning_pass") and verdict.get("confirmation_pass"))
        out.append(verdict)
    return out


def decide_small(summary: list[dict]) -> list[dict]:
    """The small-screen study's rule (module docstring), per variant: paired mean difference
    to the default > 0 on the subsets of both bundled screens in ``small_tuning`` and again in
    ``small_confirmation``; the full Norman screen is reported, not part of the rule."""
    out = []
    for v in sorted({r["variant"] for r in summary if r["phase"] in SMALL_PHASES} - {"default"}):
        verdict: dict = {"variant": v}
        for phase in SMALL_PHASES:
            deltas = {r["base_screen"]: r.get("top_k_discovered_minus_default")
                      for r in summary
                      if r["variant"] == v and r["phase"] == phase and r["kind"] == "subsets"}
            complete = len(deltas) == len(SIZES) and all(d is not None for d in deltas.values())
            verdict[phase] = ({b: (round(d["mean"], 2), round(d["se"], 2))
                               for b, d in deltas.items()} if complete else None)
            verdict[f"{phase}_pass"] = bool(complete and all(d["mean"] > 0
                                                             for d in deltas.values()))
        verdict["adopt"] = all(verdict[f"{p}_pass"] for p in SMALL_PHASES)
        out.append(verdict)
    return out


#: Candidates against the default surrogate ``refnet`` (:func:`decide_refnet`).
REFNET_CANDIDATES = ("refnet_nearest", "refnet_size_column", "refnet_thompson_cal")


def decide_refnet(summary: list[dict]) -> list[dict]:
    """The rule for changing the Table-5 reading of the default surrogate (declared before
    it ran): the paired mean difference to ``refnet`` of top-k discovered is > 0 on the
    subsets of **both** bundled screens in ``tuning`` and again in ``confirmation``, and of
    true top-k measured is >= minus one s.e. in every such cell (the lab's count must not
    pay for it)."""
    out = []
    for v in [v for v in REFNET_CANDIDATES if any(r["variant"] == v for r in summary)]:
        verdict: dict = {"variant": v}
        for phase in ("tuning", "confirmation"):
            cells = {r["base_screen"]: (r.get("top_k_discovered_minus_refnet"),
                                        r.get("measured_top_k_minus_refnet"))
                     for r in summary
                     if r["variant"] == v and r["phase"] == phase and r["kind"] == "subsets"}
            complete = len(cells) == len(SIZES) and all(
                d is not None and m is not None for d, m in cells.values())
            verdict[phase] = ({b: {"discovered": (round(d["mean"], 2), round(d["se"], 2)),
                                   "measured": (round(m["mean"], 2), round(m["se"], 2))}
                               for b, (d, m) in cells.items()} if complete else None)
            verdict[f"{phase}_pass"] = bool(complete and all(
                d["mean"] > 0 and m["mean"] >= -m["se"] for d, m in cells.values()))
        verdict["adopt"] = verdict["tuning_pass"] and verdict["confirmation_pass"]
        out.append(verdict)
    return out


#: Variants judged by the non-inferiority rule (speed recipes), see the module docstring;
#: ``default`` too when ``paper_recipe`` (the default before issue 12) ran beside it.
SPEED_VARIANTS = ("fast", "fast_lr2", "fast10", "default")


def decide_speed(summary: list[dict]) -> list[dict]:
    """Non-inferiority of the speed recipes (discovery part; RMSE is checked separately).

    Each is compared with ``paper_recipe`` where that ran in the cell, else with ``default``
    (records made before issue 12 changed the default, when the two were the same recipe).
    """
    out = []
    for v in [v for v in SPEED_VARIANTS if any(r["variant"] == v for r in summary)]:
        cells, ok = [], True
        for r in summary:
            if r["variant"] != v or r["phase"] not in ("tuning", "confirmation"):
                continue
            for m in METRICS:
                d, against = r.get(f"{m}_minus_paper_recipe"), "paper_recipe"
                if d is None and v != "default":
                    d, against = r.get(f"{m}_minus_default"), "default"
                if d is None:
                    continue
                passed = bool(d["mean"] >= -d["se"])
                ok &= passed
                cells.append({"phase": r["phase"], "base_screen": r["base_screen"],
                              "kind": r["kind"], "metric": m, "against": against,
                              "mean": round(d["mean"], 3), "se": round(d["se"], 3),
                              "n": d["n"], "pass": passed})
        if not cells:
            continue
        phases = {c["phase"] for c in cells}
        out.append({"variant": v, "cells": cells,
                    "complete": phases == {"tuning", "confirmation"}, "pass": ok})
    return out


def plot(last: pd.DataFrame, path: Path) -> None:
    from naiad_bo.plotting import _pyplot

    plt = _pyplot()
    panels = list(last.groupby(["phase", "base_screen"], sort=False))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.8 * len(panels), 4), squeeze=False)
    for ax, ((phase, base), g) in zip(axes[0], panels):
        sub = g[g["subset"] >= 0].assign(frac=lambda x: x["top_k_discovered"] / x["top_k"])
        variants = [v for v in VARIANTS if v in set(sub["variant"])]
        for i, v in enumerate(variants):
            gv = sub[sub["variant"] == v]
            per = gv.groupby("subset")["frac"].mean()
            ax.scatter(np.full(len(per), i) + np.linspace(-0.15, 0.15, len(per)), per,
                       s=14, color="C0", alpha=0.7,
                       label="subset mean" if i == 0 else None)
            m, se = _mse(gv["frac"])
            ax.errorbar(i + 0.3, m, yerr=se, fmt="o", color="k",
                        label="all campaigns, mean +- s.e." if i == 0 else None)
        full = g[g["subset"] < 0]
        for i, v in enumerate(variants):
            gv = full[full["variant"] == v]
            if len(gv):
                ax.scatter(i + 0.3, (gv["top_k_discovered"] / gv["top_k"]).mean(), marker="*",
                           s=80, color="C3", label="full screen" if i == 0 else None)
        ax.set_xticks(range(len(variants)), variants, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel("top-k discovered / k at round 4")
        frac = round(100 * phase_fraction(phase, base))
        ax.set_title(f"{base}, {phase}\n{frac}% gene subsets (round sizes scaled by genes, k "
                     "by pairs)", fontsize=8)
        ax.legend(fontsize=6)
    fig.tight_layout()
    save_png(fig, path, dpi=110)


def report(records: pd.DataFrame, results: Path, stem: str, settings: dict) -> dict:
    last = records[records["round"] == ROUNDS].drop_duplicates(
        ["phase", "variant", "screen", "seed"], keep="last").copy()
    write_csv(last, results / f"{stem}.csv")
    summary = summarize_phase(last)
    verdicts = decide(summary)
    speed_verdicts = decide_speed(summary)
    small_verdicts = decide_small(summary)
    refnet_verdicts = decide_refnet(summary)
    checks = []
    for r in summary:
        if r["variant"] == "default" and r["kind"] == "full":
            ref = REFERENCE[r["base_screen"]][0]
            checks.append({"check": f"{r['phase']} {r['base_screen']} full: default >= "
                           f"reference implementation {ref}",
                           "value": r["top_k_discovered_mean"],
                           "pass": bool(r["top_k_discovered_mean"] >= ref)})
        d = r.get("top_k_discovered_minus_refrecipe")
        if r["variant"] == "default" and d is not None:
            checks.append({"check": f"{r['phase']} {r['base_screen']} {r['kind']}: default - "
                           "reference recipe >= 0 (paired)", "value": d["mean"],
                           "pass": bool(d["mean"] >= 0),
                           "subsets_below": d.get("subsets_below")})
    payload = {**settings, "summary": summary, "verdicts": verdicts,
               "speed_verdicts": speed_verdicts, "small_screen_verdicts": small_verdicts,
               "refnet_verdicts": refnet_verdicts,
               "checks": checks,
               "paper": PAPER, "reference": REFERENCE, "held_out_k562_like": HELD_OUT}
    write_json(results / f"{stem}.json", payload, indent=1, default=float)
    plot(last, results / f"{stem}.png")
    print("\nround 4, top-k discovered (k = 200 full, scaled on subsets): mean +- s.e. "
          "[subset means min..max] | minus default (paired) | minus refrecipe")
    for r in summary:
        dd = r.get("top_k_discovered_minus_default")
        dr = r.get("top_k_discovered_minus_refrecipe")
        span = (f"[{r['subset_means_min']:.1f}..{r['subset_means_max']:.1f}]"
                if "subset_means_min" in r else "")
        ref = ""
        if r["kind"] == "full" and r["variant"] in ("default", "refrecipe"):
            ref = (f"   (paper {PAPER[r['base_screen']]}, reference implementation "
                   f"{REFERENCE[r['base_screen']][0]})")
        print(f"  {r['phase']:12s} {r['base_screen']:18s} {r['kind']:7s} {r['variant']:11s} "
              f"{r['top_k_discovered_mean']:6.1f} ± {r['top_k_discovered_se']:4.1f} {span:14s}"
              + (f" | {dd['mean']:+5.1f} ± {dd['se']:3.1f} ({dd['wins']}W/{dd['losses']}L, "
                 f"{dd['subsets_below']} subsets < 0)" if dd else " |")
              + (f" | {dr['mean']:+5.1f} ± {dr['se']:3.1f}" if dr else "") + ref)
    print(f"held-out K562-like screen (issue 11): reference {HELD_OUT['reference']}, our "
          f"default {HELD_OUT['default']}, our reference recipe {HELD_OUT['refrecipe']}")
    for v in verdicts:
        print(f"  verdict {v}")
    for v in small_verdicts:
        print(f"  small-screen verdict {v}")
    for v in refnet_verdicts:
        print(f"  refnet verdict {v}")
    for v in speed_verdicts:
        failed = [c for c in v["cells"] if not c["pass"]]
        print(f"  speed verdict {v['variant']}: complete {v['complete']}, pass {v['pass']} "
              f"({len(v['cells']) - len(failed)}/{len(v['cells'])} cells)"
              + "".join(f"\n    FAIL {c['phase']} {c['base_screen']} {c['kind']} {c['metric']}"
                        f" {c['mean']:+.2f} (se {c['se']:.2f})" for c in failed))
    for c in checks:
        print(f"  [{'PASS' if c['pass'] else 'FAIL'}] {c['check']}: {c['value']:.2f}")
    return payload


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--phase", choices=list(PHASES), default="tuning")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--screens", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--executor", choices=("serial", "process"), default="serial")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--scale", choices=("genes", "pairs"), default="genes",
                        help="scale round sizes on subsets by the share of genes (keeps 2N/M) "
                        "or of pairs kept")
    parser.add_argument("--report", action="store_true", help="only rebuild json / csv / png")
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 1 subset, 1 seed, 20 epochs (numbers not comparable)")
    parser.add_argument("--out", default="robust_defaults")
    parser.add_argument("--out-dir", default=None)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    provenance()
    if args.variants[0] != "default" and "default" in args.variants:
        args.variants.remove("default")
        args.variants.insert(0, "default")
    SCALE["mode"] = args.scale
    if args.scale != "genes" and args.out == "robust_defaults":
        args.out = f"robust_defaults_{args.scale}"
    results = output_dir(args.quick, args.out_dir)
    records_csv = results / f"{args.out}_records.csv"
    t0 = time.perf_counter()
    if not args.report:
        workers = args.workers if args.executor == "process" else 1
        run_phase(args.phase, args.variants, args.screens, args.quick, records_csv, workers)
    records = pd.read_csv(records_csv)
    settings = {
        "protocol": "paper campaigns on 60% gene subsets (subsample_genes) of each bundled "
                    f"screen; initial and batch scaled by the share of {args.scale} kept, k "
                    "by the share of pairs; full screens at the paper's sizes",
        "scale": args.scale, "fraction": FRACTION, "rounds": ROUNDS, "phases": PHASES,
        "sizes": SIZES,
        "variants": {v.name: v.note for v in VARIANTS.values()},
        "designs": {f"{ph}/{b}/{s}": vars(load_design(b, s, phase_fraction(ph, b), ph)[0])
                    for ph in sorted(set(records["phase"])) for b in SIZES
                    for s in sorted({*PHASES[ph]["subsets"], -1})},
        "threads": 1, "executor": args.executor, "workers": args.workers,
        "wall_s_this_invocation": time.perf_counter() - t0,
        "sum_unit_cpu_s": float(records.drop_duplicates(
            ["phase", "unit", "screen", "seed"])["unit_cpu_s"].sum()),
    }
    report(records, results, args.out, settings)


if __name__ == "__main__":
    main()
