"""Reading a fine-tuned classifier's answers, and the metrics OpenAI used to compute for it.

The legacy fine-tuning API computed `classification/*` metrics in the results file from the
model's first-token log probabilities on the validation file (a post counts as positive when its
probability is above 0.5). OpenAI no longer does, so these helpers compute the same figures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.errors import CourseError

POSITIVE = " baseball"
NEGATIVE = " hockey"

# The figures OpenAI published for this task: the cookbook's "Fine tuning classification
# example" (openai-cookbook, examples/Fine-tuned_classification.ipynb), an `ada` model trained
# for 4 epochs on 948 posts and measured on 238 held-out validation posts, positive class
# " baseball"; the last `classification/*` row of its results file.
OPENAI_ADA_REFERENCE = {
    "accuracy": 0.991597,
    "precision": 0.983471,
    "recall": 1.0,
    "auroc": 1.0,
    "auprc": 1.0,
    "f1": 0.991667,
}


class LabelNotFound(CourseError):
    """Neither label is among a completion's top log probabilities."""


class EvaluationInputError(CourseError):
    """Labels or probabilities that cannot be scored (wrong length, unknown label...)."""


def first_token_top_logprobs(response) -> dict[str, float]:
    """The first generated token's top alternatives, token -> logprob.

    Works for a completion (`logprobs=2`) and a chat completion (`logprobs=True, top_logprobs=2`).
    """
    choices = getattr(response, "choices", None)
    if choices is None:
        raise EvaluationInputError(
            f"Pass one response (a completion or a chat completion), not a "
            f"{type(response).__name__}: for a list, read each, [read_label(r) for r in responses]."
        )
    if not choices:
        raise EvaluationInputError("This response holds no choices: the model answered nothing.")
    choice = choices[0]
    logprobs = getattr(choice, "logprobs", None)
    if logprobs is not None and getattr(logprobs, "top_logprobs", None):
        return dict(logprobs.top_logprobs[0])
    if logprobs is not None and getattr(logprobs, "content", None):
        return {alt.token: alt.logprob for alt in logprobs.content[0].top_logprobs}
    if logprobs is not None:  # asked for, but there is no first token to have them
        raise EvaluationInputError(
            "This response holds no generated token, so no log probabilities: ask for at least "
            "one (max_tokens=1)."
        )
    raise EvaluationInputError(
        "This response carries no log probabilities. Ask for them: logprobs=2 for a completion, "
        "logprobs=True with top_logprobs=2 for a chat completion."
    )


def label_probability(
    top_logprobs: Mapping[str, float], positive: str = POSITIVE, negative: str = NEGATIVE
) -> float:
    """P(positive) from a completion's first-token alternatives (token -> logprob).

    Tokens are matched to labels ignoring surrounding white space (" baseball", "baseball").
    With both labels listed, the probability is renormalised over the two. With one missing,
    the listed label's own probability decides: the rest of the mass goes to the other label.
    """
    if not isinstance(top_logprobs, Mapping):
        raise EvaluationInputError(
            "label_probability takes the first token's alternatives (token -> logprob): "
            "label_probability(first_token_top_logprobs(response)), or read_label(response)."
        )
    if positive.strip() == negative.strip():
        raise EvaluationInputError(f"The two labels must differ; both are {positive.strip()!r}.")
    log_pos = _label_logprob(top_logprobs, positive)
    log_neg = _label_logprob(top_logprobs, negative)
    if log_pos is not None and log_neg is not None:
        return _sigmoid(log_pos - log_neg)
    if log_pos is not None:
        return min(1.0, math.exp(log_pos))
    if log_neg is not None:
        return max(0.0, -math.expm1(log_neg))
    raise LabelNotFound(
        f"Neither {positive!r} nor {negative!r} is among the top tokens "
        f"{sorted(top_logprobs, key=top_logprobs.get, reverse=True)!r}. Check that the prompt "
        "ends with the separator used in training and that the model is the fine-tuned one."
    )


def read_label(
    response,
    positive: str = POSITIVE,
    negative: str = NEGATIVE,
    threshold: float = 0.5,
) -> tuple[str, float]:
    """A classifier's answer as (label, P(positive)); the label is positive above `threshold`."""
    p_positive = label_probability(first_token_top_logprobs(response), positive, negative)
    return (positive if p_positive > threshold else negative), p_positive


def positive_mask(y_true: Sequence, positive: str = POSITIVE, negative: str | None = None):
    """True where a true label is the positive class.

    Labels may be strings (compared without surrounding white space, so "baseball" matches
    " baseball") or booleans / 0-1 numbers. String labels must be two: the positive one and
    `negative` (by default whichever other label comes first), so that a misspelt label is
    reported instead of being silently counted as negative.
    """
    values = list(y_true)
    if values and all(isinstance(v, str) for v in values):
        labels = [v.strip() for v in values]
        other = negative.strip() if negative is not None else None
        for index, label in enumerate(labels):
            if label == positive.strip():
                continue
            other = other if other is not None else label
            if label != other:
                raise EvaluationInputError(
                    f"True label {index} is {values[index]!r}; expected {positive.strip()!r} "
                    f"(the positive label: the `positive` argument, spelt as in the data) "
                    f"or {other!r}."
                )
        return np.array([label == positive.strip() for label in labels], dtype=bool)
    array = np.asarray(values)
    if array.dtype == bool or (array.size and np.isin(array, [0, 1]).all()):
        return array.astype(bool)
    raise EvaluationInputError(
        "True labels must be label strings (such as ' baseball') or 0/1 values, "
        f"not {values[:3]!r}..."
    )


def classification_metrics(
    y_true_labels: Sequence,
    p_positive: Sequence[float],
    positive: str = POSITIVE,
    threshold: float = 0.5,
    *,
    negative: str | None = None,
) -> dict:
    """Accuracy, precision, recall, F1 (at `threshold`), AUROC and AUPRC for the positive class.

    Like the legacy `classification/*` metrics: a post is predicted positive when its probability
    is above `threshold`. AUPRC is scikit-learn's average precision (the area under the
    step-shaped precision-recall curve). Counts of the confusion matrix come with them.
    """
    truth = positive_mask(y_true_labels, positive, negative)
    scores = _probabilities(p_positive, len(truth))
    if truth.all() or not truth.any():
        raise EvaluationInputError(
            "AUROC and AUPRC need both classes among the true labels; these are all "
            f"{'positive' if truth.all() else 'negative'}."
        )
    predicted = scores > threshold
    from sklearn import metrics as skm  # imports SciPy: paid only where metrics are computed

    tn, fp, fn, tp = skm.confusion_matrix(truth, predicted, labels=[False, True]).ravel()
    return {
        "accuracy": skm.accuracy_score(truth, predicted),
        "precision": skm.precision_score(truth, predicted, zero_division=0.0),
        "recall": skm.recall_score(truth, predicted, zero_division=0.0),
        "f1": skm.f1_score(truth, predicted, zero_division=0.0),
        "auroc": skm.roc_auc_score(truth, scores),
        "auprc": skm.average_precision_score(truth, scores),
        "n": int(truth.size),
        "tp": int(tp),
        "fp": int(fp),
        "fn": int(fn),
        "tn": int(tn),
        "threshold": float(threshold),
    }


def compare_with_reference(metrics: Mapping, name: str = "this model") -> pd.DataFrame:
    """Our metrics beside OpenAI's published `ada` figures, with the difference."""
    rows = list(OPENAI_ADA_REFERENCE)
    missing = [row for row in rows if row not in metrics]
    if missing:
        raise EvaluationInputError(
            f"The metrics lack {', '.join(missing)}: pass the dict classification_metrics returns."
        )
    table = pd.DataFrame(
        {
            name: [float(metrics[row]) for row in rows],
            "OpenAI ada (cookbook)": [OPENAI_ADA_REFERENCE[row] for row in rows],
        },
        index=pd.Index(rows, name="metric"),
    )
    table["difference"] = table[name] - table["OpenAI ada (cookbook)"]
    return table


def _label_logprob(top_logprobs: Mapping[str, float], label: str) -> float | None:
    """The log of the summed probability of every token that spells `label`."""
    found = [lp for token, lp in top_logprobs.items() if token.strip() == label.strip()]
    if not found:
        return None
    return float(np.logaddexp.reduce(np.asarray(found, dtype=float)))


def _sigmoid(x: float) -> float:
    # exp of a large positive number overflows: use the form whose exponent is never positive.
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _probabilities(p_positive: Sequence[float], n: int) -> np.ndarray:
    try:
        scores = np.asarray(list(p_positive), dtype=float)
    except (TypeError, ValueError):
        raise EvaluationInputError("The probabilities must be numbers between 0 and 1.") from None
    if scores.shape != (n,):
        raise EvaluationInputError(
            f"There are {n} true labels but {scores.size} probabilities: one per example is needed."
        )
    bad = np.flatnonzero(~((scores >= 0) & (scores <= 1)))
    if bad.size:
        raise EvaluationInputError(
            f"Probability {bad[0]} is {float(scores[bad[0]])!r}; probabilities lie between 0 and 1."
        )
    return scores
