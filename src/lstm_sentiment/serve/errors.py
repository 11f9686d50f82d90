"""Every refusal is JSON `{"detail": ..., "field": ...}` naming what is wrong; nothing surfaces as a 500."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from ..errors import UserError
from .service import Busy

log = logging.getLogger("lstm_sentiment.serve")


def field_name(location: tuple) -> str:
    """("body", "texts", 3) -> "texts[3]"; the body itself is "body"."""
    parts = [part for part in location if part != "body"]
    if not parts or not isinstance(parts[0], str):
        return "body"
    name = parts[0]
    for part in parts[1:]:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name


def describe_error(error: dict) -> tuple[str, str]:
    if error.get("type") == "json_invalid":
        position = next((part for part in error.get("loc", ()) if isinstance(part, int)), None)
        reason = (error.get("ctx") or {}).get("error", "JSON decode error")
        where = f" at character {position}" if position is not None else ""
        return "body", f"body: malformed JSON{where} ({reason})"
    field = field_name(tuple(error.get("loc", ())))
    message = error.get("msg", "invalid value")
    if field == "body" and error.get("type") in ("missing", "model_attributes_type", "dict_type"):
        message = "expected a JSON object (Content-Type: application/json)"
    return field, f"{field}: {message}"


def error_response(status: int, detail: str, field: str | None = None, **headers: str) -> JSONResponse:
    return JSONResponse({"detail": detail, "field": field}, status_code=status, headers=headers or None)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        described = [describe_error(error) for error in exc.errors()]
        status = 400 if any(error.get("type") == "json_invalid" for error in exc.errors()) else 422
        shown = "; ".join(text for _, text in described[:5])
        if len(described) > 5:
            shown += f"; and {len(described) - 5} more"
        return error_response(status, shown, described[0][0] if described else None)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail), **(exc.headers or {}))

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> JSONResponse:
        return error_response(422, str(exc), exc.field)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> JSONResponse:
        return error_response(503, str(exc), None, **{"Retry-After": "5"})

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(500, f"internal error ({type(exc).__name__}); the server log has the details")
