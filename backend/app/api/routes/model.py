"""The served model's metadata, plots and feature schema."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from app.api.deps import model_state, ready_service
from app.api.responses import error_docs, json_response
from app.api.security import requires
from app.auth.scopes import READ
from app.core.errors import ApiError
from app.schemas.model import FeatureSchema, ModelInfo

router = APIRouter(tags=["model"], dependencies=[requires(READ)])
GOVERNANCE_KEYS = ("model_card", "fairness", "behavioral_tests", "gate", "lineage")


@router.get("/model", response_model=ModelInfo, responses=error_docs(503))
async def model_info(request: Request) -> Response:
    """Name, version, algorithm, run, metrics, threshold, risk bands, candidates, plot names, and the model card's
    governance sections: intended use, fairness by group, behavioral tests, gate decision, lineage."""
    service = ready_service(request)
    meta, raw = service.metadata, service.bundle.raw
    return json_response(
        {
            "name": meta.name,
            "version": meta.version,
            "algorithm": meta.algorithm,
            "run_id": meta.run_id,
            "trained_at": meta.trained_at,
            "metrics": meta.metrics,
            "threshold": meta.threshold,
            "threshold_strategy": raw.get("threshold_strategy"),
            "risk_bands": raw["risk_bands"],
            "dropped_features": meta.dropped_features,
            "dataset": raw["dataset"],
            "feature_importance": meta.feature_importance,
            "candidates": meta.candidates,
            "plots": sorted(meta.plots),
            "explanation": service.predictor.explanation_method,
            # with the hold-out's figures (flagged share...): what monitoring compares live traffic with
            "decision_policy": {
                **service.policy.describe(),
                "holdout": (raw.get("decision_policy") or {}).get("holdout"),
            },
            "feature_labels": service.reason_writer.labels,
            "color": model_state(request).color,
            "revision": model_state(request).revision,
            # Governance (bundles of this version on; older bundles have none of these keys).
            **{key: raw.get(key) for key in GOVERNANCE_KEYS},
        }
    )


@router.get(
    "/model/plots/{name}",
    response_class=FileResponse,
    responses={200: {"content": {"image/png": {}}, "description": "the plot"}, **error_docs(404, 503)},
)
async def model_plot(name: str, request: Request) -> Response:
    """A training plot of the bundle (see `plots` in GET /model)."""
    path = ready_service(request).bundle.plot_path(name)
    if path is None:
        raise ApiError(404, f"no plot named {name!r}")
    return FileResponse(path, media_type="image/png")


@router.get("/schema", response_model=FeatureSchema, responses=error_docs(503))
async def feature_schema(request: Request) -> Response:
    """The features a request must have: type, categories or bounds, an example applicant."""
    service = ready_service(request)
    raw = service.bundle.raw
    return json_response(
        {
            "features": raw["features"],
            "example": raw["example"],
            "target": service.metadata.dataset.target,
            "positive_label": service.metadata.dataset.positive_label,
        }
    )
