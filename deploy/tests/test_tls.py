"""The public port's certificate (deploy/tls.py): the self-signed pair `up` makes (names, lifetime, permissions,
reuse, renewal, atomic files), a given pair checked before anything starts (one line, exit 2), the CA bundle the
clients verify against, and nginx's TLS configuration. A real TLS server proves the generated pair verifies."""

from __future__ import annotations

import datetime as dt
import http.server
import re
import socket
import ssl
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
from cryptography import x509

from deploy import tls
from deploy.cli import main
from deploy.errors import UsageError
from deploy.public_client import VerifiedSession
from deploy.settings import ROOT, DeploySettings

NOW = dt.datetime.now(dt.timezone.utc)
HOSTS = tls.names("credit.example.test")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def certificate(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def alternative_names(path: Path) -> set[str]:
    names = certificate(path).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(name.value) for name in names}


@contextmanager
def https_server(cert: Path, key: Path) -> Iterator[int]:
    """A TLS server on 127.0.0.1 serving this pair (as nginx would): its port."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_the_self_signed_pair_names_this_host_lasts_a_year_and_keeps_its_key_private(tmp_path: Path) -> None:
    lines: list[str] = []
    assert tls.install(tmp_path / "tls", None, None, HOSTS, lines.append) is True
    directory = tmp_path / "tls"
    made = certificate(directory / tls.SELF_CERT)
    assert alternative_names(directory / tls.SELF_CERT) == {"localhost", "127.0.0.1", socket.gethostname(), HOSTS[-1]}
    lifetime = made.not_valid_after_utc - dt.datetime.now(dt.timezone.utc)
    assert dt.timedelta(days=tls.VALID_DAYS, minutes=-1) < lifetime <= dt.timedelta(days=tls.VALID_DAYS)
    assert mode(directory / tls.SELF_KEY) == 0o600 and mode(directory / tls.SERVER_KEY) == 0o640
    assert mode(directory) == 0o750, "nginx's group enters, nobody else"
    assert (directory / tls.SERVER_CERT).read_bytes() == (directory / tls.SELF_CERT).read_bytes()
    assert (directory / tls.CA_BUNDLE).read_bytes() == (directory / tls.SELF_CERT).read_bytes()
    assert sorted(p.name for p in directory.iterdir()) == sorted(
        [tls.SELF_CERT, tls.SELF_KEY, tls.SERVER_CERT, tls.SERVER_KEY, tls.CA_BUNDLE]
    ), "no temp file left"
    assert len(lines) == 1 and "self-signed certificate" in lines[0] and "none yet" in lines[0]


def test_the_generated_pair_verifies_for_localhost_and_127_0_0_1_and_nothing_else_trusts_it(tmp_path: Path) -> None:
    tls.install(tmp_path, None, None, HOSTS, print)
    with https_server(tmp_path / tls.SERVER_CERT, tmp_path / tls.SERVER_KEY) as port:
        for host in ("127.0.0.1", "localhost"):
            assert requests.get(f"https://{host}:{port}/", verify=str(tmp_path / tls.CA_BUNDLE), timeout=5).ok
        with pytest.raises(requests.exceptions.SSLError):
            requests.get(f"https://127.0.0.1:{port}/", timeout=5)  # the system's trust store


def test_a_verified_session_keeps_its_bundle_when_the_environment_names_another(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tls.install(tmp_path, None, None, HOSTS, print)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", requests.certs.where())  # e.g. a CI runner's system bundle
    with https_server(tmp_path / tls.SERVER_CERT, tmp_path / tls.SERVER_KEY) as port:
        url = f"https://127.0.0.1:{port}/"
        with VerifiedSession(str(tmp_path / tls.CA_BUNDLE)) as session:
            assert session.get(url, timeout=5).ok
        with requests.Session() as plain, pytest.raises(requests.exceptions.SSLError):
            plain.verify = str(tmp_path / tls.CA_BUNDLE)
            plain.get(url, timeout=5)  # psf/requests#3829: the environment wins over Session.verify


def test_the_pair_is_reused_on_the_next_up_and_made_anew_when_it_expires_or_the_key_is_not_its_own(
    tmp_path: Path,
) -> None:
    tls.install(tmp_path, None, None, HOSTS, print)
    first = (tmp_path / tls.SELF_CERT).read_bytes(), (tmp_path / tls.SELF_KEY).read_bytes()
    lines: list[str] = []
    assert tls.install(tmp_path, None, None, HOSTS, lines.append) is False, "nothing changed: no nginx reload"
    assert ((tmp_path / tls.SELF_CERT).read_bytes(), (tmp_path / tls.SELF_KEY).read_bytes()) == first and not lines

    old_cert, old_key = tls.self_signed(HOSTS, NOW - dt.timedelta(days=tls.VALID_DAYS - 3))  # 3 days left
    (tmp_path / tls.SELF_CERT).write_text(old_cert)
    (tmp_path / tls.SELF_KEY).write_text(old_key)
    assert tls.install(tmp_path, None, None, HOSTS, lines.append) is True
    assert "expired" in lines[-1], "within RENEW_BEFORE of its end counts as expired"
    renewed = certificate(tmp_path / tls.SERVER_CERT).not_valid_after_utc
    assert renewed - NOW > dt.timedelta(days=tls.VALID_DAYS - 1)

    _, other_key = tls.self_signed(HOSTS, NOW)  # e.g. a crash between the key's rename and the certificate's
    (tmp_path / tls.SELF_KEY).write_text(other_key)
    assert tls.install(tmp_path, None, None, HOSTS, lines.append) is True and "does not belong" in lines[-1]
    assert tls.problem(tmp_path / tls.SERVER_CERT, tmp_path / tls.SERVER_KEY, NOW) is None


def test_a_failed_generation_leaves_the_served_pair_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tls.install(tmp_path, None, None, HOSTS, print)
    served = (tmp_path / tls.SERVER_CERT).read_bytes(), (tmp_path / tls.SERVER_KEY).read_bytes()
    (tmp_path / tls.SELF_CERT).unlink()

    def broken(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(tls, "write_atomic", broken)
    with pytest.raises(OSError):
        tls.install(tmp_path, None, None, HOSTS, print)
    assert ((tmp_path / tls.SERVER_CERT).read_bytes(), (tmp_path / tls.SERVER_KEY).read_bytes()) == served
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def given_pair(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tls.self_signed(["credit.example.test"], NOW)
    (tmp_path / "given.crt").write_text(cert)
    (tmp_path / "given.key").write_text(key)
    return tmp_path / "given.crt", tmp_path / "given.key"


def test_a_given_pair_is_served_and_clients_use_the_system_store_or_tls_ca_file(tmp_path: Path) -> None:
    cert, key = given_pair(tmp_path)
    settings = DeploySettings(DEPLOY_STATE_DIR=tmp_path / "state", TLS_CERT_FILE=cert, TLS_KEY_FILE=key)
    assert tls.install_for(settings, print) is True
    assert (settings.tls_dir / tls.SERVER_CERT).read_bytes() == cert.read_bytes()
    assert not (settings.tls_dir / tls.SELF_CERT).exists(), "nothing generated"
    assert settings.public_verify is True, "a real certificate: the system's trust store"
    assert str(cert) in tls.describe(settings)
    with_ca = settings.model_copy(update={"TLS_CA_FILE": cert})
    tls.install_for(with_ca, print)
    assert with_ca.public_verify == str(settings.tls_dir / tls.CA_BUNDLE)
    assert (settings.tls_dir / tls.CA_BUNDLE).read_bytes() == cert.read_bytes()


@pytest.mark.parametrize("fault", ["missing certificate", "missing key", "not a pair", "expired", "not PEM"])
def test_a_given_pair_that_cannot_be_served_stops_up_with_one_line_and_exit_2(
    fault: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cert, key = given_pair(tmp_path)
    if fault == "missing certificate":
        cert.unlink()
    elif fault == "missing key":
        key = tmp_path / "nowhere.key"
    elif fault == "not a pair":
        key.write_text(tls.self_signed(["other"], NOW)[1])
    elif fault == "expired":
        old = tls.self_signed(["credit.example.test"], NOW - dt.timedelta(days=400))
        cert.write_text(old[0])
        key.write_text(old[1])
    else:
        cert.write_text("not a certificate\n")
    monkeypatch.setenv("DEPLOY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("TLS_CERT_FILE", str(cert))
    monkeypatch.setenv("TLS_KEY_FILE", str(key))
    assert main(["up"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: TLS_CERT_FILE/TLS_KEY_FILE: ") and err.count("\n") == 1, err
    assert not (tmp_path / "state" / "tls" / tls.SERVER_CERT).exists(), "nothing installed"


def test_the_certificate_settings_go_together_and_the_public_url_is_https() -> None:
    with pytest.raises(UsageError, match="TLS_CERT_FILE and TLS_KEY_FILE go together"):
        DeploySettings.from_env({"TLS_CERT_FILE": "/etc/ssl/x.pem"})
    settings = DeploySettings.from_env({"PUBLIC_PORT": "18443", "PUBLIC_HOST": "credit.example.test"})
    assert settings.public_url == "https://credit.example.test:18443"
    assert settings.preview_url.startswith("http://127.0.0.1:"), "the preview stays plain HTTP on 127.0.0.1"
    with pytest.raises(UsageError, match="PUBLIC_HOST must be a host name"):
        DeploySettings.from_env({"PUBLIC_HOST": "evil/path"})


def test_nginx_serves_tls_1_2_and_1_3_with_forward_secret_aead_ciphers_on_the_public_port_only() -> None:
    snippet = (ROOT / "nginx" / "snippets" / "tls.conf").read_text()
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in snippet
    ciphers = re.search(r"^ssl_ciphers (\S+);", snippet, re.M)
    assert ciphers and all(
        c.startswith("ECDHE-") and ("GCM" in c or "CHACHA20" in c) for c in ciphers.group(1).split(":")
    )
    assert "ssl_session_cache shared:" in snippet and "ssl_session_tickets off;" in snippet
    assert "ssl_certificate /etc/nginx/tls/server.crt;" in snippet
    assert "ssl_certificate_key /etc/nginx/tls/server.key;" in snippet
    assert "error_page 497 =301 https://$http_host$request_uri;" in snippet, "plain HTTP: the same port over HTTPS"
    public, preview, internal, status = (ROOT / "nginx" / "conf.d" / "stacks.conf").read_text().split("server {")[1:]
    assert "listen 8080 ssl;" in public and "include /etc/nginx/snippets/tls.conf;" in public
    for server in (preview, internal, status):
        assert " ssl" not in server.split("\n", 2)[1] and "tls.conf" not in server
    main_conf = (ROOT / "nginx" / "nginx.conf").read_text()
    hsts = re.search(r"map \$https \$hsts \{\n(.*?)\}", main_conf, re.S)
    assert hsts and 'on "max-age=31536000";' in hsts.group(1) and 'default "";' in hsts.group(1)
    assert "Strict-Transport-Security" not in (ROOT / "nginx" / "snippets" / "stack-routes.conf").read_text()
