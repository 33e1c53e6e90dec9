r"""Semi-synthetic genome-scale pair screens, evaluated lazily per pair.

A :class:`SyntheticPairScreen` has ``M`` genes (20,000 and more: 2 x 10^8 pairs) whose
statistics come from a real screen (a bundled one by default), and whose pair values are
computed on demand from ``O(M r)`` state, so no pair table is ever built:

.. math::

    y_{ab} = c_0 + c_1 (y_a + y_b) + g\big(h_{ab}\big), \qquad
    h_{ab} = \sqrt{1 - \rho}\, \frac{u_a \cdot v_b + u_b \cdot v_a}{\sqrt{2 r}}
             + \sqrt{\rho}\, \varepsilon_{ab}

* **single effects** ``y_a``: ``M`` draws from the source screen's single effects (inverse of
  their empirical distribution function, linearly interpolated: a smoothed bootstrap);
* **additive part** ``c0 + c1 (y_a + y_b)``: the source screen's least-squares additive fit
  (:meth:`~naiad_bo.PairScreen.summary`, ``additive_fit_coef``);
* **interaction** ``g(h_ab)``: a low-rank gene model (factors ``U, V ~ N(0, 1)``,
  ``M x r``; the symmetrised bilinear form has unit variance for every pair, same-gene pairs
  included) mixed with a pair-specific part ``eps_ab ~ N(0, 1)`` that is a counter-based hash
  of ``(seed, flat index)`` (so it is deterministic, symmetric and needs no storage). The
  monotone map ``g`` sends the quantiles of ``h`` (calibrated on ``n_calibration`` random pairs)
  to the quantiles of the source screen's interaction residuals
  ``y_ab - c0 - c1 (y_a + y_b)``; beyond the outermost calibration knots it continues linearly,
  so the genome-scale tail is not clipped into ties.

Values are symmetric in the two genes (the formula is), deterministic for a seed, and cost
``O(r)`` per pair. :meth:`SyntheticPairScreen.top_k` streams all pairs in chunks for the
true top-k of a campaign metric (memory ``O(chunk + k)``); :meth:`SyntheticPairScreen.pilot`
gives a :class:`~naiad_bo.PairScreen` holding the single effects and ``n`` measured pairs,
which a :class:`~naiad_bo.campaign.Campaign` takes as its screen, and
:class:`SyntheticOracle` measures what the campaign asks for.

Example::

    synth = SyntheticPairScreen(SyntheticScreenConfig(n_genes=20_000, seed=0))
    campaign = Campaign(synth.pilot(50_000, seed=1), surrogate="naiad", acquisition="mpe")
    batch = campaign.ask(10_000)
    campaign.tell(SyntheticOracle(synth).measure(batch[["gene_a", "gene_b"]].to_numpy()))
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from scipy.special import ndtri

from naiad_bo.data.screen import PairScreen
from naiad_bo.space import DEFAULT_CHUNK_SIZE, PairSet, PairSpace

__all__ = [
    "MAX_MATERIALIZED_PAIRS",
    "SyntheticOracle",
    "SyntheticPairScreen",
    "SyntheticScreenConfig",
]

#: Largest number of pairs :meth:`SyntheticPairScreen.materialize` builds a table for.
MAX_MATERIALIZED_PAIRS = 5_000_000

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True)
class SyntheticScreenConfig:
    """Settings of a :class:`SyntheticPairScreen`.

    Attributes:
        n_genes: Number of genes ``M`` (``>= 3``).
        rank: Rank ``r`` of the gene factor model of interactions.
        noise_fraction: Share ``rho`` of the interaction variance that is pair-specific (not
            explained by the gene factors), in ``[0, 1]``.
        seed: Seed of single effects, factors, pair noise and calibration.
        n_calibration: Random pairs used to calibrate the interaction quantile map.
        n_knots: Quantile knots of that map.
        include_self: Whether same-gene pairs ``(a, a)`` belong to the screen.
    """

    n_genes: int = 20_000
    rank: int = 8
    noise_fraction: float = 0.3
    seed: int = 0
    n_calibration: int = 200_000
    n_knots: int = 513
    include_self: bool = True

    def __post_init__(self) -> None:
        for name, low in (("n_genes", 3), ("rank", 1), ("seed", 0), ("n_calibration", 1000),
                          ("n_knots", 3)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not (isinstance(self.noise_fraction, int | float)
                and 0.0 <= float(self.noise_fraction) <= 1.0):
            raise ValueError(f"noise_fraction must be in [0, 1], got {self.noise_fraction!r}")
        if not isinstance(self.include_self, bool):
            raise TypeError(f"include_self must be a bool, got {self.include_self!r}")


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser of uint64 ``x`` (wrapping arithmetic): a counter-based hash."""
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


class SyntheticPairScreen:
    """A lazily evaluated pair screen with real single-effect and interaction statistics.

    Args:
        config: A :class:`SyntheticScreenConfig`.
        source: The :class:`~naiad_bo.PairScreen` whose statistics are used (default: the
            bundled ``horlbeck2018_k562``); its direction becomes the screen's.

    Attributes:
        config: The config.
        name: ``"synthetic-<source>-M<n_genes>-s<seed>"``.
        genes: ``["G00000", ...]`` gene names (index = gene id).
        single_effects: ``(M,)`` float64.
        additive_coef: ``(c0, c1)`` of the source's additive fit.
        factors: ``(U, V)``, each ``(M, r)`` float64.
        space: The :class:`~naiad_bo.space.PairSpace` of the screen.
        direction: The source's direction.
        control: ``"negative"``.
    """

    def __init__(self, config: SyntheticScreenConfig | None = None,
                 source: PairScreen | None = None) -> None:
        self.config = config if config is not None else SyntheticScreenConfig()
        if source is None:
            from naiad_bo.data.bundled import load_screen

            source = load_screen("horlbeck2018_k562")
        if not isinstance(source, PairScreen):
            raise TypeError(f"source must be a PairScreen, got {type(source).__name__}")
        if source.n_pairs < 10:
            raise ValueError(f"source screen {source.name!r} has {source.n_pairs} pair(s); "
                             "need at least 10 to take interaction statistics from")
        cfg = self.config
        m, r = int(cfg.n_genes), int(cfg.rank)
        self.source_name = source.name
        self.name = f"synthetic-{source.name}-M{m}-s{cfg.seed}"
        self.direction = source.direction
        self.control = "negative"
        width = max(5, len(str(m - 1)))
        self.genes = [f"G{i:0{width}d}" for i in range(m)]
        self.space = PairSpace(m, include_self=cfg.include_self)
        rng = np.random.default_rng([int(cfg.seed), 0x5CA1E])
        self.single_effects = _quantile_draw(source.single_effects, rng.random(m))
        self.factors = (rng.standard_normal((m, r)), rng.standard_normal((m, r)))
        self._noise_key = np.uint64(int(rng.integers(0, 2**63)))
        c0, c1 = (float(c) for c in source.summary()["additive_fit_coef"])
        self.additive_coef = (c0, c1)
        resid = source.y_values() - (c0 + c1 * source.additive_prediction())
        self.source_residuals = resid
        n_cal = min(int(cfg.n_calibration), self.space.n_pairs)
        cal_pairs = self.space.sample(n_cal, seed=rng).numpy()
        h = np.sort(self._latent(cal_pairs[:, 0], cal_pairs[:, 1],
                                 np.asarray(self.space.to_flat(cal_pairs))))
        probs = np.linspace(0.0, 1.0, int(cfg.n_knots))
        # knots strictly inside the sample (the extreme order statistics are noisy)
        probs = np.clip(probs, 1.0 / n_cal, 1.0 - 1.0 / n_cal)
        self._h_knots = np.quantile(h, probs)
        self._g_knots = np.quantile(resid, probs)
        # linear continuation beyond the ends: slope of the outermost ~1% of each tail
        w = max(2, int(cfg.n_knots) // 100)
        self._slope_lo = _safe_slope(self._g_knots[:w], self._h_knots[:w])
        self._slope_hi = _safe_slope(self._g_knots[-w:], self._h_knots[-w:])

    # ------------------------------------------------------------------ basic views
    @property
    def n_genes(self) -> int:
        """Number of genes ``M``."""
        return int(self.config.n_genes)

    @property
    def n_pairs(self) -> int:
        """Number of pairs of the screen (``M (M + 1) / 2`` with same-gene pairs)."""
        return self.space.n_pairs

    def __repr__(self) -> str:
        return (f"SyntheticPairScreen(name={self.name!r}, n_genes={self.n_genes}, "
                f"n_pairs={self.n_pairs:,}, rank={self.config.rank})")

    # ------------------------------------------------------------------ values
    def _latent(self, a: np.ndarray, b: np.ndarray, flat: np.ndarray) -> np.ndarray:
        r"""``h_ab`` (module docstring) of canonical pairs with flat indices ``flat``."""
        u, v = self.factors
        r = u.shape[1]
        ua, ub, va, vb = u[a], u[b], v[a], v[b]
        low = (np.einsum("ij,ij->i", ua, vb) + np.einsum("ij,ij->i", ub, va)) / math.sqrt(2 * r)
        rho = float(self.config.noise_fraction)
        if rho == 0.0:
            return low
        bits = _splitmix64(np.asarray(flat, dtype=np.uint64) ^ self._noise_key)
        unif = ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * 2.0**-53
        return math.sqrt(1.0 - rho) * low + math.sqrt(rho) * ndtri(unif)

    def _interaction_of_latent(self, h: np.ndarray) -> np.ndarray:
        hk, gk = self._h_knots, self._g_knots
        g = np.interp(h, hk, gk)
        lo, hi = h < hk[0], h > hk[-1]
        g[lo] = gk[0] + self._slope_lo * (h[lo] - hk[0])
        g[hi] = gk[-1] + self._slope_hi * (h[hi] - hk[-1])
        return g

    def _canonical(self, pairs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        arr = pairs.detach().cpu().numpy() if isinstance(pairs, torch.Tensor) else np.asarray(pairs)
        flat = np.asarray(self.space.to_flat(arr.reshape(-1, 2)), dtype=np.int64)  # validates
        arr = arr.reshape(-1, 2).astype(np.int64)
        return np.minimum(arr[:, 0], arr[:, 1]), np.maximum(arr[:, 0], arr[:, 1]), flat

    def interaction(self, pairs) -> np.ndarray:
        """Interaction ``g(h_ab)`` of ``(n, 2)`` gene-id pairs (either order): ``(n,)``."""
        a, b, flat = self._canonical(pairs)
        return self._interaction_of_latent(self._latent(a, b, flat))

    def values(self, pairs) -> np.ndarray:
        """Pair values ``y_ab`` of ``(n, 2)`` gene-id pairs (either order): float64 ``(n,)``.

        Raises:
            ValueError: a gene id outside ``[0, M)`` or a same-gene pair without
                ``include_self`` (from :meth:`~naiad_bo.space.PairSpace.to_flat`).
        """
        a, b, flat = self._canonical(pairs)
        return self._values(a, b, flat)

    def _values(self, a: np.ndarray, b: np.ndarray, flat: np.ndarray) -> np.ndarray:
        c0, c1 = self.additive_coef
        se = self.single_effects
        return c0 + c1 * (se[a] + se[b]) + self._interaction_of_latent(self._latent(a, b, flat))

    def iter_values(self, chunk_size: int = DEFAULT_CHUNK_SIZE, exclude=None
                    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(flat, pairs, y)`` numpy chunks over every pair (minus ``exclude``), flat order."""
        for flat, pairs in self.space.iter_chunks(chunk_size, exclude=exclude):
            f, p = flat.numpy(), pairs.numpy()
            yield f, p, self._values(p[:, 0], p[:, 1], f)

    # ------------------------------------------------------------------ metric support
    def top_k(self, k: int, chunk_size: int = 2**20) -> pd.DataFrame:
        """The true ``k`` strongest pairs (under :attr:`direction`), streamed in chunks.

        Exact: every pair is evaluated once; ties are broken by flat index (lower first).
        Memory ``O(chunk_size + k)``.

        Returns:
            ``gene_a, gene_b, y`` rows, strongest first.
        """
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        k = min(int(k), self.n_pairs)
        best_s = np.empty(0)
        best_f = np.empty(0, dtype=np.int64)
        for flat, _, y in self.iter_values(chunk_size):
            s = np.concatenate([best_s, self.direction.strength(y)])
            f = np.concatenate([best_f, flat])
            if len(s) > k:
                # order by (-strength, flat): exact, stable in flat order
                keep = np.argpartition(-s, k - 1)[:k]
                kth = s[keep].min()
                above = np.flatnonzero(s > kth)
                tied = np.flatnonzero(s == kth)
                tied = tied[np.argsort(f[tied], kind="stable")][: k - len(above)]
                keep = np.concatenate([above, tied])
                s, f = s[keep], f[keep]
            best_s, best_f = s, f
        order = np.lexsort((best_f, -best_s))
        best_f = best_f[order]
        pairs = np.asarray(self.space.from_flat(best_f), dtype=np.int64).reshape(-1, 2)
        y = self._values(pairs[:, 0], pairs[:, 1], best_f)
        return pd.DataFrame({"gene_a": pairs[:, 0], "gene_b": pairs[:, 1], "y": y})

    # ------------------------------------------------------------------ screens
    def pilot(self, n: int, seed: int = 0) -> PairScreen:
        """A :class:`~naiad_bo.PairScreen` with the single effects and ``n`` measured pairs.

        The pairs are drawn uniformly without replacement (:meth:`PairSpace.sample`), so a
        :class:`~naiad_bo.campaign.Campaign` built on the result starts from ``n`` measured
        pairs of this screen.
        """
        pairs = np.sort(self.space.sample(int(n), seed=seed).numpy(), axis=1)
        order = np.lexsort((pairs[:, 1], pairs[:, 0]))
        return self._screen(pairs[order], name=f"{self.name}-pilot{n}")

    def materialize(self) -> PairScreen:
        """Every pair as one :class:`~naiad_bo.PairScreen` (small ``M`` only).

        Raises:
            ValueError: more than :data:`MAX_MATERIALIZED_PAIRS` pairs.
        """
        if self.n_pairs > MAX_MATERIALIZED_PAIRS:
            raise ValueError(
                f"{self.name} has {self.n_pairs:,} pairs, more than MAX_MATERIALIZED_PAIRS = "
                f"{MAX_MATERIALIZED_PAIRS:,}; use values(), iter_values() or top_k()")
        pairs = np.asarray(self.space.from_flat(np.arange(self.n_pairs)), dtype=np.int64)
        return self._screen(pairs.reshape(-1, 2), name=self.name)

    def _screen(self, pairs: np.ndarray, name: str) -> PairScreen:
        names = np.array(self.genes, dtype=object)
        y = self.values(pairs) if len(pairs) else np.empty(0)
        frame = pd.DataFrame({
            "gene_a": pairs[:, 0], "gene_b": pairs[:, 1], "id1": names[pairs[:, 0]],
            "id2": names[pairs[:, 1]], "y": y, "n_obs": np.ones(len(pairs), dtype=np.int64),
            "sd": np.full(len(pairs), np.nan),
        })
        return PairScreen(
            self.genes, self.single_effects, frame, name=name, direction=self.direction,
            control=self.control,
            metadata={"source": f"SyntheticPairScreen({self.config}, source={self.source_name})"},
        )


class SyntheticOracle:
    """Measures asked pairs of a :class:`SyntheticPairScreen` (the lab of a scale campaign).

    Args:
        screen: The synthetic screen; every pair of its space can be answered.
    """

    def __init__(self, screen: SyntheticPairScreen) -> None:
        self.screen = screen
        self.genes = np.array(screen.genes, dtype=object)

    def measure(self, pairs) -> pd.DataFrame:
        """``id1, id2, score`` rows of ``(n, 2)`` gene-id pairs (in that order)."""
        arr = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        y = self.screen.values(arr)
        return pd.DataFrame({"id1": self.genes[arr[:, 0]], "id2": self.genes[arr[:, 1]],
                             "score": y})

    def measured_set(self, pairs) -> PairSet:
        """The pairs as a :class:`~naiad_bo.space.PairSet` of the screen's space."""
        return PairSet(self.screen.space, np.asarray(pairs, dtype=np.int64).reshape(-1, 2))


def _quantile_draw(values: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse empirical CDF of ``values`` (linear between order statistics) at ``u``."""
    v = np.sort(np.asarray(values, dtype=np.float64))
    return np.interp(u * (len(v) - 1), np.arange(len(v)), v)


def _safe_slope(g: np.ndarray, h: np.ndarray) -> float:
    dh = float(h[-1] - h[0])
    return float(g[-1] - g[0]) / dh if dh > 0 else 0.0

