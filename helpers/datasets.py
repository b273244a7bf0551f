"""The classifier's data: 20 Newsgroups posts about baseball and hockey.

The posts are loaded with the very call learners know from scikit-learn. They are not ours:
they are downloaded (or read from a cache), never committed.
"""

from __future__ import annotations

import os

import pandas as pd
from sklearn.datasets import fetch_20newsgroups

from helpers.errors import CourseError

CATEGORIES = ["rec.sport.baseball", "rec.sport.hockey"]


class DataUnavailable(CourseError):
    """The 20 Newsgroups posts are neither cached nor downloadable."""


def load_sports_posts(subset: str = "train"):
    """The baseball and hockey posts of one subset ("train": 1197 posts, "test": 796)."""
    return load_posts(CATEGORIES, subset)


def load_posts(categories: list[str], subset: str = "train"):
    """The posts of some newsgroups, shuffled the course's one way (random_state=42)."""
    try:
        return fetch_20newsgroups(
            subset=subset, shuffle=True, random_state=42, categories=categories
        )
    except OSError as exc:  # URLError, timeouts and unreadable caches are all OSErrors
        where = os.environ.get("SCIKIT_LEARN_DATA") or "~/scikit_learn_data"
        raise DataUnavailable(
            "The 20 Newsgroups posts are not available: they are not cached in "
            f"{where} and could not be downloaded ({type(exc).__name__}: {exc}).\n"
            "Connect to the internet once (scikit-learn downloads about 14 MB and caches it), "
            "or set SCIKIT_LEARN_DATA to a folder that holds 20news-bydate_py3.pkz, "
            "for example ../shared/scikit_learn_data beside the course."
        ) from None


def label_names(posts) -> list[str]:
    """`rec.sport.baseball` -> `baseball`, one label per post."""
    return [posts.target_names[t].split(".")[-1] for t in posts.target]


def sports_table(subset: str = "train") -> pd.DataFrame:
    """A prompt/completion table: the stripped post, and its label (`baseball` or `hockey`).

    This is the raw table the legacy walkthroughs built; the preparation tool (notebook 02)
    then adds the separator to each prompt and the leading space to each completion.
    """
    posts = load_sports_posts(subset)
    return pd.DataFrame(
        {"prompt": [text.strip() for text in posts.data], "completion": label_names(posts)}
    )
