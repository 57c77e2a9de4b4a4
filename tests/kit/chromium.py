"""Headless Chromium driven over the Chrome DevTools protocol (the `websockets` client Streamlit ships with)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from websockets.sync.client import connect

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--hide-scrollbars",
    "--remote-debugging-port=0",
]


def spki_pin(certificate: Path) -> str:
    """The base64 SHA-256 of the certificate's public key (SubjectPublicKeyInfo), as Chromium's SPKI list wants it."""
    key = x509.load_pem_x509_certificate(certificate.read_bytes()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def trust_flags(certificates: Sequence[Path]) -> list[str]:
    """The test browser accepts servers holding exactly these certificates' keys (e.g. the stack's self-signed one,
    stack.verify), and still refuses every other certificate error: no blanket --ignore-certificate-errors."""
    pins = ",".join(spki_pin(path) for path in certificates)
    return [f"--ignore-certificate-errors-spki-list={pins}"] if pins else []


class Chromium:
    """One headless browser with one tab: navigate, evaluate JavaScript, wait for a condition, screenshot. `trust`:
    certificates (PEM files) whose keys it accepts although no authority signed them."""

    def __init__(self, width: int = 1440, height: int = 1000, trust: Sequence[Path] = ()) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
        window = [f"--user-data-dir={self.profile}", f"--window-size={width},{height}", *trust_flags(trust)]
        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, *window, "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.ids = itertools.count(1)
        try:
            self.socket = connect(self._page_websocket_url(), max_size=64 * 1024 * 1024, open_timeout=20)
        except BaseException:
            self._stop_process()
            raise

    def _page_websocket_url(self, seconds: float = 30) -> str:
        """Chromium writes its DevTools port into the profile; the tab's socket is listed at /json/list."""
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            if port_file.exists() and port_file.read_text().strip():
                port = port_file.read_text().split()[0]
                try:
                    targets = requests.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                except requests.RequestException:
                    targets = []
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return pages[0]["webSocketDebuggerUrl"]
            time.sleep(0.2)
        raise RuntimeError(f"chromium DevTools did not come up within {seconds}s")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result (events in between are skipped)."""
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv(timeout=60))
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def open(self, url: str) -> None:
        self.call("Page.enable")
        self.call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, seconds: float = 60) -> Any:
        """Evaluate until the JavaScript expression is truthy; its last value on timeout is in the error."""
        deadline = time.monotonic() + seconds
        value = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.25)
        page = self.evaluate("document.body ? document.body.innerText.slice(0, 6000) : ''")
        raise TimeoutError(f"{expression!r} still {value!r} after {seconds}s; the page reads:\n{page}")

    def type_into(self, element: str, text: str) -> None:
        """Replace the value of the input the JavaScript expression `element` finds, as a user would: focus,
        select, type, then Tab out (a Streamlit input takes its value when it loses the focus)."""
        self.evaluate(f"(() => {{ const e = {element}; e.focus(); e.select(); }})()")
        self.call("Input.insertText", text=text)
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key="Tab", code="Tab", windowsVirtualKeyCode=9)

    def screenshot(self, path: Path, settle_seconds: float = 1.5) -> Path:
        """A PNG of the whole app: the viewport grows to the height of Streamlit's scrolling main area."""
        width, height = self.evaluate(
            "[window.innerWidth, Math.max(window.innerHeight, "
            "...[...document.querySelectorAll('[data-testid=stMain], [data-testid=stSidebarContent]')]"
            ".map(e => e.scrollHeight))]"
        )
        self.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        time.sleep(settle_seconds)  # let the layout and the charts redraw at the new size
        shot = self.call("Page.captureScreenshot", format="png")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self._stop_process()

    def _stop_process(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.profile, ignore_errors=True)
