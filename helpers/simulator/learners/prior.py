"""A base model's general language prior: how likely each token is before any fine-tuning.

It is a word model of English written out in the base model's tokens.

- Words: the `wordfreq` package's English list (the 20,000 commonest words, pooled from
  Wikipedia, subtitles, news, books, web text and social media) with their frequencies, plus
  the words of what the base model knows (`knowledge`: element names, families, phases...) at
  their own `wordfreq` frequency (at least the 20,000th word's). Each word is written three
  ways: " word" inside a sentence, " Word" after a full stop, and "Word" at the start of a
  line.
- Inside a word the model walks a trie of those words in its own tokens: having written a
  word's first pieces, the chance of the next piece is the frequency of the words that go on
  with it over the frequency of the words with that beginning, and the chance the word ends
  there leads to what comes between words. A share (`UNLISTED`) goes to words the list does not
  hold ("lightest", "fuses"): their next piece is drawn from how listed words go on.
- Between words: a line break, a punctuation mark or the next word.
  * Line breaks: a line ends after about as many words as the lines before it in the same text
    (each earlier line's length a bump of width `LINE_SPREAD` words); before any line break,
    after about `FIRST_LINE` words but rarely (`FIRST_BREAK`: most text is prose). The break is
    written with the punctuation that ends it (",\\n", ".\\n", ...), in English rates.
  * Punctuation inside a line at English rates, rarely twice in a row.
  * The next word: a closed-class function word (articles, pronouns, prepositions, auxiliaries,
    conjunctions: `FUNCTION_WORDS`) or a content word, with the chance of a function word
    depending on whether the word before was one (`FUNCTION_AFTER`); within its class a word is
    as likely as its frequency. After a line break the line-start form, after . ! ? the
    capitalised one.
A little of every token (`FLOOR`) keeps any text possible. The model is built once per
tokenizer (about a second, its rhyme index included) and kept in the working folder's cache
(`paths.cache_dir`): a later process (each notebook's kernel) reads it back in a few hundredths of
a second. A server that finds it missing builds it in a separate process as it starts
(`build_in_background`), as a real server loads its weights: the build uses another core, and the
first job that needs the model waits for it rather than building it again.
"""

from __future__ import annotations

import functools
import math
import os
import re
import subprocess
import sys
import threading
from importlib import metadata
from pathlib import Path

import numpy as np

from helpers.kept import keep, kept_path, read_kept
from helpers.long_lived import freeze_once

N_WORDS = 20_000
N_CAPITALISED = 15_000  # rarer listed words are written in lower case only (to build quickly)
FLOOR = 0.01  # share of probability spread evenly over the whole vocabulary
UNLISTED = 0.05  # inside a word, the share kept for words the list does not hold
# How a word is written, by what comes before it: (" word", " Word", "Word").
FORM_SHARES = {
    "line": (0.08, 0.02, 0.90),  # after a line break (or at the start)
    "sentence": (0.15, 0.83, 0.02),  # after . ! ?
    "inside": (0.92, 0.07, 0.01),  # elsewhere
}
# English closed-class words: articles, determiners, pronouns, prepositions, conjunctions,
# auxiliary and modal verbs, and a few particles.
FUNCTION_WORDS = frozenset(
    """a an the this that these those my your his her its our their some any no every each all
    both either neither much many more most few little such what which who whom whose whatever
    i me you he him she it we us they them myself yourself himself herself itself ourselves
    themselves one there here of in on at by for with from to into onto upon about above below
    over under between among through during before after since until till against without within
    along across behind beyond near off out up down around than as like and or but nor so yet if
    because although though while when where whether why how then once unless is am are was were
    be been being have has had having do does did done can could may might must shall should will
    would not n't 's 're 've 'll 'd it's i'm you're he's she's we're they're that's there's isn't
    aren't wasn't weren't don't doesn't didn't can't couldn't won't wouldn't shouldn't just too
    very also even only""".split()  # noqa: SIM905
)
# The chance that the next word is a function word, after a function word / a content word /
# at the start of a line or sentence (English text is about half function words).
FUNCTION_AFTER = {"function": 0.28, "content": 0.55, "start": 0.5}
# Line breaks, and the punctuation written with them (shares of line breaks).
LINE_BREAKS = {
    ",\n": 0.30, ".\n": 0.22, "\n": 0.25, ";\n": 0.06, "!\n": 0.07, "?\n": 0.04, ":\n": 0.03,
    "\n\n": 0.03,
}  # fmt: skip
FIRST_LINE = 8.0  # words in a line before any line break says how long lines are
FIRST_BREAK = 0.12  # the most likely a first line break gets (most text is prose)
LINE_SPREAD = 1.2  # words either side of an earlier line's length
LINE_BREAK_MOST = 0.85  # the most likely a line break gets, at an earlier line's length
# Punctuation inside a line (rates per word boundary).
PUNCTUATION = {
    ",": 0.06, ".": 0.04, ";": 0.004, ":": 0.004, "!": 0.004, "?": 0.004, "'s": 0.008,
    "-": 0.005, '"': 0.003, ' "': 0.003, " (": 0.002, ")": 0.002, '",': 0.001, "'": 0.002,
}  # fmt: skip
AFTER_PUNCTUATION = 0.15  # how much less likely punctuation is right after punctuation
SENTENCE_ENDS = (".", "!", "?")
# The share of a line's last word that rhymes with an earlier line's last word: when earlier
# lines of the text already rhymed with each other, and when none have yet.
RHYME_SEEN, RHYME_UNSEEN = 0.6, 0.25
CONTEXT_MEMO = 200_000  # states whose context is kept (a few hundred bytes each)
_LOCK = threading.Lock()
BUILD_WAIT = 120.0  # seconds a job waits for a prior being built in the background, at most
# encoding name -> the process (started by this one) that is building its prior
_building: dict[str, subprocess.Popen] = {}
_BUILDING_LOCK = threading.Lock()
INSIDE_UNLISTED = (-1,)  # the word state inside a word the list does not hold
_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


def _declared_words(frequencies: dict[str, float]) -> tuple[list[tuple[str, float]], set[str]]:
    """The word list: the commonest words, then what the base model knows, at their own
    frequency (at least the last listed word's); and the words it knows."""
    from helpers.simulator.learners import knowledge

    common = sorted(frequencies.items(), key=lambda p: (-p[1], p[0]))[:N_WORDS]
    words = [(w, f) for w, f in common if w.replace("'", "").isalpha()]
    listed = {w for w, _ in words}
    least = common[-1][1]
    known: set[str] = set()
    for element in knowledge.elements().values():
        text = " ".join((element.describe(), *element.names, *element.facts().values()))
        known.update(w.lower() for w in _WORD.findall(text))
        known.add(knowledge.number_words(element.number))  # "thirty-one" as one word
    for word in sorted(known - listed):
        if " " in word:
            continue
        words.append((word, max(frequencies.get(word, 0.0), least)))
    return words, known


class State(tuple):
    """Where the prior is in a text: (the current word's tokens, words so far in this line,
    the lengths of the earlier lines, what the last token was: "line", "sentence", "punct",
    "word", and how the earlier lines' last words sound: their rhyme keys)."""

    __slots__ = ()

    def __new__(cls, word=(), words=0, lines=(), last="line", ends=()):
        return super().__new__(cls, (word, words, lines, last, ends))


START_STATE = State()


class LanguagePrior:
    """Token probabilities of English text, walking the words token by token."""

    def __init__(self, encoding):
        from wordfreq import get_frequency_dict  # a large table: read only when needed

        self.vocabulary_size = encoding.n_vocab
        words, known = _declared_words(get_frequency_dict("en", wordlist="best"))
        texts, masses, kinds, self._spelled = [], [], [], []
        for rank, (word, frequency) in enumerate(words):
            kind = "function" if word in FUNCTION_WORDS else "content"
            capital = word[:1].upper() + word[1:]
            forms = (f" {word}", f" {capital}", capital)
            if rank >= N_CAPITALISED and word not in known:
                forms = forms[:1]
            for form, text in enumerate(forms):
                self._spelled.append(word)
                texts.append(text)
                masses.append(frequency)
                kinds.append((form, kind))
        # node (the tokens of a word so far) -> {next token: mass}, and the mass ending there
        self.children: dict[tuple, dict[int, float]] = {}
        self.ends: dict[tuple, float] = {}
        self.function_ends: dict[tuple, float] = {}
        self.mass: dict[tuple, float] = {}
        # (form, class) -> {first token: mass}
        firsts: dict[tuple, dict[int, float]] = {}
        self._first_of: list[tuple[int, int, float]] = []  # (form, first token, mass) per text
        # One text at a time: tiktoken's batch call hands each of these ~50,000 one-word texts
        # to a thread pool, which costs twenty times the encoding itself.
        encoded = [encoding.encode_ordinary(text) for text in texts]
        for tokens, mass, (form, kind) in zip(encoded, masses, kinds, strict=True):
            self._first_of.append((form, tokens[0], mass))
            row = firsts.setdefault((form, kind), {})
            row[tokens[0]] = row.get(tokens[0], 0.0) + mass
            node: tuple = ()
            for token in tokens:
                row = self.children.setdefault(node, {})
                row[token] = row.get(token, 0.0) + mass
                self.mass[node] = self.mass.get(node, 0.0) + mass
                node = (*node, token)
            self.ends[node] = self.ends.get(node, 0.0) + mass
            if kind == "function":
                self.function_ends[node] = self.function_ends.get(node, 0.0) + mass
            self.mass.setdefault(node, 0.0)
        self.firsts = {key: _normalised(row) for key, row in firsts.items()}
        inner: dict[int, float] = {}
        for node, row in self.children.items():
            if node:
                for token, mass in row.items():
                    inner[token] = inner.get(token, 0.0) + mass
        self.inner = _normalised(inner)
        self.breaks = _normalised(_first_tokens(encoding, LINE_BREAKS))
        self.marks = _normalised(_first_tokens(encoding, PUNCTUATION))
        self.mark_rate = sum(PUNCTUATION.values())
        self.sentence_marks = {
            t
            for t in self.marks
            if encoding.decode_single_token_bytes(t).strip()
            in tuple(m.encode() for m in SENTENCE_ENDS)
        }
        self._bytes = encoding.decode_single_token_bytes
        self._decode = encoding.decode
        self._rhyming: dict[str, dict[int, dict[int, float]]] | None = None
        self._keys_of: dict[str, frozenset[str]] = {}  # listed words' rhyme keys, with _rhyming
        self._contexts: dict[State, tuple] = {}
        self.top = {
            key: [t for t, _ in sorted(row.items(), key=lambda p: (-p[1], p[0]))[:20]]
            for key, row in {**self.firsts, "breaks": self.breaks, "marks": self.marks}.items()
        }
        self.uniform = FLOOR / self.vocabulary_size
        self._memo: dict[tuple, tuple] = {}
        self._likeliest: dict[tuple, list] = {}

    def _inside(self, node: tuple) -> tuple[float, dict[int, float]]:
        """(chance the word ends at `node`, {token: chance it continues with token})."""
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

    def _rhyme_index(self) -> dict[str, dict[int, dict[int, float]]]:
        """rhyme key -> form -> {first token: share of the words that rhyme so}, built the
        first time a text has a line that ended in a word the dictionary knows."""
        if self._rhyming is None:
            from helpers.simulator.learners.pronunciation import rhyme_keys

            keys_of = {word: rhyme_keys(word) for word in sorted(set(self._spelled))}
            self._keys_of = keys_of  # kept: a line's last word is then looked up, not parsed
            index: dict[str, dict[int, dict[int, float]]] = {}
            for word, (form, token, mass) in zip(self._spelled, self._first_of, strict=True):
                for key in sorted(keys_of[word]):
                    row = index.setdefault(key, {}).setdefault(form, {})
                    row[token] = row.get(token, 0.0) + mass
            self._rhyming = {
                key: {form: _normalised(row) for form, row in forms.items()}
                for key, forms in index.items()
            }
        return self._rhyming

    def _line_break(self, words: int, lines: tuple, last: str) -> float:
        """The chance that the line ends here, after `words` words."""
        if words == 0 or last == "line":
            return 0.0
        if not lines:
            return FIRST_BREAK * math.exp(-0.5 * ((words - FIRST_LINE) / 2.0) ** 2)
        # The chance the line is `words` long, given it is at least that long.
        bumps = [
            sum(math.exp(-0.5 * ((k - n) / LINE_SPREAD) ** 2) for n in lines)
            for k in range(words, words + 12)
        ]
        return 0.01 + (LINE_BREAK_MOST - 0.01) * bumps[0] / (sum(bumps) + 1e-9)

    def _context(self, state: State) -> tuple:
        """What the chance of the next word or mark depends on at `state` (computed once per
        state): (line break, punctuation, function word, form shares, rhyme share, rhymes)."""
        found = self._contexts.get(state)
        if found is not None:
            return found
        word, words, lines, last, ends = state
        h = self._line_break(words, lines, last)
        marks = 0.0 if last == "line" else self.mark_rate
        if last in ("punct", "sentence"):
            marks *= AFTER_PUNCTUATION
        if word and word != INSIDE_UNLISTED:
            ended = self.ends.get(word, 0.0)
            share = self.function_ends.get(word, 0.0) / ended if ended else 0.0
            function = share * FUNCTION_AFTER["function"] + (1 - share) * FUNCTION_AFTER["content"]
        elif word:
            function = FUNCTION_AFTER["content"]
        else:
            function = FUNCTION_AFTER["start"]
        shares = FORM_SHARES[last if last in ("line", "sentence") else "inside"]
        rhyme, rhymes = 0.0, []
        if ends:  # the word about to start may be the line's last: it rhymes with an earlier end
            last_word = self._line_break(words + 1, lines, "word")
            rhyme = (RHYME_SEEN if len(set(ends)) < len(ends) else RHYME_UNSEEN) * last_word
            index, keys = self._rhyme_index(), sorted(set(ends))
            rhymes = [
                (weight / len(keys), index.get(key, {}).get(form, {}))
                for key in keys
                for form, weight in enumerate(shares)
            ]
        found = (h, marks, function, shares, rhyme, rhymes)
        if len(self._contexts) < CONTEXT_MEMO:
            self._contexts[state] = found
        return found

    def _between(self, state: State, token: int) -> float:
        """The chance of `token` when a word has just ended (or none has started)."""
        h, marks, function, shares, rhyme, rhymes = self._context(state)
        chance = h * self.breaks.get(token, 0.0) + (1 - h) * marks * self.marks.get(token, 0.0)
        starts = 0.0
        for form, share in enumerate(shares):
            starts += share * (
                function * self.firsts[form, "function"].get(token, 0.0)
                + (1 - function) * self.firsts[form, "content"].get(token, 0.0)
            )
        if rhyme:
            rhyming = sum(weight * row.get(token, 0.0) for weight, row in rhymes)
            starts = (1 - rhyme) * starts + rhyme * rhyming
        return chance + (1 - h) * (1 - marks) * starts

    def closed_share(self, state) -> float:
        """About how much of the next token's probability goes to closed-class tokens (line
        breaks, punctuation, function words) rather than to content words or a word's next
        piece (rhymes and the spread floor left out)."""
        state = state or START_STATE
        h, marks, function, *_ = self._context(state)
        between = h + (1 - h) * (marks + (1 - marks) * function)
        word = state[0]
        if word == INSIDE_UNLISTED:
            return 0.5 * between
        if word:
            end = self._inside(word)[0]
            return (1 - UNLISTED) * end * between + UNLISTED * 0.5 * between
        return between

    def probability(self, state, token: int) -> float:
        state = state or START_STATE
        word = state[0]
        between = self._between(state, token)
        if word == INSIDE_UNLISTED:
            chance = 0.5 * self.inner.get(token, 0.0) + 0.5 * between
        elif word:
            end, continues = self._inside(word)
            chance = continues.get(token, 0.0) + end * between
            unlisted = 0.5 * self.inner.get(token, 0.0) + 0.5 * between
            chance = (1 - UNLISTED) * chance + UNLISTED * unlisted
        else:
            chance = between
        return (1 - FLOOR) * chance + self.uniform

    def probabilities(self, state, tokens: list[int]) -> list[float]:
        """`probability` of each of `tokens` at one `state`: the same arithmetic, with what
        depends only on the state worked out once (ranking a state's candidates asks for
        dozens)."""
        state = state or START_STATE
        word = state[0]
        h, marks, function, shares, rhyme, rhymes = self._context(state)
        breaks, mark_rows, inner = self.breaks, self.marks, self.inner
        marked, started, other = (1 - h) * marks, (1 - h) * (1 - marks), 1 - function
        forms = [
            (share, self.firsts[form, "function"], self.firsts[form, "content"])
            for form, share in enumerate(shares)
        ]
        end, continues = self._inside(word) if word and word != INSIDE_UNLISTED else (0.0, {})
        out = []
        for token in tokens:
            chance = h * breaks.get(token, 0.0) + marked * mark_rows.get(token, 0.0)
            starts = 0.0
            for share, functions, contents in forms:
                starts += share * (
                    function * functions.get(token, 0.0) + other * contents.get(token, 0.0)
                )
            if rhyme:
                rhyming = sum(weight * row.get(token, 0.0) for weight, row in rhymes)
                starts = (1 - rhyme) * starts + rhyme * rhyming
            between = chance + started * starts
            if word == INSIDE_UNLISTED:
                chance = 0.5 * inner.get(token, 0.0) + 0.5 * between
            elif word:
                chance = continues.get(token, 0.0) + end * between
                unlisted = 0.5 * inner.get(token, 0.0) + 0.5 * between
                chance = (1 - UNLISTED) * chance + UNLISTED * unlisted
            else:
                chance = between
            out.append((1 - FLOOR) * chance + self.uniform)
        return out

    def step(self, state, token: int) -> State:
        """The state after writing `token`."""
        word, words, lines, last, ends = state or START_STATE
        if token in self.breaks:
            if word and word != INSIDE_UNLISTED and self.ends.get(word):
                ends = self._ended(word, ends)
            return State((), 0, (*lines, words)[-6:], "line", ends)
        if word:
            extended = (*word, token)
            if word != INSIDE_UNLISTED and extended in self.mass:
                return State(extended, words, lines, "word", ends)
        if token in self.marks:
            sentence = "sentence" if token in self.sentence_marks else "punct"
            return State((), words, lines, sentence, ends)
        if (token,) in self.mass:
            return State((token,), words + 1, lines, "word", ends)
        raw = self._bytes(token)
        if word and raw[:1].isalpha():  # a piece of a word the list does not hold
            return State(INSIDE_UNLISTED, words, lines, "word", ends)
        if raw.strip()[:1].isalpha():
            return State(INSIDE_UNLISTED, words + 1, lines, "word", ends)
        return State((), words, lines, "punct", ends)

    def _ended(self, word: tuple, ends: tuple) -> tuple:
        """The rhyme keys of the earlier lines' last words, with this line's added."""
        spelled = self._decode(list(word)).strip().lower()
        found = self._keys_of.get(spelled)
        if found is None:
            from helpers.simulator.learners.pronunciation import rhyme_keys

            found = rhyme_keys(spelled)
        keys = sorted(found, key=lambda k: (len(k), k))
        return (*ends, keys[-1])[-4:] if keys else ends

    def likeliest(self, state, top: int) -> list[tuple[int, float]]:
        state = state or START_STATE
        found = self._likeliest.get((state, top))
        if found is None:
            found = self._ranked(state, top)
            if len(self._likeliest) < CONTEXT_MEMO:  # the same answers are read epoch after epoch
                self._likeliest[state, top] = found
        return found

    def _ranked(self, state: State, top: int) -> list[tuple[int, float]]:
        word, _, _, last, _ = state
        options: set[int] = set()
        if word and word != INSIDE_UNLISTED:
            options.update(self._inside(word)[1])
        shares = FORM_SHARES[last if last in ("line", "sentence") else "inside"]
        form = int(np.argmax(shares))
        for key in ((form, "function"), (form, "content"), "breaks", "marks"):
            options.update(self.top[key][: max(top, 3)])
        ordered = list(options)
        scored = list(zip(self.probabilities(state, ordered), ordered, strict=True))
        scored.sort(key=lambda p: (-p[0], p[1]))
        return [(t, p) for p, t in scored[:top]]

    def walk(self, tokens: list[int]) -> tuple[np.ndarray, list]:
        """The probability of each token of a text, and the state before each."""
        out, states, state = np.empty(len(tokens)), [], START_STATE
        for i, token in enumerate(tokens):
            states.append(state)
            out[i] = self.probability(state, token)
            state = self.step(state, token)
        return out, states


def _normalised(row: dict[int, float]) -> dict[int, float]:
    total = sum(row.values()) or 1.0
    return {t: m / total for t, m in row.items()}


def _first_tokens(encoding, rates: dict[str, float]) -> dict[int, float]:
    out: dict[int, float] = {}
    for text, rate in rates.items():
        token = encoding.encode_ordinary(text)[0]
        out[token] = out.get(token, 0.0) + rate
    return out


# What a prior is made of that a new process can read back (`helpers.kept`): plain containers
# of numbers and strings; its memos and the tokenizer's methods are left out.
_MEMOS = ("_memo", "_contexts", "_likeliest")
_BOUND = ("_bytes", "_decode")


def _cache_path(name: str) -> Path:
    """Where the prior for the encoding `name` is kept: keyed by everything it is built from
    (this code and the knowledge it lists, wordfreq's table, the tokenizer)."""
    from helpers.simulator.learners import knowledge

    sources = [Path(module.__file__).read_bytes() for module in (sys.modules[__name__], knowledge)]
    versions = (metadata.version("wordfreq"), metadata.version("tiktoken"))
    return kept_path(f"prior-{name}", *sources, *versions, name)


def _attach(model: LanguagePrior, encoding) -> LanguagePrior:
    model._bytes = encoding.decode_single_token_bytes
    model._decode = encoding.decode
    for name in _MEMOS:
        setattr(model, name, {})
    return model


def _read_cached(path: Path, encoding) -> LanguagePrior | None:
    fields = read_kept(path)  # None when missing or unreadable: built again and kept anew
    if not isinstance(fields, dict) or not {"children", "_rhyming", "_keys_of"} <= fields.keys():
        return None
    model = LanguagePrior.__new__(LanguagePrior)
    model.__dict__.update(fields)
    return _attach(model, encoding)


@functools.cache
def _prior_for(name: str, encoding) -> LanguagePrior:
    path = _cache_path(name)
    found = _read_cached(path, encoding)
    if found is None and _background_build_ended(name):
        found = _read_cached(path, encoding)
    if found is not None:
        freeze_once(f"prior {name}")  # kept for the life of the process
        return found
    model = LanguagePrior(encoding)
    # The rhyme index too (it needs the pronunciation dictionary, half a second to load): a
    # process that reads the cache then loads the dictionary only if it writes verse.
    model._rhyme_index()
    skip = {*_MEMOS, *_BOUND}
    fields = {k: v for k, v in vars(model).items() if k not in skip}
    keep(path, fields)  # a read-only working folder: built again next time
    freeze_once(f"prior {name}")
    return model


def prior(encoding) -> LanguagePrior:
    """The prior for a tokenizer, built the first time any thread asks for it."""
    with _LOCK:
        return _prior_for(encoding.name, encoding)


def build_in_background(names: tuple[str, ...]) -> None:
    """Start one process that builds and keeps the priors of the encodings `names` that are not
    kept yet (nor being built by a process this one started). Nothing is started when they are
    all kept; if no process can be started, each is built here when first needed."""
    from helpers.paths import work_dir

    with _BUILDING_LOCK:
        missing = [
            name
            for name in names
            if not _cache_path(name).exists()
            and (name not in _building or _building[name].poll() is not None)
        ]
        if not missing:
            return
        code = "import sys; from helpers.simulator.learners.prior import build; build(sys.argv[1:])"
        try:
            process = subprocess.Popen(
                [sys.executable, "-c", code, *missing],
                env={**os.environ, "TUTORIAL_WORK_DIR": str(work_dir())},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                # Its own session: a kernel that shuts down meanwhile lets it finish (a kernel
                # stops the processes of its group, and waits for them).
                start_new_session=True,
            )
        except OSError:
            return
        # Reaped as soon as it ends, so that no finished process lingers as this one's child.
        threading.Thread(target=process.wait, name="prior-build", daemon=True).start()
        for name in missing:
            _building[name] = process


def _background_build_ended(name: str) -> bool:
    """Wait for the process building `name`'s prior, if this one started it; True if it ended
    (successfully or not: the caller then reads the cache, or builds the prior itself)."""
    with _BUILDING_LOCK:
        process = _building.pop(name, None)
    if process is None:
        return False
    try:
        process.wait(timeout=BUILD_WAIT)
    except subprocess.TimeoutExpired:
        return False
    return True


def build(names: list[str]) -> None:
    """Build and keep the priors of the encodings `names` (the background process's work)."""
    from helpers.tokens import get_encoding

    for name in names:
        prior(get_encoding(name))


def perplexity(prior_model: LanguagePrior, tokens: list[int]) -> float:
    chances, _ = prior_model.walk(tokens)
    return math.exp(-float(np.log(chances).mean())) if len(tokens) else 1.0
