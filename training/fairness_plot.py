"""The fairness plot: flagged rate, TPR and FPR per group of each attribute, with their bootstrap intervals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

PLOTTED = (("flagged_rate", "flagged rate"), ("tpr", "TPR (positives flagged)"), ("fpr", "FPR (negatives flagged)"))
COLORS = ("#4c72b0", "#dd8452", "#55a868")


def save_fairness_plot(attributes: dict[str, dict[str, Any]], title: str, path: Path) -> Path:
    """One panel per attribute; groups too small to measure are drawn as empty slots with a note."""
    fig, axes = plt.subplots(1, max(len(attributes), 1), figsize=(5.5 * max(len(attributes), 1), 4.2), squeeze=False)
    for ax, (attribute, figures) in zip(axes[0], attributes.items()):
        groups = figures["groups"]
        x = np.arange(len(groups))
        width = 0.8 / len(PLOTTED)
        for offset, ((key, label), color) in enumerate(zip(PLOTTED, COLORS)):
            values = [g.get(key) if g["measured"] else None for g in groups]
            heights = [v if v is not None else 0.0 for v in values]
            errors = _error_bars(groups, key, heights)
            ax.bar(x + (offset - 1) * width, heights, width, yerr=errors, capsize=3, color=color, label=label)
        ax.set_xticks(x, [f"{g['group']}\n(n={g['count']})" + ("" if g["measured"] else "\ntoo small") for g in groups])
        ax.set_ylim(0, 1)
        ax.set_title(attribute)
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(PLOTTED), fontsize=8, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _error_bars(groups: list[dict[str, Any]], key: str, heights: list[float]) -> np.ndarray | None:
    """Distances from each bar to its interval bounds (zero where there is no interval)."""
    if not any(g.get(f"{key}_ci") for g in groups):
        return None
    below, above = [], []
    for group, height in zip(groups, heights):
        low, high = group.get(f"{key}_ci") or [None, None]
        below.append(max(height - low, 0.0) if low is not None else 0.0)
        above.append(max(high - height, 0.0) if high is not None else 0.0)
    return np.array([below, above])
