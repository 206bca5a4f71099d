"""modelpack serving runtime: serves a boxed model over HTTP.

Environment:
  MODELPACK_MODEL_DIR       the unpacked bundle (default /opt/model)
  MODELPACK_SERVING_JSON    the serving description modelpack wrote (default <runtime>/serving.json)
  MODELPACK_CARD            the model card GET /card serves (default <runtime>/card.md)
  MODELPACK_HOST, MODELPACK_PORT   where to listen (default 0.0.0.0:8080)
  MODELPACK_API_KEY         when set, POST /predict needs "Authorization: Bearer <key>" or "X-API-Key: <key>"
  MODELPACK_API_KEYS_FILE   instead, named keys (hashed) with optional rate limits (modelpack_keys.py)
  AIP_HTTP_PORT, AIP_HEALTH_ROUTE, AIP_PREDICT_ROUTE   Vertex AI's port and routes, when it sets them
  MODELPACK_MAX_BODY_BYTES  request body limit (default 1048576)
  MODELPACK_BODY_TIMEOUT    seconds a request body may take to arrive (default 30): then 408
  MODELPACK_WORKERS         worker processes, each loading the model once (default "auto": the CPUs
                            the container may use, from the cgroup quota and the CPU affinity);
                            /metrics sums every worker's counts (MODELPACK_METRICS_DIR)
  MODELPACK_THREADS         predictions at once per worker, on their own threads (default 1): the
                            body's decoding, the input check, the model and the answer's encoding
  MODELPACK_GRACE_SECONDS   on SIGTERM, how long in-flight requests may finish (default 30)
Logs are JSON lines on stderr. Every error answer is JSON with the request's id. GET /docs is
/openapi.json as a page rendered here (no script, nothing fetched).

/metrics (Prometheus text format) counts requests by route, never by the path asked for: a
request's `path` label is the template of the route it matched, as declared (`/predict`, or
`/items/{id}` for a route with parameters), and every request that matched no route is counted
under the one label path="<unmatched>". Every label value is escaped as the format requires.
"""
import asyncio
import gc
import html
import json
import logging
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from uvicorn.protocols.http.auto import AutoHTTPProtocol

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from modelpack_inputs import follow_supervisor, instance_schema, jsonable, load_model, output_schema, validate  # noqa: E402 (the runtime's own module, beside this file)
from modelpack_keys import KeysError, load_keys  # noqa: E402

MODEL_DIR = Path(os.environ.get("MODELPACK_MODEL_DIR", "/opt/model"))
SERVING = json.loads(Path(os.environ.get("MODELPACK_SERVING_JSON", HERE / "serving.json")).read_text())
MAX_BODY = int(os.environ.get("MODELPACK_MAX_BODY_BYTES", str(1 << 20)))
BODY_TIMEOUT = float(os.environ.get("MODELPACK_BODY_TIMEOUT", "30"))
try:
    KEYS = load_keys(os.environ, int(os.environ.get("MODELPACK_WORKER_COUNT", "1")))
except KeysError as problem:  # a misconfigured lock must not leave the door open: refuse to start
    print(f"error: {problem}", file=sys.stderr)
    sys.exit(2)
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
UNMATCHED = "<unmatched>"  # the path label of every request no route matched (no route's path starts with "<")


class JSONLines(logging.Formatter):
    def format(self, record):
        entry = {"time": round(record.created, 3), "level": record.levelname.lower(), "message": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry)


class Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is when a line is logged (as logging's own last resort does)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


handler = Stderr()
handler.setFormatter(JSONLines())
log = logging.getLogger("modelpack")
log.handlers[:] = [handler]  # one handler, however often the module is loaded
log.setLevel(logging.INFO)
log.propagate = False


LABEL_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


def labels(**values):
    """A sample's labels, `{name="value",...}`, each value escaped as the Prometheus text format
    requires (backslash, double quote and newline), so no value can end its label or its line."""
    return "{" + ",".join(f'{name}="{str(value).translate(LABEL_ESCAPES)}"' for name, value in values.items()) + "}"


class Metrics:
    """Counters and the latency histogram. With several workers, each writes its own counts to
    MODELPACK_METRICS_DIR (one file per process, replaced atomically, at most every FLUSH_SECONDS
    from a thread of its own: a write per request cost more than the request) and a scrape sums
    them with its own live counts, so /metrics counts the whole server whichever worker answers
    it, the other workers' counts at most FLUSH_SECONDS old."""

    FLUSH_SECONDS = 0.25

    def __init__(self, shared_dir=None):
        self.lock = threading.Lock()
        self.shared_dir = Path(shared_dir) if shared_dir else None
        self.dirty = False
        self.stopped = threading.Event()
        self.flusher = None
        self.requests = {}
        self.errors = {}
        self.buckets = [0] * len(BUCKETS)
        self.count = 0
        self.total = 0.0
        self.callers = {}  # (key name, status): [requests, rows, seconds]

    def observe(self, path, status, seconds, caller=None, rows=0):
        with self.lock:
            key = (path, status)
            self.requests[key] = self.requests.get(key, 0) + 1
            if status >= 500:
                self.errors[key] = self.errors.get(key, 0) + 1
            if caller is not None:
                usage = self.callers.setdefault((caller, status), [0, 0, 0.0])
                usage[0] += 1
                usage[1] += rows
                usage[2] += seconds
            if path in PREDICT_ROUTES:
                self.count += 1
                self.total += seconds
                for i, bound in enumerate(BUCKETS):
                    if seconds <= bound:
                        self.buckets[i] += 1
            self.dirty = True

    def state(self):
        return {"requests": [[p, s, n] for (p, s), n in self.requests.items()],
                "errors": [[p, s, n] for (p, s), n in self.errors.items()],
                "buckets": self.buckets, "count": self.count, "total": self.total,
                "callers": [[k, s, *usage] for (k, s), usage in self.callers.items()]}

    def start(self):
        """With a shared directory, a thread writes this worker's counts when they changed."""
        if self.shared_dir is None or self.flusher is not None:
            return

        def run():
            while not self.stopped.wait(self.FLUSH_SECONDS):
                self.flush()

        self.stopped.clear()
        self.flusher = threading.Thread(target=run, name="metrics", daemon=True)
        self.flusher.start()

    def stop(self):
        """Stops the thread and writes the last counts."""
        if self.flusher is not None:
            self.stopped.set()
            self.flusher.join()
            self.flusher = None
            self.flush()

    def flush(self):
        with self.lock:
            if not self.dirty:
                return
            text = json.dumps(self.state())
            self.dirty = False
        target = self.shared_dir / f"{os.getpid()}.json"
        temporary = self.shared_dir / f".{os.getpid()}.tmp"
        temporary.write_text(text)
        os.replace(temporary, target)

    def totals(self):
        """This process's live counts, and every other worker's from its file."""
        states = [self.state()]
        if self.shared_dir is not None:
            for file in self.shared_dir.glob("*.json"):
                if file.name == f"{os.getpid()}.json":
                    continue
                try:
                    states.append(json.loads(file.read_text()))
                except (OSError, ValueError):
                    continue  # a worker replacing its file: its previous counts are a moment old
        requests, errors, buckets, count, total, callers = {}, {}, [0] * len(BUCKETS), 0, 0.0, {}
        for state in states:
            for caller, status, n, rows, seconds in state.get("callers", []):
                usage = callers.setdefault((caller, status), [0, 0, 0.0])
                usage[0] += n
                usage[1] += rows
                usage[2] += seconds
            for path, status, n in state["requests"]:
                requests[(path, status)] = requests.get((path, status), 0) + n
            for path, status, n in state["errors"]:
                errors[(path, status)] = errors.get((path, status), 0) + n
            buckets = [a + b for a, b in zip(buckets, state["buckets"])]
            count += state["count"]
            total += state["total"]
        return requests, errors, buckets, count, total, callers

    def render(self):
        with self.lock:
            requests, errors, buckets, count, total, callers = self.totals()
        lines = ["# HELP modelpack_requests_total HTTP requests by path and status.",
                 "# TYPE modelpack_requests_total counter"]
        for (path, status), n in sorted(requests.items()):
            lines.append(f"modelpack_requests_total{labels(path=path, status=status)} {n}")
        lines += ["# HELP modelpack_errors_total Requests answered with a server error (5xx), by path and status.",
                  "# TYPE modelpack_errors_total counter"]
        if not errors:
            lines.append("modelpack_errors_total 0")
        for (path, status), n in sorted(errors.items()):
            lines.append(f"modelpack_errors_total{labels(path=path, status=status)} {n}")
        lines += ["# HELP modelpack_predict_latency_seconds Latency of POST /predict.",
                  "# TYPE modelpack_predict_latency_seconds histogram"]
        for bound, n in zip(BUCKETS, buckets):
            lines.append(f"modelpack_predict_latency_seconds_bucket{labels(le=bound)} {n}")
        lines += [f"modelpack_predict_latency_seconds_bucket{labels(le='+Inf')} {count}",
                  f"modelpack_predict_latency_seconds_sum {total}",
                  f"modelpack_predict_latency_seconds_count {count}"]
        if callers:
            lines += ["# HELP modelpack_key_requests_total Predict requests by API key name and status.",
                      "# TYPE modelpack_key_requests_total counter"]
            lines += [f"modelpack_key_requests_total{labels(key=k, status=s)} {u[0]}"
                      for (k, s), u in sorted(callers.items())]
            by_key = {}
            for (k, _), u in callers.items():
                total_rows, total_seconds, n = by_key.get(k, (0, 0.0, 0))
                by_key[k] = (total_rows + u[1], total_seconds + u[2], n + u[0])
            lines += ["# HELP modelpack_key_rows_total Instances predicted, by API key name.",
                      "# TYPE modelpack_key_rows_total counter"]
            lines += [f"modelpack_key_rows_total{labels(key=k)} {v[0]}" for k, v in sorted(by_key.items())]
            lines += ["# HELP modelpack_key_latency_seconds Latency of predict requests, by API key name.",
                      "# TYPE modelpack_key_latency_seconds summary"]
            for k, v in sorted(by_key.items()):
                lines += [f"modelpack_key_latency_seconds_sum{labels(key=k)} {v[1]}",
                          f"modelpack_key_latency_seconds_count{labels(key=k)} {v[2]}"]
        return "\n".join(lines) + "\n"


METRICS = Metrics(os.environ.get("MODELPACK_METRICS_DIR"))
STATE = {"model": None, "error": None}
# Predictions run on their own threads, never on the event loop, which keeps answering /health,
# /ready and /metrics meanwhile; MODELPACK_THREADS of them at once per worker process. One by
# default: a model that computes in Python holds the GIL, and every further thread only makes the
# event loop wait longer for it (/health p99 ~100 ms with 4 threads, ~8-22 ms with one, at the
# same requests/s); a model that waits on I/O or releases the GIL for long can use more.
PREDICTIONS = ThreadPoolExecutor(int(os.environ.get("MODELPACK_THREADS", "1")), thread_name_prefix="predict")


def load():
    started = time.perf_counter()
    STATE["model"] = load_model(MODEL_DIR)
    log.info("model loaded", extra={"fields": {"model": SERVING["name"], "version": SERVING["version"],
                                               "seconds": round(time.perf_counter() - started, 3)}})


def run_model(rows):
    """The model's predict and the conversion of its answer, on a prediction thread."""
    return jsonable(STATE["model"].predict(rows))


@asynccontextmanager
async def lifespan(_app):
    follow_supervisor()
    try:
        load()
    except Exception as error:  # the server stays up, /ready says why (and the HEALTHCHECK fails)
        STATE["error"] = f"{type(error).__name__}: {error}"
        log.error("model failed to load", extra={"fields": {"error": STATE["error"]}})
    # Python's cyclic collector otherwise walks every object the model and its libraries made,
    # holding the GIL, each time a large request's objects push it to a full collection: 100 ms
    # pauses of /health and 2.5x slower 10,000-row batches, measured here. Objects that exist now
    # live as long as the worker; frozen, no collection looks at them again.
    gc.collect()
    gc.freeze()
    METRICS.start()
    try:
        yield
    finally:
        METRICS.stop()


app = FastAPI(title=SERVING["name"], version=SERVING["version"], docs_url=None, redoc_url=None, lifespan=lifespan)


def error(status, detail, request):
    """Every error answer: JSON, with the request's id (Observe adds the X-Request-ID header)."""
    return JSONResponse({"detail": detail, "request_id": request.state.request_id}, status_code=status)


@app.exception_handler(StarletteHTTPException)
async def refused(request: Request, failure: StarletteHTTPException):
    """Starlette's own refusals (an unknown path, a wrong method) as JSON with the request's id."""
    answer = error(failure.status_code, failure.detail, request)
    answer.headers.update(failure.headers or {})
    return answer


def route_of(scope):
    """A request's path label, once it was answered: the template of the route it matched, as
    declared, or UNMATCHED. Never the path asked for, which would let a caller write into /metrics
    and add a series for every path it makes up."""
    route = scope.get("route")  # FastAPI's routes record themselves when they match
    if route is None:  # Starlette's own (/openapi.json) do not: match as the router does, a full match first
        found = {}
        for candidate in app.routes:
            found.setdefault(candidate.matches(scope)[0], candidate)
        route = found.get(Match.FULL) or found.get(Match.PARTIAL)
    return UNMATCHED if route is None else route.path


class Observe:
    """Around every HTTP request, as plain ASGI (Starlette's BaseHTTPMiddleware costs a task and a
    stream per request): its id (X-Request-ID, the caller's when printable and at most 128
    characters, else a new one), one JSON log line, its count and latency in /metrics (by route,
    route_of), and when the app raises, a JSON 500 with the id (the exception's type and traceback
    in the log only)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = given if 0 < len(given) <= 128 and given.isprintable() else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        tag = (b"x-request-id", request_id.encode("latin-1"))
        answered = []  # the status, once the answer has started

        async def sending(message):
            if message["type"] == "http.response.start":
                answered.append(message["status"])
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-request-id"]
                message = {**message, "headers": [*headers, tag]}
            await send(message)

        started = time.perf_counter()
        path = scope["path"]
        fields = {"method": scope["method"], "path": path, "request_id": request_id}
        try:
            await self.app(scope, receive, sending)
        except Exception as failure:  # the traceback goes to the log, never into the answer
            fields.update({"error": type(failure).__name__, "traceback": traceback.format_exc()})
            if not answered:
                body = json.dumps({"detail": "internal error: the model or the runtime failed; see the server log",
                                   "request_id": request_id}).encode()
                await sending({"type": "http.response.start", "status": 500, "headers": [
                    (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
            else:  # the answer had begun: the server closes the connection
                answered.append(500)
        status = answered[-1] if answered else 500
        seconds = time.perf_counter() - started
        caller = state.get("key")
        METRICS.observe(route_of(scope), status, seconds, caller, state.get("rows", 0))
        fields.update({"status": status, "latency_ms": round(seconds * 1000, 3)})
        if caller is not None:
            fields["key"] = caller  # the key's name, never the key
        message = "client disconnected" if state.get("disconnected") else "request"
        (log.error if status >= 500 else log.info)(message, extra={"fields": fields})


app.add_middleware(Observe)


@app.get("/health", responses={200: {"content": {"application/json": {"example": {"status": "ok"}}}}})
async def health():
    """Liveness: the process answers (predictions run on other threads)."""
    return {"status": "ok"}


ERROR_CONTENT = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}


@app.get("/ready", responses={503: {"description": "the model is loading or failed to load", "content": ERROR_CONTENT}})
async def ready(request: Request):
    """Readiness: the model is loaded (the image's HEALTHCHECK polls this)."""
    if STATE["model"] is None:
        return error(503, {"ready": False, "error": STATE["error"] or "loading"}, request)
    return {"ready": True}


@app.get("/metadata")
async def metadata():
    return SERVING


@app.get("/card", response_class=PlainTextResponse,
         responses={200: {"content": {"text/markdown": {"schema": {"type": "string"}}}},
                    404: {"description": "no model card in this deployment", "content": ERROR_CONTENT}})
def card(request: Request):
    """The model card modelpack wrote (Markdown with Hugging Face front matter)."""
    path = Path(os.environ.get("MODELPACK_CARD", HERE / "card.md"))
    if not path.is_file():
        return error(404, "no model card in this deployment", request)
    return PlainTextResponse(path.read_text(encoding="utf-8"), media_type="text/markdown; charset=utf-8")


@app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
def docs():
    """/openapi.json as a page, rendered here from the document: no script, and nothing fetched
    (its Content-Security-Policy allows no other resource), so it works where the server is
    offline."""
    return HTMLResponse(docs_page(app.openapi()), headers={
        "Content-Security-Policy":
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"})


def docs_page(document):
    """The HTML of an OpenAPI document: each operation with its request and answers, then every
    schema, as JSON; every text escaped."""
    esc = html.escape

    def schema(value):
        return f"<pre>{esc(json.dumps(value, indent=2, ensure_ascii=False))}</pre>"

    info = document.get("info", {})
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(str(info.get('title', '')))} API</title>",
        "<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "pre{background:#f4f4f4;padding:.6rem;overflow:auto}code.m{font-weight:bold;text-transform:uppercase}"
        "section{border-top:1px solid #ccc;margin-top:1.2rem}</style></head><body>",
        f"<h1>{esc(str(info.get('title', '')))} <small>{esc(str(info.get('version', '')))}</small></h1>",
        f"<p>{esc(str(info.get('description', '')))}</p>",
        "<p>The machine-readable contract: <a href='openapi.json'>openapi.json</a> (OpenAPI "
        f"{esc(str(document.get('openapi', '')))}).</p>",
    ]
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            parts.append(f"<section><h2><code class='m'>{esc(method)}</code> <code>{esc(path)}</code></h2>")
            for key in ("summary", "description"):
                if operation.get(key):
                    parts.append(f"<p>{esc(str(operation[key]))}</p>")
            body = operation.get("requestBody", {}).get("content", {})
            for media, content in body.items():
                parts.append(f"<h3>Request ({esc(media)})</h3>{schema(content.get('schema', {}))}")
            if operation.get("security"):
                parts.append("<p>Needs an API key: <code>Authorization: Bearer KEY</code> or "
                             "<code>X-API-Key</code>.</p>")
            parts.append("<h3>Answers</h3><ul>")
            for status, answer in operation.get("responses", {}).items():
                parts.append(f"<li><b>{esc(str(status))}</b> {esc(str(answer.get('description', '')))}</li>")
            parts.append("</ul></section>")
    schemas = document.get("components", {}).get("schemas", {})
    if schemas:
        parts.append("<section><h2>Schemas</h2>")
        for name, value in schemas.items():
            parts.append(f"<h3 id='{esc(name)}'>{esc(name)}</h3>{schema(value)}")
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts)


@app.get("/metrics", response_class=PlainTextResponse)
def metrics():
    return PlainTextResponse(METRICS.render(), media_type="text/plain; version=0.0.4")


async def read_body(request):
    """The body, within MAX_BODY bytes and BODY_TIMEOUT seconds; an error response otherwise. One
    timer per request cancels the read when it expires (as asyncio.timeout does, which Python 3.10
    lacks; asyncio.wait_for per chunk cost a task each)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        return None, error(413, f"request body over {MAX_BODY} bytes", request)
    task = asyncio.current_task()
    expired = []

    def expire():
        expired.append(True)
        task.cancel()

    timer = asyncio.get_running_loop().call_later(BODY_TIMEOUT, expire)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return None, error(413, f"request body over {MAX_BODY} bytes", request)
    except asyncio.CancelledError:
        if not expired:
            raise  # the server is stopping
        if hasattr(task, "uncancel"):
            task.uncancel()
        return None, error(408, f"the request body did not arrive within {BODY_TIMEOUT:g} s", request)
    finally:
        timer.cancel()
    return bytes(body), None


@app.post("/predict")
async def predict(request: Request):
    if KEYS is not None:
        given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
        key = KEYS.identify(given)
        if key is None:
            return error(401, "missing or wrong API key", request)
        request.state.key = key.name
        wait = KEYS.admit(key)
        if wait is not None:
            refusal = error(429, f"key '{key.name}' is over its rate limit ({key.rate_text})", request)
            refusal.headers["Retry-After"] = str(wait)
            return refusal
    try:
        body, refusal = await read_body(request)
    except ClientDisconnect:  # the request's one log line says so (Observe)
        request.state.disconnected = True
        return error(400, "the client disconnected", request)
    if refusal is not None:
        return refusal
    # Decoding, the input check, the model and the encoding of the answer all run on a
    # prediction thread: a 10,000-row body takes tens of milliseconds to decode and check, and the
    # event loop keeps answering probes meanwhile.
    status, answer, rows = await asyncio.get_running_loop().run_in_executor(PREDICTIONS, answer_predict, body)
    if status != 200:
        return error(status, answer, request)
    request.state.rows = rows
    return Response(answer, media_type="application/json")


def answer_predict(body):
    """(200, the JSON answer's bytes, rows) or (an error status, its detail, 0), for a /predict body."""
    try:
        payload = json.loads(body)
    except RecursionError:
        return 400, "invalid JSON: nested too deeply", 0
    except ValueError as failure:
        return 400, f"invalid JSON: {failure}", 0
    batch = isinstance(payload, dict) and "instances" in payload
    instances = payload["instances"] if batch else [payload]
    if not isinstance(instances, list) or not instances:
        return 422, "'instances' must be a non-empty list", 0
    rows, problems = validate(instances, SERVING["inputs"])
    if problems:
        return 422, problems, 0
    if STATE["model"] is None:
        return 503, "model not loaded: " + (STATE["error"] or "loading"), 0
    predictions = run_model(rows)
    answer = {"predictions": predictions} if batch else {"prediction": predictions[0]}
    # As Starlette's JSONResponse encodes (NaN refused: a 500, logged).
    return 200, json.dumps(answer, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode(), len(rows)


# Cloud conventions, beside /predict and /ready: SageMaker's GET /ping and POST /invocations (on
# 8080, the port it uses), and Vertex AI's AIP_HEALTH_ROUTE and AIP_PREDICT_ROUTE (AIP_HTTP_PORT is
# the port, below). Each is the same endpoint as /ready or /predict, with the same checks and metrics.
HEALTH_ROUTES = ["/ping"] + [r for r in [os.environ.get("AIP_HEALTH_ROUTE", "")] if r.startswith("/")]
PREDICT_ROUTES = ["/predict", "/invocations"] + [r for r in [os.environ.get("AIP_PREDICT_ROUTE", "")]
                                                 if r.startswith("/")]
for route in HEALTH_ROUTES:
    if route not in {r.path for r in app.routes}:
        app.add_api_route(route, ready, methods=["GET"])
for route in PREDICT_ROUTES:
    if route not in {r.path for r in app.routes}:
        app.add_api_route(route, predict, methods=["POST"])


ERRORS = {
    "400": "the body is not JSON, or nested too deeply, or the client disconnected",
    "401": "missing or wrong API key (when keys are configured)",
    "408": "the body did not arrive within MODELPACK_BODY_TIMEOUT seconds",
    "413": "the body is over MODELPACK_MAX_BODY_BYTES",
    "422": "an instance does not fit the model's inputs: every problem, by instance and input",
    "429": "the key is over its rate limit: Retry-After says when to try again",
    "500": "the model failed on a valid instance (the traceback is in the server log)",
    "503": "the model is loading or failed to load",
}


def contract():
    """/openapi.json: FastAPI's document, with each predict route's request and answers typed from
    metadata.yaml's inputs and outputs (clients generate SDKs from it; the tests validate it with
    openapi-spec-validator and fuzz the server with schemathesis)."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=SERVING["name"], version=SERVING["version"],
                           description=SERVING.get("description") or "", routes=app.routes)
    instance = instance_schema(SERVING["inputs"])
    prediction = output_schema(SERVING.get("outputs") or [])
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update({
        "Instance": instance,
        "Batch": {"type": "object", "required": ["instances"],
                  "properties": {"instances": {"type": "array", "minItems": 1,
                                               "items": {"$ref": "#/components/schemas/Instance"}},
                                 "parameters": {"description": "accepted (Vertex AI sends it) and ignored"}}},
        "PredictRequest": {"anyOf": [{"$ref": "#/components/schemas/Instance"},
                                     {"$ref": "#/components/schemas/Batch"}]},
        "Prediction": prediction,
        "PredictResponse": {"anyOf": [
            {"type": "object", "required": ["prediction"],
             "properties": {"prediction": {"$ref": "#/components/schemas/Prediction"}}},
            {"type": "object", "required": ["predictions"],
             "properties": {"predictions": {"type": "array", "items": {"$ref": "#/components/schemas/Prediction"}}}},
        ]},
        "Error": {"type": "object", "required": ["detail", "request_id"],
                  "properties": {"detail": {}, "request_id": {"type": "string"}}},
    })
    for route in PREDICT_ROUTES:
        operation = document["paths"][route]["post"]
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/PredictRequest"}}}}
        operation["responses"] = {
            "200": {"description": "one prediction for one instance, a list for a batch",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/PredictResponse"}}}},
            **{status: {"description": why, "content": ERROR_CONTENT} for status, why in ERRORS.items()
               if status not in ("401", "429") or KEYS is not None},
        }
        if KEYS is not None:
            operation["security"] = [{"bearer": []}, {"apiKey": []}]
    if KEYS is not None:
        document["components"]["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer"},
            "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
    app.openapi_schema = document
    return document


app.openapi = contract


def nagle_off(transport):
    """Sends small writes at once on a TCP connection (TCP_NODELAY)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        with suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHTTP(AutoHTTPProtocol):  # type: ignore[misc, valid-type]
    """uvicorn's HTTP protocol with Nagle's algorithm off on every connection. With several workers
    uvicorn binds the listening socket itself, with proto 0, and asyncio turns TCP_NODELAY on only
    for sockets that say IPPROTO_TCP (uvicorn issue #3149): an answer's headers and body are two
    writes, so every keep-alive answer after the first waited ~40 ms for the client's delayed ACK."""

    def connection_made(self, transport):
        nagle_off(transport)
        super().connection_made(transport)


def port():
    """Vertex AI's AIP_HTTP_PORT, else MODELPACK_PORT, else 8080."""
    return int(os.environ.get("AIP_HTTP_PORT") or os.environ.get("MODELPACK_PORT") or "8080")


def workers():
    """MODELPACK_WORKERS, else "auto": the CPUs this process may use (the cgroup v2 quota, the CPU
    affinity). Each worker process loads the model once."""
    wanted = os.environ.get("MODELPACK_WORKERS", "auto")
    if wanted != "auto":
        return max(1, int(wanted))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            cpus = min(cpus, max(1, int(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cpus)


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["serve"]):  # `docker run IMAGE serve` is how SageMaker starts it
        print("usage: server.py [serve]", file=sys.stderr)
        sys.exit(2)
    # uvicorn finishes in-flight requests on SIGTERM, then raises the signal again for the handler
    # it found; this one lets the process end with status 0 (a clean stop for the orchestrator).
    signal.signal(signal.SIGTERM, lambda *_: None)
    follow_supervisor()  # `modelpack serve DIR --reload` supervises this process: end with it
    count = workers()
    os.environ["MODELPACK_WORKER_COUNT"] = str(count)  # each worker keeps its share of a rate limit
    if count > 1:
        os.environ["MODELPACK_SUPERVISOR_PID"] = str(os.getpid())
        if not os.environ.get("MODELPACK_METRICS_DIR"):
            os.environ["MODELPACK_METRICS_DIR"] = tempfile.mkdtemp(prefix="modelpack-metrics-")
    uvicorn.run("server:app", app_dir=str(HERE), host=os.environ.get("MODELPACK_HOST", "0.0.0.0"),
                port=port(), workers=count, log_config=None, http="server:NoDelayHTTP",
                access_log=False, timeout_graceful_shutdown=float(os.environ.get("MODELPACK_GRACE_SECONDS", "30")))
