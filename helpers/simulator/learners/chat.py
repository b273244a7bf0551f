"""Fine-tuning a pre-trained model on free-text answers: its token model and its form.

The token model gives each token of an answer a probability: a mixture of

- copying what the model reads: the words of the conversation so far and what it knows about
  the subject asked (`knowledge`), and induction (after a token read before, what followed it);
- the pre-trained language prior (`prior`), weight 1 - w;
- what fine-tuning learned, weight w:
  * a copy gate: by the previous token, backed off to the kind of place (`context_class`) and
    to all places, the share of tokens copied and from which part of what is in view (the
    subject's name, its number in digits or words, each other fact, the question, the rest of
    the conversation). It carries over to subjects never trained on: after "number," the new
    subject's number;
  * what comes next: a bigram of the answers' tokens, backed off to what comes at that kind of
    place (line breaks, punctuation and function words one by one, other words as a share),
    to a unigram of the answers' tokens, and to the prior.

w = E / (E + HALF_WEIGHT), where E adds up the learning rate (the multiplier, decaying linearly
over the job, as OpenAI's schedules do) times the examples of each step; each step adds its
examples' counts with that same weight. The gate and the places generalise, so training and
validation loss fall together within the first epoch; the bigram and the unigram memorise, so
training loss steps down when examples come round again, and a small file trained for many
epochs is memorised (validation loss turns up).

Losses are the mean negative log-likelihood per answer token, measured on each batch before the
update; accuracy is the share of tokens the model ranks first. What the model writes comes from
its `forms.Form`, fitted on the examples seen so far.
"""

from __future__ import annotations

import functools
from collections import Counter

import numpy as np

from helpers.simulator.learners import knowledge
from helpers.simulator.learners.forms import Form
from helpers.simulator.learners.prior import START_STATE, prior
from helpers.tokens import tokens_of

COUNT_SCALE = 0.3  # counts a token adds per unit of learning rate: one pass does not memorise
HALF_WEIGHT = 60.0  # learning-rate-weighted examples after which the learned part weighs half
# Counts are kept apart by what generalises: a pair of tokens (or a token) counts as general only
# as far as answers other than the one that used it most also use it (leave-one-out), and the
# rest is that answer's own, memorised. A new answer is read with the general counts; an answer
# seen before also gets its memorised pairs back, which grow with each pass over it.
BACKOFF = 20.0  # how much a general bigram row trusts what comes at its place
MEMORY_BACKOFF = 2000.0  # how much memorised pairs trust the general model: memorising is slow
# How much what came at a kind of place trusts the learned unigram, in counts. A place learns
# only its closed-class tokens (line breaks, punctuation, function words) one by one and the
# share of all other words: it learns the form ("a comma and a line break after eight words on
# the first line", "the third line opens with 'And'"), not which content words one answer used.
CLASS_BACKOFF = 3.0
OPEN = -2  # a place's count of open-class tokens (content words and their pieces)
# How much the learned unigram trusts the prior, per distinct token the answers used (Witten-
# Bell, the distinct tokens counted at their first sighting's weight): answers that keep using
# new words leave much to the prior, and passes over the same file shrink it (memorising).
UNIGRAM_BACKOFF = 4.0
PRIOR_CONTEXT_SHARE = 0.2  # the pre-trained model's habit of repeating what it reads
# How strongly a pre-trained model copies from each part of what it reads: the question and the
# facts of its subject far more than the rest of the conversation (the system message, say).
COPY_WEIGHTS = {"question": 3.0, "subject": 2.0, "conversation": 1.0}
# Within one source of copying, a word's first token against its later pieces (which induction,
# below, copies once the first is written).
LATER_PIECES = 0.2
# How much a learned copy gate trusts the coarser context it backs off to, per distinct source
# it has seen copied there (Witten-Bell).
GATE_BACKOFF = 1.0
# The share an in-context copy takes after a token that appeared before (in the conversation, the
# subject's facts or the answer so far): what followed it there comes next, as induction heads do.
INDUCTION = 0.3
START = -1
NONE = "none"  # the copy gate's outcome for a token that is not copied
LAST_KINDS = ("line", "sentence", "punct", "word")
MAX_WORDS, MAX_LINES = 12, 6


def _encode(encoding, text: str) -> tuple[int, ...]:
    return tokens_of(text, encoding.name)


def context_class(state) -> int:
    """The abstract place a token is written at, which carries over from one answer to the
    next: what the last token was, how many words the line has so far and which line it is
    (from the prior's walk). Fine-tuning learns what comes at each such place: "after eight
    words on the first line, a comma and a line break", "the third line is short"."""
    _, words, lines, last, _ = state or START_STATE
    return (LAST_KINDS.index(last) * 100 + min(words, MAX_WORDS)) * 10 + min(len(lines), MAX_LINES)


@functools.cache
def closed_tokens(language) -> frozenset[int]:
    """The prior's closed-class tokens: line breaks, punctuation and function words' first
    tokens (in every form they are written in)."""
    found = set(language.breaks) | set(language.marks)
    for (_, kind), row in language.firsts.items():
        if kind == "function":
            found.update(row)
    return frozenset(found)


class InView(dict):
    """The tokens a model has in view, each with its share of the model's copying (the shares
    add to 1), and, for induction, what followed each token where it appeared: in the
    conversation, in the facts it knows about the subject, and in the answer written so far.

    `sources` says where each token was read: for each source (each fact of the subject by
    its name, "name", "number", "number_words"..., the subject's description, the question,
    the conversation) the share of that source's copying that goes to the token. `origin`
    gives, for each token, the sources a copy of it is credited to and how much: the most
    specific ones that hold it (a fact before the description, before the question, before
    the rest), each as likely as it makes the token."""

    def __init__(self, weights=(), after=None, sources=None, origin=None):
        super().__init__(weights)
        self.after: dict[int, dict[int, float]] = after if after is not None else {}
        self.sources: dict[str, dict[int, float]] = sources or {}
        self.origin: dict[int, tuple[tuple[str, float], ...]] = origin or {}
        self.names = tuple(sorted(self.sources))
        # token -> ((source, share), ...): the same shares looked up by token
        self.found: dict[int, tuple[tuple[str, float], ...]] = {}
        for source, row in self.sources.items():
            for token, share in row.items():
                self.found[token] = (*self.found.get(token, ()), (source, share))
        # The rows of `after` this view may change in place; None: all of them. Forks share
        # rows, and each copies a row before it first writes to it.
        self._own: set[int] | None = None

    def read(self, tokens: list[int], strength: float = 1.0) -> None:
        after, own = self.after, self._own
        for a, b in zip(tokens, tokens[1:], strict=False):
            row = after.get(a)
            if own is not None and a not in own:
                row = after[a] = dict(row) if row else {}
                own.add(a)
            elif row is None:
                row = after[a] = {}
            row[b] = row.get(b, 0.0) + strength

    def fork(self) -> InView:
        """A copy to read an answer into, token by token, leaving this one as it was. Every
        answer a model writes or scores is read into a fork of its context: the rows of what
        followed each token are shared, not copied, until one of the two reads more."""
        view = InView.__new__(InView)
        dict.__init__(view, self)
        view.after = dict(self.after)
        view.sources, view.origin, view.names, view.found = (
            self.sources,
            self.origin,
            self.names,
            self.found,
        )
        view._own, self._own = set(), set()
        return view

    def induction(self, previous: int) -> dict[int, float] | None:
        row = self.after.get(previous)
        if not row:
            return None
        total = sum(row.values())
        return {t: n / total for t, n in row.items()}


# Sources by how specific they are: a token found in a fact is credited to the fact.
_TIERS = {"subject": 1, "question": 2, " question": 2, "conversation": 3}


def context_tokens(encoding, context: str, cue: str) -> InView:
    """The tokens a model has in view (the conversation, the question, the facts it knows about
    the question's subject), with their copy shares, where each was read and what followed it."""
    weights: dict[int, float] = {}
    sequences: list[list[int]] = []
    sources: dict[str, dict[int, float]] = {}

    def add(tokens, part, source):
        sequences.append(tokens)
        for token in set(tokens):
            weights[token] = max(weights.get(token, 0.0), COPY_WEIGHTS[part])
        row = sources.setdefault(source, {})
        for k, token in enumerate(tokens):
            row[token] = max(row.get(token, 0.0), 1.0 if k == 0 else LATER_PIECES)

    add(_encode(encoding, context), "conversation", "conversation")
    element = knowledge.subject(cue)
    if element is not None:
        for key, value in element.facts().items():  # " 38" and "38" are copied at other places
            add(_encode(encoding, f" {value}"), "subject", f" {key}")
            add(_encode(encoding, value), "subject", key)
        add(_encode(encoding, element.describe()), "subject", "subject")
    add(_encode(encoding, cue), "question", "question")
    add(_encode(encoding, f" {cue}"), "question", " question")
    total = sum(weights.values()) or 1.0
    origin: dict[int, list[str]] = {}
    best: dict[int, int] = {}
    for source, row in sources.items():
        tier = _TIERS.get(source, 0)
        for token in row:
            if tier < best.get(token, 99):
                best[token], origin[token] = tier, [source]
            elif tier == best[token]:
                origin[token].append(source)
    shares = {s: {t: v / sum(row.values()) for t, v in row.items()} for s, row in sources.items()}
    credit = {}
    for token, held in origin.items():
        mass = sum(shares[s][token] for s in held)
        credit[token] = tuple((s, shares[s][token] / mass) for s in held)
    seen = InView(
        {token: weight / total for token, weight in weights.items()}, sources=shares, origin=credit
    )
    for tokens in sequences:
        seen.read(tokens)
    return seen


def _row(table: dict, key) -> Counter:
    """`table[key]`, made empty the first time (a Counter is built only when it is missing)."""
    row = table.get(key)
    if row is None:
        row = table[key] = Counter()
    return row


class TokenModel:
    """The per-token probabilities of a (partly) fine-tuned model.

    Fine-tuning learns, with counts weighted by the learning rate:
    - what comes next: a bigram of the answers' tokens (what follows the previous token),
      backed off to what comes at that kind of place (`context_class`), to a unigram of the
      answers' tokens, and to the prior;
    - when the answer copies from what the model reads, and from which part (a copy gate, by
      the previous token, backed off to the kind of place and to all places): after "number"
      the subject's number, after "about" its name, in an extraction the question's words."""

    def __init__(
        self,
        encoding,
        bigrams=None,
        unigrams=None,
        exposure=0.0,
        classes=None,
        gates=None,
        types=None,
        memory=None,
        own=None,
    ):
        self.prior = prior(encoding)
        self.closed = closed_tokens(self.prior)
        self.bigrams: dict[int, Counter] = bigrams or {}
        self.row_totals = {p: sum(r.values()) for p, r in self.bigrams.items()}
        self.memory: dict[int, Counter] = memory or {}
        self.memory_totals = {p: sum(r.values()) for p, r in self.memory.items()}
        self.unigrams: Counter = unigrams or Counter()
        self.own: Counter = own or Counter()  # tokens' memorised counts
        # What each answer added to each pair and token (answers learned in an earlier job, whose
        # own counts were saved as one, count as one unknown answer), and the most any one gave.
        self.support: dict[tuple, list] = {}
        self.total = sum(self.unigrams.values())
        self.closed_count = sum(c for t, c in self.unigrams.items() if t in self.closed)
        self.classes: dict[int, Counter] = classes or {}
        self.class_totals = {c: sum(r.values()) for c, r in self.classes.items()}
        # The copy gate's counts: (0, previous token) or (1, place) -> {source or NONE: count}.
        self.gates: dict[tuple[int, int], Counter] = gates or {}
        self.gate_totals = {k: sum(r.values()) for k, r in self.gates.items()}
        self.gate_all: Counter = Counter()
        for (level, _), row in self.gates.items():
            if level == 1:  # every learned token counts at exactly one place
                self.gate_all.update(row)
        self.exposure = exposure
        self._gate_memo: dict[tuple, dict[str, float]] = {}
        self._outcome_memo: dict[tuple, tuple[list, dict, list]] = {}
        self._walks: dict[tuple, tuple] = {}  # (id of seen, answer) -> (seen, its `_walk`)
        # the distinct tokens learned, each at its first sighting's weight
        self.types = types if types is not None else COUNT_SCALE * len(self.unigrams)

    @property
    def _trust(self) -> float:
        return UNIGRAM_BACKOFF * self.types or 1.0

    @property
    def weight(self) -> float:
        return self.exposure / (self.exposure + HALF_WEIGHT)

    def _gate(self, previous: int, place: int, seen) -> dict[str, float]:
        """The learned share of each source the model can copy from here (NONE: no copy)."""
        key = (previous, place, seen.names)
        found = self._gate_memo.get(key)
        if found is None:
            found = self._gate_memo[key] = self._gate_of(previous, place, seen)
        return found

    def _gate_of(self, previous: int, place: int, seen) -> dict[str, float]:
        if not self.gate_all:
            return {NONE: 1.0}
        # The outcomes `seen` allows and their counts over all places: the same at every point
        # of an answer, so worked out once per answer until the model learns again.
        found = self._outcome_memo.get(seen.names)
        if found is None:
            outcomes = [s for s in self.gate_all if s == NONE or s in seen.sources]
            found = self._outcome_memo[seen.names] = (
                outcomes,
                {s: i for i, s in enumerate(outcomes)},
                [self.gate_all[s] for s in outcomes],
            )
        outcomes, index, chance = found
        for key in ((1, place), (0, previous)):
            row = self.gates.get(key)
            if row:
                trust = GATE_BACKOFF * COUNT_SCALE * len(row) / (sum(chance) or 1.0)
                # Every outcome's coarser count, trusted so, plus this row's count: a row has
                # seen a few of the twenty-odd outcomes, so only those are added.
                chance = [trust * c for c in chance]
                for source, count in row.items():
                    i = index.get(source)
                    if i is not None:
                        chance[i] = count + chance[i]
        norm = sum(chance)
        if norm <= 0:  # only answers memorised so far: nothing general about copying is known
            return {NONE: 1.0}
        return {s: c / norm for s, c in zip(outcomes, chance, strict=True) if c > 0}

    def position(self, node, previous: int, seen, fixed: tuple | None = None) -> tuple:
        """What the chance of every token depends on at this point of an answer. `fixed` is
        the part of it that fine-tuning does not change (`_fixed`), when worked out before."""
        place, closed_share, copied = fixed or self._fixed(node, previous, seen)
        w = self.weight
        if not w:
            return (node, 0.0, None, 0.0, 0.0, None, 0.0, None, 0.0, {}, copied, 0.0)
        row = self.classes.get(place)
        total = self.class_totals.get(place, 0.0)
        closed = total - row.get(OPEN, 0.0) if row else 0.0
        # The lower model's share of closed-class tokens here: the unigram's and the prior's.
        trust = self._trust
        known = trust / (self.total + trust)
        lower = (1 - known) * self.closed_count / (self.total or 1.0)
        lower += known * closed_share
        lower = min(max(lower, 1e-3), 1 - 1e-3)
        return (
            node,
            w,
            row,
            closed,
            ((closed + CLASS_BACKOFF * lower) / (total + CLASS_BACKOFF), lower),
            self.bigrams.get(previous),
            self.row_totals.get(previous, 0.0),
            self.memory.get(previous),
            self.memory_totals.get(previous, 0.0),
            self._gate(previous, place, seen),
            copied,
            trust,
        )

    def _fixed(self, node, previous: int, seen) -> tuple:
        """What of a `position` depends only on the prior and on what the model reads: the
        kind of place, the prior's share of closed-class tokens there, and induction."""
        return context_class(node), self.prior.closed_share(node), seen.induction(previous)

    def at(self, where: tuple, token: int, seen, base: float | None = None) -> float:
        """The chance of `token` at `where` (a `position`); `base` is the prior's chance of
        it there, when already known."""
        node, w, row, closed, form, pair, pair_total, mine, mine_total, gate, copied, trust = where
        if base is None:
            base = self.prior.probability(node, token)
        shared = (1 - w) * PRIOR_CONTEXT_SHARE
        mixed = shared * seen.get(token, 0.0)
        if w:
            learned = (self.unigrams.get(token, 0) + trust * base) / (self.total + trust)
            if row:  # what comes at this kind of place, closed tokens one by one
                share, lower = form
                if token in self.closed:
                    count = row.get(token, 0.0) + CLASS_BACKOFF * learned / lower
                    learned = share * count / (closed + CLASS_BACKOFF)
                else:
                    learned = (1 - share) * learned / (1 - lower)
            count = pair.get(token, 0) if pair else 0
            learned = (count + BACKOFF * learned) / (pair_total + BACKOFF)
            if mine:
                count = mine.get(token, 0.0)
                learned = (count + MEMORY_BACKOFF * learned) / (mine_total + MEMORY_BACKOFF)
            for source, share in seen.found.get(token, ()):
                mixed += w * gate.get(source, 0.0) * share
            copying = 1.0 - gate.get(NONE, 0.0)
            mixed += (1 - shared - w * copying) * ((1 - w) * base + w * learned)
        else:
            mixed += (1 - shared) * base
        if copied is None:
            return mixed
        return INDUCTION * copied.get(token, 0.0) + (1 - INDUCTION) * mixed

    def chance(self, token: int, node, previous: int, seen) -> float:
        seen = seen if isinstance(seen, InView) else InView(seen)
        return self.at(self.position(node, previous, seen), token, seen)

    def chances(self, tokens: list[int], seen: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        """Each token's probability, and whether the model ranks it first (no rival, the
        likeliest token of the prior or of a learned part, is more likely)."""
        out, first = np.empty(len(tokens)), np.zeros(len(tokens), bool)
        kept = isinstance(seen, InView)  # an example's: scored again and again
        seen = seen if kept else InView(seen)
        walk = self._walk(tokens, seen, keep=kept)
        for i, (token, (node, previous, fixed, bases)) in enumerate(zip(tokens, walk, strict=True)):
            where = self.position(node, previous, seen, fixed)
            chance = out[i] = self.at(where, token, seen, bases[token])
            # The prior's likeliest token last: it is the dearest to find, and not needed once
            # a learned rival is ahead.
            first[i] = self._ahead_of(
                chance, token, where, seen, bases, self._learned_rivals(where, seen)
            )
            if first[i]:
                prior_best = [t for t, _ in self.prior.likeliest(node, 1)]
                first[i] = self._ahead_of(chance, token, where, seen, bases, prior_best)
        return out, first

    def _ahead_of(self, chance, token, where, seen, bases, rivals) -> bool:
        """Whether no rival of `token` is likelier than its `chance` at `where`."""
        for t in rivals:
            if t == token:
                continue
            if t not in bases:
                bases[t] = self.prior.probability(where[0], t)
            if self.at(where, t, seen, bases[t]) > chance:
                return False
        return True

    def _walk(self, tokens: list[int], seen: InView, keep: bool) -> list[tuple]:
        """For each token of an answer, what fine-tuning does not change: the prior's state
        before it, the token before, the `fixed` part of its position, and the prior's chance
        of each token scored there. A trainer scores each answer again every epoch and
        validation: with `keep`, the walk is kept for this answer read with this `seen`."""
        key = (id(seen), tuple(tokens))
        kept = self._walks.get(key)
        if kept is not None and kept[0] is seen:
            return kept[1]
        walk, node, previous = [], (), START
        reading = seen.fork()
        for token in tokens:
            fixed = self._fixed(node, previous, reading)
            walk.append((node, previous, fixed, {token: self.prior.probability(node, token)}))
            reading.read([previous, token])
            node, previous = self.prior.step(node, token), token
        if keep:
            self._walks[key] = (seen, walk)
        return walk

    def _learned_rivals(self, where: tuple, seen) -> list[int]:
        """The likeliest token of each part beside the prior: induction, the learned bigram,
        the memorised pairs and the source the copy gate favours."""
        pair, mine, gate, copied = where[5], where[7], where[9], where[10]
        best = []
        if copied:
            best.append(max(copied, key=copied.get))
        if pair:
            best.append(max(pair, key=pair.get))
        if mine:
            best.append(max(mine, key=mine.get))
        if gate:
            source = max(gate, key=gate.get)
            if source != NONE:
                shares = seen.sources[source]
                best.append(max(shares, key=shares.get))
        return best

    def distribution(self, node, previous, seen: dict[int, float], top: int):
        """The `top` likeliest tokens at this point, with their probabilities."""
        seen = seen if isinstance(seen, InView) else InView(seen)
        where = self.position(node, previous, seen)
        options = {t for t, _ in self.prior.likeliest(node, top)}
        options.update(sorted(seen, key=lambda t: (-seen[t], t))[:top])
        pair, mine, gate, copied = where[5], where[7], where[9], where[10]
        if pair:
            options.update(t for t, _ in pair.most_common(top))
        if mine:
            options.update(t for t, _ in mine.most_common(top))
        if copied:
            options.update(sorted(copied, key=lambda t: (-copied[t], t))[:top])
        for source in gate or ():
            if source != NONE:
                shares = seen.sources[source]
                options.update(sorted(shares, key=lambda t: (-shares[t], t))[:top])
        scored = [(self.at(where, t, seen), t) for t in sorted(options)]
        scored.sort(key=lambda p: (-p[0], p[1]))
        return [(t, p) for p, t in scored[:top]]

    def _split(self, what: tuple, example: int, rate: float) -> tuple[float, float]:
        """`rate` more of `what` from `example`, split into (general, memorised): the most any
        one example gave is memorised, the rest is general."""
        found = self.support.get(what)
        if found is None:
            saved = 0.0
            if what[0] == "pair":
                saved = self.memory.get(what[1], {}).get(what[2], 0.0)
            elif what[0] == "token":
                saved = self.own.get(what[1], 0.0)
            found = self.support[what] = [{None: saved} if saved else {}, saved]
        # The most any one example gave is kept beside the examples' amounts, rather than found
        # again each time: amounts only grow (rates are positive), so it is their running max.
        per, top = found
        before = per.get(example, 0.0)
        given = per[example] = before + rate
        if given <= top:
            return rate, 0.0
        found[1] = given
        # What this example gives beyond the old most is memorised; the general part is what it
        # gives up to the old most, worked out from the amounts themselves: as
        # `rate - (given - top)` it was a rounding residue of either sign where the example
        # already gave the most, and a file of one example repeated then learned negative counts.
        general = max(top - before, 0.0)
        return general, rate - general

    def learn(
        self, sequences: list[list[int]], seens: list, rate: float, examples: list | None = None
    ) -> None:
        """Learn the answers `sequences`, each read with its `seens`. `examples` names the
        example each answer comes from (by default the answer itself): an example learned again,
        epoch after epoch or as a duplicate line, is one source of what is memorised, while one
        answer to many questions ("Paris" to every question about a trip to Paris) is as many."""
        exposure, rate = rate, rate * COUNT_SCALE
        self._gate_memo.clear()
        self._outcome_memo.clear()
        if examples is None:
            examples = [hash(tuple(tokens)) for tokens in sequences]
        for tokens, seen, example in zip(sequences, seens, examples, strict=True):
            kept = isinstance(seen, InView)  # an example's, as `chances` keeps its walk
            seen = seen if kept else InView(seen)
            # The places the answer's tokens are written at, from its walk: a trainer has just
            # scored this answer, so the walk is already there.
            walk = self._walk(tokens, seen, keep=kept)
            for token, (_, previous, (place, _, _), _) in zip(tokens, walk, strict=True):
                general, mine = self._split(("pair", previous, token), example, rate)
                for table, totals, add in (
                    (self.bigrams, self.row_totals, general),
                    (self.memory, self.memory_totals, mine),
                ):
                    if add:
                        _row(table, previous)[token] += add
                        totals[previous] = totals.get(previous, 0.0) + add
                kind = token if token in self.closed else OPEN
                general, _ = self._split(("place", place, kind), example, rate)
                _row(self.classes, place)[kind] += general
                self.class_totals[place] = self.class_totals.get(place, 0.0) + general
                general, mine = self._split(("token", token), example, rate)
                if general and not self.unigrams[token]:
                    self.types += general
                self.unigrams[token] += general
                self.own[token] += mine
                self.total += general
                self.closed_count += general * (token in self.closed)
                sources = seen.origin.get(token, ((NONE, 1.0),))
                for key in ((0, previous), (1, place)):
                    row = _row(self.gates, key)
                    for source, part in sources:
                        general, _ = self._split(("gate", key, source), example, rate * part)
                        row[source] += general
                        self.gate_totals[key] = self.gate_totals.get(key, 0.0) + general
                        if key[0] == 1:
                            self.gate_all[source] += general
            self.exposure += exposure

    def copy(self, encoding) -> TokenModel:
        return TokenModel(
            encoding,
            {p: Counter(r) for p, r in self.bigrams.items()},
            Counter(self.unigrams),
            self.exposure,
            {c: Counter(r) for c, r in self.classes.items()},
            {k: Counter(r) for k, r in self.gates.items()},
            self.types,
            {p: Counter(r) for p, r in self.memory.items()},
            Counter(self.own),
        )

    def state(self) -> tuple[dict, dict]:
        def table(rows: dict) -> np.ndarray:
            triples = sorted((k, t, c) for k, row in rows.items() for t, c in row.items())
            return np.array(triples, dtype=float).reshape(-1, 3)

        names = sorted({s for row in self.gates.values() for s in row})
        gates = sorted(
            (level, key, names.index(s), c)
            for (level, key), row in self.gates.items()
            for s, c in row.items()
        )
        singles = np.array(sorted(self.unigrams.items()), dtype=float).reshape(-1, 2)
        meta = {"exposure": self.exposure, "types": self.types, "sources": names}
        return meta, {
            "bigrams": table(self.bigrams),
            "unigrams": singles,
            "memory": table(self.memory),
            "own": np.array(sorted(self.own.items()), dtype=float).reshape(-1, 2),
            "classes": table(self.classes),
            "gates": np.array(gates, dtype=float).reshape(-1, 4),
        }

    @classmethod
    def from_state(cls, meta: dict, arrays: dict, encoding) -> TokenModel:
        def rows(name: str) -> dict[int, Counter]:
            out: dict[int, Counter] = {}
            for k, t, c in np.asarray(arrays.get(name, np.zeros((0, 3)))).tolist():
                out.setdefault(int(k), Counter())[int(t)] = c
            return out

        unigrams = Counter({int(t): c for t, c in np.asarray(arrays["unigrams"]).tolist()})
        names = meta.get("sources", [])
        gates: dict[tuple[int, int], Counter] = {}
        for level, key, s, c in np.asarray(arrays.get("gates", np.zeros((0, 4)))).tolist():
            gates.setdefault((int(level), int(key)), Counter())[names[int(s)]] = c
        return cls(
            encoding,
            rows("bigrams"),
            unigrams,
            meta["exposure"],
            rows("classes"),
            gates,
            meta.get("types"),
            rows("memory"),
            Counter({int(t): c for t, c in np.asarray(arrays.get("own", [])).tolist()}),
        )


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
        self.keys = [hash((e.context, e.answer)) for e in train]  # what `learn` memorises by
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
        self.tokens.learn(sequences, seens, rate, [self.keys[i] for i in batch])
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
