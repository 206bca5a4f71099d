#!/usr/bin/env bash
# Batch inference at scale (issue 14): ROWS iris rows, Parquet in and out, scored by
#   modelpack predict --engine spark (local[2]), modelpack predict --engine ray (a local cluster),
#   and MLflow's spark_udf (local[2], env_manager="local") on the same model: the bundle's own
#   interface.py logged as an MLflow pyfunc model, in a virtualenv with the model's requirements,
#   the same pyspark and mlflow-skinny;
# alternately RUNS times, medians; wall time of the whole command (engine start-up included).
# Target: each modelpack engine at least MLflow's rows/s.
#   ROWS=1000000 RUNS=3 Benchmarks/scale.sh     (builds the release binary; needs PyPI and Java 17)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
RUNS=${RUNS:-3}
MLFLOW=${MLFLOW:-mlflow-skinny==3.17.2}
source Benchmarks/release-binary.sh
B=$MP
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$B" build Examples/iris-sklearn -o "$W/iris.zip" -q
"$B" unpack "$W/iris.zip" -o "$W/model" >/dev/null
# The engines in the model's cached environment (once), and the rows, written with its pandas.
python3 -c 'print("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2")' >"$W/warm.csv"
for engine in spark ray; do
  "$B" predict "$W/iris.zip" --engine "$engine" -i "$W/warm.csv" -o "$W/warm-$engine.parquet" >/dev/null 2>&1
done
# The environment the predict runs just used (environments are keyed by what they contain).
VENV=$("$B" cache list --json | python3 -c '
import json, os, sys
envs = [e for e in json.load(sys.stdin)["entries"] if e["area"] == "envs"]
print(os.path.join(max(envs, key=lambda e: e["lastUsed"])["path"], "venv"))')
"$VENV/bin/python" Tests/ModelPackCoreTests/Fixtures/scale/rows.py make iris "$ROWS" "$W/rows.parquet"
python3 -m venv "$W/mlflow"
"$W/mlflow/bin/pip" install -q --disable-pip-version-check -r "$W/model/requirements.txt" pyspark==4.0.1 \
  pandas pyarrow "$MLFLOW"
cat >"$W/mlflow_job.py" <<'PY'
import importlib.util, os, sys
import mlflow.pyfunc
from pyspark.sql import SparkSession
model_dir, rows, out, saved = sys.argv[1:5]

class Wrapped(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        sys.path.insert(0, context.artifacts["model"])
        spec = importlib.util.spec_from_file_location("interface", context.artifacts["model"] + "/interface.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.model = module.load_model()

    def predict(self, context, model_input, params=None):
        return self.model.predict(model_input.to_dict("records"))

if not os.path.exists(saved):  # with a signature, so spark_udf passes the columns by name
    import pandas as pd
    from mlflow.models import infer_signature
    sample = pd.read_parquet(rows).head(5)
    signature = infer_signature(sample, pd.Series(["setosa"] * 5))
    mlflow.pyfunc.save_model(saved, python_model=Wrapped(), artifacts={"model": model_dir}, signature=signature)
os.environ["PYSPARK_PYTHON"] = sys.executable
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.ui.showConsoleProgress", "false").getOrCreate())
spark.sparkContext.setLogLevel("FATAL")
udf = mlflow.pyfunc.spark_udf(spark, saved, result_type="string", env_manager="local")
df = spark.read.parquet(rows)
df.withColumn("prediction", udf()).write.parquet(out)
spark.stop()
PY
export SPARK_LOCAL_IP=127.0.0.1
# Save the MLflow model once (not timed), and check that it agrees with modelpack's output.
"$W/mlflow/bin/python" "$W/mlflow_job.py" "$W/model" "$W/rows.parquet" "$W/check-mlflow" "$W/saved" >/dev/null 2>&1
"$B" predict "$W/iris.zip" --engine spark -i "$W/rows.parquet" -o "$W/check-spark.parquet" >/dev/null 2>&1
"$VENV/bin/python" - "$W/check-mlflow" "$W/check-spark.parquet" <<'PY'
import sys, pandas as pd
mlflow = pd.read_parquet(sys.argv[1])["prediction"].tolist()
ours = pd.read_parquet(sys.argv[2]).sort_values("id")["prediction"].tolist()
same = sum(a == b for a, b in zip(mlflow, ours))
print(f"check: {same} of {len(ours)} predictions equal MLflow's (row order as read)", file=sys.stderr)
PY
run() {  # name, command...: seconds on stdout
  local name=$1; shift
  rm -rf "$W/out.parquet"
  local start end
  start=$(date +%s.%N)
  "$@" >/dev/null 2>"$W/$name.err" || { echo "$name failed:" >&2; tail -5 "$W/$name.err" >&2; exit 1; }
  end=$(date +%s.%N)
  echo "$end - $start" | bc
}
declare -A times
for i in $(seq "$RUNS"); do
  times[spark]+="$(run spark "$B" predict "$W/iris.zip" --engine spark --master 'local[2]' -i "$W/rows.parquet" -o "$W/out.parquet") "
  times[mlflow]+="$(run mlflow "$W/mlflow/bin/python" "$W/mlflow_job.py" "$W/model" "$W/rows.parquet" "$W/out.parquet" "$W/saved") "
  times[ray]+="$(run ray "$B" predict "$W/iris.zip" --engine ray -i "$W/rows.parquet" -o "$W/out.parquet") "
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(echo "${times[mlflow]}" | median)
printf '%-52s %8s %10s %11s\n' "way ($ROWS rows, Parquet in and out, $RUNS runs)" "s" "rows/s" "vs MLflow"
for name in spark ray mlflow; do
  s=$(echo "${times[$name]}" | median)
  case $name in
    spark) label="modelpack predict --engine spark (local[2])" ;;
    ray) label="modelpack predict --engine ray (local, 2 CPUs)" ;;
    mlflow) label="MLflow spark_udf (local[2], pyfunc, env local)" ;;
  esac
  printf '%-52s %8.2f %10s %10.2fx\n' "$label" "$s" "$(printf "%'.0f" "$(echo "$ROWS / $s" | bc)")" \
    "$(echo "$base / $s" | bc -l)"
done
