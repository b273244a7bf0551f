import os
import subprocess
import sys

import pandas as pd
import pytest

from helpers import datasets
from helpers.paths import REPO_ROOT

needs_posts = pytest.mark.skipif(
    not os.environ.get("SCIKIT_LEARN_DATA"), reason="needs the 20 Newsgroups cache (../shared)"
)


@needs_posts
def test_train_table_has_the_tutorial_counts():
    table = datasets.sports_table("train")
    assert len(table) == 1197
    assert table["completion"].value_counts().to_dict() == {"hockey": 600, "baseball": 597}
    assert list(table.columns) == ["prompt", "completion"]
    # Stripped posts: no leading or trailing white space survives.
    assert (table["prompt"] == table["prompt"].str.strip()).all()


@needs_posts
def test_test_subset_and_order_are_the_published_ones():
    assert len(datasets.sports_table("test")) == 796
    table = datasets.sports_table("train")
    long_rows = table.index[(table.prompt.str.len() + table.completion.str.len()) > 10_000]
    # The rows OpenAI's legacy preparation tool reported as too long, in this very order.
    assert list(long_rows) == [134, 200, 281, 320, 404, 595, 704, 838, 1113, 1139, 1174]


def test_missing_data_offline_gives_one_clear_message(tmp_path):
    code = (
        "from helpers.datasets import DataUnavailable, sports_table\n"
        "try:\n    sports_table()\n"
        "except DataUnavailable as exc:\n    print(exc)\n"
    )
    # An empty data home and an unreachable proxy: no cache and no download.
    env = {
        **os.environ,
        "SCIKIT_LEARN_DATA": str(tmp_path),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "https_proxy": "http://127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert done.returncode == 0, done.stderr
    assert "SCIKIT_LEARN_DATA" in done.stdout
    assert "20news-bydate_py3.pkz" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


@needs_posts
def test_the_posts_are_read_once_then_from_a_cache_keyed_by_archive_and_code(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    # Loading them as scikit-learn does (notebook 01) keeps them: later uses read the cache.
    fresh = datasets.load_posts(datasets.CATEGORIES, "test")
    (cached,) = (tmp_path / "cache").glob("newsgroups-test-*.json")
    monkeypatch.setattr(datasets, "load_posts", lambda *a: pytest.fail("read the posts again"))
    first = datasets.cached_posts(datasets.CATEGORIES, "test")
    again = datasets.cached_posts(datasets.CATEGORIES, "test")
    for posts in (first, again):
        assert posts.data == list(fresh.data) and posts.target == list(fresh.target)
        assert posts.target_names == fresh.target_names
    # Another version of this module's code is another cache file.
    monkeypatch.setattr(datasets, "_code", lambda: "changed")
    assert datasets.cache_path(datasets.CATEGORIES, "test") != cached


def test_loading_the_table_module_does_not_import_sklearn_datasets():
    code = "import sys, helpers.datasets; print('sklearn.datasets' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT
    )
    assert done.stdout.strip() == "False", done.stderr


@needs_posts
def test_the_kept_posts_are_read_and_renewed_when_the_archive_changes(tmp_path, monkeypatch):
    import shutil
    import time

    home = tmp_path / "data"
    home.mkdir()
    archive = home / datasets.ARCHIVE
    shutil.copy2(os.path.join(os.environ["SCIKIT_LEARN_DATA"], datasets.ARCHIVE), archive)
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(home))
    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path / "work"))
    derived = datasets.sports_table("test")
    kept = datasets.cache_path(datasets.CATEGORIES, "test")
    assert kept.exists() and kept.parent == tmp_path / "work" / "cache"
    pd.testing.assert_frame_equal(datasets.sports_table("test"), derived)
    # The cache is what is read: a changed cache shows (and a changed archive renews it).
    kept.write_text(kept.read_text().replace("hockey", "HOCKEY"))
    assert "HOCKEY" in set(datasets.sports_table("test").completion)
    later = time.time() + 10
    os.utime(archive, (later, later))
    assert datasets.cache_path(datasets.CATEGORIES, "test") != kept
    pd.testing.assert_frame_equal(datasets.sports_table("test"), derived)


@needs_posts
def test_kept_posts_are_read_without_importing_scikit_learn(tmp_path):
    env = {**os.environ, "TUTORIAL_WORK_DIR": str(tmp_path)}
    code = (
        "import sys\nfrom helpers.datasets import sports_table\n"
        "print(len(sports_table('test')), 'sklearn' in sys.modules)"
    )
    run = [sys.executable, "-c", code]
    first = subprocess.run(run, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    second = subprocess.run(run, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert first.stdout.split() == ["796", "True"]
    assert second.stdout.split() == ["796", "False"]


@needs_posts
@pytest.mark.parametrize("categories", [datasets.CATEGORIES, ["rec.autos", "rec.motorcycles"]])
def test_one_read_of_the_archive_keeps_both_subsets_as_scikit_learn_gives_each(
    tmp_path, monkeypatch, categories
):
    from sklearn.datasets import fetch_20newsgroups

    monkeypatch.setenv("TUTORIAL_WORK_DIR", str(tmp_path))
    reads = []
    monkeypatch.setattr(datasets, "_fetch", lambda **a: reads.append(a) or fetch_20newsgroups(**a))
    train = datasets.cached_posts(categories, "train")
    test = datasets.cached_posts(categories, "test")  # kept by the first call
    assert len(reads) == 1
    for posts, subset in ((train, "train"), (test, "test")):
        # The very posts, labels and order of the call notebook 01 shows.
        direct = fetch_20newsgroups(
            subset=subset, shuffle=True, random_state=42, categories=categories
        )
        assert posts.data == list(direct.data)
        assert posts.target == list(direct.target)
        assert posts.target_names == list(direct.target_names)
