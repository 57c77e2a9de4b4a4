"""The scoring page in AppTest against a real backend process serving a real bundle."""

from __future__ import annotations

import json

import pytest
import requests

from analyst_ui.applicant_form import field_key, label_of
from analyst_ui.score_result import probability_text
from tests.kit.backend import BackendProcess

pytestmark = pytest.mark.slow


def backend_schema(server: BackendProcess) -> dict:
    return requests.get(f"{server.url}/schema", headers=server.headers, timeout=10).json()


def click(app, label: str) -> None:
    next(button for button in app.button if button.label == label).click()
    app.run()


def gauge_value(app) -> float:
    gauge = next(chart for chart in app.get("plotly_chart") if chart.proto.id.endswith("score_gauge"))
    return json.loads(gauge.proto.spec)["data"][0]["value"]


def test_every_schema_field_renders_with_its_widget(backend, open_app) -> None:
    app = open_app(backend)
    schema = backend_schema(backend)
    assert not app.exception
    categorical = [f for f in schema["features"] if f["type"] == "categorical"]
    numeric = [f for f in schema["features"] if f["type"] == "numeric"]
    assert len(app.selectbox) == len(categorical) and len(app.number_input) == len(numeric)
    for feature in categorical:
        box = app.selectbox(key=field_key(feature["name"]))
        assert box.label == label_of(feature["name"])
        assert box.options == feature["categories"]
        assert box.value == schema["example"][feature["name"]]
    for feature in numeric:
        number = app.number_input(key=field_key(feature["name"]))
        assert number.label == label_of(feature["name"])
        assert (number.min, number.max) == (feature["lower_bound"], feature["upper_bound"])
        assert number.value == schema["example"][feature["name"]]
        if feature["dtype"] == "integer":
            assert number.step == 1 and isinstance(number.value, int)


def test_submitting_shows_the_backends_score_and_keeps_the_inputs(backend, open_app) -> None:
    app = open_app(backend)
    schema = backend_schema(backend)
    purpose = next(f for f in schema["features"] if f["name"] == "purpose")["categories"][0]
    app.number_input(key=field_key("duration_in_month")).set_value(48)
    app.selectbox(key=field_key("purpose")).set_value(purpose)
    click(app, "Score applicant")

    applicant = {**schema["example"], "duration_in_month": 48, "purpose": purpose}
    expected = requests.post(f"{backend.url}/predict", json=applicant, timeout=10, headers=backend.headers).json()
    assert not app.exception and not app.error
    shown = dict(app.session_state["score.result"])
    assert shown.pop("prediction_id") != expected.pop("prediction_id"), "each request: its own prediction id"
    assert shown == expected
    assert any(app.session_state["score.result"]["prediction_id"] in caption.value for caption in app.caption)
    metrics = {metric.label: metric.value for metric in app.main.metric}
    assert metrics["Probability"] == probability_text(expected["probability_default"])
    assert metrics["Risk band"] == expected["risk_band"]
    assert gauge_value(app) == pytest.approx(expected["probability_default"] * 100)
    assert any(f"model **v{expected['model_version']}**" in c.value and "**green**" in c.value for c in app.caption)
    assert any(chart.proto.id.endswith("score_factors") for chart in app.get("plotly_chart"))
    (headline,) = [h.value for h in app.subheader if expected["decision"]["label"] in h.value]
    assert headline in (f":{color}[{expected['decision']['label']}]" for color in ("green", "orange", "red"))
    assert expected["decision"]["wording"] in [m.value for m in app.markdown]
    reasons = "\n".join(f"{n}. {reason}" for n, reason in enumerate(expected["reasons"], 1))
    assert expected["reasons"] and reasons in [m.value for m in app.markdown]
    (summary,) = [code.value for code in app.code]
    assert summary.startswith(f"Decision: {expected['decision']['label']}\n")
    assert all(reason in summary for reason in expected["reasons"])
    assert f"v{expected['model_version']}" in summary and "Scored: " in summary
    labels = requests.get(f"{backend.url}/model", timeout=10, headers=backend.headers).json()["feature_labels"]
    factors = next(chart for chart in app.get("plotly_chart") if chart.proto.id.endswith("score_factors"))
    shown = json.loads(factors.proto.spec)["data"][0]["y"]
    assert [label.split("<br>")[0] for label in shown] == [
        f"<b>{labels[f['feature']]}</b>" for f in reversed(expected["top_factors"])
    ]  # features in the analyst's words

    click(app, "Score applicant")  # re-submitting keeps what was entered
    assert app.number_input(key=field_key("duration_in_month")).value == 48
    assert {k: v for k, v in app.session_state["score.result"].items() if k != "prediction_id"} == expected

    app.switch_page("views/batch.py").run()
    app.switch_page("views/score.py").run()  # and so does a round trip through another page
    assert app.number_input(key=field_key("duration_in_month")).value == 48
    assert app.selectbox(key=field_key("purpose")).value == purpose


def test_reset_brings_back_the_example(backend, open_app) -> None:
    app = open_app(backend)
    example = backend_schema(backend)["example"]
    app.number_input(key=field_key("credit_amount")).set_value(example["credit_amount"] + 1000)
    click(app, "Score applicant")
    click(app, "Reset to the example applicant")
    assert app.number_input(key=field_key("credit_amount")).value == example["credit_amount"]


def test_sidebar_shows_health_color_and_version(backend, open_app) -> None:
    app = open_app(backend)
    version = requests.get(f"{backend.url}/ready", timeout=10, headers=backend.headers).json()["model_version"]
    sidebar = [m.value for m in app.sidebar.markdown]
    assert any("Ready" in text for text in sidebar)
    assert any("green deployment" in text for text in sidebar)
    assert [m.value for m in app.sidebar.metric] == [version]


def test_inputs_survive_a_new_model_version_with_the_same_schema() -> None:
    """Only what decides whether entered values fit counts: a new training changes examples and observed ranges."""
    from analyst_ui.applicant_form import schema_fingerprint

    features = [
        {
            "name": "age",
            "type": "numeric",
            "dtype": "integer",
            "lower_bound": 0,
            "upper_bound": 150,
            "min": 19,
            "max": 75,
            "example": 33,
            "nullable": False,
        },
        {"name": "housing", "type": "categorical", "categories": ["own", "rent"], "example": "own", "nullable": False},
    ]
    retrained = [{**features[0], "min": 20, "example": 35}, {**features[1], "example": "rent"}]
    assert schema_fingerprint(retrained) == schema_fingerprint(features)
    assert schema_fingerprint([features[0], {**features[1], "categories": ["own", "rent", "free"]}]) != (
        schema_fingerprint(features)
    )
    assert schema_fingerprint([{**features[0], "upper_bound": 120}, features[1]]) != schema_fingerprint(features)
