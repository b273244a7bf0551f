"""Execute the course's notebooks in order, as `make run` and `make outputs` do.

    python -m scripts.run_notebooks --out build   # executed copies and HTML under build/
    python -m scripts.run_notebooks --in-place    # store fresh outputs in notebooks/

A failing notebook stops the run with its error message (not a traceback) and exit status 1.
With --out, the Chinese edition (notebooks/zh/) is converted to HTML too, under build/zh/: it is not
executed, since it carries the English notebooks' outputs (scripts/sync_editions.py).
"""

from __future__ import annotations

import argparse
import html
import re
import sys
import time
from pathlib import Path

import scripts.skip_iri_grammar  # noqa: F401  (before nbformat: see the module)

# isort: split
import nbformat
import zmq
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets.config import Config

from helpers.atomic import write_text_atomically
from helpers.paths import REPO_ROOT

NOTEBOOKS = REPO_ROOT / "notebooks"
EDITIONS = {"zh": "中文版 (Chinese edition)"}
CELL_TIMEOUT_S = 600
# Kernels whose messages are encrypted (CurveZMQ keys from the kernel manager, as ipykernel's
# kernelspec offers): over plain TCP every kernel warns, in the run's output, that what it sends
# "is susceptible to eavesdropping". A libzmq built without CurveZMQ (rare) keeps plain TCP,
# since asking for encryption there is an error.
KERNELS = {"KernelManager": {"transport_encryption": "auto"}} if zmq.has("curve") else {}
# Text that a carriage return later overwrote on the same line.
REWRITTEN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)


def notebook_paths(selected: list[str]) -> list[Path]:
    # The course, then the exercises' solutions (which may use what the course made).
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    paths += sorted((NOTEBOOKS / "solutions").glob("[0-9][0-9]-*.ipynb"))
    if selected:
        paths = [p for p in paths if any(p.name.startswith(s) for s in selected)]
    return paths


def execute(path: Path) -> tuple[nbformat.NotebookNode, float]:
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        config=Config(KERNELS),
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
    )
    started = time.perf_counter()
    client.execute()
    tidy_streams(notebook)
    return notebook, time.perf_counter() - started


def tidy_streams(notebook: nbformat.NotebookNode) -> None:
    """Store each cell's printed text as it finally reads: one output per stream, with the
    lines a progress bar rewrote (carriage returns) replaced by their last state, as nbval
    compares them."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        merged, streams = [], {}
        for output in cell.outputs:
            if output.output_type != "stream":
                merged.append(output)
            elif output.name in streams:
                streams[output.name].text += output.text
            else:
                streams[output.name] = output
                merged.append(output)
        for output in streams.values():
            output.text = REWRITTEN.sub("", output.text)
        cell.outputs = merged


def to_html(notebook: nbformat.NotebookNode) -> str:
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    return body


def index_rows(timings: list[tuple[str, float | None]]) -> str:
    """Table rows: each notebook's HTML, its copy and its run time (None: not executed)."""
    rows = []
    for stem, seconds in timings:
        name = html.escape(stem)
        time = "carries the English outputs" if seconds is None else f"{seconds:.1f} s"
        rows.append(
            f'<tr><td><a href="{name}.html">{name}</a></td>'
            f'<td><a href="{name}.ipynb">notebook</a></td><td>{time}</td></tr>'
        )
    return "\n".join(rows)


def write_index(
    out: Path, timings: list[tuple[Path, float]], editions: dict[str, list[Path]] | None = None
) -> None:
    rows = index_rows([(p.stem, seconds) for p, seconds in timings])
    total = sum(s for _, s in timings)
    sections = ""
    for edition, paths in (editions or {}).items():
        listed = index_rows([(f"{edition}/{p.stem}", None) for p in paths])
        sections += f"""
<h2 lang="{edition}">{html.escape(EDITIONS[edition])}</h2>
<table><tr><th>Notebook</th><th>Copy</th><th>Outputs</th></tr>
{listed}</table>
"""
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Fine-tuning course: executed notebooks</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.3em 1em;text-align:left}}</style>
</head><body>
<h1>Fine-tuning course: executed notebooks</h1>
<p>Run offline against the local simulator of the OpenAI API.</p>
<table><tr><th>Notebook</th><th>Executed copy</th><th>Run time</th></tr>
{rows}
<tr><td><b>Total</b></td><td></td><td><b>{total:.1f} s</b></td></tr></table>
{sections}</body></html>
"""
    write_text_atomically(out / "index.html", page)


def edition_paths(edition: str, selected: list[str]) -> list[Path]:
    """The notebooks of an edition, in the order of their English twins."""
    return [
        twin
        for path in notebook_paths(selected)
        if (twin := NOTEBOOKS / edition / path.relative_to(NOTEBOOKS)).exists()
    ]


def convert_editions(out: Path, selected: list[str]) -> dict[str, list[Path]]:
    """Each edition's notebooks as HTML (and a copy) under out/EDITION/, without running them."""
    converted = {}
    for edition in EDITIONS:
        paths = edition_paths(edition, selected)
        for path in paths:
            notebook = nbformat.read(path, as_version=4)
            write_text_atomically(out / edition / path.name, nbformat.writes(notebook) + "\n")
            write_text_atomically(out / edition / f"{path.stem}.html", to_html(notebook))
        for extra in sorted((NOTEBOOKS / edition).glob("*.md")):  # the glossary
            write_text_atomically(out / edition / extra.name, extra.read_text(encoding="utf-8"))
        print(f"Converted {len(paths)} notebooks of the {edition} edition to HTML", flush=True)
        converted[edition] = paths
    return converted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", type=Path, help="folder for executed copies and HTML")
    where.add_argument("--in-place", action="store_true", help="store outputs in notebooks/")
    parser.add_argument("only", nargs="*", help="notebook numbers to run, e.g. 01 02")
    args = parser.parse_args(argv)

    timings = []
    for path in notebook_paths(args.only):
        print(f"Running {path.name} ...", flush=True)
        try:
            notebook, seconds = execute(path)
        except CellExecutionError as exc:
            print(f"\n{path.name} stopped with an error:\n{summarize(exc)}", file=sys.stderr)
            return 1
        print(f"  done in {seconds:.1f} s", flush=True)
        timings.append((path, seconds))
        text = nbformat.writes(notebook) + "\n"
        if args.in_place:
            write_text_atomically(path, text)
        else:
            write_text_atomically(args.out / path.name, text)
            write_text_atomically(args.out / f"{path.stem}.html", to_html(notebook))
    if args.out:
        write_index(args.out, timings, convert_editions(args.out, args.only))
        print(f"Wrote {args.out / 'index.html'}")
    return 0


def summarize(exc: CellExecutionError) -> str:
    """The error's name and message, without the kernel's traceback."""
    name = getattr(exc, "ename", "") or "Error"
    value = getattr(exc, "evalue", "") or str(exc)
    return f"{name}: {value}"


if __name__ == "__main__":
    sys.exit(main())
