"""The ceilings of the onnxruntime installed beside this Python: the highest IR version, ai.onnx
opset and ai.onnx.ml opset whose models InferenceSession accepts (the measurement behind
Sources/ModelPackCore/Check/ONNXRuntimeSupport.swift; run once per release in a virtualenv with
onnx and onnxruntime==X.Y.Z to add a row). Prints {"onnxruntime", "ir", "opset", "mlOpset"}.

    python3 ort_support.py
"""
import json

import onnx
import onnxruntime
from onnx import TensorProto, helper


def stamped(ir, opsets):
    """An Identity model (or, with ai.onnx.ml, a Binarizer) stamped with any versions: built as a
    raw ModelProto, since onnx's helpers and checker refuse stamps they do not know."""
    model = onnx.ModelProto()
    model.ir_version = ir
    for domain, version in opsets.items():
        entry = model.opset_import.add()
        entry.domain, entry.version = domain, version
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])
    if "ai.onnx.ml" in opsets:
        node = helper.make_node("Binarizer", ["x"], ["y"], domain="ai.onnx.ml", threshold=0.5)
    else:
        node = helper.make_node("Identity", ["x"], ["y"])
    model.graph.CopyFrom(helper.make_graph([node], "g", [x], [y]))
    return model.SerializeToString()


def loads(data):
    try:
        onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
        return True
    except Exception:  # InvalidArgument up to 1.21, Fail after
        return False


def highest(make, start):
    """The last version accepted, going up from `start` (accepted) until one is refused."""
    version = start
    while loads(make(version + 1)):
        version += 1
    return version


print(json.dumps({
    "onnxruntime": onnxruntime.__version__,
    "ir": highest(lambda v: stamped(v, {"": 13}), 7),
    "opset": highest(lambda v: stamped(8, {"": v}), 13),
    "mlOpset": highest(lambda v: stamped(8, {"": 13, "ai.onnx.ml": v}), 1),
}))
