"""Figures of simulated campaigns: discovery curves per round, mean +- s.e. over seeds."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from naiad_bo.campaign.summary import summarize

__all__ = ["plot_campaigns"]


def _label(row: Mapping, multi_surrogate: bool) -> str:
    return f"{row['surrogate']} + {row['acquisition']}" if multi_surrogate else row["acquisition"]


def plot_campaigns(
    frame: pd.DataFrame,
    path: str | Path,
    *,
    references: Mapping[str, Mapping[str, float]] | None = None,
    title: str | None = None,
    metadata: Mapping[str, str] | None = None,
) -> Path:
    """Three panels per screen: top-k discovered, true top-k measured, top-k curve at the end.

    Args:
        frame: Campaign records (``CampaignResults.to_frame()`` or the CLI's JSON).
        path: Output image (PNG, SVG, ...); parent folders are created.
        references: Optional published numbers at the last round, ``{screen: {label:
            value}}``; drawn as hollow markers in the first panel (diamonds for labels
            starting with "paper", squares otherwise), in the colour of the plotted
            acquisition named by the label's last word when there is one.
        title: Figure title (default: the screens' names).
        metadata: Text written into the image file (e.g. the git commit of a benchmark).

    Returns:
        The written path.
    """
    from naiad_bo.plotting import _pyplot, save_figure

    plt = _pyplot()
    if frame.empty:
        raise ValueError("no campaign records to plot")
    screens = list(dict.fromkeys(frame["screen"]))
    multi = frame["surrogate"].nunique() > 1
    summary = summarize(frame)
    fig, axes = plt.subplots(len(screens), 3, figsize=(14, 4.2 * len(screens)), squeeze=False)
    for row_axes, screen in zip(axes, screens):
        sub = summary[summary["screen"] == screen]
        raw = frame[frame["screen"] == screen]
        k = int(raw["top_k"].iloc[0])
        configs = sub[["surrogate", "acquisition"]].drop_duplicates().to_dict("records")
        for i, cfg in enumerate(configs):
            color = f"C{i % 10}"
            part = sub[(sub["surrogate"] == cfg["surrogate"]) & (sub["acquisition"] == cfg[
                "acquisition"])].sort_values("round")
            x = part["round"].to_numpy()
            label = _label(cfg, multi)
            for ax, col in zip(row_axes[:2], ("top_k_discovered", "measured_top_k")):
                mean = part[f"{col}_mean"].to_numpy(float)
                se = np.nan_to_num(part[f"{col}_se"].to_numpy(float))
                ax.plot(x, mean, marker="o", ms=4, color=color, label=label)
                ax.fill_between(x, mean - se, mean + se, color=color, alpha=0.2, lw=0)
            last = raw[
                (raw["surrogate"] == cfg["surrogate"])
                & (raw["acquisition"] == cfg["acquisition"])
                & (raw["round"] == raw["round"].max())
            ]
            curve_cols = sorted(
                (c for c in last.columns if c.startswith("top") and c.endswith("_discovered")
                 and c != "top_k_discovered" and last[c].notna().all()),
                key=lambda c: int(c[3:-11]),
            )
            ks = np.array([int(c[3:-11]) for c in curve_cols])
            if len(ks):
                frac = last[curve_cols].to_numpy(float).mean(axis=0) / ks
                row_axes[2].plot(ks, frac, marker="o", ms=4, color=color, label=label)
        if references and screen in references:
            x_last = int(raw["round"].max())
            colors = {}
            for i, cfg in enumerate(configs):
                colors.setdefault(cfg["acquisition"], f"C{i % 10}")
            for j, (name, value) in enumerate(references[screen].items()):
                color = colors.get(str(name).split()[-1], "k")
                marker = "D" if str(name).lower().startswith("paper") else "s"
                row_axes[0].scatter([x_last + 0.1 * (j + 1)], [value], marker=marker,
                                    facecolors="none", edgecolors=color, s=40, zorder=5,
                                    label=str(name))
        n_seeds = raw.groupby(["surrogate", "acquisition"])["seed"].nunique().max()
        row_axes[0].set_title(f"{screen}: true top-{k} discovered (mean ± s.e., {n_seeds} seeds)",
                              fontsize=9)
        row_axes[0].set_ylabel(f"top-{k} discovered (measured + predicted)")
        row_axes[1].set_title(f"{screen}: true top-{k} pairs measured (lab's view)", fontsize=9)
        row_axes[1].set_ylabel(f"true top-{k} measured")
        row_axes[2].set_title(f"{screen}: fraction of top-k discovered at round "
                              f"{int(raw['round'].max())}", fontsize=9)
        row_axes[2].set_xscale("log")
        row_axes[2].set_xlabel("k")
        row_axes[2].set_ylabel("fraction discovered")
        row_axes[2].set_ylim(0, 1.02)
        for ax in row_axes[:2]:
            ax.set_xlabel("round (0 = uniform initial library)")
            ax.set_xticks(sorted(raw["round"].unique()))
            ax.grid(alpha=0.3)
        row_axes[2].grid(alpha=0.3)
        row_axes[0].legend(fontsize=7, loc="upper left")
    if title:
        fig.suptitle(title, fontsize=11)
    return save_figure(fig, path, dpi=110, metadata=dict(metadata) if metadata else None)
