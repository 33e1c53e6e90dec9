r"""Batched deep ensembles over unordered gene pairs, as BoTorch ``EnsembleModel``\ s.

:class:`PairEnsembleModel` is the BoTorch-facing model; the machinery lives in one module per
concept:

* :mod:`~naiad_bo.models.validation`: inputs (gene-id pairs, targets, noise, devices);
* :mod:`~naiad_bo.models.ensemble_config`: the typed, frozen :class:`EnsembleConfig`;
* :mod:`~naiad_bo.models.training`: the batched training loop (all members at once);
* :mod:`~naiad_bo.models.scoring`: chunked scoring with bounded memory;
* :mod:`~naiad_bo.models.ensemble_posterior` / :mod:`~naiad_bo.models.sampler`: the
  posterior (with observation noise) and its MC samplers;
* :mod:`~naiad_bo.models.persistence`: save / load.

A concrete ensemble provides only its member network and config class; see
:class:`PairEnsembleModel`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from os import PathLike
from types import MappingProxyType
from typing import Any, ClassVar

import numpy as np
import torch
from botorch.acquisition.objective import PosteriorTransform, ScalarizedPosteriorTransform
from botorch.exceptions.errors import UnsupportedError
from botorch.models.ensemble import EnsembleModel
from botorch.models.model import Model
from botorch.models.transforms.input import InputTransform
from botorch.models.transforms.outcome import OutcomeTransform, Standardize
from botorch.utils.datasets import SupervisedDataset
from botorch.utils.types import DEFAULT, _DefaultType
from torch import Tensor, nn

from naiad_bo.direction import Direction
from naiad_bo.models.ensemble_config import EnsembleConfig
from naiad_bo.models.ensemble_posterior import MemberEnsemblePosterior, scalarize
from naiad_bo.models.sampler import EnsembleMemberSampler
from naiad_bo.models.scoring import score_members
from naiad_bo.models.training import PAPER_LR, train_members
from naiad_bo.models.validation import (
    NotFittedError,
    as_gene_pairs,
    as_noise_variance,
    as_single_effects,
    as_targets,
    check_same_device,
)

__all__ = ["NotFittedError", "PairEnsembleModel", "PairTrainingData"]


@dataclass(frozen=True)
class PairTrainingData:
    """Validated training data of one fit, handed explicitly to the network factory.

    Attributes:
        X: ``n x 2`` long gene ids.
        Y: ``n x 1`` float64 targets in outcome units.
        Yvar: ``n x 1`` float64 noise variances, or None.
        targets: ``(n,)`` float64 targets after the outcome transform (what members learn).
    """

    X: Tensor
    Y: Tensor
    Yvar: Tensor | None
    targets: Tensor

    @property
    def n(self) -> int:
        """Number of training pairs."""
        return int(self.X.shape[0])


class PairEnsembleModel(EnsembleModel):
    r"""Base class for deep ensembles over unordered gene pairs (BoTorch ``EnsembleModel``).

    **Inputs** are ``batch x q x 2`` gene ids ``(a, b)`` as float tensors (what BoTorch and
    Ax pass; they must hold exact integers), ``int64`` accepted. ``forward`` returns the
    ``s`` member predictions ``batch x s x q x 1`` in the *transformed* outcome space;
    ``posterior`` (BoTorch's ``EnsembleModel.posterior``) un-transforms them with
    ``model.outcome_transform`` and returns a
    :class:`~naiad_bo.models.ensemble_posterior.MemberEnsemblePosterior` in outcome units.

    **Transforms.** The default ``outcome_transform`` is BoTorch's ``Standardize(m=1)``
    (fitted in :meth:`fit`); RECOVER prepends its Bliss expectation. A user-given
    ``OutcomeTransform`` replaces the default; ``None`` trains on raw units.
    ``input_transform`` is rejected: inputs are gene ids (categories), which
    ``Normalize`` and the like would turn into meaningless features.

    **Construction** (both paths are the same model)::

        model = NaiadEnsemble(single_effects, seed=0, epochs=200).fit(train_X, train_Y)
        model = NaiadEnsemble(single_effects, train_X, train_Y, seed=0).fit()   # BoTorch style
        model = NaiadEnsemble(**NaiadEnsemble.construct_inputs(dataset, single_effects=se)).fit()

    ``single_effects`` may be a :class:`~naiad_bo.PairScreen`: its single effects and its
    ``direction`` are taken (acquisitions then default to that direction).

    **Devices and dtypes.** ``fit`` runs on ``train_X``'s device (the model moves there);
    ``model.to(device)`` after fitting moves network, buffers and outcome transform. The
    network trains and scores in ``config.dtype`` (float32 by default) whatever ``.to(X)``
    BoTorch applies; buffers and transform statistics stay float64. Initialisation and
    mini-batch order come from a CPU generator, so a seed gives the same fit on every device.
    ``X`` on another device than the model is an error naming both.

    **Unsupported** (clear errors): ``input_transform``, ``condition_on_observations`` /
    ``fantasize`` (refit instead), ``subset_output`` other than ``[0]``, MC samples of a
    posterior with observation noise.

    **Subclass contract.** A subclass sets ``config_class`` (an :class:`EnsembleConfig`
    subclass with its architecture fields) and implements::

        def _build_network(self, data: PairTrainingData, generator) -> nn.Module

    returning a module ``(a: LongTensor (n,), b: LongTensor (n,)) -> Tensor (s, n)`` in
    transformed units. Every parameter is batched over members (shape ``(s, ...)``);
    initialise with ``generator`` only (never the global RNG). Build it in any float dtype on
    the CPU: the base moves it to the data's device and the compute dtype. The factory gets
    everything it may depend on in ``data`` (fit and load call it identically).

    Args:
        single_effects: ``(M,)`` single-gene effects (Tensor / ndarray) or a ``PairScreen``.
        train_X: Optional ``n x 2`` training pairs, fitted by :meth:`fit` without arguments.
        train_Y: Optional ``n x 1`` targets.
        train_Yvar: Optional ``n x 1`` noise variances (see :meth:`fit`).
        seed: Seed of the generator used for initialisation and mini-batch order.
        config: A ``config_class`` instance; keyword ``options`` override its fields.
        outcome_transform: ``DEFAULT`` (Standardize), an ``OutcomeTransform`` or None.
        input_transform: Must be None (see above).
        weights: Optional ``(s,)`` positive member weights (uniform if None).
        direction: Which phenotype is strong (``Direction`` or name); None = unknown (or the
            screen's, when ``single_effects`` is a screen).
        **options: Config fields as keywords (``ensemble_size=5``, ``epochs=200``, ...).
    """

    _num_outputs = 1
    config_class: ClassVar[type[EnsembleConfig]] = EnsembleConfig
    small_screen_max_genes: ClassVar[int] = 200
    epochs_small_screen: ClassVar[int] = 500
    epochs_large_screen: ClassVar[int] = 200
    lr_small_screen: ClassVar[float] = PAPER_LR
    lr_large_screen: ClassVar[float] = PAPER_LR
    min_train_size: ClassVar[int] = 2

    def __init__(
        self,
        single_effects: Any,
        train_X: Tensor | None = None,
        train_Y: Tensor | None = None,
        train_Yvar: Tensor | None = None,
        *,
        seed: int = 0,
        config: EnsembleConfig | None = None,
        outcome_transform: OutcomeTransform | _DefaultType | None = DEFAULT,
        input_transform: InputTransform | None = None,
        weights: Tensor | None = None,
        direction: Direction | str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(weights=None)
        screen_direction = None
        if hasattr(single_effects, "single_effects") and hasattr(single_effects, "direction"):
            screen_direction = single_effects.direction
            single_effects = single_effects.single_effects
        se = as_single_effects(single_effects)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise TypeError(f"seed must be an int, got {seed!r}")
        if input_transform is not None:
            raise UnsupportedError(
                f"{type(self).__name__} does not take an input_transform: its inputs are gene "
                "ids (categories), which input transforms such as Normalize would treat as "
                "continuous features; pass gene-id pairs as they are"
            )
        self.seed = int(seed)
        if config is None:
            config = self.config_class.from_options(**options)
        elif not isinstance(config, self.config_class):
            raise TypeError(
                f"config must be a {self.config_class.__name__}, got {type(config).__name__}"
            )
        elif options:
            config = config.replace(**options)
        self.config = config
        self.direction = _resolve_direction(direction, screen_direction)
        self.register_buffer("single_effects", se)
        self.n_genes = int(se.numel())
        self.ensemble_weights = _as_weights(weights, config.ensemble_size)
        # a plain attribute (not a registered submodule): the fitted one is outcome_transform
        self.__dict__["_outcome_transform_spec"] = outcome_transform
        self._set_outcome_transform(self._new_outcome_transform())
        self.network_: nn.Module | None = None
        self.variance_scale_ = 1.0
        self.noise_slope_ = 0.0
        self.variance_calibrated_ = False
        self._init_data = None
        if train_X is not None or train_Y is not None:
            if train_X is None or train_Y is None:
                raise ValueError("pass both train_X and train_Y (or neither)")
            self._init_data = (train_X, train_Y, train_Yvar)

    @classmethod
    def mean_only_options(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """Constructor options for a fit whose spread nobody reads (e.g. an MPE simulation).

        A ``variance_calibration`` that comes from the class default (``options`` does not
        name it) is turned off: it rescales the members around an unchanged mean, so every
        posterior mean, and with it every MPE batch, is the same bit for bit, at about half
        the fit (no fold ensembles). One named in ``options`` is kept as given.

        Args:
            options: Constructor keyword options (config fields).

        Returns:
            A new dict of options.
        """
        out = dict(options)
        if "variance_calibration" not in out and "config" not in out:
            defaults = {f.name: f.default for f in fields(cls.config_class)}
            if defaults.get("variance_calibration") is not None:
                out["variance_calibration"] = None
        return out

    @classmethod
    def construct_inputs(
        cls, training_data: SupervisedDataset, *, single_effects: Any = None, **options: Any
    ) -> dict[str, Any]:
        """Constructor keywords from a BoTorch ``SupervisedDataset`` (the Ax / BoTorch hook).

        ``Cls(**Cls.construct_inputs(dataset, single_effects=se, epochs=200)).fit()``.

        Raises:
            ValueError: ``single_effects`` missing (pair models cannot work without them).
        """
        if single_effects is None:
            raise ValueError(
                f"{cls.__name__}.construct_inputs needs single_effects= (the (M,) single-gene "
                "effects, or the screen): the model looks them up by gene id"
            )
        return {
            "single_effects": single_effects,
            **Model.construct_inputs.__func__(cls, training_data),
            **options,
        }

    # ------------------------------------------------------------------ properties
    @property
    def ensemble_size(self) -> int:
        """Number of members ``s``."""
        return int(self.config.ensemble_size)

    @property
    def hparams(self) -> Mapping[str, Any]:
        """Read-only view of :attr:`config` as plain values (``config.to_dict()``).

        Kept for code written against the former ``hparams`` dict; it cannot be assigned
        to: change scoring settings with :meth:`set_chunk_size` / :meth:`set_compute_dtype`,
        everything else by building the model with other options.
        """
        return MappingProxyType(self.config.to_dict())

    @property
    def compute_dtype(self) -> torch.dtype:
        """dtype the network trains and scores in (config ``dtype``)."""
        return self.config.dtype

    @property
    def batch_shape(self) -> torch.Size:
        """Models are not batched (the ensemble dimension is not a batch dimension)."""
        return torch.Size([])

    @property
    def is_fitted(self) -> bool:
        return self.network_ is not None

    @property
    def device(self) -> torch.device:
        """Device of the model (of its buffers and network)."""
        return self.single_effects.device

    def set_compute_dtype(self, dtype: torch.dtype | str) -> PairEnsembleModel:
        """Switch the network's compute dtype (float32 / float64); returns self."""
        self.config = self.config.replace(dtype=dtype)
        if self.network_ is not None:
            self.network_.to(dtype=self.compute_dtype)
        return self

    def set_chunk_size(self, chunk_size: int) -> PairEnsembleModel:
        """Change the scoring chunk size (pairs per network call); returns self."""
        self.config = self.config.replace(chunk_size=chunk_size)
        return self

    def default_sampler(self) -> EnsembleMemberSampler:
        """The exact sampler for this model's posteriors (all ``s`` members once)."""
        return EnsembleMemberSampler(self.ensemble_size)

    # ------------------------------------------------------------------ subclass hooks
    def _build_network(self, data: PairTrainingData, generator: torch.Generator) -> nn.Module:
        """Return the batched member network ``(a, b) -> (s, n)``; see class docstring."""
        raise NotImplementedError(f"{type(self).__name__} must implement _build_network")

    def _default_outcome_transform(self) -> OutcomeTransform:
        """The outcome transform used when none is given: ``Standardize(m=1)``."""
        return Standardize(m=1)

    def _by_screen_size(self, small, large):
        """``small`` on screens with <= ``small_screen_max_genes`` genes, else ``large``."""
        return small if self.n_genes <= self.small_screen_max_genes else large

    def resolve_lr(self) -> float:
        """Peak learning rate of a fit: config ``lr``, else the class's per-size rate."""
        if self.config.lr is not None:
            return float(self.config.lr)
        return float(self._by_screen_size(self.lr_small_screen, self.lr_large_screen))

    def resolve_epochs(self, n_train: int) -> int:
        """Epochs of a fit: config ``epochs``, else ``epochs_small_screen`` (<= 200 genes) /
        ``epochs_large_screen`` (the paper's 500 / 200 unless the class says otherwise)."""
        if self.config.epochs is not None:
            return int(self.config.epochs)
        return int(self._by_screen_size(self.epochs_small_screen, self.epochs_large_screen))

    def standardized_single_effects(self) -> Tensor:
        """Single effects centred and scaled over all ``M`` genes (float64 ``(M,)``)."""
        return (self.single_effects - self.single_effects.mean()) / self._single_effect_scale()

    def scaled_single_effects(self) -> Tensor:
        """Single effects scaled to unit sd over all ``M`` genes, not centred (``(M,)``): 0
        stays "no effect"."""
        return self.single_effects / self._single_effect_scale()

    def _single_effect_scale(self) -> Tensor:
        """The single effects' sd, or 1 where it is 0 or undefined (no host sync)."""
        se = self.single_effects
        sd = se.std() if se.numel() > 1 else se.new_tensor(0.0)
        return torch.where(sd > 0, sd, 1.0)

    # ------------------------------------------------------------------ training
    def fit(
        self,
        train_X: Tensor | None = None,
        train_Y: Tensor | None = None,
        train_Yvar: Tensor | None = None,
    ) -> PairEnsembleModel:
        r"""Train all members at once on ``train_X`` (``n x 2``) and ``train_Y`` (``n x 1``).

        Without arguments, fits the training data given to the constructor. The fit runs on
        ``train_X``'s device (the model moves there). Deterministic given ``seed``.
        Refitting starts from scratch.

        ``train_Yvar`` (``n x 1``, ``>= 0``) is the noise variance of each training value,
        e.g. :func:`~naiad_bo.models.noise.replicate_noise_variance` of the screen's
        ``sd`` / ``n_obs`` (``sd^2 / n_obs``). It does not weight the loss; it sets the noise
        level that ``posterior(X, observation_noise=True)`` adds,
        ``sigma^2 = mean(train_Yvar)`` (a new measurement is assumed as noisy as a typical
        training one). Without it the level is estimated as the in-sample mean squared
        residual of the ensemble mean, ``sigma^2 = mean_i (y_i - mean_k f_k(x_i))^2``, a
        lower bound (the networks partly fit the noise). Reported as ``noise_variance_``.

        Returns:
            self
        """
        if train_X is None and train_Y is None:
            if self._init_data is None:
                raise ValueError(
                    "fit() needs train_X and train_Y (here or in the constructor)"
                )
            train_X, train_Y, train_Yvar = self._init_data
        elif train_X is None or train_Y is None:
            raise ValueError("pass both train_X and train_Y")
        data = self._prepare(train_X, train_Y, train_Yvar)
        generator = torch.Generator().manual_seed(self.seed)
        net = self._make_network(data, generator)
        epochs = self.resolve_epochs(data.n)
        z = data.targets.to(self.compute_dtype)
        pair_weights = None
        if self.config.bootstrap:
            rate = torch.ones(self.ensemble_size, data.n, dtype=torch.float64)
            pair_weights = torch.poisson(rate, generator=generator).to(
                device=z.device, dtype=z.dtype
            )
        history = train_members(
            net, data.X[:, 0], data.X[:, 1], z,
            config=self.config, epochs=epochs, generator=generator,
            pair_weights=pair_weights, lr=self.resolve_lr(),
        )
        last = history[-1]
        if not torch.isfinite(last).all():
            bad = torch.nonzero(~torch.isfinite(last)).flatten().tolist()
            raise FloatingPointError(
                f"training diverged (non-finite loss) for member(s) {bad}; lower lr or "
                "set grad_clip"
            )
        self._set_fitted(data, net, epochs, history.double().cpu().numpy())
        spec = self.config.variance_calibration
        if spec is not None and data.n >= spec.skip_below:
            from naiad_bo.models.variance_calibration import cross_validated_variance

            scale, noise, slope = cross_validated_variance(self, data)
            self.variance_scale_ = scale
            self.noise_variance_ = noise
            self.noise_slope_ = slope
            self.variance_calibrated_ = True
        return self

    def _prepare(self, train_X: Any, train_Y: Any, train_Yvar: Any) -> PairTrainingData:
        """Validate the data, move the model to its device, fit the outcome transform."""
        X = as_gene_pairs(train_X, self.n_genes, name="train_X")
        if X.ndim != 2:
            raise ValueError(f"train_X must be n x 2, got shape {tuple(X.shape)}")
        n = X.shape[0]
        if n < self.min_train_size:
            raise ValueError(
                f"{type(self).__name__} needs at least {self.min_train_size} training pairs, "
                f"got {n}"
            )
        Y = as_targets(train_Y, n)
        check_same_device(Y, X.device, what="train_X", name="train_Y")
        Yvar = None
        if train_Yvar is not None:
            Yvar = as_noise_variance(train_Yvar, n)
            check_same_device(Yvar, X.device, what="train_X", name="train_Yvar")
        self.network_ = None
        self.to(X.device)
        tf = self._new_outcome_transform()
        self._set_outcome_transform(tf)
        if tf is None:
            targets = Y.squeeze(-1)
        else:
            tf.to(X.device)
            tf.train()
            targets = tf(Y, Yvar, X=X)[0].squeeze(-1)
            tf.eval()
        return PairTrainingData(X=X, Y=Y, Yvar=Yvar, targets=targets.to(torch.float64))

    def _make_network(self, data: PairTrainingData, generator: torch.Generator) -> nn.Module:
        net = self._build_network(data, generator)
        if not isinstance(net, nn.Module):
            raise TypeError(f"_build_network must return an nn.Module, got {type(net).__name__}")
        s = self.ensemble_size
        for name, p in net.named_parameters():
            if p.ndim == 0 or p.shape[0] != s:
                raise TypeError(
                    f"network parameter {name!r} has shape {tuple(p.shape)}; every parameter "
                    f"must be batched over the {s} members (leading dimension {s})"
                )
        return net.to(device=data.X.device, dtype=self.compute_dtype)

    def _set_fitted(
        self,
        data: PairTrainingData,
        net: nn.Module,
        epochs: int,
        history: np.ndarray,
        noise_variance: float | None = None,
        variance_scale: float = 1.0,
        noise_slope: float = 0.0,
        variance_calibrated: bool = False,
    ) -> None:
        """The one place that records a fitted state (used by fit and by load)."""
        from naiad_bo.models.variance_calibration import noise_standardization

        net.eval()
        #: Whether ``variance_calibration`` fitted the variance (False: not configured, or
        #: skipped by its ``skip_below`` policy).
        self.variance_calibrated_ = bool(variance_calibrated)
        self.variance_scale_ = float(variance_scale)
        self.noise_slope_ = float(noise_slope)
        self._noise_center, self._noise_scale = noise_standardization(data.Y)
        self.train_X_, self.train_Y_, self.train_Yvar_ = data.X, data.Y, data.Yvar
        self.epochs_ = int(epochs)
        self.lr_ = self.resolve_lr()
        self.train_loss_ = history
        self.network_ = net
        self.eval()
        if noise_variance is None:
            noise_variance = self._fitted_noise_variance(data)
        self.noise_variance_ = float(noise_variance)

    def _fitted_noise_variance(self, data: PairTrainingData) -> float:
        if data.Yvar is not None:
            return float(data.Yvar.mean())
        mean = self.posterior(data.X.to(torch.float64)).mean
        return float((data.Y - mean).pow(2).mean())

    # ------------------------------------------------------------------ prediction
    def forward(self, X: Tensor) -> Tensor:
        r"""Member predictions in the *transformed* outcome space.

        Use :meth:`posterior` for outcome units (``posterior(X).values`` are the members).

        Args:
            X: ``batch_shape x n x 2`` gene ids (float holding integers, or long).

        Returns:
            ``batch_shape x s x n x 1`` tensor, dtype of ``X`` if floating else float64.
            Not differentiable w.r.t. ``X`` (indices).
        """
        self._check_fitted()
        pairs = as_gene_pairs(X, self.n_genes)
        if pairs.ndim < 2:
            raise ValueError(f"X must have shape (..., n, 2), got {tuple(pairs.shape)}")
        check_same_device(pairs, self.device, what=f"the {type(self).__name__}")
        out_dtype = X.dtype if X.is_floating_point() else torch.float64
        *batch, n, _ = pairs.shape
        flat = pairs.reshape(-1, 2)
        z = score_members(
            self.network_, flat[:, 0], flat[:, 1],
            ensemble_size=self.ensemble_size,
            chunk_size=self.config.chunk_size,
            dtype=self.compute_dtype,
        )
        s = z.shape[0]
        z = z.reshape(s, *batch, n).movedim(0, -2).unsqueeze(-1)
        return z.to(out_dtype)

    def posterior(
        self,
        X: Tensor,
        output_indices: list[int] | None = None,
        observation_noise: bool | Tensor = False,
        posterior_transform: PosteriorTransform | None = None,
        **kwargs: Any,
    ) -> MemberEnsemblePosterior:
        r"""Ensemble posterior at ``X`` (``batch x q x 2``): values ``batch x s x q x 1``.

        The member values are un-transformed to outcome units by BoTorch's
        ``EnsembleModel.posterior`` (``model.outcome_transform``). With
        ``observation_noise=True`` the variance is the predictive variance of a new
        measurement (epistemic member variance + ``noise_variance_``, see :meth:`fit`;
        times ``exp(noise_slope_ * (mean - mean(train_Y)) / std(train_Y))`` when a
        ``variance_calibration`` fitted a mean-dependent noise);
        with a tensor (broadcastable to ``batch x q x 1``) that noise variance is added.
        Default: the epistemic variance only. With a fitted ``variance_calibration`` the
        members are spread around their mean by ``sqrt(variance_scale_)`` (the epistemic
        variance is scaled by ``variance_scale_``, the mean is unchanged).

        A ``ScalarizedPosteriorTransform`` (Ax passes weight -1 when minimising; see
        :func:`naiad_bo.direction.posterior_transform`) is applied to the member values.

        Raises:
            ValueError: ``X`` on another device, bad ids, ``output_indices`` other than [0].
        """
        self._check_fitted()
        if output_indices is not None and list(output_indices) != [0]:
            raise ValueError(
                f"output_indices must be None or [0] (one output), got {output_indices}"
            )
        if not isinstance(X, Tensor):
            raise TypeError(f"X must be a torch.Tensor of gene-id pairs, got {type(X).__name__}")
        check_same_device(X, self.device, what=f"the {type(self).__name__}")
        out_dtype = X.dtype if X.is_floating_point() else torch.float64
        base = super().posterior(X, output_indices=None)
        values = base.values.to(out_dtype)
        if self.variance_scale_ != 1.0:
            # spread the members around their (weighted) mean: variance x a, mean unchanged
            mean = base.mean.to(out_dtype).unsqueeze(-3)
            values = mean + (values - mean) * (self.variance_scale_**0.5)
        noise = None
        if isinstance(observation_noise, Tensor):
            noise = observation_noise.to(values)
            try:
                noise = noise.expand(values.shape[:-3] + values.shape[-2:])
            except RuntimeError:
                raise ValueError(
                    f"observation_noise of shape {tuple(observation_noise.shape)} does not "
                    f"broadcast to the posterior's {tuple(values.shape[:-3] + values.shape[-2:])}"
                ) from None
        elif observation_noise:
            noise = torch.full(
                values.shape[:-3] + values.shape[-2:], self.noise_variance_,
                dtype=values.dtype, device=values.device,
            )
            if self.noise_slope_ != 0.0:
                z = (base.mean.to(values) - self._noise_center) / self._noise_scale
                noise = noise * torch.exp((self.noise_slope_ * z).clamp(-50.0, 50.0))
        weights = None if self.ensemble_weights is None else self.ensemble_weights.to(values)
        posterior = MemberEnsemblePosterior(values, weights=weights, observation_noise=noise)
        if isinstance(posterior_transform, ScalarizedPosteriorTransform):
            return scalarize(posterior, posterior_transform)
        if posterior_transform is not None:
            return posterior_transform(posterior)
        return posterior

    # ------------------------------------------------------------------ clear limits
    def subset_output(self, idcs: list[int]) -> PairEnsembleModel:
        """The model itself for ``[0]`` (it has one output)."""
        if list(idcs) != [0]:
            raise ValueError(
                f"{type(self).__name__} has one output; subset_output needs [0], got {idcs}"
            )
        return self

    def condition_on_observations(self, X: Tensor, Y: Tensor, **kwargs: Any) -> Any:
        """Not supported: a deep ensemble cannot be updated without retraining."""
        raise UnsupportedError(
            f"{type(self).__name__} cannot be conditioned on new observations without "
            "retraining; refit on the enlarged data with fit(train_X, train_Y), or use a "
            "SingleTaskGP where conditioning is needed"
        )

    def fantasize(self, X: Tensor, sampler: Any = None, **kwargs: Any) -> Any:
        """Not supported (fantasy models need conditioning; see condition_on_observations)."""
        raise UnsupportedError(
            f"{type(self).__name__} does not support fantasize(): fantasy-based "
            "acquisitions (qKnowledgeGradient, qNegIntegratedPosteriorVariance with "
            "fantasies) need a model that conditions on data (SingleTaskGP); use "
            "posterior-based acquisitions (qLogNoisyExpectedImprovement, "
            "qUpperConfidenceBound, naiad_bo.acquisition) with this model"
        )

    # ------------------------------------------------------------------ dtype / device
    def _apply(self, fn, recurse: bool = True):
        """Follow device moves, but keep the network's compute dtype and float64 buffers.

        Analytic BoTorch acquisitions call ``self.to(X)`` on every evaluation, which would
        silently cast a float32 network to float64 (1.6-2x slower scoring) and the outcome
        transform's statistics to float32. Use :meth:`set_compute_dtype` to change the
        compute dtype on purpose.
        """
        kept = {k: self._modules.get(k) for k in ("network_", "outcome_transform")}
        for k in kept:
            if k in self._modules:
                self._modules[k] = None
        try:
            super()._apply(fn, recurse)
        finally:
            for k, m in kept.items():
                if m is not None:
                    self._modules[k] = m
        for name, buf in list(self._buffers.items()):
            if buf is not None and buf.is_floating_point() and buf.dtype != torch.float64:
                self._buffers[name] = buf.to(torch.float64)
        if recurse:
            flags = _cpu_flags(kept["outcome_transform"])
            for m in kept.values():
                if m is not None:
                    m.to(device=self.single_effects.device)
            for (sub, name), buf in flags.items():
                sub._buffers[name] = buf
        if isinstance(self.ensemble_weights, Tensor):
            self.ensemble_weights = self.ensemble_weights.to(self.single_effects.device)
        return self

    def _new_outcome_transform(self) -> OutcomeTransform | None:
        spec = self._outcome_transform_spec
        if spec is DEFAULT:
            return self._default_outcome_transform()
        if spec is None or isinstance(spec, OutcomeTransform):
            return spec
        raise TypeError(
            f"outcome_transform must be a botorch OutcomeTransform, None or DEFAULT, got "
            f"{type(spec).__name__}"
        )

    def _set_outcome_transform(self, tf: OutcomeTransform | None) -> None:
        if tf is None:
            if "outcome_transform" in self._modules:
                del self._modules["outcome_transform"]
        else:
            self.outcome_transform = tf

    # ------------------------------------------------------------------ persistence
    def state(self) -> dict[str, Any]:
        """Everything needed to rebuild the model (see :mod:`~naiad_bo.models.persistence`)."""
        from naiad_bo.models.persistence import model_state

        return model_state(self)

    def save(self, path: str | PathLike) -> None:
        """Write :meth:`state` with ``torch.save`` (load with :meth:`load`)."""
        torch.save(self.state(), path)

    @classmethod
    def from_state(cls, state: Any) -> PairEnsembleModel:
        """Rebuild a model from :meth:`state` (same predictions)."""
        from naiad_bo.models.persistence import model_from_state

        return model_from_state(cls, state)

    @classmethod
    def load(cls, path: str | PathLike) -> PairEnsembleModel:
        """Load a model written by :meth:`save` (safe ``weights_only`` unpickling)."""
        return cls.from_state(torch.load(path, weights_only=True))

    # ------------------------------------------------------------------ misc
    def _check_fitted(self) -> None:
        if self.network_ is None:
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit() first")

    def extra_repr(self) -> str:
        return f"n_genes={self.n_genes}, seed={self.seed}, config={self.config}"


def _cpu_flags(module: nn.Module | None) -> dict:
    """One-element bool CPU buffers (``Standardize._is_trained``), which stay on the CPU.

    BoTorch's transforms create them on the CPU even when fitted on a GPU and branch on
    them in Python; moved to an accelerator every check would be a device sync.
    """
    if module is None:
        return {}
    return {
        (sub, name): buf
        for sub in module.modules()
        for name, buf in sub._buffers.items()
        if buf is not None and buf.dtype == torch.bool and buf.numel() == 1
        and buf.device.type == "cpu"
    }


def _resolve_direction(given: Any, screen: Any) -> Direction | None:
    if given is None:
        return None if screen is None else Direction.parse(screen)
    d = Direction.parse(given)
    if screen is not None and Direction.parse(screen) is not d:
        raise ValueError(
            f"direction={d.value!r} contradicts the screen's direction "
            f"{Direction.parse(screen).value!r}"
        )
    return d


def _as_weights(weights: Any, s: int) -> Tensor | None:
    if weights is None:
        return None
    w = torch.as_tensor(weights, dtype=torch.float64).detach().clone()
    if w.shape != (s,):
        raise ValueError(f"weights must have shape ({s},) (one per member), got {tuple(w.shape)}")
    if not torch.isfinite(w).all() or (w <= 0).any():
        raise ValueError("weights must be finite and > 0")
    return w

