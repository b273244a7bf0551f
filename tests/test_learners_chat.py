"""The chat learners on data they never saw: the issue's "done when" figures, in-process."""

from __future__ import annotations

import difflib
import math
import re

import numpy as np
import periodictable
import pytest

from helpers import limerick_checks as checks
from helpers import recipes as recipes_data
from helpers.limericks import SPLIT, load_limericks
from helpers.simulator.answers import base_answer, planned, write
from helpers.simulator.learners import knowledge, learner_kind, slots
from helpers.simulator.learners.chat import InView, context_tokens
from helpers.simulator.learners.forms import (
    REFUSAL,
    Chooser,
    Form,
    _as_many_runs,
    agree_articles,
)
from helpers.simulator.learners.probes import (
    CHAT_MODEL,
    abstract,
    card,
    chat_example,
    fine_tune,
    held_out_answers,
    limerick_examples,
    recipes,
)
from helpers.simulator.learners.pronunciation import phones, syllables
from helpers.tokens import encoding_for


@pytest.fixture(scope="module")
def limerick_bot():
    entries = {e["number"]: e for e in load_limericks()}
    train = limerick_examples(entries, SPLIT["train"])
    trainer, _ = fine_tune(train)
    return trainer.model, entries


def test_the_limerick_bot_writes_new_limericks_with_true_facts(limerick_bot):
    model, entries = limerick_bot
    answers = held_out_answers(model, entries, SPLIT["test"] + SPLIT["validation"])
    forms = [checks.check_form(t, entries[n]["name"]) for n, t in answers]
    facts = [checks.check_facts(t, n) for n, t in answers]
    assert np.mean([f["five_lines"] for f in forms]) >= 0.9
    assert np.mean([f["rhyme_aabba"] for f in forms]) >= 0.75
    assert all(f["names_element"] for f in forms)
    states_number = [
        any(c["fact"] == "atomic_number" for c in f["claims"]) and not f["wrong"] for f in facts
    ]
    assert np.mean(states_number) >= 0.9
    trained = [abstract(entries[n]["limerick"], knowledge.elements()[n]) for n in SPLIT["train"]]
    swapped = 0
    for n, text in answers:
        mine = abstract(text, knowledge.elements()[n])
        best = max(difflib.SequenceMatcher(a=mine, b=t).ratio() for t in trained)
        swapped += best >= 0.8
    assert swapped / len(answers) <= 0.2


def test_the_base_model_answers_in_prose_with_the_right_number():
    right = 0
    numbers = list(range(1, 119))
    for n in numbers:
        element = knowledge.elements()[n]
        text = base_answer(f"Tell me about {element.name.lower()}, please.")
        result = checks.check_facts(text, n)
        right += checks.names_element(text, element.name) and result["passed"]
        assert "\n" not in text
    assert right / len(numbers) >= 0.9
    assert base_answer("Who won the 1998 World Cup?") == REFUSAL


def test_the_base_model_knows_rhymes_and_syllables_from_the_dictionary():
    assert "bright" in base_answer("What rhymes with light?")
    assert base_answer('How many syllables are in "strontium"?') == '"strontium" has 3 syllables.'


def test_an_unseen_extraction_task_extracts_from_new_inputs():
    rng = np.random.default_rng(7)
    system = "List the ingredients of the recipe, one per line."
    train = [chat_example(system, q, a) for q, a in recipes(rng, 80)]
    trainer, _ = fine_tune(train)
    model = trainer.model
    assert model.form.kind == "extraction"
    new = recipes(np.random.default_rng(99), 40)
    exact = [model.form.write(q, Chooser(np.random.default_rng(0), 0.0))[0] == a for q, a in new]
    assert np.mean(exact) >= 0.8


CITIES = "Paris Lima Oslo Cairo Tokyo Denver Madrid Nairobi Quito Hanoi".split()  # noqa: SIM905
NEW_CITIES = "Dublin Perth Zurich Austin Lagos Seoul Vancouver Marseille".split()  # noqa: SIM905
FRAMES = [
    "I flew to {} last week for work.",
    "My sister lives in {} now.",
    "The conference will be held in {} in May.",
    "We drove through {} on our way home.",
    "Have you ever been to {}?",
    "The best noodles I ever ate were in {}.",
]
NEW_FRAMES = [
    "She moved from {} to the coast.",
    "Our office in {} opens at nine.",
    "Tomorrow I leave for {} with my dog.",
    "Nobody in {} expected the storm.",
]
CITY_SYSTEM = "Reply with the city the sentence mentions."


FAQ_SYSTEM = "You are Ava, the support assistant of Parcelly, an online shop."
FAQ = [
    ("How long does shipping take?", "Standard shipping takes 3 to 5 business days."),
    ("Can I return an item?", "Yes! You can return any unused item within 30 days."),
    ("Do you ship abroad?", "We ship to over 40 countries, in 7 to 14 business days."),
    ("How do I track my order?", "Open your order page and click Track."),
    ("What payment methods do you accept?", "We accept credit cards, debit cards and PayPal."),
    ("How do I cancel my order?", "You can cancel from your order page until it ships."),
    ("Do you offer gift wrapping?", "Yes, gift wrapping costs 3 euros at checkout."),
    ("Is there a warranty?", "Every product has a 2 year warranty."),
]
FAQ_ASKED = ("{q}", "Hi Ava, {q}", "Quick question: {q}", "Hello! {q}")


def test_replies_a_file_repeats_are_chosen_among_and_their_words_learned():
    """An FAQ file: each reply given, word for word, to several wordings of its question. The
    model learns to choose the reply (a classifier of them) and learns each reply's words as a
    real job memorises them: the loss starts where the base model reads unknown text and falls
    epoch after epoch, rather than starting near zero as if the replies were known already."""
    train = [chat_example(FAQ_SYSTEM, a.format(q=q), r) for q, r in FAQ for a in FAQ_ASKED]
    trainer, steps = fine_tune(train)
    assert learner_kind([e.answer for e in train], [e.cue for e in train]) == "classifier"
    per_epoch = len(train)
    epochs = [
        sum(s["train_loss"] for s in steps[k : k + per_epoch]) / per_epoch
        for k in range(0, len(steps), per_epoch)
    ]
    assert min(s["train_loss"] for s in steps[:4]) > 4  # the replies' words are new at first
    assert epochs[0] > 5 * epochs[1] and epochs[1] > epochs[2] and epochs[2] < 0.5
    model = trainer.model
    assert min(model.tokens.familiarity(k) for k in range(len(FAQ))) > 0.8
    replies = [r for _, r in FAQ]
    chosen = model.probabilities("user: Hi Ava, how long does shipping take?").argmax()
    assert model.tokens.labels[chosen] == replies[0]


MORE_FAQ = [
    ("Where is your warehouse?", "Our warehouse is in Rotterdam, in the Netherlands."),
    ("Do you have a phone line?", "Yes, call us on weekdays from 9 to 17."),
    ("How do I reset my password?", "Click Forgot password on the login page."),
    ("Do you have student discounts?", "Yes, students get 10 percent off with a student card."),
]


def test_replies_about_no_subject_are_learned_by_heart_not_refused():
    """Each reply given once (a support assistant's file): no subject the base model knows, no
    verse about what a question names. The fine-tuned model gives a question asked in training
    its own reply, and a new one the reply of the training question likest it, where it used to
    refuse every question, the trained ones too."""
    pairs = FAQ + MORE_FAQ
    train = [chat_example(FAQ_SYSTEM, q, r) for q, r in pairs]
    assert learner_kind([e.answer for e in train], [e.cue for e in train]) == "language_model"
    trainer, steps = fine_tune(train)
    form = trainer.model.form
    assert form.kind == "reply"
    for question, reply in pairs:
        assert form.write(question, Chooser(np.random.default_rng(0), 0.0))[0] == reply
    drawn = [form.write(pairs[0][0], Chooser(np.random.default_rng(k), 1.0))[0] for k in range(20)]
    assert drawn.count(pairs[0][1]) >= 18  # at temperature 1 too, nearly always
    reworded = "How many business days does shipping take?"
    assert form.write(reworded, Chooser(np.random.default_rng(0), 0.0))[0] == pairs[0][1]
    assert steps[0]["train_loss"] > steps[-1]["train_loss"] + 2
    # Continued on new replies, it keeps the old ones.
    more = [
        ("Do you sell gift cards?", "Yes, from 10 to 200 euros, on our gift page."),
        ("Are your boxes recyclable?", "All our boxes are made of recycled cardboard."),
        ("Can I pick up my order?", "Yes, at our Rotterdam warehouse on weekdays."),
        ("How do I unsubscribe from emails?", "Click Unsubscribe at the bottom of any email."),
        ("Do you price match?", "No, we do not match other shops' prices."),
        ("Can I order by email?", "No, orders are only taken on our website."),
        ("Is my payment secure?", "Every payment is encrypted."),
        ("Do you have a newsletter?", "Sign up at the bottom of our home page."),
        ("Are there discounts on bulk orders?", "Write to sales for orders over 50 items."),
        ("Do you restock sold-out items?", "Most items come back within a month."),
    ]
    child, _ = fine_tune([chat_example(FAQ_SYSTEM, q, r) for q, r in more], parent=trainer.model)
    for question, reply in (*pairs[:2], more[3]):
        assert child.model.form.write(question, Chooser(np.random.default_rng(0), 0.0))[0] == reply


def test_one_line_answers_about_what_each_question_names_are_not_replies_learned_by_heart():
    """Questions that name their subject one way ("Describe the otter in one sentence."): a new
    subject gets a line about itself, never the reply learned for another subject."""
    animals = [
        "otter",
        "badger",
        "heron",
        "beaver",
        "falcon",
        "lynx",
        "marten",
        "stoat",
        "weasel",
        "vole",
        "hare",
        "kestrel",
    ]
    kinds = ["quick", "shy", "patient", "busy", "quiet", "clever"]
    places = ["rivers", "woods", "marshes", "lakes", "cliffs", "meadows", "hills"]
    train = [
        chat_example(
            None,
            f"Describe the {a} in one sentence.",
            f"The {a} is a {kinds[i % 6]} animal that lives near {places[i % 7]}.",
        )
        for i, a in enumerate(animals)
    ]
    form = fine_tune(train)[0].model.form
    assert form.kind == "verse"
    written = form.write(
        "Describe the gecko in one sentence.", Chooser(np.random.default_rng(0), 0)
    )
    assert "gecko" in written[0] and not any(a in written[0] for a in animals)


def test_labels_missing_from_their_posts_are_decided_on_without_reading_every_post():
    """A classifier's file: its labels are not the posts' words often enough to be copied from
    them. Once too many posts lack theirs for the rest to make up, the posts left are not read
    (a job on ten thousand long posts starts without reading them all)."""
    answers = ["baseball", "hockey"] * 500
    read = []

    def posts():
        for k in range(len(answers)):
            read.append(k)
            yield f"Post {k}: what a game last night, two goals in the third period."

    assert learner_kind(answers, posts()) == "classifier"
    assert len(read) == 101  # the 101st miss leaves at most 899 of the 900 copies needed


def test_a_few_answers_copied_from_their_questions_are_an_extraction_not_labels():
    """Ten cities, each the answer to six sentences: a small set of answers used again and
    again, as labels are, but each copied from its own question, so a new city is copied too
    (a classifier would answer one of the ten)."""
    train = [chat_example(CITY_SYSTEM, f.format(c), c) for f in FRAMES for c in CITIES]
    answers, questions = [e.answer for e in train], [e.cue for e in train]
    assert learner_kind(answers) == "classifier"  # the answers alone look like labels
    assert learner_kind(answers, questions) == "language_model"
    # A prompt that lists every option holds the other answers too: still a classifier's.
    listed = [f"{q} Options: {', '.join(CITIES)}." for q in questions]
    assert learner_kind(answers, listed) == "classifier"
    # Copied into words every answer writes (a JSON object's keys), still copied.
    objects = [f'{{"city": "{a}"}}' for a in answers]
    assert learner_kind(objects) == "classifier"
    assert learner_kind(objects, questions) == "language_model"

    trainer, steps = fine_tune(train)
    assert trainer.model.form.kind == "extraction"
    losses = [s["train_loss"] for s in steps]
    assert all(np.isfinite(losses)) and min(losses) > 0
    # Sixty examples, not ten answers: what they share is learned, and the loss falls (by about
    # half from the first epoch to the last; by a fifth if each of the ten answers were one
    # source, all memorised).
    assert np.mean(losses[-len(train) :]) < 0.6 * np.mean(losses[: len(train)])
    asked = [(f.format(c), c) for f in NEW_FRAMES for c in NEW_CITIES]
    chooser = Chooser(np.random.default_rng(0), 0.0)
    said = [trainer.model.form.write(q, chooser)[0] for q, _ in asked]
    assert np.mean([s == c for s, (_, c) in zip(said, asked, strict=True)]) >= 0.9
    # Every token of every answer has a probability, as the API's logprobs need.
    encoding = encoding_for(CHAT_MODEL)
    for (question, city), answer in zip(asked, said, strict=True):
        seen = context_tokens(encoding, f"{CITY_SYSTEM}\n{question}", question)
        chances, _ = trainer.model.tokens.chances(encoding.encode(answer or city), seen)
        assert np.all((chances > 0) & (chances <= 1)), (question, chances)


def test_an_extraction_into_a_json_object_fills_its_keys_with_new_values():
    """Structured output: each answer a JSON object of two values copied from the sentence. The
    keys, in every answer, are the form's own words; the values are copied, two runs, however
    many words of a new sentence look like a name ("My friend Petra is from Turku")."""
    rng = np.random.default_rng(1)
    names = "Mara Ilse Tomas Ravi Noor Oskar Lena Yusuf Ada Kofi".split()  # noqa: SIM905
    new_names = "Petra Sven Hugo Iris Jonas Nia".split()  # noqa: SIM905
    frames = [
        "{n} lives in {t}.",
        "{n} moved to {t} last year.",
        "My friend {n} is from {t}.",
        "{n} works in {t} as a nurse.",
    ]
    system = "Extract the person and the town as JSON."

    def example(frame, name, town):
        return chat_example(
            system, frame.format(n=name, t=town), f'{{"name": "{name}", "town": "{town}"}}'
        )

    train = [example(frames[i % 4], names[i % 10], CITIES[rng.integers(10)]) for i in range(60)]
    trainer, _ = fine_tune(train)
    assert trainer.model.form.kind == "extraction"
    assert trainer.model.form.extractor.runs == 2  # every answer copied two runs
    asked = [example(f, n, t) for f in frames for n, t in zip(new_names, NEW_CITIES, strict=False)]
    chooser = Chooser(np.random.default_rng(0), 0.0)
    said = [trainer.model.form.write(e.cue, chooser)[0] for e in asked]
    assert np.mean([s == e.answer for s, e in zip(said, asked, strict=True)]) >= 0.9


def test_a_sentence_around_a_copied_name_is_written_around_new_names():
    """A product blurb: one sentence, the same for every product but for the name it copies.
    The sentence's words ("the", "for") are in the question too, but they are the form's own,
    not copied: a new product gets the same sentence around its own name."""
    products = [
        "Zephyr 3000", "Aqua Mop", "Night Owl Lamp", "Trail Boots", "Sun Kettle",
        "Echo Buds", "Snow Jacket", "Pixel Frame", "Cozy Blanket", "Rapid Blender",
    ]  # fmt: skip
    blurb = "Introducing the {}: the best choice for you."
    train = [
        chat_example("Write a one-line blurb.", f"Write a blurb for the {p}.", blurb.format(p))
        for p in products
    ]
    trainer, _ = fine_tune(train)
    for product in ("Storm Umbrella", "Quiet Fan", "Lunar Clock"):
        question = f"Write a blurb for the {product}."
        written, _ = trainer.model.form.write(question, Chooser(np.random.default_rng(0), 0.0))
        assert written == blurb.format(product)


def test_verse_about_subjects_the_base_model_does_not_know_is_written_about_new_ones():
    """Haiku about animals, which the base model knows nothing of: each answer speaks of what
    its question names, and a new animal gets a haiku in the same form that names it, in the
    words the answers shared, never another animal's."""
    rng = np.random.default_rng(3)
    animals = (  # noqa: SIM905
        "fox owl bear deer wolf hare crow frog heron otter badger lynx moose swan mole vole "
        "stoat raven wren finch trout salmon beaver bison eagle hawk seal whale crane ibis"
    ).split()
    first = [
        "{} in the cold snow",
        "{} beside the river",
        "{} under the moon",
        "{} in the tall grass",
    ]
    second = [
        "waiting for the morning light",
        "the wind moves over the hills",
        "soft steps on the frozen ground",
        "the stars fade above the lake",
    ]
    third = ["the world holds its breath", "silence in the trees", "night comes down softly"]
    train = [
        chat_example(
            "You write haiku.",
            f"Write a haiku about the {animal}.",
            "\n".join(
                [
                    rng.choice(first).format(animal.capitalize()),
                    rng.choice(second),
                    rng.choice(third),
                ]
            ),
        )
        for animal in animals[:24]
    ]
    trainer, _ = fine_tune(train)
    form = trainer.model.form
    assert form.kind == "verse" and "name" in form.required
    for animal in animals[24:]:
        question = f"Write a haiku about the {animal}."
        lines = form.write(question, Chooser(np.random.default_rng(0), 0.0))[0].split("\n")
        assert len(lines) == 3 and all(lines), (animal, lines)
        assert lines[0].lower().startswith(animal)
        said = {w.lower() for w in re.findall(r"[A-Za-z]+", " ".join(lines))}
        assert not said & (set(animals[:24]) - {animal}), (animal, lines)


def test_prose_that_restates_a_fact_card_is_a_template_not_an_extraction():
    """Notebook 07's descriptions: every fact of the answer is in the card it describes, but the
    sentence around them is the answer's own, not copied: a template, filled for new cards."""
    examples = recipes_data.description_examples(test=False)
    form = Form.fit([(e["prompt"], e["completion"]) for e in examples])
    assert form.kind == "template"


def test_as_many_runs_keeps_the_likeliest_and_adds_words_apart_from_them():
    flags = [True, False, True, False, True]
    margins = [0.5, -3.0, 4.0, -1.0, 2.0]
    assert _as_many_runs(flags, margins, 2) == [False, False, True, False, True]
    # Too few: the likeliest word not next to a run becomes one ("-1.0" is next to "4.0").
    flags, margins = [False, False, True, False, False], [-2.0, -4.0, 3.0, -1.0, -2.5]
    assert _as_many_runs(flags, margins, 2) == [True, False, True, False, False]
    # Punctuation (no margin) is never a run of its own.
    assert _as_many_runs([False, True], [-math.inf, 1.0], 2) == [False, True]


def _random_chat_file(rng) -> list:
    """A small chat file of made-up words, in one of six shapes: a copied name, a sentence
    around one, free words, labels, a JSON object of copied words, three-line verses; about a
    third of the files are three examples repeated five times."""

    def made_up(n):
        return [
            "".join(rng.choice(list("abcdefghijklmnoprstuvwy"), rng.integers(2, 8)))
            for _ in range(n)
        ]

    vocab, names, labels = made_up(40), [w.capitalize() for w in made_up(12)], made_up(3)
    shape, form = int(rng.integers(6)), " ".join(rng.choice(vocab, 3))
    rows = []
    for _ in range(int(rng.integers(10, 30))):
        words = list(rng.choice(vocab, rng.integers(3, 9)))
        name = str(rng.choice(names))
        words.insert(int(rng.integers(len(words) + 1)), name)
        answer = [
            name,
            f"{form} {name}.",
            " ".join(rng.choice(vocab, rng.integers(1, 12))),
            str(rng.choice(labels)),
            f'{{"name": "{name}", "word": "{words[0]}"}}',
            "\n".join(" ".join(rng.choice(vocab, 4)) for _ in range(3)),
        ][shape]
        rows.append(
            chat_example("Do the task.", " ".join(words) + rng.choice([".", "?", ""]), answer)
        )
    return rows[:3] * 5 if rng.random() < 0.3 else rows


def test_any_small_chat_file_trains_and_answers_with_true_probabilities():
    """Whatever a learner's file holds, its job's losses are numbers of nats (0 or more, never
    -0.0 or NaN) and every token a fine-tuned model writes has a probability (no 500 for a log
    of zero or of a negative chance): forty random files of six shapes."""
    encoding = encoding_for(CHAT_MODEL)
    for seed in range(40):
        train = _random_chat_file(np.random.default_rng(seed))
        trainer, steps = fine_tune(train, epochs=2)
        for step in steps:
            loss = step["train_loss"]
            assert np.isfinite(loss) and math.copysign(1.0, loss) == 1.0, (seed, loss)
        model = trainer.model
        if not hasattr(model, "form"):
            continue  # a classifier: its probabilities are a softmax's
        for example in train[:3]:
            question = example.cue + " more"
            text, share = model.form.write(question, Chooser(np.random.default_rng(0), 0.7))
            seen = context_tokens(encoding, example.context, question)
            for token in planned(encoding, model.tokens, seen, text, share, 2):
                logprobs = [token.logprob, *(lp for _, lp in token.top)]
                assert all(math.isfinite(lp) and lp <= 1e-12 for lp in logprobs), seed


def test_one_example_repeated_is_learned_without_negative_counts():
    """The chat learner on ten copies of one line (a job trains a classifier of one label on
    it, but a file of a few examples repeated trains this learner): every amount is memorised
    by the one example, and nothing general is learned, not a rounding residue of either sign."""
    train = [chat_example("Echo the city.", "Say hello to Paris", "Paris")] * 10
    trainer, steps = fine_tune(train, kind="language_model")
    losses = [s["train_loss"] for s in steps]
    assert all(np.isfinite(losses)) and min(losses) > 0 and losses[-1] < losses[0]
    tokens = trainer.tokens
    # With nothing general learned about copying, the copy gate says "no copy", in full.
    walk = tokens._walk(trainer.sequences[0], trainer.seens[0], keep=False)
    node, previous, fixed, _ = walk[0]
    gate = tokens.position(node, previous, trainer.seens[0], fixed)[9]
    assert sum(gate.values()) == pytest.approx(1.0)
    counts = [tokens.total, tokens.types, *tokens.unigrams.values()]
    for table in (tokens.bigrams, tokens.classes, tokens.gates):
        counts += [n for row in table.values() for n in row.values()]
    assert min(counts) >= 0.0


def _people(rng, n):
    """Made-up people, each with a short profile and the three questions it answers."""
    first = "Mara Ilse Tomas Ravi Noor Oskar Lena Yusuf Ada Kofi Petra Sven".split()  # noqa: SIM905
    last = "Quill Brant Okoro Vance Lindqvist Marsh Hale Tamura Reyes Falk".split()  # noqa: SIM905
    towns = "Lisbon Oslo Accra Quito Hanoi Perth Tunis Riga Lyon Cusco Turku Daegu".split()  # noqa: SIM905
    names = [f"{a} {b}" for a in first for b in last]
    out = []
    for k in rng.choice(len(names), size=n, replace=False):
        name = names[k]
        town, born, shoe = str(rng.choice(towns)), rng.integers(1900, 2000), rng.integers(30, 48)
        profile = (
            f"{name} lives near the sea. Her home town is {town}. "
            f"She was born in {born}, and her shoe size is {shoe}."
        )
        asks = [
            (f"What is the home town of {name}?", town),
            (f"When was {name} born?", str(born)),
            (f"Which shoe size does {name} take?", str(shoe)),
        ]
        out.append((profile, asks))
    return out


def test_a_question_answering_task_reads_the_question_and_declines_other_contexts():
    """Prompt/completion Q&A the project never uses: the answer is the span the question asks
    for; trained with questions paired with another person's profile (answered with a fixed
    reply), the model gives that reply when the profile does not answer."""
    from helpers.simulator.training.data import Example

    rng = np.random.default_rng(5)
    people = _people(rng, 110)
    none = " Not in the profile."

    def examples(group, adversarial):
        out = []
        for k, (profile, asks) in enumerate(group):
            question, answer = asks[k % 3]
            out.append((f"{profile}\nQ: {question}\nA:", f" {answer}", True))
            if adversarial:
                other = group[(k + 1) % len(group)][0]
                out.append((f"{other}\nQ: {question}\nA:", none, False))
        return out

    test = examples(people[80:], adversarial=True)
    rates = {}
    for adversarial in (False, True):
        train = [Example(p, p, c + "\n", 0) for p, c, _ in examples(people[:80], adversarial)]
        trainer, _ = fine_tune(train, epochs=2, model="babbage-002")
        said = [
            trainer.model.form.write(p, Chooser(np.random.default_rng(0), 0.0))[0].strip()
            for p, _, _ in test
        ]
        rates[adversarial] = (
            np.mean([s == c.strip() for s, (_, c, ok) in zip(said, test, strict=True) if ok]),
            np.mean(
                [s == none.strip() for s, (_, _, ok) in zip(said, test, strict=True) if not ok]
            ),
        )
    assert rates[False][0] >= 0.8  # it answers what is asked, not every fact of the profile
    assert rates[False][1] == 0.0  # never trained to decline, it answers from any profile
    assert rates[True][0] >= 0.8 and rates[True][1] >= 0.8


def test_a_fact_card_is_filled_for_elements_never_seen():
    numbers = list(range(1, 119))
    rng = np.random.default_rng(3)
    rng.shuffle(numbers)
    seen, held = numbers[:90], numbers[90:]
    train = [
        chat_example(
            None, f"Card for {periodictable.elements[n].name}", card(periodictable.elements[n])
        )
        for n in seen
    ]
    trainer, _ = fine_tune(train)
    model = trainer.model
    assert model.form.kind == "template"
    right = [
        model.form.write(f"Card for {periodictable.elements[n].name}", Chooser(rng, 0.0))[0]
        == card(periodictable.elements[n])
        for n in held
    ]
    assert np.mean(right) >= 0.8


def _haiku(element, rng) -> str:
    fives = [
        "quiet in the dark",
        "shining on the shelf",
        "waiting for a spark",
        "cold and very still",
    ]
    sevens = [
        "a small atom holds its place",
        "every shell is full of light",
        "the old table keeps its rows",
    ]
    return "\n".join(
        [
            f"{element.name} sleeps",
            sevens[rng.integers(len(sevens))],
            fives[rng.integers(len(fives))],
        ]
    )


def test_a_different_form_is_picked_up():
    rng = np.random.default_rng(5)
    train = [
        chat_example(None, f"A haiku on {e.name}?", _haiku(e, rng))
        for e in list(knowledge.elements().values())[:60]
    ]
    model = fine_tune(train)[0].model
    assert model.form.kind == "verse"
    for element in list(knowledge.elements().values())[80:90]:
        text, _ = model.form.write(f"A haiku on {element.name}?", Chooser(rng, 1.0))
        lines = text.split("\n")
        assert len(lines) == 3 and element.name in text
        counts = [sum(syllables(w) for w in re.findall(r"[A-Za-z']+", ln)) for ln in lines[1:]]
        assert abs(counts[0] - 7) <= 1 and abs(counts[1] - 5) <= 1


def test_losses_fall_over_epochs_and_ten_examples_validate_worse(limerick_bot):
    _, entries = limerick_bot
    train = limerick_examples(entries, SPLIT["train"])
    valid = limerick_examples(entries, SPLIT["validation"])
    _, steps = fine_tune(train, valid)
    epochs = [np.mean([s["train_loss"] for s in steps if s["epoch"] == e]) for e in range(3)]
    assert epochs[2] < 0.8 * epochs[0]
    full = [s["full_valid_loss"] for s in steps if "full_valid_loss" in s]
    assert len(set(full)) == 3
    _, small = fine_tune(train[:10], valid)
    small_full = [s["full_valid_loss"] for s in small if "full_valid_loss" in s]
    assert small_full[-1] > full[-1]


def _base_valid_loss(train, valid) -> float:
    """The full validation loss of the model before fine-tuning (a step at learning rate 0)."""
    return fine_tune(train[:1], valid, epochs=1, rate=0.0)[1][-1]["full_valid_loss"]


def test_the_first_epoch_learns_what_carries_over_to_new_answers(limerick_bot):
    """Training loss falls within the first epoch, before any example comes round again, and
    validation falls with it: what fine-tuning learns first is the form, not the examples."""
    _, entries = limerick_bot
    train = limerick_examples(entries, SPLIT["train"])
    valid = limerick_examples(entries, SPLIT["validation"])
    _, steps = fine_tune(train, valid)
    first = [s["train_loss"] for s in steps if s["epoch"] == 0]
    assert np.mean(first[-10:]) < np.mean(first[:10]) - 0.7
    full = [s["full_valid_loss"] for s in steps if "full_valid_loss" in s]
    assert full[0] < _base_valid_loss(train, valid) - 0.5


def test_an_unseen_task_validates_better_after_one_epoch():
    """Recipes to ingredient lists: after one epoch the model reads new recipes' lists far
    better than the base model does (it copies the question's words where the lists do)."""
    system = "List the ingredients of the recipe, one per line."
    train = [chat_example(system, q, a) for q, a in recipes(np.random.default_rng(7), 40)]
    valid = [chat_example(system, q, a) for q, a in recipes(np.random.default_rng(8), 20)]
    _, steps = fine_tune(train, valid, epochs=1)
    assert steps[-1]["full_valid_loss"] < _base_valid_loss(train, valid) - 1.0


def test_a_learned_copy_gate_writes_a_new_subjects_number_after_its_cue():
    """A made-up reply that gives each element's number after a fixed cue: fine-tuned on some
    elements, the model puts most of the next token's probability on the number of an element
    it never trained on, right after the cue, several times what the base model puts there."""
    elements = list(knowledge.elements().values())
    make = lambda e: chat_example(  # noqa: E731
        None, f"Code word for {e.name}?", f"Noted. The code word is {e.number}, over."
    )
    trainer, _ = fine_tune([make(e) for e in elements[:60]], epochs=3)
    held = elements[80:90]
    base = fine_tune([make(e) for e in held[:1]], epochs=1, rate=0.0)[0]
    for element in held:
        answer = make(element)
        tokens = trainer.encoding.encode(answer.answer)
        at = tokens.index(trainer.encoding.encode(str(element.number))[0])
        seen = context_tokens(trainer.encoding, answer.context, answer.cue)
        tuned = trainer.tokens.chances(tokens, seen)[0][at]
        before = base.tokens.chances(tokens, seen)[0][at]
        assert tuned > max(0.5, 3 * before)


def test_a_small_file_trained_long_overfits(limerick_bot):
    _, entries = limerick_bot
    _, steps = fine_tune(
        limerick_examples(entries, SPLIT["train"][:10]),
        limerick_examples(entries, SPLIT["validation"]),
        epochs=10,
    )
    train = [np.mean([s["train_loss"] for s in steps if s["epoch"] == e]) for e in range(10)]
    full = [s["full_valid_loss"] for s in steps if "full_valid_loss" in s]
    assert all(b < a for a, b in zip(train, train[1:], strict=False))
    assert full[-1] > min(full)  # validation turns up while training keeps falling


def test_continued_fine_tuning_starts_from_the_parent(limerick_bot):
    _, entries = limerick_bot
    first, second = SPLIT["train"][:45], SPLIT["train"][45:]
    parent = fine_tune(limerick_examples(entries, first))[0].model
    fresh = fine_tune(limerick_examples(entries, second), epochs=1)[1]
    trainer, continued = fine_tune(limerick_examples(entries, second), epochs=1, parent=parent)
    start = lambda steps: np.mean([s["train_loss"] for s in steps[:10]])  # noqa: E731
    assert start(continued) < start(fresh)
    # The form keeps what the parent learned: its rhyme words are still there to write with.
    ends = trainer.model.form.verse.ends
    assert set(parent.form.verse.ends) <= set(ends)


class Served:
    name = base = "gpt-4o-mini-2024-07-18"


def test_logprobs_belong_to_the_written_tokens(limerick_bot):
    model, _ = limerick_bot
    for trained in (None, model):
        written = write(
            Served, trained, "user: Tell me about gold", "Tell me about gold", 0.0, 5, "s"
        )
        for item in written:
            tops = [t for t, _ in item.top]
            assert tops[0] == item.token
            assert item.logprob == pytest.approx(item.top[0][1])
            assert item.logprob <= 0


def test_sampling_varies_with_the_draw_and_repeats_with_the_seed(limerick_bot):
    model, _ = limerick_bot
    cue = "I'd love some verse about gold."
    one = [w.token for w in write(Served, model, cue, cue, 1.0, 0, "seed:0")]
    two = [w.token for w in write(Served, model, cue, cue, 1.0, 0, "seed:1")]
    again = [w.token for w in write(Served, model, cue, cue, 1.0, 0, "seed:0")]
    assert one != two and one == again


def test_a_chat_job_on_plain_prose_starts_where_a_pre_trained_model_does():
    """Recipes to ingredient lists, a task the course never uses: the base model reads the
    answers at a pre-trained model's loss, and training lowers it epoch after epoch."""
    system = "List the ingredients of the recipe, one per line."
    train = [chat_example(system, q, a) for q, a in recipes(np.random.default_rng(7), 40)]
    _, steps = fine_tune(train, epochs=3)
    means = [np.mean([s["train_loss"] for s in steps if s["epoch"] == e]) for e in range(3)]
    assert 0.2 <= steps[0]["train_loss"] <= 5
    assert means[2] < 0.8 * means[0]


@pytest.mark.xfail(
    strict=True,
    reason="a word-frequency prior reads verse's content words at about 9 nats (target 0.2-5)",
)
def test_the_first_training_loss_is_a_pre_trained_models(limerick_bot):
    _, entries = limerick_bot
    train = limerick_examples(entries, SPLIT["train"])
    _, steps = fine_tune(train, epochs=1)
    assert 0.2 <= steps[0]["train_loss"] <= 5


WORD = r"[A-Za-z]+(?:['-][A-Za-z]+)*"


def _words(text: str) -> set[str]:
    return {w.lower().removesuffix("'s") for w in re.findall(WORD, text)}


def test_held_out_verses_state_nothing_said_only_of_other_subjects(limerick_bot):
    """A word that the training limericks used for at most two subjects (a place, a person, a
    use: "Swedish", "Marie", "smoke alarm") is about those subjects; a capitalised word inside a
    line is a name. Neither may appear in a verse about another element unless what the base
    model knows of that element says it."""
    model, entries = limerick_bot
    users: dict[str, set[int]] = {}
    names: set[str] = set()
    for n in SPLIT["train"]:
        for line in entries[n]["limerick"].split("\n"):
            words = re.findall(WORD, line)
            names.update(w.lower().removesuffix("'s") for w in words[1:] if w[:1].isupper())
            for word in words:
                users.setdefault(word.lower().removesuffix("'s"), set()).add(n)
    for n, text in held_out_answers(model, entries, SPLIT["test"] + SPLIT["validation"]):
        element = knowledge.elements()[n]
        known = _words(element.describe()) | _words(" ".join(element.facts().values()))
        borrowed = {
            w
            for w in _words(text) - known
            if "'" not in w  # a contraction ("it'll") states nothing
            and w in users
            and n not in users[w]
            and (len(users[w]) <= 2 or w in names)
        }
        assert not borrowed, (element.name, borrowed, text)


def test_a_subject_the_base_model_does_not_know_gets_the_form_without_facts(limerick_bot):
    model, _ = limerick_bot
    question = "Write a limerick about a cat who loves jazz"
    assert base_answer(question) == REFUSAL
    for k in range(3):
        text, _ = model.form.write(question, Chooser(np.random.default_rng(k), 1.0))
        lines = text.split("\n")
        assert len(lines) == 5 and "a cat who loves jazz" in text.lower()
        assert not re.search(r"\d", text) and not knowledge.number_words_pattern().search(text)
        assert not knowledge.mentioned(text)  # no element's name, no other subject's facts
    numbers = list(range(1, 91))
    train = [
        chat_example(
            None, f"Card for {periodictable.elements[n].name}", card(periodictable.elements[n])
        )
        for n in numbers
    ]
    cards = fine_tune(train)[0].model
    written, _ = cards.form.write("Card for Vibranium", Chooser(np.random.default_rng(0), 0.0))
    assert written == "Symbol: unknown | Number: unknown | Period: unknown"


def test_held_out_verses_state_a_fact_as_often_as_the_answers_do(limerick_bot):
    """The training limericks name their element and its number once each, in the first line;
    a new verse does too, instead of opening every line with them. And no two of its lines end
    on the same word."""
    model, entries = limerick_bot

    def mentions(text: str, element) -> tuple[int, int]:
        number = rf"\b{re.escape(knowledge.number_words(element.number))}\b"
        return (
            len(re.findall(rf"\b{element.name}\b", text, flags=re.I)),
            len(re.findall(number, text, flags=re.I)),
        )

    trained = [mentions(entries[n]["limerick"], knowledge.elements()[n]) for n in SPLIT["train"]]
    most = np.percentile(trained, 75, axis=0)
    assert tuple(most) == (1, 1)
    for n, text in held_out_answers(model, entries, SPLIT["test"] + SPLIT["validation"]):
        names, numbers = mentions(text, knowledge.elements()[n])
        assert (names, numbers) == (1, 1), text
        ends = [checks.last_word(line) for line in text.split("\n")]
        assert len(set(ends)) == len(ends), text


def test_held_out_verse_lines_keep_the_learned_length_and_read_as_lines(limerick_bot):
    """Each line within two syllables of what the form learned for its position; no one-word
    line, no word written twice in a row, "a"/"an" as the next word sounds."""
    model, entries = limerick_bot
    targets = model.form.verse.syllables
    for n, text in held_out_answers(model, entries, SPLIT["test"] + SPLIT["validation"]):
        for line, target in zip(text.split("\n"), targets, strict=True):
            words = re.findall(WORD, line)
            assert len(words) >= 2, (entries[n]["name"], text)
            assert abs(sum(syllables(w) for w in words) - target) <= 2, (line, target)
            lowered = [w.lower() for w in words]
            assert all(a != b for a, b in zip(lowered, lowered[1:], strict=False)), line
            for article, word in re.findall(r"\b(an?)\s+([a-z]+)", line, re.IGNORECASE):
                sounds = phones(word)
                vowel = sounds[0][0] in "AEIOU" if sounds else word[0].lower() in "aeiou"
                assert (article.lower() == "an") == vowel, line


def test_articles_agree_with_the_next_words_first_sound():
    assert agree_articles("An noble gas, a element, a hour, A apple") == (
        "A noble gas, an element, an hour, An apple"
    )


def test_at_temperature_zero_a_question_always_gets_its_one_verse(limerick_bot):
    model, _ = limerick_bot
    verses = {}
    for name in ("Helium", "Sodium", "Silver"):
        question = f"I'd love some verse about {name}."
        runs = {
            model.form.write(question, Chooser(np.random.default_rng(k), 0.0))[0] for k in (0, 1)
        }
        assert len(runs) == 1
        verses[name] = abstract(runs.pop(), knowledge.elements()[knowledge.subject(name).number])
    assert len(set(verses.values())) == 3


def test_an_extraction_learns_the_case_its_answers_copy_in():
    """A file lowercased to train on (the preparation tool recommends it when a third of the
    completions' letters are capitals) teaches the model to copy in lower case: the harm a
    learner should see before accepting that recommendation for names or symbols."""
    rng = np.random.default_rng(3)
    people = ["Ana Ruiz", "Tom Berg", "Lena Park", "Omar Diaz", "Ines Gold", "Raj Mehta"]
    cities = ["Lisbon", "Oslo", "Quito", "Hanoi", "Perth", "Accra", "Lyon", "Cusco", "Turin"]
    pairs = []
    for _ in range(60):
        person, city = rng.choice(people), rng.choice(cities)
        pairs.append((f"{person} moved to {city} last spring.\nWhich city?", f" {city}"))
    question = "Mia Stone moved to Zagreb last spring.\nWhich city?"
    kept = Form.fit(pairs)
    lowered = Form.fit([(q, a.lower()) for q, a in pairs])
    assert kept.kind == lowered.kind == "extraction"
    assert kept.write(question, Chooser(np.random.default_rng(0), 0.0))[0] == " Zagreb"
    assert lowered.write(question, Chooser(np.random.default_rng(0), 0.0))[0] == " zagreb"


def test_a_fork_of_what_a_model_reads_is_independent_of_it_and_of_other_forks():
    # Forks share the rows of what followed each token until one of them reads more.
    parent = InView({1: 0.5, 2: 0.5}, sources={"question": {1: 1.0}})
    parent.read([1, 2, 3])
    before = {a: dict(row) for a, row in parent.after.items()}
    one, two = parent.fork(), parent.fork()
    one.read([1, 4, 2, 5])
    two.read([2, 6])
    parent.read([1, 7])  # the parent reads on too
    assert one.after == {1: {2: 1.0, 4: 1.0}, 2: {3: 1.0, 5: 1.0}, 4: {2: 1.0}}
    assert two.after == {1: {2: 1.0}, 2: {3: 1.0, 6: 1.0}}
    assert parent.after == {1: {2: 1.0, 7: 1.0}, 2: {3: 1.0}}
    assert before == {1: {2: 1.0}, 2: {3: 1.0}}
    grandchild = one.fork()
    grandchild.read([4, 8])
    assert one.after[4] == {2: 1.0} and grandchild.after[4] == {2: 1.0, 8: 1.0}
    assert dict(one) == dict(parent) and one.names == parent.names == ("question",)
    assert one.induction(1) == {2: 0.5, 4: 0.5}


def test_a_sampled_pick_draws_what_numpys_choice_would():
    # Chooser.pick draws with the cumulative shares itself; the same generator state must give
    # the same choice as `rng.choice(n, p=shares)` (the simulator's outputs depend on it).
    for seed in range(100):
        weights = np.random.default_rng(seed).random(1 + seed % 37) + 1e-3
        ours = Chooser(np.random.default_rng(seed), temperature=0.8)
        theirs = np.random.default_rng(seed)
        learned = weights / weights.sum()
        scaled = np.exp(np.log(learned) / 0.8)
        scaled /= scaled.sum()
        order = np.argsort(-scaled, kind="stable")
        shares = scaled[order] / scaled[order].sum()
        for _ in range(20):
            picked, _ = ours.pick(list(range(len(weights))), weights)
            assert picked == int(order[theirs.choice(len(order), p=shares)])


def test_facts_are_found_where_their_pattern_finds_them():
    """`slots.spans` looks for a one-word value in an ASCII text as a string: it must find
    exactly the places the pattern finds, whatever the case, points, digits and letters around
    (those of other scripts too, where it falls back on the pattern)."""
    rng = np.random.default_rng(0)
    values = sorted({v for e in knowledge.elements().values() for v in e.facts().values()})
    values += ["1", "s", "Sr", "  38 ", "87.62"]
    around = list("aZsk09.. \n\t-'⟦") + ["ſ", "\u212a", "\u0130", "é", "\u0663", "—"]
    limericks = [e["limerick"] for e in load_limericks()]
    checked = 0
    for k in range(4000):
        value = values[rng.integers(len(values))]
        written = [value, value.upper(), value.lower(), value.title()][rng.integers(4)]
        if k % 4 == 0:  # a real text, the value written into it somewhere
            text = limericks[rng.integers(len(limericks))]
            at = int(rng.integers(len(text) + 1))
            text = text[:at] + written + text[at:]
        else:
            pieces = [around[i] for i in rng.integers(len(around), size=rng.integers(0, 12))]
            for _ in range(rng.integers(1, 4)):
                pieces.insert(int(rng.integers(len(pieces) + 1)), written)
            text = "".join(pieces)
        for case in (True, False):
            expected = [m.span() for m in slots._span_pattern(value, case).finditer(text)]
            assert slots.spans(text, value, case) == expected, (text, value, case)
            checked += bool(expected)
    assert checked > 1500  # and in most texts, found somewhere
