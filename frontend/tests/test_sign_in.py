"""The sign-in: nothing but it until an analyst is signed in with the built-in store; wrong passwords, locks,
expiring sessions and signing out; what an analyst scores is recorded under their name."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from streamlit.testing.v1 import AppTest

from analyst_ui.users import MAX_FAILURES
from tests.kit.analysts import ANALYST, PASSWORD
from tests.kit.traffic import audit_trail

pytestmark = pytest.mark.slow


def only_the_sign_in(app: AppTest) -> None:
    assert [t.key for t in app.text_input] == ["sign_in.name", "sign_in.password"]
    assert not app.number_input and not app.selectbox and not app.sidebar.children, "nothing else shows"
    assert app.title[0].value == "Credit risk · analyst sign-in"


def sign_in_as(app: AppTest, name: str, password: str) -> AppTest:
    app.text_input(key="sign_in.name").input(name)
    app.text_input(key="sign_in.password").input(password)
    return app.button[0].click().run()


def test_only_the_sign_in_shows_until_an_analyst_signs_in(backend, open_app) -> None:
    app = open_app(backend, signed_in=False)
    only_the_sign_in(app)
    for page in ("views/batch.py", "views/model_card.py", "views/monitoring.py"):
        only_the_sign_in(app.switch_page(page).run())
    sign_in_as(app, ANALYST, "wrong password, quite long")
    only_the_sign_in(app)
    assert app.error[0].value == "Wrong name or password."
    sign_in_as(app, "mallory", PASSWORD)
    assert app.error[0].value == "Wrong name or password.", "an unknown name reads like a wrong password"
    sign_in_as(app, ANALYST, PASSWORD)
    assert not app.exception and app.title[0].value != "Credit risk · analyst sign-in", "the page asked for"
    app.switch_page("views/score.py").run()
    assert not app.exception and app.number_input, "the score page"
    assert f"Signed in as **{ANALYST}**" in [c.value for c in app.sidebar.caption]
    next(b for b in app.sidebar.button if b.label == "Sign out").click().run()
    only_the_sign_in(app)
    assert "You are signed out." in app.info[0].value


def test_repeated_failures_lock_the_name(backend, open_app) -> None:
    app = open_app(backend, signed_in=False)
    for _ in range(MAX_FAILURES):
        sign_in_as(app, "locked-out-" + ANALYST, "not the password at all")
    sign_in_as(app, "locked-out-" + ANALYST, PASSWORD)
    assert "Too many failed attempts" in app.error[0].value
    sign_in_as(app, ANALYST, PASSWORD)
    assert app.number_input, "other names are not locked"


def test_an_idle_session_expires(backend, open_app) -> None:
    app = open_app(backend, UI_SESSION_IDLE_MINUTES="0.02")  # 1.2 s
    assert app.number_input
    time.sleep(1.5)
    app.run()
    only_the_sign_in(app)
    assert "without activity" in app.info[0].value


def test_without_a_user_store_nobody_can_sign_in(backend, open_app, tmp_path: Path) -> None:
    app = open_app(backend, signed_in=False, UI_USERS_PATH=str(tmp_path / "none.json"))
    assert not app.text_input and not app.number_input
    assert "Nobody can sign in yet" in app.error[0].value and "make user-add" in app.error[0].value


def test_a_ui_score_is_recorded_under_the_analyst_and_an_api_score_under_its_key(backend, open_app) -> None:
    app = open_app(backend)
    next(button for button in app.button if button.label == "Score applicant").click()
    app.run()
    assert "score.result" in app.session_state
    example = requests.get(f"{backend.url}/schema", headers=backend.headers, timeout=10).json()["example"]
    assert requests.post(f"{backend.url}/predict", json=example, headers=backend.headers, timeout=10).ok

    ui_score = audit_trail(backend, ANALYST)[0]
    assert (ui_score["api_key"], ui_score["analyst"], ui_score["color"]) == ("tests", ANALYST, "green")
    api_score = audit_trail(backend, "tests")[0]
    assert (api_score["api_key"], api_score["analyst"]) == ("tests", None)
