"""Classifier evaluation: logprobs to probabilities, metrics against scikit-learn."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
from openai.types import Completion
from openai.types.chat import ChatCompletion
from sklearn import metrics as skm

from helpers.evaluation import (
    OPENAI_ADA_REFERENCE,
    EvaluationInputError,
    LabelNotFound,
    classification_metrics,
    compare_with_reference,
    first_token_top_logprobs,
    label_probability,
    positive_mask,
    read_label,
)


def test_both_labels_present_renormalises_over_the_two():
    p = label_probability({" baseball": math.log(0.6), " hockey": math.log(0.3)})
    assert p == pytest.approx(0.6 / 0.9)


def test_a_missing_label_takes_the_rest_of_the_mass():
    assert label_probability({" baseball": math.log(0.7), " the": -3.0}) == pytest.approx(0.7)
    assert label_probability({" hockey": math.log(0.8), "\n": -4.0}) == pytest.approx(0.2)


def test_tokens_with_other_white_space_count_for_their_label():
    p = label_probability({"baseball": math.log(0.2), " baseball": math.log(0.3)})
    assert p == pytest.approx(0.5)  # both spell baseball; hockey missing
    p = label_probability({" baseball": math.log(0.25), "hockey": math.log(0.25)})
    assert p == pytest.approx(0.5)


def test_extreme_logprobs_do_not_overflow():
    assert label_probability({" baseball": -0.0, " hockey": -9999.0}) == 1.0
    assert label_probability({" baseball": -9999.0, " hockey": -0.0}) == 0.0
    assert label_probability({" hockey": -1e-12}) == pytest.approx(1e-12, rel=1e-3)


def test_custom_labels_and_neither_label_found():
    assert label_probability({" yes": math.log(0.9)}, " yes", " no") == pytest.approx(0.9)
    with pytest.raises(LabelNotFound, match=r"Neither ' baseball' nor ' hockey'.*' the'"):
        label_probability({" the": -0.1, " a": -2.0})
    with pytest.raises(EvaluationInputError, match="must differ"):
        label_probability({" x": -1.0}, "x", " x")


def completion(top: dict) -> Completion:
    return Completion.model_validate(
        {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": 0,
            "model": "ft:babbage-002:o::x",
            "choices": [
                {
                    "text": max(top, key=top.get),
                    "index": 0,
                    "finish_reason": "length",
                    "logprobs": {"tokens": [max(top, key=top.get)], "top_logprobs": [top]},
                }
            ],
        }
    )


def chat_completion(top: dict) -> ChatCompletion:
    alternatives = [{"token": t, "logprob": lp} for t, lp in top.items()]
    return ChatCompletion.model_validate(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "ft:gpt-4o-mini:o::x",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "length",
                    "message": {"role": "assistant", "content": "hockey"},
                    "logprobs": {
                        "content": [
                            {"token": "hockey", "logprob": -0.1, "top_logprobs": alternatives}
                        ]
                    },
                }
            ],
        }
    )


def test_reading_completions_and_chat_completions():
    top = {" hockey": -0.1, " baseball": -2.5}
    assert first_token_top_logprobs(completion(top)) == top
    assert first_token_top_logprobs(chat_completion(top)) == top
    label, p = read_label(completion(top))
    assert label == " hockey" and p == pytest.approx(1 / (1 + math.exp(2.4)))
    label, p = read_label(chat_completion({"baseball": -0.2, "hockey": -1.8}))
    assert label == " baseball" and p > 0.5


def test_a_response_without_logprobs_says_how_to_ask():
    response = SimpleNamespace(choices=[SimpleNamespace(logprobs=None, text=" hockey")])
    with pytest.raises(Exception, match="logprobs=2"):
        first_token_top_logprobs(response)


CASES = [
    (["baseball", "hockey", "baseball", "hockey", "baseball"], [0.9, 0.2, 0.4, 0.6, 0.8]),
    ([" baseball", " hockey"] * 4, [0.55, 0.45, 0.51, 0.7, 0.99, 0.01, 0.2, 0.3]),
    (["hockey"] * 5 + ["baseball"], [0.1, 0.2, 0.3, 0.6, 0.7, 0.65]),
]


@pytest.mark.parametrize(("labels", "p"), CASES)
def test_metrics_match_scikit_learn(labels, p):
    got = classification_metrics(labels, p)
    truth = np.array([label.strip() == "baseball" for label in labels])
    predicted = np.array(p) > 0.5
    assert got["accuracy"] == pytest.approx(skm.accuracy_score(truth, predicted))
    assert got["precision"] == pytest.approx(skm.precision_score(truth, predicted))
    assert got["recall"] == pytest.approx(skm.recall_score(truth, predicted))
    assert got["f1"] == pytest.approx(skm.f1_score(truth, predicted))
    assert got["auroc"] == pytest.approx(skm.roc_auc_score(truth, p))
    assert got["auprc"] == pytest.approx(skm.average_precision_score(truth, p))
    assert got["tp"] + got["fp"] + got["fn"] + got["tn"] == got["n"] == len(labels)
    assert got["tp"] == int((truth & predicted).sum())
    assert got["fp"] == int((~truth & predicted).sum())


def test_metrics_by_hand_and_the_threshold():
    labels = ["baseball", "baseball", "hockey", "hockey"]
    p = [0.9, 0.5, 0.5, 0.1]  # 0.5 is not above the threshold: predicted hockey
    got = classification_metrics(labels, p)
    assert (got["tp"], got["fn"], got["fp"], got["tn"]) == (1, 1, 0, 2)
    assert got["precision"] == 1.0 and got["recall"] == 0.5 and got["accuracy"] == 0.75
    lower = classification_metrics(labels, p, threshold=0.4)
    assert (lower["tp"], lower["fp"]) == (2, 1)
    assert lower["auroc"] == got["auroc"] == pytest.approx(0.875)


def test_other_positive_class_and_zero_one_labels():
    got = classification_metrics(["hockey", "baseball", "hockey"], [0.2, 0.9, 0.4], " hockey")
    assert got["recall"] == 0.0 and got["accuracy"] == 0.0  # p is P(hockey) here
    assert got["auroc"] == pytest.approx(0.0)
    assert classification_metrics([1, 0, 1, 0], [0.8, 0.3, 0.7, 0.1])["accuracy"] == 1.0
    assert positive_mask([True, False]).tolist() == [True, False]
    assert positive_mask(["a", " b"], "b", negative="a").tolist() == [False, True]
    with pytest.raises(
        EvaluationInputError,
        match=r"True label 0 is 'basebal'; expected 'baseball' \(the positive label: the "
        r"`positive` argument, spelt as in the data\) or 'hockey'",
    ):
        positive_mask(["basebal"], negative=" hockey")


@pytest.mark.parametrize(
    ("labels", "p", "message"),
    [
        (["baseball", "hockey", "hokey"], [0.9, 0.1, 0.2], r"True label 2 is 'hokey'; expected"),
        (["baseball", "hockey"], [0.9], "2 true labels but 1 probabilities"),
        (["baseball", "hockey"], [0.9, 1.2], "Probability 1 is 1.2"),
        (["baseball", "hockey"], [0.9, float("nan")], "Probability 1 is nan"),
        (["baseball", "hockey"], [0.9, "high"], "must be numbers"),
        (["hockey", "hockey"], [0.9, 0.1], "both classes"),
        ([2, 3], [0.9, 0.1], "label strings"),
    ],
)
def test_bad_inputs_are_named(labels, p, message):
    with pytest.raises(EvaluationInputError, match=message):
        classification_metrics(labels, p)


def test_comparison_with_the_published_ada_figures():
    labels = ["baseball"] * 119 + ["hockey"] * 119
    # Two hockey posts scored as baseball, every baseball post found: OpenAI's own outcome.
    p = [0.99] * 119 + [0.97, 0.96] + [0.01] * 117
    ours = classification_metrics(labels, p)
    table = compare_with_reference(ours)
    assert list(table.index) == ["accuracy", "precision", "recall", "auroc", "auprc", "f1"]
    reference = table["OpenAI ada (cookbook)"]
    assert reference.to_dict() == OPENAI_ADA_REFERENCE
    for metric in ("accuracy", "precision", "recall", "f1"):
        assert table.loc[metric, "this model"] == pytest.approx(reference[metric], abs=5e-7)
    assert table.loc["auroc", "difference"] == pytest.approx(ours["auroc"] - 1.0)
    with pytest.raises(EvaluationInputError, match="lack auroc"):
        compare_with_reference({"accuracy": 1.0, "precision": 1, "recall": 1, "auprc": 1, "f1": 1})


def test_reading_answers_and_drawing_curves_does_not_import_scipy_until_metrics_are_asked():
    # sklearn.metrics brings SciPy (over half a second): notebook 06 only reads labels.
    import subprocess
    import sys

    from helpers.paths import REPO_ROOT

    code = (
        "import sys\nfrom helpers.evaluation import read_label\nfrom helpers.plots import "
        "plot_training\nprint('sklearn.metrics' in sys.modules)\n"
        "from helpers.evaluation import classification_metrics\n"
        "classification_metrics(['baseball', 'hockey'], [0.9, 0.2])\n"
        "print('sklearn.metrics' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert done.stdout.split() == ["False", "True"], done.stderr


def test_a_list_of_responses_or_a_response_where_logprobs_go_is_refused_plainly():
    from helpers.evaluation import label_probability, read_label

    with pytest.raises(EvaluationInputError, match="Pass one response .* not a list"):
        read_label([object()])
    with pytest.raises(EvaluationInputError, match="label_probability takes the first token"):
        label_probability(SimpleNamespace(choices=[]))


def test_a_response_with_no_token_says_so_not_that_logprobs_were_missing():
    from helpers.evaluation import read_label

    empty = SimpleNamespace(choices=[SimpleNamespace(logprobs=SimpleNamespace(top_logprobs=[]))])
    with pytest.raises(EvaluationInputError, match="holds no generated token"):
        read_label(empty)
