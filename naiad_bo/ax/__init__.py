"""Ax adapter: a gene-pair campaign living in an Ax ``Experiment`` (the only Ax importer).

* :mod:`~naiad_bo.ax.experiment`: the pair search space, metadata, objective, trials;
* :mod:`~naiad_bo.ax.generation`: the generation strategy (``initial`` then ``campaign``
  nodes) whose arms are :class:`~naiad_bo.campaign.Campaign` batches;
* :mod:`~naiad_bo.ax.storage`: SQL storage (SQLite default, any SQLAlchemy URL), one
  transaction per write, JSON export, :func:`load_experiment`;
* :mod:`~naiad_bo.ax.loop`: one lab round (attach results, propose the next batch trial),
  used by ``naiad-bo recommend``.
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
