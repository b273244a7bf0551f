"""What a model writes for a prompt, token by token, with the logprob of each token.

- A base model answers from its pre-training (`learners.knowledge`, `learners.pronunciation`):
  in plain prose about an element it knows, with rhymes, syllables or a pronunciation from the
  CMU dictionary when asked for them, and plainly that it does not know anything else.
- A fine-tuned classifier writes a label drawn from its probabilities.
- A fine-tuned chat model writes a new answer in the form it learned (`learners.forms`).

Each token's logprob is the model's probability of it at that point: the model's plan for the
answer (the knowledge it states, the form it writes in) is a share of the probability, the rest
is its token model (prior and learned part). The plan's share is above one half, so the written
token is always the likeliest and appears in its own `top_logprobs`. Sampling (`temperature`,
`top_p`) happens where the model makes its choices: which label, which template, which rhyme
words and which words of a line; it draws from a random stream seeded by the request's `seed`
(else the completion's id) and the choice's index, so `n` choices differ and a seed repeats.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from helpers.simulator import catalog
from helpers.simulator.learners import knowledge, pronunciation
from helpers.simulator.learners.chat import START, ChatModel, TokenModel, context_tokens
from helpers.simulator.learners.classifier import LabelModel
from helpers.simulator.learners.forms import REFUSAL, Chooser
from helpers.tokens import encoding_for

KNOWN_SHARE = 0.9  # how sure a base model is of what its pre-training states
_RHYME = re.compile(r"\brhym\w*\s+(?:with\s+)?[\"'\u201c]?([A-Za-z']+)", re.IGNORECASE)
_SYLLABLES = re.compile(r"\bsyllables?\b.*?[\"'\u201c]?([A-Za-z']+)[\"'\u201d]?\W*$", re.I)
_PRONOUNCE = re.compile(r"\bpronounc\w*\s+(?:the\s+word\s+)?[\"'\u201c]?([A-Za-z']+)", re.I)


@dataclass(frozen=True)
class Written:
    token: int
    logprob: float
    top: list  # [(token, logprob), ...], likeliest first


def base_answer(question: str, continues_text: bool = False) -> str:
    """What a base model says to `question` from its pre-training alone."""
    for pattern, answer in ((_RHYME, _rhymes), (_SYLLABLES, _syllables), (_PRONOUNCE, _sounds)):
        match = pattern.search(question)
        if match and pronunciation.phones(match[1]):
            return answer(match[1].lower())
    element = knowledge.subject(question)
    if element is not None:
        return (" " if continues_text else "") + element.describe()
    return (" " if continues_text else "") + REFUSAL


def _rhymes(word: str) -> str:
    found = [w for w in pronunciation.rhyming_words(word) if "'" not in w][:12]
    if not found:
        return f'The CMU Pronouncing Dictionary has no word that rhymes with "{word}".'
    return f'Words that rhyme with "{word}" include ' + ", ".join(found) + "."


def _syllables(word: str) -> str:
    n = pronunciation.syllables(word)
    return f'"{word}" has {n} syllable{"s" if n != 1 else ""}.'


def _sounds(word: str) -> str:
    phones = pronunciation.phones(word)[0]
    stress = pronunciation.stresses(word)
    return (
        f'"{word}" is pronounced {phones} in ARPAbet, the CMU Pronouncing Dictionary\'s '
        f"notation; its stress pattern is {stress} (1 primary, 2 secondary, 0 unstressed)."
    )


RUN_ON = 256  # tokens a completion model writes on past its learned ending, without max_tokens


def write(
    served,
    trained,
    context: str,
    cue: str,
    temperature: float,
    top: int,
    salt: str,
    top_p: float = 1.0,
    stops: Sequence[str] = (),
    most: int | None = None,
) -> list[Written]:
    """The tokens `served` writes for one choice, with logprobs and `top` alternatives each.

    `most` is the request's token limit: a completion model that learned an ending writes on
    to it (to `RUN_ON` tokens without one), or until one of `stops`, and no more than one token
    past it is worked out, since `cut` would drop it."""
    budget = RUN_ON if most is None else max(most, 1)
    encoding = encoding_for(served.base)
    rng = np.random.default_rng(int.from_bytes(hashlib.sha256(salt.encode()).digest()[:8], "big"))
    if isinstance(trained, LabelModel):
        probabilities = trained.probabilities(context)
        label = pick_label(probabilities, temperature, salt, top_p)
        return [
            Written(w["token"], w["logprob"], w["top"])
            for w in trained.tokens.written(probabilities, label, top)
        ]
    if isinstance(trained, ChatModel):
        chooser = Chooser(rng, temperature, top_p)
        text, share = trained.form.write(cue, chooser)
        scorer = trained.tokens
        if catalog.data_format(served.base) == "completion" and trained.form.ending:
            # A completion model has no end of text after the ending it learned: it writes the
            # ending and runs on, the next text in the form of its training completions, until
            # `max_tokens` or a stop sequence ends it.
            # Past a stop sequence nothing more is kept, and a token's chance never depends on
            # what follows it: the writing ends there.
            while not any(stop in text for stop in stops) and (
                len(encoding.encode(text, disallowed_special=())) < budget
            ):
                more, _ = trained.form.write(cue, chooser)
                text += "\n" + more

    else:
        text = base_answer(cue, catalog.data_format(served.base) == "completion")
        share, scorer = KNOWN_SHARE, TokenModel(encoding)
    seen = context_tokens(encoding, context, cue)
    return planned(encoding, scorer, seen, text, share, top, None if most is None else most + 1)


def planned(
    encoding, scorer: TokenModel, seen, text: str, share: float, top: int, most: int | None = None
):
    """`text` written token by token (its first `most`): the plan holds `share`, the token model
    the rest."""
    out, node, previous = [], (), START
    seen = seen.fork()
    for token in encoding.encode(text, disallowed_special=())[:most]:
        # The likeliest rivals only when they are shown: the token's own chance is the same.
        options = dict(scorer.distribution(node, previous, seen, top)) if top else {}
        if token not in options:
            options[token] = scorer.chance(token, node, previous, seen)
        mixed = {t: (1 - share) * p for t, p in options.items()}
        mixed[token] += share
        ranked = sorted(mixed.items(), key=lambda p: (-p[1], p[0]))
        out.append(
            Written(token, math.log(mixed[token]), [(t, math.log(p)) for t, p in ranked[:top]])
        )
        seen.read([previous, token])
        node, previous = scorer.prior.step(node, token), token
    return out


def pick_label(probabilities: np.ndarray, temperature: float, salt: str, top_p=1.0) -> int:
    if temperature <= 0:
        return int(np.argmax(probabilities))
    # p ** (1 / T), computed on logs so that a small temperature cannot underflow to all zeros.
    scaled = np.log(np.maximum(probabilities, 1e-300)) / temperature
    weights = np.exp(scaled - scaled.max())
    weights /= weights.sum()
    order = np.argsort(-weights, kind="stable")
    keep = order[: int(np.searchsorted(np.cumsum(weights[order]), top_p) + 1)]
    cumulative = np.cumsum(weights[keep] / weights[keep].sum())
    point = uniform(salt)
    return int(keep[min(np.searchsorted(cumulative, point, side="right"), len(keep) - 1)])


def uniform(salt: str) -> float:
    digest = hashlib.sha256(salt.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def prompt_logprobs(served, trained, tokens: list[int]) -> list[Written]:
    """Logprobs of echoed prompt tokens under the model's token model (the prior for a base
    model; the classifier, which models labels and not text, reads them with the prior too)."""
    encoding = encoding_for(served.base)
    scorer = trained.tokens if isinstance(trained, ChatModel) else TokenModel(encoding)
    chances, _ = scorer.chances(tokens, {})
    return [
        Written(t, math.log(p), [(t, math.log(p))]) for t, p in zip(tokens, chances, strict=True)
    ]


def token_text(encoding, token: int) -> str:
    return encoding.decode_single_token_bytes(token).decode("utf-8", errors="replace")


def token_bytes(encoding, token: int) -> list[int]:
    return list(encoding.decode_single_token_bytes(token))


def cut(encoding, written: list[Written], stops: list[str], max_tokens: int | None):
    """Apply stop sequences and the token limit: (text, tokens kept, finish_reason)."""
    data, kept = b"", []
    for item in written:
        if max_tokens is not None and len(kept) >= max_tokens:
            return data.decode("utf-8", errors="replace"), kept, "length"
        candidate = data + encoding.decode_single_token_bytes(item.token)
        text = candidate.decode("utf-8", errors="ignore")
        hits = [text.find(s) for s in stops if s in text]
        if hits:
            return text[: min(hits)], kept, "stop"
        data = candidate
        kept.append(item)
    return data.decode("utf-8", errors="replace"), kept, "stop"
