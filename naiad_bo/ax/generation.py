"""Generation nodes that let a :class:`~naiad_bo.campaign.Campaign` choose Ax's arms.

:class:`PairGenerationNode` is an Ax :class:`~ax.generation_strategy.external_generation_node.
ExternalGenerationNode`. Each ``gen`` rebuilds the campaign from the experiment
(:meth:`Campaign.from_state <naiad_bo.campaign.Campaign.from_state>` with the attached values in
store order, the pending arms and the number of batch trials asked so far, see
:func:`naiad_bo.ax.experiment.experiment_state`) and returns
:meth:`Campaign.propose(n) <naiad_bo.campaign.Campaign.propose>`: the surrogate fitted on every
measured pair, the acquisition's exact top-``n`` over all pairs that are neither measured nor
pending (uniform when nothing is measured). The Ax loop therefore makes exactly the picks of a
``Campaign`` with the same seed, and a fresh process (the model is refitted, seeded by
``(seed, round)``) proposes the same batch again.

The first node (``"initial"``) makes the first batch trial: a user-given library if there is
one (in the given order, minus measured and pending pairs), otherwise the campaign's own
choice (uniform when nothing is measured, the model's picks after a pilot); the strategy moves
to ``"campaign"`` once that trial exists. Pilot data trials do not count.

The mean, standard deviation and acquisition value of every proposed pair are kept in the
generator run's ``gen_metadata`` (``naiad_bo_pairs``), so a batch read back from a store still
has its predictions.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from ax.core.arm import Arm
from ax.core.data import Data
from ax.core.experiment import Experiment
from ax.core.generator_run import GeneratorRun
from ax.core.observation import ObservationFeatures
from ax.core.types import TParameterization
from ax.generation_strategy.external_generation_node import ExternalGenerationNode
from ax.generation_strategy.generation_strategy import GenerationStrategy
from ax.generation_strategy.transition_criterion import MinTrials, TransitionCriterion
from ax.utils.common.serialization import SerializationMixin

from naiad_bo.ax.checkpoints import checkpoint
from naiad_bo.ax.experiment import experiment_settings, experiment_state

__all__ = [
    "GEN_METADATA_KEY",
    "PairGenerationNode",
    "build_campaign",
    "make_generation_strategy",
]

#: ``gen_metadata`` key holding the proposed pairs' predictions.
GEN_METADATA_KEY = "naiad_bo_pairs"


def build_campaign(experiment: Experiment, extra_pending: Sequence[Sequence[int]] = ()):
    """The :class:`~naiad_bo.campaign.Campaign` an experiment stands for, rebuilt from it.

    Args:
        experiment: A naiad_bo experiment (:func:`~naiad_bo.ax.create_experiment`).
        extra_pending: Further pending ``(gene_a, gene_b)`` pairs (e.g. Ax's pending
            observations of arms generated in the same ``Client.get_next_trials`` call).
    """
    from naiad_bo.campaign import Campaign

    props = experiment_settings(experiment)
    state = experiment_state(experiment)
    pending = state.pending
    if len(extra_pending):
        extra = np.sort(np.asarray(extra_pending, dtype=np.int64).reshape(-1, 2), axis=1)
        pending = np.concatenate([pending, extra])
        _, first = np.unique(pending, axis=0, return_index=True)
        pending = pending[np.sort(first)]
    measured = state.measured[["id1", "id2", "score"]]
    return Campaign.from_state(
        props["genes"],
        np.asarray(props["single_effects"], dtype=np.float64),
        measured,
        pending=pending,
        n_asked=state.n_asked,
        control=props["control"],
        name=experiment.name,
        surrogate=props["surrogate"],
        acquisition=props["acquisition"],
        seed=int(props["seed"]),
        self_pairs=bool(props["self_pairs"]),
        direction=props["direction"],
    )


class PairGenerationNode(ExternalGenerationNode, SerializationMixin):
    """An Ax generation node whose arms are a campaign's next batch (module docstring).

    Args:
        name: Node name (``"initial"`` or ``"campaign"`` in :func:`make_generation_strategy`).
        library: Optional ``(gene_a, gene_b)`` pairs to propose first, in this order.
        transition_criteria: Ax transition criteria (moving to the next node).
    """

    def __init__(
        self,
        name: str = "campaign",
        library: Sequence[Sequence[int]] | None = None,
        transition_criteria: Sequence[TransitionCriterion] | None = None,
    ) -> None:
        t0 = time.monotonic()
        super().__init__(
            name=name,
            should_deduplicate=False,  # the campaign never proposes measured / pending pairs
            transition_criteria=transition_criteria,
        )
        self.library: list[list[int]] | None = (
            None if library is None
            else [sorted((int(a), int(b))) for a, b in library]
        )
        self._experiment: Experiment | None = None
        self.fit_time_since_gen = float(time.monotonic() - t0)

    # -- ExternalGenerationNode hooks ----------------------------------------------------
    def update_generator_state(self, experiment: Experiment, data: Data) -> None:
        """Remember the experiment; the campaign is rebuilt from it at ``gen`` time."""
        self._experiment = experiment

    def get_next_candidate(self, pending_parameters: list[TParameterization]) -> TParameterization:
        """One arm (the single-arm path of ``ExternalGenerationNode``)."""
        arms, _ = self._propose(1, [_pair(p) for p in pending_parameters])
        return arms[0].parameters

    def _gen(
        self,
        experiment: Experiment,
        data: Data | None = None,
        n: int | None = None,
        pending_observations: dict[str, list[ObservationFeatures]] | None = None,
        **generator_gen_kwargs: Any,
    ) -> GeneratorRun:
        t0 = time.monotonic()
        self._experiment = experiment
        pending = []
        for obs in (pending_observations or {}).values():
            pending.extend(_pair(o.parameters) for o in obs)
        arms, meta = self._propose(1 if n is None else int(n), pending)
        run = GeneratorRun(
            arms=arms,
            fit_time=float(self.fit_time_since_gen),  # Ax 1.3.1: an int breaks SQL round trips
            gen_time=float(time.monotonic() - t0),
            generator_key=self.name,
            gen_metadata={GEN_METADATA_KEY: meta},
        )
        self.fit_time_since_gen = 0.0
        return run

    # -- proposal ------------------------------------------------------------------------
    def _propose(self, n: int, pending: list[tuple[int, int]]) -> tuple[list[Arm], dict]:
        if self._experiment is None:
            raise RuntimeError(f"node {self.name!r} has no experiment (gen before fit)")
        t0 = time.perf_counter()
        campaign = build_campaign(self._experiment, pending)
        t1 = time.perf_counter()
        if self.library is not None:
            picked = self._from_library(campaign, n)
            if picked is not None:
                return picked
        checkpoint("generate")
        if campaign.n_measured:
            campaign.fit()  # cached: propose() reuses this model
        t2 = time.perf_counter()
        frame = campaign.propose(n)
        t3 = time.perf_counter()
        pairs = frame[["gene_a", "gene_b"]].to_numpy(np.int64)
        arms = [Arm(parameters={"gene_a": int(a), "gene_b": int(b)}) for a, b in pairs]
        meta = {
            "batch": int(frame["batch"].iloc[0]) if len(frame) else campaign.n_asked + 1,
            "node": self.name,
            "mean": _floats(frame["mean"]),
            "std": _floats(frame["std"]),
            "acquisition": _floats(frame["acquisition"]),
            # seconds: rebuilding the campaign from the experiment, fitting the surrogate,
            # scoring every candidate and selecting the batch
            "rebuild_s": t1 - t0,
            "fit_s": t2 - t1,
            "score_s": t3 - t2,
        }
        return arms, meta

    def _from_library(self, campaign, n: int) -> tuple[list[Arm], dict] | None:
        taken = set(map(tuple, campaign.measured[["gene_a", "gene_b"]].to_numpy().tolist()))
        pend = campaign.pending
        if len(pend):
            taken |= set(map(tuple, pend[["gene_a", "gene_b"]].to_numpy().tolist()))
        left = [tuple(p) for p in self.library if tuple(p) not in taken]
        if not left:
            return None
        left = left[:n]
        nan = [None] * len(left)
        arms = [Arm(parameters={"gene_a": a, "gene_b": b}) for a, b in left]
        meta = {"batch": campaign.n_asked + 1, "node": self.name, "mean": nan, "std": nan,
                "acquisition": nan}
        return arms, meta

    # -- storage -------------------------------------------------------------------------
    @classmethod
    def serialize_init_args(cls, obj: PairGenerationNode) -> dict[str, Any]:
        """JSON-friendly init arguments (Ax storage)."""
        return {
            "name": obj.name,
            "library": obj.library,
            "transition_criteria": obj.transition_criteria,
        }

    @classmethod
    def deserialize_init_args(
        cls,
        args: dict[str, Any],
        decoder_registry: Any = None,
        class_decoder_registry: Any = None,
    ) -> dict[str, Any]:
        """Init arguments from their stored JSON (transition criteria decoded by Ax)."""
        from ax.storage.json_store.decoder import object_from_json

        kwargs: dict[str, Any] = {}
        if decoder_registry is not None:
            kwargs["decoder_registry"] = decoder_registry
        if class_decoder_registry is not None:
            kwargs["class_decoder_registry"] = class_decoder_registry
        return {
            "name": args["name"],
            "library": args.get("library"),
            "transition_criteria": object_from_json(args.get("transition_criteria"), **kwargs),
        }


def _pair(params: TParameterization) -> tuple[int, int]:
    a, b = int(params["gene_a"]), int(params["gene_b"])
    return (a, b) if a <= b else (b, a)


def _floats(values) -> list[float | None]:
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, dtype=float)]


def node_to_dict(node: PairGenerationNode) -> dict[str, Any]:
    """Ax JSON encoder entry for :class:`PairGenerationNode`."""
    return {"__type": type(node).__name__, **PairGenerationNode.serialize_init_args(node)}


def make_generation_strategy(
    library: Sequence[Sequence[int]] | None = None,
) -> GenerationStrategy:
    """``initial`` (library or uniform) then ``campaign`` (surrogate + acquisition).

    Args:
        library: Optional first library as ``(gene_a, gene_b)`` gene-index pairs.
    """
    initial = PairGenerationNode(
        "initial",
        library=library,
        transition_criteria=[
            MinTrials(threshold=1, transition_to="campaign", use_all_trials_in_exp=False)
        ],
    )
    return GenerationStrategy(
        name="naiad_bo", nodes=[initial, PairGenerationNode("campaign")]
    )
