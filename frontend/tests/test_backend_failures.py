"""When the backend is stopped, hung or misconfigured, every page says so in plain words: no traceback."""

from __future__ import annotations

import pytest

from analyst_ui.navigation import PAGES


def assert_friendly(app, *phrases: str) -> None:
    assert not app.exception
    shown = " ".join(element.value for element in [*app.error, *app.warning])
    for phrase in phrases:
        assert phrase in shown
    assert "Traceback" not in shown


@pytest.mark.slow
def test_a_stopped_backend_gives_a_friendly_error_on_every_page(own_backend, open_app) -> None:
    app = open_app(own_backend)
    assert app.number_input  # the form, while the backend runs

    own_backend.stop()
    for spec in PAGES:
        app.switch_page(spec.script).run()
        assert_friendly(app, f"The scoring service at {own_backend.url} is not reachable")
        assert not app.number_input and not app.get("file_uploader") and not app.get("image")
        assert any("Unreachable" in badge.value for badge in app.sidebar.markdown)


def test_a_hung_backend_times_out_with_a_friendly_error(stalled_url: str, open_app) -> None:
    app = open_app(stalled_url, BACKEND_STATUS_TIMEOUT="0.5")
    assert_friendly(app, "did not answer within 0.5 s")
    assert not app.number_input


def test_a_backend_without_a_model_says_so(answering_server, open_app) -> None:
    url = answering_server(503, "application/json", b'{"status": "not_ready", "reason": "bundle failed its self-test"}')
    app = open_app(url, "views/model_card.py")
    assert_friendly(app, "No model is ready to score yet.")
    assert "bundle failed its self-test" not in " ".join(e.value for e in [*app.error, *app.warning])
    assert [c.value for c in app.code] == ["The scoring service has no model ready: bundle failed its self-test."]
    assert app.expander[0].label == "Details for the team"
    assert any("No model ready yet" in badge.value for badge in app.sidebar.markdown)


def test_a_misconfigured_backend_url_is_explained(open_app) -> None:
    app = open_app("backend:8000", signed_in=False)  # refused before the sign-in
    assert_friendly(app, "BACKEND_URL must be a URL starting with http:// or https://, got 'backend:8000'")
