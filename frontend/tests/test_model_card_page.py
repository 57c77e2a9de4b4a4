"""The model card in AppTest against a real backend serving a real bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyst_ui.model_card import METRIC_NAMES

pytestmark = pytest.mark.slow


def test_model_card_shows_metadata_metrics_bands_and_every_plot(backend, open_app, catboost_bundle: Path) -> None:
    metadata = json.loads((catboost_bundle / "metadata.json").read_text())
    app = open_app(backend.url, "views/model_card.py")

    assert not app.exception and not app.error and not app.warning
    header = app.markdown[0].value
    for fact in (metadata["name"], f"version **{metadata['version']}**", metadata["algorithm"], metadata["trained_at"]):
        assert fact in header
    metrics = app.dataframe[0].value
    expected = {METRIC_NAMES.get(key, key): value for key, value in metadata["metrics"].items()}
    assert dict(zip(metrics["metric"], metrics["value"])) == pytest.approx(expected)
    candidates = app.dataframe[1].value
    assert sorted(candidates["candidate"]) == sorted(c["candidate"] for c in metadata["candidates"])
    charts = [chart.proto.id for chart in app.get("plotly_chart")]
    assert any(i.endswith("model_risk_bands") for i in charts) and any(i.endswith("model_candidates") for i in charts)
    assert f"{metadata['threshold']:.3f}" in " ".join(c.value for c in app.caption)
    assert len(app.get("image")) == len(metadata["plots"])
