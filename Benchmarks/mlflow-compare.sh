#!/usr/bin/env bash
# The iris example's CPU image from `modelpack dockerfile` beside the one `mlflow models
# generate-dockerfile` writes for the same model, both built the same way: buildah (chroot, vfs),
# the same stand-in base image (see Tests/container/build-and-serve.sh), an empty layer cache.
# Prints a table: hadolint findings, build time, image size, and the rebuild time after a code edit.
#   Benchmarks/mlflow-compare.sh [path/to/modelpack]      (root; needs buildah, debootstrap, hadolint)
set -euo pipefail
cd "$(dirname "$0")/.."
MP=${1:-.build/debug/modelpack}
WORK=${WORK:-/var/tmp/modelpack-mlflow-compare}
B="buildah --storage-driver vfs"
rm -rf "$WORK" && mkdir -p "$WORK"

# The stand-in base: the container test makes it and tags it python:3.11-slim.
$B images --format '{{.Name}}:{{.Tag}}' | grep -q 'docker.io/library/python:3.11-slim' \
  || { echo "run 'make container-test' first: it makes the stand-in python:3.11-slim" >&2; exit 1; }

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install -q mlflow scikit-learn==1.9.1 joblib==1.6.0 numpy==2.4.6 scipy==1.17.1
mlflow_version=$("$WORK/venv/bin/python" -c 'import mlflow; print(mlflow.__version__)')
# MLflow's model from the same estimator, with the same pins (cloudpickle, MLflow's classic format).
"$WORK/venv/bin/python" - "$WORK/mlflow-model" <<'PY'
import sys, joblib, mlflow.sklearn
model = joblib.load("Examples/iris-sklearn/model.joblib")
pins = [l.strip() for l in open("Examples/iris-sklearn/requirements.txt") if l.strip() and not l.startswith("#")]
mlflow.sklearn.save_model(model, sys.argv[1], pip_requirements=pins, serialization_format="cloudpickle")
PY
"$WORK/venv/bin/mlflow" models generate-dockerfile -m "$WORK/mlflow-model" -d "$WORK/mlflow-ctx" >/dev/null 2>&1
mlflow_base=$(sed -n 's/^FROM //p' "$WORK/mlflow-ctx/Dockerfile" | head -1)
$B tag docker.io/library/python:3.11-slim "$mlflow_base"   # the same stand-in under MLflow's tag

"$MP" build Examples/iris-sklearn -o "$WORK/iris.zip" >/dev/null
"$MP" dockerfile "$WORK/iris.zip" -o "$WORK/modelpack-ctx" >/dev/null

# Both builds see the host's CA bundle, through pip's site-wide config too: this machine's network
# goes through a TLS-intercepting proxy, and MLflow's file has no CA hook (modelpack's has
# EXTRA_CA_CERT) and upgrades pip to one that would use certifi.
printf '[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n' > "$WORK/pip.conf"
bud() {  # bud CONTEXT TAG LOG [--no-cache]
  $B bud --isolation chroot --pull=never --layers=true --format docker ${4:-} \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    -v /etc/resolv.conf:/etc/resolv.conf:ro -v "$WORK/pip.conf:/etc/pip.conf:ro" \
    -t "$2" "$1" >"$3" 2>&1 || { tail -20 "$3"; exit 1; }
}
row() {  # row NAME CONTEXT CODEFILE
  local name=$1 ctx=$2 code=$3 findings build rebuild size
  findings=$(hadolint --no-color --failure-threshold none "$ctx/Dockerfile" | grep -c . || true)
  SECONDS=0; bud "$ctx" "localhost/compare-$name" "$WORK/$name.log" --no-cache; build=$SECONDS
  printf '\n# edited %s\n' "$(date +%s%N)" >> "$code"
  SECONDS=0; bud "$ctx" "localhost/compare-$name" "$WORK/$name-rebuild.log"; rebuild=$SECONDS
  size=$($B images --format '{{.Size}}' "localhost/compare-$name" | head -1)
  printf '%-22s %9s %10s %9s %20s\n' "$name" "$findings" "${build}s" "$size" "${rebuild}s"
}
printf '%-22s %9s %10s %9s %20s\n' GENERATOR HADOLINT BUILD SIZE "REBUILD(code edit)"
row "modelpack" "$WORK/modelpack-ctx" "$WORK/modelpack-ctx/code/interface.py"
# MLflow has no code file of its own: its model directory (weights and code) is the closest edit.
row "mlflow-$mlflow_version" "$WORK/mlflow-ctx" "$WORK/mlflow-ctx/model_dir/mlflow-model/MLmodel"
