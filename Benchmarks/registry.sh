#!/usr/bin/env bash
# Registry transfers on loopback (issue 12): modelpack push and pull of a SIZE_MIB artifact bundle
# against skopeo copy of the same artifact between an OCI layout and the same registry, run
# alternately RUNS times (medians, with peak RSS); the push of a new version whose weights did not
# change (bytes sent, time); inspect --manifest-only (requests, time). A fresh repository per run,
# an empty blob cache for every pull, and skopeo's blob-info cache removed before each of its runs
# so neither side mounts or skips what the other sent. modelpack fsyncs the bundle it pulls before
# renaming it into place; skopeo syncs nothing, so its pull is also shown followed by `sync -f`.
#   SIZE_MIB=1024 RUNS=3 Benchmarks/registry.sh     (builds the release binary; needs docker-registry, skopeo)
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-3}
source Benchmarks/release-binary.sh
B=$MP
W=$(mktemp -d)
REG_PID=""
cleanup() { [[ -n $REG_PID ]] && kill "$REG_PID" 2>/dev/null; rm -rf "$W"; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$W/config.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/registry}}
http: {addr: 127.0.0.1:$PORT}
YML
docker-registry serve "$W/config.yml" >"$W/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/v2/" >/dev/null && break; sleep 0.05; done
R=127.0.0.1:$PORT
mkdir -p "$W/model"
cp Examples/iris-sklearn/{interface.py,metadata.yaml,requirements.txt,model.joblib} "$W/model/"
head -c $((SIZE_MIB << 20)) /dev/urandom >"$W/model/weights.bin"
"$B" build "$W/model" -o "$W/v1.tar" >/dev/null
printf '\n# v2\n' >>"$W/model/interface.py"
"$B" build "$W/model" -o "$W/v2.tar" >/dev/null
export MODELPACK_CACHE=$W/cache
"$B" push "$W/v1.tar" "$R/bench/seed:1" >/dev/null
skopeo copy -q --src-tls-verify=false "docker://$R/bench/seed:1" "oci:$W/layout:m"
forget() { rm -rf /var/lib/containers/cache "$HOME/.local/share/containers/cache" "$W/cache"; }
measure() { # prints "seconds rss_kib" of the command
  /usr/bin/time -f "%e %M" -o "$W/time" "$@" >/dev/null 2>"$W/err" || { cat "$W/err" >&2; exit 1; }
  cat "$W/time"
}
: >"$W/rows"
for i in $(seq "$RUNS"); do
  forget; echo "mp-push $(measure "$B" push "$W/v1.tar" "$R/bench/mp$i:1")" >>"$W/rows"
  forget; echo "sk-push $(measure skopeo copy -q --insecure-policy --dest-tls-verify=false "oci:$W/layout:m" "docker://$R/bench/sk$i:1")" >>"$W/rows"
  forget; echo "mp-pull $(measure "$B" pull "$R/bench/mp$i:1" -o "$W/pulled.tar")" >>"$W/rows"
  cmp -s "$W/pulled.tar" "$W/v1.tar" || { echo "pulled bundle differs" >&2; exit 1; }
  rm -rf "$W/out"; forget
  echo "sk-pull $(measure skopeo copy -q --insecure-policy --src-tls-verify=false "docker://$R/bench/sk$i:1" "oci:$W/out:m")" >>"$W/rows"
  rm -rf "$W/out"; forget
  echo "sk-pull-sync $(measure sh -c "skopeo copy -q --insecure-policy --src-tls-verify=false docker://$R/bench/sk$i:1 oci:$W/out:m && sync -f $W/out")" >>"$W/rows"
  rm -rf "$W/out" "$W/pulled.tar"
done
first=$("$B" push "$W/v1.tar" "$R/bench/update:1" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')
start=$(date +%s.%N)
second=$("$B" push "$W/v2.tar" "$R/bench/update:2" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')
update_s=$(python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')")
: >"$W/inspect"
for _ in $(seq 9); do
  s=$(date +%s.%N)
  "$B" inspect "oci://$R/bench/update:2" --manifest-only --json >"$W/inspect.json"
  e=$(date +%s.%N)
  n=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["requests"])' "$W/inspect.json")
  echo "$n $(python3 -c "print($e - $s)")" >>"$W/inspect"
done
python3 - "$W/rows" "$W/inspect" "$SIZE_MIB" "$first" "$second" "$update_s" "$RUNS" <<'PY'
import statistics, sys
rows, inspect, size, first, second, update_s, runs = sys.argv[1:]
data = {}
for line in open(rows):
    key, s, rss = line.split()
    data.setdefault(key, []).append((float(s), int(rss) / 1024))
def med(key, i):
    return statistics.median(v[i] for v in data[key])
print(f"{size} MiB artifact, loopback registry, medians of {runs} alternating runs")
print(f"{'operation':34} {'s':>7} {'RSS MiB':>8}   {'baseline':30} {'s':>7} {'RSS MiB':>8} {'ratio':>7}")
for op, mp, sk, base in [("push (bundle -> registry)", "mp-push", "sk-push", "skopeo copy oci: -> docker://"),
                         ("pull (registry -> bundle)", "mp-pull", "sk-pull", "skopeo copy docker:// -> oci:"),
                         ("pull (registry -> bundle)", "mp-pull", "sk-pull-sync", "the same + sync -f")]:
    a, b = med(mp, 0), med(sk, 0)
    print(f"{op:34} {a:7.2f} {med(mp, 1):8.1f}   {base:30} {b:7.2f} {med(sk, 1):8.1f} {a / b:6.2f}x")
first, second = int(first), int(second)
print(f"push of a new version, same weights: {second} bytes sent of {first} ({100 * second / first:.4f}%), {update_s} s")
lines = [line.split() for line in open(inspect)]
print(f"inspect --manifest-only: {lines[0][0]} requests, median {1000 * statistics.median(float(l[1]) for l in lines):.0f} ms (9 runs)")
PY
