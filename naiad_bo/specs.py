"""One spec grammar for surrogates and acquisitions (API, CLI, campaigns, benchmarks).

A *spec* names a registered class and its options in one string::

    NAME[:PART[:PART...]]

* ``NAME`` is looked up in :data:`naiad_bo.models.registry.MODELS` (surrogates) or
  :data:`naiad_bo.acquisition.registry.ACQUISITIONS` (acquisitions), case-insensitive.
* A ``PART`` containing ``=`` is a comma-separated list of ``KEY=VALUE`` options
  (:func:`parse_options`): values are read as Python literals (``3``, ``1e-3``, ``None``,
  ``[64, 64]``, ``'text'``), anything else is kept as a string; ``-`` in a key is read as
  ``_``. Commas inside brackets or quotes do not split.
* The other parts, rejoined with ``:``, form **one positional argument**, passed as the
  keyword named by the class attribute ``spec_argument``. With ``DescriptorGP.spec_argument =
  "descriptors"``, ``gp:string+go`` builds ``DescriptorGP(..., descriptors="string+go")`` and
  ``gp:network:/x/edges.csv:lengthscale=2`` builds it with
  ``descriptors="network:/x/edges.csv", lengthscale=2``. A class without ``spec_argument``
  given a positional part is an error (:class:`SpecError`).

Examples: ``"naiad"``, ``"naiad:epochs=100,n_members=3"``, ``"mpe:max_per_gene=8"``,
``"ucb:kappa=2.0"``.

Instead of a string, a spec may be a class (``NaiadEnsemble``, any class with the surrogate
contract ``Cls(single_effects, seed=..., **options)``, ``.fit(X, Y)``, ``.posterior(X)``), a
factory function with that signature, or an already parsed spec. Surrogates are built by
:meth:`SurrogateSpec.build` as ``cls(single_effects, seed=seed, **options)``, plus
``genes=tuple(gene names)`` when the class sets ``requires_genes = True`` (a model that aligns
gene descriptors by name). Bad names, options and option values are one-line
:class:`SpecError` messages that name the spec.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "DEFAULT_SURROGATE",
    "SELECT_OPTIONS",
    "AcquisitionSpec",
    "SpecError",
    "SurrogateSpec",
    "parse_options",
    "parse_value",
]

#: The surrogate of every campaign that names none (``Campaign``, the simulator, ``naiad-bo
#: simulate`` / ``recommend``, the Ax loop): NAIAD with the reference implementation's member
#: network (:class:`~naiad_bo.models.ReferenceNaiadEnsemble`). It found more of the top pairs
#: than ``"naiad"`` (:class:`~naiad_bo.models.NaiadEnsemble`) on gene-subsampled screens of
#: both bundled screens, on fresh confirmation subsets and seeds, on both full screens and on a
#: more additive K562, at equal or lower Table-1 RMSE (``benchmarks/README.md``, "The
#: reference member network"); its K562 round costs ~10x ``"naiad"``'s (23.4 s vs 2.4 s; fits
#: ~15x), ~18x with its default variance calibration (42.8 s), so ``"naiad"`` stays the fast
#: choice (and the genome-scale round's default).
DEFAULT_SURROGATE = "naiad-reference"

#: Options of :func:`~naiad_bo.acquisition.select_batch` that an :class:`AcquisitionSpec`
#: routes to the batch selection (every other option goes to the acquisition).
SELECT_OPTIONS = frozenset({"max_per_gene"})


class SpecError(ValueError):
    """A malformed spec, an unknown option, or an option value the class rejects."""


# ---------------------------------------------------------------------------- KEY=VALUE
def parse_value(raw: str) -> Any:
    """A Python literal (``3``, ``0.5``, ``None``, ``[1, 2]``, ``'a'``), else the string."""
    raw = raw.strip()
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return raw


def _split_top_level(text: str, sep: str = ",") -> list[str]:
    """Split on ``sep`` outside brackets and quotes."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse_options(items: str | Iterable[str], what: str = "option") -> dict[str, Any]:
    """Parse ``KEY=VALUE`` options (the one option parser of the package).

    Args:
        items: ``"k=v,k2=v2"`` or an iterable of such strings (e.g. repeated CLI flags).
        what: Name used in error messages (``"--surrogate-option"``, ``"spec 'naiad:...'"``).

    Returns:
        ``{key: value}`` with values read by :func:`parse_value`; later keys win.

    Raises:
        SpecError: an item without ``=`` or with an empty / non-identifier key.
    """
    if isinstance(items, str):
        items = [items]
    out: dict[str, Any] = {}
    for chunk in items:
        for item in _split_top_level(str(chunk)):
            item = item.strip()
            if not item:
                continue
            key, eq, raw = item.partition("=")
            key = key.strip().replace("-", "_")
            if not eq or not key.isidentifier():
                raise SpecError(f"bad {what} {item!r}: expected KEY=VALUE")
            out[key] = parse_value(raw)
    return out


def _split_spec(text: str, kind: str) -> tuple[str, str | None, dict[str, Any]]:
    """``NAME[:PART...]`` -> ``(name, positional or None, options)``."""
    name, *parts = text.split(":")
    name = name.strip()
    if not name:
        raise SpecError(f"empty {kind} name in spec {text!r}")
    positional: list[str] = []
    options: dict[str, Any] = {}
    for part in parts:
        if "=" in part:
            options.update(parse_options(part, f"option in {kind} spec {text!r}"))
        else:
            positional.append(part)
    arg = ":".join(positional).strip() if positional else None
    if positional and not arg:
        raise SpecError(f"empty positional part in {kind} spec {text!r}")
    return name, arg, options


def _one_line(err: BaseException) -> str:
    msg = str(err).strip().splitlines()
    return msg[0] if msg else type(err).__name__


def _positional_keyword(target: Any, arg: str | None, kind: str, text: str) -> dict[str, Any]:
    if arg is None:
        return {}
    keyword = getattr(target, "spec_argument", None)
    if not keyword:
        label = getattr(target, "__name__", type(target).__name__)
        raise SpecError(
            f"{kind} spec {text!r}: {label} takes no positional part ({arg!r}); give "
            "options as KEY=VALUE"
        )
    return {str(keyword): arg}


def _frozen(mapping: Mapping[str, Any] | None) -> dict[str, Any]:
    return dict(mapping or {})


# ---------------------------------------------------------------------------- surrogate
@dataclass(frozen=True)
class SurrogateSpec:
    """A surrogate as a campaign builds it: class or factory plus constructor options.

    Args:
        surrogate: Registry name (``"naiad"``, ``"linear"``, ``"sum"``, ...), a class with the
            surrogate contract, or a factory ``f(single_effects, seed=..., **options)``.
        options: Constructor keyword arguments (the positional spec part is already in here,
            under the class's ``spec_argument``).
        label: Name in records (default: the spec text, or the class / factory name).
        text: The spec string it was parsed from (``None`` for a class or factory).
    """

    surrogate: str | type | Callable
    options: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None
    text: str | None = None

    @classmethod
    def parse(
        cls,
        spec: SurrogateSpec | str | type | Callable,
        options: Mapping[str, Any] | None = None,
        label: str | None = None,
    ) -> SurrogateSpec:
        """A spec from a spec, a ``NAME[:PART...]`` string, a class or a factory.

        Args:
            spec: What to parse (see the module docstring for the grammar).
            options: Extra options merged over those of the string (e.g. the CLI's
                ``--surrogate-option`` flags).
            label: Name in records.

        Raises:
            SpecError: malformed string, positional part for a class without
                ``spec_argument``; :class:`~naiad_bo.models.registry.UnknownModelError` for
                an unknown name.
        """
        extra = _frozen(options)
        if isinstance(spec, SurrogateSpec):
            if not extra and label is None:
                return spec
            return cls(spec.surrogate, {**spec.options, **extra}, label or spec.label, spec.text)
        if isinstance(spec, str):
            text = spec.strip()
            name, arg, opts = _split_spec(text, "surrogate")
            from naiad_bo.models.registry import get_model_class

            target = get_model_class(name)
            opts = {**_positional_keyword(target, arg, "surrogate", text), **opts, **extra}
            return cls(name.lower(), opts, label, text)
        if callable(spec):
            return cls(spec, extra, label)
        raise TypeError(
            "surrogate must be a registry name / spec string, a model class or a factory, got "
            f"{type(spec).__name__}"
        )

    @property
    def name(self) -> str:
        """Label used in records."""
        if self.label:
            return self.label
        if isinstance(self.surrogate, str):
            return self.text.lower() if self.text else self.surrogate
        return getattr(self.surrogate, "__name__", type(self.surrogate).__name__)

    def resolve(self) -> type | Callable:
        """The class (registry lookup for names) or the factory."""
        if isinstance(self.surrogate, str):
            from naiad_bo.models.registry import get_model_class

            return get_model_class(self.surrogate)
        return self.surrogate

    def for_mean_only(self) -> SurrogateSpec:
        """The spec to fit when only the posterior mean is read (an MPE simulation).

        A class with ``mean_only_options`` (the pair ensembles: a default variance
        calibration is skipped, the mean stays bit for bit) gets those options; any other
        class or factory, and options that already name the calibration, stay as they are.
        The label in records is unchanged.
        """
        target = self.resolve()
        hook = getattr(target, "mean_only_options", None)
        if hook is None:
            return self
        options = hook(dict(self.options))
        if options == dict(self.options):
            return self
        return SurrogateSpec(self.surrogate, _frozen(options), self.name, self.text)

    def build(self, single_effects: Any, *, seed: int, genes: Sequence[str] | None = None) -> Any:
        """An unfitted surrogate: ``cls(single_effects, seed=seed, **options)``.

        ``genes=tuple(genes)`` is added when the class sets ``requires_genes = True``.

        Raises:
            SpecError: the class rejects the options (unknown keyword, bad value), or it
                needs gene names and none were given.
        """
        target = self.resolve()
        kwargs = dict(self.options)
        if getattr(target, "requires_genes", False):
            if genes is None:
                raise SpecError(f"surrogate {self.name!r} needs gene names (requires_genes)")
            kwargs["genes"] = tuple(str(g) for g in genes)
        try:
            return target(single_effects, seed=seed, **kwargs)
        except (TypeError, ValueError) as err:
            raise SpecError(
                f"surrogate spec {self.name!r} with options {dict(self.options)}: "
                f"{_one_line(err)}"
            ) from err

    def describe(self) -> dict:
        """JSON-friendly description (``text`` is enough to rebuild a registry spec)."""
        return {"surrogate": self.name, "text": self.to_text(), "options": dict(self.options)}

    def to_text(self) -> str | None:
        """A spec string that parses back to an equal spec, or None for a class / factory."""
        if not isinstance(self.surrogate, str):
            return None
        return _to_text(self.surrogate, self.options)


# ---------------------------------------------------------------------------- acquisition
@dataclass(frozen=True)
class AcquisitionSpec:
    """An acquisition as a campaign uses it: class, its options, batch-selection options.

    Args:
        acquisition: Registry name (``"mpe"``, ``"ucb"``, ...) or an acquisition class with
            ``from_training_data``.
        options: The acquisition's own hyper-parameters (``kappa``, ``temperature``, ...).
        select_options: Options of :func:`~naiad_bo.acquisition.select_batch`
            (``max_per_gene``).
        label: Name in the records (default: the spec text, e.g. ``"mpe:max_per_gene=8"``,
            or the registry / class name).
    """

    acquisition: str | type
    options: Mapping[str, Any] = field(default_factory=dict)
    select_options: Mapping[str, Any] = field(default_factory=dict)
    label: str | None = None

    @classmethod
    def parse(
        cls, spec: AcquisitionSpec | str | type, options: Mapping[str, Any] | None = None
    ) -> AcquisitionSpec:
        """Accept a spec, a class, a name, or ``"NAME[:PART...]"`` (module grammar).

        ``max_per_gene`` goes to the batch selection, any other key to the acquisition;
        ``options`` are merged over those of the string.
        """
        extra = _frozen(options)
        if isinstance(spec, AcquisitionSpec):
            if not extra:
                return spec
            merged = {**spec.options, **spec.select_options, **extra}
            return cls._split(spec.acquisition, merged, spec.label)
        if isinstance(spec, type):
            return cls._split(spec, extra, None)
        if not isinstance(spec, str):
            raise TypeError(
                f"acquisition must be a name, a class or an AcquisitionSpec, got "
                f"{type(spec).__name__}"
            )
        text = spec.strip()
        name, arg, opts = _split_spec(text, "acquisition")
        from naiad_bo.acquisition.registry import get_acquisition_class

        target = get_acquisition_class(name)
        opts = {**_positional_keyword(target, arg, "acquisition", text), **opts, **extra}
        return cls._split(name, opts, text if ":" in text else None)

    @classmethod
    def _split(cls, acquisition: str | type, opts: Mapping[str, Any], label) -> AcquisitionSpec:
        select = {k: v for k, v in opts.items() if k in SELECT_OPTIONS}
        rest = {k: v for k, v in opts.items() if k not in SELECT_OPTIONS}
        return cls(acquisition, rest, select, label)

    @property
    def name(self) -> str:
        """Label used in records."""
        if self.label:
            return self.label
        if isinstance(self.acquisition, str):
            return self.acquisition.strip().lower()
        return self.acquisition.__name__

    def resolve(self) -> type:
        """The acquisition class (registry lookup for names)."""
        if isinstance(self.acquisition, str):
            from naiad_bo.acquisition.registry import get_acquisition_class

            return get_acquisition_class(self.acquisition)
        if not callable(getattr(self.acquisition, "from_training_data", None)):
            raise TypeError(
                f"{self.acquisition!r} has no from_training_data(model, train_X, train_Y, "
                "single_effects, direction=..., seed=...) constructor"
            )
        return self.acquisition

    @property
    def reads_only_mean(self) -> bool:
        """Whether the acquisition reads at most the posterior mean (MPE, uniform).

        True when its class declares ``requires`` (:class:`~naiad_bo.acquisition.base.
        PairAcquisition`) and that set holds nothing but ``"mean"``; a class without the
        declaration counts as reading everything.
        """
        requires = getattr(self.resolve(), "requires", None)
        return requires is not None and set(requires) <= {"mean"}

    def check_options(self) -> None:
        """Unknown option names (and bad selection options) fail before any model is fitted.

        Raises:
            SpecError: an option that neither ``from_training_data`` nor ``__init__`` takes,
                or a ``max_per_gene`` that is not a positive integer.
        """
        cls = self.resolve()
        if "max_per_gene" in self.select_options:
            from naiad_bo.acquisition.selection import _validate_cap

            try:
                _validate_cap(self.select_options["max_per_gene"])
            except (TypeError, ValueError) as err:
                raise SpecError(f"acquisition spec {self.name!r}: {_one_line(err)}") from err
        if not self.options:
            return
        params = set(inspect.signature(cls.from_training_data).parameters)
        params |= set(inspect.signature(cls.__init__).parameters)
        params -= {"self", "cls", "model", "options", "kwargs"}
        unknown = sorted(set(self.options) - params)
        if unknown:
            raise SpecError(
                f"acquisition {self.name!r} ({cls.__name__}) has no option(s) {unknown}; "
                f"known: {sorted(params - {'train_X', 'train_Y', 'single_effects'})}"
            )

    def build(self, model: Any, train_X: Any, train_Y: Any, single_effects: Any, *,
              direction: Any, seed: int) -> Any:
        """``cls.from_training_data(model, train_X, train_Y, single_effects, ...)``.

        Raises:
            SpecError: the class rejects an option name or value (a ``TypeError``, or a
                ``ValueError`` that is not about the model; those propagate unchanged).
        """
        from naiad_bo.acquisition.base import AcquisitionModelError

        cls = self.resolve()
        try:
            return cls.from_training_data(
                model, train_X, train_Y, single_effects, direction=direction, seed=seed,
                **dict(self.options),
            )
        except AcquisitionModelError:
            raise
        except (TypeError, ValueError) as err:
            if not self.options:
                raise
            raise SpecError(
                f"acquisition spec {self.name!r} with options {dict(self.options)}: "
                f"{_one_line(err)}"
            ) from err

    def to_text(self) -> str | None:
        """A spec string that parses back to an equal spec, or None for a class."""
        if not isinstance(self.acquisition, str):
            return None
        return _to_text(self.acquisition, {**self.options, **self.select_options})


def _to_text(name: str, options: Mapping[str, Any]) -> str:
    if not options:
        return name
    return name + ":" + ",".join(f"{k}={v!r}" for k, v in options.items())
