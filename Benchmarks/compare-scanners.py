"""modelpack's artifact audit beside picklescan, modelscan, fickling and ModelAudit (PyPI), on the
same corpora, in four groups:

    group    malicious (each one really does something when loaded,     benign
             see Tests/ModelPackCoreTests/Fixtures/README.md)
    pickles  pickles/malicious (make_malicious.py: classic payloads,    pickles/benign (make_benign*.py)
             allowlist bypasses, compressed joblib and pickles)         + the two examples' models
    arrays   arrays/malicious (object-dtype .npy and .npz)              arrays/benign
    onnx     onnx/malicious (external data in nested places)            onnx/tiny.onnx
             + onnx/escaping_external_data.onnx (graph.initializer)
    keras    keras/malicious (.keras configs that run code)             (none)

Prints, per group and in total, detections on the malicious files, false positives on the benign
ones, errors and time; then which tool caught which file, and the files another tool caught that
modelpack missed and the other way round. Exits 1 unless modelpack detects everything any other
tool detects, with no false positive.

    python3 -m venv .build/scanners
    .build/scanners/bin/pip install picklescan==1.0.5 fickling==0.1.12 py7zr==1.1.4 \\
        'modelaudit[onnx,h5,sevenzip,joblib]==0.2.54'
    python3 -m venv .build/scanners-modelscan
    .build/scanners-modelscan/bin/pip install modelscan==0.8.8 tensorflow-cpu==2.21.0 numpy==1.26.4
    swift build -c release
    .build/scanners/bin/python Benchmarks/compare-scanners.py .build/release/modelpack \\
        --python modelscan=.build/scanners-modelscan/bin/python

(`make compare` does this.) Each Python tool runs in a child process (`--worker TOOL`) of the
interpreter that `--python TOOL=PATH` names, this one otherwise. modelscan needs its own: it reads
.npy through numpy.lib.format._check_version, which numpy 2 no longer has, while ModelAudit 0.2.54
requires numpy 2.4 on Python 3.11; and its .keras check runs only where tensorflow imports.
Times are each tool's scans alone, its imports excluded.

What counts as a detection, for each tool:
- picklescan: scan_file_path finds at least one Dangerous global (its Suspicious level is not
  counted). An error: an exception, or the result's scan_err.
- modelscan: ModelScan().scan reports at least one issue (any severity). An error: an exception,
  or an entry in the report's errors. A file it skips (a format it does not read) is a miss.
- fickling: is_likely_safe() is False. An error: an exception.
- modelaudit: scan_model_directory_or_file (cache off) has a security finding by ModelAudit's own
  rule, the one behind its CLI's exit code 1: an issue of severity warning or critical, or a failed
  check of such a severity (info and debug do not count). An error: an exception, or a result for
  which its CLI exits 2 (an operational error, or an inconclusive scan); such a file still counts
  as detected when it has a security finding. The row ma-critical is the same scans counting only
  critical issues and checks (the analogue of picklescan's Dangerous level).
- modelpack: one `modelpack scan --format json` of every file; a malicious file is detected when
  its verdict is not "safe" and the audit reports an error for it (an error-severity diagnostic
  whose file is that path: what makes `scan` exit 1). A benign file is a false positive when its
  verdict is anything but "safe" or it has any diagnostic at all.
For every tool, a benign file it detects is a false positive, and a crash or a file it cannot
read is no detection (the errors are counted apart).
"""
import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "Tests/ModelPackCoreTests/Fixtures"
GROUPS = ("pickles", "arrays", "onnx", "keras")


def files(folder):
    return sorted(p for p in (FIXTURES / folder).iterdir() if p.is_file() and not p.name.startswith("."))


MALICIOUS = {
    "pickles": files("pickles/malicious"),
    "arrays": files("arrays/malicious"),
    "onnx": files("onnx/malicious") + [FIXTURES / "onnx/escaping_external_data.onnx"],
    "keras": files("keras/malicious"),
}
BENIGN = {
    "pickles": files("pickles/benign") + [ROOT / "Examples/iris-sklearn/model.joblib", ROOT / "Examples/churn-sklearn/model.joblib"],
    "arrays": files("arrays/benign"),
    "onnx": [FIXTURES / "onnx/tiny.onnx"],
    "keras": [],
}
ALL_MALICIOUS = [p for g in GROUPS for p in MALICIOUS[g]]
ALL_BENIGN = [p for g in GROUPS for p in BENIGN[g]]
PATHS = ALL_MALICIOUS + ALL_BENIGN


class Run:
    """One tool's results: detected[path] is a bool, finding[path] says why (for a detection),
    errors[path] says what went wrong."""

    def __init__(self, name, ver):
        self.name, self.version = name, ver
        self.detected, self.finding, self.errors = {}, {}, {}
        self.seconds = 0.0

    def record(self, path, detected, finding, error):
        self.detected[path] = bool(detected)
        if detected:
            self.finding[path] = short(finding or "detected")
        if error:
            self.errors[path] = error

    def to_json(self):
        return {"name": self.name, "version": self.version, "seconds": self.seconds, "files": {
            str(p): {"detected": self.detected[p], "finding": self.finding.get(p), "error": self.errors.get(p)} for p in self.detected}}

    @staticmethod
    def from_json(document):
        run = Run(document["name"], document["version"])
        run.seconds = document["seconds"]
        for path in PATHS:
            entry = document["files"][str(path)]
            run.record(path, entry["detected"], entry["finding"], entry["error"])
        return run


def label(path):
    return str(path.relative_to(FIXTURES if FIXTURES in path.parents else ROOT))


def short(text, limit=110):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def picklescan_tool():
    from picklescan.scanner import SafetyLevel, scan_file_path

    def scan(path):
        result = scan_file_path(str(path))
        dangerous = [f"{g.module}.{g.name}" for g in result.globals if g.safety == SafetyLevel.Dangerous]
        error = "scan_err" if result.scan_err else None
        return [(result.infected_files > 0, "Dangerous " + ", ".join(dangerous), error)]

    return ["picklescan"], version("picklescan"), scan


def modelscan_tool():
    from modelscan.modelscan import ModelScan

    def scan(path):
        report = ModelScan().scan(str(path))
        issues, errors = report.get("issues", []), report.get("errors", [])
        finding = "; ".join(f"{i.get('severity')} {i.get('module')}.{i.get('operator')}" for i in issues[:3])
        error = short(errors[0].get("description", errors[0]), 80) if errors else None
        return [(len(issues) > 0, finding, error)]

    return ["modelscan"], version("modelscan"), scan


def fickling_tool():
    import fickling

    def scan(path):
        return [(not fickling.is_likely_safe(str(path)), "is_likely_safe() False", None)]

    return ["fickling"], version("fickling"), scan


def modelaudit_tool():
    os.environ.setdefault("PROMPTFOO_DISABLE_TELEMETRY", "1")
    from modelaudit.core import determine_exit_code, scan_model_directory_or_file
    from modelaudit.core_results import results_have_operational_error, results_have_security_findings

    logging.getLogger("modelaudit").setLevel(logging.CRITICAL + 1)  # one log line per finding

    def severity(record):
        value = getattr(record, "severity", None)
        return str(getattr(value, "value", value) or "").lower()

    def failed(check):
        return str(getattr(check.status, "value", check.status)).lower() == "failed"

    def findings(result, levels):
        issues = sorted((i for i in result.issues if severity(i) in levels), key=lambda i: severity(i) != "critical")
        checks = [c for c in result.checks if failed(c) and severity(c) in levels]
        text = [f"{severity(i)}: {i.message}" for i in issues] + [f"{severity(c)} check: {c.message}" for c in checks]
        return "; ".join(text[:2])

    def scan(path):
        result = scan_model_directory_or_file(str(path), cache_enabled=False)
        error = None
        if determine_exit_code(result) == 2:
            kind = "operational error" if results_have_operational_error(result) else "inconclusive"
            messages = [i.message for i in result.issues if severity(i) not in ("critical", "warning")]
            error = kind + (": " + short(messages[0], 80) if messages else "")
        critical = findings(result, ("critical",))
        return [
            (results_have_security_findings(result), findings(result, ("critical", "warning")), error),
            (bool(critical), critical, error),
        ]

    return ["modelaudit", "ma-critical"], version("modelaudit"), scan


TOOLS = {"picklescan": picklescan_tool, "modelscan": modelscan_tool, "fickling": fickling_tool, "modelaudit": modelaudit_tool}


def worker(tool, out):
    """Runs one tool on every file in this interpreter and writes its runs as JSON to `out`
    (the tools print to stdout and stderr)."""
    names, ver, scan = TOOLS[tool]()
    runs = [Run(name, ver) for name in names]
    start = time.perf_counter()
    for path in PATHS:
        try:
            outcomes = scan(path)
        except Exception as exc:  # a crash is not a detection
            outcomes = [(False, "", f"{type(exc).__name__}: {short(exc, 80)}")] * len(runs)
        for run, (detected, finding, error) in zip(runs, outcomes):
            run.record(path, detected, finding, error)
    elapsed = time.perf_counter() - start
    for run in runs:
        run.seconds = elapsed
    Path(out).write_text(json.dumps([r.to_json() for r in runs]))


def run_python_tool(tool, python):
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "runs.json"
        child = subprocess.run([python, __file__, "--worker", tool, str(out)], capture_output=True, text=True)
        if child.returncode != 0 or not out.exists():
            sys.stderr.write(child.stdout[-3000:] + child.stderr[-3000:])
            raise SystemExit(f"{tool} ({python}) exited {child.returncode}")
        return [Run.from_json(d) for d in json.loads(out.read_text())]


def run_modelpack(binary):
    ver = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    run = Run("modelpack", ver)
    start = time.perf_counter()
    out = subprocess.run([binary, "scan", "--format", "json", *map(str, PATHS)], capture_output=True, text=True)
    run.seconds = time.perf_counter() - start
    if out.returncode not in (0, 1):
        raise SystemExit(f"modelpack scan exited {out.returncode}: {out.stderr.strip()}")
    document = json.loads(out.stdout)
    verdicts = {a["path"]: a["verdict"] for a in document["artifacts"]}
    diagnostics = {}
    for d in document["diagnostics"]:
        if d["file"] not in verdicts:
            raise SystemExit(f"modelpack: a diagnostic about no scanned file: {d}")
        diagnostics.setdefault(d["file"], []).append(d)
    for path in PATHS:
        verdict = verdicts.get(str(path))
        found = diagnostics.get(str(path), [])
        errors = [d for d in found if d["severity"] == "error"]
        if verdict is None:
            run.detected[path] = False
            run.errors[path] = "no artifact in the report"
        elif path in ALL_MALICIOUS:
            run.detected[path] = verdict != "safe" and bool(errors)
        else:
            run.detected[path] = verdict != "safe" or bool(found)
        if run.detected[path]:
            first = (errors or found or [{"code": "", "message": ""}])[0]
            run.finding[path] = short(f"{verdict}: {first['code']} {first['message']}")
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modelpack", nargs="?", default=str(ROOT / ".build/release/modelpack"))
    parser.add_argument("--python", action="append", default=[], metavar="TOOL=PATH", help="the interpreter to run TOOL in")
    parser.add_argument("--worker", nargs=2, metavar=("TOOL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    pythons = {tool: sys.executable for tool in TOOLS}
    for item in args.python:
        tool, _, python = item.partition("=")
        if tool not in TOOLS or not python:
            parser.error(f"--python {item}: expected one of {', '.join(TOOLS)}=PATH")
        pythons[tool] = python
    runs = [run_modelpack(args.modelpack)] + [r for tool in TOOLS for r in run_python_tool(tool, pythons[tool])]

    def count(run, paths):
        return f"{sum(run.detected[p] for p in paths)}/{len(paths)}"

    print(f"{len(ALL_MALICIOUS)} malicious files, {len(ALL_BENIGN)} benign artifacts")
    print("interpreters: " + ", ".join(f"{tool} {python}" for tool, python in pythons.items()))
    print("groups (malicious/benign): " + ", ".join(f"{g} {len(MALICIOUS[g])}/{len(BENIGN[g])}" for g in GROUPS) + "\n")
    benign_groups = [g for g in GROUPS if BENIGN[g]]
    header = f"{'':<11} {'':<8} | {'malicious detected':^39} | {'benign flagged':^28} |"
    print(header)
    print(
        f"{'tool':<11} {'version':<8} | "
        + " ".join(f"{g:>7}" for g in GROUPS)
        + f" {'total':>7} | "
        + " ".join(f"{g:>7}" for g in benign_groups)
        + f" {'total':>6} | {'errors':>6} {'seconds':>8}"
    )
    for run in runs:
        print(
            f"{run.name:<11} {run.version:<8} | "
            + " ".join(f"{count(run, MALICIOUS[g]):>7}" for g in GROUPS)
            + f" {count(run, ALL_MALICIOUS):>7} | "
            + " ".join(f"{count(run, BENIGN[g]):>7}" for g in benign_groups)
            + f" {count(run, ALL_BENIGN):>6} | {len(run.errors):>6} {run.seconds:>8.2f}"
        )

    print("ma-critical: the same ModelAudit scans, counting its critical findings only")

    print("\nper malicious file (x = detected, e = error and not detected, x! = detected with an error):")
    print(f"{'file':<52} " + " ".join(f"{r.name:>10}" for r in runs))
    for group in GROUPS:
        print(f"[{group}]")
        for path in MALICIOUS[group]:
            marks = [("x" if r.detected[path] else "e" if path in r.errors else "-") + ("!" if r.detected[path] and path in r.errors else "") for r in runs]
            print(f"{path.name[:52]:<52} " + " ".join(f"{m:>10}" for m in marks))

    for run in runs:
        flagged = [p for p in ALL_BENIGN if run.detected[p]]
        if flagged:
            print(f"\n{run.name} flags {len(flagged)} benign artifacts:")
            for p in flagged:
                print(f"  {label(p)}: {run.finding[p]}")
    for run in runs:
        if run.errors:
            print(f"\n{run.name} errors ({len(run.errors)}):")
            for p, e in run.errors.items():
                print(f"  {label(p)}: {e}")

    mine = runs[0]
    missed = [p for p in ALL_MALICIOUS if not mine.detected[p] and any(r.detected[p] for r in runs[1:])]
    false_positives = [p for p in ALL_BENIGN if mine.detected[p]]
    print("\nmalicious files another tool detects and modelpack misses:" + ("" if missed else " none"))
    for p in missed:
        for r in runs[1:]:
            if r.detected[p]:
                print(f"  {label(p)}: {r.name}: {r.finding[p]}")
    print("\nmalicious files modelpack detects and another tool misses:")
    for r in runs[1:]:
        only = [p.name for p in ALL_MALICIOUS if mine.detected[p] and not r.detected[p]]
        print(f"  {r.name} misses {len(only)}: " + ", ".join(only))
    if missed or false_positives:
        print(f"\nFAIL: modelpack misses {[p.name for p in missed]} that another tool detects; false positives {[p.name for p in false_positives]}")
        return 1
    print("\nmodelpack detects everything any other tool detects, with no false positive on the benign set")
    return 0


if __name__ == "__main__":
    sys.exit(main())
