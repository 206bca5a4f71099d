"""modelpack test (and the image's build step): load the model as the server does, predict the
metadata's examples through the server's own input check, compare with `example_outputs` when the
metadata gives them, and report load time, per-row latency and peak memory.

    modelpack_smoke.py --model DIR --serving serving.json [--repeat N] [--format json|text]

It returns data: the report is one JSON object (`modelpack.test/1`, Docs/CLI.md) on stdout, which
`modelpack test` renders; whatever the model prints goes to stderr. The image's build step, which
has no modelpack to render it, asks for `--format text`: one line per failure (`FAILED: ...`) that
a build log shows, or `passed`. Exit 0 when
everything passed, 1 on any failure (the model does not load, an example does not fit the inputs,
predict() raises or answers something that is not JSON or does not fit the output, a prediction
differs from its example output), 2 on a usage error.
"""
import argparse
import json
import math
import os
import resource
import statistics
import sys
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from modelpack_inputs import check, follow_supervisor, jsonable, load_model, validate  # the runtime's, beside this


def same(got, expected):
    """Equal as JSON values, numbers within a relative 1e-6 (a float32 model's answers vary in the last digits)."""
    if isinstance(got, bool) or isinstance(expected, bool):
        return got == expected
    if isinstance(got, (int, float)) and isinstance(expected, (int, float)):
        return math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(got, list) and isinstance(expected, list):
        return len(got) == len(expected) and all(same(a, b) for a, b in zip(got, expected))
    if isinstance(got, dict) and isinstance(expected, dict):
        return got.keys() == expected.keys() and all(same(got[k], expected[k]) for k in got)
    return got == expected


def run(model_dir, serving, repeat):
    """The report: what was measured, and every failure (an empty list when all passed)."""
    report = {"schema": "modelpack.test/1", "name": serving["name"], "version": serving["version"], "failures": []}
    failures = report["failures"]
    started = time.perf_counter()
    try:
        model = load_model(model_dir)
    except Exception as error:  # any failure to load is the finding
        failures.append(f"load_model() failed: {type(error).__name__}: {error}")
        report["traceback"] = traceback.format_exc()
        return report
    report["load_seconds"] = round(time.perf_counter() - started, 4)
    examples = serving.get("example") or []
    report["examples"] = len(examples)
    if not examples:
        report["note"] = "metadata.yaml has no example: only load_model() was checked"
        return report
    rows, problems = validate(examples, serving["inputs"])
    for problem in problems:
        where = f"input '{problem['input']}' " if "input" in problem else ""
        failures.append(f"example {problem['instance']}: {where}{problem['error']}")
    if problems:
        return report
    try:
        started = time.perf_counter()
        predictions = jsonable(model.predict(rows))
        batch_seconds = time.perf_counter() - started
    except Exception as error:  # as any failure of predict()
        failures.append(f"predict() on the examples failed: {type(error).__name__}: {error}")
        report["traceback"] = traceback.format_exc()
        return report
    try:
        json.dumps(predictions, allow_nan=False)
    except (TypeError, ValueError) as error:  # the server could not answer it either (a 500)
        failures.append(f"predict() answered something that is not JSON: {error}")
        return report
    if not isinstance(predictions, list) or len(predictions) != len(rows):
        count = len(predictions) if isinstance(predictions, list) else "not a list"
        failures.append(f"predict() on {len(rows)} examples answered {count} predictions")
        return report
    report["predictions"] = predictions
    outputs = serving.get("outputs") or []
    if len(outputs) == 1:
        for index, prediction in enumerate(predictions):
            problem = check(prediction, outputs[0])
            if problem:
                failures.append(f"example {index}: the prediction {json.dumps(prediction)} does not fit output "
                                f"'{outputs[0]['name']}': {problem}")
    expected = serving.get("example_outputs")
    if expected is not None:
        for index, (got, wanted) in enumerate(zip(predictions, expected)):
            if not same(got, wanted):
                failures.append(f"example {index}: predicted {json.dumps(got)}, "
                                f"example_outputs says {json.dumps(wanted)}")
    timings = []
    for _ in range(repeat):
        for row in rows:
            started = time.perf_counter()
            model.predict([row])
            timings.append(time.perf_counter() - started)
    report["row_latency_ms"] = {"median": round(statistics.median(timings) * 1000, 3),
                                "max": round(max(timings) * 1000, 3), "runs": len(timings)}
    report["batch_ms_per_row"] = round(batch_seconds * 1000 / len(rows), 3)
    return report


def as_text(report):
    """The report for a build log: the model, each failure on a line of its own, the verdict."""
    lines = [f"{report['name']} {report['version']}"] + [f"  FAILED: {failure}" for failure in report["failures"]]
    if report["failures"]:
        lines.append("FAILED")
    else:
        lines.append(f"passed ({report.get('examples', 0)} examples, load_model() {report['load_seconds']} s, "
                     f"peak memory {report['peak_rss_mib']} MiB)")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--serving", required=True)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--format", choices=("json", "text"), default="json")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    follow_supervisor()  # `modelpack test` waits for this process: it does not outlive it
    serving = json.loads(Path(args.serving).read_text(encoding="utf-8"))
    # stdout is the report's alone: the model's prints (Python's or a C library's) go to stderr,
    # as they are written (Python chose block buffering for the pipe it started with).
    report_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout.reconfigure(line_buffering=True, write_through=True)
    report = run(args.model, serving, args.repeat)
    report["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if "traceback" in report:
        print(report["traceback"], file=sys.stderr, end="")
    report.pop("traceback", None)
    sys.stdout.flush()
    report_out.write(json.dumps(report, sort_keys=True) + "\n" if args.format == "json" else as_text(report))
    report_out.close()
    return 1 if report["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
