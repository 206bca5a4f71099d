"""Loads the serving runtime (Sources/ModelPackCore/Serving/runtime) over a small model of the
test's own, as modelpack writes it into build contexts: the model directory, serving.json, and the
environment variables the runtime reads."""
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "Sources/ModelPackCore/Serving/runtime"

INTERFACE = '''
import time


class Model:
    def predict(self, rows):
        out = []
        for row in rows:
            if row.get("x") == 13:
                raise ValueError("unlucky row")
            if row.get("x") == 99:
                time.sleep(2)
            out.append(row["x"] * 2)
        return out


def load_model():
    return Model()
'''

SERVING = {
    "name": "doubler", "version": "1.0.0",
    "inputs": [{"name": "x", "type": "float", "dtype": "float32"}, {"name": "t", "type": "tensor", "shape": [-1, 2]}],
    "outputs": [{"name": "y", "type": "float"}],
}


def write_model(tmp: Path, interface: str = INTERFACE) -> dict:
    model = tmp / "model"
    model.mkdir()
    (model / "interface.py").write_text(interface)
    (tmp / "serving.json").write_text(json.dumps(SERVING))
    return {"MODELPACK_MODEL_DIR": str(model), "MODELPACK_SERVING_JSON": str(tmp / "serving.json")}


def load_server(env: dict):
    for key, value in env.items():
        os.environ[key] = value
    sys.modules.pop("server", None)
    spec = importlib.util.spec_from_file_location("server", RUNTIME / "server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server(tmp_path, monkeypatch):
    for key in ["MODELPACK_API_KEY", "MODELPACK_BODY_TIMEOUT", "MODELPACK_MAX_BODY_BYTES"]:
        monkeypatch.delenv(key, raising=False)
    env = write_model(tmp_path)
    for key in env:
        monkeypatch.setenv(key, env[key])
    return load_server(env)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def start(tmp_path):
    """Starts the runtime as the image runs it (python server.py, uvicorn) on a free loopback port."""
    processes = []

    def launch(workers=1, interface=INTERFACE, **extra):
        home = tmp_path / f"server{len(processes)}"
        home.mkdir()
        env = dict(os.environ, **write_model(home, interface), MODELPACK_HOST="127.0.0.1",
                   MODELPACK_PORT=str(free_port()), MODELPACK_WORKERS=str(workers), MODELPACK_BODY_TIMEOUT="1",
                   MODELPACK_GRACE_SECONDS="5")
        env.pop("MODELPACK_METRICS_DIR", None)
        env.update(extra)
        # The log goes to a file: a pipe nobody reads fills after a few hundred request lines and
        # then blocks the server.
        with open(home / "server.log", "w") as log:
            process = subprocess.Popen([sys.executable, str(RUNTIME / "server.py")], env=env, stderr=log)
        processes.append(process)
        base = f"http://127.0.0.1:{env['MODELPACK_PORT']}"
        import httpx
        for _ in range(200):
            try:
                if httpx.get(base + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        return base, process, int(env["MODELPACK_PORT"])

    yield launch
    for process in processes:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture
def running(start):
    return start(1)
