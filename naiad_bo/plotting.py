"""Figures shared by the CLI, benchmarks and tutorials (matplotlib, Agg-safe)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "module://matplotlib_inline.backend_inline"):
        try:
            matplotlib.use("Agg")
        except Exception:  # pragma: no cover - backend already fixed by the user
            pass
    import matplotlib.pyplot as plt

    return plt


def save_figure(
    fig, path: str | Path, dpi: int = 120, metadata: dict[str, str] | None = None
) -> Path:
    """Lay out ``fig``, write it to ``path`` (parent folders created) and close it.

    ``metadata`` is written into the image (PNG text chunks, e.g. a benchmark's git commit).
    """
    plt = _pyplot()
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi, metadata=metadata)
    plt.close(fig)
    return path


def plot_additive(screen, path: str | Path, top_k: int = 200) -> Path:
    """Scatter of measured pair phenotype vs the additive prediction y_a + y_b.

    The true top-``top_k`` pairs (under the screen's direction) are highlighted; the fitted line
    y = b0 + b1 (y_a + y_b) and R^2 are shown.
    """
    plt = _pyplot()
    y = screen.y_values()
    add = screen.additive_prediction()
    strength = screen.direction.strength(y)
    top = np.argsort(-strength, kind="stable")[: min(top_k, len(y))]
    s = screen.summary()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.scatter(add, y, s=3, alpha=0.3, color="0.5", label="measured pairs", rasterized=True)
    ax.scatter(add[top], y[top], s=6, color="C3", label=f"true top-{len(top)}")
    xs = np.linspace(add.min(), add.max(), 50)
    b0, b1 = s["additive_fit_coef"]
    ax.plot(xs, b0 + b1 * xs, color="C0", lw=1.5,
            label=f"fit {b0:+.3f} + {b1:.3f}(y_a+y_b), R²={s['additive_r2_fit']:.2f}")
    ax.plot(xs, xs, color="k", lw=0.8, ls="--", label="y = y_a + y_b")
    ax.set_xlabel("additive prediction  y_a + y_b")
    ax.set_ylabel("measured pair phenotype")
    ax.set_title(f"{screen.name}: {screen.n_genes} genes, {screen.n_pairs:,} pairs")
    ax.legend(fontsize=7, loc="best")
    return save_figure(fig, path)
