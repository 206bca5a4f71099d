#!/usr/bin/env bash
# The iris example served by modelpack (`modelpack serve`, its default workers: the CPUs the
# machine or its cgroup allows), MLflow (`mlflow models serve`, its default one worker and two
# workers) and BentoML (`bentoml serve`, its default), one server at a time, all calling the same
# estimator. wrk on loopback, DURATION seconds a point after a 3 s warm-up, at 1, 8 and 64
# connections, single rows and batches of 100, and batches of 10,000 at 8 connections. While the
# 64-connection points run, a probe opens a new connection to the health route every 100 ms (as a
# Kubernetes probe does) and records its latency. RSS is the server's whole process tree, sampled
# at the end of each point (the largest sample). With ROUNDS > 1 the servers run again in the
# reverse order and the table gives medians. Prints one table with ratios against each peer.
#   Benchmarks/serve-compare.sh          (builds the release binary; needs wrk and PyPI once)
#   DURATION=15 ROUNDS=2 Benchmarks/serve-compare.sh
# Targets (issue 11): at least 2x MLflow's and BentoML's default requests/s and rows/s at 64
# connections for single rows and batches of 100; at least BentoML's rows/s on batches of 10,000;
# health p99 under 50 ms under every load; no error answers under load.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-1}
WORK=${WORK:-/var/tmp/modelpack-serve-compare}
MLFLOW=${MLFLOW:-mlflow==3.17.2}
BENTOML=${BENTOML:-bentoml==1.4.40}
command -v wrk >/dev/null || .ci/install-deps wrk
source Benchmarks/release-binary.sh
mkdir -p "$WORK"
SERVER=""
stop() {
  [[ -n $SERVER ]] || return 0
  # The whole tree: MLflow and BentoML start their workers as children.
  pkill -TERM -P "$SERVER" 2>/dev/null || true
  kill -TERM "$SERVER" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  SERVER=""
}
trap stop EXIT

# The peers' virtualenvs (kept between runs), with the model's own pins.
pins=(-r Examples/iris-sklearn/requirements.txt)
[[ -x $WORK/mlflow/bin/mlflow ]] || { python3 -m venv "$WORK/mlflow" && "$WORK/mlflow/bin/pip" install -q "$MLFLOW" "${pins[@]}"; }
[[ -x $WORK/bentoml/bin/bentoml ]] || { python3 -m venv "$WORK/bentoml" && "$WORK/bentoml/bin/pip" install -q "$BENTOML" "${pins[@]}"; }
mlflow_version=$("$WORK/mlflow/bin/python" -c 'import mlflow; print(mlflow.__version__)')
bentoml_version=$("$WORK/bentoml/bin/python" -c 'import bentoml; print(bentoml.__version__)')

# MLflow's model from the same estimator (its sklearn flavour, which predicts class indices).
rm -rf "$WORK/mlflow-model" "$WORK/bento"
"$WORK/mlflow/bin/python" - "$WORK/mlflow-model" <<'PY'
import sys, joblib, mlflow.sklearn
model = joblib.load("Examples/iris-sklearn/model.joblib")
mlflow.sklearn.save_model(model, sys.argv[1], serialization_format="cloudpickle")
PY
# BentoML's service calls the example's own interface (the same predict modelpack serves).
mkdir -p "$WORK/bento"
cat >"$WORK/bento/service.py" <<PY
import sys

import bentoml

sys.path.insert(0, "$PWD/Examples/iris-sklearn")


@bentoml.service
class Iris:
    def __init__(self) -> None:
        import interface

        self.model = interface.load_model()

    @bentoml.api
    def predict(self, instances: list[list[float]]) -> list[str]:
        return self.model.predict(instances)
PY
"$MP" build Examples/iris-sklearn -o "$WORK/iris.zip" >/dev/null

# The request bodies: the same random rows for every server, in each one's own request format.
python3 - "$WORK" <<'PY'
import json, random, sys
random.seed(7)
work = sys.argv[1]
def rows(n):
    return [[round(random.uniform(4, 8), 1), round(random.uniform(2, 4.5), 1),
             round(random.uniform(1, 7), 1), round(random.uniform(0.1, 2.5), 1)] for _ in range(n)]
for n in (1, 100, 10000):
    data = rows(n)
    bodies = {"modelpack": {"instances": data}, "mlflow": {"inputs": data}, "bentoml": {"instances": data}}
    for server, body in bodies.items():
        with open(f"{work}/{server}-{n}.json", "w") as f:
            json.dump(body, f)
        with open(f"{work}/{server}-{n}.lua", "w") as f:
            f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                    f'local file = io.open("{work}/{server}-{n}.json")\nwrk.body = file:read("*a")\nfile:close()\n')
PY
cat >"$WORK/probe.py" <<'PY'
"""GET URL on a new connection every 100 ms for SECONDS; prints p50, p99 and max in ms and the failures."""
import http.client, sys, time, urllib.parse
url, seconds = urllib.parse.urlparse(sys.argv[1]), float(sys.argv[2])
latencies, failures, end = [], 0, time.monotonic() + seconds
while time.monotonic() < end:
    start = time.perf_counter()
    try:
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
        connection.request("GET", url.path)
        ok = connection.getresponse().status == 200
        connection.close()
    except OSError:
        ok = False
    elapsed = (time.perf_counter() - start) * 1000
    latencies.append(elapsed) if ok else None
    failures += 0 if ok else 1
    time.sleep(max(0.0, 0.1 - elapsed / 1000))
latencies.sort()
pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")
print(f"{pick(0.5):.1f} {pick(0.99):.1f} {latencies[-1] if latencies else float('nan'):.1f} {failures}")
PY

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tree_rss_mib() {  # the RSS of $1 and all its descendants, in MiB
  local pids=$1 next=$1 kids
  while [[ -n $next ]]; do
    kids=$(for p in $next; do pgrep -P "$p" || true; done | tr '\n' ' ')
    pids="$pids $kids"; next=${kids% }
  done
  ps -o rss= -p "$(echo $pids | tr ' ' ',')" 2>/dev/null | awk '{s += $1} END {printf "%.0f", s / 1024}'
}

# start NAME PORT: starts the server, waits for its health route, appends the seconds it took to startup.
start() {
  local name=$1 port=$2 t0
  t0=$(date +%s.%N)
  case $name in
  modelpack)
    "$MP" serve "$WORK/iris.zip" --host 127.0.0.1 --port "$port" >"$WORK/$name.log" 2>&1 & ;;
  mlflow)  # it runs `uvicorn` from PATH
    PATH="$WORK/mlflow/bin:$PATH" "$WORK/mlflow/bin/mlflow" models serve -m "$WORK/mlflow-model" --env-manager local -h 127.0.0.1 \
      -p "$port" >"$WORK/$name.log" 2>&1 & ;;
  mlflow-2w)
    PATH="$WORK/mlflow/bin:$PATH" "$WORK/mlflow/bin/mlflow" models serve -m "$WORK/mlflow-model" --env-manager local -h 127.0.0.1 \
      -p "$port" -w 2 >"$WORK/$name.log" 2>&1 & ;;
  bentoml)
    (cd "$WORK/bento" && exec "$WORK/bentoml/bin/bentoml" serve service:Iris --host 127.0.0.1 \
      --port "$port") >"$WORK/$name.log" 2>&1 & ;;
  esac
  SERVER=$!
  for _ in $(seq 1200); do
    curl -sf -o /dev/null "http://127.0.0.1:$port$(health "$name")" && break
    kill -0 "$SERVER" 2>/dev/null || { echo "$name did not start:" >&2; tail -5 "$WORK/$name.log" >&2; exit 1; }
    sleep 0.1
  done
  awk -v n="$name" -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%s %.1f\n", n, b - a}' >>"$WORK/startup"
}
health() { case $1 in modelpack) echo /ready ;; mlflow*) echo /ping ;; bentoml) echo /readyz ;; esac; }
route() { case $1 in modelpack | bentoml) echo /predict ;; mlflow*) echo /invocations ;; esac; }
body() { case $1 in mlflow*) echo mlflow ;; *) echo "$1" ;; esac; }

# point NAME PORT CONNECTIONS ROWS: one wrk run; appends "name rows conns req/s errors p99 probe..." to results.
point() {
  local name=$1 port=$2 c=$3 n=$4 threads=2 out probe="- - - -" url
  ((c > 1)) || threads=1
  url="http://127.0.0.1:$port$(route "$name")"
  wrk -t"$threads" -c"$c" -d3s -s "$WORK/$(body "$name")-$n.lua" "$url" >/dev/null 2>&1 || true
  if ((c == 64)); then
    python3 "$WORK/probe.py" "http://127.0.0.1:$port$(health "$name")" "$DURATION" >"$WORK/probe.out" &
    local prober=$!
  fi
  out=$(wrk -t"$threads" -c"$c" -d"${DURATION}s" --timeout 10s --latency -s "$WORK/$(body "$name")-$n.lua" "$url")
  if ((c == 64)); then wait "$prober"; probe=$(cat "$WORK/probe.out"); fi
  local rps errors p99 rss
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {e += $NF} /Socket errors/ {gsub(/,/, ""); e += $4 + $6 + $8 + $10} END {print e + 0}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  rss=$(tree_rss_mib "$SERVER")
  echo "$name $n $c $rps $errors $p99 $probe $rss" >>"$WORK/results"
  printf '  %-10s %6s rows x %2s connections: %9s req/s, %s errors, p99 %s\n' "$name" "$n" "$c" "$rps" "$errors" "$p99" >&2
}

# A first run of modelpack makes its cached virtualenv; that is not what is measured.
: >"$WORK/startup"
port=$(free_port); start modelpack "$port"; stop
: >"$WORK/results"; : >"$WORK/startup"
servers=(modelpack mlflow mlflow-2w bentoml)
for round in $(seq "$ROUNDS"); do
  order=("${servers[@]}")
  ((round % 2)) || order=(bentoml mlflow-2w mlflow modelpack)
  for name in "${order[@]}"; do
    port=$(free_port)
    start "$name" "$port"
    for n in 1 100; do for c in 1 8 64; do point "$name" "$port" "$c" "$n"; done; done
    point "$name" "$port" 8 10000
    point "$name" "$port" 64 10000
    stop
  done
done

python3 - "$WORK" "$DURATION" "$ROUNDS" "$mlflow_version" "$bentoml_version" <<'PY'
import collections, statistics, sys
work, duration, rounds, mlflow_version, bentoml_version = sys.argv[1:6]
points = collections.defaultdict(list)
for line in open(f"{work}/results"):
    name, n, c, rps, errors, p99, p50h, p99h, maxh, failed, rss = line.split()
    points[(name, int(n), int(c))].append((float(rps), int(errors), p99, p50h, p99h, maxh, failed, int(rss)))
startup = collections.defaultdict(list)
for line in open(f"{work}/startup"):
    name, seconds = line.split()
    startup[name].append(float(seconds))
label = {"modelpack": "modelpack", "mlflow": f"mlflow {mlflow_version}", "mlflow-2w": f"mlflow {mlflow_version} -w 2",
         "bentoml": f"bentoml {bentoml_version}"}
med = lambda values: statistics.median(values)
def rows_per_s(key):
    return med([p[0] for p in points[key]]) * key[1]
print(f"iris, wrk on loopback, {duration} s a point, {rounds} round(s) (medians), {len(__import__('os').sched_getaffinity(0))} CPUs")
print(f"{'server':24} {'rows':>6} {'conns':>5} {'req/s':>9} {'rows/s':>10} {'errors':>6} {'p99':>8} "
      f"{'health p50/p99/max ms':>22} {'RSS MiB':>8} {'vs mlflow':>9} {'vs bento':>9}")
for name in ("modelpack", "mlflow", "mlflow-2w", "bentoml"):
    for n in (1, 100, 10000):
        for c in (1, 8, 64):
            key = (name, n, c)
            if key not in points:
                continue
            samples = points[key]
            rps = med([p[0] for p in samples])
            errors = sum(p[1] for p in samples)
            last = samples[-1]
            health = "-" if last[3] == "-" else f"{last[3]}/{last[4]}/{last[5]}" + (f" ({last[6]} failed)" if last[6] != "0" else "")
            rss = max(p[7] for p in samples)
            ratios = []
            for peer in ("mlflow", "bentoml"):
                peer_rows = rows_per_s((peer, n, c)) if (peer, n, c) in points else 0
                ratios.append(f"{rows_per_s(key) / peer_rows:.2f}x" if name == "modelpack" and peer_rows else "")
            print(f"{label[name]:24} {n:6} {c:5} {rps:9.1f} {rps * n:10.0f} {errors:6} {last[2]:>8} {health:>22} {rss:8} "
                  f"{ratios[0]:>9} {ratios[1]:>9}")
print("ready after start (s): " + ", ".join(f"{label[k]} {med(v):.1f}" for k, v in startup.items()))
PY
