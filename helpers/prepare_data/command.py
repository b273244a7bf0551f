"""The command line: `python -m helpers.prepare_data -f FILE [-q]`.

Prompt/completion files are prepared as the legacy `openai tools fine_tunes.prepare_data` did;
chat and preference files (JSONL whose lines have "messages", or "input") are validated and
measured. Exit status 0 when the file is usable, 1 when it is not (with the reason on stderr
and nothing written), 2 for a wrong command line.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from pathlib import Path

from helpers.errors import CourseError, display_name
from helpers.jsonl_lines import lone_surrogate
from helpers.model_catalog import UnknownModel, price_per_1m
from helpers.prepare_data.chat_export import convert_completions_file
from helpers.prepare_data.chat_report import DEFAULT_MODEL, validate_chat_file
from helpers.prepare_data.completions import prepare_completions_file
from helpers.prepare_data.readers import sniff_format
from helpers.tokens import MAX_EPOCHS, MIN_EPOCHS, checked_epochs


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m helpers.prepare_data",
        description="Check and prepare a fine-tuning file: prompt/completion files (csv, tsv, "
        "xlsx, json, jsonl, txt) for babbage-002 and davinci-002, chat JSONL files for "
        "gpt-4o-mini and the other chat models.",
    )
    p.add_argument("-f", "--file", required=True, type=Path, help="the file to check")
    p.add_argument(
        "-q", "--quiet", action="store_true", help="accept every recommended action without asking"
    )
    p.add_argument(
        "--out-dir", type=Path, help="folder for the files written (default: beside FILE)"
    )
    p.add_argument(
        "--model",
        help="the model to count tokens and cost for (default: babbage-002 for classification, "
        f"davinci-002 for other prompt/completion data, {DEFAULT_MODEL} for chat files)",
    )
    p.add_argument(
        "--price-per-1m",
        type=float,
        metavar="DOLLARS",
        help="training price per 1M tokens of --model, instead of the dated price table",
    )
    p.add_argument(
        "--epochs",
        type=int,
        help=f"epochs to estimate for, {MIN_EPOCHS} to {MAX_EPOCHS} (default: OpenAI's rule)",
    )
    p.add_argument(
        "--to-chat",
        action="store_true",
        help="write a prompt/completion file as a chat file (NAME_chat.jsonl), then check it",
    )
    p.add_argument("--system", help="with --to-chat, a system message for every example")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    previous = signal.signal(signal.SIGTERM, _stop)
    try:
        return _run(args)
    except CourseError as exc:
        print(f"Error: {exc}", file=sys.stderr)
    except BrokenPipeError:  # whoever read the output stopped reading (`| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:  # an unreadable file or an unwritable folder
        where = display_name(exc.filename) if exc.filename else "a file"
        print(f"Error: {where}: {exc.strerror or exc}", file=sys.stderr)
    except KeyboardInterrupt:
        print("Interrupted: nothing was written.", file=sys.stderr)
        return 130
    except _Terminated:
        print("Stopped: nothing was written.", file=sys.stderr)
        return 128 + signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 1


class _Terminated(BaseException):
    """SIGTERM, raised where the program is, so that half-written files are removed on the way."""


def _stop(signum, frame) -> None:
    raise _Terminated


def _run(args: argparse.Namespace) -> int:
    if args.epochs is not None:
        checked_epochs(args.epochs)
    if args.system is not None and lone_surrogate(args.system):
        raise CourseError("--system holds bytes that are not text in your terminal's encoding")
    prices = _prices(args)
    file_format = sniff_format(args.file)
    if args.to_chat:
        if file_format != "completion":
            raise CourseError(f"{display_name(args.file)} is already a {file_format} file")
        target = convert_completions_file(args.file, args.system, args.out_dir)
        return _check_chat(target, args, prices)
    if file_format != "completion":
        return _check_chat(args.file, args, prices)
    prepare_completions_file(
        args.file,
        quiet=args.quiet,
        out_dir=args.out_dir,
        model=args.model,
        prices=prices,
        n_epochs=args.epochs,
    )
    return 0


def _check_chat(path: Path, args, prices) -> int:
    model = args.model or DEFAULT_MODEL
    _known_price(model, prices)
    report = validate_chat_file(path, model=model, prices=prices, n_epochs=args.epochs)
    return 0 if report.ok else 1


def _prices(args) -> dict[str, float] | None:
    if args.price_per_1m is None:
        if args.model:
            _known_price(args.model, None)
        return None
    if not args.model:
        raise CourseError("--price-per-1m needs --model: the model that price is for")
    if not (math.isfinite(args.price_per_1m) and args.price_per_1m >= 0):
        raise CourseError("--price-per-1m must be an amount of dollars, zero or more")
    return {args.model: args.price_per_1m}


def _known_price(model: str, prices) -> None:
    try:
        price_per_1m(model, prices)
    except UnknownModel as exc:
        raise UnknownModel(f"{exc}. Give its price with --price-per-1m.") from None
