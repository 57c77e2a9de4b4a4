"""The monitoring page in AppTest against real backend processes that log real predictions."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from analyst_ui.monitoring import STATUS_COLORS, STATUS_LABELS, status_cell_style
from tests.kit.applicants import LONGER_LARGER_LOANS, real_applicants, shifted_population
from tests.kit.backend import BackendProcess, ready_backend
from tests.kit.processes import LiveProcess
from tests.kit.traffic import score_batch, summary_counting

pytestmark = pytest.mark.slow

PAGE = "views/monitoring.py"
ROWS = 60


@pytest.fixture(scope="module")
def drifting_backend(catboost_bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProcess]:
    """A backend whose log holds ROWS dataset applicants and ROWS other ones with longer, larger credits
    (other rows: the same rows twice would make every feature's sample look more certain than it is)."""
    server = ready_backend(catboost_bundle, tmp_path_factory.mktemp("monitoring"))
    try:
        schema = requests.get(f"{server.url}/schema", timeout=10, headers=server.headers).json()
        applicants = real_applicants(schema["features"], 2 * ROWS)
        score_batch(server, applicants[:ROWS])
        score_batch(server, shifted_population(applicants[ROWS:], schema["features"]))
        summary_counting(server, 2 * ROWS)
        yield server
    finally:
        server.stop()


def summary_of(server: BackendProcess, window: str = "1h") -> dict:
    return requests.get(
        f"{server.url}/monitoring/summary", params={"window": window}, headers=server.headers, timeout=10
    ).json()


def metrics(app) -> dict[str, str]:
    return {metric.label: metric.value for metric in app.main.metric}


def charts(app) -> dict[str, dict]:
    """Plotly figures by their key."""
    return {chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec) for chart in app.get("plotly_chart")}


def chart_keys(app) -> set[str]:
    return {key for key in charts(app) if key.startswith("monitoring_")}


def status_backgrounds(css: str, column: int) -> dict[int, str]:
    """Row -> background color of its cell in `column`, from the CSS Streamlit got from the table's Styler."""
    backgrounds = {}
    for selectors, color in re.findall(r"([^{}]+)\{\s*background-color: ([^;]+);", css):
        for row in re.findall(rf"_row(\d+)_col{column}\b", selectors):
            backgrounds[int(row)] = color.strip()
    return backgrounds


def background_of(label: str) -> str:
    return status_cell_style(label).split(";")[0].removeprefix("background-color: ")


def test_the_page_shows_volume_share_flagged_status_and_the_drifting_features(drifting_backend, open_app) -> None:
    summary = summary_of(drifting_backend)
    app = open_app(drifting_backend, PAGE)

    assert not app.exception and not app.error
    shown = metrics(app)
    assert shown["Predictions in window"] == str(2 * ROWS)
    assert shown["Share flagged"] == f"{summary['flagged'] / (2 * ROWS):.1%}"
    assert shown["Drift status"] == ":red[:material/error: alert]"
    ready = requests.get(f"{drifting_backend.url}/ready", timeout=10, headers=drifting_backend.headers).json()
    assert shown["Model version"] == f"v{ready['model_version']}"

    table = app.dataframe[0].value
    assert sorted(table["feature"]) == sorted(summary["features"])
    assert table["psi"].tolist() == sorted(table["psi"], reverse=True)
    statuses = dict(zip(table["feature"], table["status"]))
    for name in LONGER_LARGER_LOANS:
        assert statuses[name] == STATUS_LABELS["alert"]
    assert {n for n, s in statuses.items() if s in (STATUS_LABELS["warn"], STATUS_LABELS["alert"])} == set(
        summary["drifting_features"]
    )
    backgrounds = status_backgrounds(app.dataframe[0].proto.arrow_data.styler.styles, table.columns.get_loc("status"))
    assert [backgrounds[row] for row in range(len(table))] == [background_of(label) for label in table["status"]]
    assert background_of(STATUS_LABELS["alert"]) != background_of(STATUS_LABELS["ok"])

    figures = charts(app)
    volume = figures["monitoring_volume"]["data"]
    assert sum(sum(trace["y"]) for trace in volume) == 2 * ROWS
    assert sum(volume[1]["y"]) == summary["flagged"]
    assert figures["monitoring_score"]["data"][1]["y"] == pytest.approx(summary["score"]["current"])
    drifting = {f"monitoring_feature_{name}" for name in summary["drifting_features"]}
    assert set(LONGER_LARGER_LOANS) <= set(summary["drifting_features"])
    assert chart_keys(app) == {"monitoring_volume", "monitoring_score", "monitoring_psi"} | drifting
    duration = figures["monitoring_feature_duration_in_month"]
    assert duration["data"][1]["y"] == pytest.approx(summary["features"]["duration_in_month"]["current"])
    assert duration["data"][1]["marker"]["color"] == STATUS_COLORS["alert"]
    assert f"Drifting features ({len(summary['drifting_features'])})" in [h.value for h in app.subheader]


def test_the_page_says_what_changed_how_much_and_what_to_do(drifting_backend, open_app) -> None:
    card = requests.get(f"{drifting_backend.url}/model", timeout=10, headers=drifting_backend.headers).json()
    app = open_app(drifting_backend, PAGE)

    (flagged,) = [m for m in app.main.metric if m.label == "Share flagged"]
    expected = card["decision_policy"]["holdout"]["flagged_share"]
    assert flagged.proto.delta.endswith(f"vs {expected:.1%} on the hold-out")  # the expected figure beside it
    (advice,) = [w.value for w in app.warning if "What to do" in w.value]
    assert "Tell the model owner" in advice
    for name in LONGER_LARGER_LOANS:
        assert f"**{card['feature_labels'][name]}** (a large change" in advice
    assert "Score now vs hold-out" in [h.value for h in app.subheader]
    assert charts(app)["monitoring_score"]["data"][0]["name"] == "hold-out"  # legend and caption agree


def test_another_window_asks_the_backend_again(drifting_backend, open_app) -> None:
    app = open_app(drifting_backend, PAGE)
    app.segmented_control(key="window").set_value("15m").run()

    assert not app.exception and not app.error
    assert any(caption.value.startswith("Last 15m:") for caption in app.caption)
    assert metrics(app)["Predictions in window"] == str(2 * ROWS)


def test_batch_uploads_and_applicants_scored_one_at_a_time_are_shown_apart(drifting_backend, open_app) -> None:
    """The log holds batches only: the batch view shows them all, the one-at-a-time view none."""
    app = open_app(drifting_backend, PAGE)
    app.segmented_control(key="monitoring.traffic").set_value("batch").run()
    assert not app.exception and not app.error
    assert metrics(app)["Predictions in window"] == str(2 * ROWS)

    app.segmented_control(key="monitoring.traffic").set_value("single").run()
    assert not app.exception
    shown = [element.value for element in [*app.info, *app.main.metric]]
    assert str(2 * ROWS) not in shown and any("No predictions" in str(text) for text in shown), shown


def test_a_fresh_log_shows_the_empty_state_then_refresh_shows_new_predictions(own_backend, open_app) -> None:
    app = open_app(own_backend, PAGE)

    assert not app.exception and not app.error
    assert metrics(app)["Predictions in window"] == "0"
    assert "No predictions in this window yet" in app.info[0].value
    assert not app.dataframe and not chart_keys(app)

    schema = requests.get(f"{own_backend.url}/schema", timeout=10, headers=own_backend.headers).json()
    score_batch(own_backend, real_applicants(schema["features"], 5))
    summary_counting(own_backend, 5)
    app.button(key="monitoring.refresh").click().run()

    assert not app.exception and not app.error
    assert [info.value for info in app.info if "No predictions" in info.value] == []
    assert "Not enough outcomes yet" in app.info[0].value  # the realized-performance section: no outcomes
    assert metrics(app)["Predictions in window"] == "5"
    assert metrics(app)["Drift status"] == ":gray[:material/hourglass_empty: insufficient data]"
    assert "Only 5 predictions in this window" in app.warning[0].value
    assert set(app.dataframe[0].value["status"]) == {STATUS_LABELS["insufficient_data"]}
    assert "monitoring_volume" in chart_keys(app)


def test_a_disabled_prediction_log_is_explained(catboost_bundle: Path, tmp_path: Path, open_app) -> None:
    server = ready_backend(catboost_bundle, tmp_path, PREDICTION_LOG_ENABLED="false")
    try:
        app = open_app(server, PAGE)
    finally:
        server.stop()

    assert not app.exception
    assert [error.value for error in app.error] == [
        "Monitoring is unavailable: the prediction log is disabled (PREDICTION_LOG_ENABLED=false)."
    ]
    assert not app.main.metric and not chart_keys(app)
