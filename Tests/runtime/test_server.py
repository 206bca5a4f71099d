"""The serving runtime, tested with FastAPI's TestClient and, for what needs a real server
(concurrency, slow bodies, SIGTERM), as a process on loopback."""
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
from conftest import RUNTIME, free_port, load_server, write_model
from fastapi.testclient import TestClient


def test_health_ready_metadata(server):
    with TestClient(server.app) as client:
        assert client.get("/health").json() == {"status": "ok"}
        assert client.get("/ready").json() == {"ready": True}
        assert client.get("/metadata").json()["name"] == "doubler"


def test_what_exists_after_the_model_loads_is_frozen_out_of_the_cyclic_collector(server):
    """A full collection walks every tracked object the process holds: with the model's and its
    libraries' objects frozen at start-up, a large request's garbage no longer costs a walk over them."""
    import gc

    gc.unfreeze()
    with TestClient(server.app):
        assert gc.get_freeze_count() > 1000
    gc.unfreeze()


def test_refusals_of_an_unknown_path_or_method_are_json_with_the_request_id(server):
    with TestClient(server.app) as client:
        unknown = client.get("/nowhere", headers={"X-Request-ID": "req-7"})
        assert unknown.status_code == 404
        assert unknown.json() == {"detail": "Not Found", "request_id": "req-7"}
        assert unknown.headers["x-request-id"] == "req-7"
        wrong = client.get("/predict")
        assert wrong.status_code == 405 and wrong.headers["allow"] == "POST"
        assert wrong.json()["request_id"] == wrong.headers["x-request-id"]


def test_the_model_card_is_served(server, tmp_path, monkeypatch):
    with TestClient(server.app) as client:
        monkeypatch.setenv("MODELPACK_CARD", str(tmp_path / "absent.md"))
        missing = client.get("/card")
        assert missing.status_code == 404 and missing.json()["request_id"]
        (tmp_path / "card.md").write_text("---\nlicense: mit\n---\n\n# doubler 1.0.0\n")
        monkeypatch.setenv("MODELPACK_CARD", str(tmp_path / "card.md"))
        card = client.get("/card")
        assert card.status_code == 200
        assert card.headers["content-type"].startswith("text/markdown")
        assert card.text.startswith("---\nlicense: mit")


def test_a_model_that_fails_to_load_is_not_ready(tmp_path):
    server = load_server(write_model(tmp_path, interface="import missing_module\n"))
    with TestClient(server.app) as client:
        assert client.get("/health").status_code == 200  # liveness
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert "ModuleNotFoundError" in json.dumps(ready.json())
        assert ready.json()["request_id"]


def test_predictions_and_every_element_is_checked(server):
    with TestClient(server.app) as client:
        ok = client.post("/predict", json={"instances": [{"x": 1, "t": [[1, 2]]}, [2.5, [[3, 4], [5, 6]]]]})
        assert ok.status_code == 200, ok.text
        assert ok.json() == {"predictions": [2, 5.0]}
        for bad, message in [
            ({"x": 1, "t": [[1, 2], [3, "x"]]}, "found a string at [1][1]"),  # deep, not the first element
            ({"x": 1, "t": [[1, 2], [3]]}, "ragged"),
            ({"x": 1, "t": [[1e308, 2]]}, "outside the range of float32"),
            ({"x": 1, "t": [[None, 2]]}, "found null"),
            ({"x": 1e308, "t": [[1, 2]]}, "holds 1e+308, outside the range of float32"),  # a float32 scalar
        ]:
            answer = client.post("/predict", json=bad)
            assert answer.status_code == 422, bad
            assert message in answer.text, answer.text
            assert answer.json()["request_id"]


def test_a_model_error_is_json_counted_and_logged(capfd, server):
    with TestClient(server.app, raise_server_exceptions=False) as client:
        for _ in range(3):
            answer = client.post("/predict", json={"x": 13, "t": [[1, 2]]}, headers={"X-Request-ID": "req-13"})
            assert answer.status_code == 500
            assert answer.headers["content-type"].startswith("application/json")
            assert answer.json()["request_id"] == "req-13"
            assert "Traceback" not in answer.text and "unlucky" not in answer.text
        metrics = client.get("/metrics").text
        assert 'modelpack_errors_total{path="/predict",status="500"} 3' in metrics
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    failures = [line for line in lines if line.get("status") == 500]
    assert len(failures) == 3
    assert failures[0]["request_id"] == "req-13" and failures[0]["error"] == "ValueError"
    assert "unlucky row" in failures[0]["traceback"]


def test_deep_nesting_is_a_400(server):
    with TestClient(server.app) as client:
        answer = client.post("/predict", content=b"[" * 100_000 + b"]" * 100_000)
        assert answer.status_code == 400
        assert "nested too deeply" in answer.text


def test_body_limits_and_api_key(server, monkeypatch):
    with TestClient(server.app) as client:
        big = client.post("/predict", content=b" " * (server.MAX_BODY + 1))
        assert big.status_code == 413
    monkeypatch.setenv("MODELPACK_API_KEY", "s3cret")
    keyed = load_server({})
    with TestClient(keyed.app) as client:
        assert client.post("/predict", json={"x": 1, "t": [[1, 2]]}).status_code == 401
        good = client.post("/predict", json={"x": 1, "t": [[1, 2]]}, headers={"X-API-Key": "s3cret"})
        assert good.status_code == 200


def test_health_answers_while_a_prediction_runs(running):
    base, _, _ = running
    slow = threading.Thread(target=lambda: httpx.post(base + "/predict", json={"x": 99, "t": [[1, 2]]}, timeout=10))
    slow.start()
    time.sleep(0.3)
    started = time.perf_counter()
    assert httpx.get(base + "/health", timeout=5).status_code == 200
    assert time.perf_counter() - started < 0.5  # the 2 s prediction runs on a worker thread
    slow.join()


def test_a_trickling_body_is_timed_out(running):
    _, _, port = running
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 100\r\n\r\n{")
        started = time.perf_counter()
        reply = s.recv(4096).decode()
    assert " 408 " in reply.split("\r\n")[0], reply
    assert time.perf_counter() - started < 5


def test_a_client_that_leaves_mid_body_is_one_log_line(running, tmp_path):
    base, _, port = running
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  b"X-Request-ID: gone-1\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(0.2)
    log = tmp_path / "server0" / "server.log"
    deadline = time.monotonic() + 5
    while "gone-1" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert httpx.get(base + "/health").status_code == 200
    text = log.read_text()
    assert "Traceback" not in text, text
    lines = [json.loads(line) for line in text.splitlines() if "gone-1" in line]
    assert len(lines) == 1 and lines[0]["message"] == "client disconnected", text


def test_sigterm_finishes_in_flight_requests(running):
    base, process, _ = running
    results = []
    slow = threading.Thread(
        target=lambda: results.append(httpx.post(base + "/predict", json={"x": 99, "t": [[1, 2]]}, timeout=10)))
    slow.start()
    time.sleep(0.3)
    process.send_signal(signal.SIGTERM)
    slow.join()
    assert results and results[0].status_code == 200 and results[0].json() == {"prediction": 198}
    assert process.wait(timeout=10) == 0


def test_metrics_count_every_worker(start, tmp_path):
    shared = tmp_path / "metrics"
    shared.mkdir()
    base, _, _ = start(2, MODELPACK_METRICS_DIR=str(shared))
    sent = 0
    while sent < 20 or (len(list(shared.glob("*.json"))) < 2 and sent < 200):
        with httpx.Client() as client:  # a new connection each time, so both workers answer some
            assert client.post(base + "/predict", json={"x": 1, "t": [[1, 2]]}).status_code == 200
        sent += 1
    assert len(list(shared.glob("*.json"))) == 2  # two processes answered
    time.sleep(0.5)  # each worker writes its counts at most every 0.25 s
    for _ in range(3):  # whichever worker answers the scrape
        metrics = httpx.get(base + "/metrics").text
        assert f'modelpack_requests_total{{path="/predict",status="200"}} {sent}' in metrics, metrics
        assert f"modelpack_predict_latency_seconds_count {sent}" in metrics


# A path that, put into a label as it was asked for, ends the label and the line and adds a
# sample of the caller's choosing.
INJECTION = "/%22%7D%201%0Afake_metric%7Bpath%3D%22x%22%7D%201%0A%23"


def samples(text):
    """/metrics' lines, each checked to be a comment or one of the runtime's own samples."""
    lines = text.splitlines()
    assert all(line.startswith(("# HELP modelpack_", "# TYPE modelpack_", "modelpack_")) for line in lines), text
    return lines


def test_a_request_path_cannot_write_into_metrics(server):
    with TestClient(server.app) as client:
        assert client.get(INJECTION).status_code == 404
        lines = samples(client.get("/metrics").text)
    assert 'modelpack_requests_total{path="<unmatched>",status="404"} 1' in lines
    assert not any("fake_metric" in line for line in lines)


def test_unknown_paths_are_one_series_however_many(server):
    """3,000 distinct unknown paths leave /metrics as long as one did (only the count grows)."""
    with TestClient(server.app) as client:
        client.get("/metrics")  # its own series, present in both scrapes below
        client.get("/nowhere/0")
        one = client.get("/metrics").text
        for i in range(1, 3000):
            assert client.get(f"/nowhere/{i}").status_code == 404
        many = client.get("/metrics").text
    assert len(samples(many)) == len(samples(one)) and len(many) < len(one) + 16
    assert 'modelpack_requests_total{path="<unmatched>",status="404"} 3000' in many


def test_metrics_count_routes_by_template(server):
    """A route with parameters is one series, its template; a wrong method counts under the route
    it asked; Starlette's own routes (/openapi.json) are counted by theirs too."""
    server.app.add_api_route("/items/{item}", lambda item: {"item": item}, methods=["GET"])
    with TestClient(server.app) as client:
        assert [client.get(f"/items/{i}").json() for i in ("a", "b")] == [{"item": "a"}, {"item": "b"}]
        assert client.get("/predict").status_code == 405
        assert client.get("/openapi.json").status_code == 200
        lines = samples(client.get("/metrics").text)
    assert 'modelpack_requests_total{path="/items/{item}",status="200"} 2' in lines
    assert 'modelpack_requests_total{path="/predict",status="405"} 1' in lines
    assert 'modelpack_requests_total{path="/openapi.json",status="200"} 1' in lines
    assert not any("/items/a" in line for line in lines)


def test_every_label_value_is_escaped(server, tmp_path):
    """Backslash, double quote and newline, as the text format escapes them, in every label; also
    for counts read from another worker's file (MODELPACK_METRICS_DIR)."""
    hostile = 'a"b\\c\nd'
    escaped = 'a\\"b\\\\c\\nd'
    metrics = server.Metrics()
    metrics.observe(hostile, 500, 0.01, caller=hostile, rows=2)
    text = metrics.render()
    for sample in [f'modelpack_requests_total{{path="{escaped}",status="500"}} 1',
                   f'modelpack_errors_total{{path="{escaped}",status="500"}} 1',
                   f'modelpack_key_requests_total{{key="{escaped}",status="500"}} 1',
                   f'modelpack_key_rows_total{{key="{escaped}"}} 2',
                   f'modelpack_key_latency_seconds_count{{key="{escaped}"}} 1']:
        assert sample in text.splitlines(), text
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "other.json").write_text(json.dumps(metrics.state()))
    shared = server.Metrics(tmp_path / "metrics").render()
    assert f'modelpack_requests_total{{path="{escaped}",status="500"}} 1' in shared.splitlines(), shared
    assert len(shared.splitlines()) == len(text.splitlines())


def test_metrics_labels_are_templates_across_workers(start, tmp_path):
    """With several workers, what each writes to MODELPACK_METRICS_DIR and what /metrics sums are
    route templates: unknown paths, one asking to inject a line among them, stay one series."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    base, _, _ = start(2, MODELPACK_METRICS_DIR=str(shared))
    paths = [INJECTION] + [f"/nowhere/{i}" for i in range(300)]
    with httpx.Client(headers={"Connection": "close"}) as client:  # a new connection each time: both workers answer
        for path in paths:
            assert client.get(base + path).status_code == 404
        deadline = time.monotonic() + 30
        while len(list(shared.glob("*.json"))) < 2 and time.monotonic() < deadline:
            paths.append(f"/elsewhere/{len(paths)}")
            assert client.get(base + paths[-1]).status_code == 404
        assert len(list(shared.glob("*.json"))) == 2  # two processes answered
        unmatched = f'modelpack_requests_total{{path="<unmatched>",status="404"}} {len(paths)}'
        deadline = time.monotonic() + 10
        while True:  # until every count is in: each worker writes its own at most every 0.25 s (later when busy)
            lines = samples(client.get(base + "/metrics").text)
            if unmatched in lines or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert unmatched in lines, lines
        allowed = {f'modelpack_requests_total{{path="{path}",status="{status}"}}'
                   for path, status in [("/ready", 200), ("/metrics", 200), ("<unmatched>", 404)]}
        for _ in range(3):  # whichever worker answers the scrape (the other's counts a moment old)
            lines = samples(client.get(base + "/metrics").text)
            series = {line.rsplit(" ", 1)[0] for line in lines if line.startswith("modelpack_requests_total{")}
            assert series <= allowed, lines
    for file in shared.glob("*.json"):
        assert "where/" not in file.read_text() and "fake_metric" not in file.read_text()


def test_workers_end_with_their_supervisor(start):
    base, process, port = start(2)
    assert httpx.get(base + "/ready").status_code == 200
    process.kill()  # SIGKILL: the supervisor cannot stop its workers itself
    process.wait(timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            return  # nothing listens any more: the workers are gone
        time.sleep(0.2)
    raise AssertionError("a worker outlived its supervisor and still holds the port")


def test_sagemaker_routes_are_ready_and_predict(server, tmp_path):
    """SageMaker's GET /ping is /ready and POST /invocations is /predict (same checks, same metrics)."""
    with TestClient(server.app) as client:
        assert client.get("/ping").json() == {"ready": True}
        answer = client.post("/invocations", json={"instances": [{"x": 1, "t": [[1, 2]]}]})
        assert answer.status_code == 200 and answer.json() == {"predictions": [2]}
        assert client.post("/invocations", json={"x": "one", "t": [[1, 2]]}).status_code == 422
        metrics = client.get("/metrics").text
        assert 'modelpack_requests_total{path="/invocations",status="200"} 1' in metrics
        assert "modelpack_predict_latency_seconds_count 2" in metrics
    (tmp_path / "broken").mkdir()
    broken = load_server(write_model(tmp_path / "broken", interface="import missing_module\n"))
    with TestClient(broken.app) as client:
        assert client.get("/ping").status_code == 503


def test_vertex_ai_routes_come_from_its_variables(tmp_path, monkeypatch):
    monkeypatch.setenv("AIP_HEALTH_ROUTE", "/v1/endpoints/7/deployedModels/8")
    monkeypatch.setenv("AIP_PREDICT_ROUTE", "/v1/endpoints/7/deployedModels/8:predict")
    vertex = load_server(write_model(tmp_path))
    with TestClient(vertex.app) as client:
        assert client.get("/v1/endpoints/7/deployedModels/8").json() == {"ready": True}
        # Vertex AI's request: instances, and parameters the model does not take.
        answer = client.post("/v1/endpoints/7/deployedModels/8:predict",
                             json={"instances": [{"x": 2, "t": [[1, 2]]}], "parameters": {}})
        assert answer.status_code == 200 and answer.json() == {"predictions": [4]}
        assert client.get("/ready").status_code == 200  # the usual routes stay


def test_the_image_command_listens_on_aip_http_port(tmp_path):
    """As Vertex AI and SageMaker start the image: `server.py serve`, on AIP_HTTP_PORT when it is set."""
    (tmp_path / "m").mkdir()
    port = free_port()
    env = dict(os.environ, **write_model(tmp_path / "m"), MODELPACK_HOST="127.0.0.1", MODELPACK_PORT=str(free_port()),
               AIP_HTTP_PORT=str(port), MODELPACK_WORKERS="1")
    process = subprocess.Popen([sys.executable, str(RUNTIME / "server.py"), "serve"], env=env,
                               stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                if httpx.get(f"http://127.0.0.1:{port}/ping", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        answer = httpx.post(f"http://127.0.0.1:{port}/invocations", json={"x": 3, "t": [[1, 2]]})
        assert answer.json() == {"prediction": 6}
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0
    wrong = subprocess.run([sys.executable, str(RUNTIME / "server.py"), "train"], env=env, capture_output=True,
                           text=True)
    assert wrong.returncode == 2 and "usage: server.py [serve]" in wrong.stderr


FUZZ_INTERFACE = '''
class Model:
    """Uses every input as its declared type says, so an instance the check let through that the
    type does not allow fails here (a 500, which schemathesis reports)."""

    def predict(self, rows):
        out = []
        for row in rows:
            flat = [v for line in row["t"] for v in line]
            assert all(isinstance(v, int) and -128 <= v <= 127 for v in flat)
            total = row["x"] / 2 + row["n"] + (1 if row["b"] else 0) + len(row["s"]) + sum(flat)
            category = {True: "true", False: "false"}.get(row["c"], str(row["c"])) if isinstance(row["c"], bool) \
                else str(row["c"])
            out.append({"a": "low", "1": "high", "true": "high"}[category] if total < 1e300 else "high")
        return out


def load_model():
    return Model()
'''

FUZZ_SERVING = {
    "name": "fuzz", "version": "1.0.0",
    "inputs": [{"name": "x", "type": "float"}, {"name": "n", "type": "int"}, {"name": "b", "type": "bool"},
               {"name": "s", "type": "string"}, {"name": "c", "type": "categorical", "categories": ["a", "1", "true"]},
               {"name": "t", "type": "tensor", "shape": [-1, 2], "dtype": "int8"}],
    "outputs": [{"name": "label", "type": "categorical", "categories": ["low", "high"]}],
}


def contract_of(tmp_path, monkeypatch, serving=None, key=None):
    env = write_model(tmp_path)
    if serving:
        (tmp_path / "serving.json").write_text(json.dumps(serving))
    monkeypatch.delenv("MODELPACK_API_KEY", raising=False)
    if key:
        monkeypatch.setenv("MODELPACK_API_KEY", key)
    server = load_server(env)
    with TestClient(server.app) as client:
        return client.get("/openapi.json").json()


def test_docs_is_the_contract_as_a_page_that_fetches_nothing(tmp_path, monkeypatch):
    """GET /docs: every operation and schema of /openapi.json, every text escaped, no script and
    no other resource (its Content-Security-Policy allows none), with a key or without."""
    import re

    env = write_model(tmp_path)
    serving = json.loads((tmp_path / "serving.json").read_text()) if (tmp_path / "serving.json").exists() else None
    monkeypatch.setenv("MODELPACK_API_KEY", "s3cret")
    server = load_server(env)
    with TestClient(server.app) as client:
        contract = client.get("/openapi.json").json()
        page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy
    text = page.text
    assert "<script" not in text.lower() and not re.search(r"(src|href)=['\"]?(https?:)?//", text)
    for path, operations in contract["paths"].items():
        for method in operations:
            assert f"<code class='m'>{method}</code> <code>{path}</code>" in text
    for name in contract["components"]["schemas"]:
        assert f"<h3 id='{name}'>{name}</h3>" in text
    assert "Needs an API key" in text
    assert serving is None or serving["name"] in text


def test_openapi_is_a_valid_document_typed_from_the_metadata(tmp_path, monkeypatch):
    from openapi_spec_validator import validate as validate_spec

    document = contract_of(tmp_path, monkeypatch)
    validate_spec(document)
    assert document["info"]["title"] == "doubler"
    schemas = document["components"]["schemas"]
    mapping = schemas["Instance"]["anyOf"][0]
    assert mapping["required"] == ["x", "t"] and mapping["additionalProperties"] is False
    assert mapping["properties"]["t"] == {"type": "array", "items": {
        "type": "array", "items": {"type": "number", "minimum": -3.4028234663852886e38,
                                   "maximum": 3.4028234663852886e38}, "minItems": 2, "maxItems": 2}}
    for route in ["/predict", "/invocations"]:
        operation = document["paths"][route]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("PredictRequest")
        assert {"200", "400", "408", "413", "422", "500", "503"} <= set(operation["responses"])
        assert "401" not in operation["responses"] and "security" not in operation
    (tmp_path / "keyed").mkdir()
    keyed = contract_of(tmp_path / "keyed", monkeypatch, key="s3cret")
    validate_spec(keyed)
    assert keyed["paths"]["/predict"]["post"]["security"] == [{"bearer": []}, {"apiKey": []}]
    assert "401" in keyed["paths"]["/predict"]["post"]["responses"]


def test_the_schema_never_refuses_what_the_check_accepts():
    """Over the one input rule's table: every value the check accepts, the JSON Schema accepts (so
    a generated client never refuses a good instance); where the schema cannot say it (ragged
    tensors, 3.0 as an integer), the server's check still refuses with a 422."""
    import math

    from jsonschema import Draft202012Validator
    from modelpack_inputs import check, json_schema

    table = json.loads((RUNTIME.parents[3] / "Tests/ModelPackCoreTests/Fixtures/inputs/cases.json").read_text())
    looser, stricter = [], []
    for case in table["cases"]:
        value = case["value"]
        if isinstance(value, dict) and "$float" in value:
            value = float(value["$float"])
            if not math.isfinite(value):
                continue  # JSON cannot carry it; json.loads turns NaN/Infinity literals into these
        accepted = Draft202012Validator(json_schema(case["spec"])).is_valid(value)
        fits = check(value, case["spec"]) is None
        assert fits == case["fits"], case
        if fits and not accepted:
            stricter.append(case)
        if accepted and not fits:
            looser.append(case)
    assert not stricter, stricter
    # What a schema cannot say, and only that: 3.0 is a JSON Schema integer; rows of unequal length.
    assert [(c["spec"]["type"], c["value"]) for c in looser] == [
        ("int", {"$float": "3.0"}), ("int", {"$float": "3.0"}), ("tensor", [[1, 2], [3]])]  # int, int32


def test_schemathesis_finds_no_server_error_and_no_broken_contract(start, tmp_path):
    """schemathesis fuzzes a running server from its /openapi.json: no 5xx, every status and
    content type documented, every answer matching its schema."""
    import shutil

    serving = tmp_path / "fuzz-serving.json"
    serving.write_text(json.dumps(FUZZ_SERVING))
    base, _, _ = start(1, interface=FUZZ_INTERFACE, MODELPACK_SERVING_JSON=str(serving))
    schemathesis = shutil.which("schemathesis")
    assert schemathesis, "schemathesis is not installed (make runtime-test installs it)"
    run = subprocess.run(
        [schemathesis, "run", base + "/openapi.json", "--checks",
         "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
         "--max-examples", "100", "--generation-deterministic", "--no-color"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path)  # its cache goes there, not into the repository
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def keys_file(tmp_path, text):
    path = tmp_path / "keys.txt"
    path.write_text(text)
    return str(path)


def sha(key):
    import hashlib

    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def test_named_keys_are_counted_by_name_and_rate_limited(capfd, tmp_path, monkeypatch):
    env = write_model(tmp_path)
    monkeypatch.delenv("MODELPACK_API_KEY", raising=False)
    monkeypatch.setenv("MODELPACK_API_KEYS_FILE", keys_file(tmp_path, f"""# who may call the model
alice {sha("alice-secret-1")}
batch-job {sha("job-secret-2")} 2/min   # a nightly job
"""))
    server = load_server(env)
    row = {"x": 1, "t": [[1, 2]]}
    with TestClient(server.app) as client:
        assert client.post("/predict", json=row).status_code == 401
        assert client.post("/predict", json=row, headers={"X-API-Key": "alice-secret-"}).status_code == 401
        for _ in range(3):
            ok = client.post("/predict", json={"instances": [row, row]},
                             headers={"Authorization": "Bearer alice-secret-1"})
            assert ok.status_code == 200
        job = {"X-API-Key": "job-secret-2"}
        assert [client.post("/predict", json=row, headers=job).status_code for _ in range(2)] == [200, 200]
        limited = client.post("/predict", json=row, headers=job)
        assert limited.status_code == 429 and limited.json()["request_id"]
        assert 1 <= int(limited.headers["Retry-After"]) <= 30  # a token every 30 s
        assert "batch-job" in limited.json()["detail"] and "2/min" in limited.json()["detail"]
        metrics = client.get("/metrics").text
        contract = client.get("/openapi.json").json()
    assert 'modelpack_key_requests_total{key="alice",status="200"} 3' in metrics
    assert 'modelpack_key_rows_total{key="alice"} 6' in metrics
    assert 'modelpack_key_requests_total{key="batch-job",status="429"} 1' in metrics
    assert 'modelpack_key_latency_seconds_count{key="alice"} 3' in metrics
    assert "429" in contract["paths"]["/predict"]["post"]["responses"]
    logged = capfd.readouterr().err
    assert '"key": "alice"' in logged and '"key": "batch-job"' in logged
    assert "alice-secret-1" not in logged + metrics and "job-secret-2" not in logged + metrics


def test_a_bad_keys_file_stops_the_server_with_one_line(tmp_path):
    import subprocess
    import sys

    env = dict(os.environ, **write_model(tmp_path))
    env.pop("MODELPACK_API_KEY", None)
    for text, message in [
        ("alice sha256:abc\n", "keys.txt:1: 'sha256:abc' is not sha256: and 64 lowercase hex digits"),
        (f"alice {sha('a')}\nalice {sha('b')}\n", "keys.txt:2: key name 'alice' is given twice"),
        (f"alice {sha('a')} 5/day\n", "keys.txt:1: rate '5/day' is not N/s, N/min or N/h"),
        ("# nobody\n", "keys.txt: no keys"),
    ]:
        env["MODELPACK_API_KEYS_FILE"] = keys_file(tmp_path, text)
        run = subprocess.run([sys.executable, str(RUNTIME / "server.py")], env=env, capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == 2, (text, run.stderr)
        assert run.stderr.strip().startswith("error: ") and message in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    env["MODELPACK_API_KEYS_FILE"] = str(tmp_path / "absent.txt")
    run = subprocess.run([sys.executable, str(RUNTIME / "server.py")], env=env, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 2 and "absent.txt: No such file or directory" in run.stderr


def test_connections_have_nagle_off_on_a_socket_bound_as_uvicorn_binds_it(server):
    """uvicorn binds the listener for several workers with proto 0; asyncio then leaves Nagle on."""
    import asyncio

    import server as runtime

    async def accept():
        listener = socket.socket(socket.AF_INET)  # as uvicorn's Config.bind_socket makes it
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        seen = []

        class Probe(asyncio.Protocol):
            def connection_made(self, transport):
                sock = transport.get_extra_info("socket")
                seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                runtime.nagle_off(transport)
                seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        served = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        _, writer = await asyncio.open_connection(*listener.getsockname())
        while not seen:
            await asyncio.sleep(0.01)
        writer.close()
        served.close()
        return seen

    assert asyncio.run(accept()) == [0, 1]  # asyncio left it on; nagle_off turned it off
    assert issubclass(runtime.NoDelayHTTP, runtime.AutoHTTPProtocol)


def test_keep_alive_answers_are_not_held_back_with_several_workers(start):
    """Nagle's algorithm left on shows as an answer's body arriving a delayed ACK (>= 40 ms on
    Linux) after its headers, on every keep-alive request after the first."""
    _, _, port = start(2)
    gaps = []
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for _ in range(9):
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            received, headers_at = b"", None
            while True:
                received += sock.recv(65536)
                if headers_at is None and b"\r\n\r\n" in received:
                    headers_at = time.perf_counter()
                if received.endswith(b"}"):
                    break
            gaps.append(time.perf_counter() - headers_at)
    assert sorted(gaps)[len(gaps) // 2] < 0.02, gaps
