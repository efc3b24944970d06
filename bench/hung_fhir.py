"""A FHIR server that accepts connections, reads what arrives and never answers."""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from bench.load import LOOPBACK


@contextmanager
def hung_fhir_server() -> Iterator[str]:
    """Yield the base URL of a server that holds every request forever (until the block ends)."""
    listener = socket.create_server((LOOPBACK, 0))
    listener.setblocking(False)
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            for key, _ in selector.select(timeout=0.2):
                sock = key.fileobj
                if not isinstance(sock, socket.socket):
                    continue
                if sock is listener:
                    try:
                        connection, _ = listener.accept()
                    except BlockingIOError:
                        continue
                    connection.setblocking(False)
                    selector.register(connection, selectors.EVENT_READ)
                    continue
                try:
                    data = sock.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionError:
                    data = b""
                if not data:
                    selector.unregister(sock)
                    sock.close()

    thread = threading.Thread(target=serve, name="hung-fhir-server", daemon=True)
    thread.start()
    try:
        yield f"http://{LOOPBACK}:{listener.getsockname()[1]}/fhir"
    finally:
        stopping.set()
        thread.join(timeout=5)
        for key in list(selector.get_map().values()):
            sock = key.fileobj
            if isinstance(sock, socket.socket):
                sock.close()
        selector.close()
