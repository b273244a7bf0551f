"""A base model's general language prior: how likely each token is before any fine-tuning.

It is a word-frequency model of English written out in the base model's tokens. The words and
their frequencies are the `wordfreq` package's English list (the 20,000 commonest words, pooled
from Wikipedia, subtitles, news, books, web text and social media), each written as the model
writes it (" word"; the 5,000 commonest also " Word", and "Word" at the start of a line),
plus punctuation and line breaks at rates typical of English prose. A word is a path through
the tokens that spell it, so the chance of a token is the chance of the words that start (or,
inside a word, continue) with it:

    P(token | word so far) = P(continue with token) + P(word ends here) * P(next word starts so)

Inside a word, a share (`UNLISTED`) goes to words the list does not hold: their next token is
drawn from how listed words continue after their first token (so " light" + "est" is unlikely,
not impossible). A little of every token (`FLOOR`) keeps any text possible. The model is built
once per process and tokenizer, the first time it is needed (about a second).
"""

from __future__ import annotations

import functools
import math
import threading

import numpy as np

N_WORDS = 20_000
N_CAPITALISED = 5_000  # the commonest words are also written capitalised
FLOOR = 0.01  # share of probability spread evenly over the whole vocabulary
# Inside a word, the share kept for words the list does not hold ("lightest", "fuses"): their
# next token is drawn from how listed words go on after their first token.
UNLISTED = 0.05
# How the commonest word forms are written (shares of a word's frequency).
FORMS = ((" {}", 0.78), (" {}", 0.12), ("{}", 0.10))  # lower, Capitalised after a space, line start
# Punctuation and line breaks per word of English prose.
PUNCTUATION = {
    ",": 0.05, ".": 0.04, ";": 0.004, ":": 0.004, "!": 0.003, "?": 0.004, "\n": 0.02,
    ",\n": 0.01, ".\n": 0.008, ";\n": 0.003, ":\n": 0.002, "!\n": 0.002, "?\n": 0.001,
    "'s": 0.006, "-": 0.004, '"': 0.003, ' "': 0.003, " (": 0.002, ")": 0.002, "\n\n": 0.004,
    '",': 0.001, "'": 0.001,
}  # fmt: skip
LINE_START = 30.0  # how much likelier a word's line-start form is right after a line break
_LOCK = threading.Lock()


class LanguagePrior:
    """Token probabilities of English text, walking the words token by token."""

    def __init__(self, encoding):
        from wordfreq import get_frequency_dict  # a large table: read only when needed

        self.vocabulary_size = encoding.n_vocab
        frequencies = get_frequency_dict("en", wordlist="best")
        common = sorted(frequencies.items(), key=lambda p: (-p[1], p[0]))[:N_WORDS]
        texts, masses = [], []
        for rank, (word, frequency) in enumerate(common):
            if not word.replace("'", "").isalpha():
                continue
            if rank >= N_CAPITALISED:  # rarer words: only their usual form, to build quickly
                texts.append(f" {word}")
                masses.append(frequency)
                continue
            spellings = (word, word.capitalize(), word.capitalize())
            for (form, share), text in zip(FORMS, spellings, strict=True):
                texts.append(form.format(text))
                masses.append(frequency * share)
        for text, rate in PUNCTUATION.items():
            texts.append(text)
            masses.append(rate * sum(f for _, f in common))
        # node (the tokens of a word so far) -> {next token: mass}, and the mass ending there
        self.children: dict[tuple, dict[int, float]] = {}
        self.ends: dict[tuple, float] = {}
        self.mass: dict[tuple, float] = {}
        for tokens, mass in zip(encoding.encode_ordinary_batch(texts), masses, strict=True):
            node: tuple = ()
            for token in tokens:
                row = self.children.setdefault(node, {})
                row[token] = row.get(token, 0.0) + mass
                self.mass[node] = self.mass.get(node, 0.0) + mass
                node = (*node, token)
            self.ends[node] = self.ends.get(node, 0.0) + mass
            self.mass.setdefault(node, 0.0)
        inner: dict[int, float] = {}
        for node, row in self.children.items():
            if node:
                for token, mass in row.items():
                    inner[token] = inner.get(token, 0.0) + mass
        inner_total = sum(inner.values())
        self.inner = {t: m / inner_total for t, m in inner.items()}
        total = self.mass[()]
        self.starts = {t: m / total for t, m in self.children[()].items()}
        # After a line break a line starts: "Word" (no space before it) is the usual form there.
        self.line_ends = {
            t for text in PUNCTUATION if text.endswith("\n") for t in encoding.encode(text)[-1:]
        }
        bare = {
            t: m * (1 if encoding.decode_single_token_bytes(t)[:1] in b" \n" else LINE_START)
            for t, m in self.starts.items()
        }
        bare_total = sum(bare.values())
        self.line_starts = {t: m / bare_total for t, m in bare.items()}
        ranked = sorted(self.starts.items(), key=lambda p: (-p[1], p[0]))
        self.top_starts = [t for t, _ in ranked[:20]]
        self.uniform = FLOOR / self.vocabulary_size
        self._memo: dict[tuple, tuple] = {}

    def _inside(self, node: tuple) -> tuple[float, dict[int, float]]:
        """(chance the word ends at `node`, {token: chance it continues with token})."""
        if not node:
            return 1.0, {}
        found = self._memo.get(node)
        if found is None:
            mass = self.mass.get(node, 0.0) + self.ends.get(node, 0.0)
            row = self.children.get(node, {})
            if mass <= 0:
                found = (1.0, {})
            else:
                found = (self.ends.get(node, 0.0) / mass, {t: m / mass for t, m in row.items()})
            self._memo[node] = found
        return found

    def probability(self, node: tuple, token: int) -> float:
        end, continues = self._inside(node)
        starts = self.line_starts if node and node[-1] in self.line_ends else self.starts
        chance = continues.get(token, 0.0) + end * starts.get(token, 0.0)
        if node:
            chance = (1 - UNLISTED) * chance + UNLISTED * self.inner.get(token, 0.0)
        return (1 - FLOOR) * chance + self.uniform

    def step(self, node: tuple, token: int) -> tuple:
        """The word state after writing `token` at `node`."""
        extended = (*node, token)
        if node and extended in self.mass:
            return extended
        return (token,) if (token,) in self.mass else ()

    def likeliest(self, node: tuple, top: int) -> list[tuple[int, float]]:
        end, continues = self._inside(node)
        options = dict.fromkeys(self.top_starts[:top], 0.0) | dict.fromkeys(continues, 0.0)
        scored = [(self.probability(node, t), t) for t in options]
        scored.sort(key=lambda p: (-p[0], p[1]))
        return [(t, p) for p, t in scored[:top]]

    def walk(self, tokens: list[int]) -> tuple[np.ndarray, list[tuple]]:
        """The probability of each token of a text, and the word state before each."""
        out, states, node = np.empty(len(tokens)), [], ()
        for i, token in enumerate(tokens):
            states.append(node)
            out[i] = self.probability(node, token)
            node = self.step(node, token)
        return out, states


@functools.cache
def _prior_for(name: str, encoding) -> LanguagePrior:
    return LanguagePrior(encoding)


def prior(encoding) -> LanguagePrior:
    """The prior for a tokenizer, built the first time any thread asks for it."""
    with _LOCK:
        return _prior_for(encoding.name, encoding)


def perplexity(prior_model: LanguagePrior, tokens: list[int]) -> float:
    chances, _ = prior_model.walk(tokens)
    return math.exp(-float(np.log(chances).mean())) if len(tokens) else 1.0
