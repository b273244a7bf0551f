"""The course as a learner sees it in JupyterLab, checked in a real browser: `make lab-check`.

Serves JupyterLab from the checkout (on 127.0.0.1, a free port, no token, its own temporary
settings and runtime folders, autosave off: the notebooks are never written), and drives Debian's
Chromium (/usr/bin/chromium, or COURSE_CHROMIUM) with Playwright; Playwright's own browser
download is never used. Then:

1. a probe notebook (written under build/lab/) shows that the check can see what it looks for:
   a stray pair of dollars renders as math there, and a tqdm progress bar renders as a widget;
2. every notebook of notebooks/ (subfolders included) is opened: each markdown cell is rendered,
   and none has math in it unless its source has math written on purpose ($$...$$, \\(...\\));
   a screenshot of its first screen is saved as build/lab/NAME.png (zh-NAME.png for the Chinese
   edition's twin of NAME);
3. notebook 01 runs through the UI (menu Run > Run All Cells) against the simulator: every code
   cell runs, in order, and none has an error output.

Exits 1 with what failed. Run it with `python -m scripts.course lab-check`, which installs
requirements-lab.txt and gives the notebooks a fresh simulator state and working folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from helpers.atomic import write_text_atomically
from helpers.paths import REPO_ROOT, use_shared_data
from scripts.markdown_math import escape_stray_dollars, has_intended_math, stored

CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NOTEBOOKS = REPO_ROOT / "notebooks"
OUT = REPO_ROOT / "build" / "lab"
VIEWPORT = {"width": 1366, "height": 900}
SERVER_START_S = 90
RUN_ALL_S = 180
# What the check changes in JupyterLab's settings, all in its own temporary settings folder.
SETTINGS = {
    # Never write a notebook of the checkout, and never ask the internet for news or updates.
    "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    # Every cell in the page, so that every cell can be checked; closing a tab stops its kernel.
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none", "kernelShutdown": True},
}
PROBE_PROSE = "A stray pair, about $0.17 and then $1.60, renders as math."
PROBE = {
    "cells": [
        {"cell_type": "markdown", "id": "stray", "metadata": {}, "source": [PROBE_PROSE]},
        {
            "cell_type": "markdown",
            "id": "escaped",
            "metadata": {},
            "source": [escape_stray_dollars(PROBE_PROSE)],  # as the course writes prices
        },
        {
            "cell_type": "code",
            "execution_count": None,
            "id": "bar",
            "metadata": {},
            "outputs": [],
            "source": [
                "from tqdm.auto import tqdm\n",
                "\n",
                "for _ in tqdm(range(3)):\n",
                "    pass",
            ],
        },
    ],
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}

# In-page JavaScript, through the application object JupyterLab exposes to the page.
CURRENT = "window.labCheckPanel"  # the notebook the check opened last
OPEN = """async (path) => {
  const panel = await window.jupyterapp.commands.execute(
    'docmanager:open', {path, factory: 'Notebook'});
  await panel.context.ready;
  await panel.revealed;
  window.jupyterapp.shell.activateById(panel.id);
  window.labCheckPanel = panel;
  return panel.content.widgets.length;
}"""
CELLS = f"""() => {CURRENT}.content.widgets.map(cell => ({{
  type: cell.model.type,
  rendered: cell.model.type !== 'markdown' || (cell.rendered &&
    cell.node.querySelector('.jp-RenderedMarkdown') !== null),
  math: cell.node.querySelectorAll('.jp-RenderedMarkdown mjx-container, .MathJax').length,
  count: cell.model.type === 'code' ? cell.model.executionCount : null,
  prompt: cell.model.type === 'code' ?
    cell.node.querySelector('.jp-InputPrompt').textContent.trim() : '',
  outputs: cell.model.type === 'code' ? cell.model.outputs.toJSON() : [],
  widgets: cell.node.querySelectorAll('.jp-OutputArea .jupyter-widgets').length,
  bars: cell.node.querySelectorAll('.jp-OutputArea .widget-hprogress .progress-bar').length,
}}))"""
KERNEL_STATUS = f"() => {CURRENT}.sessionContext.session?.kernel?.status ?? 'none'"


class LabCheckFailed(Exception):
    pass


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_settings(folder: Path) -> None:
    for plugin, values in SETTINGS.items():
        package, name = plugin.rsplit("/", 1)
        write_text_atomically(folder / package / f"{name}.jupyterlab-settings", json.dumps(values))


def start_jupyterlab(scratch: Path, port: int, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(scratch / "config"),
        "JUPYTER_DATA_DIR": str(scratch / "data"),
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(scratch / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(scratch / "workspaces"),
        "IPYTHONDIR": str(scratch / "ipython"),
    }
    write_settings(scratch / "settings")
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={REPO_ROOT}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--ServerApp.terminals_enabled=False",
        "--ServerApp.allow_root=True",  # CI runs as root; it changes nothing for anyone else
    ]
    with open(log, "w", encoding="utf-8") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise LabCheckFailed(f"JupyterLab stopped at start:\n{tail(log)}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2):
                return server
        except (OSError, http.client.HTTPException):  # not up yet, or not JupyterLab (yet)
            time.sleep(0.3)
    server.terminate()
    raise LabCheckFailed(f"JupyterLab did not answer within {SERVER_START_S} s:\n{tail(log)}")


def tail(log: Path, lines: int = 20) -> str:
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def notebook_paths() -> list[Path]:
    return sorted(p for p in NOTEBOOKS.rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def fingerprints(paths: list[Path]) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def screenshot_name(path: Path) -> str:
    """The notebook's name, prefixed with its edition's folder (zh/) so twins keep apart."""
    edition = path.relative_to(NOTEBOOKS).parts[0]
    return f"{edition}-{path.stem}" if edition == "zh" else path.stem


def url_path(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix()


def open_notebook(page, path: Path) -> list[dict]:
    """Open `path` in JupyterLab and wait until each of its markdown cells is rendered."""
    count = page.evaluate(OPEN, url_path(path))
    page.wait_for_function(
        f"() => {CURRENT}.content.widgets.every(c => c.model.type !== 'markdown' || "
        "(c.rendered && c.node.querySelector('.jp-RenderedMarkdown')))"
    )
    # MathJax typesets after the markdown is in the page; it is loaded already (by the probe),
    # so a moment is enough for anything it would typeset.
    page.wait_for_timeout(700)
    cells = page.evaluate(CELLS)
    if len(cells) != count:
        raise LabCheckFailed(f"{path.name}: {len(cells)} cells in the page, {count} in the file")
    return cells


def close_current(page) -> None:
    # What running changed is not to be kept: no "Save your work?" dialog, nothing written.
    page.evaluate(
        f"async () => {{ {CURRENT}.context.model.dirty = false; await {CURRENT}.close(); }}"
    )


def prose_as_math(path: Path, cells: list[dict]) -> list[str]:
    sources = json.loads(path.read_text(encoding="utf-8"))["cells"]
    problems = []
    for number, (cell, source) in enumerate(zip(cells, sources, strict=True), start=1):
        if cell["type"] != "markdown":
            continue
        if not cell["rendered"]:
            problems.append(f"{path.name}, cell {number}: not rendered")
        elif cell["math"] and not has_intended_math("".join(source["source"])):
            problems.append(f"{path.name}, cell {number}: prose rendered as math")
    return problems


def run_all(page, name: str) -> list[dict]:
    """Run every cell through the menu, as a learner does, and wait until the kernel is done."""
    page.wait_for_function(f"{KERNEL_STATUS} === 'idle'", timeout=60_000)
    page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text=re.compile("^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile("^Run All Cells$")).click()
    deadline = time.monotonic() + RUN_ALL_S
    quiet = 0
    while quiet < 3:  # idle, with no cell waiting, three times in a row
        if time.monotonic() > deadline:
            raise LabCheckFailed(f"{name}: still running after {RUN_ALL_S} s")
        page.wait_for_timeout(500)
        cells = page.evaluate(CELLS)
        waiting = any(c["prompt"] == "[*]:" for c in cells)
        quiet = quiet + 1 if page.evaluate(KERNEL_STATUS) == "idle" and not waiting else 0
    return cells


def run_problems(name: str, cells: list[dict]) -> list[str]:
    problems = []
    code = [(n, c) for n, c in enumerate(cells, start=1) if c["type"] == "code"]
    for expected, (number, cell) in enumerate(code, start=1):
        errors = [o for o in cell["outputs"] if o.get("output_type") == "error"]
        if errors:
            problems.append(
                f"{name}, cell {number}: {errors[0].get('ename')}: {errors[0].get('evalue')}"
            )
        elif cell["count"] != expected:
            problems.append(f"{name}, cell {number}: not run (execution count {cell['count']})")
    return problems


def check_probe(page, path: Path) -> list[str]:
    """The check sees stray math and widgets where there are some; else it would prove nothing."""
    cells = open_notebook(page, path)
    page.wait_for_function(
        f"() => {CURRENT}.content.widgets[0].node.querySelector('mjx-container, .MathJax')",
        timeout=30_000,
    )
    cells = page.evaluate(CELLS)
    problems = []
    if not cells[0]["math"]:
        problems.append("probe: a stray pair of dollars did not render as math")
    if cells[1]["math"]:
        problems.append("probe: prices written as the course writes them rendered as math")
    cells = run_all(page, "probe")
    problems += run_problems("probe", cells)
    with contextlib.suppress(PlaywrightTimeout):  # the widget is drawn once its model arrives
        page.wait_for_function(
            f"() => {CURRENT}.content.widgets[2].node.querySelector('.widget-hprogress')",
            timeout=15_000,
        )
    cells = page.evaluate(CELLS)
    if not cells[2]["bars"]:
        problems.append("probe: tqdm's progress bar did not render as a widget")
    close_current(page)
    return problems


def check(page, base: str) -> list[str]:
    page.goto(f"{base}/lab", wait_until="domcontentloaded")
    page.wait_for_function("window.jupyterapp !== undefined", timeout=60_000)
    page.evaluate("async () => { await window.jupyterapp.restored; }")

    probe = OUT / "lab-probe.ipynb"
    write_text_atomically(probe, stored(PROBE))
    problems = check_probe(page, probe)
    print("probe: " + ("; ".join(problems) or "stray dollars render as math, tqdm as a widget"))

    paths = notebook_paths()
    first = next((p for p in paths if p.name.startswith("01-")), None)
    for path in paths:
        started = time.monotonic()
        cells = open_notebook(page, path)
        shot = OUT / f"{screenshot_name(path)}.png"
        page.screenshot(path=str(shot))
        found = prose_as_math(path, cells)
        markdown = sum(c["type"] == "markdown" for c in cells)
        verdict = "; ".join(found) or "no prose as math"
        seconds = time.monotonic() - started
        print(f"{url_path(path)}: {markdown} markdown cells rendered, {verdict} ({seconds:.1f} s)")
        problems += found
        if path == first:
            started = time.monotonic()
            cells = run_all(page, path.name)
            page.screenshot(path=str(OUT / f"{path.stem}-run.png"))
            found = run_problems(path.name, cells)
            ran = sum(c["type"] == "code" for c in cells)
            verdict = "; ".join(found) or f"all {ran} code cells ran without an error"
            print(
                f"{url_path(path)}, Run All Cells: {verdict} ({time.monotonic() - started:.1f} s)"
            )
            problems += found
        close_current(page)
    if first is None:
        problems.append("no notebook 01 to run")
    page.evaluate("async () => { await window.jupyterapp.serviceManager.sessions.shutdownAll(); }")
    return problems


def main() -> int:
    if not Path(CHROMIUM).is_file():
        print(
            f"lab-check drives the Chromium at {CHROMIUM}, which is not there: install Debian's "
            "(`apt-get install chromium`), or set COURSE_CHROMIUM to a Chromium or Chrome.",
            file=sys.stderr,
        )
        return 1
    use_shared_data()
    started = time.monotonic()
    OUT.mkdir(parents=True, exist_ok=True)
    before = fingerprints(notebook_paths())
    with tempfile.TemporaryDirectory(prefix="lab-check-") as scratch:
        for attempt in range(3):  # the free port may be taken before JupyterLab binds it
            port = free_port()
            try:
                server = start_jupyterlab(Path(scratch), port, OUT / "jupyterlab.log")
                break
            except LabCheckFailed as exc:
                if attempt == 2 or "already in use" not in str(exc):
                    print(f"lab-check FAILED: {exc}", file=sys.stderr)
                    return 1
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
                )
                try:
                    page = browser.new_page(viewport=VIEWPORT)
                    page.set_default_timeout(60_000)
                    problems = check(page, base)
                finally:
                    browser.close()
        except (LabCheckFailed, PlaywrightError) as exc:
            problems = [str(exc)]
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    changed = [p for p, digest in before.items() if fingerprints([p])[p] != digest]
    problems += [f"{url_path(p)} was changed by opening it in JupyterLab" for p in changed]
    print(
        f"\nScreenshots in {OUT.relative_to(REPO_ROOT)}/; took {time.monotonic() - started:.0f} s."
    )
    if problems:
        print("lab-check FAILED:\n" + "\n".join(f"  {p}" for p in problems), file=sys.stderr)
        return 1
    print("lab-check passed: what a learner sees in JupyterLab is what the course means.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
