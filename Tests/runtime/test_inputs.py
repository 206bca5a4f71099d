"""The input check of a batch (modelpack_inputs.validate): its column-wise fast path judges
exactly as check() does value by value, on random batches of good and bad values."""
import json
import math
import random
import sys
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "Sources/ModelPackCore/Serving/runtime"
sys.path.insert(0, str(RUNTIME))
import modelpack_inputs  # noqa: E402

INPUTS = [{"name": "x", "type": "float"}, {"name": "n", "type": "int"}, {"name": "ok", "type": "bool"},
          {"name": "s", "type": "string"}, {"name": "c", "type": "categorical", "categories": ["a", "1"]},
          {"name": "f32", "type": "float", "dtype": "float32"}, {"name": "i8", "type": "int", "dtype": "int8"},
          {"name": "u8", "type": "int", "dtype": "uint8"}]


def pool():
    """Every value of the input rule's table, and a few more that probe the fast path's edges."""
    table = json.loads((RUNTIME.parents[3] / "Tests/ModelPackCoreTests/Fixtures/inputs/cases.json").read_text())
    values = []
    for case in table["cases"]:
        value = case["value"]
        values.append(float(value["$float"]) if isinstance(value, dict) and "$float" in value else value)
    return [*values, 10 ** 400, -(10 ** 400), 1e308, -1e308, 1.7e308, -0.0, 0, True, False, "a", "1", "b", "",
            None, [1.0], {"x": 1}, math.inf, -math.inf, math.nan, 2 ** 63, "x" * 100, 3.4e38, -3.4e38, 3.5e38,
            1e39, 127, -128, 128, -129, 255, 256, -1]


def slow(instances, monkeypatch):
    monkeypatch.setattr(modelpack_inputs, "fitting_batch", lambda *_: None)
    try:
        return modelpack_inputs.validate(instances, INPUTS)
    finally:
        monkeypatch.undo()


def test_the_fast_path_judges_every_batch_as_check_does(monkeypatch):
    values = pool()
    good = {"x": [1.5, 2, -0.0, 1e308], "n": [0, 7, -3, 2 ** 62], "ok": [True, False], "s": ["", "a"],
            "c": ["a", "1"], "f32": [0.5, -3, 3.4e38], "i8": [-128, 0, 127], "u8": [0, 255]}
    generator = random.Random(7)
    accepted = 0
    for trial in range(3000):
        size = generator.choice([1, 2, 5, 50])
        instances = []
        for _ in range(size):
            instance = {spec["name"]: generator.choice(good[spec["name"]]) for spec in INPUTS}
            if generator.random() < 0.02 * (trial % 5):  # now and then one bad value, or a bad shape
                instance[generator.choice(list(instance))] = generator.choice(values)
            if generator.random() < 0.01:
                instance.pop(generator.choice(list(instance)))
            if generator.random() < 0.01:
                instance["extra"] = 1
            if generator.random() < 0.3:
                instance = [instance[name] for name in instance]  # the list form (a missing one makes it short)
            instances.append(instance)
        fast = modelpack_inputs.validate(instances, INPUTS)
        reference = slow(instances, monkeypatch)
        assert fast == reference, instances
        accepted += not fast[1]
    assert 300 < accepted < 2900  # both paths were exercised


def test_a_large_float_batch_takes_the_fast_path(monkeypatch):
    inputs = [{"name": n, "type": "float"} for n in "abcd"]
    instances = [{n: float(i % 7) + 0.5 for n in "abcd"} for i in range(10_000)]
    calls = []
    monkeypatch.setattr(modelpack_inputs, "check", lambda *a: calls.append(a))
    rows, problems = modelpack_inputs.validate(instances, inputs)
    assert problems == [] and rows == instances and calls == []  # no value went through check()
    instances[9_999]["d"] = math.nan
    monkeypatch.undo()
    rows, problems = modelpack_inputs.validate(instances, inputs)
    assert problems == [{"instance": 9999, "input": "d", "error": "must be a finite number"}]
