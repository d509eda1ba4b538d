"""The app's HTTP server: a starting point to replace with the real app.

Standard library only, so the image needs no dependencies. It answers the chart's probes
(GET /healthz) and Prometheus (GET /metrics), and listens on $PORT, which the chart sets from
`containerPort`.
"""

import os
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"

_requests = 0
_requests_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        global _requests
        with _requests_lock:
            _requests += 1
            count = _requests
        if self.path == HEALTH_PATH:
            self._reply(200, "text/plain", "ok\n")
        elif self.path == METRICS_PATH:
            body = (
                "# HELP http_requests_total HTTP requests served.\n"
                "# TYPE http_requests_total counter\n"
                f"http_requests_total {count}\n"
            )
            self._reply(200, "text/plain; version=0.0.4", body)
        elif self.path == "/":
            self._reply(200, "text/plain", "hello\n")
        else:
            self._reply(404, "text/plain", "not found\n")

    def _reply(self, status: int, content_type: str, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        # Probes and scrapes would flood the log; keep it for errors only.
        pass


def main() -> None:
    server = ThreadingHTTPServer(("", int(os.environ.get("PORT", "8080"))), Handler)
    # Kubernetes stops pods with SIGTERM: finish in-flight requests, then exit.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
