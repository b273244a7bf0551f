"""What a model writes for a prompt, token by token, with the logprob of each token.

A fine-tuned classifier writes its predicted label, a fine-tuned generator writes the answer it
recalls (see `learners/recall.py`), and a base model, which has learned nothing here, writes a
fixed placeholder reply. Logprobs come from the same trained model: the classifier's probability
of each label split over its tokens, the generator's bigram probabilities. The base model's reply
is certain, so each of its tokens has logprob 0.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

from helpers.simulator.learners.classifier import LabelModel
from helpers.simulator.learners.language_model import START
from helpers.tokens import encoding_for


@dataclass(frozen=True)
class Written:
    token: int
    logprob: float
    top: list  # [(token, logprob), ...], likeliest first


def base_reply(model: str) -> str:
    return (
        f"This reply comes from the offline simulator, not from {model}: a base model has "
        "learned nothing here, so it only answers with this placeholder. Fine-tune it to "
        "get answers learned from your data."
    )


def write(
    served, trained, context: str, cue: str, temperature: float, top: int, salt: str
) -> list[Written]:
    """The tokens `served` writes for one choice, with logprobs and `top` alternatives each."""
    encoding = encoding_for(served.base)
    if trained is None:
        tokens = encoding.encode(base_reply(served.name), disallowed_special=())
        return [Written(t, 0.0, [(t, 0.0)][:top]) for t in tokens]
    if isinstance(trained, LabelModel):
        probabilities = trained.probabilities(context)
        label = pick_label(probabilities, temperature, salt)
        return [
            Written(w["token"], w["logprob"], w["top"])
            for w in trained.tokens.written(probabilities, label, top)
        ]
    answer = trained.recall.answer(cue, temperature, salt)
    out, previous = [], START
    for token in encoding.encode(answer, disallowed_special=()):
        chance = trained.language.probability(previous, token)
        options = [(t, math.log(p)) for t, p in trained.language.likeliest(previous, top)]
        out.append(Written(token, math.log(chance), options))
        previous = token
    return out


def pick_label(probabilities: np.ndarray, temperature: float, salt: str) -> int:
    if temperature <= 0:
        return int(np.argmax(probabilities))
    # p ** (1 / T), computed on logs so that a small temperature cannot underflow to all zeros.
    scaled = np.log(np.maximum(probabilities, 1e-300)) / temperature
    weights = np.exp(scaled - scaled.max())
    cumulative = np.cumsum(weights / weights.sum())
    point = uniform(salt)
    return int(min(np.searchsorted(cumulative, point, side="right"), len(cumulative) - 1))


def uniform(salt: str) -> float:
    digest = hashlib.sha256(salt.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def prompt_logprobs(served, trained, tokens: list[int]) -> list[Written]:
    """Logprobs of echoed prompt tokens: the generator's bigram model, else a uniform guess."""
    encoding = encoding_for(served.base)
    out, previous = [], START
    for token in tokens:
        if trained is not None and not isinstance(trained, LabelModel):
            logprob = math.log(trained.language.probability(previous, token))
        else:
            logprob = -math.log(encoding.n_vocab)
        out.append(Written(token, logprob, [(token, logprob)]))
        previous = token
    return out


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
