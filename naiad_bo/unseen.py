r"""Unseen genes: predicting missing single-gene effects from descriptors, and scoring it.

NAIAD (and every surrogate here) needs each gene's single-gene effect. For a gene that was
never measured, :func:`predict_single_effects` predicts it with a GP over genes,

.. math::

    y_g = \mu + h(g) + \varepsilon_g, \qquad
    h \sim \mathcal{GP}\Big(0,\ s^2 \sum_j w_j K_j\Big),

where ``K_j`` are descriptor Gram matrices (STRING Mashup, GO, DepMap, ...) and the weights,
``s``, ``mu`` and the noise are fitted by marginal likelihood on the measured genes. A gene
no descriptor covers gets the fitted mean ``mu`` (the identity fallback has no information
about unmeasured genes).

:func:`evaluate_unseen` is the protocol of ``naiad-bo evaluate --unseen-genes F``: per seed a
fraction ``F`` of the genes is hidden entirely (their single effects and every pair with them
leave the training data); the surrogate is trained on ``N`` pairs of the remaining genes,
once with the predicted single effects and once with the mean measured single effect imputed
(the baseline), and scored on the test pairs with exactly one / two hidden genes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import numpy as np
import torch
from gpytorch.constraints import GreaterThan, Positive
from gpytorch.distributions import MultivariateNormal
from gpytorch.kernels import Kernel
from gpytorch.likelihoods import GaussianLikelihood
from gpytorch.means import ConstantMean
from gpytorch.models import ExactGP
from scipy.stats import spearmanr

from naiad_bo.descriptors.alignment import AlignedDescriptor
from naiad_bo.descriptors.sources import DescriptorSource, load_descriptors
from naiad_bo.evaluation import predict_mean
from naiad_bo.kernels import GeneGram
from naiad_bo.metrics import rmse
from naiad_bo.splits import train_test_split

__all__ = ["DEFAULT_UNSEEN_DESCRIPTORS", "evaluate_unseen", "hide_genes", "predict_single_effects"]

#: Descriptors used to predict unseen single effects unless told otherwise.
DEFAULT_UNSEEN_DESCRIPTORS = "string+go+depmap"


class _GeneKernel(Kernel):
    """``s^2 G[i, j]`` on ``n x 1`` gene-index inputs."""

    has_lengthscale = False

    def __init__(self, gene_gram: GeneGram) -> None:
        super().__init__()
        self.gene_gram = gene_gram
        self.register_parameter(
            "raw_scale", torch.nn.Parameter(torch.zeros((), dtype=torch.float64))
        )
        self.register_constraint("raw_scale", Positive())

    def forward(self, x1, x2, diag=False, **params):
        G = self.gene_gram()
        i, j = x1[..., 0].round().long(), x2[..., 0].round().long()
        s = self.raw_scale_constraint.transform(self.raw_scale)
        return s * (G[i, j] if diag else G[i.unsqueeze(-1), j.unsqueeze(-2)])


class _GeneGP(ExactGP):
    def __init__(self, x, y, kernel, likelihood):
        super().__init__(x, y, likelihood)
        self.mean_module = ConstantMean().to(torch.float64)
        self.covar_module = kernel

    def forward(self, x):
        return MultivariateNormal(self.mean_module(x), self.covar_module(x))


def predict_single_effects(
    single_effects: np.ndarray,
    known: np.ndarray,
    descriptors: Sequence[AlignedDescriptor],
    *,
    maxiter: int = 200,
) -> np.ndarray:
    """Single effects of every gene: measured ones kept, unknown ones predicted by a gene GP.

    Args:
        single_effects: ``(M,)``; entries where ``known`` is False are ignored.
        known: ``(M,)`` bool mask of measured genes (at least 3).
        descriptors: aligned descriptors (at least one).
        maxiter: L-BFGS iterations of the marginal-likelihood fit.

    Returns:
        ``(M,)`` float64 with the predictions at unknown genes (posterior mean).

    Raises:
        ValueError: no descriptor, fewer than 3 known genes, shape mismatch.
    """
    from naiad_bo.models.descriptor_gp import fit_marginal_likelihood

    y = np.asarray(single_effects, dtype=np.float64)
    known = np.asarray(known, dtype=bool)
    if y.shape != known.shape:
        raise ValueError(f"single_effects {y.shape} and known {known.shape} differ in shape")
    if not descriptors:
        raise ValueError("predicting unseen single effects needs at least one descriptor")
    if known.sum() < 3:
        raise ValueError(f"need at least 3 measured genes, got {int(known.sum())}")
    out = y.copy()
    if known.all():
        return out
    grams = [torch.from_numpy(d.gram()) for d in descriptors]
    gram = GeneGram(grams, None, identity=False)
    kernel = _GeneKernel(gram)
    lik = GaussianLikelihood(noise_constraint=GreaterThan(1e-4)).to(torch.float64)
    idx = torch.from_numpy(np.flatnonzero(known)).to(torch.float64).unsqueeze(-1)
    mu, sd = y[known].mean(), y[known].std() + 1e-12
    ys = torch.from_numpy((y[known] - mu) / sd)
    gp = _GeneGP(idx, ys, kernel, lik)
    lik.noise = 0.5
    fit_marginal_likelihood(gp, maxiter=maxiter)
    gp.eval()
    lik.eval()
    unknown = torch.from_numpy(np.flatnonzero(~known)).to(torch.float64).unsqueeze(-1)
    with torch.no_grad():
        pred = gp(unknown).mean.numpy()
    out[~known] = pred * sd + mu
    return out


def hide_genes(n_genes: int, fraction: float, seed: int) -> np.ndarray:
    """Seeded sorted ids of ``round(fraction * n_genes)`` hidden genes (at least one).

    Raises:
        ValueError: ``fraction`` outside ``(0, 1)`` or nothing left to train on.
    """
    fraction = float(fraction)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"--unseen-genes must be a fraction in (0, 1), got {fraction!r}")
    k = max(1, int(round(fraction * n_genes)))
    if k > n_genes - 3:
        raise ValueError(f"hiding {k} of {n_genes} genes leaves too few to train on")
    rng = np.random.default_rng([int(seed), 7919])
    return np.sort(rng.choice(n_genes, k, replace=False))


def _build(cls, single_effects, genes, seed, kwargs):
    extra = {"genes": tuple(genes)} if getattr(cls, "requires_genes", False) else {}
    try:
        return cls(torch.from_numpy(single_effects.copy()), seed=seed, **extra, **kwargs)
    except TypeError as err:
        raise ValueError(f"bad hyper-parameters for model {cls.__name__}: {err}") from None


def evaluate_unseen(
    screen,
    model: type,
    fraction: float,
    train_pairs: int,
    seeds: Iterable[int] = (0, 1, 2),
    *,
    descriptors: str | Sequence[DescriptorSource] | None = DEFAULT_UNSEEN_DESCRIPTORS,
    model_kwargs: dict | None = None,
    test_frac: float = 0.3,
    val_frac: float = 0.1,
    name: str | None = None,
) -> list[dict]:
    """Unseen-gene protocol (module docstring); one record per seed.

    Args:
        screen: a :class:`~naiad_bo.data.PairScreen`.
        model: surrogate class (``cls(single_effects, seed=..., **model_kwargs)``).
        fraction: fraction F of genes hidden.
        train_pairs: training pairs N drawn from pairs of two measured genes.
        seeds: seeds (hidden genes, split and model).
        descriptors: descriptors that predict the hidden genes' single effects.
        model_kwargs: surrogate hyper-parameters.
        test_frac, val_frac: the held-out split (pairs of hidden genes in the training pool
            and validation split are simply unused).
        name: model name in the records.

    Returns:
        Records with ``model``, ``screen``, ``seed``, ``fraction``, ``n_hidden``,
        ``n_train``, ``n_test_seen``, ``n_test_one``, ``n_test_two``, ``rmse_seen``,
        ``rmse_one_unseen``, ``rmse_two_unseen``, ``rmse_one_unseen_baseline``,
        ``rmse_two_unseen_baseline``, ``spearman_unseen_single_effects``, ``fit_s``.

    Raises:
        ValueError: bad fraction, ``N`` larger than the pairs of measured genes available.
    """
    kwargs = dict(model_kwargs or {})
    name = name or getattr(model, "__name__", str(model))
    aligned = load_descriptors(descriptors, screen.genes)
    X_all = torch.from_numpy(screen.pair_index().copy())
    y = screen.y_values()
    Y = torch.from_numpy(y.copy()).unsqueeze(-1)
    pairs = screen.pair_index()
    se_true = np.asarray(screen.single_effects, dtype=np.float64)
    records = []
    for seed in (int(s) for s in seeds):
        hidden = hide_genes(screen.n_genes, fraction, seed)
        is_hidden = np.zeros(screen.n_genes, bool)
        is_hidden[hidden] = True
        n_hidden_in_pair = is_hidden[pairs[:, 0]].astype(int) + is_hidden[pairs[:, 1]]
        split = train_test_split(screen.n_pairs, None, test_frac, val_frac, seed)
        pool = split.pool[n_hidden_in_pair[split.pool] == 0]
        if train_pairs > pool.size:
            raise ValueError(
                f"--train-pairs {train_pairs} exceeds the {pool.size} training pairs of measured "
                f"genes left after hiding {hidden.size} genes (seed {seed})"
            )
        train = pool[:train_pairs]
        test = {k: split.test[n_hidden_in_pair[split.test] == k] for k in (0, 1, 2)}
        se_pred = predict_single_effects(se_true, ~is_hidden, aligned)
        se_base = se_true.copy()
        se_base[hidden] = se_true[~is_hidden].mean()
        rec = {
            "model": name, "screen": screen.name, "seed": seed, "fraction": float(fraction),
            "n_hidden": int(hidden.size), "n_train": int(train.size),
            "n_test_seen": int(test[0].size), "n_test_one": int(test[1].size),
            "n_test_two": int(test[2].size),
            "spearman_unseen_single_effects": float(
                spearmanr(se_pred[hidden], se_true[hidden]).statistic
            ) if hidden.size > 2 else float("nan"),
        }
        for tag, se in (("", se_pred), ("_baseline", se_base)):
            surrogate = _build(model, se, screen.genes, seed, kwargs)
            t0 = time.perf_counter()
            surrogate.fit(X_all[train], Y[train])
            if not tag:
                rec["fit_s"] = time.perf_counter() - t0
            for k, field in ((1, "rmse_one_unseen"), (2, "rmse_two_unseen")):
                idx = test[k]
                rec[field + tag] = (
                    rmse(y[idx], predict_mean(surrogate, X_all[idx])) if idx.size else float("nan")
                )
            if not tag:
                rec["rmse_seen"] = rmse(y[test[0]], predict_mean(surrogate, X_all[test[0]]))
        records.append(rec)
    return records
