"""A stand-in for both colors' backends inside the nginx container's network (127.0.0.11: blue, 127.0.0.21: green):
each request printed as one JSON line (who got it, its path, X-Request-ID, X-Shadow-Of, body); green waits
SLOW_S seconds before answering (a slow challenger). Run by deploy/tests/test_shadow_nginx.py in a python image."""

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_S = float(os.environ.get("SLOW_S", "0"))
COLORS = {"127.0.0.11": "blue", "127.0.0.21": "green"}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        color = COLORS[self.server.server_address[0]]
        record = {
            "color": color,
            "path": self.path,
            "request_id": self.headers.get("X-Request-ID"),
            "shadow_of": self.headers.get("X-Shadow-Of"),
            "body": body,
        }
        print(json.dumps(record), flush=True)
        if color == "green":
            time.sleep(SLOW_S)
        answer = json.dumps({"color": color}).encode()
        self.send_response(200)
        for name, value in (("Content-Type", "application/json"), ("Content-Length", str(len(answer)))):
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


for host in COLORS:
    server = ThreadingHTTPServer((host, 8000), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
print("listening", flush=True)
threading.Event().wait()
