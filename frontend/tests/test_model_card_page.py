"""The model card in AppTest against a real backend serving a real bundle."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyst_ui.model_card import METRIC_NAMES

pytestmark = pytest.mark.slow


def test_model_card_shows_metadata_metrics_bands_and_every_plot(backend, open_app, catboost_bundle: Path) -> None:
    metadata = json.loads((catboost_bundle / "metadata.json").read_text())
    app = open_app(backend, "views/model_card.py")

    assert not app.exception and not app.error
    assert [w.value for w in app.warning] == metadata["fairness"]["gate"]["findings"], "fairness findings only"
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
    assert [h.value for h in app.main.subheader] == [
        "Intended use",
        "Threshold and risk bands",
        "Features left out",
        "Data",
        "Metrics",
        "Candidates",
        "Fairness by group",
        "Behavioral tests",
        "Evaluation plots",
        "Limitations",
        "Lineage",
        "Deployment",
    ]


def test_model_card_shows_the_governance_sections_of_the_bundles_card(backend, open_app, catboost_bundle: Path) -> None:
    metadata = json.loads((catboost_bundle / "metadata.json").read_text())
    app = open_app(backend, "views/model_card.py")
    text = " ".join(m.value for m in app.markdown)
    card = metadata["model_card"]
    for statement in (card["intended_use"], card["out_of_scope"][0], card["limitations"][0], card["data"]["licence"]):
        assert statement in text
    assert card["owner"] in app.markdown[0].value and metadata["lineage"]["trained_by"] in app.markdown[0].value
    tables = [frame.value for frame in app.dataframe]
    fairness = metadata["fairness"]
    judged = fairness["gate"]["predictions"]
    groups = [t for t in tables if "group" in t.columns]
    assert len(groups) == 2 * len(fairness["attributes"]), "one table per attribute and prediction set"
    first = fairness["sets"][judged]["sex"]["groups"]
    assert groups[0]["group"].tolist() == [g["group"] for g in first] and groups[0]["n"].tolist() == [
        g["count"] for g in first
    ]
    disparities = [t for t in tables if "demographic-parity ratio" in t.columns]
    assert disparities[0]["attribute"].tolist() == [*fairness["attributes"], "limit"]
    ratio = fairness["sets"][judged]["age_band"]["disparities"]["demographic_parity_ratio"]
    assert disparities[0]["demographic-parity ratio"][1].startswith(f"{ratio['value']:.3f} ({ratio['ci'][0]:.3f}–")
    behavioral = next(t for t in tables if "enforced" in t.columns)
    assert behavioral["test"].tolist() == [r["name"] for r in metadata["behavioral_tests"]]
    lineage = next(t for t in tables if "value" in t.columns and "git commit" in t.iloc[:, 0].tolist())
    assert metadata["lineage"]["mlflow"]["session_run_id"] in lineage["value"].tolist()
    assert "Served now by the **green** stack" in text
