"""modelpack's pickle audit beside picklescan, modelscan and fickling (PyPI), on the same corpora:
the malicious pickles of Tests/ModelPackCoreTests/Fixtures/pickles/malicious (built byte by byte
by make_malicious.py) and the benign artifacts of .../benign plus the two example models. Prints
detection on the malicious set, false positives on the benign set and time, then which tool
caught which file. Exits 1 unless modelpack detects everything any other tool detects, with no
false positive.

    python3 -m pip install picklescan modelscan fickling
    swift build -c release && python3 Benchmarks/compare-scanners.py [path/to/modelpack]

A detection is: picklescan, at least one Dangerous global (its Suspicious level is not counted);
modelscan, at least one issue; fickling, is_likely_safe() is False; modelpack, verdict dangerous.
On the benign set, modelpack counts as a false positive on anything but "safe" (unknown included).
"""
import json
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "Tests/ModelPackCoreTests/Fixtures/pickles"
MALICIOUS = sorted((CORPUS / "malicious").iterdir())
BENIGN = sorted((CORPUS / "benign").iterdir()) + [ROOT / "Examples/iris-sklearn/model.joblib", ROOT / "Examples/churn-sklearn/model.joblib"]


def picklescan_tool():
    from picklescan.scanner import scan_file_path

    def detect(path):
        return scan_file_path(str(path)).infected_files > 0

    return "picklescan", version("picklescan"), detect


def modelscan_tool():
    from modelscan.modelscan import ModelScan

    def detect(path):
        return len(ModelScan().scan(str(path))["issues"]) > 0

    return "modelscan", version("modelscan"), detect


def fickling_tool():
    import fickling

    def detect(path):
        return not fickling.is_likely_safe(str(path))

    return "fickling", version("fickling"), detect


def run_python_tool(make):
    name, ver, detect = make()
    results, errors = {}, []
    start = time.perf_counter()
    for path in MALICIOUS + BENIGN:
        try:
            results[path] = bool(detect(path))
        except Exception as exc:  # a crash is not a detection
            results[path] = False
            errors.append(f"{path.name}: {type(exc).__name__}")
    return name, ver, results, errors, time.perf_counter() - start


def run_modelpack(binary):
    paths = MALICIOUS + BENIGN
    start = time.perf_counter()
    out = subprocess.run([binary, "scan", "--format", "json", *map(str, paths)], capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    document = json.loads(out.stdout)
    verdicts = {a["path"]: a["verdict"] for a in document["artifacts"]}
    results = {}
    for path in paths:
        verdict = verdicts[str(path)]
        results[path] = verdict == "dangerous" if path in MALICIOUS else verdict != "safe"
    ver = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    return "modelpack", ver, results, [], elapsed


def main() -> int:
    binary = sys.argv[1] if len(sys.argv) > 1 else str(ROOT / ".build/release/modelpack")
    runs = [run_modelpack(binary)] + [run_python_tool(t) for t in (picklescan_tool, modelscan_tool, fickling_tool)]
    print(f"{len(MALICIOUS)} malicious files, {len(BENIGN)} benign artifacts\n")
    print(f"{'tool':<11} {'version':<9} {'malicious detected':>19} {'benign flagged':>15} {'errors':>7} {'seconds':>8}")
    for name, ver, results, errors, elapsed in runs:
        detected = sum(results[p] for p in MALICIOUS)
        flagged = sum(results[p] for p in BENIGN)
        print(f"{name:<11} {ver:<9} {detected:>12}/{len(MALICIOUS):<6} {flagged:>8}/{len(BENIGN):<6} {len(errors):>7} {elapsed:>8.2f}")
    print("\nper malicious file (x = detected):")
    print(f"{'file':<44} " + " ".join(f"{r[0]:>10}" for r in runs))
    for path in MALICIOUS:
        print(f"{path.name[:44]:<44} " + " ".join(f"{'x' if r[2][path] else '-':>10}" for r in runs))
    flagged_benign = [(r[0], p.name) for r in runs for p in BENIGN if r[2][p]]
    if flagged_benign:
        print("\nbenign artifacts flagged: " + ", ".join(f"{t}: {n}" for t, n in flagged_benign))
    for name, _, _, errors, _ in runs:
        if errors:
            print(f"\n{name} errors: " + "; ".join(errors[:10]))
    mine = runs[0][2]
    missed = [p.name for p in MALICIOUS if not mine[p] and any(r[2][p] for r in runs[1:])]
    false_positives = [p.name for p in BENIGN if mine[p]]
    if missed or false_positives:
        print(f"\nFAIL: modelpack misses {missed} that another tool detects; false positives {false_positives}")
        return 1
    print("\nmodelpack detects everything any other tool detects, with no false positive on the benign set")
    return 0


if __name__ == "__main__":
    sys.exit(main())
