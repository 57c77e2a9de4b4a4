"""The OpenAPI document, with the request schema generated from the loaded bundle.

Rebuilt when the served model changes; before a model is loaded the request bodies are
documented as free-form objects (every scoring route answers 503 then anyway).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.api.responses import error_docs
from app.api.security import SCHEME_NAME
from app.core.config import Settings
from app.core.state import ModelState
from app.schemas.outcomes import OUTCOME_COLUMNS, OutcomeIn

APPLICANT_REF = {"$ref": "#/components/schemas/Applicant"}
OPEN_ROUTES = ("/health", "/ready")  # anyone may call them; a valid key gets details
ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}


def _document_authentication(document: dict[str, Any]) -> None:
    """Every protected operation documents its 401, 403 and 503 answers; the open routes take a key optionally."""
    answers = {
        str(code): {"description": entry["description"], "content": {"application/json": {"schema": ERROR_REF}}}
        for code, entry in error_docs(401, 403, 503).items()
    }
    for path, operations in document["paths"].items():
        for operation in operations.values():
            if path in OPEN_ROUTES:
                operation["security"] = [{}, {SCHEME_NAME: []}]
                operation["responses"].setdefault("401", answers["401"])
            elif operation.get("security"):
                for code, answer in answers.items():
                    operation["responses"].setdefault(code, answer)


def _applicant_schema(state: ModelState) -> dict[str, Any]:
    if state.service is None:
        return {"type": "object", "description": f"no model loaded yet ({state.reason})"}
    return state.service.parser.json_schema()


def _example(state: ModelState) -> dict[str, Any] | None:
    return dict(state.service.metadata.example) if state.service is not None else None


def _outcomes_body(state: ModelState, settings: Settings) -> dict[str, Any]:
    """POST /outcomes: a JSON list of outcomes (the labels of the served bundle's data set) or CSV."""
    item = OutcomeIn.model_json_schema()
    if state.service is not None:
        dataset = state.service.metadata.dataset
        item["properties"]["outcome"]["enum"] = [x for x in (dataset.positive_label, dataset.negative_label) if x]
    array = {"type": "array", "items": item, "minItems": 1, "maxItems": settings.MAX_BATCH_ROWS}
    header = ",".join(OUTCOME_COLUMNS)
    return {
        "required": True,
        "content": {
            "application/json": {"schema": array},
            "text/csv": {"schema": {"type": "string", "description": f"the header {header}, then one row each"}},
        },
    }


def build_openapi(app: FastAPI, state: ModelState, settings: Settings) -> dict[str, Any]:
    """FastAPI's document of the app's routes, with the request bodies of the scoring routes described."""
    document = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    document.setdefault("components", {}).setdefault("schemas", {})["Applicant"] = _applicant_schema(state)
    _document_authentication(document)
    example = _example(state)
    single: dict[str, Any] = {"schema": APPLICANT_REF}
    array: dict[str, Any] = {
        "schema": {"type": "array", "items": APPLICANT_REF, "minItems": 1, "maxItems": settings.MAX_BATCH_ROWS}
    }
    if example is not None:
        single["example"] = example
        array["example"] = [example]
    document["paths"]["/predict"]["post"]["requestBody"] = {
        "required": True,
        "content": {"application/json": single},
    }
    document["paths"]["/predict/batch"]["post"]["requestBody"] = {
        "required": True,
        "content": {
            "application/json": array,
            "text/csv": {
                "schema": {"type": "string", "description": "a header row with every feature, then one row each"}
            },
        },
    }
    document["paths"]["/outcomes"]["post"]["requestBody"] = _outcomes_body(state, settings)
    if state.service is not None:
        for parameter in document["paths"]["/model/plots/{name}"]["get"]["parameters"]:
            if parameter["name"] == "name":
                parameter["schema"]["enum"] = sorted(state.service.metadata.plots)
    return document


def install_openapi(app: FastAPI, state: ModelState, settings: Settings) -> None:
    """Replace app.openapi with a builder cached per served model version."""
    cache: dict[str, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        key = f"{state.status}:{state.version}"
        if key not in cache:
            cache.clear()
            cache[key] = build_openapi(app, state, settings)
        return cache[key]

    app.openapi = openapi  # type: ignore[method-assign]
