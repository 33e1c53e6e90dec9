"""One lab round through Ax: read the measured file, attach what is new, propose a batch trial.

:func:`recommend` is ``naiad-bo recommend``. The lab keeps **one cumulative measured file**
(``id1, id2, score``; single-gene rows pair a gene with a control name) and passes it every
round. Each call:

1. opens the store's experiment, or creates it from the file: its genes are the genes with a
   control row (sorted by name), their single effects the mean of those rows, and the file's
   pair rows are attached as the pilot (a completed data trial);
2. compares the file with the store (:func:`reconcile`) and attaches only the rows the store
   does not hold yet, so running it twice attaches nothing twice. Results for pending arms go
   to their batch trial, which is completed once all its arms have one; other pairs go to a
   completed ``extra`` data trial;
3. returns the pending batch if one is open (unless ``new_batch``), otherwise lets the
   generation strategy propose ``batch`` pairs as one new :class:`~ax.core.batch_trial.BatchTrial`;
4. writes ``NEXT.csv`` (``trial_index, rank, id1, id2, mean, std, acquisition``).

Policies for the measured file (every error names rows as 1-based data lines of the file, or
the genes, and nothing is written to the store):

* genes that are not in the experiment: error naming them (the gene set is fixed when the
  experiment is created; start a new experiment for a larger library);
* a row the store holds is missing from the file ("lost rows"): error listing them, the store
  is never silently reduced;
* a pair whose stored value differs from every value the file gives for it: error
  ("contradictory");
* the same pair with the same score twice in the file: one measurement, the copies are
  ignored and counted (``duplicates``); the same pair with *different* scores: replicates,
  each attached (the campaign trains on their mean);
* a single-gene row whose value differs from the experiment's single effect: error;
* missing or non-finite scores, unknown columns: error naming the lines.

Store writes are single transactions (:class:`~naiad_bo.ax.storage.Store`): a process killed at
any moment leaves the store before or after each write; the next call repairs the rest (it
re-attaches what the file holds, and returns the saved pending batch instead of proposing).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from naiad_bo.ax.checkpoints import checkpoint
from naiad_bo.ax.experiment import (
    EXTRA,
    PILOT,
    attach_rows,
    complete_finished_trials,
    create_experiment,
    experiment_settings,
    experiment_state,
)
from naiad_bo.ax.generation import GEN_METADATA_KEY, build_campaign, make_generation_strategy
from naiad_bo.ax.storage import Store
from naiad_bo.specs import DEFAULT_SURROGATE

__all__ = [
    "NEXT_COLUMNS",
    "MeasuredFile",
    "MeasuredFileError",
    "RecommendResult",
    "read_measured",
    "recommend",
    "reconcile",
]

#: Columns of ``NEXT.csv``.
NEXT_COLUMNS = ("trial_index", "rank", "id1", "id2", "mean", "std", "acquisition")
DEFAULT_CONTROLS = ("negative",)


class MeasuredFileError(ValueError):
    """The measured file is unreadable or disagrees with the store (message names rows)."""


@dataclass
class MeasuredFile:
    """A measured file split into pair rows and single-gene (control) rows.

    Attributes:
        path: The file.
        pairs: ``line, id1, id2, score`` pair rows (``line``: 1-based data line), exact
            duplicates removed.
        singles: ``line, gene, score`` rows pairing a gene with a control.
        duplicates: Pair rows dropped as exact copies of an earlier row.
    """

    path: Path
    pairs: pd.DataFrame
    singles: pd.DataFrame
    duplicates: int = 0


def _lines(lines, limit: int = 8) -> str:
    lines = [int(v) for v in lines]
    text = ", ".join(map(str, lines[:limit]))
    return text + (f" (+{len(lines) - limit} more)" if len(lines) > limit else "")


def read_measured(path: str | os.PathLike, controls: Sequence[str] = DEFAULT_CONTROLS
                  ) -> MeasuredFile:
    """Read ``id1, id2, score`` rows (CSV, or TSV by extension / sniffing).

    Raises:
        MeasuredFileError: missing file or columns, bad scores, control-control rows.
    """
    path = Path(path)
    if not path.exists():
        raise MeasuredFileError(f"measured file {str(path)!r} does not exist")
    sep = "\t" if path.suffix.lower() in (".tsv", ".tab") or path.name.endswith(".tsv.gz") \
        else None
    try:
        df = pd.read_csv(path, sep=sep, engine="python", dtype={"id1": str, "id2": str},
                         encoding="utf-8-sig")
    except Exception as err:
        raise MeasuredFileError(f"cannot read measured file {str(path)!r}: {err}") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ("id1", "id2", "score") if c not in df.columns]
    if missing:
        raise MeasuredFileError(
            f"measured file {str(path)!r} lacks column(s) {missing}; it needs id1, id2, score "
            f"(has {list(df.columns)})"
        )
    line = np.arange(1, len(df) + 1)
    id1 = df["id1"].fillna("").astype(str).str.strip().to_numpy(object)
    id2 = df["id2"].fillna("").astype(str).str.strip().to_numpy(object)
    score = pd.to_numeric(df["score"], errors="coerce").to_numpy(np.float64)
    bad = ~np.isfinite(score)
    if bad.any():
        raise MeasuredFileError(
            f"measured file {path.name}: missing or non-numeric score on data line(s) "
            f"{_lines(line[bad])}"
        )
    empty = (id1 == "") | (id2 == "")
    if empty.any():
        raise MeasuredFileError(
            f"measured file {path.name}: empty gene name on data line(s) {_lines(line[empty])}"
        )
    ctrl = {str(c).strip() for c in controls}
    c1 = np.isin(id1, list(ctrl))
    c2 = np.isin(id2, list(ctrl))
    both = c1 & c2
    if both.any():
        raise MeasuredFileError(
            f"measured file {path.name}: control-control row(s) on data line(s) "
            f"{_lines(line[both])}"
        )
    single = c1 ^ c2
    gene = np.where(c1, id2, id1)
    singles = pd.DataFrame({"line": line[single], "gene": gene[single],
                            "score": score[single]})
    pair = ~single
    a, b = id1[pair], id2[pair]
    lo = np.where(a <= b, a, b)
    hi = np.where(a <= b, b, a)
    pairs = pd.DataFrame({"line": line[pair], "id1": lo, "id2": hi, "score": score[pair]})
    dup = pairs.duplicated(subset=["id1", "id2", "score"], keep="first").to_numpy()
    return MeasuredFile(path, pairs[~dup].reset_index(drop=True), singles, int(dup.sum()))


@dataclass
class Reconciliation:
    """What the file adds to the store: ``new`` pair rows (gene indices and scores)."""

    new_pairs: np.ndarray
    new_scores: np.ndarray
    new_lines: np.ndarray
    n_known: int


def reconcile(experiment, measured: MeasuredFile) -> Reconciliation:
    """Check the measured file against the store's experiment; the rows to attach.

    Raises:
        MeasuredFileError: genes outside the experiment, lost or contradictory rows, changed
            single-gene effects (see the module docstring).
    """
    props = experiment_settings(experiment)
    genes = list(props["genes"])
    index = {g: i for i, g in enumerate(genes)}
    name = measured.path.name
    # genes outside the experiment
    used = pd.concat([measured.pairs["id1"], measured.pairs["id2"], measured.singles["gene"]])
    outside = sorted(set(used) - set(index))
    if outside:
        rows = measured.pairs[~measured.pairs["id1"].isin(index) |
                              ~measured.pairs["id2"].isin(index)]["line"].tolist()
        rows += measured.singles[~measured.singles["gene"].isin(index)]["line"].tolist()
        raise MeasuredFileError(
            f"measured file {name}: {len(outside)} gene(s) not in experiment "
            f"{experiment.name!r} ({len(genes)} genes fixed when it was created): "
            f"{outside[:10]}{' ...' if len(outside) > 10 else ''} on data line(s) "
            f"{_lines(sorted(rows))}. Start a new experiment (another --store or --experiment)"
            " for a larger gene set"
        )
    # single-gene effects must agree with the experiment's
    single = np.asarray(props["single_effects"], dtype=np.float64)
    if len(measured.singles):
        means = measured.singles.groupby("gene", sort=False)["score"].mean()
        ids = np.array([index[g] for g in means.index], dtype=np.int64)
        differ = ~np.isclose(means.to_numpy(), single[ids], rtol=1e-9, atol=1e-12)
        if differ.any():
            bad = [f"{g}: file {v:.6g}, experiment {single[index[g]]:.6g}"
                   for g, v in zip(means.index[differ], means.to_numpy()[differ])]
            raise MeasuredFileError(
                f"measured file {name}: single-gene effect(s) changed since the experiment "
                f"was created (they are fixed): {bad[:5]}"
            )
    # store rows must all be in the file
    stored = experiment_state(experiment).measured
    file_keys = list(zip(measured.pairs["id1"], measured.pairs["id2"],
                         measured.pairs["score"].astype(float)))
    file_set = set(file_keys)
    file_pairs = set((a, b) for a, b, _ in file_keys)
    lost, contradict = [], []
    for a, b, y in zip(stored["id1"], stored["id2"], stored["score"].astype(float)):
        if (a, b, y) in file_set:
            continue
        (contradict if (a, b) in file_pairs else lost).append((a, b, y))
    if contradict:
        shown = []
        for a, b, y in contradict[:5]:
            vals = measured.pairs[(measured.pairs["id1"] == a) & (measured.pairs["id2"] == b)]
            shown.append(f"{a}+{b}: store {y:.6g}, file {vals['score'].tolist()[:3]} on data "
                         f"line(s) {_lines(vals['line'])}")
        raise MeasuredFileError(
            f"measured file {name}: {len(contradict)} contradictory row(s), a stored result "
            f"differs from the file: {'; '.join(shown)}. Correct the file; the store keeps "
            "what it was given"
        )
    if lost:
        shown = ", ".join(f"{a}+{b}={y:.6g}" for a, b, y in lost[:8])
        raise MeasuredFileError(
            f"measured file {name}: {len(lost)} row(s) the store holds are missing from it "
            f"(lost rows?): {shown}{' ...' if len(lost) > 8 else ''}. Pass the cumulative "
            "file with every result so far; nothing was changed"
        )
    stored_set = set(zip(stored["id1"], stored["id2"], stored["score"].astype(float)))
    new = np.array([k not in stored_set for k in file_keys], dtype=bool)
    rows = measured.pairs[new]
    pairs = np.column_stack([rows["id1"].map(index).to_numpy(np.int64),
                             rows["id2"].map(index).to_numpy(np.int64)]).reshape(-1, 2)
    return Reconciliation(pairs, rows["score"].to_numpy(np.float64),
                          rows["line"].to_numpy(np.int64), int((~new).sum()))


@dataclass
class RecommendResult:
    """What :func:`recommend` did.

    Attributes:
        frame: The batch written to ``NEXT.csv`` (:data:`NEXT_COLUMNS`).
        created: The experiment was created by this call.
        attached: Result rows attached now (pilot included).
        already_stored: File rows the store already held.
        duplicates: Exact duplicate rows of the file, ignored.
        completed_trials: Batch trials completed by this call.
        new_batch: A new batch trial was proposed (False: the pending one was returned).
        trial_index: Index of the batch trial written.
        n_measured: Measured values in the store after the call.
        n_pending: Pairs waiting for results (the written batch included).
    """

    frame: pd.DataFrame
    created: bool = False
    attached: int = 0
    already_stored: int = 0
    duplicates: int = 0
    completed_trials: list[int] = field(default_factory=list)
    new_batch: bool = False
    trial_index: int | None = None
    n_measured: int = 0
    n_pending: int = 0

    def summary(self) -> str:
        """A few lines a lab reads."""
        out = []
        if self.created:
            out.append("created the experiment")
        out.append(f"attached {self.attached} new result row(s); {self.already_stored} "
                   f"already stored; {self.duplicates} duplicate row(s) ignored")
        if self.completed_trials:
            out.append(f"completed batch trial(s) {self.completed_trials}")
        what = "new batch" if self.new_batch else "pending batch (no new results for it yet)"
        out.append(f"{what}: trial {self.trial_index}, {len(self.frame)} pair(s); "
                   f"{self.n_measured} measured value(s), {self.n_pending} pair(s) pending")
        return "\n".join(out)


def _create(store: Store, name: str, measured: MeasuredFile, *, control: str,
            surrogate: str, acquisition: str, seed: int, self_pairs: bool,
            direction: str | None):
    singles = measured.singles
    if not len(singles):
        raise MeasuredFileError(
            f"measured file {measured.path.name}: no single-gene rows (a gene paired with the "
            f"control {control!r}); the first file defines the genes and their single effects"
        )
    means = singles.groupby("gene")["score"].mean().sort_index()
    genes = [str(g) for g in means.index]
    index = {g: i for i, g in enumerate(genes)}
    pairs = measured.pairs
    outside = sorted((set(pairs["id1"]) | set(pairs["id2"])) - set(index))
    if outside:
        rows = pairs[~pairs["id1"].isin(index) | ~pairs["id2"].isin(index)]["line"]
        raise MeasuredFileError(
            f"measured file {measured.path.name}: {len(outside)} gene(s) in pair rows have no "
            f"single-gene row with the control: {outside[:10]} (data line(s) {_lines(rows)})"
        )
    experiment = create_experiment(
        genes, means.to_numpy(np.float64), name=name, control=control, direction=direction,
        surrogate=surrogate, acquisition=acquisition, seed=seed, self_pairs=self_pairs,
    )
    build_campaign(experiment)  # bad specs / options fail before anything is saved
    return experiment


def recommend(
    store_url: str | os.PathLike | None,
    measured: str | os.PathLike,
    batch: int,
    out: str | os.PathLike,
    *,
    surrogate: str = DEFAULT_SURROGATE,
    acquisition: str = "mpe",
    seed: int = 0,
    controls: Sequence[str] = DEFAULT_CONTROLS,
    name: str = "campaign",
    new_batch: bool = False,
    self_pairs: bool = True,
    direction: str | None = None,
    library: Sequence[Sequence[str]] | None = None,
) -> RecommendResult:
    """Run one lab round (see the module docstring).

    Args:
        store_url: SQLAlchemy URL or SQLite path (``None``: ``./naiad_bo.sqlite``).
        measured: The cumulative measured file.
        batch: Pairs per new batch (``q >= 1``).
        out: Where to write the batch (CSV).
        surrogate, acquisition, seed, self_pairs, direction: Settings of a new experiment
            (an existing experiment keeps its own; differing values are an error).
        controls: Control names of single-gene rows.
        name: Experiment name in the store.
        new_batch: Propose a further batch although one is pending.
        library: Optional first library as gene-name pairs (used when nothing is measured).

    Raises:
        MeasuredFileError, StoreError, ExperimentFormatError, ValueError (bad ``batch``, a
        batch larger than the pairs left, settings that differ from the experiment's).
    """
    if isinstance(batch, bool) or not isinstance(batch, int | np.integer) or batch < 1:
        raise ValueError(f"--batch must be a positive integer, got {batch!r}")
    controls = [str(c).strip() for c in controls] or list(DEFAULT_CONTROLS)
    data = read_measured(measured, controls)
    store = Store(store_url)
    created = not store.has_experiment(name)
    if created:
        experiment = _create(store, name, data, control=controls[0], surrogate=surrogate,
                             acquisition=acquisition, seed=seed, self_pairs=self_pairs,
                             direction=direction)
        lib = None
        if library:
            index = {g: i for i, g in enumerate(experiment_settings(experiment)["genes"])}
            try:
                lib = [(index[a], index[b]) for a, b in library]
            except KeyError as err:
                raise ValueError(f"library gene {err.args[0]!r} is not in the experiment") \
                    from None
        gs = make_generation_strategy(lib)
    else:
        experiment, gs = store.load(name)
        _check_settings(experiment, surrogate=surrogate, acquisition=acquisition, seed=seed)
        if gs is None:
            gs = make_generation_strategy()
    rec = reconcile(experiment, data)
    result = RecommendResult(frame=pd.DataFrame(columns=list(NEXT_COLUMNS)), created=created,
                             already_stored=rec.n_known, duplicates=data.duplicates)
    touched = []
    if len(rec.new_scores):
        had_trials = len(experiment.trials)
        touched = attach_rows(experiment, rec.new_pairs, rec.new_scores,
                              kind=PILOT if created or not had_trials else EXTRA)
        result.attached = len(rec.new_scores)
    completed = complete_finished_trials(experiment)
    touched_idx = {t.index for t in touched}
    touched += [experiment.trials[i] for i in completed if i not in touched_idx]
    result.completed_trials = sorted(
        t.index for t in touched if t.status.is_completed and
        (t.run_metadata or {}).get("naiad_bo", "batch") == "batch"
    )
    checkpoint("attached")
    if created or touched:
        store.save(experiment, gs, touched, label="data")
    checkpoint("data-saved")

    state = experiment_state(experiment)
    if state.pending_trials and not new_batch:
        trial = experiment.trials[state.pending_trials[-1]]
        result.frame = _batch_frame(experiment, trial, only_open=True)
        result.trial_index = trial.index
    else:
        campaign = build_campaign(experiment)
        left = int(campaign.n_available())
        if batch > left:
            raise ValueError(
                f"--batch {batch} is larger than the {left:,} pair(s) left to propose "
                f"({campaign.n_measured:,} measured, {campaign.n_pending:,} pending); "
                "lower --batch"
            )
        gr = gs.gen_single_trial(experiment=experiment, n=int(batch))
        trial = experiment.new_batch_trial(generator_run=gr)
        trial.mark_running(no_runner_required=True)
        checkpoint("generated")
        store.save(experiment, gs, [trial], label="round")
        checkpoint("round-saved")
        result.frame = _batch_frame(experiment, trial, only_open=False)
        result.trial_index = trial.index
        result.new_batch = True
    state = experiment_state(experiment)
    result.n_measured = len(state.measured)
    result.n_pending = len(state.pending)
    write_csv_atomic(result.frame, out)
    return result


def _check_settings(experiment, **given: Any) -> None:
    props = experiment_settings(experiment)
    defaults = {"surrogate": DEFAULT_SURROGATE, "acquisition": "mpe", "seed": 0}
    differ = {k: (v, props[k]) for k, v in given.items()
              if v is not None and v != defaults[k] and v != props[k]}
    if differ:
        text = ", ".join(f"--{k} {v!r} (experiment: {s!r})" for k, (v, s) in differ.items())
        raise ValueError(
            f"experiment {experiment.name!r} was created with other settings: {text}; the "
            "settings are fixed per experiment (use another --experiment name to compare)"
        )


def _batch_frame(experiment, trial, only_open: bool) -> pd.DataFrame:
    """A batch trial as ``NEXT.csv`` rows (predictions from the generator run)."""
    genes = experiment_settings(experiment)["genes"]
    df = experiment.lookup_data(trial_indices=[trial.index]).df
    have = set(df["arm_name"]) if len(df) else set()
    meta = {}
    if trial.generator_runs:
        meta = (trial.generator_runs[0].gen_metadata or {}).get(GEN_METADATA_KEY, {}) or {}
    rows = []
    for rank, arm in enumerate(trial.arms, start=1):
        if only_open and arm.name in have:
            continue
        a, b = int(arm.parameters["gene_a"]), int(arm.parameters["gene_b"])

        def pick(key, i=rank - 1):
            vals = meta.get(key) or []
            v = vals[i] if i < len(vals) else None
            return float("nan") if v is None else float(v)

        rows.append({"trial_index": trial.index, "rank": rank, "id1": genes[a],
                     "id2": genes[b], "mean": pick("mean"), "std": pick("std"),
                     "acquisition": pick("acquisition")})
    return pd.DataFrame(rows, columns=list(NEXT_COLUMNS))


def write_csv_atomic(frame: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a CSV through a temporary file and a rename (never a half-written file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    frame.to_csv(tmp, index=False)
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path
