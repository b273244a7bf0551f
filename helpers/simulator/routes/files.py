"""/v1/files"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response

from helpers.simulator import files
from helpers.simulator.errors import APIError, invalid
from helpers.simulator.routes.common import call, query_int, reply, sim_of

router = APIRouter()
READ_CHUNK = 1024 * 1024


@router.post("/v1/files")
async def create_file(request: Request):
    sim = sim_of(request)
    limit = sim.settings.max_file_bytes
    try:
        form = await request.form()
    except Exception:  # python-multipart raises several kinds for a malformed body
        raise invalid("The upload must be multipart/form-data with a file and a purpose.") from None
    try:
        upload, purpose = form.get("file"), form.get("purpose")
        if not isinstance(upload, UploadFile):
            raise invalid("file is required: the file to upload.", param="file")
        if not isinstance(purpose, str) or not purpose:
            raise invalid("purpose is required ('fine-tune').", param="purpose")
        data = await _read_limited(upload, limit)
        return reply(await call(files.create_file, sim, upload.filename, purpose, data))
    finally:
        await form.close()


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
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


@router.get("/v1/files")
async def list_files(request: Request):
    q = request.query_params
    limit = query_int(request, "limit", files.MAX_LIST_LIMIT)
    return reply(
        await call(
            files.list_files,
            sim_of(request),
            q.get("purpose"),
            limit,
            q.get("after"),
            q.get("order", "desc"),
        )
    )


@router.get("/v1/files/{file_id}")
async def retrieve_file(file_id: str, request: Request):
    return reply(await call(files.get_file, sim_of(request), file_id))


@router.delete("/v1/files/{file_id}")
async def delete_file(file_id: str, request: Request):
    return reply(await call(files.delete_file, sim_of(request), file_id))


@router.get("/v1/files/{file_id}/content")
async def file_content(file_id: str, request: Request):
    data = await call(files.file_content, sim_of(request), file_id)
    return Response(content=data, media_type="application/octet-stream")
