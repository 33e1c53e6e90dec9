"""Build naiad_ensemble_in_botorch.ipynb (no outputs stored): python build_notebook.py."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

CELLS = [
    ("md", """\
# The NAIAD deep ensemble as a BoTorch model

`NaiadEnsemble` is the NAIAD model (Qin et al.: single-gene effects through an
over-parameterised branch plus adaptive gene embeddings) trained as a **deep ensemble**, and
at the same time an ordinary BoTorch `EnsembleModel`:

* inputs are `... x 2` tensors of **gene indices** `(a, b)`; the single-gene effects and the
  learned embeddings are looked up inside the model, so a candidate set over all pairs is just
  an `N x 2` integer tensor;
* `posterior(X)` returns an `EnsemblePosterior` whose mean / variance are the exact ensemble
  statistics, so stock BoTorch acquisitions work unchanged;
* predictions for `(a, b)` and `(b, a)` are exactly equal.

This notebook loads a screen, fits the ensemble, looks at its posterior and uses
`UpperConfidenceBound` and `qUpperConfidenceBound` (with the exact member sampler) to pick
pairs. Set `SMOKE_TEST=1` to run it tiny (as CI does)."""),
    ("code", """\
import os

import matplotlib.pyplot as plt
import numpy as np
import torch
from botorch.acquisition import UpperConfidenceBound, qUpperConfidenceBound
from botorch.acquisition.objective import ScalarizedPosteriorTransform
from botorch.optim import optimize_acqf_discrete

import naiad_bo
from naiad_bo.models import EnsembleMemberSampler, NaiadEnsemble

SMOKE_TEST = os.environ.get("SMOKE_TEST")
torch.set_num_threads(1)  # fastest on small shared machines

N_TRAIN = 150 if SMOKE_TEST else 300
# tiny settings for CI; the paper's recipe (5 members, 500 epochs on Norman) otherwise
OPTIONS = {"epochs": 20, "ensemble_size": 3} if SMOKE_TEST else {}"""),
    ("md", """\
## 1. A screen and the pairs measured so far

The bundled Norman 2019 CRISPRa screen measured all 6,328 unordered pairs of 112 genes
(same-gene pairs included). Growth phenotype: **more negative = stronger**. We pretend the
lab has measured a random subset and keep the rest as "unmeasured" candidates, whose true
values we only use to check the model."""),
    ("code", """\
screen = naiad_bo.load_screen("norman2019")
print(screen)

pairs = torch.from_numpy(screen.pair_index().copy())      # N x 2 gene ids, a <= b
y_all = torch.from_numpy(screen.y_values().copy())        # N measured values
rng = np.random.default_rng(0)
perm = torch.from_numpy(rng.permutation(screen.n_pairs))
measured, unmeasured = perm[:N_TRAIN], perm[N_TRAIN:]
train_X, train_Y = pairs[measured], y_all[measured].unsqueeze(-1)   # n x 2, n x 1
print("training pairs:", train_X.shape, "average gene occurrence 2N/M =",
      round(2 * N_TRAIN / screen.n_genes, 1))"""),
    ("md", """\
## 2. Fit the ensemble

The constructor takes the single-gene effect of every gene (index = gene id) and stores
hyper-parameters only; `fit` trains all members at once (parameters shaped
`(members, ...)`, one Adam optimiser, linear warm-up then decay) and returns the model.
The embedding size follows the paper's adaptive schedule from `2N/M`."""),
    ("code", """\
model = NaiadEnsemble(screen.single_effects, seed=0, **OPTIONS).fit(train_X, train_Y)
print(f"{model.ensemble_size} members, embed_dim={model.embed_dim_}, "
      f"single-gene width={model.single_dim_}, epochs={model.epochs_}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(model.train_loss_)
ax.set(xlabel="epoch", ylabel="training MSE (standardised)", yscale="log",
       title="one curve per member")
plt.show()"""),
    ("md", """\
## 3. The posterior

`forward` gives the members' predictions `batch x s x q x 1`; `posterior` wraps them in an
`EnsemblePosterior`. Scoring all pairs is chunked (bounded memory) and runs in float32
internally; outputs come back in the input's dtype (float64 from Ax)."""),
    ("code", """\
X_cand = pairs[unmeasured]
post = model.posterior(X_cand.unsqueeze(-2))          # N x 1 x 2 -> N x 1 x 1
mean = post.mean.squeeze(-1).squeeze(-1)
std = post.variance.sqrt().squeeze(-1).squeeze(-1)
truth = y_all[unmeasured]

rmse = (mean - truth).pow(2).mean().sqrt().item()
additive = torch.as_tensor(screen.single_effects)
naive = additive[X_cand[:, 0]] + additive[X_cand[:, 1]]
print(f"RMSE on unmeasured pairs: {rmse:.4f} (y_a + y_b: "
      f"{(naive - truth).pow(2).mean().sqrt().item():.4f})")
print("exactly symmetric:", torch.equal(model(X_cand), model(X_cand.flip(-1))))

fig, axes = plt.subplots(1, 2, figsize=(10, 4))
sc = axes[0].scatter(truth, mean, c=std, s=4, cmap="viridis")
lim = [truth.min().item(), truth.max().item()]
axes[0].plot(lim, lim, "k--", lw=0.8)
axes[0].set(xlabel="measured", ylabel="posterior mean", title="unmeasured pairs")
fig.colorbar(sc, ax=axes[0], label="ensemble std")
axes[1].scatter(std, (mean - truth).abs(), s=4, alpha=0.5)
axes[1].set(xlabel="ensemble std", ylabel="|error|", title="uncertainty vs error")
plt.tight_layout()
plt.show()"""),
    ("md", """\
## 4. Stock BoTorch acquisitions

Strong = most negative, so the analytic acquisitions take `maximize=False`.
`optimize_acqf_discrete(..., q=1)` scores every candidate once; `X_avoid` removes the
measured pairs. (For batches of many pairs from a pointwise score use the exact top-q
selector in `naiad_bo.acquisition`: BoTorch's discrete optimiser with `q > 1` makes `q`
sequential passes.)"""),
    ("code", """\
ucb = UpperConfidenceBound(model, beta=1.0, maximize=False)
best, value = optimize_acqf_discrete(ucb, q=1, choices=pairs.double(), X_avoid=train_X.double())
a, b = best[0].long().tolist()
print(f"UCB pick: {screen.genes[a]} + {screen.genes[b]}, measured value "
      f"{y_all[(pairs == best[0].long()).all(-1)].item():.3f}")"""),
    ("md", """\
MC acquisitions sample the posterior. For an ensemble the members *are* the distribution:
`EnsembleMemberSampler` returns each member exactly once (instead of BoTorch's 512 random
member indices), and it is the default sampler for this model's posteriors. To minimise
with an MC acquisition, pass the same `ScalarizedPosteriorTransform` Ax would (weight -1)."""),
    ("code", """\
minimise = ScalarizedPosteriorTransform(weights=torch.tensor([-1.0], dtype=torch.float64))
qucb = qUpperConfidenceBound(model, beta=1.0, posterior_transform=minimise,
                             sampler=EnsembleMemberSampler(model.ensemble_size))
scores = qucb(X_cand.double().unsqueeze(-2))             # one value per candidate (q = 1)
top = torch.topk(scores, 10).indices
true_top200 = set(torch.topk(-y_all, 200).indices.tolist())
picked = unmeasured[top].tolist()
print("qUCB top-10 picks that are among the true 200 strongest pairs:",
      sum(p in true_top200 for p in picked), "/ 10")
for i in picked[:5]:
    a, b = pairs[i].tolist()
    print(f"  {screen.genes[a]:>8s} + {screen.genes[b]:<8s} measured {y_all[i].item():+.3f}")"""),
    ("md", """\
## 5. Save and reload

`save` stores weights, standardisation, hyper-parameters and training data; `load` restores
a model that predicts bit for bit the same."""),
    ("code", """\
import tempfile
from pathlib import Path

path = Path(tempfile.mkdtemp()) / "naiad.pt"
model.save(path)
again = NaiadEnsemble.load(path)
print("identical predictions after reload:", torch.equal(again(X_cand), model(X_cand)))"""),
]


def main() -> None:
    nb = new_notebook()
    nb.cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src)
                for kind, src in CELLS]
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    nb.metadata["language_info"] = {"name": "python"}
    path = HERE / "naiad_ensemble_in_botorch.ipynb"
    nbformat.write(nb, path)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
