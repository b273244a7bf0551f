"""The figures of notebooks 04 and 05: training curves, a confusion matrix, ROC and PR curves.

Each function returns a matplotlib Figure and shows nothing: the notebook displays it. Colours
come from the Okabe-Ito palette, which stays distinguishable with colour-blindness, and train
and validation also differ by line style and markers.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from helpers.errors import CourseError
from helpers.evaluation import POSITIVE, positive_mask
from helpers.results import epoch_boundaries

BLUE, ORANGE, VERMILLION, GREY = "#0072B2", "#E69F00", "#D55E00", "#999999"
PANELS = (  # (title, y label, train column, validation column)
    ("Loss", "loss", "train_loss", "valid_loss"),
    ("Token accuracy", "accuracy", "train_accuracy", "valid_mean_token_accuracy"),
)


MAX_VALIDATION_POINTS = 60  # more than this, and validation is drawn as a smoothed curve


def rolling_window(total_steps: int) -> int:
    """Steps averaged by the smoothed train curve: about a twentieth of the run, at least 1."""
    return max(1, total_steps // 20)


def plot_training(results: pd.DataFrame, n_epochs: int, title: str) -> Figure:
    """Loss and accuracy against the step, train and validation, epochs marked.

    The per-step train curve is noisy (each step sees one batch), so it is drawn thin with its
    rolling mean on top; validation is drawn where the file has it.
    """
    needs = "plot_training needs the results table read_results or download_results returns"
    if not isinstance(results, pd.DataFrame):
        raise CourseError(f"{needs}, not a {type(results).__name__}.")
    if results.empty or "step" not in results.columns:
        raise CourseError(f"{needs}, not a table with no steps.")
    steps = results["step"]
    total = int(steps.max())
    window = rolling_window(total)
    boundaries = epoch_boundaries(total, n_epochs)
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    for ax, (panel, ylabel, train_col, valid_col) in zip(axes, PANELS, strict=True):
        if train_col in results.columns and results[train_col].notna().any():
            train = results[train_col]
            ax.plot(steps, train, color=BLUE, linewidth=0.7, alpha=0.35, label="train (per step)")
            smooth = train.rolling(window, min_periods=1).mean()
            ax.plot(steps, smooth, color=BLUE, linewidth=2, label=f"train ({window}-step mean)")
        if valid_col in results.columns and results[valid_col].notna().any():
            plot_validation(ax, results[[valid_col]].assign(step=steps).dropna(), valid_col, window)
        low, high = ax.get_ylim()
        ax.set_ylim(low, high + 0.08 * (high - low))  # headroom for the epoch labels
        mark_epochs(ax, boundaries)
        ax.set(title=panel, xlabel="step", ylabel=ylabel, xlim=(0, total * 1.01))
        ax.grid(alpha=0.3)
    # One legend for both panels (they draw the same series), below them: a legend inside a
    # panel hides validation points wherever it is put.
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if handles:
        figure.legend(
            handles, labels, loc="outside lower center", ncol=len(handles), fontsize="small"
        )
    figure.suptitle(title)
    return figure


def plot_validation(ax, valid: pd.DataFrame, column: str, window: int) -> None:
    """A few validation points are drawn as points; many (a real job measures a batch every tenth
    step, so a long job has a hundred or more) are as noisy as the train curve, each measured on
    one small batch, so they are drawn like it, averaged over the same `window` of steps."""
    if len(valid) <= MAX_VALIDATION_POINTS:
        ax.plot(valid["step"], valid[column], color=VERMILLION, linestyle="--", marker="o",
                markersize=3.5, linewidth=1.2, label="validation")  # fmt: skip
        return
    every = max(1, int(valid["step"].diff().median()))  # steps between two measurements
    each = "per step" if every == 1 else f"every {every} steps"
    ax.plot(valid["step"], valid[column], color=VERMILLION, linewidth=0.7, alpha=0.3,
            label=f"validation ({each})")  # fmt: skip
    smooth = valid[column].rolling(max(1, round(window / every)), min_periods=1).mean()
    ax.plot(valid["step"], smooth, color=VERMILLION, linewidth=2, linestyle="--",
            label=f"validation ({window}-step mean)")  # fmt: skip


def mark_epochs(ax, boundaries: Sequence[int]) -> None:
    """Dashed lines where an epoch ends, and "epoch k" written above each span."""
    top = blended_transform_factory(ax.transData, ax.transAxes)
    start = 0
    for number, end in enumerate(boundaries, start=1):
        if number < len(boundaries):
            ax.axvline(end, color=GREY, linestyle="--", linewidth=1)
        ax.text(
            (start + end) / 2,
            0.98,
            f"epoch {number}",
            transform=top,
            ha="center",
            va="top",
            fontsize="small",
            color="#555555",
        )
        start = end


def plot_confusion(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    labels: Sequence[str] | None = None,
    title: str = "Confusion matrix",
) -> Figure:
    """Counts of true label (rows) against predicted label (columns), each cell annotated."""
    if len(y_true) != len(y_pred):
        raise CourseError(f"{len(y_true)} true labels but {len(y_pred)} predictions.")
    true = [str(label).strip() for label in y_true]
    pred = [str(label).strip() for label in y_pred]
    names = [str(label).strip() for label in labels] if labels else sorted(set(true) | set(pred))
    from sklearn import metrics as skm  # imports SciPy: paid only where metrics are computed

    counts = skm.confusion_matrix(true, pred, labels=names)
    figure, ax = plt.subplots(figsize=(4.6, 4), layout="constrained")
    image = ax.imshow(counts, cmap="cividis", vmin=0)
    threshold = counts.max() / 2 if counts.size else 0
    for (row, col), count in np.ndenumerate(counts):
        colour = "black" if count > threshold else "white"
        ax.text(col, row, str(count), ha="center", va="center", color=colour, fontsize="large")
    ticks = range(len(names))
    ax.set_xticks(ticks, names)
    ax.set_yticks(ticks, names)
    ax.set(xlabel="predicted label", ylabel="true label", title=title)
    figure.colorbar(image, ax=ax, shrink=0.8, label="posts")
    return figure


def plot_roc_pr(
    y_true: Sequence,
    p_positive: Sequence[float],
    positive: str = POSITIVE,
    title: str | None = None,
) -> Figure:
    """ROC and precision-recall curves side by side, with AUC and average precision in legends."""
    truth = positive_mask(y_true, positive)
    scores = np.asarray(p_positive, dtype=float)
    if scores.shape != truth.shape:
        raise CourseError(f"{truth.size} true labels but {scores.size} probabilities.")
    if truth.all() or not truth.any():
        raise CourseError("ROC and precision-recall curves need both classes among the labels.")
    from sklearn import metrics as skm  # imports SciPy: paid only where metrics are computed

    name = positive.strip()
    figure, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(10, 4.4), layout="constrained")
    fpr, tpr, _ = skm.roc_curve(truth, scores)
    auc = skm.roc_auc_score(truth, scores)
    roc_ax.plot(fpr, tpr, color=BLUE, linewidth=2, label=f"classifier (AUC = {auc:.3f})")
    roc_ax.plot([0, 1], [0, 1], color=GREY, linestyle=":", label="chance (AUC = 0.5)")
    roc_ax.set(
        title="ROC curve",
        xlabel="false positive rate",
        ylabel=f"true positive rate (recall of {name})",
    )

    precision, recall, _ = skm.precision_recall_curve(truth, scores)
    ap = skm.average_precision_score(truth, scores)
    prevalence = truth.mean()
    pr_ax.plot(
        recall,
        precision,
        color=ORANGE,
        linewidth=2,
        drawstyle="steps-post",
        label=f"classifier (AP = {ap:.3f})",
    )
    pr_ax.axhline(prevalence, color=GREY, linestyle=":", label=f"chance (AP = {prevalence:.3f})")
    pr_ax.set(title="Precision-recall curve", xlabel=f"recall of {name}", ylabel="precision")

    for ax in (roc_ax, pr_ax):
        ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.01), aspect="equal")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower left" if ax is pr_ax else "lower right", fontsize="small")
    if title:
        figure.suptitle(title)
    return figure
