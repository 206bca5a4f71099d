"""Recreates model.onnx: a wine-cultivar classifier exported to ONNX, served by onnxruntime.

    python3 train.py

The data is the UCI wine data that scikit-learn ships (178 wines, 13 chemical measurements, three
cultivars). The model, a StandardScaler in front of a LogisticRegression, is converted by
skl2onnx into one ONNX graph: a float32 [N, 13] input named `features`, and two outputs, the
predicted cultivar (`label`, int64) and the three class probabilities (`probabilities`). Serving it
needs onnxruntime and numpy only, never scikit-learn or a pickle. Deterministic: the same
versions (scikit-learn 1.9.1, skl2onnx 1.20.0, onnx 1.23.2) give the same file.
"""
from pathlib import Path

from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.datasets import load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

HERE = Path(__file__).resolve().parent


def main() -> None:
    data = load_wine()
    x_train, x_test, y_train, y_test = train_test_split(
        data.data, data.target, test_size=0.25, random_state=0, stratify=data.target
    )
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model.fit(x_train, y_train)
    accuracy = model.score(x_test, y_test)
    onnx = to_onnx(
        model,
        initial_types=[("features", FloatTensorType([None, x_train.shape[1]]))],
        options={id(model[-1]): {"zipmap": False}},
        target_opset={"": 17, "ai.onnx.ml": 3},
    )
    onnx.doc_string = "wine cultivar from 13 measurements (modelpack example)"
    (HERE / "model.onnx").write_bytes(onnx.SerializeToString())
    print(f"test accuracy {accuracy:.3f}; wrote {HERE / 'model.onnx'}")


if __name__ == "__main__":
    main()
