"""/v1/files: uploads for fine-tuning and batches, and the files jobs and batches write."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from helpers.simulator.api import Sim, reply
from helpers.simulator.errors import APIError, invalid, not_found
from helpers.simulator.stamps import make_id

router = APIRouter(prefix="/v1/files")
UPLOAD_PURPOSES = ("fine-tune", "batch")
MAX_BATCH_FILE_BYTES = 200 * 1024 * 1024  # a batch's input file, as OpenAI
MAX_FILENAME = 255
MAX_LIST_LIMIT = 10_000
READ_CHUNK = 1024 * 1024
# Characters a reported name never keeps: controls, format characters (the right-to-left
# override among them, which can make `gpj.exe` display as `exe.jpg`), surrogates, and line or
# paragraph separators.
UNPRINTABLE_CATEGORIES = ("Cc", "Cf", "Cs", "Zl", "Zp")


@router.post("")
async def create_file(
    sim: Sim, file: Annotated[UploadFile, File()], purpose: Annotated[str, Form()]
):
    check_purpose(purpose)
    limit = sim.settings.max_file_bytes
    if purpose == "batch":
        limit = min(limit, MAX_BATCH_FILE_BYTES)
    data = await read_limited(file, limit)
    return reply(await run_in_threadpool(store_upload, sim, file.filename, purpose, data))


@router.get("")
def list_files(
    sim: Sim,
    purpose: str | None = None,
    limit: Annotated[int, Query()] = MAX_LIST_LIMIT,
    after: str | None = None,
    order: Literal["asc", "desc"] = "desc",
):
    if not 1 <= limit <= MAX_LIST_LIMIT:
        raise invalid(f"limit must be between 1 and {MAX_LIST_LIMIT}, not {limit}", param="limit")
    found = sim.store.files(purpose, after, order == "asc", limit + 1)
    if found is None:
        raise invalid(f"after: no such file {after!r}", param="after")
    data = found[:limit]
    return reply(
        {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": len(found) > limit,
        }
    )


@router.get("/{file_id}")
def retrieve_file(sim: Sim, file_id: str):
    return reply(get_file(sim, file_id))


@router.delete("/{file_id}")
def delete_file(sim: Sim, file_id: str):
    if not sim.store.delete_file(file_id):
        raise missing(file_id)
    return reply({"object": "file", "id": file_id, "deleted": True})


@router.get("/{file_id}/content")
def file_content(sim: Sim, file_id: str):
    get_file(sim, file_id)
    try:
        data = sim.store.file_path(file_id).read_bytes()
    except FileNotFoundError:
        raise missing(file_id) from None
    return Response(content=data, media_type="application/octet-stream")


# -- the service ----------------------------------------------------------------------------


def check_purpose(purpose: str) -> None:
    if purpose not in UPLOAD_PURPOSES:
        raise invalid(
            f"The simulator stores files for fine-tuning and batches only: purpose must be "
            f"'fine-tune' or 'batch', not {purpose!r}.",
            param="purpose",
        )


async def read_limited(upload: UploadFile, limit: int) -> bytes:
    parts, size = [], 0
    while chunk := await upload.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise APIError(
                413,
                f"The file is larger than the simulator's limit of {limit} bytes.",
                param="file",
                code="file_too_large",
            )
        parts.append(chunk)
    return b"".join(parts)


def store_upload(sim, filename: str | None, purpose: str, data: bytes) -> dict:
    store = sim.store
    with store.transaction() as db:
        number = store.next_number(db, "file")
        file_id = make_id("file", sim.settings.seed, number)
        created = store.advance_clock(db)
        body = store.add_file(
            db, file_id, clean_filename(filename), purpose, data, sim.clock.stamp(created)
        )
    return body


def clean_filename(name: str | None) -> str:
    """The name to report for an upload: its last path part, printable, never used as a path."""
    name = (name or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(c for c in name if unicodedata.category(c) not in UNPRINTABLE_CATEGORIES)
    return kept.strip()[:MAX_FILENAME] or "upload"


def get_file(sim, file_id: str, param: str = "file_id") -> dict:
    body = sim.store.file(file_id)
    if body is None:
        raise missing(file_id, param)
    return body


def missing(file_id: str, param: str = "file_id") -> APIError:
    return not_found(f"No such File object: {file_id}", param=param, code="file_not_found")
