"""The process's model state (loading, ready or failed) and the background loader."""

from __future__ import annotations

import gc
import logging
import threading
import time
from typing import Literal

from app.core.bundle import BundleError, read_bundle
from app.core.config import Settings
from app.core.predictors import build_predictor
from app.core.scoring import PredictionListener, ScoringService

logger = logging.getLogger(__name__)

Status = Literal["loading", "ready", "failed"]
NO_MODEL = "none"


class ModelState:
    """Which model (if any) this process serves; swapped atomically by the loader."""

    def __init__(self, color: str, revision: str = "unknown") -> None:
        self.color = color
        self.revision = revision  # the code revision this process runs (the release's image tag)
        self.status: Status = "loading"
        self.reason = "the model is still loading"
        self.service: ScoringService | None = None
        self.listeners: list[PredictionListener] = []
        self.load_seconds: float | None = None
        self.response_headers = self._headers(NO_MODEL)

    @property
    def version(self) -> str:
        return self.service.version if self.service is not None else NO_MODEL

    def _headers(self, version: str) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-deployment-color", self.color.encode()),
            (b"x-model-version", version.encode()),
            (b"x-app-revision", self.revision.encode()),
        ]

    def set_ready(self, service: ScoringService) -> None:
        self.service = service
        self.response_headers = self._headers(service.version)
        self.status, self.reason = "ready", ""

    def set_failed(self, reason: str) -> None:
        self.service = None
        self.response_headers = self._headers(NO_MODEL)
        self.status, self.reason = "failed", reason


def load_service(settings: Settings, listeners: list[PredictionListener]) -> ScoringService:
    """Read, load and self-test the bundle at SERVED_BUNDLE; BundleError with the reason on failure."""
    bundle = read_bundle(settings.SERVED_BUNDLE)
    service = ScoringService(bundle, build_predictor(bundle), listeners, settings.TOP_FACTORS, settings.MAX_BATCH_ROWS)
    service.self_test()
    return service


def load_into(state: ModelState, settings: Settings) -> None:
    """Load the bundle into `state`; never raises. Freezes the start-up heap out of the GC afterwards."""
    started = time.perf_counter()
    try:
        service = load_service(settings, state.listeners)
    except BundleError as exc:
        state.set_failed(f"model not loaded: {exc}")
        logger.error("model not loaded from %s: %s", settings.SERVED_BUNDLE, exc)
    except Exception as exc:  # a broken bundle must never take the process down
        state.set_failed(f"model not loaded: unexpected {type(exc).__name__}: {exc}")
        logger.exception("model not loaded from %s", settings.SERVED_BUNDLE)
    else:
        state.load_seconds = time.perf_counter() - started
        state.set_ready(service)
        logger.info(
            "model %s v%s (%s) ready in %.2fs from %s",
            service.metadata.name,
            service.version,
            service.metadata.algorithm,
            state.load_seconds,
            service.bundle.path,
        )
    gc.collect()
    gc.freeze()


def start_loader(state: ModelState, settings: Settings) -> threading.Thread:
    """Load in a daemon thread, so /health answers (and /ready says why not) while loading."""
    thread = threading.Thread(target=load_into, args=(state, settings), name="model-loader", daemon=True)
    thread.start()
    return thread
