"""Fine-tuning a pre-trained model on free-text answers: its token model and its form.

The token model gives each token of an answer a probability: a mixture of

- what the model reads in context: the words of the conversation so far and what it knows
  about the subject asked (`knowledge`), share `lam`;
- the pre-trained language prior (`prior`), weight 1 - w;
- what fine-tuning learned: a bigram model of the training answers' tokens, backed off to a
  unigram of them and to the prior, weight w.

w = E / (E + HALF_WEIGHT), where E adds up the learning rate (the multiplier, decaying linearly
over the job, as OpenAI's schedules do) times the examples of each step; each step also adds its
examples' bigrams to the counts with that same weight. So the learned part takes over and
sharpens with steps x learning rate: training loss falls epoch after epoch, and a small file
trained for many epochs is memorised (validation loss turns up). `lam` moves from the prior's
share to the share of answer tokens that were in context, measured on the examples seen.

Losses are the mean negative log-likelihood per answer token, measured on each batch before the
update; accuracy is the share of tokens the model ranks first. What the model writes comes from
its `forms.Form`, fitted on the examples seen so far.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from helpers.simulator.learners import knowledge
from helpers.simulator.learners.forms import Form
from helpers.simulator.learners.prior import prior

COUNT_SCALE = 0.3  # counts a token adds per unit of learning rate: one pass does not memorise
HALF_WEIGHT = 60.0  # learning-rate-weighted examples after which the learned part weighs half
BACKOFF = 20.0  # how much a bigram row trusts the unigram: one sighting does not memorise
UNIGRAM_BACKOFF = 2000.0  # how much the learned unigram trusts the prior (new words stay possible)
PRIOR_CONTEXT_SHARE = 0.2  # the pre-trained model's habit of repeating what it reads
# How strongly a pre-trained model copies from each part of what it reads: the question and the
# facts of its subject far more than the rest of the conversation (the system message, say).
COPY_WEIGHTS = {"question": 3.0, "subject": 2.0, "conversation": 1.0}
# The share an in-context copy takes after a token that appeared before (in the conversation, the
# subject's facts or the answer so far): what followed it there comes next, as induction heads do.
INDUCTION = 0.3
START = -1


def _encode(encoding, text: str) -> list[int]:
    return encoding.encode(text, disallowed_special=())


class InView(dict):
    """The tokens a model has in view, each with its share of the model's copying (the shares
    add to 1), and, for induction, what followed each token where it appeared: in the
    conversation, in the facts it knows about the subject, and in the answer written so far."""

    def __init__(self, weights=(), after=None):
        super().__init__(weights)
        self.after: dict[int, dict[int, float]] = after if after is not None else {}

    def read(self, tokens: list[int], strength: float = 1.0) -> None:
        for a, b in zip(tokens, tokens[1:], strict=False):
            row = self.after.setdefault(a, {})
            row[b] = row.get(b, 0.0) + strength

    def fork(self) -> InView:
        """A copy to read an answer into, token by token, leaving this one as it was."""
        return InView(self, {a: dict(row) for a, row in self.after.items()})

    def induction(self, previous: int) -> dict[int, float] | None:
        row = self.after.get(previous)
        if not row:
            return None
        total = sum(row.values())
        return {t: n / total for t, n in row.items()}


def context_tokens(encoding, context: str, cue: str) -> InView:
    """The tokens a model has in view (the conversation, the question, the facts it knows about
    the question's subject), with their copy shares and what followed each of them."""
    weights: dict[int, float] = {}
    sequences: list[list[int]] = []

    def add(tokens, part):
        sequences.append(tokens)
        for token in set(tokens):
            weights[token] = max(weights.get(token, 0.0), COPY_WEIGHTS[part])

    add(_encode(encoding, context), "conversation")
    element = knowledge.subject(cue)
    if element is not None:
        for value in element.facts().values():
            add(_encode(encoding, f" {value}"), "subject")
            add(_encode(encoding, value), "subject")
        add(_encode(encoding, element.describe()), "subject")
    add(_encode(encoding, cue), "question")
    add(_encode(encoding, f" {cue}"), "question")
    total = sum(weights.values()) or 1.0
    seen = InView({token: weight / total for token, weight in weights.items()})
    for tokens in sequences:
        seen.read(tokens)
    return seen


class TokenModel:
    """The per-token probabilities of a (partly) fine-tuned model."""

    def __init__(self, encoding, bigrams=None, unigrams=None, exposure=0.0, in_context=(0, 0)):
        self.prior = prior(encoding)
        self.bigrams: dict[int, Counter] = bigrams or {}
        self.row_totals = {p: sum(r.values()) for p, r in self.bigrams.items()}
        self.unigrams: Counter = unigrams or Counter()
        self.total = sum(self.unigrams.values())
        self.exposure = exposure
        self.in_context = list(in_context)  # (answer tokens in context, answer tokens)

    @property
    def weight(self) -> float:
        return self.exposure / (self.exposure + HALF_WEIGHT)

    @property
    def context_share(self) -> float:
        hits, seen = self.in_context
        measured = (hits + 1) / (seen + 10)
        return (1 - self.weight) * PRIOR_CONTEXT_SHARE + self.weight * measured

    def chances(self, tokens: list[int], seen: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        """Each token's probability, and whether the model ranks it first."""
        w, lam = self.weight, self.context_share
        out, first = np.empty(len(tokens)), np.zeros(len(tokens), bool)
        node, previous = (), START
        seen = seen.fork() if isinstance(seen, InView) else InView(seen)
        for i, token in enumerate(tokens):
            out[i] = self._chance(token, node, previous, seen, w, lam)
            first[i] = out[i] >= max(
                (
                    self._chance(t, node, previous, seen, w, lam)
                    for t in self._rivals(node, previous, seen)
                    if t != token
                ),
                default=0.0,
            )
            seen.read([previous, token])
            node, previous = self.prior.step(node, token), token
        return out, first

    def _rivals(self, node: tuple, previous: int, seen) -> list[int]:
        row = self.bigrams.get(previous)
        rivals = self.prior.likeliest(node, 1)
        best = [t for t, _ in rivals]
        copied = seen.induction(previous) if isinstance(seen, InView) else None
        if copied:
            best.append(max(copied, key=copied.get))
        if row:
            best.append(max(row, key=row.get))
        return best

    def _chance(self, token, node, previous, seen, w, lam) -> float:
        base = self.prior.probability(node, token)
        unigram = (self.unigrams.get(token, 0) + UNIGRAM_BACKOFF * base) / (
            self.total + UNIGRAM_BACKOFF
        )
        row = self.bigrams.get(previous)
        count = row.get(token, 0) if row else 0
        bigram = (count + BACKOFF * unigram) / (self.row_totals.get(previous, 0) + BACKOFF)
        copied = seen.induction(previous) if isinstance(seen, InView) else None
        if copied is None:
            return lam * seen.get(token, 0.0) + (1 - lam) * ((1 - w) * base + w * bigram)
        mixed = lam * seen.get(token, 0.0) + (1 - lam) * ((1 - w) * base + w * bigram)
        return INDUCTION * copied.get(token, 0.0) + (1 - INDUCTION) * mixed

    def distribution(self, node, previous, seen: dict[int, float], top: int):
        """The `top` likeliest tokens at this point, with their probabilities."""
        w, lam = self.weight, self.context_share
        options = {t for t, _ in self.prior.likeliest(node, top)}
        options.update(sorted(seen, key=lambda t: (-seen[t], t))[:top])
        row = self.bigrams.get(previous)
        if row:
            options.update(t for t, _ in row.most_common(top))
        copied = seen.induction(previous) if isinstance(seen, InView) else None
        if copied:
            options.update(sorted(copied, key=lambda t: (-copied[t], t))[:top])
        scored = [(self._chance(t, node, previous, seen, w, lam), t) for t in sorted(options)]
        scored.sort(key=lambda p: (-p[0], p[1]))
        return [(t, p) for p, t in scored[:top]]

    def learn(self, sequences: list[list[int]], seens: list[dict], rate: float) -> None:
        exposure, rate = rate, rate * COUNT_SCALE
        for tokens, seen in zip(sequences, seens, strict=True):
            previous = START
            for token in tokens:
                row = self.bigrams.setdefault(previous, Counter())
                row[token] += rate
                self.row_totals[previous] = self.row_totals.get(previous, 0) + rate
                self.unigrams[token] += rate
                self.total += rate
                previous = token
            self.in_context[0] += sum(t in seen for t in tokens)
            self.in_context[1] += len(tokens)
            self.exposure += exposure

    def copy(self, encoding) -> TokenModel:
        return TokenModel(
            encoding,
            {p: Counter(r) for p, r in self.bigrams.items()},
            Counter(self.unigrams),
            self.exposure,
            tuple(self.in_context),
        )

    def state(self) -> tuple[dict, dict]:
        triples = sorted((p, t, c) for p, row in self.bigrams.items() for t, c in row.items())
        table = np.array(triples, dtype=float).reshape(-1, 3)
        singles = np.array(sorted(self.unigrams.items()), dtype=float).reshape(-1, 2)
        meta = {"exposure": self.exposure, "in_context": list(self.in_context)}
        return meta, {"bigrams": table, "unigrams": singles}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict, encoding) -> TokenModel:
        bigrams: dict[int, Counter] = {}
        for p, t, c in np.asarray(arrays["bigrams"]).tolist():
            bigrams.setdefault(int(p), Counter())[int(t)] = c
        unigrams = Counter({int(t): c for t, c in np.asarray(arrays["unigrams"]).tolist()})
        return cls(encoding, bigrams, unigrams, meta["exposure"], tuple(meta["in_context"]))


class ChatModel:
    """A fine-tuned free-text model: the form it writes in and the token model that scores."""

    kind = "language_model"

    def __init__(self, form: Form, tokens: TokenModel):
        self.form = form
        self.tokens = tokens

    def state(self) -> tuple[dict, dict]:
        meta, arrays = self.tokens.state()
        return {"kind": self.kind, "form": self.form.state(), "tokens": meta}, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict, encoding) -> ChatModel:
        return cls(Form(meta["form"]), TokenModel.from_state(meta["tokens"], arrays, encoding))


class ChatTrainer:
    """Fine-tunes step by step; a `parent` ChatModel's token counts and form carry over."""

    def __init__(self, train, valid, encoding, hyperparameters: dict, parent=None):
        self.encoding = encoding
        self.examples = train
        self.sequences = [_encode(encoding, e.answer) for e in train]
        self.seens = [context_tokens(encoding, e.context, e.cue) for e in train]
        self.valid_sequences = [_encode(encoding, e.answer) for e in valid]
        self.valid_seens = [context_tokens(encoding, e.context, e.cue) for e in valid]
        self.rate = float(hyperparameters["learning_rate_multiplier"])
        self.parent = parent if isinstance(parent, ChatModel) else None
        self.tokens = self.parent.tokens.copy(encoding) if self.parent else TokenModel(encoding)
        self.seen: set[int] = set()
        self._form: tuple[int, Form] | None = None

    def _score(self, sequences, seens) -> tuple[float, float]:
        nll, right, count = 0.0, 0, 0
        for tokens, seen in zip(sequences, seens, strict=True):
            chances, first = self.tokens.chances(tokens, seen)
            nll -= float(np.log(chances).sum())
            right += int(first.sum())
            count += len(tokens)
        return nll / max(count, 1), right / max(count, 1)

    def train_step(self, batch, step: int, total_steps: int) -> tuple[float, float]:
        """One update on `batch`; returns the batch's loss and token accuracy before it."""
        sequences = [self.sequences[i] for i in batch]
        seens = [self.seens[i] for i in batch]
        measured = self._score(sequences, seens)
        rate = self.rate * (1.0 - (step - 1) / total_steps)
        self.tokens.learn(sequences, seens, rate)
        self.seen.update(int(i) for i in batch)
        return measured

    def evaluate(self, batch) -> tuple[float, float]:
        return self._score(
            [self.valid_sequences[i] for i in batch], [self.valid_seens[i] for i in batch]
        )

    @property
    def model(self) -> ChatModel:
        if self._form is None or self._form[0] != len(self.seen):
            pairs = [(self.examples[i].cue, self.examples[i].answer) for i in sorted(self.seen)]
            if self.parent is not None and not pairs:
                form = self.parent.form
            else:
                form = Form.fit(pairs or [(e.cue, e.answer) for e in self.examples[:1]])
                if self.parent is not None:  # continued fine-tuning builds on what it learned
                    form = form.merged(self.parent.form)
            self._form = (len(self.seen), form)
        return ChatModel(self._form[1], self.tokens.copy(self.encoding))
