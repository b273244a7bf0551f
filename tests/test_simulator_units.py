"""The simulator's parts on their own: fault spreading, hyperparameters, ids, labels, files."""

from __future__ import annotations

import base64
import math
import os
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from simulator_fixtures import jsonl, tiny_classification

from helpers.simulator.api.files import clean_filename
from helpers.simulator.faults import FaultInjector, FaultPlanError, parse_faults
from helpers.simulator.hosts import host_name, is_loopback
from helpers.simulator.learners import knowledge, learner_kind
from helpers.simulator.learners.labels import LabelTokens
from helpers.simulator.stamps import derived_id, make_id, model_code
from helpers.simulator.training.data import DataRejected, read_training_data
from helpers.simulator.training.outputs import results_content, results_csv
from helpers.simulator.training.session import (
    VALIDATION_EVERY,
    TrainingSession,
    auto_batch_size,
    check_requested,
    resolve,
)
from helpers.tokens import encoding_for


def test_faults_are_spread_evenly_in_the_asked_shares():
    injector = FaultInjector(parse_faults("429=0.2,500=0.1,delay=0.1"))
    faults = [injector.next_fault() for _ in range(1000)]
    assert faults.count("429") == 200 and faults.count("500") == 100
    assert faults.count("delay") == 100
    assert not any(a and b for a, b in zip(faults, faults[1:], strict=False))


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("429=2", "between 0 and 1"),
        ("429=0.6,500=0.6", "more than 1"),
        ("teapot=0.1", "unknown fault setting"),
        ("429", "KEY=VALUE"),
        ("500=lots", "not a number"),
    ],
)
def test_a_bad_fault_plan_is_explained(spec, words):
    with pytest.raises(FaultPlanError, match=words):
        parse_faults(spec)


def test_auto_hyperparameters_follow_the_published_rules():
    assert [auto_batch_size(n) for n in (1, 948, 100_000, 500_000)] == [1, 2, 200, 256]
    auto = check_requested(None)
    assert resolve(auto, 7) == {"batch_size": 1, "learning_rate_multiplier": 2.0, "n_epochs": 14}
    assert resolve(auto, 948)["n_epochs"] == 3
    assert resolve(auto, 30_000)["n_epochs"] == 1
    assert resolve(check_requested({"n_epochs": 5, "batch_size": 8}), 948)["n_epochs"] == 5


def test_ids_depend_on_seed_and_order_only():
    assert make_id("ftjob", 0, 1) == make_id("ftjob", 0, 1)
    assert make_id("ftjob", 0, 1) != make_id("ftjob", 1, 1) != make_id("ftjob", 0, 2)
    assert make_id("file", 0, 1).startswith("file-") and len(make_id("file", 0, 1)) == 27
    assert derived_id("ftevent", "ftjob-x", 3).startswith("ftevent-")
    code = model_code("ftjob-x")
    assert len(code) == 8 and code.isalnum() and code == code.lower()


def test_a_sure_label_costs_zero_nats_not_minus_zero():
    # A file of one label: the model is sure of it, and the results file says 0.0, not -0.0.
    labels = LabelTokens([" yes"], encoding_for("babbage-002"))
    nll, right, count = labels.token_scores(np.array([[1.0], [1.0]]), [" yes", " yes"])
    assert (nll, right, count) == (0.0, 2, 2) and math.copysign(1.0, nll) == 1.0


def test_multi_token_labels_split_probability_over_their_tokens():
    encoding = encoding_for("babbage-002")
    labels = LabelTokens([" ice hockey", " ice skating", " baseball"], encoding)
    probabilities = np.array([0.5, 0.2, 0.3])
    written = labels.written(probabilities, 0, top=5)
    assert len(written) == len(labels.sequences[0]) > 1
    # The chances of the tokens multiply back to the label's probability.
    assert math.exp(sum(w["logprob"] for w in written)) == pytest.approx(0.5)
    first = dict(written[0]["top"])
    assert math.exp(first[written[0]["token"]]) == pytest.approx(0.7)
    nll, right, count = labels.token_scores(probabilities[None, :], [" ice hockey"])
    assert nll == pytest.approx(-math.log(0.5)) and count == len(written) and right == count


def test_a_labels_own_text_is_read_by_the_prior_until_training_shows_it():
    """Where one label is left, its tokens are its text: unknown before training (the prior's
    chances), known once training has shown it (the classifier's), and in between a mixture.
    Labels of one distinct token each are the classifier's choice alone."""
    encoding = encoding_for("babbage-002")
    texts = [" Standard shipping takes three days.", " Returns are free within thirty days."]
    probabilities = np.array([[0.5, 0.5]])
    losses = {}
    for seen in (0.0, 2.0, 200.0):
        labels = LabelTokens(texts, encoding, [seen, seen])
        nll, right, count = labels.token_scores(probabilities, texts[:1])
        losses[seen] = nll / count
    known = LabelTokens(texts, encoding)  # no exposure: a model saved before texts were learned
    nll, _, count = known.token_scores(probabilities, texts[:1])
    assert nll == pytest.approx(math.log(2))  # the choice costs ln 2; the text, nothing
    assert losses[0.0] > 3 > losses[2.0] > losses[200.0] > nll / count
    assert LabelTokens(texts, encoding, [np.inf, 0.0]).familiarity(0) == 1.0
    # The text's logprobs as served follow the same mixture, and name the prior's rivals.
    fresh = LabelTokens(texts, encoding, [0.0, 0.0]).written(probabilities[0], 0, top=3)
    assert all(len(w["top"]) == 3 for w in fresh[1:])
    assert sum(w["logprob"] for w in fresh) == pytest.approx(-losses[0.0] * count)
    single = LabelTokens([" yes", " no"], encoding, [0.0, 0.0])
    assert single.token_scores(np.array([[0.8, 0.2]]), [" yes"])[0] == pytest.approx(-math.log(0.8))


def test_the_format_every_label_writes_is_learned_and_where_labels_part_is_a_choice():
    """`{"sentiment": "` comes before every label: text a base model would not write, which
    training teaches whichever label an example gives; the sentiment word is the choice."""
    encoding = encoding_for("babbage-002")
    texts = [' {"sentiment": "negative"}', ' {"sentiment": "positive"}']
    probabilities = np.array([[0.2, 0.8]])

    def per_token(exposure):
        scored = LabelTokens(texts, encoding, exposure).written(probabilities[0], 1, top=2)
        return [w["logprob"] for w in scored]

    fresh, half, known = per_token([0.0, 0.0]), per_token([2.0, 0.0]), per_token([1e6, 0.0])
    choice = [i for i, w in enumerate(fresh) if w == pytest.approx(math.log(0.8))]
    assert len(choice) == 1  # the word that parts the labels: the classifier's chance alone
    before = fresh[: choice[0]]  # ' {"', 'sent', 'iment', '":', ' "'
    assert len(before) >= 3 and sum(before) < -10  # the format costs dearly before training
    # Examples of the other label teach the format too, and it ends up nearly free.
    assert all(a < b < c for a, b, c in zip(before, half[: len(before)], known, strict=False))
    assert known[0] > -1e-4 and half[0] == pytest.approx(math.log(0.5), abs=0.05)
    nll, right, count = LabelTokens(texts, encoding, [0.0, 0.0]).token_scores(
        probabilities, texts[1:]
    )
    assert nll == pytest.approx(-sum(fresh)) and right < count


def test_an_answer_outside_the_labels_gets_a_finite_loss():
    labels = LabelTokens([" yes", " no"], encoding_for("babbage-002"))
    nll, right, count = labels.token_scores(np.array([[0.9, 0.1]]), [" maybe"])
    assert math.isfinite(nll) and nll > 20 and right == 0 and count >= 1


def test_labels_are_detected_from_the_answers_not_hard_coded():
    assert learner_kind([" spam", " ham"] * 10) == "classifier"
    assert learner_kind(["positive", "negative", "neutral"] * 4) == "classifier"
    assert learner_kind([f"a poem number {i}" for i in range(20)]) == "language_model"
    # Few distinct answers, but many said once: a fixed reply plus facts read from a context.
    facts = [str(1900 + i) for i in range(12)] + ["7", "7", "8", "8"]
    assert learner_kind(facts + [" Not in the text."] * 16) == "language_model"


def test_the_results_csv_has_the_real_columns():
    metrics = [
        {"step": 1, "train_loss": 1.523468, "train_mean_token_accuracy": 0.809524},
        {
            "step": 2,
            "train_loss": 0.000061,
            "train_mean_token_accuracy": 1.0,
            "valid_loss": 0.65,
            "valid_mean_token_accuracy": 0.5,
            "full_valid_loss": 0.7,  # in events and checkpoints only: the file has no column
        },
    ]
    text = results_csv(metrics)
    # Five decimals and empty validation cells, as in the real files ("1,1.52347,0.0,,",
    # "30,6e-05,1.0,," in OpenAI's cookbook).
    assert text.splitlines() == [
        "step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy",
        "1,1.52347,0.80952,,",
        "2,6e-05,1.0,0.65,0.5",
    ]
    assert base64.b64decode(results_content(metrics)).decode() == text


def test_validation_runs_every_tenth_step_and_the_whole_file_at_each_epoch_end():
    def data(rows, param):
        return read_training_data(jsonl(rows), "completion", "babbage-002", param, "file-x")

    train = data(tiny_classification(24), "training_file")
    valid = data(tiny_classification(8, offset=100), "validation_file")
    hyperparameters = {"n_epochs": 4, "batch_size": 1, "learning_rate_multiplier": 2.0}
    session = TrainingSession(7, "babbage-002", train, valid, hyperparameters)
    steps = [session.run_step().metrics for _ in range(session.total_steps)]
    batch = [m["step"] for m in steps if "valid_loss" in m]
    full = [m["step"] for m in steps if "full_valid_loss" in m]
    assert VALIDATION_EVERY == 10 and batch == list(range(10, 91, 10))
    assert full == [24, 48, 72, 96]
    # Each measurement takes the next validation example: the first eight see the whole file.
    seen = np.concatenate([session.valid_batch(step) for step in batch[:8]])
    assert sorted(seen.tolist()) == list(range(8))
    # The measurements change nothing: a session replayed without them reaches the same model.
    again = TrainingSession(7, "babbage-002", train, valid, hyperparameters)
    again.replay(session.total_steps)
    assert np.array_equal(again.model.state()[1]["weights"], session.model.state()[1]["weights"])
    # Without a validation file, no step reports validation figures.
    alone = TrainingSession(7, "babbage-002", train, None, hyperparameters)
    assert all(
        set(alone.run_step().metrics) == {"step", "train_loss", "train_mean_token_accuracy"}
        for _ in range(alone.total_steps)
    )


@pytest.mark.parametrize(
    ("given_name", "kept"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\data\\train.jsonl", "train.jsonl"),
        ("", "upload"),
        ("a\x00b\nc.jsonl", "abc.jsonl"),
        ("x" * 300, "x" * 255),
        # Right-to-left override: would display as "invoice_lmth.jsonl"-like spoofs.
        ("invoice\u202elmth.jsonl", "invoicelmth.jsonl"),
        ("zero\u200bwidth\ufeff\u2066.jsonl", "zerowidth.jsonl"),
        ("line\u2028break\x85.jsonl", "linebreak.jsonl"),
        ("\u202e", "upload"),
        ("données été.jsonl", "données été.jsonl"),
    ],
)
def test_upload_names_are_cleaned(given_name, kept):
    assert clean_filename(given_name) == kept


def test_a_rejected_line_is_named_with_its_number_and_field():
    good = '{"prompt": "a", "completion": " b"}\n' * 3
    raw = (good + '\n{"prompt": "a", "completion": 7}\n').encode()
    with pytest.raises(DataRejected) as caught:
        read_training_data(raw, "completion", "babbage-002", "validation_file", "file-v")
    error = caught.value.error
    assert error["param"] == "validation_file" and error["code"] == "invalid_type"
    assert "Validation file file-v, line 5, completion:" in error["message"]


def test_lines_are_split_on_newlines_only():
    # U+2028 inside a JSON string is text, not a line break.
    raw = ('{"prompt": "a\u2028b", "completion": " c"}\n' * 10).encode()
    data = read_training_data(raw, "completion", "babbage-002", "training_file", "file-t")
    assert len(data.examples) == 10 and data.examples[0].context == "a\u2028b"


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["chat", "completion"]))
def test_any_bytes_are_read_or_rejected_with_a_reason(raw, fmt):
    try:
        data = read_training_data(raw, fmt, "babbage-002", "training_file", "file-x")
    except DataRejected as rejected:
        assert set(rejected.error) == {"code", "message", "param"}
        assert rejected.error["param"] == "training_file"
    else:
        assert len(data.examples) >= 10


def test_sampling_a_label_follows_the_temperature():
    from helpers.simulator.answers import pick_label

    p = np.array([0.7, 0.3])
    assert pick_label(p, 0, "any") == 0
    draws = [pick_label(p, 1.0, f"salt{i}") for i in range(2000)]
    assert 0.65 < draws.count(0) / len(draws) < 0.75
    assert all(pick_label(p, 0.01, f"salt{i}") == 0 for i in range(200))
    assert pick_label(p, 1.0, "same") == pick_label(p, 1.0, "same")


@pytest.mark.parametrize(
    ("header", "allowed"),
    [
        ("127.0.0.1:8000", True),
        ("127.0.0.1", True),
        ("localhost:51234", True),
        ("LocalHost", True),
        ("[::1]:8000", True),
        ("127.8.9.10:80", True),
        ("evil.example:8000", False),
        ("localhost.evil.example", False),
        ("192.168.1.20:8000", False),
        ("[::ffff:10.0.0.1]:80", False),
        ("", False),
    ],
)
def test_only_this_machines_host_names_are_loopback(header, allowed):
    assert is_loopback(host_name(header)) is allowed


def test_each_layer_imports_only_the_layers_below_it():
    """training/ never reaches up into the API or the server; the API never into the server."""
    import ast
    from pathlib import Path

    import helpers.simulator as package

    root = Path(package.__file__).parent
    above = {
        "training": ("helpers.simulator.api", "helpers.simulator.app", "helpers.simulator.server"),
        "api": ("helpers.simulator.app", "helpers.simulator.server"),
    }
    for layer, forbidden in above.items():
        for path in (root / layer).glob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module:
                    assert not node.module.startswith(forbidden), f"{path.name}: {node.module}"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Sodium chloride dissolves", ["Sodium"]),
        ("NaCl, then HYDROGEN", ["Sodium", "Hydrogen"]),  # the symbol, then the name in capitals
        ("carbonate and hydrogenic gas", []),  # a name inside a longer word is no mention
        ("The sulfur and the sulphur; aluminium", ["Sulfur", "Aluminum"]),  # either spelling
        ("He said it is in the box", []),  # symbols that are English words are not read alone
    ],
)
def test_elements_are_found_by_name_or_symbol(text, names):
    assert [e.name for e in knowledge.mentioned(text)] == names


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcdegilmnorstuxyzABCHKNOS -3\u212a\u017f", max_size=40))
def test_the_finders_letter_tree_matches_as_the_plain_list_of_names(text):
    # The finder's pattern branches letter by letter; a plain alternation of the same names,
    # longest first, is what it must match, including case-insensitive look-alike letters.
    _, table = knowledge._finder()
    by_length = sorted(table, key=len, reverse=True)
    names = [k for k in by_length if k.islower()]
    symbols = [k for k in by_length if not k.islower()]
    plain = re.compile(
        r"(?<![A-Za-z])(?:(?i:" + "|".join(names) + r")|" + "|".join(symbols) + r")(?![a-z])"
    )
    expected = [m.span() for m in plain.finditer(text)]
    assert [m.span() for m in knowledge._finder()[0].finditer(text)] == expected


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(0, 999).map(knowledge.number_words),
            st.sampled_from(["and", "hundred", "ONE", "Twenty", "-", "x", "\u212a"]),
        ),
        max_size=6,
    ),
    st.lists(st.sampled_from([" ", "", "-", "\t", "  ", "\n"]), min_size=6, max_size=6),
)
def test_numbers_in_words_are_found_as_by_the_plain_list_of_numbers(parts, gaps):
    text = "".join(part + gap for part, gap in zip(parts, gaps, strict=False))
    written = sorted((knowledge.number_words(n) for n in range(1000)), key=len, reverse=True)
    body = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in written)
    plain = re.compile(rf"(?<![A-Za-z-])(?:{body})(?![A-Za-z-])", re.IGNORECASE)
    expected = [m.span() for m in plain.finditer(text)]
    assert [m.span() for m in knowledge.number_words_pattern().finditer(text)] == expected


def test_the_language_prior_is_read_back_from_the_working_folder_as_it_was_built(
    tmp_path, monkeypatch
):
    import marshal

    from helpers.simulator.learners import prior as language
    from helpers.tokens import encoding_for

    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    encoding = encoding_for("gpt-4o-mini")
    text = encoding.encode("There once was a metal called tin,\nWhose number is fifty.")
    chances = []
    try:
        for damage in (None, b"not a prior", None, marshal.dumps([1, 2])):
            if damage is not None:  # a broken cache is built again, never trusted
                next((tmp_path / "cache").glob("prior-*")).write_bytes(damage)
            language._prior_for.cache_clear()  # as a new process would
            chances.append(language.prior(encoding).walk(text)[0].tolist())
    finally:
        language._prior_for.cache_clear()
    assert chances[0] == chances[1] == chances[2] == chances[3]
    assert len(list((tmp_path / "cache").glob("prior-*"))) == 1


def test_a_missing_prior_is_built_in_another_process_and_the_first_job_waits_for_it(
    tmp_path, monkeypatch
):
    from helpers.simulator.learners import prior as language
    from helpers.tokens import encoding_for

    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    encoding = encoding_for("gpt-4o-mini")
    language.build_in_background(("o200k_base",))
    builder = language._building["o200k_base"]
    assert builder.pid != os.getpid()
    language.build_in_background(("o200k_base",))  # one build at a time
    assert language._building["o200k_base"] is builder

    def built_here(*args):
        raise AssertionError("built in this process instead of read from the build")

    monkeypatch.setattr(language.LanguagePrior, "__init__", built_here)
    try:
        language._prior_for.cache_clear()  # as a new process would
        model = language.prior(encoding)  # waits for the builder, then reads what it kept
    finally:
        language._prior_for.cache_clear()
    assert builder.returncode == 0 and "o200k_base" not in language._building
    assert model.walk(encoding.encode("Tin is a metal."))[0].min() > 0
    # Once kept, starting a server builds nothing.
    language.build_in_background(("o200k_base",))
    assert "o200k_base" not in language._building


def test_a_prior_whose_background_build_fails_is_built_where_it_is_needed(tmp_path, monkeypatch):
    from helpers.simulator.learners import prior as language
    from helpers.tokens import encoding_for

    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    monkeypatch.setattr(language.sys, "executable", "false")  # a "Python" that fails at once
    language.build_in_background(("o200k_base",))
    try:
        language._prior_for.cache_clear()
        model = language.prior(encoding_for("gpt-4o-mini"))
    finally:
        language._prior_for.cache_clear()
    assert model.vocabulary_size > 100_000
    assert len(list((tmp_path / "cache").glob("prior-o200k_base-*"))) == 1


def test_a_states_candidates_get_the_same_probabilities_one_by_one_and_together():
    # `probabilities` works out what depends on the state once; it must not change a digit.
    import random

    from helpers.simulator.learners.prior import prior
    from helpers.tokens import get_encoding

    encoding = get_encoding("cl100k_base")
    language = prior(encoding)
    verse = "Neon glows so bright,\nin signs that shine at night.\nIt is number ten, a gas!\n"
    states, state = [None], None
    for token in encoding.encode(verse * 2):  # inside words, between them, at rhymes
        state = language.step(state, token)
        states.append(state)
    rng = random.Random(7)
    for state in states:
        tokens = [t for t, _ in language.likeliest(state, 5)]
        tokens += [rng.randrange(100_000) for _ in range(20)]
        assert language.probabilities(state, tokens) == [
            language.probability(state, t) for t in tokens
        ]
