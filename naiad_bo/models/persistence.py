"""Save / load of pair deep ensembles (plain tensors and values; safe ``weights_only`` load).

A saved state holds the constructor arguments (class, seed, config, direction, member
weights, single effects, outcome-transform kind) and, when fitted, the training data, the
resolved epochs, the loss history, the noise level, the variance scale and the network
weights. Loading builds
the model with the same constructor and replays the *same* two steps that :meth:`fit` uses
(validate the data and fit the outcome transform, build the network from that data), then
copies the weights in: nothing depends on setting attributes in a particular order.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import torch
from botorch.utils.types import DEFAULT

if TYPE_CHECKING:  # pragma: no cover
    from naiad_bo.models.pair_ensemble import PairEnsembleModel

__all__ = ["FORMAT", "model_from_state", "model_state"]

FORMAT = "naiad_bo.pair_ensemble/2"


def model_state(model: PairEnsembleModel) -> dict[str, Any]:
    """Everything needed to rebuild ``model`` (tensors on the CPU, str, numbers, None).

    Raises:
        NotImplementedError: the model has a user-given outcome transform (its class and
            state cannot be restored safely); save models with the default transform or none.
    """
    spec = model._outcome_transform_spec
    if spec is DEFAULT:
        kind = "default"
    elif spec is None:
        kind = "none"
    else:
        raise NotImplementedError(
            f"save() supports the default outcome transform or none, not a user-given "
            f"{type(spec).__name__}; save the weights with torch.save(model.state_dict()) instead"
        )
    fitted = model.is_fitted

    def cpu(t):
        return None if t is None else t.detach().cpu().clone()

    return {
        "format": FORMAT,
        "class": f"{type(model).__module__}.{type(model).__qualname__}",
        "seed": model.seed,
        "config": model.config.to_dict(),
        "direction": None if model.direction is None else model.direction.value,
        "weights": cpu(model.ensemble_weights),
        "outcome_transform": kind,
        "single_effects": cpu(model.single_effects),
        "fitted": fitted,
        "train_X": cpu(model.train_X_) if fitted else None,
        "train_Y": cpu(model.train_Y_) if fitted else None,
        "train_Yvar": cpu(model.train_Yvar_) if fitted else None,
        "epochs": model.epochs_ if fitted else None,
        "train_loss": torch.from_numpy(model.train_loss_.copy()) if fitted else None,
        "noise_variance": model.noise_variance_ if fitted else None,
        "variance_scale": model.variance_scale_ if fitted else None,
        "noise_slope": model.noise_slope_ if fitted else None,
        "variance_calibrated": model.variance_calibrated_ if fitted else None,
        "network": (
            {k: cpu(v) for k, v in model.network_.state_dict().items()} if fitted else None
        ),
    }


def model_from_state(cls: type[PairEnsembleModel], state: Mapping[str, Any]) -> PairEnsembleModel:
    """Rebuild a model of ``cls`` (or the subclass named in ``state``) from :func:`model_state`.

    Raises:
        ValueError: not a saved pair-ensemble state, another format version, or a class that
            is not ``cls`` / one of its subclasses.
    """
    if not isinstance(state, Mapping) or not str(state.get("format", "")).startswith(
        "naiad_bo.pair_ensemble/"
    ):
        raise ValueError(f"not a saved pair-ensemble model (expected format {FORMAT!r})")
    if state["format"] != FORMAT:
        raise ValueError(
            f"saved model has format {state['format']!r}, this version reads {FORMAT!r}; "
            "refit the model and save it again"
        )
    target = _resolve_class(cls, state["class"])
    model = target(
        state["single_effects"],
        seed=state["seed"],
        config=target.config_class.from_dict(state["config"]),
        direction=state["direction"],
        weights=state["weights"],
        outcome_transform=DEFAULT if state["outcome_transform"] == "default" else None,
    )
    if state["fitted"]:
        data = model._prepare(state["train_X"], state["train_Y"], state["train_Yvar"])
        net = model._make_network(data, torch.Generator().manual_seed(model.seed))
        net.load_state_dict(state["network"])
        net.to(dtype=model.compute_dtype)
        model._set_fitted(
            data, net, state["epochs"], state["train_loss"].numpy(), state["noise_variance"],
            variance_scale=state.get("variance_scale") or 1.0,
            noise_slope=state.get("noise_slope") or 0.0,
            # states saved before the flag: calibrated iff a scale or slope was fitted
            variance_calibrated=state.get(
                "variance_calibrated",
                (state.get("variance_scale") or 1.0) != 1.0
                or (state.get("noise_slope") or 0.0) != 0.0,
            ),
        )
    return model


def _resolve_class(cls: type, qualified: str) -> type:
    """The subclass of ``cls`` (itself included) whose qualified name is ``qualified``.

    Only classes already imported, or importable from the ``naiad_bo`` package, are
    considered: a saved file never makes us import arbitrary modules.
    """

    def find() -> type | None:
        stack = [cls]
        while stack:
            c = stack.pop()
            if f"{c.__module__}.{c.__qualname__}" == qualified:
                return c
            stack.extend(c.__subclasses__())
        return None

    target = find()
    if target is None and qualified.startswith("naiad_bo."):
        importlib.import_module(qualified.rpartition(".")[0])
        target = find()
    if target is None:
        raise ValueError(f"saved model is a {qualified}, which is not a {cls.__name__}")
    return target

