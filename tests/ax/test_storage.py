"""naiad_bo/ax/storage.py: SQLite and PostgreSQL stores, fresh-process loads, JSON export."""

from __future__ import annotations

import json

import numpy as np
import pytest
from ax.storage.json_store.decoder import object_from_json

from naiad_bo.ax import (
    FORMAT_VERSION,
    ExperimentFormatError,
    Store,
    StoreError,
    attach_rows,
    create_experiment,
    experiment_state,
    load_experiment,
    make_generation_strategy,
    registry_bundle,
    resolve_store_url,
)


def _round_trip(url, small):
    """Create, attach a pilot, propose one batch trial, save; return what was saved."""
    exp = create_experiment(small.genes, small.single_effects, name="lab", surrogate="linear")
    gs = make_generation_strategy()
    store = Store(url)  # schema created on first use
    store.save(exp, gs)
    X, y = small.pair_index(), small.y_values()
    store.save(exp, gs, attach_rows(exp, X[:12], y[:12], kind="pilot"))
    gr = gs.gen_single_trial(experiment=exp, n=6)
    trial = exp.new_batch_trial(generator_run=gr)
    trial.mark_running(no_runner_required=True)
    store.save(exp, gs, [trial])
    return exp, trial


def _check_loaded(exp, trial, loaded, gs):
    st, st0 = experiment_state(loaded), experiment_state(exp)
    np.testing.assert_array_equal(st.measured["score"], st0.measured["score"])  # exact
    np.testing.assert_array_equal(st.pending, st0.pending)
    assert st.n_asked == 1 and st.pending_trials == [trial.index]
    assert [type(n).__name__ for n in gs._nodes] == ["PairGenerationNode"] * 2
    # the first batch came from "initial"; the strategy moves on at the next gen
    assert gs.current_node_name == "initial"
    assert gs._nodes[0].transition_criteria[0].transition_to == "campaign"
    meta = loaded.trials[trial.index].generator_runs[0].gen_metadata["naiad_bo_pairs"]
    assert len(meta["mean"]) == 6
    # Ax's own analyses run on the loaded experiment
    from ax.analysis.summary import Summary
    from ax.api.client import Client

    client = Client()
    client.set_experiment(loaded)
    client.set_generation_strategy(gs)
    summary = client.summarize()
    assert len(summary) == 18 and summary["phenotype"].notna().sum() == 12
    assert len(client.compute_analyses([Summary()], display=False)) == 1


def test_sqlite_store_round_trip(tmp_path, small):
    path = tmp_path / "lab.sqlite"
    exp, trial = _round_trip(str(path), small)
    assert path.exists() and resolve_store_url(str(path)) == f"sqlite:///{path}"
    loaded, gs = Store(path, create=False).load()
    _check_loaded(exp, trial, loaded, gs)
    # (fresh processes loading a store: tests/ax/test_crash.py and the Ax tutorial)


def test_postgres_store(postgres, small):
    url = postgres.create_database("lab_store")
    exp, trial = _round_trip(url, small)
    loaded, gs = Store(url, create=False).load("lab")
    _check_loaded(exp, trial, loaded, gs)
    assert load_experiment(url).name == "lab"
    with pytest.raises(StoreError, match="does not exist"):
        Store(postgres.url("no_such_db"))


def test_json_export_is_strict_and_decodes(tmp_path, small):
    exp, trial = _round_trip(str(tmp_path / "s.sqlite"), small)
    out = Store(tmp_path / "s.sqlite").export_json(tmp_path / "arch" / "lab.json")
    text = out.read_text()
    assert "NaN" not in text  # sem is NaN in Ax data: written as null
    doc = json.loads(text)
    assert doc["format"] == "naiad_bo.ax.export" and doc["format_version"] == FORMAT_VERSION
    assert doc["naiad_bo"]["genes"] == list(small.genes)
    bundle = registry_bundle()
    back = object_from_json(doc["experiment"], decoder_registry=bundle.decoder_registry,
                            class_decoder_registry=bundle.class_decoder_registry)
    assert len(back.trials) == 2 and back._properties["genes"] == list(small.genes)


def test_store_errors_are_clear(tmp_path, small):
    with pytest.raises(StoreError, match="no such file"):
        Store(tmp_path / "missing.sqlite", create=False)
    with pytest.raises(StoreError, match="cannot open store"):
        Store(tmp_path / "no_dir" / "x.sqlite")
    with pytest.raises(StoreError, match="Connection refused|connection failed"):
        Store("postgresql+psycopg://postgres@127.0.0.1:1/x")
    not_db = tmp_path / "notes.sqlite"
    not_db.write_text("this is not a database\n" * 100)
    with pytest.raises(StoreError, match="not a database"):
        Store(not_db)
    empty = Store(tmp_path / "empty.sqlite")
    with pytest.raises(StoreError, match="holds no experiment"):
        empty.load()
    with pytest.raises(StoreError, match="no experiment 'x'"):
        empty.load("x")


def test_unwritable_store_is_a_clear_error_and_changes_nothing(tmp_path, small):
    """A store opened read-only (SQLite ``mode=ro``; file permissions do not stop root)."""
    path = tmp_path / "ro.sqlite"
    _round_trip(str(path), small)
    read_only = Store(f"sqlite:///file:{path}?mode=ro&uri=true")
    exp, gs = read_only.load()
    rows = attach_rows(exp, small.pair_index()[40:41], small.y_values()[40:41])
    with pytest.raises(StoreError, match="cannot write store .*readonly database"):
        read_only.save(exp, gs, rows)
    assert len(experiment_state(Store(path).load()[0]).measured) == 12


def test_store_from_another_format_version(tmp_path, small):
    path = tmp_path / "old.sqlite"
    exp = create_experiment(small.genes, small.single_effects, name="old")
    exp._properties["naiad_bo_format_version"] = 0
    Store(path).save(exp, make_generation_strategy())
    with pytest.raises(ExperimentFormatError, match="format version 0"):
        load_experiment(path)
