#!/usr/bin/env bash
# Container test: builds the iris example's CPU image from `modelpack dockerfile` with buildah (no
# Docker engine here; the build runs the model's smoke test as a step), runs the image's own command
# as its own user, and checks /health, known predictions, SageMaker's /ping and /invocations, the
# image's HEALTHCHECK and a 422; a model that does not load must fail the build (a rebuild after
# editing interface.py, whose other layers come from the cache). Reports the image size, the build
# time and the rebuild time.
#
# No registry can be reached, so python:3.11-slim is stood in for by a Debian 12 root filesystem with
# Python 3.11 made with debootstrap (cached in $STANDIN_CACHE). This follows the recipe of
# ../shared/tools/container-check.
#   Tests/container/build-and-serve.sh [path/to/modelpack]
set -euo pipefail
cd "$(dirname "$0")/../.."
MP=${1:-.build/debug/modelpack}
# A free loopback port unless one is given (a fixed one can be held by anything on the machine).
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
WORK=${WORK:-/var/tmp/modelpack-container-test}
CACHE=${STANDIN_CACHE:-/var/tmp/modelpack-standin}
B="buildah --storage-driver vfs"
command -v buildah >/dev/null && command -v debootstrap >/dev/null || .ci/install-deps buildah debootstrap
rm -rf "$WORK" && mkdir -p "$WORK" "$CACHE"

if [[ ! -f $CACHE/rootfs.tgz ]]; then
  echo "making the stand-in base image (debootstrap, about a minute)"
  rm -rf "$CACHE/rootfs"
  debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
    bookworm "$CACHE/rootfs" http://deb.debian.org/debian >"$CACHE/debootstrap.log" 2>&1
  ln -sf /usr/bin/python3 "$CACHE/rootfs/usr/local/bin/python"   # as in the official slim images
  rm -f "$CACHE"/rootfs/usr/lib/python3*/EXTERNALLY-MANAGED
  tar -C "$CACHE/rootfs" -czf "$CACHE/rootfs.tgz.part" . && mv "$CACHE/rootfs.tgz.part" "$CACHE/rootfs.tgz"
  rm -rf "$CACHE/rootfs"
fi
if ! $B images --format '{{.Name}}:{{.Tag}}' 2>/dev/null | grep -q 'docker.io/library/python:3.11-slim'; then
  mkdir -p "$WORK/standin" && cp "$CACHE/rootfs.tgz" "$WORK/standin/"
  printf 'FROM scratch\nADD rootfs.tgz /\nCMD ["python3"]\n' > "$WORK/standin/Dockerfile"
  $B bud --isolation chroot -q -t localhost/modelpack-standin "$WORK/standin" >/dev/null
  $B tag localhost/modelpack-standin docker.io/library/python:3.11-slim
fi

# No layer from an earlier run (this machine's or the one it was copied from): the first build
# must run every step, the smoke test among them, for the checks below to mean anything.
$B rmi -f localhost/modelpack-iris:cpu localhost/modelpack-iris:broken >/dev/null 2>&1 || true
$B rmi --prune >/dev/null 2>&1 || true

"$MP" build Examples/iris-sklearn -o "$WORK/iris.zip" >/dev/null
"$MP" dockerfile "$WORK/iris.zip" -o "$WORK/ctx"
build() {  # build TAG LOG
  $B bud --isolation chroot --pull=never --layers=true --force-rm --format docker \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    -v /etc/resolv.conf:/etc/resolv.conf:ro -t "$1" "$WORK/ctx" >"$2" 2>&1
}
bud() { build localhost/modelpack-iris:cpu "$WORK/bud.log" || { tail -30 "$WORK/bud.log"; exit 1; }; }
SECONDS=0; bud; build_seconds=$SECONDS
# The build ran modelpack test on the model (load_model() and the examples) as a step.
grep -Eq "^passed \(2 examples, load_model\(\) [0-9.]+ s, peak memory" "$WORK/bud.log" \
  || { echo "FAIL: the build did not run the model's smoke test"; tail -30 "$WORK/bud.log"; exit 1; }

container=$($B from --name "modelpack-iris-$$" localhost/modelpack-iris:cpu)
server=""
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null || true
  $B rm "$container" >/dev/null 2>&1 || true
}
trap cleanup EXIT
read -r user argv < <($B inspect --type image localhost/modelpack-iris:cpu | python3 -c '
import json, shlex, sys
c = json.load(sys.stdin)["OCIv1"]["config"]
print(c.get("User") or "-", shlex.join((c.get("Entrypoint") or []) + (c.get("Cmd") or [])))')
$B run --isolation chroot --user "$user" --env "MODELPACK_PORT=$PORT" "$container" -- sh -c "exec $argv" >"$WORK/serve.log" 2>&1 &
server=$!
for _ in $(seq 1 90); do curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null || { echo "FAIL: no /health"; tail -20 "$WORK/serve.log"; exit 1; }
predictions=$(curl -fsS -X POST -H 'content-type: application/json' \
  -d '{"instances": [[5.1, 3.5, 1.4, 0.2], [7.0, 3.2, 4.7, 1.4], [6.3, 3.3, 6.0, 2.5]]}' "http://127.0.0.1:$PORT/predict")
[[ $predictions == '{"predictions":["setosa","versicolor","virginica"]}' ]] || { echo "FAIL: predictions $predictions"; exit 1; }
# SageMaker's routes (the image's ENTRYPOINT + CMD is `server.py serve`, as SageMaker starts it).
[[ $(curl -fsS "http://127.0.0.1:$PORT/ping") == '{"ready":true}' ]] || { echo "FAIL: /ping"; exit 1; }
invoked=$(curl -fsS -X POST -H 'content-type: application/json' -d '{"instances": [[5.1, 3.5, 1.4, 0.2]]}' \
  "http://127.0.0.1:$PORT/invocations")
[[ $invoked == '{"predictions":["setosa"]}' ]] || { echo "FAIL: /invocations $invoked"; exit 1; }
# The image's HEALTHCHECK, run in the image against the server on the port it was given.
healthcheck=$($B inspect --type image localhost/modelpack-iris:cpu | python3 -c '
import json, shlex, sys
test = json.load(sys.stdin)["Docker"]["config"]["Healthcheck"]["Test"]
assert test[0] == "CMD", test
print(shlex.join(test[1:]))')
$B run --isolation chroot --user "$user" --env "MODELPACK_PORT=$PORT" "$container" -- sh -c "exec $healthcheck" \
  || { echo "FAIL: the HEALTHCHECK failed against a ready server"; exit 1; }
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"sepal_length": "x"}' "http://127.0.0.1:$PORT/predict")
[[ $status == 422 ]] || { echo "FAIL: malformed row gave $status"; exit 1; }
grep -q '"status": 200' "$WORK/serve.log" || { echo "FAIL: no JSON access log"; exit 1; }
card=$(curl -fsS "http://127.0.0.1:$PORT/card")
[[ $card == "---"* && $card == *"# iris-classifier 1.0.0"* ]] || { echo "FAIL: /card is not the model card"; exit 1; }
kill "$server"; wait "$server" 2>/dev/null || true; server=""

# A model that does not load does not build: the smoke test step fails, saying why. This build is
# also the rebuild after an edit of the code only: the dependency, weight and runtime layers must
# come from the cache, and the code layer must not.
printf '\nraise RuntimeError("broken by the container test")\n' >> "$WORK/ctx/code/interface.py"
SECONDS=0
if build localhost/modelpack-iris:broken "$WORK/bud-broken.log"; then
  echo "FAIL: an image whose model does not load was built"; exit 1
fi
rebuild_seconds=$SECONDS
grep -q "  FAILED: load_model() failed: RuntimeError: broken by the container test" "$WORK/bud-broken.log" \
  || { echo "FAIL: the failed build did not say why"; tail -30 "$WORK/bud-broken.log"; exit 1; }
for step in "pip install" "COPY model/ /opt/model/" "COPY runtime/ /opt/runtime/"; do
  grep -A1 -F "$step" "$WORK/bud-broken.log" | grep -q "Using cache" \
    || { echo "FAIL: '$step' was rebuilt after editing interface.py"; exit 1; }
done
grep -A1 -F "COPY code/ /opt/model/" "$WORK/bud-broken.log" | grep -q "Using cache" \
  && { echo "FAIL: the edited code layer came from the cache"; exit 1; }
image_bytes=$($B images --format '{{.Size}}' localhost/modelpack-iris:cpu | head -1)
echo "container test passed: the smoke test step, /health, predictions $predictions, /ping, /invocations, the HEALTHCHECK, malformed row 422, /card, a broken model does not build"
echo "image size $image_bytes; build ${build_seconds}s; rebuild after editing interface.py ${rebuild_seconds}s (to the failing smoke test step; dependency, weight and runtime layers from the cache; vfs storage copies the root filesystem per new layer)"
