"""What every vendor simulator runs on: a loopback JSON server, a pool for delayed jobs, callback POSTs,
and the faults `make chaos` switches on.

Why one module: the simulators differ only in the vendor contract they model. The threads, sockets and
urllib calls around that contract are the same for all of them, so a fix here (backlog, Nagle, keep-alive,
proxies) reaches every vendor at once, and so does a fault: an unreliable API (ApiFaults, applied to every
request before or after the simulator handles it) and unreliable callbacks (CallbackFaults, applied by the
CallbackCourier every simulator sends its callbacks through). Stdlib only, like the simulators.
"""

from __future__ import annotations

import contextlib
import functools
import heapq
import itertools
import json
import logging
import random
import socket
import struct
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

logger = logging.getLogger(__name__)

# What a simulator answers: (HTTP status, JSON object or its encoded bytes[, extra response headers]).
Reply = tuple[int, dict[str, Any] | bytes] | tuple[int, dict[str, Any] | bytes, Mapping[str, str]]
# How the server asks a simulator for that answer: (method, raw path with query, request headers, body).
Answer = Callable[[str, str, Message, bytes], Reply]


class DropConnection(Exception):
    """Raised by an answer function: close the connection without a reply (the client sees a reset)."""


# --------------------------------------------------------------------------- faults


API_FAULT_KINDS = (
    "error_5xx",  # 500/502/503, nothing processed
    "reset",  # the connection is reset, nothing processed
    "timeout",  # no answer within the client's timeout, nothing processed
    "throttle",  # the vendor's own "slow down" answer, nothing processed
    "slow",  # processed and answered, late but within the client's timeout
    "accepted_then_5xx",  # processed, then a 502/504: the client cannot know it was accepted
    "accepted_then_reset",  # processed, then the connection is reset
    "accepted_then_timeout",  # processed, then no answer within the client's timeout
)
OUTAGE = "unavailable"  # 503, nothing processed: a vendor that is down (drills ask for it; not in the random mix)


@dataclass(frozen=True)
class ApiFaults:
    """How unreliable a simulator's API is: `rate` of requests meet one of `kinds`, picked evenly."""

    rate: float = 0.0
    kinds: tuple[str, ...] = API_FAULT_KINDS
    timeout_seconds: float = 11.0  # beyond the adapters' read timeout (10 s) unless the stack shortens it
    slow_seconds: float = 0.5
    from_request: int = 0  # requests up to this number (counted since the simulator started) are spared


@dataclass(frozen=True)
class CallbackFaults:
    """How unreliable a simulator's callbacks are, on top of its drop rate (callbacks lost for good)."""

    duplicate_rate: float = 0.0  # share of callbacks delivered more than once (a vendor retrying after success)
    max_copies: int = 6  # at most this many deliveries of one callback (Blu retries up to 6 times)
    reorder_seconds: float = 0.0  # each delivery waits up to this long, so later callbacks overtake earlier ones
    late_rate: float = 0.0  # share held back until release_late(): delivered after the poll has run


def reset_connection(sock: socket.socket) -> None:
    """Close with SO_LINGER 0, so the peer reads a TCP reset rather than a clean end of stream."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


class FaultyApi:
    """Wraps a simulator's answer function with ApiFaults; counts every fault it injects by kind.

    Decisions come from one seeded generator, so a run with the same seed and request order repeats.
    """

    def __init__(
        self, answer: Answer, faults: ApiFaults, seed: int | str, throttle: Callable[[str, str], Reply]
    ) -> None:
        self._answer = answer
        self.faults = faults
        self._throttle = throttle
        self._rng = random.Random(f"{seed}:api-faults")
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.requests = 0

    def _pick(self) -> str | None:
        with self._lock:
            self.requests += 1
            spared = self.requests <= self.faults.from_request
            if not self.faults.kinds or spared or self._rng.random() >= self.faults.rate:
                return None
            kind = self._rng.choice(self.faults.kinds)
            self.injected[kind] += 1
            return kind

    def __call__(self, method: str, path: str, headers: Message, body: bytes) -> Reply:
        kind = self._pick()
        if kind is None:
            return self._answer(method, path, headers, body)
        if kind == "error_5xx":
            return random.choice((500, 502, 503)), {"message": "injected server error"}
        if kind == OUTAGE:
            return 503, {"message": "injected outage"}
        if kind == "reset":
            raise DropConnection
        if kind == "timeout":
            time.sleep(self.faults.timeout_seconds)
            raise DropConnection
        if kind == "throttle":
            return self._throttle(method, path)
        reply = self._answer(method, path, headers, body)  # the vendor does the work ...
        if kind == "slow":
            time.sleep(self.faults.slow_seconds)
            return reply
        if kind == "accepted_then_5xx":  # ... and the answer is lost on the way back
            return random.choice((502, 504)), {"message": "injected gateway error after processing"}
        if kind == "accepted_then_timeout":
            time.sleep(self.faults.timeout_seconds)
        raise DropConnection


def too_many_requests(method: str, path: str) -> Reply:
    """The throttling answer of a vendor that has no code of its own for it: HTTP 429."""
    return 429, {"message": "too many requests"}


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


@dataclass(frozen=True)
class Reported:
    """What a callback tells dialhub: the vendor call id, and whether that call closes its contact."""

    call_id: str
    closes: bool


Encode = Callable[[], tuple[bytes, Mapping[str, str]]]  # a callback's body and headers, made per attempt
DELIVERY_HEADER = "X-Dialhub-Delivery"  # which callback a delivery is (its key): the local stack counts its writes


@dataclass
class _Callback:
    url: str
    encode: Encode  # called per attempt: vendors sign each one afresh
    key: str
    reports: Reported | None
    variant: Encode | None = None  # a different late copy of it (an earlier status, another duration)


@dataclass
class CallbackCourier:
    """Delivers a simulator's callbacks the way vendors do: retried until HTTP 200 or the attempts run out.

    It is also where callbacks go wrong on purpose: `drop_rate` of them are lost for good, and CallbackFaults
    duplicate, reorder and hold back others. Every decision about one callback comes from a generator seeded
    with its key, so a seed repeats whatever order the threads run in. `lock` is the simulator's own, so a
    simulator can publish a result and count its callback outstanding in one step.
    """

    vendor: str
    schedule: Callable[[float, Callable[[], None]], None]
    lock: threading.RLock
    attempts: Callable[[], int]
    retry_interval: Callable[[], float]
    drop_rate: Callable[[], float]
    seed: int | str = 7
    faults: CallbackFaults = field(default_factory=CallbackFaults)
    timeout: float = 5.0
    attempted: int = 0
    delivered: int = 0  # deliveries answered 200 (copies included)
    dropped: int = 0
    abandoned: int = 0
    extra_copies: int = 0
    variant_copies: int = 0  # of the extra copies, those that read differently from the original
    outstanding: int = 0  # deliveries scheduled and not yet answered 200 or given up (late ones excluded)
    statuses: Counter[int | None] = field(default_factory=Counter)  # every answer, None = no connection
    dropped_reports: list[Reported] = field(default_factory=list)
    late_reports: list[Reported] = field(default_factory=list)
    _late: list[_Callback] = field(default_factory=list)
    _sent: dict[str, _Callback] = field(default_factory=dict)  # every callback delivered at least once
    _opener: urllib.request.OpenerDirector = field(default_factory=direct_opener)

    def send(
        self, url: str, encode: Encode, key: str, reports: Reported | None = None, variant: Encode | None = None
    ) -> None:
        """Queue one callback (`key` unique per callback); lost, held back, or delivered one or more times.
        `variant` makes a different late copy of it, which a replay may send instead of the original."""
        callback = _Callback(url, encode, key, reports, variant)
        rng = random.Random(f"{self.seed}:{key}")
        with self.lock:
            if rng.random() < self.drop_rate():
                self.dropped += 1
                if reports:
                    self.dropped_reports.append(reports)
                return
            if rng.random() < self.faults.late_rate:
                self._late.append(callback)
                if reports:
                    self.late_reports.append(reports)
                return
            self._dispatch(callback, rng)

    def delivered_reports(self) -> list[Reported]:
        """What each callback delivered at least once reported (one entry per callback, not per copy)."""
        with self.lock:
            return [callback.reports for callback in self._sent.values() if callback.reports]

    @property
    def late(self) -> int:
        with self.lock:
            return len(self._late)

    def release_late(self) -> int:
        """Deliver the callbacks held back (after the poll); returns how many."""
        with self.lock:
            held, self._late = self._late, []
            for callback in held:
                self._dispatch(callback, random.Random(f"{self.seed}:late:{callback.key}"))
        return len(held)

    def replay(self, share: float) -> int:
        """Deliver `share` of the callbacks already delivered once more, all at once (a retry storm); half of
        those that have a variant are sent as it, a copy that reads differently (what a vendor's late,
        stale resend looks like)."""
        rng = random.Random(f"{self.seed}:replay")
        with self.lock:
            sent = list(self._sent.values())
            chosen = rng.sample(sent, round(len(sent) * share))
            copies = [
                (callback, callback.variant if callback.variant and rng.random() < 0.5 else callback.encode)
                for callback in chosen
            ]
            self.extra_copies += len(chosen)
            self.variant_copies += sum(1 for callback, encode in copies if encode is not callback.encode)
            self.outstanding += len(chosen)
        for callback, encode in copies:
            self.schedule(0, functools.partial(self._deliver, callback, 0, encode))
        return len(chosen)

    def _dispatch(self, callback: _Callback, rng: random.Random) -> None:
        copies = rng.randint(2, max(2, self.faults.max_copies)) if rng.random() < self.faults.duplicate_rate else 1
        self.extra_copies += copies - 1
        self.outstanding += copies
        for _ in range(copies):
            delay = rng.uniform(0, self.faults.reorder_seconds)
            self.schedule(delay, lambda: self._deliver(callback, 0))

    def _deliver(self, callback: _Callback, attempt: int, encode: Encode | None = None) -> None:
        with self.lock:
            self.attempted += 1
        body, headers = (encode or callback.encode)()
        headers = {**headers, DELIVERY_HEADER: callback.key}
        status, _ = post_callback(self._opener, callback.url, body, headers, self.timeout)
        with self.lock:
            self.statuses[status] += 1
            if status == 200:
                self.delivered += 1
                self.outstanding -= 1
                self._sent.setdefault(callback.key, callback)
                return
            if attempt + 1 < self.attempts():
                self.schedule(self.retry_interval(), lambda: self._deliver(callback, attempt + 1, encode))
                return
            self.abandoned += 1
            self.outstanding -= 1
        logger.info("%s simulator gave up on callback %s after %d attempts", self.vendor, callback.key, attempt + 1)


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
        self._workers = [
            threading.Thread(target=self._work, name=f"{name}-worker-{index}", daemon=True)
            for index in range(worker_count)
        ]

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
        self._answer("POST", body)

    def do_GET(self) -> None:
        self._answer("GET", b"")

    def _answer(self, method: str, body: bytes) -> None:
        try:
            reply = self.server.answer(method, self.path, self.headers, body)
        except DropConnection:
            self.close_connection = True
            self.wfile.flush()
            reset_connection(self.connection)
            return
        self._send(*reply)

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
        self._thread = threading.Thread(
            target=self._http.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{name}-http", daemon=True
        )
        self._scheduler.start()
        self._thread.start()

    @property
    def base_url(self) -> str:
        host, port = self._http.server_address[:2]
        assert isinstance(host, str)  # an IP socket's address, not a Unix socket's path
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
    """The lifecycle every simulator shares: `_handle_api` is served on loopback from start() until stop(),
    behind the API faults, with callbacks sent through one CallbackCourier (`_courier`, made by the simulator).
    """

    vendor: str
    host: str
    port: int
    worker_threads = 8  # bounded: thousands of dial requests share these, never one thread each
    job_timeout = 5.0  # seconds a scheduled job (a callback delivery) may take
    retry_interval: float  # seconds between a failed callback and its next try
    drop_rate: float  # share of callbacks dropped (never sent), for the poller to recover
    _server: SimulatorServer | None = None
    _courier: CallbackCourier
    _seed: int
    api: FaultyApi | None = None  # the API as served, with its fault counters; set by start()

    def _handle_api(self, method: str, path: str, headers: Any, body: bytes) -> Any:
        raise NotImplementedError

    def _throttle_reply(self, method: str, path: str) -> Reply:
        """The vendor's answer when it wants fewer requests; HTTP 429 unless the vendor has its own."""
        return too_many_requests(method, path)

    def use_faults(self, api: ApiFaults, callbacks: CallbackFaults) -> Self:
        """Switch faults on (or off); may be called before or after start()."""
        self.api_faults = api
        if self.api is not None:
            self.api.faults = api
        self._courier.faults = callbacks
        return self

    def start(self) -> Self:
        """Bind and serve in daemon threads; returns self so `sim = Simulator(...).start()` reads well."""
        if self._server is None:
            self.api = FaultyApi(
                self._handle_api, getattr(self, "api_faults", ApiFaults()), self._seed, self._throttle_reply
            )
            self._server = SimulatorServer(
                self.api,
                name=f"{self.vendor}-sim",
                host=self.host,
                port=self.port,
                workers=self.worker_threads,
                job_timeout=self.job_timeout,
            )
        return self

    def _schedule(self, delay_seconds: float, job: Callable[[], None]) -> None:
        server = self._server
        if server is not None:
            server.schedule(delay_seconds, job)

    def _callback_courier(self, lock: threading.RLock, seed: int, attempts: Callable[[], int]) -> CallbackCourier:
        """The courier of this simulator's callbacks: its retry interval and drop rate are read at each send,
        so a test may change them on a running simulator."""
        return CallbackCourier(
            self.vendor,
            self._schedule,
            lock,
            seed=seed,
            attempts=attempts,
            retry_interval=lambda: self.retry_interval,
            drop_rate=lambda: self.drop_rate,
            timeout=self.job_timeout,
        )

    # --- callback counters, kept by the courier -------------------------------------------------------
    @property
    def callbacks_attempted(self) -> int:
        return self._courier.attempted

    @property
    def callbacks_delivered(self) -> int:
        return self._courier.delivered

    @property
    def callbacks_dropped(self) -> int:
        return self._courier.dropped

    @property
    def callbacks_abandoned(self) -> int:
        return self._courier.abandoned

    @property
    def courier(self) -> CallbackCourier:
        return self._courier

    def stop(self) -> None:
        """Stop serving and drop scheduled work (unfinished dials and retries are simply abandoned)."""
        server, self._server = self._server, None
        if server is not None:
            server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"the {self.vendor} simulator is not started")
        return self._server.base_url
