"""Build comparing_surrogates.ipynb (no outputs stored): python build_notebook.py."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

CELLS = [
    ("md", """\
# Comparing surrogates: NAIAD, Linear and GPs on gene descriptors

GeneDisco-style Gaussian processes describe each gene by a **descriptor** (a STRING network
embedding, Gene Ontology terms, DepMap dependency profiles, or your own table) and compare
pairs through a symmetric pair kernel built from the gene-gene similarity matrix. This
notebook

1. aligns the shipped descriptors to a screen and reads their coverage reports (what happens
   to genes a descriptor does not know);
2. fits `DescriptorGP` next to the Linear baseline and NAIAD on the same training pairs and
   compares test RMSE and calibration;
3. uses the GP inside BoTorch / naiad_bo acquisitions;
4. scores pairs with **unseen genes** (no single-gene measurement) by predicting their single
   effects from descriptors.

Set `SMOKE_TEST=1` to run it tiny (as CI does). The full comparison is
`benchmarks/surrogates.py`."""),
    ("code", """\
import os
import tempfile

import numpy as np
import torch
from botorch.acquisition import UpperConfidenceBound

import naiad_bo
from naiad_bo.acquisition import MaxPredictedEffect, select_batch
from naiad_bo.descriptors import load_descriptors
from naiad_bo.evaluation import predict_mean
from naiad_bo.metrics import rmse
from naiad_bo.models import AdditiveLinearModel, DescriptorGP, NaiadEnsemble
from naiad_bo.splits import train_test_split
from naiad_bo.unseen import evaluate_unseen

SMOKE_TEST = os.environ.get("SMOKE_TEST")
torch.set_num_threads(1)
# embeddings are cached on disk; keep this notebook's cache private in CI
os.environ.setdefault("NAIAD_BO_CACHE", tempfile.mkdtemp(prefix="naiad_bo_cache_"))

screen = naiad_bo.load_screen("norman2019")
N_TRAIN = 120 if SMOKE_TEST else 224  # 224 = 2N/M of 4 on Norman's 112 genes
NAIAD_OPTIONS = {"epochs": 20, "ensemble_size": 2} if SMOKE_TEST else {}
DESCRIPTORS = "go" if SMOKE_TEST else "string+go+depmap"
print(screen.name, screen.n_genes, "genes,", screen.n_pairs, "pairs")"""),
    ("md", """\
## 1. Descriptors and their coverage

`load_descriptors("string+go+depmap", genes)` maps every screen gene to a current NCBI symbol
(outdated screen symbols such as `SGOL1` would otherwise lose their descriptor), embeds the
STRING network with the Mashup recipe (random walk with restart, log, truncated SVD; cached),
propagates GO annotations up the term DAG and aligns the DepMap loadings. A gene without a
descriptor row is **uncovered**: it is similar only to itself in that descriptor's kernel, and
the report lists it."""),
    ("code", """\
for d in load_descriptors(DESCRIPTORS, screen.genes):
    print(d.report, "| e.g. uncovered:", d.report.uncovered[:4])"""),
    ("md", """\
## 2. Same training pairs, three surrogates

The GP's prior mean is the Linear model `b0 + b1 min(y_a, y_b) + b2 max(y_a, y_b)` and its
kernel, over a mixture of descriptor similarities, single-effect similarity and gene identity,
models what the linear model misses. Hyper-parameters maximise the exact marginal likelihood.
Coverage of the 90% predictive interval tells how honest each model's uncertainty is (NAIAD's
ensemble spread has no noise term)."""),
    ("code", """\
X = torch.from_numpy(screen.pair_index().copy())
y = screen.y_values()
Y = torch.from_numpy(y.copy()).unsqueeze(-1)
split = train_test_split(screen.n_pairs, N_TRAIN, seed=0)
Xtr, Ytr, Xte = X[split.train], Y[split.train], X[split.test]

models = {
    "linear": AdditiveLinearModel(screen.single_effects),
    "naiad": NaiadEnsemble(screen.single_effects, seed=0, **NAIAD_OPTIONS),
    "gp": DescriptorGP(screen.single_effects, seed=0),
    f"gp+{DESCRIPTORS}": DescriptorGP(screen.single_effects, seed=0, genes=screen.genes,
                                      descriptors=DESCRIPTORS),
}
calib = Xte[:2000]
for name, model in models.items():
    model.fit(Xtr, Ytr)
    err = rmse(y[split.test], predict_mean(model, Xte))
    noise = not isinstance(model, NaiadEnsemble)
    post = model.posterior(calib.double().unsqueeze(-2), observation_noise=noise) if noise \\
        else model.posterior(calib.double().unsqueeze(-2))
    z = (y[split.test][:2000] - post.mean.reshape(-1).detach().numpy()) / \\
        post.variance.reshape(-1).detach().sqrt().numpy()
    cover = np.mean(np.abs(z) < 1.645)
    print(f"{name:22s} test RMSE {err:.4f}   90% interval coverage {cover:.2f}")"""),
    ("md", """\
## 3. The GP in acquisitions

`DescriptorGP.posterior` is an exact joint Gaussian (`GPyTorchPosterior`), so BoTorch's
analytic acquisitions and naiad_bo's `select_batch` over the pair space work as with any
BoTorch GP. Posterior means need no per-pair kernel work (one `M x M` table), so
`MaxPredictedEffect` scales to every pair of a screen."""),
    ("code", """\
gp = models[f"gp+{DESCRIPTORS}"]
candidates = Xte.double()
ucb = UpperConfidenceBound(gp, beta=4.0, maximize=False)  # strong = most negative
print("UCB values of 3 candidates:", ucb(candidates[:3].unsqueeze(-2)).detach().numpy())
mpe = MaxPredictedEffect.from_training_data(gp, Xtr, Ytr, screen.single_effects)
pairs, scores = select_batch(mpe, candidates, q=5)
print("MPE batch:", [(screen.genes[a], screen.genes[b]) for a, b in pairs.long().tolist()])
print("fit:", {k: v for k, v in gp.fit_info_.items() if k in ("n_train", "noise_var",
                                                              "gene_weights")})"""),
    ("md", """\
## 4. Unseen genes

`evaluate_unseen` (the CLI's `naiad-bo evaluate --unseen-genes F`) hides a fraction of the genes
entirely, predicts their single effects with a GP over genes on the descriptor kernels, and
compares RMSE on pairs with one / two unseen genes against imputing the mean single effect.
On Norman (CRISPRa) descriptors predict single effects only weakly; see the benchmark for both
screens."""),
    ("code", """\
recs = evaluate_unseen(screen, AdditiveLinearModel, 0.2, N_TRAIN, seeds=[0],
                       descriptors=DESCRIPTORS)
for r in recs:
    print({k: round(v, 4) if isinstance(v, float) else v for k, v in r.items()
           if k.startswith(("rmse", "spearman", "n_hidden"))})"""),
]


def main() -> None:
    nb = new_notebook()
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src)
                for kind, src in CELLS]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    path = HERE / "comparing_surrogates.ipynb"
    nbformat.write(nb, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
