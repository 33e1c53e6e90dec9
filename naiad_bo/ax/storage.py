"""Ax SQL storage for pair experiments: SQLite by default, any SQLAlchemy URL for a team.

:class:`Store` opens a database through Ax's SQL storage (``ax.storage.sqa_store``), creates
the schema on first use, and saves an experiment with its generation strategy. Every custom
class naiad_bo puts into a store (:class:`~naiad_bo.ax.generation.PairGenerationNode`) is in
:func:`registry_bundle`, which :func:`load_experiment` and :class:`Store` always use, so a fresh
process reads everything back (Ax's own analyses run on the loaded experiment).

Crash safety: Ax saves a round in several commits (trials, then the trials' data, which it
deletes and re-inserts, then the generation strategy). A process killed between two of them
would leave completed trials without data, i.e. measured pairs that look unmeasured. Every
write here therefore runs in **one database transaction** (:meth:`Store.transaction`): Ax's
save functions share one session whose inner commits are deferred to the end, so a kill at
any moment leaves the store as it was before the write or after it (SQLite journal /
PostgreSQL transaction), never in between.

URLs: ``None`` means ``sqlite:///naiad_bo.sqlite`` in the working directory; a plain path
``x.sqlite`` means ``sqlite:///<absolute path>``; anything with ``://`` is passed to SQLAlchemy
(``postgresql+psycopg://user@host:5432/db`` with ``pip install naiad-bo[postgres]``).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ax.core.experiment import Experiment
from ax.generation_strategy.generation_strategy import GenerationStrategy
from ax.storage.registry_bundle import RegistryBundle

from naiad_bo.ax.checkpoints import checkpoint
from naiad_bo.ax.experiment import FORMAT_VERSION, experiment_settings
from naiad_bo.ax.generation import PairGenerationNode, node_to_dict

__all__ = [
    "DEFAULT_STORE",
    "EXPORT_FORMAT",
    "Store",
    "StoreError",
    "export_json",
    "load_experiment",
    "registry_bundle",
    "resolve_store_url",
]

#: File name of the default SQLite store (in the working directory).
DEFAULT_STORE = "naiad_bo.sqlite"
#: ``format`` field of :func:`export_json` files.
EXPORT_FORMAT = "naiad_bo.ax.export"

_CURRENT_URL: str | None = None


def _register_postgres_text() -> None:
    r"""Ax declares MySQL-sized ``TEXT(2**32 - 1)`` and ``VARCHAR(2**32 - 1)`` columns;
    PostgreSQL rejects a length on ``TEXT`` ("type modifier is not allowed") and caps
    ``VARCHAR`` at 10,485,760, so its DDL renders both as plain ``TEXT`` (unbounded there).
    Shorter ``VARCHAR``\ s and other dialects are unchanged."""
    from sqlalchemy.ext.compiler import compiles
    from sqlalchemy.types import String, Text

    @compiles(Text, "postgresql")
    def _text(element, compiler, **kw):
        return "TEXT"

    @compiles(String, "postgresql")
    def _string(element, compiler, **kw):
        if element.length is not None and element.length > 10_485_760:
            return "TEXT"
        return compiler.visit_VARCHAR(element, **kw)


_register_postgres_text()


class StoreError(RuntimeError):
    """A store cannot be opened, written or read (the message names the URL)."""


def resolve_store_url(url: str | os.PathLike | None) -> str:
    """A SQLAlchemy URL for a URL, a file path, or ``None`` (the default SQLite file)."""
    if url is None:
        url = DEFAULT_STORE
    url = os.fspath(url)
    if "://" in url:
        return url
    return "sqlite:///" + str(Path(url).expanduser().resolve())


def registry_bundle() -> RegistryBundle:
    """Ax registries with every naiad_bo class a store can hold."""
    from ax.storage.json_store.registry import (
        CORE_CLASS_DECODER_REGISTRY,
        CORE_CLASS_ENCODER_REGISTRY,
        CORE_DECODER_REGISTRY,
        CORE_ENCODER_REGISTRY,
    )
    from ax.storage.metric_registry import CORE_METRIC_REGISTRY
    from ax.storage.runner_registry import CORE_RUNNER_REGISTRY

    return RegistryBundle(
        metric_clss=dict(CORE_METRIC_REGISTRY),
        runner_clss=dict(CORE_RUNNER_REGISTRY),
        json_encoder_registry={**CORE_ENCODER_REGISTRY, PairGenerationNode: node_to_dict},
        json_class_encoder_registry=dict(CORE_CLASS_ENCODER_REGISTRY),
        json_decoder_registry={**CORE_DECODER_REGISTRY, "PairGenerationNode": PairGenerationNode},
        json_class_decoder_registry=dict(CORE_CLASS_DECODER_REGISTRY),
    )


def _display(url: str) -> str:
    """The URL without a password."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # pragma: no cover - unparsable URLs are reported as given
        return url


class Store:
    """An Ax SQL store (see the module docstring).

    Args:
        url: SQLAlchemy URL, file path, or ``None`` for ``./naiad_bo.sqlite``.
        create: Create the file / schema if missing (``False``: a missing SQLite file is an
            error, nothing is written).

    Raises:
        StoreError: the database cannot be reached or created (driver missing, server down,
            directory not writable, not a database).
    """

    def __init__(self, url: str | os.PathLike | None = None, *, create: bool = True) -> None:
        self.url = resolve_store_url(url)
        self.display_url = _display(self.url)
        if self.url.startswith("sqlite:///") and not create:
            path = Path(self.url[len("sqlite:///"):])
            if not path.exists():
                raise StoreError(f"store {self.display_url}: no such file {str(path)!r}")
        self.bundle = registry_bundle()
        self.encoder = self.bundle.encoder
        self.decoder = self.bundle.decoder
        self._activate()
        if create:
            self._create_schema()

    # -- engine --------------------------------------------------------------------------
    def _activate(self) -> None:
        """Point Ax's (process-global) session factory at this store."""
        global _CURRENT_URL
        from ax.storage.sqa_store import db

        if _CURRENT_URL == self.url and db.SESSION_FACTORY is not None:
            return
        try:
            db.init_engine_and_session_factory(url=self.url, force_init=True)
            with db.get_engine().connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except Exception as err:
            db.SESSION_FACTORY = None
            _CURRENT_URL = None
            raise StoreError(
                f"cannot open store {self.display_url}: {_reason(err)}"
            ) from None
        _CURRENT_URL = self.url

    def _create_schema(self) -> None:
        from ax.storage.sqa_store import db

        try:
            db.create_all_tables(db.get_engine())
        except Exception as err:
            raise StoreError(
                f"cannot create the Ax schema in store {self.display_url}: {_reason(err)}"
            ) from None

    @contextlib.contextmanager
    def transaction(self, label: str = "write") -> Iterator[None]:
        """Run Ax saves inside one database transaction (all or nothing).

        Args:
            label: Name of the test pause point ``commit:LABEL`` just before COMMIT
                (:mod:`naiad_bo.ax.checkpoints`).
        """
        from ax.storage.sqa_store import db, save

        self._activate()
        session = db.get_session()

        @contextlib.contextmanager
        def shared_scope():
            yield session
            session.flush()

        original = save.session_scope
        save.session_scope = shared_scope
        try:
            yield
            session.flush()
            checkpoint(f"commit:{label}")
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            save.session_scope = original
            session.close()

    # -- reading -------------------------------------------------------------------------
    def experiment_names(self) -> list[str]:
        """Names of the experiments in the store."""
        from ax.storage.sqa_store.db import session_scope
        from ax.storage.sqa_store.sqa_classes import SQAExperiment

        self._activate()
        try:
            with session_scope() as session:
                return sorted(r[0] for r in session.query(SQAExperiment.name).all())
        except Exception as err:
            raise StoreError(f"cannot read store {self.display_url}: {_reason(err)}") from None

    def has_experiment(self, name: str) -> bool:
        """Whether an experiment named ``name`` is stored."""
        return name in self.experiment_names()

    def load(self, name: str | None = None) -> tuple[Experiment, GenerationStrategy | None]:
        """The experiment (format-checked) and its generation strategy.

        Args:
            name: Experiment name; default: the store's only experiment.

        Raises:
            StoreError: no such experiment, or several and no name.
            ExperimentFormatError: not a naiad_bo experiment or another format version.
        """
        from ax.exceptions.core import ObjectNotFoundError
        from ax.storage.sqa_store.load import (
            _load_experiment,
            _load_generation_strategy_by_experiment_name,
        )

        name = self._pick(name)
        self._activate()
        experiment = _load_experiment(name, decoder=self.decoder)
        experiment_settings(experiment)  # format check before anything uses it
        try:
            gs = _load_generation_strategy_by_experiment_name(
                experiment_name=name, decoder=self.decoder, experiment=experiment
            )
        except ObjectNotFoundError:
            gs = None
        return experiment, gs

    def _pick(self, name: str | None) -> str:
        names = self.experiment_names()
        if name is None:
            if len(names) == 1:
                return names[0]
            if not names:
                raise StoreError(f"store {self.display_url} holds no experiment")
            raise StoreError(
                f"store {self.display_url} holds {len(names)} experiments {names}; name one"
            )
        if name not in names:
            raise StoreError(
                f"store {self.display_url} has no experiment {name!r} (it has {names})"
            )
        return name

    # -- writing -------------------------------------------------------------------------
    def save(
        self,
        experiment: Experiment,
        generation_strategy: GenerationStrategy | None = None,
        trials: list | None = None,
        label: str = "write",
    ) -> None:
        """Save in one transaction: the experiment (the first time), the generation strategy
        (with its generator runs), then the given new or changed trials and their data.

        Raises:
            StoreError: the database refused the write (read-only file, permissions).
        """
        from ax.storage.sqa_store.save import (
            _save_experiment,
            _save_generation_strategy,
            _save_or_update_trials,
        )

        try:
            with self.transaction(label):
                if experiment.db_id is None:
                    _save_experiment(experiment, encoder=self.encoder, decoder=self.decoder)
                if generation_strategy is not None:
                    if generation_strategy._experiment is None:
                        generation_strategy.experiment = experiment
                    _save_generation_strategy(
                        generation_strategy, encoder=self.encoder, decoder=self.decoder
                    )
                if trials:
                    # one entry per trial: Ax would insert a new trial listed twice twice
                    unique = list({t.index: t for t in trials}.values())
                    _save_or_update_trials(
                        experiment=experiment, trials=unique, encoder=self.encoder,
                        decoder=self.decoder,
                    )
        except StoreError:
            raise
        except Exception as err:
            if _is_db_error(err):
                raise StoreError(
                    f"cannot write store {self.display_url}: {_reason(err)}"
                ) from None
            raise

    def export_json(self, path: str | os.PathLike, name: str | None = None) -> Path:
        """Write the experiment and generation strategy as one JSON file (see
        :func:`export_json`)."""
        experiment, gs = self.load(name)
        return export_json(experiment, gs, path)


def export_json(
    experiment: Experiment, generation_strategy: GenerationStrategy | None,
    path: str | os.PathLike,
) -> Path:
    """Archive an experiment (and generation strategy) as strict JSON (no NaN literals).

    The file holds ``format`` (:data:`EXPORT_FORMAT`), ``format_version``, the naiad_bo
    metadata in plain JSON, and Ax's own JSON encoding of the experiment and generation
    strategy (``ax.storage.json_store``), which Ax's JSON decoder (with
    :func:`registry_bundle`'s registries) reads back.
    """
    from ax.storage.json_store.encoder import object_to_json

    bundle = registry_bundle()
    kw = {"encoder_registry": bundle.encoder_registry,
          "class_encoder_registry": bundle.class_encoder_registry}
    settings = experiment_settings(experiment)
    doc = {
        "format": EXPORT_FORMAT,
        "format_version": FORMAT_VERSION,
        "experiment_name": experiment.name,
        "naiad_bo": settings,
        "experiment": object_to_json(experiment, **kw),
        "generation_strategy": (
            None if generation_strategy is None else object_to_json(generation_strategy, **kw)
        ),
    }
    text = json.dumps(_strict(doc), indent=1, allow_nan=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text + "\n")
    os.replace(tmp, path)
    return path


def _strict(obj: Any) -> Any:
    """Replace non-finite floats by ``None`` (strict JSON)."""
    if isinstance(obj, float):
        return obj if obj == obj and obj not in (float("inf"), float("-inf")) else None
    if isinstance(obj, dict):
        return {k: _strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_strict(v) for v in obj]
    return obj


def load_experiment(store_url: str | os.PathLike | None = None, name: str | None = None
                    ) -> Experiment:
    """The :class:`ax.core.Experiment` of a store, every naiad_bo class registered.

    Args:
        store_url: SQLAlchemy URL or SQLite path (default ``./naiad_bo.sqlite``).
        name: Experiment name (default: the store's only experiment).
    """
    return Store(store_url, create=False).load(name)[0]


def _is_db_error(err: BaseException) -> bool:
    try:
        from sqlalchemy.exc import SQLAlchemyError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(err, SQLAlchemyError | OSError)


def _reason(err: BaseException) -> str:
    """One line: the database driver's message without SQLAlchemy's boilerplate."""
    orig = getattr(err, "orig", None)
    text = str(orig if orig is not None else err).strip().splitlines()
    line = text[0] if text else type(err).__name__
    if isinstance(err, ModuleNotFoundError | ImportError) or "No module named" in line:
        line += " (PostgreSQL needs the driver: pip install 'naiad-bo[postgres]')"
    return line
