/// The serving runtime shipped in every build context and run by `modelpack serve`: a FastAPI
/// application that imports the bundle's interface.py, calls load_model() once at start-up and
/// serves /predict, /health, /ready, /metadata and /metrics. It is kept here, in the binary, so
/// that a modelpack binary alone can produce a complete build context.
enum ServingRuntime {
    /// The runtime's own dependencies, pinned (installed beside the model's requirements).
    static let requirements = """
        fastapi==0.165.0
        uvicorn==0.54.0

        """

    static let server = #"""
        """modelpack serving runtime: serves a boxed model over HTTP.

        Environment:
          MODELPACK_MODEL_DIR       the unpacked bundle (default /opt/model)
          MODELPACK_SERVING_JSON    the serving description modelpack wrote (default <runtime>/serving.json)
          MODELPACK_HOST, MODELPACK_PORT   where to listen (default 0.0.0.0:8080)
          MODELPACK_API_KEY         when set, POST /predict needs "Authorization: Bearer <key>" or "X-API-Key: <key>"
          MODELPACK_MAX_BODY_BYTES  request body limit (default 1048576)
        Logs are JSON lines on stderr.
        """
        import hmac
        import importlib.util
        import json
        import logging
        import math
        import os
        import sys
        import threading
        import time
        from pathlib import Path

        from contextlib import asynccontextmanager

        import uvicorn
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse, PlainTextResponse

        HERE = Path(__file__).resolve().parent
        sys.path.insert(0, str(HERE))
        from modelpack_inputs import check  # noqa: E402  (the runtime's own module, beside this file)
        MODEL_DIR = Path(os.environ.get("MODELPACK_MODEL_DIR", "/opt/model"))
        SERVING = json.loads(Path(os.environ.get("MODELPACK_SERVING_JSON", HERE / "serving.json")).read_text())
        MAX_BODY = int(os.environ.get("MODELPACK_MAX_BODY_BYTES", str(1 << 20)))
        API_KEY = os.environ.get("MODELPACK_API_KEY") or None
        BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


        class JSONLines(logging.Formatter):
            def format(self, record):
                entry = {"time": round(record.created, 3), "level": record.levelname.lower(), "message": record.getMessage()}
                entry.update(getattr(record, "fields", {}))
                return json.dumps(entry)


        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JSONLines())
        log = logging.getLogger("modelpack")
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


        class Metrics:
            def __init__(self):
                self.lock = threading.Lock()
                self.requests = {}
                self.errors = 0
                self.buckets = [0] * len(BUCKETS)
                self.count = 0
                self.total = 0.0

            def observe(self, path, status, seconds):
                with self.lock:
                    key = (path, status)
                    self.requests[key] = self.requests.get(key, 0) + 1
                    if status >= 500:
                        self.errors += 1
                    if path == "/predict":
                        self.count += 1
                        self.total += seconds
                        for i, bound in enumerate(BUCKETS):
                            if seconds <= bound:
                                self.buckets[i] += 1

            def render(self):
                with self.lock:
                    lines = ["# HELP modelpack_requests_total HTTP requests by path and status.",
                             "# TYPE modelpack_requests_total counter"]
                    for (path, status), n in sorted(self.requests.items()):
                        lines.append(f'modelpack_requests_total{{path="{path}",status="{status}"}} {n}')
                    lines += ["# HELP modelpack_errors_total Requests that failed with a server error.",
                              "# TYPE modelpack_errors_total counter", f"modelpack_errors_total {self.errors}",
                              "# HELP modelpack_predict_latency_seconds Latency of POST /predict.",
                              "# TYPE modelpack_predict_latency_seconds histogram"]
                    for bound, n in zip(BUCKETS, self.buckets):
                        lines.append(f'modelpack_predict_latency_seconds_bucket{{le="{bound}"}} {n}')
                    lines += [f'modelpack_predict_latency_seconds_bucket{{le="+Inf"}} {self.count}',
                              f"modelpack_predict_latency_seconds_sum {self.total}",
                              f"modelpack_predict_latency_seconds_count {self.count}"]
                    return "\n".join(lines) + "\n"


        METRICS = Metrics()
        STATE = {"model": None, "error": None}


        def load():
            sys.path.insert(0, str(MODEL_DIR))
            spec = importlib.util.spec_from_file_location("interface", MODEL_DIR / "interface.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            started = time.perf_counter()
            STATE["model"] = module.load_model()
            log.info("model loaded", extra={"fields": {"model": SERVING["name"], "version": SERVING["version"],
                                                       "seconds": round(time.perf_counter() - started, 3)}})


        def validate(instances):
            inputs = SERVING["inputs"]
            names = [i["name"] for i in inputs]
            problems, rows = [], []
            for index, instance in enumerate(instances):
                if isinstance(instance, list):
                    if len(instance) != len(inputs):
                        problems.append({"instance": index, "error": f"expected {len(inputs)} values ({', '.join(names)}), got {len(instance)}"})
                        continue
                    instance = dict(zip(names, instance))
                if not isinstance(instance, dict):
                    problems.append({"instance": index, "error": "an instance must be an object or a list"})
                    continue
                for name in sorted(set(instance) - set(names)):
                    problems.append({"instance": index, "input": name, "error": "is not an input of this model"})
                for spec in inputs:
                    if spec["name"] not in instance:
                        problems.append({"instance": index, "input": spec["name"], "error": "is missing"})
                    else:
                        error = check(instance[spec["name"]], spec)
                        if error:
                            problems.append({"instance": index, "input": spec["name"], "error": error})
                rows.append(instance)
            return rows, problems


        def jsonable(value):
            if hasattr(value, "tolist"):
                return value.tolist()
            if isinstance(value, dict):
                return {k: jsonable(v) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return [jsonable(v) for v in value]
            if hasattr(value, "item"):
                return value.item()
            return value


        @asynccontextmanager
        async def lifespan(_app):
            try:
                load()
            except Exception as error:  # the server stays up, /ready says why
                STATE["error"] = f"{type(error).__name__}: {error}"
                log.error("model failed to load", extra={"fields": {"error": STATE["error"]}})
            yield


        app = FastAPI(title=SERVING["name"], version=SERVING["version"], docs_url=None, redoc_url=None, lifespan=lifespan)


        @app.middleware("http")
        async def observe(request: Request, call_next):
            started = time.perf_counter()
            response = await call_next(request)
            seconds = time.perf_counter() - started
            METRICS.observe(request.url.path, response.status_code, seconds)
            log.info("request", extra={"fields": {"method": request.method, "path": request.url.path,
                                                  "status": response.status_code, "latency_ms": round(seconds * 1000, 3)}})
            return response


        @app.get("/health")
        def health():
            return {"status": "ok"}


        @app.get("/ready")
        def ready():
            if STATE["model"] is None:
                return JSONResponse({"ready": False, "error": STATE["error"] or "loading"}, status_code=503)
            return {"ready": True}


        @app.get("/metadata")
        def metadata():
            return SERVING


        @app.get("/metrics")
        def metrics():
            return PlainTextResponse(METRICS.render(), media_type="text/plain; version=0.0.4")


        @app.post("/predict")
        async def predict(request: Request):
            if API_KEY is not None:
                given = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
                if not hmac.compare_digest(given.encode(), API_KEY.encode()):
                    return JSONResponse({"detail": "missing or wrong API key"}, status_code=401)
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
                return JSONResponse({"detail": f"request body over {MAX_BODY} bytes"}, status_code=413)
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > MAX_BODY:
                    return JSONResponse({"detail": f"request body over {MAX_BODY} bytes"}, status_code=413)
            try:
                payload = json.loads(body)
            except ValueError as error:
                return JSONResponse({"detail": f"invalid JSON: {error}"}, status_code=400)
            batch = isinstance(payload, dict) and "instances" in payload
            instances = payload["instances"] if batch else [payload]
            if not isinstance(instances, list) or not instances:
                return JSONResponse({"detail": "'instances' must be a non-empty list"}, status_code=422)
            rows, problems = validate(instances)
            if problems:
                return JSONResponse({"detail": problems}, status_code=422)
            if STATE["model"] is None:
                return JSONResponse({"detail": "model not loaded: " + (STATE["error"] or "loading")}, status_code=503)
            predictions = jsonable(STATE["model"].predict(rows))
            return {"predictions": predictions} if batch else {"prediction": predictions[0]}


        if __name__ == "__main__":
            uvicorn.run(app, host=os.environ.get("MODELPACK_HOST", "0.0.0.0"), port=int(os.environ.get("MODELPACK_PORT", "8080")),
                        log_config=None, access_log=False)
        """#

    /// The input rule, its own module so that it can be tested without the server's dependencies.
    static let inputs = #"""
        """modelpack's input rule: whether a value fits a declared input (Docs/METADATA.md#inputs)."""
        import math

        # The one input rule, the same as modelpack's InputFit (Sources/ModelPackCore/Metadata/InputFit.swift);
        # both pass the table Tests/ModelPackCoreTests/Fixtures/inputs/cases.json.
        FLOAT_LIMITS = {"float16": 65504.0, "bfloat16": 3.4028234663852886e38, "float32": 3.4028234663852886e38,
                        "float64": 1.7976931348623157e308}


        def kind_name(value):
            if value is None:
                return "null"
            if isinstance(value, bool):
                return "a boolean"
            if isinstance(value, int):
                return "an integer"
            if isinstance(value, float):
                return "a number"
            if isinstance(value, str):
                return "a string"
            return "a list" if isinstance(value, list) else "a mapping"


        def is_int(value):
            return isinstance(value, int) and not isinstance(value, bool)


        def finite(value, dtype):
            if not (is_int(value) or isinstance(value, float)):
                return f"must be a number, found {kind_name(value)}"
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                return "must be a finite number"
            limit = FLOAT_LIMITS.get(dtype, FLOAT_LIMITS["float64"])
            return None if abs(number) <= limit else f"holds {number}, outside the range of {dtype}"


        def element(value, dtype):
            if dtype == "bool":
                return None if isinstance(value, bool) else f"must hold true or false (dtype bool), found {kind_name(value)}"
            if dtype == "string":
                return None if isinstance(value, str) else f"must hold strings (dtype string), found {kind_name(value)}"
            if dtype.startswith("int") or dtype.startswith("uint"):
                if not is_int(value):
                    return f"must hold integers (dtype {dtype}), found {kind_name(value)}"
                bits = int(dtype.lstrip("uint") or 64)
                low, high = (0, 2 ** bits) if dtype.startswith("u") else (-(2 ** (bits - 1)), 2 ** (bits - 1))
                return None if low <= value < high else f"holds {float(value)}, outside the range of {dtype}"
            return finite(value, dtype)


        def tensor(value, shape, dtype, path):
            at = "" if not path else " at [" + "][".join(map(str, path)) + "]"
            depth = len(path)
            if shape is not None and depth == len(shape):
                if isinstance(value, list):
                    return f"has more than the {len(shape)} dimensions of its shape{at}"
                problem = element(value, dtype)
                return problem and problem + at
            if not isinstance(value, list):
                if shape is None and depth > 0:
                    problem = element(value, dtype)
                    return problem and problem + at
                return f"has {depth} dimensions{at}, the shape has {len(shape or [])}"
            if shape is not None and shape[depth] not in (None, -1) and len(value) != shape[depth]:
                return f"has {len(value)} at dimension {depth}{at}, the shape says {shape[depth]}"
            extent = None
            for i, item in enumerate(value):
                if isinstance(item, list):
                    if extent is not None and len(item) != extent:
                        return f"is ragged{at}: row {i} has {len(item)} values, row 0 has {extent}"
                    extent = len(item) if extent is None else extent
                problem = tensor(item, shape, dtype, path + [i])
                if problem:
                    return problem
            return None


        def category_text(value):
            if isinstance(value, bool):
                return "true" if value else "false"
            if is_int(value) or isinstance(value, str):
                return str(value)
            if isinstance(value, float):
                return repr(value)
            return None


        def check(value, spec):
            """Why `value` does not fit the input `spec`, or None."""
            kind = spec["type"]
            if kind == "float":
                return finite(value, "float64")
            if kind == "int":
                return None if is_int(value) else f"must be an integer, found {kind_name(value)}"
            if kind == "bool":
                return None if isinstance(value, bool) else f"must be true or false, found {kind_name(value)}"
            if kind == "string":
                return None if isinstance(value, str) else f"must be a string, found {kind_name(value)}"
            if kind == "categorical":
                text = category_text(value)
                if text is None:
                    return f"must be one of the categories, found {kind_name(value)}"
                categories = spec.get("categories") or []
                return None if not categories or text in categories else f"'{text}' is not one of {', '.join(categories)}"
            if kind == "tensor":
                if not isinstance(value, list):
                    return f"must be a (nested) list, found {kind_name(value)}"
                shape = spec.get("shape")
                return tensor(value, [None if d in (None, -1) else d for d in shape] if shape else None,
                              spec.get("dtype") or "float32", [])
            return None

        """#

    /// The runtime's files, by name, as they go into `runtime/` (build context and serve's cache).
    static let files: [(name: String, text: String)] = [
        ("server.py", server), ("modelpack_inputs.py", inputs), ("requirements.txt", requirements),
    ]
}
