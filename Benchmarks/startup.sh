#!/usr/bin/env bash
# Start-up cost of every command on the iris example, warm (the compile check's answer cached)
# against the same command with Python disabled (MODELPACK_PYTHON=, the floor), run alternately,
# medians of RUNS runs; plus the first, cold run. Target (issue 15): every command under 50 ms warm.
#   Benchmarks/startup.sh [RUNS]     (default 9; builds the release binary)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-9}
source Benchmarks/release-binary.sh
B=$MP
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export MODELPACK_CACHE=$WORK/cache
"$B" build Examples/iris-sklearn -o "$WORK/iris.zip" >/dev/null
python3 - "$B" "$WORK" "$RUNS" <<'PY'
import os, statistics, subprocess, sys, time
b, work, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
commands = [
    ["validate", "Examples/iris-sklearn"],
    ["build", "Examples/iris-sklearn", "-o", f"{work}/out.zip"],
    ["validate", f"{work}/iris.zip"],
    ["inspect", f"{work}/iris.zip"],
    ["inspect", f"{work}/iris.zip", "--manifest-only"],
    ["verify", f"{work}/iris.zip"],
    ["dockerfile", f"{work}/iris.zip", "-o", f"{work}/ctx", "--force"],
]
def once(args, env):
    start = time.perf_counter()
    subprocess.run([b, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)
    return time.perf_counter() - start
plain = dict(os.environ)
no_python = dict(os.environ, MODELPACK_PYTHON="")
print(f"{'command':46} {'cold ms':>8} {'warm ms':>8} {'no Python ms':>13} {'ratio':>6}")
for args in commands:
    subprocess.run(["rm", "-rf", f"{work}/cache"], check=True)
    cold = once(args, plain)
    warm, floor = [], []
    for _ in range(runs):  # alternately, so both see the same machine
        warm.append(once(args, plain))
        floor.append(once(args, no_python))
    w, f = statistics.median(warm) * 1000, statistics.median(floor) * 1000
    name = " ".join(a.replace(work, "$W") for a in args)
    print(f"{name:46} {cold * 1000:8.1f} {w:8.1f} {f:13.1f} {w / f:5.2f}x")
PY
