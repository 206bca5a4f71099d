"""Calling contract: load_model() returns an object whose predict() takes customer rows.

Each row is a mapping with the six inputs of metadata.yaml. predict() returns, per row, whether
the customer is predicted to churn and the probability.
"""
from pathlib import Path

import joblib
import numpy as np

HERE = Path(__file__).resolve().parent
COLUMNS = ["contract", "payment_method", "internet_service", "tenure_months", "monthly_charges", "support_calls"]


class ChurnModel:
    def __init__(self, pipeline):
        self._pipeline = pipeline

    def predict(self, rows):
        matrix = np.empty((len(rows), len(COLUMNS)), dtype=object)
        for i, row in enumerate(rows):
            matrix[i] = [row[name] for name in COLUMNS]
        probabilities = self._pipeline.predict_proba(matrix)[:, 1]
        return [{"churn": bool(p >= 0.5), "probability": round(float(p), 4)} for p in probabilities]


def load_model():
    return ChurnModel(joblib.load(HERE / "model.joblib"))
