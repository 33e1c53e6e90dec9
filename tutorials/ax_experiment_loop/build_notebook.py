"""Writes ax_experiment_loop.ipynb (run from this folder: python build_notebook.py)."""

import nbformat as nbf

cells = []


def md(text):
    cells.append(nbf.v4.new_markdown_cell(text.strip()))


def code(text):
    cells.append(nbf.v4.new_code_cell(text.strip()))


md("""
# An Ax experiment loop over gene pairs: rounds, a SQL store, stop and resume

A lab runs a combinatorial CRISPR campaign through [Ax](https://ax.dev): each round the lab
measures a library of gene pairs, the results go into an Ax experiment kept in an SQL store,
and our surrogate (NAIAD ensemble) and acquisition (maximum predicted effect) choose the next
library as one Ax `BatchTrial`. Here the lab is simulated: the fully measured Norman 2019 screen
answers every request. We

1. run 4 rounds through `naiad_bo.ax` in this kernel,
2. stop, and resume from the store **in fresh processes** (the `naiad-bo recommend` command),
   continuing the same campaign,
3. read the store back with `naiad_bo.ax.load_experiment` and run Ax's own analyses on it.

`SMOKE_TEST=1` (as in CI) makes it tiny: 20 genes, a linear surrogate, batches of 5.
""")
code("""
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import torch

import naiad_bo
from naiad_bo.ax import Store, experiment_state, load_experiment
from naiad_bo.ax.loop import recommend
from naiad_bo.ax.status import plot_discovery, status_text

SMOKE_TEST = os.environ.get("SMOKE_TEST")
torch.set_num_threads(int(os.environ.get("NAIAD_BO_THREADS", "1")))

full = naiad_bo.load_screen("norman2019")
if SMOKE_TEST:
    screen = full.subset_genes(full.genes[:20])
    SURROGATE, Q, PILOT = "linear", 5, 20
else:
    screen = full
    SURROGATE, Q, PILOT = "naiad", 50, 100
print(screen, f"| surrogate {SURROGATE}, batch {Q}, pilot {PILOT}")

work = Path("ax_loop_run")
work.mkdir(exist_ok=True)
STORE = work / "lab.sqlite"          # any SQLAlchemy URL works too (PostgreSQL for a team)
MEASURED = work / "measured.csv"     # the lab's cumulative results file
NEXT = work / "next.csv"
for f in (STORE, MEASURED, NEXT):
    f.unlink(missing_ok=True)
""")
md("""
## The lab's files

The measured file has `id1, id2, score` rows. Rows pairing a gene with the control
(`negative`) are single-gene effects: the first file fixes the experiment's genes and their
single effects. Here: every single-gene row plus a uniform pilot of pair rows.
""")
code("""
truth = {}
for a, b, y in zip(screen.pairs["id1"], screen.pairs["id2"], screen.pairs["y"]):
    truth[(a, b)] = truth[(b, a)] = float(y)

singles = pd.DataFrame({"id1": screen.genes, "id2": "negative", "score": screen.single_effects})
pilot = screen.pairs.sample(PILOT, random_state=0)[["id1", "id2", "y"]]
pilot = pilot.rename(columns={"y": "score"})
pd.concat([singles, pilot], ignore_index=True).to_csv(MEASURED, index=False)


def lab_measures(next_csv, measured_csv):
    \"\"\"The simulated lab: append the screen's values of the requested pairs.\"\"\"
    nxt = pd.read_csv(next_csv)
    new = pd.DataFrame({"id1": nxt["id1"], "id2": nxt["id2"],
                        "score": [truth[(a, b)] for a, b in zip(nxt["id1"], nxt["id2"])]})
    pd.concat([pd.read_csv(measured_csv), new], ignore_index=True).to_csv(measured_csv,
                                                                          index=False)
    return new
""")
md("""
## Four rounds in this kernel

`recommend` creates the experiment on the first call (search space: integer `gene_a`,
`gene_b` with `gene_a - gene_b <= 0`; gene names and single effects in the metadata), attaches
the results the store does not hold yet, and writes the next batch. Calling it again before the
lab answers returns the same pending batch; nothing is attached twice.
""")
code("""
for round_ in range(1, 5):
    res = recommend(STORE, MEASURED, Q, NEXT, surrogate=SURROGATE, acquisition="mpe", seed=0)
    again = recommend(STORE, MEASURED, Q, NEXT, surrogate=SURROGATE)  # before results
    assert not again.new_batch and again.attached == 0
    new = lab_measures(NEXT, MEASURED)
    print(f"round {round_}: trial {res.trial_index}, attached {res.attached}, "
          f"best in batch {new['score'].min():.3f}")
print(status_text(Store(STORE).load()[0], top=5))
""")
md("""
## Stop, and resume in fresh processes

Everything lives in the store, so nothing of this kernel is needed any more. Each
`naiad-bo recommend` below is a new Python process: it loads the experiment and the generation
strategy from the store, refits the surrogate (seeded by the campaign seed and the round, so a
restart proposes exactly what an uninterrupted campaign would), and continues.
""")
code("""
del res, again  # nothing of the first four rounds is kept in memory
cmd = [sys.executable, "-m", "naiad_bo.cli.main", "recommend", "--store", str(STORE),
       "--measured", str(MEASURED), "--batch", str(Q), "--out", str(NEXT),
       "--threads", "1"]
for round_ in (5,) if SMOKE_TEST else (5, 6):   # each a fresh process (~10 s of imports)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    print(f"round {round_} (fresh process):", out.stdout.strip().splitlines()[-2])
    lab_measures(NEXT, MEASURED)
# and back in this kernel: attach the last results, propose the next batch
res = recommend(STORE, MEASURED, Q, NEXT)
print(res.summary())
""")
md("""
## The store is an ordinary Ax experiment

`load_experiment` registers every naiad_bo class, so Ax's `Client` and analyses work on it.
No pair was ever proposed twice, and each round is one batch trial.
""")
code("""
experiment = load_experiment(STORE)
state = experiment_state(experiment)
batches = [t for t in experiment.trials.values() if t.run_metadata.get("naiad_bo") != "pilot"]
proposed = [tuple(a.parameters.values()) for t in batches for a in t.arms]
assert len(proposed) == len(set(proposed)), "a pair was proposed twice"
print(f"{len(experiment.trials)} trials, {len(state.measured)} measured values, "
      f"{len(state.pending)} pending pairs, {len(set(proposed))} distinct proposed pairs")

from ax.api.client import Client

client = Client()
client.set_experiment(experiment)
client.summarize().tail()
""")
code("""
png = plot_discovery(experiment, work / "discovery.png")
Store(STORE).export_json(work / "lab.json")     # strict JSON archive of the whole experiment
print(png, (work / "lab.json").stat().st_size, "bytes")
""")
md("""
The same loop from a shell, round after round:

```bash
naiad-bo recommend --store lab.sqlite --measured measured.csv --batch 96 --out next.csv
naiad-bo status --store lab.sqlite
naiad-bo export --store lab.sqlite --out archive.json
```
""")
nb = nbf.v4.new_notebook()
nb["cells"] = cells
nb["metadata"] = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
nbf.write(nb, "ax_experiment_loop.ipynb")
