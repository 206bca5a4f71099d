"""The model's calling contract: load_model() returns an object whose predict() takes rows.

Each row is a mapping {"features": [13 numbers]}: the wine's measurements in the order of
metadata.yaml's description. predict() runs the ONNX graph on all rows at once with onnxruntime
and returns, per row, the cultivar (0, 1 or 2) and the three class probabilities.
"""
from pathlib import Path

import numpy as np
import onnxruntime

HERE = Path(__file__).resolve().parent


class WineModel:
    def __init__(self, session):
        self._session = session

    def predict(self, rows):
        features = np.asarray([row["features"] for row in rows], dtype=np.float32)
        labels, probabilities = self._session.run(["label", "probabilities"], {"features": features})
        return [
            {"cultivar": int(label), "probabilities": [round(float(p), 4) for p in row]}
            for label, row in zip(labels, probabilities)
        ]


def load_model():
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # one server worker, one thread: scale with workers instead
    session = onnxruntime.InferenceSession(
        str(HERE / "model.onnx"), options, providers=["CPUExecutionProvider"]
    )
    return WineModel(session)
