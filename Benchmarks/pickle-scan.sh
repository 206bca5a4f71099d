#!/usr/bin/env bash
# The pickle scanner against a base revision: `modelpack scan` on pickles made of many small
# containers (500,000 dicts of an int, a string and a list: the worst case for the memo, which
# follows containers as they are filled) and on a 300-tree random forest (joblib, pickle protocols
# 2 and 5), with the base revision's release binary and this tree's, run alternately; medians of
# RUNS runs, peak RSS.
#   Benchmarks/pickle-scan.sh [BASE_REV] [RUNS]    (default: HEAD~1, 5 runs; needs python3 with
#                                                   scikit-learn and joblib)
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_REV=${1:-HEAD~1}
RUNS=${2:-5}
WORK=${BENCH_DIR:-/var/tmp/modelpack-pickle-bench}
rm -rf "$WORK" && mkdir -p "$WORK"
trap 'git worktree remove --force "$WORK/base" >/dev/null 2>&1 || true; rm -rf "$WORK"' EXIT
git worktree add -q --detach "$WORK/base" "$BASE_REV"
echo "building $BASE_REV and this tree (release)..." >&2
(cd "$WORK/base" && swift build -c release --product modelpack >/dev/null)
swift build -c release --product modelpack >/dev/null
BASE=$WORK/base/.build/release/modelpack
HEAD=$PWD/.build/release/modelpack
python3 - "$WORK" <<'PY'
import pickle, sys
work = sys.argv[1]
rows = [{"a": i, "b": str(i), "c": [i, i + 1, float(i)]} for i in range(500_000)]
for protocol in (2, 4):
    with open(f"{work}/rows_p{protocol}.pkl", "wb") as f:
        pickle.dump(rows, f, protocol=protocol)
import joblib
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier
x, y = load_digits(return_X_y=True)
forest = RandomForestClassifier(n_estimators=300, random_state=0).fit(x, y)
joblib.dump(forest, f"{work}/forest.joblib")
for protocol in (2, 5):
    with open(f"{work}/forest_p{protocol}.pkl", "wb") as f:
        pickle.dump(forest, f, protocol=protocol)
PY
python3 - "$BASE" "$HEAD" "$WORK" "$RUNS" "$BASE_REV" <<'PY'
import os, resource, statistics, subprocess, sys, time
base, head, work, runs, rev = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def once(binary, path):
    start = time.perf_counter()
    p = subprocess.Popen([binary, "scan", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(p.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss / 1024
print(f"pickle scan, {os.cpu_count()} cores, medians of {runs} (base {rev})")
print(f"{'file':26} {'MiB':>6} {'base s':>8} {'head s':>8} {'ratio':>6} {'base RSS':>9} {'head RSS':>9} {'ratio':>6}")
for name in ["rows_p2.pkl", "rows_p4.pkl", "forest.joblib", "forest_p5.pkl", "forest_p2.pkl"]:
    path = f"{work}/{name}"
    b, h = [], []
    for _ in range(runs):  # alternately, so both see the same machine
        b.append(once(base, path))
        h.append(once(head, path))
    bt, ht = statistics.median(x[0] for x in b), statistics.median(x[0] for x in h)
    br, hr = max(x[1] for x in b), max(x[1] for x in h)
    size = os.path.getsize(path) / (1 << 20)
    print(f"{name:26} {size:6.1f} {bt:8.3f} {ht:8.3f} {ht / bt:5.2f}x {br:8.1f}M {hr:8.1f}M {hr / br:5.2f}x")
PY
