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

* inputs are `... x 2` tensors of **gene ids** `(a, b)` stored as **floats** (as BoTorch and
  Ax expect; they must hold whole numbers); the single-gene effects and the learned embeddings
  are looked up inside the model, so a candidate set over all pairs is just an `N x 2` tensor;
* `posterior(X)` returns an `EnsemblePosterior` whose mean / variance are the exact ensemble
  statistics (outcomes standardised by BoTorch's `Standardize`, undone by `posterior`), so
  stock BoTorch acquisitions work unchanged;
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
from botorch.optim import optimize_acqf_discrete

import naiad_bo
from naiad_bo.direction import posterior_transform
from naiad_bo.models import EnsembleMemberSampler, NaiadEnsemble, replicate_noise_variance

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

pairs = torch.from_numpy(screen.pair_index().copy()).double()  # N x 2 gene ids as floats
y_all = torch.from_numpy(screen.y_values().copy())             # N measured values
rng = np.random.default_rng(0)
perm = torch.from_numpy(rng.permutation(screen.n_pairs))       # a random, not sorted, subset
measured, unmeasured = perm[:N_TRAIN], perm[N_TRAIN:]
train_X, train_Y = pairs[measured], y_all[measured].unsqueeze(-1)   # n x 2, n x 1
# noise variance of each measured mean: replicate sd^2 / n_obs (pooled sd for singletons)
train_Yvar = replicate_noise_variance(screen.pairs["sd"].to_numpy()[measured],
                                      screen.pairs["n_obs"].to_numpy()[measured])
print("training pairs:", train_X.shape, "average gene occurrence 2N/M =",
      round(2 * N_TRAIN / screen.n_genes, 1))"""),
    ("md", """\
## 2. Fit the ensemble

Built from the screen object, the model takes its single-gene effects (index = gene id) and
its **direction** (here: minimize), which acquisitions then use. Options are the fields of a
typed, frozen `NaiadConfig` (`model.config`). `fit` trains all members at once (parameters
shaped `(members, ...)`, one Adam optimiser, linear warm-up then decay). The embedding size
follows the paper's adaptive schedule from `2N/M`. `train_Yvar` does not weight the loss; it
sets the measurement-noise level that `posterior(X, observation_noise=True)` adds."""),
    ("code", """\
model = NaiadEnsemble(screen, seed=0, **OPTIONS).fit(train_X, train_Y, train_Yvar)
print(f"{model.ensemble_size} members, embed_dim={model.embed_dim_}, "
      f"single-gene width={model.single_dim_}, epochs={model.epochs_}, "
      f"direction={model.direction.value}, noise variance={model.noise_variance_:.2e}")

fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(model.train_loss_)
ax.set(xlabel="epoch", ylabel="training MSE (standardised)", yscale="log",
       title="one curve per member")
plt.show()"""),
    ("md", """\
## 3. The posterior

`posterior(X).values` are the members' predictions `batch x s x q x 1` in outcome units
(`forward` gives them in the standardised space, as BoTorch's `EnsembleModel` contract has
it). Scoring all pairs is chunked (bounded memory) and runs in float32 internally; outputs
come back in the input's dtype (float64 from Ax). `observation_noise=True` adds the
measurement noise: the predictive variance of a new *measurement*, not of the mean."""),
    ("code", """\
X_cand = pairs[unmeasured]
post = model.posterior(X_cand.unsqueeze(-2))          # N x 1 x 2 -> N x 1 x 1
mean = post.mean.squeeze(-1).squeeze(-1)
std = post.variance.sqrt().squeeze(-1).squeeze(-1)
truth = y_all[unmeasured]

rmse = (mean - truth).pow(2).mean().sqrt().item()
additive = torch.as_tensor(screen.single_effects)
ids = X_cand.long()                                      # indexing needs integer ids
naive = additive[ids[:, 0]] + additive[ids[:, 1]]
print(f"RMSE on unmeasured pairs: {rmse:.4f} (y_a + y_b: "
      f"{(naive - truth).pow(2).mean().sqrt().item():.4f})")
print("exactly symmetric:", torch.equal(post.values,
                                        model.posterior(X_cand.flip(-1).unsqueeze(-2)).values))
noisy = model.posterior(X_cand.unsqueeze(-2), observation_noise=True)
print(f"median sd: epistemic {std.median().item():.4f}, "
      f"with measurement noise {noisy.variance.sqrt().median().item():.4f}")

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

BoTorch acquisitions maximise; strong here is most negative. `posterior_transform(model)`
(from `naiad_bo.direction`) gives the `ScalarizedPosteriorTransform` that turns the model's
direction into "maximise" (weight -1 for minimize; the same transform Ax passes), so stock
acquisitions rank the strongest pairs first. `optimize_acqf_discrete(..., q=1)` scores every
candidate once; `X_avoid` removes the measured pairs. (For batches of many pairs from a
pointwise score use the exact top-q selector in `naiad_bo.acquisition`: BoTorch's discrete
optimiser with `q > 1` makes `q` sequential passes.)"""),
    ("code", """\
strong_first = posterior_transform(model)              # weight -1: the screen minimises
ucb = UpperConfidenceBound(model, beta=1.0, posterior_transform=strong_first)
best, value = optimize_acqf_discrete(ucb, q=1, choices=pairs, X_avoid=train_X)
a, b = best[0].long().tolist()
print(f"UCB pick: {screen.genes[a]} + {screen.genes[b]}, measured value "
      f"{y_all[(pairs == best[0]).all(-1)].item():.3f}")"""),
    ("md", """\
MC acquisitions sample the posterior. For an ensemble the members *are* the distribution:
`EnsembleMemberSampler(s)` returns each member exactly once, so MC averages are exact. By
default this model's posteriors get a *balanced* member sampler of BoTorch's requested size
(every member equally often, exact when the size is a multiple of `s`; weighted ensembles get
BoTorch's `IndexSampler`), which keeps `ModelList(NaiadEnsemble, SingleTaskGP)` working. With
5 exact members an EI-type acquisition is exactly zero wherever no member beats its own best
baseline value, so most candidates tie at zero (log-EI variants still order them smoothly)."""),
    ("code", """\
qucb = qUpperConfidenceBound(model, beta=1.0, posterior_transform=strong_first,
                             sampler=EnsembleMemberSampler(model.ensemble_size))
scores = qucb(X_cand.unsqueeze(-2))                      # one value per candidate (q = 1)
top = torch.topk(scores, 10).indices
true_top200 = set(torch.topk(-y_all, 200).indices.tolist())
picked = unmeasured[top].tolist()
print("qUCB top-10 picks that are among the true 200 strongest pairs:",
      sum(p in true_top200 for p in picked), "/ 10")
for i in picked[:5]:
    a, b = pairs[i].long().tolist()
    print(f"  {screen.genes[a]:>8s} + {screen.genes[b]:<8s} measured {y_all[i].item():+.3f}")"""),
    ("md", """\
## 5. Save and reload

`save` stores weights, config, direction and training data (the outcome transform is refit
on them exactly as in `fit`); `load` restores a model that predicts bit for bit the same."""),
    ("code", """\
import tempfile
from pathlib import Path

path = Path(tempfile.mkdtemp()) / "naiad.pt"
model.save(path)
again = NaiadEnsemble.load(path)
print("identical predictions after reload:",
      torch.equal(again.posterior(X_cand).values, model.posterior(X_cand).values))"""),
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
