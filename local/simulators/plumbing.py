"""What every vendor simulator runs on: a loopback JSON server, a pool for delayed jobs, callback POSTs.

Why one module: the simulators differ only in the vendor contract they model. The threads, sockets and
urllib calls around that contract are the same for all of them, so a fix here (backlog, Nagle, keep-alive,
proxies) reaches every vendor at once. Stdlib only, like the simulators.
"""

from __future__ import annotations

import heapq
import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

logger = logging.getLogger(__name__)

# What a simulator answers: (HTTP status, JSON object or its encoded bytes[, extra response headers]).
Reply = tuple[int, dict[str, Any] | bytes] | tuple[int, dict[str, Any] | bytes, Mapping[str, str]]
# How the server asks a simulator for that answer: (method, raw path with query, request headers, body).
Answer = Callable[[str, str, Message, bytes], Reply]


def encode_json(payload: Any) -> bytes:
    """UTF-8 JSON with non-ASCII kept as is, the way the vendors send it (names, scripts, emoji)."""
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def direct_opener() -> urllib.request.OpenerDirector:
    """A urllib opener that ignores *_proxy variables: a simulator only ever calls loopback URLs."""
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


def post_callback(
    opener: urllib.request.OpenerDirector, url: str, body: bytes, headers: Mapping[str, str], timeout: float
) -> tuple[int | None, bytes]:
    """POST as a vendor does; (HTTP status, body), status None when the connection itself failed.

    A non-2xx answer is a status, not an exception, because the callers' retry rules are about statuses.
    """
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read() if error.fp else b""
    except (urllib.error.URLError, OSError, ValueError):
        return None, b""


def wait_until_idle(pending: Callable[[], int], timeout: float) -> bool:
    """True once `pending()` is 0; False if `timeout` seconds pass first (polled, so no hooks are needed)."""
    deadline = time.monotonic() + timeout
    while True:
        if pending() == 0:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


class WorkScheduler:
    """A time-ordered heap drained by a fixed pool of threads: bounded threads for any number of jobs.

    Jobs may block on outgoing HTTP (pre-dial checks, callbacks), so they run here, never on the HTTP
    server's request threads.
    """

    def __init__(self, worker_count: int, *, name: str, join_timeout: float) -> None:
        self._name = name
        self._join_timeout = join_timeout
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._sequence = itertools.count()  # ties on the due time run in scheduling order
        self._condition = threading.Condition()
        self._stopped = False
        self._workers = [threading.Thread(target=self._work, name=f"{name}-worker-{index}", daemon=True)
                         for index in range(worker_count)]

    def start(self) -> None:
        for worker in self._workers:
            worker.start()

    def stop(self) -> None:
        """Drop what is still queued and wait (bounded) for the jobs already running."""
        with self._condition:
            self._stopped = True
            self._heap.clear()
            self._condition.notify_all()
        for worker in self._workers:
            if worker.is_alive() and worker is not threading.current_thread():
                worker.join(timeout=self._join_timeout)

    def schedule(self, delay_seconds: float, job: Callable[[], None]) -> None:
        with self._condition:
            if self._stopped:
                return
            heapq.heappush(self._heap, (time.monotonic() + max(0.0, delay_seconds), next(self._sequence), job))
            self._condition.notify()

    def _work(self) -> None:
        while True:
            with self._condition:
                while True:
                    if self._stopped:
                        return
                    if not self._heap:
                        self._condition.wait()
                        continue
                    wait_seconds = self._heap[0][0] - time.monotonic()
                    if wait_seconds <= 0:
                        _, _, job = heapq.heappop(self._heap)
                        break
                    self._condition.wait(wait_seconds)
            try:
                job()
            except Exception:  # a broken job must not kill the pool
                logger.exception("%s job failed", self._name)


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 makes bursts of clients stall on SYN retries

    def __init__(self, address: tuple[str, int], answer: Answer, name: str) -> None:
        super().__init__(address, _RequestHandler)
        self.answer = answer
        self.name = name


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as two writes; Nagle would add ~40 ms each
    server: _HttpServer

    def do_POST(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = 0
        if self.headers.get("Transfer-Encoding"):
            self.close_connection = True  # unread chunked body would corrupt the next keep-alive request
        body = self.rfile.read(length) if length > 0 else b""
        self._send(*self.server.answer("POST", self.path, self.headers, body))

    def do_GET(self) -> None:
        self._send(*self.server.answer("GET", self.path, self.headers, b""))

    def _send(self, status: int, payload: dict[str, Any] | bytes, headers: Mapping[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else encode_json(payload)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s http: " + format, self.server.name, *args)  # one line a request: debug, not noise


class SimulatorServer:
    """A simulator's running parts, started and stopped together: its HTTP server thread and its job pool.

    Binding happens first, so a port that is taken fails before any thread starts.
    """

    def __init__(self, answer: Answer, *, name: str, host: str, port: int, workers: int, job_timeout: float) -> None:
        self._http = _HttpServer((host, port), answer, name)
        self._scheduler = WorkScheduler(workers, name=name, join_timeout=job_timeout + 1)
        self._thread = threading.Thread(target=self._http.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{name}-http", daemon=True)
        self._scheduler.start()
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    def schedule(self, delay_seconds: float, job: Callable[[], None]) -> None:
        self._scheduler.schedule(delay_seconds, job)

    def stop(self) -> None:
        """Stop serving, then drop scheduled work (unfinished dials and retries are simply abandoned)."""
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)
        self._scheduler.stop()


class ServedSimulator:
    """The lifecycle every simulator shares: `_handle_api` is served on loopback from start() until stop()."""

    vendor: str
    host: str
    port: int
    worker_threads = 8  # bounded: thousands of dial requests share these, never one thread each
    job_timeout = 5.0  # seconds a scheduled job (a callback delivery) may take
    _server: SimulatorServer | None = None

    def _handle_api(self, method: str, path: str, headers: Any, body: bytes) -> Any:
        raise NotImplementedError

    def start(self) -> Self:
        """Bind and serve in daemon threads; returns self so `sim = Simulator(...).start()` reads well."""
        if self._server is None:
            self._server = SimulatorServer(self._handle_api, name=f"{self.vendor}-sim", host=self.host,
                                           port=self.port, workers=self.worker_threads, job_timeout=self.job_timeout)
        return self

    def stop(self) -> None:
        """Stop serving and drop scheduled work (unfinished dials and retries are simply abandoned)."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.vendor} simulator is not started")
        return self._server.base_url
