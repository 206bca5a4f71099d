"""Builds the ONNX fixtures with the onnx package (PyPI): a small real model (MatMul + Add + Relu,
float32 inputs [batch, 4] -> [batch, 3], one initializer inline) and the same model whose
initializer points at external data outside the model directory (CVE-2022-25882, CVE-2024-27318).

    python3 make_onnx.py
"""
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent


def model(external_location=None):
    weights = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3), name="W")
    if external_location:
        weights.ClearField("raw_data")
        weights.data_location = TensorProto.EXTERNAL
        for key, value in (("location", external_location), ("offset", "0"), ("length", "48")):
            entry = weights.external_data.add()
            entry.key, entry.value = key, value
    bias = numpy_helper.from_array(np.zeros(3, dtype=np.float32), name="B")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "W"], ["xw"]),
            helper.make_node("Add", ["xw", "B"], ["z"]),
            helper.make_node("Relu", ["z"], ["y"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3])],
        initializer=[weights, bias],
    )
    m = helper.make_model(graph, producer_name="modelpack-fixtures", opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return m


def main() -> None:
    good = model()
    onnx.checker.check_model(good)
    onnx.save(good, HERE / "tiny.onnx")
    onnx.save(model("../../../etc/passwd"), HERE / "escaping_external_data.onnx")
    print("wrote tiny.onnx and escaping_external_data.onnx")


if __name__ == "__main__":
    main()
