"""Rows for the Spark and Ray tests (ScaleTests), and the check of an engine's output against the
model's own predictions. Runs in the model's environment (pandas and pyarrow come with the engine).

    rows.py make iris|churn N OUT.csv|OUT.parquet [--bad K]     N rows, row K (1-based) broken
    rows.py compare MODEL_DIR INPUT OUTPUT_DIR|OUT.jsonl|OUT.parquet   prints {"rows", "ids", "differing"}
"""
import importlib.util
import json
import random
import sys
from pathlib import Path

import pandas as pd


def make(kind, n, out, bad=None):
    rng = random.Random(7)
    if kind == "iris":
        rows = [{"sepal_length": round(rng.uniform(4, 8), 1), "sepal_width": round(rng.uniform(2, 4.5), 1),
                 "petal_length": round(rng.uniform(1, 7), 1), "petal_width": round(rng.uniform(0.1, 2.5), 1)}
                for _ in range(n)]
    else:
        rows = [{"contract": rng.choice(["month-to-month", "one-year", "two-year"]),
                 "payment_method": rng.choice(["electronic-check", "mailed-check", "bank-transfer", "credit-card"]),
                 "internet_service": rng.choice(["none", "dsl", "fiber"]), "tenure_months": rng.randint(0, 72),
                 "monthly_charges": round(rng.uniform(18, 120), 2), "support_calls": rng.randint(0, 9)}
                for _ in range(n)]
    frame = pd.DataFrame(rows)
    if bad:
        if kind == "iris":
            frame["sepal_length"] = frame["sepal_length"].astype(object)
            frame.loc[bad - 1, "sepal_length"] = "abc"
        else:
            frame.loc[bad - 1, "contract"] = "weekly"
    if out.endswith(".csv"):
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)


def compare(model_dir, source, output):
    sys.path.insert(0, model_dir)
    spec = importlib.util.spec_from_file_location("interface", f"{model_dir}/interface.py")
    interface = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(interface)
    model = interface.load_model()
    rows = (pd.read_csv(source) if source.endswith(".csv") else pd.read_parquet(source)).to_dict("records")
    own = []
    for start in range(0, len(rows), 10000):
        own += model.predict(rows[start:start + 10000])
    if output.endswith(".jsonl"):  # one-process predict: {"id", "prediction"} per line
        lines = [json.loads(line) for line in Path(output).read_text().splitlines()]
        predictions = [line["prediction"] for line in lines]
        got = pd.DataFrame({"id": [line["id"] for line in lines]})
        if predictions and isinstance(predictions[0], dict):
            for name in predictions[0]:
                got[name] = [p[name] for p in predictions]
        else:
            got["prediction"] = predictions
    elif Path(output).is_file():  # one-process predict -o OUT.parquet: one file
        got = pd.read_parquet(output)
    else:
        files = sorted(p for p in Path(output).iterdir() if p.suffix in (".csv", ".parquet"))
        got = pd.concat([pd.read_csv(p) if p.suffix == ".csv" else pd.read_parquet(p) for p in files])
    ids = got["id"].tolist()
    got = got.sort_values("id")
    columns = [c for c in got.columns if c != "id"]
    if columns == ["prediction"]:
        predicted = got["prediction"].tolist()
    else:
        predicted = [dict(zip(columns, values)) for values in got[columns].itertuples(index=False)]
    differing = sum(1 for a, b in zip(predicted, own) if a != b) + abs(len(predicted) - len(own))
    print(json.dumps({"rows": len(ids), "ids": "1..n" if sorted(ids) == list(range(1, len(rows) + 1)) else "wrong",
                      "differing": differing, "columns": columns}))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[6]) if len(sys.argv) > 6 else None)
    else:
        compare(*sys.argv[2:5])
