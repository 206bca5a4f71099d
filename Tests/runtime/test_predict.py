"""The batch runner's readers (modelpack predict): the streaming JSON array reader with a tiny
buffer, CSV cells converted by the declared types, and line numbers."""
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "Sources/ModelPackCore/Serving/runtime"
sys.path.insert(0, str(RUNTIME))
spec = importlib.util.spec_from_file_location("modelpack_predict", RUNTIME / "modelpack_predict.py")
predict = importlib.util.module_from_spec(spec)
spec.loader.exec_module(predict)

INPUTS = [{"name": "x", "type": "float"}, {"name": "n", "type": "int"}, {"name": "ok", "type": "bool"},
          {"name": "c", "type": "categorical", "categories": ["a", "b"]}, {"name": "t", "type": "tensor"}]


def test_a_json_array_is_read_element_by_element(tmp_path):
    rows = [{"x": i + 0.5, "s": "a, [b]\n \"c\""} for i in range(50)]
    path = tmp_path / "rows.json"
    path.write_text("\n[\n" + ",\n".join(json.dumps(r) for r in rows) + "\n]\n")
    for chunk in (1, 7, 1 << 20):
        read = list(predict.read_json_array(str(path), None, chunk=chunk))
        assert [r[2] for r in read] == rows
        assert [r[0] for r in read] == list(range(3, 53))  # the line each element starts on


def test_a_broken_json_array_names_its_line(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text('[{"x": 1},\n{"x": 2}\n{"x": 3}]')
    with pytest.raises(predict.BadInput, match=r"rows.json:3: expected ',' or '\]'"):
        list(predict.read_json_array(str(path), None, chunk=4))


def test_csv_cells_become_the_declared_types(tmp_path):
    path = tmp_path / "rows.csv"
    path.write_text('key,x,n,ok,c,t\nk1,1.5,2,true,a,"[1, 2]"\nk2,abc,2,true,a,[]\nk3,1,2.5,no,b,[]\n'
                    'k4,1,2,maybe,a,[]\n"k5\nmore",1,2,0,b,[3]\n')
    read = list(predict.read_csv(str(path), INPUTS, "key"))
    assert read[0] == (2, "k1", {"x": 1.5, "n": 2, "ok": True, "c": "a", "t": [1, 2]})
    assert read[1] == (3, "k2", "input 'x' 'abc' is not a number")
    assert read[2] == (4, "k3", "input 'n' '2.5' is not an integer")
    assert read[3] == (5, "k4", "input 'ok' 'maybe' is not true or false")
    assert read[4] == (6, "k5\nmore", {"x": 1.0, "n": 2, "ok": False, "c": "b", "t": [3]})  # a record over 2 lines


def test_nan_is_refused_not_written(tmp_path):
    for name in ("out.jsonl", "out.csv"):
        writer = predict.Writer(str(tmp_path / name), [{"name": "y", "type": "float"}])
        writer.write(1, 0.5)
        with pytest.raises(ValueError):
            writer.write(2, float("nan"))
        writer.abandon()
        assert list(tmp_path.iterdir()) == []


def test_the_batch_size_comes_from_the_metadata_unless_asked(tmp_path, monkeypatch):
    model = tmp_path / "model"
    model.mkdir()
    (model / "interface.py").write_text(
        "import os\n\n\nclass M:\n    def predict(self, rows):\n"
        "        with open(os.environ['BATCH_LOG'], 'a') as f:\n            f.write(f'{len(rows)}\\n')\n"
        "        return [r['x'] for r in rows]\n\n\ndef load_model():\n    return M()\n")
    rows = tmp_path / "rows.jsonl"
    rows.write_text("".join(json.dumps({"x": float(i)}) + "\n" for i in range(20)))
    for resources, asked, sizes in [({"batch_size": 7}, None, [7, 7, 6]), ({}, None, [20]),
                                    ({"batch_size": 7}, "9", [9, 9, 2])]:
        serving = tmp_path / "serving.json"
        serving.write_text(json.dumps({"inputs": [{"name": "x", "type": "float"}], "resources": resources}))
        log = tmp_path / "batches.log"
        log.write_text("")
        monkeypatch.setenv("BATCH_LOG", str(log))
        argv = ["modelpack_predict.py", "--model", str(model), "--serving", str(serving), "--input", str(rows),
                "--output", str(tmp_path / "out.jsonl")] + (["--batch-size", asked] if asked else [])
        monkeypatch.setattr(sys, "argv", argv)
        sys.modules.pop("interface", None)
        assert predict.main() == 0
        assert [int(n) for n in log.read_text().split()] == sizes


def smoke(tmp_path, interface, serving, *extra):
    """modelpack_smoke.py over a model of the test's own: (exit status, the JSON report, or the
    text with `--format text`)."""
    import subprocess

    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    (model / "interface.py").write_text(interface)
    (tmp_path / "serving.json").write_text(json.dumps(serving))
    run = subprocess.run([sys.executable, str(RUNTIME / "modelpack_smoke.py"), "--model", str(model), "--serving",
                          str(tmp_path / "serving.json"), "--repeat", "2", *extra], capture_output=True, text=True)
    return run.returncode, (run.stdout if extra else json.loads(run.stdout))


SMOKE_SERVING = {"name": "doubler", "version": "1.0.0", "inputs": [{"name": "x", "type": "float"}],
                 "outputs": [{"name": "y", "type": "float"}], "example": [{"x": 1.5}, {"x": 2}],
                 "example_outputs": [3.0, 4.0]}
DOUBLER = "class M:\n    def predict(self, rows):\n        return [r['x'] * 2 for r in rows]\n\n\n" \
          "def load_model():\n    return M()\n"


def test_the_smoke_test_passes_a_good_model_with_its_figures(tmp_path):
    status, report = smoke(tmp_path, DOUBLER, SMOKE_SERVING)
    assert status == 0 and report["failures"] == [], report
    assert report["predictions"] == [3.0, 4] and report["examples"] == 2
    assert report["load_seconds"] >= 0 and report["row_latency_ms"]["runs"] == 4 and report["peak_rss_mib"] > 0


def test_the_smoke_test_says_why_in_a_build_log(tmp_path):
    # The image's build step has no modelpack to render the report: --format text writes its lines.
    status, text = smoke(tmp_path, DOUBLER, SMOKE_SERVING, "--format", "text")
    assert status == 0 and re.fullmatch(r"doubler 1\.0\.0\npassed \(2 examples, load_model\(\) [0-9.]+ s, "
                                        r"peak memory [0-9.]+ MiB\)\n", text), text
    broken = DOUBLER.replace("* 2", "* 3")
    status, text = smoke(tmp_path, broken, SMOKE_SERVING, "--format", "text")
    assert status == 1 and text.splitlines() == [
        "doubler 1.0.0", "  FAILED: example 0: predicted 4.5, example_outputs says 3.0",
        "  FAILED: example 1: predicted 6, example_outputs says 4.0", "FAILED"]


def test_the_smoke_test_keeps_stdout_for_its_report(tmp_path):
    """What the model prints (Python's print, or a C library writing to descriptor 1) goes to stderr."""
    chatty = DOUBLER.replace("    return M()", "    print('loading')\n    import os\n    os.write(1, b'from C\\n')\n"
                                               "    return M()")
    status, report = smoke(tmp_path, chatty, SMOKE_SERVING)
    assert status == 0 and report["schema"] == "modelpack.test/1" and report["failures"] == [], report


def test_the_smoke_test_fails_on_each_kind_of_broken_model(tmp_path):
    cases = [
        ("import missing_module\n", SMOKE_SERVING, "load_model() failed: ModuleNotFoundError"),
        (DOUBLER.replace("* 2", "* 3"), SMOKE_SERVING, "example 0: predicted 4.5, example_outputs says 3.0"),
        (DOUBLER.replace("r['x'] * 2", "'two'"), dict(SMOKE_SERVING, example_outputs=None),
         "example 0: the prediction \"two\" does not fit output 'y': must be a number, found a string"),
        (DOUBLER.replace("for r in rows]", "for r in rows][:1]"), SMOKE_SERVING, "answered 1 predictions"),
        (DOUBLER.replace("r['x'] * 2", "float('nan')"), SMOKE_SERVING, "answered something that is not JSON"),
        (DOUBLER.replace("r['x'] * 2", "object()"), SMOKE_SERVING, "answered something that is not JSON"),
        (DOUBLER.replace("r['x'] * 2", "1 / 0"), SMOKE_SERVING, "predict() on the examples failed: ZeroDivisionError"),
        (DOUBLER, dict(SMOKE_SERVING, example=[{"x": "one"}]), "example 0: input 'x' must be a number, found a string"),
    ]
    for index, (interface, serving, failure) in enumerate(cases):
        (tmp_path / str(index)).mkdir()
        status, report = smoke(tmp_path / str(index), interface, serving)
        assert status == 1, (failure, report)
        assert any(failure in line for line in report["failures"]), (failure, report["failures"])


def test_without_examples_only_loading_is_checked(tmp_path):
    status, report = smoke(tmp_path, DOUBLER, dict(SMOKE_SERVING, example=None, example_outputs=None))
    assert status == 0 and "only load_model() was checked" in report["note"]
