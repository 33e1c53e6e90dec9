r"""Screens with their interactions scaled: more additive or more epistatic variants of a real one.

A pair's phenotype splits into the screen's least-squares additive fit and an interaction
residual,

.. math::

    y_{ab} = \underbrace{c_0 + c_1 (y_a + y_b)}_{\ell_{ab}} + r_{ab},
    \qquad y'_{ab} = \ell_{ab} + \lambda\, r_{ab},

with ``(c0, c1)`` fitted on every measured pair (:meth:`~naiad_bo.PairScreen.summary`,
``additive_fit_coef``) and ``y_a`` the single-gene effects, which stay as they are. With
``lambda < 1`` the strongest pairs follow the single effects more closely (the screen becomes
more additive), with ``lambda > 1`` less; ``lambda = 1`` returns the values unchanged and
``lambda = 0`` the additive fit itself. The hub genes, the pair set and the noise structure
are the real screen's, which makes these screens a cheap family of *unseen* screens of a
different kind for robustness studies (``benchmarks/robust_defaults.py``, phase
``additive``): e.g. on Horlbeck K562 the top-200 of the additive rule ``y_a + y_b`` holds 37
of the true top-200 pairs, at ``lambda = 0.6`` 83 (about Norman's 82).

Replicate standard deviations (``sd``) are scaled by ``|lambda|`` too (measurement noise sits
in the residual); counts (``n_obs``) are kept.
"""

from __future__ import annotations

import math

from naiad_bo.data.screen import PairScreen

__all__ = ["scale_interactions"]


def scale_interactions(screen: PairScreen, factor: float) -> PairScreen:
    r"""The screen with every pair's interaction residual multiplied by ``factor``.

    Args:
        screen: A :class:`~naiad_bo.PairScreen` with at least 3 measured pairs.
        factor: ``lambda`` (finite, ``>= 0``): ``y' = l + lambda (y - l)``, ``l`` the
            least-squares additive fit ``c0 + c1 (y_a + y_b)`` (module docstring).

    Returns:
        A new screen with the same genes, single effects, pairs and ``n_obs``; ``y``
        replaced, ``sd`` scaled by ``factor``; its ``name`` is
        ``f"{screen.name}/int{factor:g}"`` and its ``metadata`` records
        ``interaction_scaling = {"parent", "factor", "c0", "c1"}``.

    Raises:
        ValueError: ``factor`` negative or not finite, or fewer than 3 pairs.
    """
    factor = float(factor)
    if not math.isfinite(factor) or factor < 0:
        raise ValueError(f"factor must be finite and >= 0, got {factor}")
    if screen.n_pairs < 3:
        raise ValueError(f"need at least 3 measured pairs to fit the additive part, got "
                         f"{screen.n_pairs}")
    c0, c1 = screen.summary()["additive_fit_coef"]
    y = screen.y_values()
    additive = c0 + c1 * screen.additive_prediction()
    pairs = screen.pairs.copy()
    pairs["y"] = additive + factor * (y - additive)
    if "sd" in pairs:
        pairs["sd"] = pairs["sd"] * factor
    return PairScreen(
        screen.genes,
        screen.single_effects,
        pairs,
        name=f"{screen.name}/int{factor:g}",
        direction=screen.direction,
        control=screen.control,
        single_n_obs=screen.single_n_obs,
        single_sd=screen.single_sd,
        metadata={**screen.metadata, "interaction_scaling": {
            "parent": screen.name, "factor": factor, "c0": float(c0), "c1": float(c1)}},
    )
