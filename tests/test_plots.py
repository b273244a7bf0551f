"""The figures' content: axes, lines, labels and legends (no image comparison)."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from helpers.errors import CourseError
from helpers.plots import plot_confusion, plot_roc_pr, plot_training, rolling_window

matplotlib.use("Agg")  # no window, whatever the machine; works after pyplot's import too


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def results_table(n_steps: int = 60, every: int = 10, validation: bool = True) -> pd.DataFrame:
    steps = np.arange(1, n_steps + 1)
    table = pd.DataFrame(
        {
            "step": steps,
            "train_loss": 2.0 / steps + 0.1 * (steps % 3),
            "train_accuracy": 1 - 1.0 / (steps + 1),
            "valid_loss": np.where(steps % every == 0, 1.5 / steps, np.nan),
            "valid_mean_token_accuracy": np.where(steps % every == 0, 0.9, np.nan),
        }
    )
    if not validation:
        table[["valid_loss", "valid_mean_token_accuracy"]] = np.nan
    return table


def labels_of(ax) -> list[str]:
    return [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_training_figure_has_two_panels_with_train_smoothing_and_validation():
    table = results_table()
    figure = plot_training(table, n_epochs=3, title="babbage-002 on sports posts")
    loss, accuracy = figure.axes
    assert figure._suptitle.get_text() == "babbage-002 on sports posts"
    assert (loss.get_title(), loss.get_xlabel(), loss.get_ylabel()) == ("Loss", "step", "loss")
    assert accuracy.get_ylabel() == "accuracy"
    window = rolling_window(60)
    for ax in (loss, accuracy):
        assert labels_of(ax) == ["train (per step)", f"train ({window}-step mean)", "validation"]
        assert ax.get_legend() is None  # inside a panel, a legend hides points
    (legend,) = figure.legends  # one for both panels, below them
    assert [t.get_text() for t in legend.get_texts()] == labels_of(loss)
    raw, smooth, valid = (line for line in loss.get_lines() if line.get_label()[0] != "_")
    assert raw.get_linewidth() < smooth.get_linewidth()
    assert list(raw.get_ydata()) == pytest.approx(list(table["train_loss"]))
    expected = table["train_loss"].rolling(window, min_periods=1).mean()
    assert list(smooth.get_ydata()) == pytest.approx(list(expected))
    assert list(valid.get_xdata()) == [10, 20, 30, 40, 50, 60]
    assert valid.get_marker() == "o"
    assert to_hex(valid.get_color()) != to_hex(smooth.get_color())


def test_validation_every_tenth_step_is_averaged_over_the_train_curves_window():
    # The course's classifier: 1422 steps, a validation batch every tenth, as real jobs measure.
    table = results_table(n_steps=1422, every=10)
    loss, _ = plot_training(table, n_epochs=3, title="t").axes
    window = rolling_window(1422)
    assert labels_of(loss)[2:] == [
        "validation (every 10 steps)",
        f"validation ({window}-step mean)",
    ]
    raw, smooth = (line for line in loss.get_lines() if line.get_label().startswith("validation"))
    measured = table.dropna(subset=["valid_loss"])
    assert list(raw.get_xdata()) == list(measured["step"])
    # The mean spans `window` steps, so window / 10 measurements, not `window` of them.
    expected = measured["valid_loss"].rolling(round(window / 10), min_periods=1).mean()
    assert list(smooth.get_ydata()) == pytest.approx(list(expected))


def test_epoch_boundaries_are_dashed_lines_with_labels():
    figure = plot_training(results_table(), n_epochs=3, title="t")
    for ax in figure.axes:
        dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
        vertical = [line for line in dashed if len(set(line.get_xdata())) == 1]
        assert sorted(line.get_xdata()[0] for line in vertical) == [20, 40]
        texts = {t.get_text(): t.get_position()[0] for t in ax.texts}
        assert texts == {"epoch 1": 10, "epoch 2": 30, "epoch 3": 50}


def test_training_figure_without_validation_shows_train_only():
    figure = plot_training(results_table(validation=False), n_epochs=2, title="no validation")
    for ax in figure.axes:
        assert "validation" not in labels_of(ax)
        assert len(labels_of(ax)) == 2


def test_training_figure_is_deterministic():
    first = plot_training(results_table(), 3, "t")
    second = plot_training(results_table(), 3, "t")
    for a, b in zip(first.axes, second.axes, strict=True):
        for line_a, line_b in zip(a.get_lines(), b.get_lines(), strict=True):
            assert np.array_equal(line_a.get_xydata(), line_b.get_xydata(), equal_nan=True)


def test_training_figure_rejects_a_table_that_is_not_results():
    with pytest.raises(CourseError, match="read_results"):
        plot_training(pd.DataFrame({"loss": [1.0]}), 1, "t")


def test_confusion_matrix_counts_and_labels():
    truth = [" baseball", " baseball", " baseball", " hockey", " hockey"]
    predicted = [" baseball", " hockey", " baseball", " hockey", " hockey"]
    figure = plot_confusion(truth, predicted, title="Test posts")
    ax = figure.axes[0]
    assert ax.get_title() == "Test posts"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted label", "true label")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["baseball", "hockey"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["baseball", "hockey"]
    cells = {(t.get_position()[1], t.get_position()[0]): t.get_text() for t in ax.texts}
    assert cells == {(0, 0): "2", (0, 1): "1", (1, 0): "0", (1, 1): "2"}
    assert np.array_equal(ax.get_images()[0].get_array(), [[2, 1], [0, 2]])


def test_confusion_matrix_with_given_label_order():
    figure = plot_confusion(["a", "b"], ["b", "b"], labels=["b", "a"])
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["b", "a"]
    assert np.array_equal(ax.get_images()[0].get_array(), [[1, 0], [1, 0]])
    with pytest.raises(CourseError, match="2 true labels but 1 predictions"):
        plot_confusion(["a", "b"], ["a"])


def test_roc_and_precision_recall_side_by_side_with_scores_in_legends():
    truth = ["baseball", "hockey", "baseball", "hockey", "baseball", "hockey"]
    p = [0.9, 0.2, 0.6, 0.7, 0.8, 0.1]
    figure = plot_roc_pr(truth, p, title="Held-out posts")
    roc, pr = figure.axes
    assert (roc.get_title(), pr.get_title()) == ("ROC curve", "Precision-recall curve")
    assert roc.get_xlabel() == "false positive rate" and pr.get_ylabel() == "precision"
    roc_legend = [t.get_text() for t in roc.get_legend().get_texts()]
    pr_legend = [t.get_text() for t in pr.get_legend().get_texts()]
    # AUROC = 8/9: one hockey post (0.7) outranks one baseball post (0.6); AP = (1 + 1 + 3/4)/3
    assert roc_legend == ["classifier (AUC = 0.889)", "chance (AUC = 0.5)"]
    assert pr_legend == ["classifier (AP = 0.917)", "chance (AP = 0.500)"]
    fpr_tpr = roc.get_lines()[0].get_xydata()
    assert tuple(fpr_tpr[0]) == (0.0, 0.0) and tuple(fpr_tpr[-1]) == (1.0, 1.0)
    assert figure._suptitle.get_text() == "Held-out posts"


def test_roc_pr_needs_both_classes_and_matching_lengths():
    with pytest.raises(CourseError, match="both classes"):
        plot_roc_pr(["hockey", "hockey"], [0.1, 0.2])
    with pytest.raises(CourseError, match="2 true labels but 3 probabilities"):
        plot_roc_pr(["hockey", "baseball"], [0.1, 0.2, 0.3])


def test_helpers_leave_no_figure_shown_or_closed():
    before = plt.get_fignums()
    figure = plot_roc_pr([1, 0], [0.8, 0.3])
    assert figure.number in plt.get_fignums() and len(plt.get_fignums()) == len(before) + 1


def test_plot_training_names_what_it_was_given_instead_of_the_table():
    with pytest.raises(CourseError, match="read_results or download_results returns, not a str"):
        plot_training("step,train_loss\n1,0.5\n", n_epochs=1, title="t")
    with pytest.raises(CourseError, match="returns, not a table with no steps"):
        plot_training(pd.DataFrame({"loss": [0.5]}), n_epochs=1, title="t")
