"""Ax adapter: a gene-pair campaign living in an Ax ``Experiment`` (the only Ax importer).

* :mod:`~naiad_bo.ax.experiment`: the pair search space, metadata, objective, trials;
* :mod:`~naiad_bo.ax.generation`: the generation strategy (``initial`` then ``campaign``
  nodes) whose arms are :class:`~naiad_bo.campaign.Campaign` batches;
* :mod:`~naiad_bo.ax.storage`: SQL storage (SQLite default, any SQLAlchemy URL), one
  transaction per write, JSON export, :func:`load_experiment`;
* :mod:`~naiad_bo.ax.loop`: one lab round (attach results, propose the next batch trial),
  used by ``naiad-bo recommend``;
* :mod:`~naiad_bo.ax.status`: the campaign in a lab's words, discovery-over-rounds plot.

Why an ``ExternalGenerationNode`` and not Ax's modular BoTorch generator (measured):

* **Same picks as Campaign.** The node rebuilds a :class:`~naiad_bo.campaign.Campaign` from
  the experiment and returns its batch, so the Ax loop picks exactly what ``Campaign`` picks:
  ``benchmarks/ax_loop.py`` found 10/10 identical rounds (Norman, NAIAD + MPE, 2 seeds). The
  modular path fits on Ax-transformed data (Winsorize + BilogY + StandardizeY by default, a
  ``Normalize`` input transform, one-hot choices) and so trains a different model unless each
  default is overridden; and it failed for ``NaiadEnsemble`` at three layers in turn
  (``construct_inputs`` without ``single_effects``, the default input transform, no
  ``fit_botorch_model`` for the class), measured in botorch-ax-notes.md.
* **Exact top-q over every unmeasured, unpending pair.** Above 10,000 combinations Ax's
  acquisition optimiser switches to local search / ``optimize_acqf_mixed_alternating``
  (continuous relaxation with gradients), wrong for index-based models; the modular route
  needs a custom ``Acquisition.optimize`` for it anyway, plus registry entries for every class
  (model, acquisition, Acquisition subclass) in every saved generator run.
* **Cost.** Ax's own work per round with this node is 0.1-0.2 s on top of the campaign's fit
  and scoring (6,328 and 100,576 candidates); storage (1.3-2.1 s save, 0.9-1.5 s load per
  round, SQLite / PostgreSQL, on a loaded machine) stays below the fit (4.9-10.1 s) over 4
  rounds, but grows with the number of rounds (benchmarks/README.md).
* **What we give up**: Ax's model-based ``Client.predict`` and model-fit analyses (there is no
  Ax adapter); data-only analyses (``Client.summarize``, ``compute_analyses`` summaries) work.
  Our predictions are kept per arm in the generator run's ``gen_metadata``.
"""

from naiad_bo.ax.experiment import (
    FORMAT_VERSION,
    METRIC_NAME,
    ExperimentFormatError,
    ExperimentState,
    attach_rows,
    create_experiment,
    experiment_settings,
    experiment_state,
    pair_search_space,
)
from naiad_bo.ax.generation import PairGenerationNode, build_campaign, make_generation_strategy
from naiad_bo.ax.storage import (
    Store,
    StoreError,
    export_json,
    load_experiment,
    registry_bundle,
    resolve_store_url,
)

__all__ = [
    "FORMAT_VERSION",
    "METRIC_NAME",
    "ExperimentFormatError",
    "ExperimentState",
    "PairGenerationNode",
    "Store",
    "StoreError",
    "attach_rows",
    "build_campaign",
    "create_experiment",
    "experiment_settings",
    "experiment_state",
    "export_json",
    "load_experiment",
    "make_generation_strategy",
    "pair_search_space",
    "registry_bundle",
    "resolve_store_url",
]
