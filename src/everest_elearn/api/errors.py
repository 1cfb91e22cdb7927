"""The one table from domain errors to HTTP status codes; users get a safe message, logs the detail."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from everest_elearn import errors

log = logging.getLogger(__name__)

STATUS: dict[type[errors.EverestError], int] = {
    errors.InvalidInput: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.Unsupported: 501,
    errors.UpstreamError: 502,
    errors.BackendUnavailable: 503,
    errors.Timeout: 504,
}


def status_for(exc: errors.EverestError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 500


def error_body(exc: errors.EverestError, status: int) -> dict[str, object]:
    body: dict[str, object] = {"code": type(exc).__name__, "status": status, "detail": str(exc)}
    if isinstance(exc, errors.InvalidInput):
        body["parameter"] = exc.where
    return body


def headers_for(exc: errors.EverestError) -> dict[str, str]:
    if isinstance(exc, errors.BackendUnavailable):
        return {"Retry-After": str(exc.retry_after)}
    if isinstance(exc, errors.Unauthorized):
        return {"WWW-Authenticate": "Bearer"}
    return {}


def install(app: FastAPI) -> None:
    """Register the handlers; routers that need another format (Atom XML) catch errors themselves."""

    @app.exception_handler(errors.EverestError)
    async def _domain(request: Request, exc: errors.EverestError) -> Response:
        status = status_for(exc)
        if status >= 500:
            log.warning("%s %s -> %s: %s", request.method, request.url.path, status, exc)
        return JSONResponse(error_body(exc, status), status_code=status, headers=headers_for(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = problems[0] if problems else {"where": "request", "message": "invalid"}
        return JSONResponse(
            {
                "code": "InvalidInput",
                "status": 400,
                "detail": f"{first['where']}: {first['message']}",
                "problems": problems,
            },
            status_code=400,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        # Never leak internals (paths, secrets) to the client; the log has the traceback.
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"code": "InternalError", "status": 500, "detail": "internal error"}, status_code=500
        )
