"""Builds the artifacts `modelpack init` is tested on: a scikit-learn Pipeline fitted on a pandas
DataFrame (a categorical and two numeric columns, string classes), saved by joblib and by pickle
(protocols 5 and 2, which write numpy arrays differently), and an XGBClassifier fitted on the iris
DataFrame (its column names live in its serialised booster). InitTests reads their columns,
categories and classes statically and serves them; `expected.json` holds each model's own answers
on the rows the tests send, as the reference.

    python3 make_init.py     # needs scikit-learn, pandas, numpy, joblib, lightgbm and xgboost (or xgboost-cpu)
"""
import json
import pickle
from pathlib import Path

import joblib
import lightgbm
import numpy as np
import pandas as pd
import xgboost
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
COLOURS = ["green", "yellow", "red"]


def main() -> None:
    rng = np.random.default_rng(20261204)
    n = 300
    colour = rng.choice(COLOURS, n)
    length = np.round(rng.normal(12, 4, n), 1)
    weight = np.round(rng.normal(150, 40, n), 0)
    fruit = np.where(length > 15, "banana", np.where(colour == "red", "apple", "pear"))
    frame = pd.DataFrame({"colour": colour, "length_cm": length, "weight_g": weight})
    pipeline = Pipeline([
        ("prep", ColumnTransformer([
            ("cat", OneHotEncoder(categories=[COLOURS], handle_unknown="ignore"), ["colour"]),
            ("num", StandardScaler(), ["length_cm", "weight_g"]),
        ])),
        ("clf", LogisticRegression(max_iter=1000)),
    ]).fit(frame, fruit)
    joblib.dump(pipeline, HERE / "fruit_pipeline.joblib")
    for protocol in (5, 2):
        with open(HERE / f"fruit_pipeline_p{protocol}.pkl", "wb") as f:
            pickle.dump(pipeline, f, protocol=protocol)
    # The rows InitTests sends: init's example (the first category, zeros) and a long yellow one.
    rows = pd.DataFrame({"colour": ["green", "yellow"], "length_cm": [0.0, 20.0], "weight_g": [0.0, 120.0]})
    expected = {"fruit": {"rows": rows.to_dict("records"), "predictions": pipeline.predict(rows).tolist()}}
    iris = load_iris(as_frame=True)
    booster = xgboost.XGBClassifier(n_estimators=5, max_depth=2, random_state=0, n_jobs=1).fit(iris.data, iris.target)
    joblib.dump(booster, HERE / "iris_xgboost.joblib")
    sample = iris.data.iloc[[0, 75, 149]]
    expected["iris"] = {"rows": sample.to_dict("records"), "predictions": booster.predict(sample).tolist()}
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    # Wider than the 256 names the scan keeps of an array: init must refuse, not cut the inputs.
    wide = pd.DataFrame(rng.normal(size=(50, 300)), columns=[f"c{i}" for i in range(300)])
    joblib.dump(LinearRegression().fit(wide, wide["c0"]), HERE / "wide_linear.joblib")
    # Columns of pandas' category dtype, which LightGBM and XGBoost take as such: init must refuse.
    frame = pd.DataFrame({"c": pd.Categorical(rng.choice(["a", "b", "c"], 200)), "x": rng.normal(size=200)})
    label = (frame["x"] > 0).astype(int)
    lgbm = lightgbm.LGBMClassifier(n_estimators=3, verbose=-1)
    joblib.dump(lgbm.fit(frame, label), HERE / "lightgbm_category.joblib")
    categorical = xgboost.XGBClassifier(n_estimators=3, enable_categorical=True, tree_method="hist", n_jobs=1)
    joblib.dump(categorical.fit(frame, label), HERE / "xgboost_category.joblib")
    print(f"wrote {HERE}: fruit {expected['fruit']['predictions']}, iris {expected['iris']['predictions']}")


if __name__ == "__main__":
    main()
