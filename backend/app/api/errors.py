"""Every error leaves as {"detail": ..., "errors": [...]}, never as a traceback."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from app.api.responses import json_response
from app.core.errors import ApiError, FieldError, validation_error


def error_response(error: ApiError, headers: Mapping[str, str] | None = None) -> Response:
    return json_response(error.body(), error.status_code, headers)


async def handle_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc, exc.headers)


async def handle_http_exception(request: Request, exc: Exception) -> Response:
    """Routing errors (404, 405) in the same shape; keeps headers such as Allow."""
    assert isinstance(exc, HTTPException)
    return error_response(ApiError(exc.status_code, str(exc.detail)), headers=exc.headers)


async def handle_request_validation(request: Request, exc: Exception) -> Response:
    """FastAPI's own parameter validation (query and path parameters)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(None, str(error["loc"][-1]) if error.get("loc") else None, error.get("msg", "invalid value"))
        for error in exc.errors()
    ]
    return error_response(validation_error(errors, "request parameters"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, handle_api_error)
    app.add_exception_handler(HTTPException, handle_http_exception)
    app.add_exception_handler(RequestValidationError, handle_request_validation)
