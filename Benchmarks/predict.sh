#!/usr/bin/env bash
# Batch prediction throughput (issue 13): `modelpack predict` over ROWS iris rows (CSV in, JSON
# Lines out) against a hand-written pandas loop calling the same model (interface.load_model(),
# 1024-row chunks, JSON Lines out) in a virtualenv with the same requirements plus pandas, and
# against the same rows POSTed to `modelpack serve` in 1024-row batches over one keep-alive
# connection; alternately RUNS times, medians. Target: predict at least 0.8x the pandas loop.
#   ROWS=1000000 RUNS=3 Benchmarks/predict.sh     (builds the release binary; needs PyPI once)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
source Benchmarks/release-binary.sh
B=$MP
W=$(mktemp -d)
SERVER=""
cleanup() { [[ -n $SERVER ]] && kill "$SERVER" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
"$B" build Examples/iris-sklearn -o "$W/iris.zip" >/dev/null
python3 - "$W/rows.csv" "$ROWS" <<'PY'
import csv, random, sys
random.seed(1)
with open(sys.argv[1], "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width"])
    for _ in range(int(sys.argv[2])):
        w.writerow([round(random.uniform(4, 8), 1), round(random.uniform(2, 4.5), 1),
                    round(random.uniform(1, 7), 1), round(random.uniform(0.1, 2.5), 1)])
PY
head -3 "$W/rows.csv" >"$W/warm.csv"
"$B" predict "$W/iris.zip" -i "$W/warm.csv" -o "$W/warm.jsonl" -q 2>/dev/null  # the cached virtualenv
"$B" unpack "$W/iris.zip" -o "$W/model" >/dev/null
python3 -m venv "$W/base"
"$W/base/bin/pip" install -q -r "$W/model/requirements.txt" pandas
cat >"$W/pandas_loop.py" <<'PY'
import importlib.util, json, sys
import pandas as pd
model_dir, rows, out = sys.argv[1:4]
sys.path.insert(0, model_dir)
spec = importlib.util.spec_from_file_location("interface", model_dir + "/interface.py")
interface = importlib.util.module_from_spec(spec)
spec.loader.exec_module(interface)
model = interface.load_model()
with open(out, "w") as f:
    line = 2
    for chunk in pd.read_csv(rows, chunksize=1024):
        for p in model.predict(chunk.to_dict("records")):
            f.write(json.dumps({"id": line, "prediction": p}) + "\n")
            line += 1
PY
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
MODELPACK_WORKERS=1 "$B" serve "$W/iris.zip" --port "$PORT" >/dev/null 2>&1 &
SERVER=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null && break; sleep 0.2; done
cat >"$W/http_client.py" <<'PY'
import csv, http.client, json, sys
port, rows, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
connection = http.client.HTTPConnection("127.0.0.1", port)
with open(rows, newline="") as f, open(out, "w") as o:
    reader, line = csv.DictReader(f), 2
    batch = []
    def send():
        global line
        connection.request("POST", "/predict", json.dumps({"instances": batch}), {"Content-Type": "application/json"})
        for p in json.loads(connection.getresponse().read())["predictions"]:
            o.write(json.dumps({"id": line, "prediction": p}) + "\n")
            line += 1
    for r in reader:
        batch.append({k: float(v) for k, v in r.items()})
        if len(batch) == 1024:
            send()
            batch = []
    if batch:
        send()
PY
: >"$W/times"
now() { python3 -c 'import time; print(time.perf_counter())'; }
for _ in $(seq "$RUNS"); do
  s=$(now); "$B" predict "$W/iris.zip" -i "$W/rows.csv" -o "$W/predict.jsonl" -q 2>/dev/null; echo "predict $(python3 -c "print($(now) - $s)")" >>"$W/times"
  s=$(now); "$W/base/bin/python" "$W/pandas_loop.py" "$W/model" "$W/rows.csv" "$W/pandas.jsonl"; echo "pandas $(python3 -c "print($(now) - $s)")" >>"$W/times"
  s=$(now); python3 "$W/http_client.py" "$PORT" "$W/rows.csv" "$W/http.jsonl"; echo "http $(python3 -c "print($(now) - $s)")" >>"$W/times"
done
cmp -s "$W/predict.jsonl" "$W/pandas.jsonl" || echo "warning: predict and the pandas loop disagree" >&2
python3 - "$W/times" "$ROWS" "$RUNS" <<'PY'
import statistics, sys
times, rows, runs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = {}
for line in open(times):
    key, seconds = line.split()
    data.setdefault(key, []).append(float(seconds))
med = {k: statistics.median(v) for k, v in data.items()}
print(f"{rows} iris rows, CSV in, JSON Lines out, medians of {runs} alternating runs")
print(f"{'way':44} {'s':>8} {'rows/s':>10} {'vs pandas':>10}")
for key, name in [("predict", "modelpack predict (1024-row batches)"), ("pandas", "pandas loop, same model, 1024-row chunks"),
                  ("http", "modelpack serve, 1024-row POSTs, keep-alive")]:
    print(f"{name:44} {med[key]:8.2f} {rows / med[key]:10,.0f} {med['pandas'] / med[key]:9.2f}x")
PY
