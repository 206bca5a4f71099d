"""Recreates model.joblib: a customer-churn classifier with categorical inputs.

    python3 train.py

The data is synthetic but not arbitrary: 4,000 customers drawn from a fixed random generator, with
churn more likely on month-to-month contracts, with many support calls, short tenure, high charges
and electronic-check payments. The model is a real preprocessing pipeline, a ColumnTransformer with
OneHotEncoder for the categorical columns and StandardScaler for the numeric ones, in front of a
GradientBoostingClassifier. Everything is seeded, so the same versions give the same file.
"""
from pathlib import Path

import joblib
import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

HERE = Path(__file__).resolve().parent
CATEGORICAL = ["contract", "payment_method", "internet_service"]
NUMERIC = ["tenure_months", "monthly_charges", "support_calls"]
CATEGORIES = {
    "contract": ["month-to-month", "one-year", "two-year"],
    "payment_method": ["electronic-check", "mailed-check", "bank-transfer", "credit-card"],
    "internet_service": ["none", "dsl", "fiber"],
}


def make_data(n: int, rng: np.random.Generator):
    contract = rng.choice(CATEGORIES["contract"], n, p=[0.55, 0.25, 0.20])
    payment = rng.choice(CATEGORIES["payment_method"], n, p=[0.35, 0.2, 0.25, 0.2])
    internet = rng.choice(CATEGORIES["internet_service"], n, p=[0.2, 0.35, 0.45])
    tenure = rng.integers(0, 73, n)
    charges = np.round(20 + 25 * (internet == "dsl") + 55 * (internet == "fiber") + rng.normal(0, 8, n), 2)
    calls = rng.poisson(1.5, n)
    logit = (
        -1.2
        + 1.6 * (contract == "month-to-month")
        - 1.0 * (contract == "two-year")
        + 0.7 * (payment == "electronic-check")
        + 0.4 * (internet == "fiber")
        + 0.35 * calls
        - 0.04 * tenure
        + 0.01 * (charges - 60)
    )
    churn = rng.random(n) < 1 / (1 + np.exp(-logit))
    rows = np.empty((n, 6), dtype=object)
    rows[:, 0], rows[:, 1], rows[:, 2] = contract, payment, internet
    rows[:, 3], rows[:, 4], rows[:, 5] = tenure, charges, calls
    return rows, churn.astype(int)


def build_pipeline() -> Pipeline:
    preprocess = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(categories=[CATEGORIES[c] for c in CATEGORICAL], handle_unknown="ignore"), [0, 1, 2]),
            ("numeric", StandardScaler(), [3, 4, 5]),
        ]
    )
    model = GradientBoostingClassifier(n_estimators=100, max_depth=3, learning_rate=0.1, random_state=0)
    return Pipeline([("preprocess", preprocess), ("model", model)])


def main() -> None:
    rng = np.random.default_rng(20261122)
    x, y = make_data(4000, rng)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0, stratify=y)
    pipeline = build_pipeline().fit(x_train, y_train)
    accuracy = pipeline.score(x_test, y_test)
    joblib.dump(pipeline, HERE / "model.joblib")
    print(f"churn rate {y.mean():.3f}, test accuracy {accuracy:.3f}; wrote {HERE / 'model.joblib'}")


if __name__ == "__main__":
    main()
