"""The model's calling contract: load_model() returns an object whose predict() takes rows.

Each row is a mapping with the ten inputs of metadata.yaml. predict() builds one pandas DataFrame
with the columns the model was fitted on (in that order) and returns, per row, the predicted
disease progression one year on.
"""
from pathlib import Path

import joblib
import pandas as pd

HERE = Path(__file__).resolve().parent
FEATURES = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]


class DiabetesModel:
    def __init__(self, regressor):
        self._regressor = regressor

    def predict(self, rows):
        frame = pd.DataFrame.from_records(rows, columns=FEATURES).astype("float64")
        return [round(float(y), 4) for y in self._regressor.predict(frame)]


def load_model():
    return DiabetesModel(joblib.load(HERE / "model.joblib"))
