"""An HTTP endpoint that answers FHIR transactions as applied and remembers every Bundle it was sent.

Not a FHIR server: it stores nothing but what arrived. A real server's ``ifNoneExist`` hides a Bundle
delivered twice; this shows it, and it is fast enough to take thousands of writes in a test.
``delay_seconds`` makes each answer slow, like an EHR across a network.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class TransactionRecorder:
    def __init__(self, delay_seconds: float = 0.0) -> None:
        self.delay_seconds = delay_seconds
        self.base_url = ""
        self._lock = threading.Lock()
        self._received: Counter[str] = Counter()

    def record(self, bundle: dict[str, Any]) -> list[dict[str, Any]]:
        identifiers = [entry["resource"]["identifier"][0]["value"] for entry in bundle.get("entry") or []]
        with self._lock:
            self._received.update(identifiers)
        return [{"response": {"status": "201 Created"}} for _ in identifiers]

    def received(self) -> Counter[str]:
        """How often each resource identifier arrived."""
        with self._lock:
            return Counter(self._received)


def _handler(recorder: TransactionRecorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            bundle = json.loads(self.rfile.read(length))
            time.sleep(recorder.delay_seconds)
            entries = recorder.record(bundle)
            body = json.dumps({"resourceType": "Bundle", "type": "transaction-response", "entry": entries})
            self.send_response(200)
            self.send_header("Content-Type", "application/fhir+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: a test run is not an access log."""

    return Handler


@contextmanager
def recording_server(
    delay_seconds: float = 0.0, recorder_type: type[TransactionRecorder] = TransactionRecorder
) -> Iterator[TransactionRecorder]:
    recorder = recorder_type(delay_seconds)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    server.daemon_threads = True
    recorder.base_url = f"http://127.0.0.1:{server.server_address[1]}/fhir"
    thread = threading.Thread(target=server.serve_forever, name="recording-fhir", daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
