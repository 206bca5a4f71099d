"""Recreates model.joblib: a LightGBM regressor on the diabetes data that scikit-learn ships.

    python3 train.py

442 patients, ten baseline measurements (age, sex, body mass index, blood pressure and six blood
serum values, each already centred and scaled by the data's authors), and the disease progression
one year later. The model is a LightGBM gradient-boosted tree ensemble fitted on a pandas
DataFrame, so it records the column names (`feature_names_in_`), which `modelpack init` reads to
write metadata.yaml. Deterministic (one thread, fixed seeds, `deterministic=True`).
"""
from pathlib import Path

import joblib
from lightgbm import LGBMRegressor
from sklearn.datasets import load_diabetes
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent


def main() -> None:
    data = load_diabetes(as_frame=True)
    x_train, x_test, y_train, y_test = train_test_split(data.data, data.target, test_size=0.25, random_state=0)
    model = LGBMRegressor(
        n_estimators=200, learning_rate=0.05, num_leaves=15, min_child_samples=10,
        random_state=0, deterministic=True, force_row_wise=True, n_jobs=1, verbose=-1,
    )
    model.fit(x_train, y_train)
    r2 = model.score(x_test, y_test)
    joblib.dump(model, HERE / "model.joblib")
    print(f"test R^2 {r2:.3f}; wrote {HERE / 'model.joblib'}")


if __name__ == "__main__":
    main()
