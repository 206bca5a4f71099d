"""Runs the serving runtime's input check (modelpack_inputs.py, as written into build contexts)
over the shared table of cases. usage: check_runtime.py RUNTIME_DIR cases.json"""
import json
import sys

sys.path.insert(0, sys.argv[1])
from modelpack_inputs import check  # (after the path is set)


def decode(value):
    if isinstance(value, dict) and set(value) == {"$float"}:
        return float(value["$float"])
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


with open(sys.argv[2]) as table:
    cases = json.load(table)["cases"]
failed = 0
for n, case in enumerate(cases):
    problem = check(decode(case["value"]), case["spec"])
    if (problem is None) != case["fits"]:
        failed += 1
        print(f"case {n}: {case} -> {problem!r}")
print(f"{len(cases) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
