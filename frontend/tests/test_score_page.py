"""The scoring page in AppTest against a real backend process serving a real bundle."""

from __future__ import annotations

import json

import pytest
import requests

from analyst_ui.applicant_form import field_key
from analyst_ui.field_rules import codes, field_label, option_text
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


def has_gauge(app) -> bool:
    return any(chart.proto.id.endswith("score_gauge") for chart in app.get("plotly_chart"))


def test_every_schema_field_renders_with_its_widget(backend, open_app) -> None:
    app = open_app(backend)
    schema = backend_schema(backend)
    assert not app.exception
    chosen = [f for f in schema["features"] if f["type"] == "categorical" or codes(f)]
    typed = [f for f in schema["features"] if f not in chosen]
    assert len(app.selectbox) == len(chosen) and len(app.number_input) == len(typed)
    for feature in chosen:
        box = app.selectbox(key=field_key(feature["name"]))
        assert box.label == field_label(feature)
        assert box.options == [option_text(feature, o) for o in (feature.get("categories") or codes(feature))]
        assert box.value == schema["example"][feature["name"]]
    for feature in typed:
        number = app.number_input(key=field_key(feature["name"]))
        assert number.label == field_label(feature)
        assert number.value == schema["example"][feature["name"]]
        if feature["dtype"] == "integer":
            assert number.step == 1 and isinstance(number.value, int)
    assert not app.get("button_group") and all(
        not element.help for element in app.number_input
    )  # captions, no tab stops
    assert any("Whole number from 18 to 100 years" in caption.value for caption in app.caption)


def test_domain_labels_units_codes_and_category_meanings(backend, open_app) -> None:
    app = open_app(backend)
    assert app.number_input(key=field_key("credit_amount")).label == "Credit amount (DM)"
    assert app.number_input(key=field_key("age_in_years")).label == "Age (years)"
    rate = app.selectbox(key=field_key("installment_rate_in_percentage_of_disposable_income"))
    assert rate.options == ["1", "2", "3", "4"]  # a code, not a percentage: 25 cannot be entered
    checking = app.selectbox(key=field_key("status_of_existing_checking_account"))
    assert "... < 0 DM — Checking account is overdrawn" in checking.options
    checking.set_value("... < 0 DM").run()
    assert "... < 0 DM: Checking account is overdrawn." in [c.value for c in app.caption]  # in full, under it


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("age_in_years", 0, "Age: 0 years is too small: enter at least 18 years."),
        ("age_in_years", -5, "Age: -5 years is too small: enter at least 18 years."),
        ("credit_amount", 0, "Credit amount: 0 DM is too small: enter at least 1 DM."),
        ("credit_amount", 999_999, "Credit amount: 999,999 DM is too large"),
    ],
)
def test_an_invalid_value_is_explained_inline_and_score_says_why_it_did_not_score(
    backend, open_app, field: str, value: int, message: str
) -> None:
    app = open_app(backend)
    click(app, "Score applicant")
    assert has_gauge(app)
    app.number_input(key=field_key(field)).set_value(value).run()
    assert any(element.value.startswith(message) for element in app.error)  # under the field, before any click
    click(app, "Score applicant")
    assert not app.exception
    refusal = [e.value for e in app.error if e.value.startswith("Not scored: 1 field(s)")]
    assert refusal and message in refusal[0]
    assert not has_gauge(app) and "score.result" not in app.session_state  # no old result beside new inputs
    assert any('role="status"' in m.value and "Not scored" in m.value for m in app.markdown)


def test_an_edit_marks_the_result_out_of_date_until_scored_again(backend, open_app) -> None:
    app = open_app(backend)
    example = backend_schema(backend)["example"]
    click(app, "Score applicant")
    assert has_gauge(app) and not app.warning
    app.number_input(key=field_key("credit_amount")).set_value(example["credit_amount"] + 5000).run()
    assert not has_gauge(app) and not app.main.metric
    (warning,) = [w.value for w in app.warning]
    assert "Out of date — score again" in warning and "Credit amount (DM)" in warning
    app.number_input(key=field_key("credit_amount")).set_value(example["credit_amount"]).run()
    assert has_gauge(app) and not app.warning  # the inputs it was scored from again
    app.number_input(key=field_key("credit_amount")).set_value(example["credit_amount"] + 5000).run()
    click(app, "Score applicant")
    assert has_gauge(app) and app.session_state["score.inputs"]["credit_amount"] == example["credit_amount"] + 5000


def test_after_an_outage_no_result_stands_beside_other_inputs(own_backend, backend, open_app, monkeypatch) -> None:
    app = open_app(own_backend)
    click(app, "Score applicant")
    assert has_gauge(app)
    app.number_input(key=field_key("credit_amount")).set_value(3000).run()
    own_backend.stop()
    click(app, "Score applicant")
    assert not app.exception and not has_gauge(app)
    assert any("not reachable" in e.value for e in app.error)

    monkeypatch.setenv("BACKEND_URL", backend.url)  # the service is back
    monkeypatch.setenv("BACKEND_API_KEY", backend.key)
    app.run()
    assert app.number_input(key=field_key("credit_amount")).value == 3000  # the inputs are kept
    assert not has_gauge(app) and any("Out of date" in w.value for w in app.warning)
    click(app, "Score applicant")
    assert has_gauge(app) and app.session_state["score.inputs"]["credit_amount"] == 3000


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
    assert any(f"model **v{expected['model_version']}**" in c.value for c in app.caption)
    assert all("deployment" not in c.value for c in app.caption)
    assert any('role="status"' in m.value and expected["decision"]["label"] in m.value for m in app.markdown)
    factors_text = [m.value for m in app.markdown if m.value.startswith("- **") and " default, " in m.value]
    assert len(factors_text) == 1 and factors_text[0].count("default, ") == len(expected["top_factors"])
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
    for _ in range(2):  # and again after a reset
        app.number_input(key=field_key("credit_amount")).set_value(example["credit_amount"] + 1000).run()
        app.selectbox(key=field_key("housing")).set_value("rent").run()
        click(app, "Score applicant")
        click(app, "Reset to the example applicant")
        assert app.number_input(key=field_key("credit_amount")).value == example["credit_amount"]
        assert app.selectbox(key=field_key("housing")).value == example["housing"]
        assert not has_gauge(app) and any("Out of date" in w.value for w in app.warning)


def test_sidebar_shows_health_color_and_version(backend, open_app) -> None:
    app = open_app(backend)
    version = requests.get(f"{backend.url}/ready", timeout=10, headers=backend.headers).json()["model_version"]
    sidebar = [m.value for m in app.sidebar.markdown]
    assert any("Ready" in text for text in sidebar)
    assert all("deployment" not in text for text in sidebar)  # no infrastructure jargon for analysts
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
