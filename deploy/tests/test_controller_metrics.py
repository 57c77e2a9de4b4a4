"""The controller's metrics: nginx's stub_status turned into Prometheus metrics at scrape time, nginx_up 0 when it
does not answer."""

from __future__ import annotations

from prometheus_client import generate_latest

from deploy.controller.metrics import ControllerMetrics, parse_stub_status
from deploy.tests.stack_server import serve_text

STUB = (
    "Active connections: 291 \n"
    "server accepts handled requests\n"
    " 16630948 16630948 31070465 \n"
    "Reading: 6 Writing: 179 Waiting: 106 \n"
)


def test_stub_status_is_read_as_numbers() -> None:
    assert parse_stub_status(STUB) == {
        "active": 291,
        "accepted": 16630948,
        "handled": 16630948,
        "requests": 31070465,
        "reading": 6,
        "writing": 179,
        "waiting": 106,
    }
    assert parse_stub_status("<html>502 Bad Gateway</html>") is None


def test_nginx_figures_are_exported_when_it_answers_and_nginx_up_says_when_not() -> None:
    with serve_text(STUB) as url:
        text = generate_latest(ControllerMetrics(url).registry).decode()
    assert "nginx_up 1.0" in text and 'nginx_connections{state="active"} 291.0' in text
    assert "nginx_http_requests_total 3.1070465e+07" in text
    down = generate_latest(ControllerMetrics("http://127.0.0.1:9/nginx_status").registry).decode()
    assert "nginx_up 0.0" in down and "nginx_connections{" not in down
