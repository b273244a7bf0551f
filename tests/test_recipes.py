"""Notebook 07's datasets and what the simulator's learners bring to its recipes."""

import numpy as np
import pytest

from helpers import recipes
from helpers.simulator.learners.fact_reading import fact_reader, fact_words, names_element
from helpers.simulator.learners.forms import Chooser, Form
from helpers.simulator.training.wandb_run import write_offline_runs


def names_in(rows):
    # The first element named in each prompt: the subject of the statement.
    from helpers.simulator.learners.knowledge import mentioned

    return {mentioned(row["prompt"])[0].name for row in rows}


def test_statements_are_deterministic_balanced_and_split_by_element():
    train = recipes.statement_examples(test=False)
    assert train == recipes.statement_examples(test=False)
    test = recipes.statement_examples(test=True)
    assert [r["completion"] for r in train].count(" yes") == len(train) // 2
    assert not names_in(train) & names_in(test)


def test_a_false_statement_differs_from_the_facts():
    rows = recipes.statement_examples(test=True)
    assert all("Supported:" in r["prompt"] for r in rows)
    false = [r["prompt"] for r in rows if r["completion"] == " no"]
    assert "Beryllium has atomic number 4." not in " ".join(false)


def test_facts_are_read_against_the_subject_only_for_texts_about_elements():
    texts = [r["prompt"] for r in recipes.statement_examples(test=False)]
    reader = fact_reader(texts)
    assert reader is not None
    assert "⟦number⟧" in fact_words("Statement: Sodium has atomic number 11.\nSupported:", reader)
    wrong = fact_words("Statement: Sodium has atomic number 12.\nSupported:", reader)
    assert "⟦number⟧" not in wrong and "⟦num⟧" in wrong
    assert fact_reader(["A post about hockey.", "Another about baseball."]) is None


@pytest.mark.parametrize(
    ("naming", "others", "about_elements"),
    [(1, 1, True), (1, 2, False), (2, 2, True), (2, 3, False), (0, 0, False), (3, 0, True)],
)
def test_a_file_is_about_elements_when_at_least_half_its_texts_name_one(
    naming, others, about_elements
):
    # In either order: the count may stop early, but never before its answer is settled.
    texts = ["Neon glows in signs."] * naming + ["Hockey on ice."] * others
    for ordered in (texts, texts[::-1]):
        assert (fact_reader(ordered) is not None) == about_elements


def test_names_an_element_agrees_with_the_elements_mentioned():
    from helpers.simulator.learners.knowledge import mentioned, names_an_element

    for text in ["Sodium has atomic number 11.", "Fe and Cu.", "Hockey on ice.", "", "HE said"]:
        assert names_an_element(text) == bool(mentioned(text))


def test_a_texts_words_are_read_once_and_handed_out_as_new_lists():
    from helpers.simulator.learners.text_features import _words, words

    text = "Gretzky's 1981-82 season: 92 goals (e-mail gretzky@nhl.com)."
    first = words(text)
    assert first == ["gretzky's", "1981-82", "season", "92", "goals", "e-mail", "gretzky@nhl.com"]
    hits = _words.cache_info().hits
    first.append("changed by a caller")  # a trainer adds fact words to the list it gets
    assert words(text) == first[:-1]
    assert _words.cache_info().hits == hits + 1


def test_entity_scores():
    scores = recipes.entity_scores([["Neon", "Argon"], ["Iron"]], [["Neon"], ["Iron"]])
    assert scores["exact_match"] == 0.5
    assert scores["precision"] == 1.0
    assert scores["recall"] == pytest.approx(2 / 3)
    assert recipes.entities_in(" Neon, Argon\n") == ["Neon", "Argon"]


def test_extraction_of_element_names_generalises_to_unseen_elements():
    train = recipes.extraction_examples(test=False)
    form = Form.fit([(r["prompt"], r["completion"]) for r in train])
    assert form.kind == "extraction"
    test = recipes.extraction_examples(test=True)
    chooser = Chooser(np.random.default_rng(0), 0)
    found = [recipes.entities_in(form.write(r["prompt"], chooser)[0]) for r in test]
    expected = [recipes.entities_in(r["completion"]) for r in test]
    assert recipes.entity_scores(expected, found)["f1"] >= 0.9
    assert names_element("Neon") and not names_element("Geneva")


def test_qa_adversarial_examples_pair_questions_with_another_context():
    rows = recipes.qa_examples(test=False, adversarial=True)
    declines = [r for r in rows if r["completion"].strip() == recipes.NO_CONTEXT]
    assert len(declines) == len(rows) // 2
    for row in declines:
        context, question = row["prompt"].split("\n\nQuestion: ")
        assert context.split(" ")[0] not in question
    disc = recipes.discriminator_examples(test=True)
    assert {r["completion"] for r in disc} == {" yes", " no"}


def test_support_chats_weight_the_greeting_zero():
    chat = recipes.support_conversations()[0]["messages"]
    weights = [m.get("weight") for m in chat if m["role"] == "assistant"]
    assert weights == [0, 1]


def test_a_job_without_wandb_integration_writes_no_run(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    job = {"id": "ftjob-x", "model": "babbage-002", "integrations": []}
    assert write_offline_runs(job, [{"step": 1, "train_loss": 1.0}]) == 0
    assert not (tmp_path / "wandb").exists()


def test_every_question_has_an_answer_its_paragraph_states():
    # An element whose discovery year the references dispute gets no year in its paragraph,
    # and no question about it: never "discovered in ." answered with nothing.
    for test in (False, True):
        for example in recipes.qa_examples(test=test, adversarial=True):
            context = example["prompt"].split("\n\nQuestion: ")[0]
            answer = example["completion"].strip()
            assert answer and " in ." not in context
            assert answer == recipes.NO_CONTEXT or answer in context
