"""The public port's certificate: the given pair checked, or a self-signed pair made once and reused.

nginx reads the pair from the state directory's tls/ (mounted read-only at /etc/nginx/tls): `server.crt` and
`server.key` are a copy of TLS_CERT_FILE and TLS_KEY_FILE when given, else of the self-signed pair `up` generates
(`self-signed.crt`, `self-signed.key`; made when missing, unreadable or expiring, else reused). `ca.pem` is what the
deploy CLI, the tools and the tests verify the public port against (settings.public_verify): the self-signed
certificate, or TLS_CA_FILE; absent (the system's trust store) for a given certificate without TLS_CA_FILE.
Every file is written to a temp file and renamed. The generated key is 0600; nginx's copy is 0640: nginx runs as
its own user in the host user's group (docker-compose.yml), never as the host user (who may be root)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deploy.errors import UsageError
from deploy.files import write_atomic
from deploy.settings import CA_BUNDLE, DeploySettings

SERVER_CERT, SERVER_KEY = "server.crt", "server.key"
SELF_CERT, SELF_KEY = "self-signed.crt", "self-signed.key"
VALID_DAYS = 365
RENEW_BEFORE = dt.timedelta(days=7)  # a certificate this close to its end counts as expired


def names(public_host: str) -> list[str]:
    """The names the self-signed certificate is for: localhost, 127.0.0.1, this host's name and PUBLIC_HOST."""
    found = ["localhost", "127.0.0.1", socket.gethostname(), public_host]
    return list(dict.fromkeys(name for name in found if name))


def _alternative_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def self_signed(hosts: list[str], now: dt.datetime, days: int = VALID_DAYS) -> tuple[str, str]:
    """A new P-256 key and a certificate for `hosts` (its subject alternative names) valid from now for `days`:
    (certificate PEM, key PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])])
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([_alternative_name(h) for h in hosts]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def problem(cert_file: Path, key_file: Path, now: dt.datetime) -> str | None:
    """Why the pair cannot be served (missing, unreadable, not a pair, expired), None when it can."""
    try:
        certificate = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except OSError as exc:
        return f"cannot read the certificate {cert_file} ({exc.strerror or type(exc).__name__})"
    except ValueError:
        return f"{cert_file} is not a PEM certificate"
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except OSError as exc:
        return f"cannot read the key {key_file} ({exc.strerror or type(exc).__name__})"
    except (ValueError, TypeError):
        return f"{key_file} is not an unencrypted PEM private key"
    if key.public_key() != certificate.public_key():
        return f"the key {key_file} does not belong to the certificate {cert_file}"
    if certificate.not_valid_after_utc <= now:
        return f"the certificate {cert_file} expired on {certificate.not_valid_after_utc:%Y-%m-%d}"
    return None


def _install(path: Path, text: str, mode: int) -> bool:
    """`text` at `path` (atomic) unless it is there already; whether it changed."""
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    write_atomic(path, text, mode)
    return True


def ensure_self_signed(directory: Path, hosts: list[str], now: dt.datetime, say: Callable[[str], None]) -> None:
    """The self-signed pair in `directory`: reused while it is a valid pair for another RENEW_BEFORE, else a new one
    (the key first: a certificate never names a key that is not there)."""
    cert_file, key_file = directory / SELF_CERT, directory / SELF_KEY
    why = problem(cert_file, key_file, now + RENEW_BEFORE)
    if why is None:
        return
    reason = why if cert_file.exists() else "none yet"
    certificate, key = self_signed(hosts, now)
    write_atomic(key_file, key, 0o600)
    write_atomic(cert_file, certificate, 0o644)
    say(f"up: made a self-signed certificate for {', '.join(hosts)} ({reason}), valid {VALID_DAYS} days: {cert_file}")


def install(
    directory: Path,
    given: tuple[Path, Path] | None,
    ca_file: Path | None,
    hosts: list[str],
    say: Callable[[str], None],
) -> bool:
    """The pair nginx serves (the given one, checked, else the self-signed one) and the clients' CA bundle, in
    `directory`; whether nginx's pair changed (a running nginx then needs a reload). A given pair or CA bundle that
    cannot be used is a UsageError naming the file."""
    now = dt.datetime.now(dt.timezone.utc)
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o750)  # nginx's group (the host user's) enters; nobody else
    if given is None:
        ensure_self_signed(directory, hosts, now, say)
        given, ca_file = (directory / SELF_CERT, directory / SELF_KEY), ca_file or directory / SELF_CERT
    else:
        why = problem(*given, now)
        if why:
            raise UsageError(f"TLS_CERT_FILE/TLS_KEY_FILE: {why}")
    changed = _install(directory / SERVER_KEY, given[1].read_text(encoding="utf-8"), 0o640)
    changed = _install(directory / SERVER_CERT, given[0].read_text(encoding="utf-8"), 0o644) or changed
    if ca_file is None:
        (directory / CA_BUNDLE).unlink(missing_ok=True)
    else:
        try:
            bundle = ca_file.read_text(encoding="utf-8")
            x509.load_pem_x509_certificates(bundle.encode())
        except (OSError, ValueError) as exc:
            raise UsageError(f"TLS_CA_FILE: {ca_file} is not a readable PEM bundle ({type(exc).__name__})") from None
        _install(directory / CA_BUNDLE, bundle, 0o644)
    return changed


def install_for(settings: DeploySettings, say: Callable[[str], None]) -> bool:
    """`install` with the deploy settings (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CA_FILE, PUBLIC_HOST)."""
    return install(settings.tls_dir, settings.tls_given, settings.TLS_CA_FILE, names(settings.PUBLIC_HOST), say)


def describe(settings: DeploySettings) -> str:
    """What the public port serves, for `up`'s summary."""
    if settings.tls_given:
        return f"{settings.TLS_CERT_FILE} (TLS_CERT_FILE)"
    return f"self-signed, {settings.tls_dir / SELF_CERT} (give TLS_CERT_FILE and TLS_KEY_FILE for a real one)"
