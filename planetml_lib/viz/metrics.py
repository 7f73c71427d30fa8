"""Plots of evaluation results: confusion matrices and metric tables."""

import matplotlib.pyplot as plt
import numpy as np


def plot_confusion_matrix(metrics, class_names=("negative", "positive"), title="Confusion matrix (samples)"):
    """Draw the 2x2 confusion matrix from a tidy metrics table holding TP, FP, FN and TN.

    Cell text gives the count and the fraction of its true class, the number that makes
    a rare class visible where accuracy hides it.
    """
    values = dict(zip(metrics["metric"], metrics["value"], strict=True))
    counts = np.array([[values["TN"], values["FP"]], [values["FN"], values["TP"]]], dtype=float)
    fractions = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(4.2, 3.6), layout="constrained")
    ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    for (row, col), count in np.ndenumerate(counts):
        colour = "white" if fractions[row, col] > 0.5 else "black"
        ax.text(col, row, f"{int(count)}\n{fractions[row, col]:.1%}", ha="center", va="center", color=colour)
    ax.set_xticks([0, 1], [f"pred. {c}" for c in class_names])
    ax.set_yticks([0, 1], [f"true {c}" for c in class_names])
    ax.set_title(title)
    return fig
