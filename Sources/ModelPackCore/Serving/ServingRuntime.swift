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


        def check(value, spec):
            """Why `value` does not fit the input `spec`, or None."""
            kind = spec["type"]
            if kind == "float":
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
                return None if ok else "must be a finite number"
            if kind == "int":
                return None if isinstance(value, int) and not isinstance(value, bool) else "must be an integer"
            if kind == "bool":
                return None if isinstance(value, bool) else "must be true or false"
            if kind == "string":
                return None if isinstance(value, str) else "must be a string"
            if kind == "categorical":
                return None if value in spec["categories"] else "must be one of " + ", ".join(map(str, spec["categories"]))
            if kind == "tensor":
                dims, current = [], value
                while isinstance(current, list):
                    dims.append(len(current))
                    current = current[0] if current else None
                shape = spec.get("shape") or []
                if len(dims) != len(shape):
                    return f"must be a nested list of {len(shape)} dimensions"
                for have, want in zip(dims, shape):
                    if want not in (None, -1) and have != want:
                        return f"has a dimension of {have} where the shape says {want}"
            return None


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
}
