"""The classifier's data: 20 Newsgroups posts about baseball and hockey.

The posts are loaded with the very call learners know from scikit-learn. They are not ours:
they are downloaded (or read from a cache), never committed.

Reading them that way decompresses scikit-learn's 14 MB archive and imports `sklearn.datasets`,
a few tenths of a second each time. What the course uses of them (texts, targets, group names)
is therefore kept once in the working folder, in a file named for the archive it came from, for
scikit-learn's version and for this module's code: any of them changing reads the posts afresh.
Both subsets of some newsgroups are kept from one read.
"""

from __future__ import annotations

import hashlib
import json
import os
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

from helpers.atomic import write_text_atomically
from helpers.errors import CourseError
from helpers.paths import cache_dir, use_shared_data

CATEGORIES = ["rec.sport.baseball", "rec.sport.hockey"]
ARCHIVE = "20news-bydate_py3.pkz"  # scikit-learn's cache of the posts, in its data home


class DataUnavailable(CourseError):
    """The 20 Newsgroups posts are neither cached nor downloadable."""


def load_sports_posts(subset: str = "train"):
    """The baseball and hockey posts of one subset ("train": 1197 posts, "test": 796)."""
    return load_posts(CATEGORIES, subset)


def load_posts(categories: list[str], subset: str = "train"):
    """The posts of some newsgroups, shuffled the course's one way (random_state=42)."""
    posts = _fetch(subset=subset, shuffle=True, random_state=42, categories=categories)
    _keep(categories, subset, _kept(posts))  # so that the next use need not read them again
    return posts


def cached_posts(categories: list[str], subset: str = "train") -> SimpleNamespace:
    """`load_posts` as `data`, `target` and `target_names`, read once and then from the cache."""
    path = cache_path(categories, subset)
    if path is not None and path.exists():
        try:
            return SimpleNamespace(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            pass  # unreadable: read the posts again (which writes it anew)
    return SimpleNamespace(**_both_subsets(categories)[subset])


def _both_subsets(categories: list[str]) -> dict[str, dict]:
    """What `load_posts` gives for each subset, kept, from one read of the archive.

    Each call of `fetch_20newsgroups` decompresses the whole archive (0.3 s), and a course that
    needs one subset of some newsgroups soon needs the other. Asked for both subsets unshuffled,
    scikit-learn gives the training posts and then the test posts, each in its own order, with
    the labels it gives either; each subset is then shuffled as `shuffle=True` does: a
    permutation of its positions drawn from `RandomState(random_state)`.
    """
    posts = _fetch(subset="all", shuffle=False, categories=categories)
    folders = np.array([Path(name).parent.parent.name for name in posts.filenames])
    both = {}
    for subset in ("train", "test"):
        rows = np.flatnonzero(folders == f"20news-bydate-{subset}")
        np.random.RandomState(42).shuffle(rows)
        both[subset] = {
            "data": [posts.data[i] for i in rows],
            "target": [int(posts.target[i]) for i in rows],
            "target_names": list(posts.target_names),
        }
    if sum(len(kept["data"]) for kept in both.values()) != len(posts.data):
        # An archive laid out otherwise: each subset is read as the course reads it.
        return {subset: _kept(load_posts(categories, subset)) for subset in ("train", "test")}
    for subset, kept in both.items():
        _keep(categories, subset, kept)
    return both


def _fetch(**arguments):
    """`fetch_20newsgroups(**arguments)`, or a plain error when the posts are not available."""
    from sklearn.datasets import fetch_20newsgroups  # only here: its import alone takes 0.3 s

    use_shared_data()  # a cache beside the course serves offline, however Jupyter was started
    try:
        return fetch_20newsgroups(**arguments)
    except OSError as exc:  # URLError, timeouts and unreadable caches are all OSErrors
        where = os.environ.get("SCIKIT_LEARN_DATA") or "~/scikit_learn_data"
        raise DataUnavailable(
            "The 20 Newsgroups posts are not available: they are not cached in "
            f"{where} and could not be downloaded ({type(exc).__name__}: {exc}).\n"
            "Connect to the internet once (scikit-learn downloads about 14 MB and caches it), "
            "or set SCIKIT_LEARN_DATA to a folder that holds 20news-bydate_py3.pkz, "
            "for example ../shared/scikit_learn_data beside the course."
        ) from None


def _kept(posts) -> dict:
    """What the course uses of scikit-learn's bunch of posts, as plain JSON-ready values."""
    return {
        "data": list(posts.data),
        "target": [int(t) for t in posts.target],
        "target_names": list(posts.target_names),
    }


def _keep(categories: list[str], subset: str, kept: dict) -> None:
    path = cache_path(categories, subset)  # None only if scikit-learn kept no archive
    if path is not None:
        write_text_atomically(path, json.dumps(kept, ensure_ascii=False))


def cache_path(categories: list[str], subset: str) -> Path | None:
    """Where these posts, read from the current archive with the current scikit-learn and
    code, are kept; None while scikit-learn has no archive of the posts."""
    use_shared_data()
    home = os.environ.get("SCIKIT_LEARN_DATA") or os.path.join("~", "scikit_learn_data")
    archive = Path(home).expanduser() / ARCHIVE
    try:
        stat = archive.stat()
    except OSError:
        return None
    key = json.dumps(
        [
            categories,
            subset,
            str(archive.resolve()),
            stat.st_size,
            stat.st_mtime_ns,
            metadata.version("scikit-learn"),
            _code(),
        ]
    )
    name = f"newsgroups-{subset}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    return cache_dir() / name


def _code() -> str:
    return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def label_names(posts) -> list[str]:
    """`rec.sport.baseball` -> `baseball`, one label per post."""
    return [posts.target_names[t].split(".")[-1] for t in posts.target]


def sports_table(subset: str = "train") -> pd.DataFrame:
    """A prompt/completion table: the stripped post, and its label (`baseball` or `hockey`).

    This is the raw table the legacy walkthroughs built; the preparation tool (notebook 02)
    then adds the separator to each prompt and the leading space to each completion.
    """
    posts = cached_posts(CATEGORIES, subset)
    return pd.DataFrame(
        {"prompt": [text.strip() for text in posts.data], "completion": label_names(posts)}
    )
