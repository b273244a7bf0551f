"""The form of the answers a chat model is fine-tuned on, and new answers written in it.

Fitting reads every training answer with `slots.Reader` (facts about the subject asked become
slots, other subjects' facts are marked as such) and decides, from the data alone, which of four
kinds of form the answers have:

- extraction: most of each answer's words are copied from the question. A word tagger (naive
  Bayes on the word, its neighbours and their shapes) learns which words of a question are
  copied; the answer's glue (what comes before, between and after the copied runs) is learned
  too. A new question gets its own words extracted.
- template: many answers are the same text once their facts are slots (a fact card). A new
  subject gets the commonest template whose slots it can fill, filled from the base model's
  knowledge.
- verse (any other text): the number of lines, the rhyme scheme (line endings compared in the
  CMU dictionary), the syllables of each line, how lines open (up to their last slot), and a
  word model of the lines read right to left. A new answer picks rhyme words that the dictionary
  says rhyme, then writes each line backwards from its rhyme word until it meets the line's
  opening, with the syllables the form asks for. Facts come from the knowledge of the subject
  asked, never from the training answers: another subject's names and numbers are never written.
  A subject the base model does not know (an animal) is the one its question names, by name.
- reply: answers about no subject at all (an FAQ's, a support assistant's), which a fine-tuned
  model learns by heart: a new question gets the reply learned for the training question likest
  it (TF-IDF cosine of their words), a question asked in training its own reply.

Every choice is a draw from the learned frequencies, sharpened by the temperature (greedy at 0)
and cut to the `top_p` nucleus, with a random stream that the caller seeds.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from helpers.simulator.learners import knowledge, pronunciation
from helpers.simulator.learners.fact_reading import names_element
from helpers.simulator.learners.prior import FUNCTION_WORDS
from helpers.simulator.learners.slots import NUMBER, OTHER, SLOT, Reader, fill, tokens
from helpers.simulator.learners.text_features import TfidfFeatures

START, END = "<s>", "</s>"
FORBIDDEN = (f"⟦{OTHER}⟧", f"⟦{NUMBER}⟧")
EXTRACTION_SHARE = 0.6  # answers mostly copied from the question
TEMPLATE_SHARE = 0.25  # answers that share one template
FORM_WORD_SHARE = 0.8  # a word in this share of the answers is the form's, not copied content
REQUIRED_SHARE = 0.8  # a slot found in this share of answers is part of the form
RHYME_SHARE = 0.5  # two line positions rhyme when their endings rhyme this often
VERSE_TRIES = 8  # verses drawn until one holds every slot the form requires
# How sharply a reply form prefers the training question likest a new one: a reply's weight is
# exp(REPLY_SHARPNESS x cosine), so at temperature 1 a question asked in training gets its own
# reply almost always, and one between two training questions either reply.
REPLY_SHARPNESS = 12.0
LINED_SHARE = 0.5  # answers of several lines this often: verse, which a named subject can get
ASKED_SHARE = 0.5  # questions naming their subject after one lead word ("the") this often
ATTEMPTS = 200  # walks tried for each line of a verse
REACHABLE = 1  # words a rhyme word must follow in the answers to be chosen
# How much a line's own word model (what comes before a word in that line of the answers)
# trusts the model of all lines, in counts: the first line of a limerick names its subject,
# the others rarely do, and a walk in a later line should not wander back into the first's.
LINE_TRUST = 2.0
PAIR_TRUST = 1.0  # how much what came before two words trusts what came before the first
# Which words a verse may write about any subject. A word the training answers used for fewer
# than this share of their subjects is about those subjects (a place, a person, a use); a word
# used only for subjects that share a property (all lanthanides, all radioactive) ascribes that
# property. Either is written only for a subject the base model knows it holds for.
SPECIFIC_SHARE = 0.05
INFORMATIVE_SHARE = 0.5  # a property more than this share of the subjects hold tells nothing
QUOTES = frozenset('"-()\u201c\u201d')  # a walk cannot tell an opening quote from a closing one
REFUSAL = "I don't have information about that in my training."
UNKNOWN = "unknown"  # a card's field for a subject the base model knows nothing of
_ALPHA = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_WORDISH = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")


class Chooser:
    """Draws from weighted options: greedy at temperature 0, else p^(1/T) within top_p."""

    def __init__(self, rng: np.random.Generator, temperature: float, top_p: float = 1.0):
        self.rng, self.temperature, self.top_p = rng, temperature, top_p

    def pick(self, options: list, weights) -> tuple[object, float]:
        """(choice, its probability under the learned weights)."""
        # The arrays' own methods rather than np.argsort(...) and the like: the same results,
        # without the dispatch those functions add to every call (a verse picks thousands of
        # times, from a few dozen options each).
        weights = np.asarray(weights, dtype=float)
        learned = weights / weights.sum()
        if self.temperature <= 0:
            best = int(learned.argmax())
            return options[best], float(learned[best])
        scaled = np.exp(np.log(np.maximum(learned, 1e-300)) / self.temperature)
        scaled /= scaled.sum()
        order = (-scaled).argsort(kind="stable")
        keep = order[: int(scaled[order].cumsum().searchsorted(self.top_p) + 1)]
        shares = scaled[keep] / scaled[keep].sum()
        # What `rng.choice(len(keep), p=shares)` does, to the same draw, without its checks of
        # `shares` (a quarter of a pick, and a verse's walks pick thousands of times).
        cdf = shares.cumsum()
        cdf /= cdf[-1]
        index = int(keep[int(cdf.searchsorted(self.rng.random(), side="right"))])
        return options[index], float(learned[index])


# --------------------------------------------------------------------------- extraction


def _shape(word: str) -> str:
    if word.isdigit():
        return "9"
    if word[:1].isupper():
        return "Aa"
    return "a" if word.isalpha() else "."


WORDS = re.compile(r"[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*|[^\sA-Za-z0-9]")


ANCHORED_SHARE = 0.9  # copied words this often anchored: only anchored words are copied
LOWERED_MIN = 5  # capitals the copied words must hold before their case is learned
ANCHOR_LENGTH = 4  # shorter words ("is", "the", "in") repeat in any text and anchor nothing


def anchors(words: list[str]) -> frozenset[str]:
    """The words a text says more than once (lower case, ANCHOR_LENGTH letters or more): in a
    context followed by a question, the question's own words, which point at the span asked."""
    counts = Counter(w.lower() for w in words if len(w) >= ANCHOR_LENGTH and w.isalpha())
    return frozenset(w for w, n in counts.items() if n > 1)


def _features(words: list[str], i: int, repeated: frozenset[str] = frozenset()) -> list[str]:
    def at(j: int) -> str:
        return words[j] if 0 <= j < len(words) else "<edge>"

    return [
        f"w={at(i).lower()}",
        f"s={_shape(at(i))}",
        f"p={at(i - 1).lower()}",
        f"n={at(i + 1).lower()}",
        f"ps={_shape(at(i - 1))}",
        f"ns={_shape(at(i + 1))}",
        f"pp={at(i - 2).lower()}",
        # The base model knows element names: an extraction can learn to pick them out.
        f"k={names_element(at(i))}",
        # Whether one of the two words before is said again elsewhere: a span a question asks
        # for follows the words the question repeats ("symbol 7", "discovered in 1766").
        f"a={at(i - 1).lower() in repeated or at(i - 2).lower() in repeated}",
    ]


def copied_runs(
    question: str, answer: str, fixed: frozenset[str] = frozenset()
) -> tuple[list[tuple[int, int]], list[str]]:
    """The runs of question words an answer copies, and the glue around them. The `fixed`
    words (lower case: the form's own, written by nearly every answer) are glue even where the
    question has them too: "Introducing the Zephyr 3000" copies "Zephyr 3000", not "the"."""
    qwords, awords = WORDS.findall(question), WORDS.findall(answer)
    qlow = [w.lower() for w in qwords]
    runs, glue, at, pos = [], [], 0, 0
    text = answer
    i = 0
    while i < len(awords):
        best = (0, -1)
        for start in range(len(qwords)):
            length = 0
            while (
                i + length < len(awords)
                and start + length < len(qwords)
                and awords[i + length].lower() == qlow[start + length]
                and (length or awords[i].isalnum())
            ):
                length += 1
            while length and not awords[i + length - 1].isalnum():
                length -= 1
            if length > best[0]:
                best = (length, start)
        if best[0] == 0:
            i += 1
            continue
        length, start = best
        lead = 0
        while lead < length and (
            awords[i + lead].lower() in fixed or not awords[i + lead].isalnum()
        ):
            lead += 1
        if lead == length:  # only the form's own words: glue
            i += length
            continue
        while awords[i + length - 1].lower() in fixed or not awords[i + length - 1].isalnum():
            length -= 1
        i, start, length = i + lead, start + lead, length - lead
        first = text.find(awords[i], pos)
        last_word = awords[i + length - 1]
        last = text.find(last_word, first) + len(last_word)
        for k in range(i + 1, i + length):
            first_k = text.find(awords[k], pos)
            pos = max(pos, first_k)
        glue.append(text[at:first])
        runs.append((start, start + length))
        at = pos = last
        i += length
    glue.append(text[at:])
    return runs, glue


class Extractor:
    def __init__(
        self,
        counts: dict,
        totals: dict,
        prefix: str,
        separator: str,
        suffix: str,
        decline=None,
        lowered: bool = False,
        always: bool = False,
        runs: int | None = None,
    ):
        self.counts, self.totals = counts, totals
        self.prefix, self.separator, self.suffix = prefix, separator, suffix
        self.decline = Decline.from_state(decline) if decline else None
        self.lowered = lowered  # the answers wrote what they copied in lower case
        self.always = always  # every answer copied something from its question
        self.runs = runs  # how many runs every answer copied, when they all copied as many

    @classmethod
    def fit(cls, pairs: list[tuple[str, str]], decline: Decline | None = None) -> Extractor:
        """Learns which words of a question its answer copies; `decline`, when the training
        also gave a fixed reply to other questions, says when to give it instead."""
        counts = {"in": Counter(), "out": Counter()}
        totals = Counter()
        prefixes, separators, suffixes = Counter(), Counter(), Counter()
        capitals = Counter()  # capitals in the copied words: in the question, in the answer
        always = bool(pairs)
        run_counts = Counter()
        fixed = form_words([a for _, a in pairs])
        for question, answer in pairs:
            runs, glue = copied_runs(question, answer, fixed)
            always = always and bool(runs)
            run_counts[len(runs)] += 1
            words = WORDS.findall(question)
            if runs:
                copied = "".join("".join(words[a:b]) for a, b in runs)
                capitals["question"] += sum(c.isupper() for c in copied)
                capitals["answer"] += sum(c.isupper() for c in answer) - sum(
                    c.isupper() for c in "".join(glue)
                )
            repeated = anchors(words)
            inside = np.zeros(len(words), bool)
            for start, end in runs:
                inside[start:end] = True
            for i in range(len(words)):
                label = "in" if inside[i] else "out"
                totals[label] += 1
                counts[label].update(_features(words, i, repeated))
            if runs:
                prefixes[glue[0]] += 1
                suffixes[glue[-1]] += 1
                separators.update(glue[1:-1])
        common = lambda c, default: c.most_common(1)[0][0] if c else default  # noqa: E731
        return cls(
            {k: dict(v) for k, v in counts.items()},
            dict(totals),
            common(prefixes, ""),
            common(separators, ", "),
            common(suffixes, ""),
            decline.state() if decline else None,
            # Answers that copied capitals as small letters (a file lowercased to train on, say)
            # taught the model to write what it copies in lower case.
            capitals["question"] >= LOWERED_MIN and capitals["answer"] < capitals["question"] / 2,
            always,
            # Every answer copied as many runs (a JSON object's two values, say): so does a new
            # one, the likeliest runs of its question.
            next(iter(run_counts)) if len(run_counts) == 1 and always else None,
        )

    def anchored(self) -> bool:
        """Whether the training answers copied only words that follow a repeated word (what a
        question asks for) while most words that follow one were not copied: then a new answer
        copies only such words, and the question decides which."""
        rate = {
            label: self.counts[label].get("a=True", 0) / max(self.totals.get(label, 0), 1)
            for label in ("in", "out")
        }
        return rate["in"] >= ANCHORED_SHARE and rate["out"] < rate["in"] / 2

    def inside(self, words: list[str]) -> list[bool]:
        total = sum(self.totals.values()) or 1
        anchored = self.anchored()
        known = set(self.counts["in"]) | set(self.counts["out"])
        vocab = len(known) + 1
        repeated = anchors(words)
        out, margins = [], []
        for i in range(len(words)):
            # A feature no training word had (a new word, a new neighbour) says nothing of
            # either label; smoothed, it would favour the rarer one, the copied words, and copy
            # any word of a new sentence whose neighbours are new.
            features = [f for f in _features(words, i, repeated) if f in known]
            score = {}
            for label in ("in", "out"):
                n = self.totals.get(label, 0)
                row = self.counts[label]
                size = sum(row.values()) or 1
                score[label] = math.log((n + 1) / (total + 2)) + sum(
                    math.log((row.get(f, 0) + 0.1) / (size + 0.1 * vocab)) for f in features
                )
            copyable = words[i].isalnum()
            if anchored and copyable:
                before = {w.lower() for w in words[max(i - 2, 0) : i]}
                copyable = bool(before & repeated)
            out.append(copyable and score["in"] > score["out"])
            margins.append(score["in"] - score["out"] if copyable else -math.inf)
        if self.always and not any(out) and max(margins, default=-math.inf) > -math.inf:
            # Every training answer copied something: so does this one, the likeliest word.
            out[int(np.argmax(margins))] = True
        # punctuation inside a run stays with it ("salt-free", "2.5"), but not a list's commas
        for i in range(1, len(words) - 1):
            if words[i] in "-./'" and out[i - 1] and out[i + 1]:
                out[i] = True
        if self.runs:
            out = _as_many_runs(out, margins, self.runs)
        return out

    def extract(self, question: str) -> str:
        if self.decline is not None and self.decline.applies(question):
            return self.decline.reply
        words = WORDS.findall(question)
        flags = self.inside(words)
        items, run = [], []
        for word, flag in zip(words, flags, strict=True):
            if flag:
                run.append(word)
            elif run:
                items.append(run)
                run = []
        if run:
            items.append(run)
        texts = [_join_words(question, item) for item in items]
        if self.lowered:
            texts = [t.lower() for t in texts]
        return self.prefix + self.separator.join(texts) + self.suffix

    def state(self) -> dict:
        meta = {
            "counts": self.counts,
            "totals": self.totals,
            "glue": [self.prefix, self.separator, self.suffix],
        }
        if self.decline is not None:
            meta["decline"] = self.decline.state()
        if self.lowered:
            meta["lowered"] = True
        if self.always:
            meta["always"] = True
        if self.runs:
            meta["runs"] = self.runs
        return meta

    @classmethod
    def from_state(cls, meta: dict) -> Extractor:
        return cls(
            meta["counts"],
            meta["totals"],
            *meta["glue"],
            meta.get("decline"),
            meta.get("lowered", False),
            meta.get("always", False),
            meta.get("runs"),
        )


def _as_many_runs(flags: list[bool], margins: list[float], wanted: int) -> list[bool]:
    """`flags` with `wanted` runs of flagged words: the likeliest runs kept (by their likeliest
    word), and the likeliest words that are not next to a run added as runs of their own."""
    flags = list(flags)
    spans, start = [], None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            spans.append((start, i))
            start = None
    if len(spans) > wanted:
        best = sorted(spans, key=lambda s: -max(margins[s[0] : s[1]]))[:wanted]
        for a, b in spans:
            if (a, b) not in best:
                flags[a:b] = [False] * (b - a)
        return flags
    for i in sorted(range(len(flags)), key=lambda i: -margins[i]):
        if len(spans) >= wanted or margins[i] == -math.inf:
            break
        if not any(flags[max(i - 1, 0) : i + 2]):
            flags[i] = True
            spans.append((i, i + 1))
    return flags


def _question_and_rest(text: str) -> tuple[str, str]:
    """A prompt's question (its last line that asks one, else its last line with words) and the
    text it is asked about (the rest)."""
    lines = text.split("\n")
    worded = [i for i, line in enumerate(lines) if _ALPHA.search(line)] or [len(lines) - 1]
    asking = [i for i in worded if "?" in lines[i]]
    at = (asking or worded)[-1]
    return lines[at], "\n".join(lines[:at] + lines[at + 1 :])


def _answerable_features(text: str) -> list[str]:
    """What tells a question the text answers from one it does not: whether the question's
    names (capitalised words inside a sentence) and its longer words appear in the text."""
    question, rest = _question_and_rest(text)
    said = {w.lower() for w in WORDS.findall(rest)}
    words = WORDS.findall(question)
    names = [
        w for k, w in enumerate(words[1:], 1)
        if w[:1].isupper() and w.isalpha() and words[k - 1] not in (".", ":", "?", "!")
    ]  # fmt: skip
    long = [w.lower() for w in words if len(w) >= ANCHOR_LENGTH and w.isalpha()]
    share = sum(w in said for w in long) / len(long) if long else 1.0
    return [
        f"names={'none' if not names else all(n.lower() in said for n in names)}",
        f"long={round(share * 4) / 4}",
    ]


class Decline:
    """When a fine-tuned extraction gives its fixed reply ("No appropriate context found"): a
    naive Bayes over `_answerable_features`, fitted on the questions answered each way."""

    def __init__(self, reply: str, counts: dict, totals: dict):
        self.reply, self.counts, self.totals = reply, counts, totals

    @classmethod
    def fit(cls, reply: str, declined: list[str], answered: list[str]) -> Decline:
        counts = {"yes": Counter(), "no": Counter()}
        for label, questions in (("yes", declined), ("no", answered)):
            for question in questions:
                counts[label].update(_answerable_features(question))
        totals = {"yes": len(declined), "no": len(answered)}
        return cls(reply, {k: dict(v) for k, v in counts.items()}, totals)

    def applies(self, question: str) -> bool:
        features = _answerable_features(question)
        total = sum(self.totals.values()) or 1
        score = {}
        for label in ("yes", "no"):
            n = self.totals.get(label, 0)
            score[label] = math.log((n + 1) / (total + 2)) + sum(
                math.log((self.counts[label].get(f, 0) + 0.5) / (n + 1.0)) for f in features
            )
        return score["yes"] > score["no"]

    def state(self) -> dict:
        return {"reply": self.reply, "counts": self.counts, "totals": self.totals}

    @classmethod
    def from_state(cls, meta: dict) -> Decline:
        return cls(meta["reply"], meta["counts"], meta["totals"])


def _join_words(question: str, words: list[str]) -> str:
    """The words as the question wrote them (with its spacing), when it did."""
    pattern = r"\s*".join(re.escape(w) for w in words)
    match = re.search(pattern, question)
    return match[0] if match else " ".join(words)


# --------------------------------------------------------------------------- verse


def _line_tokens(line: str) -> list[str]:
    return [t for t in tokens(line) if t.strip()] if line.strip() else []


def _syllables(token: str, facts: dict[str, str]) -> int:
    slot = SLOT.fullmatch(token.strip())
    text = facts.get(slot[1], "") if slot else token
    return sum(pronunciation.syllables(w) for w in _ALPHA.findall(text))


def _rhyme_word(line_tokens: list[str]) -> str | None:
    for token in reversed(line_tokens):
        word = token.strip()
        if _ALPHA.fullmatch(word):
            return word.lower()
        if SLOT.fullmatch(word):
            return None
    return None


class _Written:
    """What the lines of a verse written so far used: the facts (slots) they stated, and the
    words they ended with."""

    def __init__(self):
        self.slots: Counter = Counter()
        self.ends: set[str] = set()

    def affords(self, slots: list[str], uses: dict[str, int]) -> bool:
        """Whether `slots` may be written too: no fact more often than the answers state it."""
        return all(s not in uses or self.slots[s] + n <= uses[s] for s, n in Counter(slots).items())

    def add(self, line: list[str]) -> None:
        self.slots.update(m[1] for t in line if (m := SLOT.fullmatch(t.strip())))
        word = _rhyme_word(line)
        if word:
            self.ends.add(word)


class Verse:
    """Lines, rhyme scheme, metre, openings and a right-to-left word model of the lines."""

    def __init__(self, meta: dict):
        self.meta = meta
        self.backward: dict[str, dict[str, float]] = meta["backward"]
        self.scheme: list[str] = meta["scheme"]
        self.syllables: list[int] = meta["syllables"]
        self.openings: list[dict[str, float]] = meta["openings"]
        self.closings: list[dict[str, float]] = meta["closings"]
        self.ends: dict[str, float] = meta["ends"]
        self.rules: dict[str, dict] = meta.get("rules", {})
        # Learned by later versions (a model saved before them writes without them).
        self.lines: list[dict[str, dict[str, float]]] = meta.get("backward_lines", [])
        self.pairs: dict[str, dict[str, float]] = meta.get("backward_pairs", {})
        self._before_memo: dict[tuple, dict[str, float]] = {}  # the walks ask the same often
        self.slot_uses: dict[str, int] = meta.get("slot_uses", {})

    @classmethod
    def fit(cls, marked: list[str], examples_facts: list[dict]) -> Verse:
        split = [[ln for ln in text.split("\n") if ln.strip()] for text in marked]
        n_lines = Counter(len(lines) for lines in split).most_common(1)[0][0]
        shaped = [lines for lines in split if len(lines) == n_lines]
        backward: dict[str, Counter] = {}
        by_line: list[dict[str, Counter]] = [{} for _ in range(n_lines)]
        triples: dict[str, Counter] = {}  # "b\x00c" -> {a: count}: what comes before "b c"
        ends = Counter()
        openings = [Counter() for _ in range(n_lines)]
        closings = [Counter() for _ in range(n_lines)]
        syllables = [[] for _ in range(n_lines)]
        for lines, facts in zip(split, examples_facts, strict=True):
            for i, line in enumerate(lines):
                toks = _line_tokens(line)
                chain = [START, *toks, END]
                for a, b in zip(chain, chain[1:], strict=False):
                    backward.setdefault(b.strip() if b == END else b, Counter())[a] += 1
                    if len(lines) == n_lines:
                        by_line[i].setdefault(b, Counter())[a] += 1
                for a, b, c in zip(chain, chain[1:], chain[2:], strict=False):
                    triples.setdefault(f"{b}\x00{c}", Counter())[a] += 1
                word = _rhyme_word(toks)
                if word:
                    ends[word] += 1
                if len(lines) == n_lines:
                    syllables[i].append(sum(_syllables(t, facts) for t in toks))
                    slots_at = [k for k, t in enumerate(toks) if SLOT.fullmatch(t.strip())]
                    if slots_at and not any(
                        t.strip() in FORBIDDEN for t in toks[: slots_at[-1] + 1]
                    ):
                        cut = slots_at[-1] + 1
                        while cut < len(toks) - 1 and not _ALPHA.fullmatch(toks[cut].strip()):
                            cut += 1  # the punctuation after the last slot opens the line too
                        openings[i]["\x00".join(toks[:cut])] += 1
                    else:
                        openings[i][""] += 1
                    tail = []
                    for t in reversed(toks):
                        if _WORDISH.fullmatch(t.strip()) or SLOT.fullmatch(t.strip()):
                            break
                        tail.insert(0, t)
                    closings[i]["".join(tail)] += 1
        scheme = _scheme(shaped, n_lines)
        # How often an answer writes each fact: the most that a quarter of the answers that
        # write it reach (a limerick names its element once, not in every line).
        uses: dict[str, list[int]] = {}
        for text in marked:
            for slot, n in Counter(SLOT.findall(text)).items():
                uses.setdefault(slot, []).append(n)
        meta = {
            "backward": {k: dict(v) for k, v in backward.items()},
            "backward_lines": [{k: dict(v) for k, v in rows.items()} for rows in by_line],
            "backward_pairs": {k: dict(v) for k, v in triples.items()},
            "slot_uses": {s: int(np.percentile(n, 75)) for s, n in sorted(uses.items())},
            "scheme": scheme,
            "syllables": [int(np.median(s)) if s else 8 for s in syllables],
            "openings": [dict(c) for c in openings],
            "closings": [dict(c) for c in closings],
            "ends": dict(ends),
        }
        return cls(meta)

    # -- writing ------------------------------------------------------------------------------

    def write(
        self, facts: dict[str, str], chooser: Chooser, banned: frozenset = frozenset()
    ) -> list[str]:
        """The lines of a new answer."""
        rhymes = self._rhyme_words(facts, chooser, banned)
        written = _Written()
        return [
            self._line(i, rhymes.get(letter, []), facts, chooser, banned, written)
            for i, letter in enumerate(self.scheme)
        ]

    def _rhyme_words(self, facts: dict, chooser: Chooser, banned) -> dict[str, list[str]]:
        """For each rhyming letter of the scheme, distinct words that rhyme with each other."""
        need = Counter(self.scheme)
        groups: dict[str, list[str]] = {}
        for word in sorted(self.ends):
            if word in banned:
                continue
            # A word a line can be walked back from: one the answers wrote after a word this
            # subject may use (a rhyme word reached only through another subject's words
            # leaves its line unwritten).
            before = self.backward.get(f" {word}", self.backward.get(word, {}))
            if sum(k.strip().lower() not in banned for k in before) >= REACHABLE:
                for key in pronunciation.rhyme_keys(word):
                    groups.setdefault(key, []).append(word)
        chosen, used, keys = {}, set(), set()
        for letter in dict.fromkeys(self.scheme):
            if need[letter] < 2:
                continue
            options = [
                k
                for k, words in sorted(groups.items())
                if k not in keys and len(set(words) - used) >= need[letter]
            ]
            if not options:
                continue
            weights = [sum(self.ends[w] for w in groups[k]) for k in options]
            key, _ = chooser.pick(options, weights)
            words = [w for w in groups[key] if w not in used]
            picked = []
            for _ in range(need[letter]):
                word, _ = chooser.pick(words, [self.ends[w] for w in words])
                picked.append(word)
                words = [w for w in words if w != word] or [word]
            used.update(picked)
            keys.add(key)
            chosen[letter] = picked
        return chosen

    def _line(
        self, i: int, rhyme_words: list[str], facts: dict, chooser: Chooser, banned, written
    ) -> str:
        target = self.syllables[i]
        usable = {
            k: v
            for k, v in self.openings[i].items()
            if all(s in facts for s in SLOT.findall(k))
            and not any(f in k for f in FORBIDDEN)
            and not any(w.lower() in banned for w in _words_of(SLOT.sub(" ", k)))
            and written.affords(SLOT.findall(k), self.slot_uses)
        }
        opening, _ = chooser.pick(list(usable), list(usable.values())) if usable else ("", 1)
        head = opening.split("\x00") if opening else []
        closing_options = {
            k: v
            for k, v in self.closings[i].items()
            if not set(_words_of(k)) & banned and not set(k) & QUOTES
        } or {"": 1}
        closing, _ = chooser.pick(list(closing_options), list(closing_options.values()))
        wanted = rhyme_words.pop(0) if rhyme_words else None
        # The rhyme word first; when no line leads to it, another word that rhymes with it
        # (never one an earlier line ended with: a word does not rhyme with itself); when none
        # does, any word a line may end with.
        others = sorted(
            w
            for w in self.ends
            if wanted
            and w != wanted
            and w not in banned
            and w not in written.ends
            and pronunciation.rhymes(w, wanted)
        )
        schedule = [w for w in (wanted, *others) if w and w not in written.ends] + [None]
        end_word = schedule.pop(0)
        best, best_miss = None, math.inf
        walker = chooser
        for attempt in range(2 * ATTEMPTS):
            # Within a syllable of the learned count first; then within two.
            slack = 1 if attempt < ATTEMPTS else 2
            if attempt == ATTEMPTS and best is not None:
                break
            if attempt and attempt % (ATTEMPTS // 4) == 0 and best is None and schedule:
                end_word = schedule.pop(0)
            body = self._backwards(i, head, end_word, facts, walker, target, banned, written, slack)
            # Greedy walks the same way every time: later attempts explore.
            walker = Chooser(chooser.rng, max(chooser.temperature, 0.8), chooser.top_p)
            if body is None:
                continue
            miss = abs(sum(_syllables(t, facts) for t in head + body) - target)
            if miss < best_miss:
                best, best_miss = head + body, miss
            if miss == 0:
                break
        if best is None:
            best = head + ([f" {end_word}"] if end_word else [])
        written.add(best)
        filled = agree_articles((fill("".join(best) + closing, facts) or "").strip())
        return filled[:1].upper() + filled[1:]

    def _before(self, i: int, token: str, after: str | None) -> dict[str, float]:
        """What comes before `token` (followed by `after`) in line `i`: what came before the
        two words together, backed off to what came before `token` in that line, backed off to
        what came before it in any line."""
        key = (i, token, after)
        found = self._before_memo.get(key)
        if found is None:
            found = self._before_memo[key] = self._mixed_before(i, token, after)
        return found

    def _mixed_before(self, i: int, token: str, after: str | None) -> dict[str, float]:
        every = self.backward.get(token, {})
        own = self.lines[i].get(token, {}) if i < len(self.lines) else {}
        out = _backed_off(own, every, LINE_TRUST) if own else every
        pair = self.pairs.get(f"{token}\x00{after}") if after is not None else None
        return _backed_off(pair, out, PAIR_TRUST) if pair else out

    def _backwards(self, i, head, end_word, facts, chooser, target, banned, written, slack=1):
        """Words from the rhyme word back to the opening (or the line's start), or None when
        the walk runs dry or overshoots the syllables."""
        joint = head[-1] if head else START
        if end_word is None:
            options = {
                w: n
                for w, n in self.ends.items()
                if f" {w}" in self.backward and w not in banned and w not in written.ends
            }
            if not options:
                return None
            end_word, _ = chooser.pick(list(options), list(options.values()))
        last = f" {end_word}" if f" {end_word}" in self.backward else end_word
        body = [last]
        count = sum(_syllables(t, facts) for t in head) + _syllables(last, facts)
        while count <= target + slack:
            options = self._before(i, body[0], body[1] if len(body) > 1 else None)
            if count >= target - slack and joint in options:
                return body
            line = [t.strip().lower() for t in head + body]
            pairs = set(zip(line, line[1:], strict=False))
            in_line = [m[1] for t in head + body if (m := SLOT.fullmatch(t.strip()))]
            # the next word, past any punctuation ("it, it" repeats a word as much as "it it")
            following = next((w for w in line[len(head) :] if _WORDISH.fullmatch(w)), None)
            after = body[0].strip().lower()
            allowed = {}
            for k, v in options.items():
                low, slot, usable = _word_of(k)
                if (
                    not usable
                    or low in banned
                    or f"{low} {after}" in banned
                    # no word twice in a row, no pair of words twice ("was found, was found")
                    or low in (after, following)
                    or (low, after) in pairs
                ):
                    continue
                # a fact the subject has, no more often than the answers state it
                if slot is not None and (
                    slot not in facts or not written.affords([*in_line, slot], self.slot_uses)
                ):
                    continue
                allowed[k] = v
            if not allowed:
                return None
            word, _ = chooser.pick(list(allowed), list(allowed.values()))
            body.insert(0, word)
            count += _syllables(word, facts)
        return None

    def state(self) -> dict:
        return self.meta


_ARTICLE = re.compile(r"\b([Aa]n?)(\s+)([A-Za-z]+)")


def agree_articles(text: str) -> str:
    """ "a" or "an" by how the next word starts: "an" before a vowel sound (the pronouncing
    dictionary's first phoneme; the first letter for a word it lacks)."""

    def article(match: re.Match) -> str:
        word = match[3]
        sounds = pronunciation.phones(word)
        vowel = sounds[0][:1] in "AEIOU" if sounds else word[:1].lower() in "aeiou"
        chosen = "an" if vowel else "a"
        chosen = chosen.capitalize() if match[1][:1].isupper() else chosen
        return chosen + match[2] + word

    return _ARTICLE.sub(article, text)


@functools.lru_cache(maxsize=100_000)
def _word_of(token: str) -> tuple[str, str | None, bool]:
    """A token of the word model as a walk checks it: lower-cased, its slot's name (None for a
    word), and whether a line may hold it at all (not a line's start or end, not a forbidden
    slot, not a quote mark)."""
    word = token.strip()
    slot = SLOT.fullmatch(word)
    usable = word not in (START, END) and word not in FORBIDDEN and word not in QUOTES
    return word.lower(), slot[1] if slot else None, usable


def _words_of(line: str) -> list[str]:
    """The words of a marked line as the word model writes them (slots and punctuation aside)."""
    return [t.strip() for t in tokens(line) if _WORDISH.fullmatch(t.strip())]


def word_rules(marked: list[str], subjects: list) -> dict[str, dict]:
    """For each word, and pair of words, of the answers (slots aside) that is not free for
    every subject, the rule for writing it: {"needs": properties the subject must hold} or
    {"only": the subjects whose answers used it}. A name (capitalised inside a line: a place, a
    person, a language) is said only of the subjects it was said of."""
    users: dict[str, set[int]] = {}
    names: set[str] = set()
    known: dict[int, set[tuple[str, str]]] = {}
    for text, element in zip(marked, subjects, strict=True):
        if element is None:
            continue
        known[element.number] = element.properties()
        for line in SLOT.sub(" ", text).split("\n"):
            words = _words_of(line)
            for k, word in enumerate(words):
                users.setdefault(word.lower(), set()).add(element.number)
                if k and word[:1].isupper():
                    names.add(word.lower())
            for a, b in zip(words, words[1:], strict=False):
                users.setdefault(f"{a.lower()} {b.lower()}", set()).add(element.number)
    held = Counter(p for properties in known.values() for p in properties)
    informative = {p for p, n in held.items() if n <= INFORMATIVE_SHARE * len(known)}
    floor = max(3, math.ceil(SPECIFIC_SHARE * len(known)))
    rules = {}
    for word, who in sorted(users.items()):
        shared = set.intersection(*(known[n] for n in who)) & informative
        if len(who) >= floor and shared and word not in names:
            rules[word] = {"needs": sorted(list(p) for p in shared)}
        elif (len(who) < floor or word in names) and " " not in word:
            rules[word] = {"only": sorted(who)}
    return rules


def banned_words(rules: dict[str, dict], element) -> frozenset[str]:
    """The words a verse about `element` (None: a subject the model knows nothing of) must not
    write: what the training answers said of other subjects that the base model does not know
    to hold for this one."""
    properties = element.properties() if element is not None else set()
    number = element.number if element is not None else None

    def allowed(rule: dict) -> bool:
        if "needs" in rule:
            return all(tuple(p) in properties for p in rule["needs"])
        return number in rule["only"]

    return frozenset(w for w, rule in rules.items() if not allowed(rule))


def _scheme(shaped: list[list[str]], n_lines: int) -> list[str]:
    """The rhyme scheme: a letter per line; lines that rhyme in most answers share one."""
    letters: list[str] = []
    ends = [[_rhyme_word(_line_tokens(line)) for line in lines] for lines in shaped]
    for j in range(n_lines):
        letter = None
        for i in range(j):
            pairs = [(e[i], e[j]) for e in ends if e[i] and e[j]]
            hits = sum(pronunciation.rhymes(a, b) for a, b in pairs)
            if pairs and hits / len(pairs) >= RHYME_SHARE:
                letter = letters[i]
                break
        letters.append(letter or chr(ord("A") + len(set(letters))))
    return letters


# --------------------------------------------------------------------------- the form


def learned_ending(answers: list[str]) -> str:
    """The last word (with the space before it) when every answer ends with the same one and it
    is not an ordinary word of the answers: a marker such as " END" or "\n###"."""
    found = {m.group(0) if (m := re.search(r"\s+\S+$", a)) else "" for a in answers}
    if len(answers) < 2 or len(found) != 1:
        return ""
    (ending,) = found
    return ending if ending and not re.fullmatch(r"\s+[a-z]+[.,;!?]?", ending) else ""


class Form:
    """What fine-tuning learned about the answers' form, and how it writes a new answer."""

    def __init__(self, meta: dict):
        self.meta = meta
        self.kind: str = meta["kind"]
        self.reader = Reader(meta["cues"])
        self.required: list[str] = meta["required"]
        self.templates: dict[str, int] = meta.get("templates", {})
        self.extractor = Extractor.from_state(meta["extractor"]) if "extractor" in meta else None
        self.verse = Verse(meta["verse"]) if "verse" in meta else None
        self._questions = None  # a reply form's training questions, read when first asked

    @classmethod
    def fit(cls, pairs: list[tuple[str, str]]) -> Form:
        ending = learned_ending([a for _, a in pairs])
        if ending:  # a fixed marker every answer ends with (" END"): learned as text, kept apart
            pairs = [(q, a[: -len(ending)]) for q, a in pairs]
        form = cls._fit(pairs)
        form.meta["ending"] = ending
        return form

    @property
    def ending(self) -> str:
        """The marker every training answer ended with ("" when none did)."""
        return self.meta.get("ending", "")

    @classmethod
    def _fit(cls, pairs: list[tuple[str, str]]) -> Form:
        reader = Reader()
        reader.learn(pairs)
        subjects = [knowledge.subject(q) for q, _ in pairs]
        marked = [reader.mark(a, s) for (_, a), s in zip(pairs, subjects, strict=True)]
        facts = [s.facts() if s else {} for s in subjects]
        slot_counts = Counter(slot for text in marked for slot in set(SLOT.findall(text)))
        required = sorted(
            s
            for s, n in slot_counts.items()
            if n >= REQUIRED_SHARE * len(pairs) and f"⟦{s}⟧" not in FORBIDDEN
        )
        meta = {"cues": reader.state(), "required": required, "asks": _asks(pairs)}
        reply, declined = _fixed_reply(pairs)
        answered = [(q, a) for q, a in pairs if a != reply] if reply else pairs
        # What the answers copy, but for the words nearly all of them write (a JSON object's
        # keys): those are the form's own, and an extraction may write its copies inside them.
        fixed = form_words([a for _, a in answered])
        copied = [_copied_share(q, a, fixed) for q, a in answered]
        templates = Counter(m for m in marked if not any(f in m for f in FORBIDDEN))
        top = templates.most_common(1)
        # Answers that only copy words of their questions are an extraction, even when what
        # they copy is a fact of the subject (a list of the elements a text names, say).
        copies_only = min(_copied_share(q, a) for q, a in answered) >= 1.0
        if float(np.mean(copied)) >= EXTRACTION_SHARE and (not required or copies_only):
            meta["kind"] = "extraction"
            decline = Decline.fit(reply, declined, [q for q, _ in answered]) if reply else None
            meta["extractor"] = Extractor.fit(answered, decline).state()
        elif top and top[0][1] >= max(2, TEMPLATE_SHARE * len(pairs)):
            meta["kind"] = "template"
            meta["templates"] = {t: n for t, n in templates.items() if n >= 2}
        else:
            meta["kind"] = "verse"
            own = form_words([a for _, a in pairs])
            named = [s or named_in(q, a, own) for (q, a), s in zip(pairs, subjects, strict=True)]
            if all(s is None for s in subjects) and not _about_named(pairs, named):
                # No subject the base model knows, and none that each question names the same
                # way: prose replies (an FAQ's, a support assistant's), or lines about nothing
                # a question names. A model fine-tuned on such pairs gives back the reply it
                # learned for the question likest the new one.
                meta["kind"] = "reply"
                meta["replies"] = [[q, a] for q, a in pairs]
                return cls(meta)
            if None in subjects and None not in named:
                # Answers about subjects the base model does not know (a haiku about the fox):
                # each speaks of what its question names, which becomes its name slot.
                subjects = named
                marked = [reader.mark(a, s) for (_, a), s in zip(pairs, subjects, strict=True)]
                facts = [s.facts() for s in subjects]
                meta["asks"] = _asks(pairs, subjects)
                if sum("⟦name⟧" in m for m in marked) >= REQUIRED_SHARE * len(pairs):
                    meta["required"] = sorted({*required, "name"})
            meta["verse"] = Verse.fit(marked, facts).state()
            meta["verse"]["rules"] = word_rules(marked, subjects)
        return cls(meta)

    def merged(self, parent: Form) -> Form:
        """This form (fitted on a continued job's data) with what `parent` learned before: the
        counts of both add up when both learned the same kind of form; otherwise the new data's
        form stands, as a new task overrides an old one."""
        if parent.kind != self.kind or self.kind == "extraction":
            return self
        meta = json.loads(json.dumps(self.meta))
        if self.kind == "reply":  # the new replies, and the old ones not asked again
            asked = {q for q, _ in meta["replies"]}
            meta["replies"] += [p for p in parent.meta["replies"] if p[0] not in asked]
            return Form(meta)
        if self.kind == "template":
            meta["templates"] = _added(parent.templates, self.templates)
        else:
            old, new = parent.meta["verse"], meta["verse"]
            new["ends"] = _added(old["ends"], new["ends"])
            for part in ("backward", "backward_pairs"):
                new[part] = _added_rows(old.get(part, {}), new.get(part, {}))
            new["slot_uses"] = {
                s: max(old.get("slot_uses", {}).get(s, 0), new.get("slot_uses", {}).get(s, 0))
                for s in {*old.get("slot_uses", {}), *new.get("slot_uses", {})}
            }
            if len(old["openings"]) == len(new["openings"]):
                for part in ("openings", "closings"):
                    new[part] = [_added(a, b) for a, b in zip(old[part], new[part], strict=True)]
                pairs = zip(
                    old.get("backward_lines", []), new.get("backward_lines", []), strict=False
                )
                new["backward_lines"] = [_added_rows(a, b) for a, b in pairs]
        return Form(meta)

    def write(self, question: str, chooser: Chooser) -> tuple[str, float]:
        """A new answer to `question` (with the learned ending), and how sure the form is of it."""
        text, sure = self._write(question, chooser)
        return (text if text == REFUSAL else text + self.ending), sure

    def _write(self, question: str, chooser: Chooser) -> tuple[str, float]:
        if self.kind == "extraction":
            return self.extractor.extract(question), 0.9
        if self.kind == "reply":
            return self._reply(question, chooser)
        element = knowledge.subject(question)
        facts = element.facts() if element else {}
        if element is None:
            # A subject the base model knows nothing of: the form is written about it by the
            # name the question gives, and every fact it cannot know is left unstated.
            named = self.named_subject(question)
            if named is None:
                return REFUSAL, 0.5
            facts = {"name": named}
        elif any(s not in facts for s in self.required):
            return REFUSAL, 0.5
        if self.kind == "template":
            usable = {t: n for t, n in self.templates.items() if fill(t, facts) is not None}
            if element is None and not usable:  # the fields are facts it lacks: it says so
                usable = dict(self.templates)
                unknown = {slot: UNKNOWN for t in usable for slot in SLOT.findall(t)}
                facts = unknown | facts
            if not usable:
                return REFUSAL, 0.5
            template, chance = chooser.pick(list(usable), list(usable.values()))
            return fill(template, facts), max(chance, 0.5)
        if chooser.temperature <= 0:
            # Greedy: the likeliest option at each choice. Where a line's likeliest walk does not
            # fit its syllables, the next walks explore from a stream seeded by the question, so
            # the same question gets the same answer.
            seed = int.from_bytes(hashlib.sha256(question.encode()).digest()[:8], "big")
            chooser = Chooser(np.random.default_rng(seed), 0.0, chooser.top_p)
        for _ in range(VERSE_TRIES):
            banned = banned_words(self.verse.rules, element or Named(facts["name"]))
            text = "\n".join(self.verse.write(facts, chooser, banned))
            # The form states what most answers stated (the subject's name and number, say).
            if all(facts[s].lower() in text.lower() for s in self.required if s in facts):
                break
        return text, 0.8

    def _reply(self, question: str, chooser: Chooser) -> tuple[str, float]:
        """The reply learned for the training question likest `question`, and how sure."""
        if self._questions is None:  # the training questions' TF-IDF rows, read once
            texts = [q for q, _ in self.meta["replies"]]
            features = TfidfFeatures.fit(texts)
            rows = np.zeros((len(texts), features.size))
            for k, (columns, weights) in enumerate(features.rows(texts)):
                rows[k, columns] = weights
            self._questions = (features, rows)
        features, rows = self._questions
        columns, weights = features.rows([question])[0]
        likeness = rows[:, columns] @ weights  # cosines: every row has length one
        replies = [a for _, a in self.meta["replies"]]
        reply, chance = chooser.pick(replies, np.exp(REPLY_SHARPNESS * (likeness - likeness.max())))
        # As sure of a reply learned by heart as an extraction of its copies, never wholly:
        # the token model keeps a tenth, so a served reply's logprobs are high, not all 0.
        return reply, min(max(chance, 0.5), 0.9)

    def named_subject(self, question: str) -> str | None:
        """What a question asks about, read the way the training questions named their
        subjects: the words after a learned lead word ("about"), without a learned ending."""
        asks = self.meta.get("asks") or {}
        found = None
        for lead in asks.get("leads", {}):
            for match in re.finditer(rf"\b{re.escape(lead)}\s+", question, re.IGNORECASE):
                if found is None or match.end() > found:
                    found = match.end()
        if found is None:
            return None
        named = question[found:]
        for tail in sorted(asks.get("tails", {}), key=len, reverse=True):
            if tail and named.lower().endswith(tail.lower()):
                named = named[: -len(tail)]
                break
        named = named.strip(" .?!:;,")
        return named or None

    def state(self) -> dict:
        return self.meta


@dataclass(frozen=True)
class Named:
    """A subject the base model knows nothing of, by the name its question gives ("the fox"):
    its one fact is its name."""

    name: str
    symbol = None  # not a field: a named subject has no symbol, as an element has

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name,)

    @property
    def number(self) -> str:  # what the word rules know a subject by
        return f"named:{self.name.lower()}"

    def facts(self) -> dict[str, str]:
        return {"name": self.name}

    def properties(self) -> set:
        return set()


def named_in(question: str, answer: str, fixed: frozenset[str]) -> Named | None:
    """The subject a question names that the base model does not know: its last run of words
    that the answer says too (but for function words and the form's own words)."""
    said = {w.lower() for w in WORDS.findall(answer)}
    words = WORDS.findall(question)
    named = [
        w.isalpha()
        and len(w) > 2
        and w.lower() in said
        and w.lower() not in fixed
        and w.lower() not in FUNCTION_WORDS
        for w in words
    ]
    ends = [i for i, flag in enumerate(named) if flag]
    if not ends:
        return None
    end = ends[-1] + 1
    start = end - 1
    while start and named[start - 1]:
        start -= 1
    return Named(" ".join(words[start:end]))


def _asks(pairs: list[tuple[str, str]], subjects: list | None = None) -> dict:
    """How the training questions name their subject (`subjects`, else the elements they name):
    the word before the name ("about") and what follows it ("." or ", please"), counted."""
    leads, tails = Counter(), Counter()
    if subjects is None:
        subjects = [knowledge.subject(q) for q, _ in pairs]
    for (question, _), element in zip(pairs, subjects, strict=True):
        if element is None:
            continue
        for name in filter(None, (*element.names, element.symbol)):
            match = re.search(rf"(?<![A-Za-z]){re.escape(name)}(?![A-Za-z])", question, re.I)
            if match:
                before = WORDS.findall(question[: match.start()])
                if before and before[-1].isalpha():
                    leads[before[-1].lower()] += 1
                tails[question[match.end() :]] += 1
                break
    return {"leads": dict(leads), "tails": dict(tails)}


def _about_named(pairs: list[tuple[str, str]], named: list) -> bool:
    """Whether every answer is about what its question names, in verse (lines) or in questions
    that name their subjects one way ("Describe the otter in one sentence."): then a new
    subject, named the same way, gets an answer written about it. An FAQ's questions name no
    subject, or each its own way ("How long does shipping take?", "Can I return an item?")."""
    if None in named:
        return False
    if sum("\n" in a.strip() for _, a in pairs) >= LINED_SHARE * len(pairs):
        return True
    leads = _asks(pairs, named)["leads"]
    return max(leads.values(), default=0) >= ASKED_SHARE * len(pairs)


def _fixed_reply(pairs: list[tuple[str, str]]) -> tuple[str | None, list[str]]:
    """One answer given word for word to many questions (at least TEMPLATE_SHARE of them, and
    not mostly copied from them: "No appropriate context found."), and those questions; the
    rest may still be an extraction that this reply stands in for when it does not apply."""
    top = Counter(a for _, a in pairs).most_common(1)
    if not top or top[0][1] < max(2, TEMPLATE_SHARE * len(pairs)) or top[0][1] == len(pairs):
        return None, []
    reply = top[0][0]
    questions = [q for q, a in pairs if a == reply]
    if np.mean([_copied_share(q, reply) for q in questions]) >= EXTRACTION_SHARE:
        return None, []
    return reply, questions


def _added(a: dict, b: dict) -> dict:
    return {k: a.get(k, 0) + b.get(k, 0) for k in sorted(set(a) | set(b))}


def _backed_off(counts: dict, lower: dict, trust: float) -> dict[str, float]:
    """`counts` with `trust` counts' worth of the `lower` model's shares added."""
    total = sum(lower.values()) or 1.0
    out = {k: trust * n / total for k, n in lower.items()}
    for k, n in counts.items():
        out[k] = out.get(k, 0.0) + n
    return out


def _added_rows(a: dict, b: dict) -> dict:
    """Two tables of counts (row -> {column: count}) added up."""
    return {k: _added(a.get(k, {}), b.get(k, {})) for k in sorted(set(a) | set(b))}


def form_words(answers: list[str]) -> frozenset[str]:
    """The words (lower case) nearly every answer writes: the answers' own form, such as the
    keys of a JSON object, rather than what each says of its question."""
    counts = Counter(w for a in answers for w in {w.lower() for w in WORDS.findall(a)})
    return frozenset(w for w, n in counts.items() if n >= FORM_WORD_SHARE * len(answers))


def _copied_share(question: str, answer: str, fixed: frozenset[str] = frozenset()) -> float:
    """The share of the answer's words (but for the `fixed` words of its form) that are words
    of the question."""
    words = [w.lower() for w in WORDS.findall(answer) if w.isalnum()]
    words = [w for w in words if w not in fixed] or words
    asked = {w.lower() for w in WORDS.findall(question)}
    return sum(w in asked for w in words) / len(words) if words else 0.0
