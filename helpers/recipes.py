"""The datasets of notebook 07's recipes, made by the course from `data/` and 20 Newsgroups.

Each recipe of OpenAI's fine-tuning guide is a data format: how a prompt ends (a separator the
model learns to answer after), how a completion starts (a space) and ends (a stop sequence). The
functions here build small, deterministic datasets in those formats. Posts come from the 20
Newsgroups call (downloaded or cached, never committed); element facts from `data/elements.csv`.
Training and test sets never share an element or a post, so every score is on unseen inputs.
"""

from __future__ import annotations

import random

from helpers.course import SEPARATOR
from helpers.datasets import cached_posts
from helpers.elements import elements

# Recipe 1: four newsgroups, each answered with a one-token number (" 1" ... " 4").
TRIAGE_CATEGORIES = ["comp.graphics", "rec.autos", "sci.med", "sci.space"]
# Recipe 2: a two-class task scored with the probability of one label.
SCORE_CATEGORIES = ["rec.autos", "rec.motorcycles"]
SCORE_LABELS = {"rec.autos": " car", "rec.motorcycles": " bike"}
POST_CHARS = 1500  # long posts are cut: the topic shows early, and tokens cost money
END = " END"
NO_CONTEXT = "No appropriate context found to answer the question."


def is_test_element(number: int) -> bool:
    """One element in four is held out of every training set (the test elements)."""
    return number % 4 == 0


def _elements(test: bool) -> list[dict]:
    return [e for n, e in sorted(elements().items()) if is_test_element(n) == test]


def _cut(post: str) -> str:
    post = post.strip()
    return post if len(post) <= POST_CHARS else post[:POST_CHARS].rsplit(" ", 1)[0]


# --------------------------------------------------------------------------- 1 and 2: posts


def triage_examples(subset: str, per_class: int) -> list[dict]:
    """Prompt/completion examples: a post, then the number of its newsgroup (" 1" ... " 4")."""
    labels = {group: f" {i + 1}" for i, group in enumerate(TRIAGE_CATEGORIES)}
    return _labelled_posts(TRIAGE_CATEGORIES, labels, subset, per_class)


def score_examples(subset: str, per_class: int) -> list[dict]:
    """Prompt/completion examples: a post about cars (" car") or motorcycles (" bike")."""
    return _labelled_posts(SCORE_CATEGORIES, SCORE_LABELS, subset, per_class)


def _labelled_posts(categories, labels: dict, subset: str, per_class: int) -> list[dict]:
    """The first `per_class` posts of each newsgroup, in the course's order, with its label."""
    posts = cached_posts(categories, subset)
    taken = dict.fromkeys(range(len(categories)), 0)
    out = []
    for text, target in zip(posts.data, posts.target, strict=True):
        if taken[target] < per_class:
            taken[target] += 1
            label = labels[posts.target_names[target]]
            out.append({"prompt": _cut(text) + SEPARATOR, "completion": label})
    return out


# --------------------------------------------------------------------------- 3: statements


def _claims(e: dict, rng: random.Random) -> list[tuple[str, str]]:
    """(true statement, subtly false statement) pairs about one element."""
    table = elements()
    n, name = e["number"], e["name"]
    near = [m for m in (n - 2, n - 1, n + 1, n + 2) if m in table]
    other = table[rng.choice(near)]
    period = int(e["period"])
    wrong_period = period + 1 if period < 7 else period - 1
    pairs = [
        (f"{name} has atomic number {n}.", f"{name} has atomic number {other['number']}."),
        (
            f"The chemical symbol of {name} is {e['symbol']}.",
            f"The chemical symbol of {name} is {other['symbol']}.",
        ),
        (
            f"{name} sits in period {period} of the periodic table.",
            f"{name} sits in period {wrong_period} of the periodic table.",
        ),
    ]
    phases = ["solid", "liquid", "gas"]
    if e["phase"] in phases:
        wrong = rng.choice([p for p in phases if p != e["phase"]])
        pairs.append(
            (
                f"At room temperature {name} is a {e['phase']}.",
                f"At room temperature {name} is a {wrong}.",
            )
        )
    return pairs


def statement_examples(test: bool, seed: int = 7) -> list[dict]:
    """Statements about elements, each " yes" (supported by the periodic table) or " no".

    Every element gives one true and one subtly false statement, on two different facts, so the
    wording alone never tells which is which.
    """
    rng = random.Random(seed)
    out = []
    for e in _elements(test):
        pairs = _claims(e, rng)
        true_pair, false_pair = rng.sample(pairs, 2)
        out.append({"prompt": f"Statement: {true_pair[0]}\nSupported:", "completion": " yes"})
        out.append({"prompt": f"Statement: {false_pair[1]}\nSupported:", "completion": " no"})
    return out


# --------------------------------------------------------------------------- 4: generation


def fact_card(e: dict) -> str:
    """An element's facts as structured input: one `key: value` per line."""
    group = e["group"] or "none (f-block)"
    return (
        f"name: {e['name']}\nsymbol: {e['symbol']}\nnumber: {e['number']}\n"
        f"group: {group}\nperiod: {e['period']}\nphase: {e['phase'] or 'unknown'}"
    )


def description(e: dict) -> str:
    """The short description a product-description model would write from the facts."""
    where = f"group {e['group']}, period {e['period']}" if e["group"] else f"period {e['period']}"
    state = f"a {e['phase']} at room temperature" if e["phase"] else "made only in tiny amounts"
    return f"{e['name']} ({e['symbol']}) is element {e['number']}, in {where}; it is {state}."


def description_examples(test: bool) -> list[dict]:
    """Fact card -> description, ending with the stop sequence " END"."""
    return [
        {"prompt": fact_card(e) + SEPARATOR, "completion": " " + description(e) + END}
        for e in _elements(test)
    ]


# --------------------------------------------------------------------------- 5: extraction

_PEOPLE = ["Dr. Ortiz", "Professor Lindqvist", "Ms. Okafor", "Mr. Haddad", "Dr. Nakamura"]
_PLACES = ["Geneva", "Oslo", "Lagos", "Kyoto", "Lima", "Perth"]
_SENTENCES = [
    "{person} measured {a} and {b} in a lab in {place}.",
    "A report from {place} compares {a} with {b}, says {person}.",
    "Samples of {a} arrived in {place}; {person} also asked for {b}.",
    "{person} wrote that {a} reacts faster than {b} in the {place} tests.",
    "In {place}, {person} found traces of {a} next to {b}.",
    "The supplier in {place} sells {a}, and {person} wants {b} too.",
]


def extraction_examples(test: bool, seed: int = 11) -> list[dict]:
    """A sentence naming two elements among people and places; the completion lists the two
    elements, in order, separated by commas and ended by a newline."""
    rng = random.Random(seed + test)
    chosen = _elements(test)
    out = []
    for i, e in enumerate(chosen):
        other = chosen[(i + 7) % len(chosen)]
        sentence = rng.choice(_SENTENCES).format(
            person=rng.choice(_PEOPLE), place=rng.choice(_PLACES), a=e["name"], b=other["name"]
        )
        out.append(
            {"prompt": sentence + SEPARATOR, "completion": f" {e['name']}, {other['name']}\n"}
        )
    return out


def entities_in(completion: str) -> list[str]:
    """The entities a completion lists (the format the extraction examples teach)."""
    return [part.strip() for part in completion.strip().split(",") if part.strip()]


def entity_scores(expected: list[list[str]], found: list[list[str]]) -> dict[str, float]:
    """Exact-match rate (the whole list right) and entity-level precision, recall and F1."""
    if len(expected) != len(found):
        raise ValueError(f"{len(expected)} expected lists but {len(found)} found.")
    exact = sum(a == b for a, b in zip(expected, found, strict=True))
    true_positives = sum(len(set(a) & set(b)) for a, b in zip(expected, found, strict=True))
    n_found = sum(len(set(b)) for b in found)
    n_expected = sum(len(set(a)) for a in expected)
    precision = true_positives / n_found if n_found else 0.0
    recall = true_positives / n_expected if n_expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "exact_match": exact / len(expected) if expected else 0.0,
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


# --------------------------------------------------------------------------- 6: Q&A


def context_of(e: dict) -> str:
    """A short paragraph of facts about one element: the context a question is answered from."""
    group = f"group {e['group']}" if e["group"] else "no group (it is in the f-block)"
    found = {"ancient": ", and was known since ancient times", "": ""}.get(
        e["discovered"], f", and was discovered in {e['discovered']}"
    )  # no year where the references disagree: the paragraph then says nothing of it
    return (
        f"{e['name']} has the symbol {e['symbol']} and atomic number {e['number']}. "
        f"It is in period {e['period']} and {group}{found}."
    )


def _questions(e: dict) -> list[tuple[str, str]]:
    name = e["name"]
    pairs = [
        (f"What is the chemical symbol of {name}?", e["symbol"]),
        (f"What is the atomic number of {name}?", str(e["number"])),
        (f"In which period is {name}?", e["period"]),
    ]
    if e["discovered"] not in ("ancient", ""):  # a year to answer with
        pairs.append((f"When was {name} discovered?", e["discovered"]))
    return pairs


def qa_prompt(context: str, question: str) -> str:
    return f"{context}\n\nQuestion: {question}\nAnswer:"


def discriminator_prompt(context: str, question: str) -> str:
    return f"{context}\n\nQuestion: {question}\nRelated:"


def qa_examples(test: bool, adversarial: bool, seed: int = 5) -> list[dict]:
    """Questions answered from their element's context; with `adversarial`, each element also
    gives one question paired with another element's context, answered NO_CONTEXT."""
    rng = random.Random(seed + test)
    chosen = _elements(test)
    out = []
    for i, e in enumerate(chosen):
        question, answer = rng.choice(_questions(e))
        out.append({"prompt": qa_prompt(context_of(e), question), "completion": f" {answer}\n"})
        if adversarial:
            wrong = chosen[(i + 1 + rng.randrange(len(chosen) - 1)) % len(chosen)]
            question, _ = rng.choice(_questions(e))
            out.append(
                {"prompt": qa_prompt(context_of(wrong), question), "completion": f" {NO_CONTEXT}\n"}
            )
    return out


def discriminator_examples(test: bool, seed: int = 9) -> list[dict]:
    """Does this context answer this question? " yes" for the element's own context, " no" for
    another element's."""
    rng = random.Random(seed + test)
    chosen = _elements(test)
    out = []
    for i, e in enumerate(chosen):
        question, _ = rng.choice(_questions(e))
        wrong = chosen[(i + 1 + rng.randrange(len(chosen) - 1)) % len(chosen)]
        out.append({"prompt": discriminator_prompt(context_of(e), question), "completion": " yes"})
        out.append(
            {"prompt": discriminator_prompt(context_of(wrong), question), "completion": " no"}
        )
    return out


# --------------------------------------------------------------------------- 7: support chat

SUPPORT_SYSTEM = "You are the help desk of Periodic Supplies, a shop that sells element samples."


def support_conversations() -> list[dict]:
    """Multi-turn support chats: the customer asks for a sample, then asks a follow-up.

    The first assistant turn (a greeting that every chat shares) has weight 0: it is part of the
    conversation the model reads, but the model is not trained to write it.
    """
    out = []
    for e in _elements(test=False):
        phase = e["phase"] or "not known"
        out.append(
            {
                "messages": [
                    {"role": "system", "content": SUPPORT_SYSTEM},
                    {"role": "user", "content": f"Hi, do you sell {e['name']}?"},
                    {
                        "role": "assistant",
                        "content": "Hello! Thanks for contacting Periodic Supplies.",
                        "weight": 0,
                    },
                    {"role": "user", "content": f"What state is {e['name']} in when it ships?"},
                    {
                        "role": "assistant",
                        "content": f"{e['name']} ({e['symbol']}) ships as it is at room "
                        f"temperature: its state is {phase}.",
                        "weight": 1,
                    },
                ]
            }
        )
    return out
