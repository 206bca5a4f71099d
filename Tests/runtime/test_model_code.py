"""The model directory's Python runs from its sources only (modelpack_inputs.sources_only), however
it is loaded (the server, `modelpack test`'s smoke run, predict and the batch engines'
load_model): a .pyc compiled from other code, beside an honest source or without one, is never
run, and no bytecode is written into the directory."""
import json
import os
import py_compile
import subprocess
import sys

import pytest
from conftest import RUNTIME, load_server
from fastapi.testclient import TestClient

sys.path.insert(0, str(RUNTIME))
import modelpack_inputs

INTERFACE = '''
import pkg


class Model:
    def predict(self, rows):
        return [row["x"] * pkg.FACTOR for row in rows]


def load_model():
    return Model()
'''

SERVING = {"name": "m", "version": "1", "inputs": [{"name": "x", "type": "float"}],
           "outputs": [{"name": "y", "type": "float"}], "example": [{"x": 1.5}]}
MODULES = ["interface", "pkg", "pkg.helper", "features"]  # the test models' modules, imported anew each time


def plant(source, pyc, tmp_path):
    """`source` compiled to an unchecked-hash .pyc at `pyc`, which Python runs without comparing it
    with any source (PEP 552)."""
    origin = tmp_path / f"other-{pyc.name}.py"
    origin.write_text(source)
    pyc.parent.mkdir(parents=True, exist_ok=True)
    py_compile.compile(str(origin), cfile=str(pyc), doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


def cached(source_file):
    """Where Python looks for a source's bytecode: __pycache__/NAME.<this interpreter's tag>.pyc,
    as importlib.util.cache_from_source names it without a pycache_prefix."""
    return source_file.parent / "__pycache__" / f"{source_file.stem}.{sys.implementation.cache_tag}.pyc"


def files(model):
    return sorted(str(p.relative_to(model)) for p in model.rglob("*"))


def through(runner, model, tmp_path):
    """The prediction for x=1.5 of the model as the runtime loads it, or why loading failed."""
    serving = tmp_path / "serving.json"
    serving.write_text(json.dumps(SERVING))
    for name in MODULES:
        sys.modules.pop(name, None)
    if runner == "load_model":  # as `modelpack predict` and the batch engines load it
        try:
            return modelpack_inputs.load_model(model).predict([{"x": 1.5}])[0]
        except Exception as error:
            return f"{type(error).__name__}: {error}"
    if runner == "server":
        server = load_server({"MODELPACK_MODEL_DIR": str(model), "MODELPACK_SERVING_JSON": str(serving)})
        with TestClient(server.app) as client:
            ready = client.get("/ready")
            if ready.status_code != 200:
                return ready.json()["detail"]["error"]
            return client.post("/predict", json={"x": 1.5}).json()["prediction"]
    run = subprocess.run([sys.executable, str(RUNTIME / "modelpack_smoke.py"), "--model", str(model),  # a new process
                          "--serving", str(serving), "--repeat", "1"], capture_output=True, text=True)
    report = json.loads(run.stdout)
    return report["predictions"][0] if run.returncode == 0 else report["failures"][0]


def runs_bytecode(model, module):
    """Whether plain Python, importing `module` from the model directory, runs the planted bytecode
    (so the test plants a real attack)."""
    code = f"import sys; sys.path.insert(0, {str(model)!r}); import {module}"
    return subprocess.run([sys.executable, "-E", "-c", code], capture_output=True).returncode == 0


@pytest.mark.parametrize("runner", ["load_model", "server", "smoke"])
def test_bytecode_beside_a_source_is_never_run(tmp_path, runner):
    model = tmp_path / "model"
    (model / "pkg").mkdir(parents=True)
    (model / "interface.py").write_text(INTERFACE)
    (model / "pkg" / "__init__.py").write_text("FACTOR = 2\n")
    marker = tmp_path / "bytecode-ran"
    evil = f"open({str(marker)!r}, 'a').close()\n"
    plant(evil + INTERFACE.replace("pkg.FACTOR", "-1"), cached(model / "interface.py"), tmp_path)
    plant(evil + "FACTOR = -1\n", cached(model / "pkg" / "__init__.py"), tmp_path)
    assert runs_bytecode(model, "interface") and marker.exists()
    marker.unlink()
    planted = files(model)
    assert through(runner, model, tmp_path) == 3.0  # interface.py's and pkg/__init__.py's own code
    assert not marker.exists()
    assert files(model) == planted  # and no bytecode written there


@pytest.mark.parametrize("runner", ["load_model", "server", "smoke"])
@pytest.mark.parametrize("module", ["features", "pkg.helper"])
def test_bytecode_without_a_source_is_not_importable(tmp_path, runner, module):
    model = tmp_path / "model"
    (model / "pkg").mkdir(parents=True)
    (model / "pkg" / "__init__.py").write_text("FACTOR = 2\n")
    (model / "interface.py").write_text(f"import {module}\n" + INTERFACE)
    marker = tmp_path / "bytecode-ran"
    plant(f"open({str(marker)!r}, 'a').close()\n", model.joinpath(*module.split(".")).with_suffix(".pyc"), tmp_path)
    assert runs_bytecode(model, module) and marker.exists()
    marker.unlink()
    planted = files(model)
    assert f"ModuleNotFoundError: No module named '{module}'" in str(through(runner, model, tmp_path))
    assert not marker.exists()
    assert files(model) == planted


def test_only_the_model_directory_is_kept_from_bytecode(tmp_path):
    """sources_only touches the model directory's imports alone: a library outside it (here one
    whose planted bytecode says so, and the standard library's colorsys) still runs its cached
    bytecode, as every installed library must (a global sys.pycache_prefix would make them all
    compile from source at each start), while the model's module comes from its source, with
    __cached__ None and its own file and line in a traceback."""
    model = tmp_path / "model"
    model.mkdir()
    (model / "features.py").write_text("ORIGIN = 'source'\n\n\ndef fail():\n    raise ValueError('from features')\n")
    plant("ORIGIN = 'bytecode'\n", cached(model / "features.py"), tmp_path)
    library = tmp_path / "library"
    library.mkdir()
    (library / "somelib.py").write_text("ORIGIN = 'source'\n")
    plant("ORIGIN = 'bytecode'\n", cached(library / "somelib.py"), tmp_path)
    code = f"""
import importlib.machinery, importlib.util, json, os, sys, traceback
sys.path.insert(0, {str(RUNTIME)!r})
import modelpack_inputs
prefix = sys.pycache_prefix
modelpack_inputs.sources_only({str(model)!r})
sys.path[:0] = [{str(model)!r}, {str(library)!r}]
import colorsys, features, somelib
try:
    features.fail()
except ValueError as error:
    last = traceback.extract_tb(error.__traceback__)[-1]
print(json.dumps({{
    "prefix": [prefix, sys.pycache_prefix],
    "library": somelib.ORIGIN, "model": features.ORIGIN, "model_cached": features.__cached__,
    "model_loader": type(features.__loader__).__name__,
    "stdlib_loader": type(colorsys.__loader__) is importlib.machinery.SourceFileLoader,
    "stdlib_cached": [colorsys.__cached__, importlib.util.cache_from_source(colorsys.__file__),
                      os.path.join(os.path.dirname(colorsys.__file__), "__pycache__")],
    "traceback": [last.filename, last.lineno, last.line],
}}))
"""
    run = subprocess.run([sys.executable, "-E", "-v", "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["prefix"] == [None, None]
    assert report["library"] == "bytecode"  # the library's bytecode, read as Python reads it
    assert report["model"] == "source" and report["model_cached"] is None
    assert report["model_loader"] == "SourceOnlyLoader"
    assert report["traceback"] == [str(model / "features.py"), 5, "raise ValueError('from features')"]
    stdlib_cached, expected, folder = report["stdlib_cached"]
    assert report["stdlib_loader"] and stdlib_cached == expected and os.path.dirname(expected) == folder
    if os.path.exists(expected):  # the standard library installed with its bytecode: it is read, not recompiled
        assert f"# {expected} matches" in run.stderr
