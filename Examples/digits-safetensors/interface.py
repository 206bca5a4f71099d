"""The model's calling contract: load_model() returns an object whose predict() takes rows.

Each row is a mapping {"pixels": 8x8 nested list of 0-16 values}, one handwritten digit as in
the data scikit-learn ships. model.safetensors holds only the weights (`weight` [64, 10] and
`bias` [10]); the forward pass is here: scale to 0-1, multiply, add, softmax. predict() returns,
per row, the digit and its probability.
"""
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

HERE = Path(__file__).resolve().parent


class DigitsModel:
    def __init__(self, tensors):
        self._weight = tensors["weight"].astype(np.float64)
        self._bias = tensors["bias"].astype(np.float64)

    def predict(self, rows):
        pixels = np.asarray([row["pixels"] for row in rows], dtype=np.float64).reshape(len(rows), 64) / 16.0
        logits = pixels @ self._weight + self._bias
        logits -= logits.max(axis=1, keepdims=True)
        probabilities = np.exp(logits)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        digits = probabilities.argmax(axis=1)
        return [
            {"digit": int(d), "probability": round(float(p[d]), 4)} for d, p in zip(digits, probabilities)
        ]


def load_model():
    return DigitsModel(load_file(str(HERE / "model.safetensors")))
