"""Recreates model.safetensors: a handwritten-digit classifier whose weights are all it ships.

    python3 train.py

The data is the UCI digits data that scikit-learn ships (1,797 images of 8x8 pixels, values 0 to
16). The model is a softmax regression written in numpy and trained by full-batch gradient
descent: a weight matrix `weight` [64, 10] and a bias `bias` [10], saved with safetensors (no
pickle, no code). interface.py holds the forward pass, which the weights cannot say: scale the
pixels, multiply, add, softmax. Deterministic (no randomness at all).
"""
from pathlib import Path

import numpy as np
from safetensors.numpy import save_file
from sklearn.datasets import load_digits

HERE = Path(__file__).resolve().parent


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def main() -> None:
    digits = load_digits()
    x = digits.data / 16.0
    y = digits.target
    train, test = np.arange(len(y)) % 4 != 0, np.arange(len(y)) % 4 == 0
    onehot = np.eye(10)[y[train]]
    weight, bias = np.zeros((64, 10)), np.zeros(10)
    for _ in range(500):
        p = softmax(x[train] @ weight + bias)
        gradient = p - onehot
        weight -= 0.5 * (x[train].T @ gradient / train.sum() + 1e-4 * weight)
        bias -= 0.5 * gradient.mean(axis=0)
    accuracy = float((np.argmax(x[test] @ weight + bias, axis=1) == y[test]).mean())
    save_file(
        {"weight": weight.astype(np.float32), "bias": bias.astype(np.float32)},
        HERE / "model.safetensors",
        metadata={"model": "softmax regression", "input": "8x8 pixels, 0-16"},
    )
    print(f"test accuracy {accuracy:.3f}; wrote {HERE / 'model.safetensors'}")


if __name__ == "__main__":
    main()
