"""Recreates model.joblib: a RandomForest on the iris data that scikit-learn ships.

    python3 train.py

Deterministic (fixed random_state). The versions it was made with are pinned in requirements.txt;
a pickle loads reliably only with the same scikit-learn version.
"""
from pathlib import Path

import joblib
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import train_test_split

HERE = Path(__file__).resolve().parent


def main() -> None:
    data = load_iris()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    model = RandomForestClassifier(n_estimators=50, max_depth=4, random_state=0)
    model.fit(x_train, y_train)
    accuracy = model.score(x_test, y_test)
    joblib.dump(model, HERE / "model.joblib")
    print(f"test accuracy {accuracy:.3f}; wrote {HERE / 'model.joblib'}")


if __name__ == "__main__":
    main()
