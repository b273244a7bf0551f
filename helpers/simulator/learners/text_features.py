"""TF-IDF features of texts: the words a model reads, weighted by how telling they are.

Words are runs of letters and digits that may hold `@ . ' -` inside (so e-mail addresses, host
names and contractions stay whole), lower-cased. Term frequencies are damped (1 + log tf), each
term is weighted by its inverse document frequency, and every text's vector has length one.
"""

from __future__ import annotations

import functools
import math
import re
import sys
from collections import Counter

import numpy as np

WORD = re.compile(r"[\w@.'-]*\w")
# The same texts are read again and again in one process: the posts a notebook scores one by
# one and then in a batch, the validation file of each job of a learning curve, the held-out
# posts a continued job trains on. Their words are kept for the last few thousand texts, each
# word stored once (interned): about 4 MB per thousand newsgroup posts.
TEXTS_KEPT = 4096


def words(text: str) -> list[str]:
    return list(_words(text))


@functools.lru_cache(maxsize=TEXTS_KEPT)
def _words(text: str) -> tuple[str, ...]:
    return tuple(map(sys.intern, WORD.findall(text.lower())))


class TfidfFeatures:
    def __init__(self, vocabulary: dict[str, int], idf: np.ndarray):
        self.vocabulary = vocabulary
        self.idf = idf

    @classmethod
    def fit(cls, texts: list[str], min_df: int = 1, max_words: int | None = None) -> TfidfFeatures:
        """Learn the vocabulary (words in at least `min_df` texts, the commonest `max_words`)."""
        return cls.fit_words([words(t) for t in texts], min_df, max_words)

    @classmethod
    def fit_words(cls, texts: list[list[str]], min_df: int = 1, max_words: int | None = None):
        df = Counter()
        for text in texts:
            df.update(set(text))
        common = sorted((w for w, n in df.items() if n >= min_df), key=lambda w: (-df[w], w))
        kept = sorted(common[:max_words] if max_words else common)
        vocabulary = {w: i for i, w in enumerate(kept)}
        n = len(texts)
        idf = np.array([math.log(n / df[w]) + 1.0 for w in kept])
        return cls(vocabulary, idf)

    def extended(self, other: TfidfFeatures) -> TfidfFeatures:
        """These features plus the words only `other` knows, with their weighting there."""
        vocabulary = dict(self.vocabulary)
        added = sorted(w for w in other.vocabulary if w not in vocabulary)
        for word in added:
            vocabulary[word] = len(vocabulary)
        idf = np.concatenate([self.idf, [other.idf[other.vocabulary[w]] for w in added]])
        return TfidfFeatures(vocabulary, idf)

    @property
    def size(self) -> int:
        return len(self.vocabulary)

    def rows(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Each text's vector, as the columns it uses and their weights."""
        return self.rows_of_words([words(t) for t in texts])

    def rows_of_words(self, texts: list[list[str]]) -> list[tuple[np.ndarray, np.ndarray]]:
        known, out = self.vocabulary.get, []
        for text in texts:
            found = (column for column in map(known, text) if column is not None)
            # The columns in order, and how often the text has each word.
            columns, counts = np.unique(np.fromiter(found, dtype=np.int64), return_counts=True)
            weights = (1.0 + np.log(counts)) * self.idf[columns]
            norm = float(np.sqrt(weights @ weights))
            out.append((columns, weights / norm if norm > 0 else weights))
        return out

    def state(self) -> tuple[dict, dict]:
        words_in_order = sorted(self.vocabulary, key=self.vocabulary.get)
        return {"words": words_in_order}, {"idf": np.asarray(self.idf, dtype=float)}

    @classmethod
    def from_state(cls, meta: dict, arrays: dict) -> TfidfFeatures:
        return cls({w: i for i, w in enumerate(meta["words"])}, np.asarray(arrays["idf"]))
