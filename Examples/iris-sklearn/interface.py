"""The model's calling contract: load_model() returns an object whose predict() takes rows.

Each row is a mapping with the four measurements in centimetres (see metadata.yaml), or a list of
the four numbers in that order. predict() returns one species name per row.
"""
from pathlib import Path

import joblib

HERE = Path(__file__).resolve().parent
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
SPECIES = ["setosa", "versicolor", "virginica"]


class IrisModel:
    def __init__(self, estimator):
        self._estimator = estimator

    def predict(self, rows):
        matrix = [
            [float(row[name]) for name in FEATURES] if isinstance(row, dict) else [float(v) for v in row]
            for row in rows
        ]
        return [SPECIES[int(label)] for label in self._estimator.predict(matrix)]


def load_model():
    return IrisModel(joblib.load(HERE / "model.joblib"))
