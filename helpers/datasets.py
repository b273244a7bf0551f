"""The classifier's data: 20 Newsgroups posts about baseball and hockey.

The posts are loaded with the very call learners know from scikit-learn. They are not ours:
they are downloaded (or read from a cache), never committed.

Unpacking scikit-learn's 15 MB archive takes a few tenths of a second in every notebook, so the
table derived from it (`sports_table`) is kept in the working folder, under a name that changes
with the archive, with scikit-learn's version and with this module's code: any of them changing
derives the table afresh. scikit-learn itself is imported only when posts are loaded.
"""

from __future__ import annotations

import hashlib
import os
from importlib import metadata
from pathlib import Path

import pandas as pd

from helpers.errors import CourseError
from helpers.jsonl_lines import read_jsonl, write_jsonl
from helpers.paths import use_shared_data, work_dir

CATEGORIES = ["rec.sport.baseball", "rec.sport.hockey"]
ARCHIVE = "20news-bydate_py3.pkz"  # scikit-learn's cache of the posts, in its data home
CACHE_FOLDER = "cache"  # inside the working folder
COLUMNS = ["prompt", "completion"]


class DataUnavailable(CourseError):
    """The 20 Newsgroups posts are neither cached nor downloadable."""


def load_sports_posts(subset: str = "train"):
    """The baseball and hockey posts of one subset ("train": 1197 posts, "test": 796)."""
    return load_posts(CATEGORIES, subset)


def load_posts(categories: list[str], subset: str = "train"):
    """The posts of some newsgroups, shuffled the course's one way (random_state=42)."""
    from sklearn.datasets import fetch_20newsgroups  # 0.3 s: only when posts are loaded

    use_shared_data()  # a cache beside the course serves offline, however Jupyter was started
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
    cached = cached_table_path(subset)
    if cached is not None and cached.exists():
        try:
            return pd.DataFrame(read_jsonl(cached), columns=COLUMNS)
        except CourseError:
            pass  # unreadable: derived again and rewritten below
    posts = load_sports_posts(subset)
    table = pd.DataFrame(
        {"prompt": [text.strip() for text in posts.data], "completion": label_names(posts)}
    )
    cached = cached or cached_table_path(subset)  # the archive exists now, if just downloaded
    if cached is not None:
        write_jsonl(cached, table.to_dict("records"))
    return table


def cached_table_path(subset: str) -> Path | None:
    """Where the `subset` table derived from the current archive, scikit-learn and code is
    kept; None while scikit-learn has no archive of the posts."""
    home = os.environ.get("SCIKIT_LEARN_DATA") or os.path.join("~", "scikit_learn_data")
    archive = Path(home).expanduser() / ARCHIVE
    try:
        stat = archive.stat()
    except OSError:
        return None
    key = hashlib.sha256()
    for part in (
        str(archive.resolve()),
        str(stat.st_size),
        str(stat.st_mtime_ns),
        metadata.version("scikit-learn"),
        Path(__file__).read_text(encoding="utf-8"),
        subset,
    ):
        key.update(part.encode("utf-8", errors="surrogatepass") + b"\0")
    return work_dir() / CACHE_FOLDER / f"sports-{subset}-{key.hexdigest()[:16]}.jsonl"
