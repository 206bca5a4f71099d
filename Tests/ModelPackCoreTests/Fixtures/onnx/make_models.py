"""ONNX models written by the onnx package itself, for ONNXTruthTests (nothing downloaded).

    python3 make_models.py OUTDIR [IR OPSET]

writes into OUTDIR:
  ir3_initializers.onnx  IR 3, opset 8: Y = X @ W + B, with W and B stored as initializers and, as
                         IR 3 required, also listed among the graph's inputs
  light_squeezenet.onnx  the SqueezeNet test model the onnx package ships (IR 3: its weights are
                         among the graph's inputs)
  stamped.onnx           with IR and OPSET given: a one-input Identity model stamped with them
"""
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)

w = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(3, 2), name="W")
b = numpy_helper.from_array(np.zeros(2, dtype=np.float32), name="B")
graph = helper.make_graph(
    [helper.make_node("MatMul", ["X", "W"], ["XW"]), helper.make_node("Add", ["XW", "B"], ["Y"])],
    "ir3",
    inputs=[
        helper.make_tensor_value_info("X", TensorProto.FLOAT, ["N", 3]),
        helper.make_tensor_value_info("W", TensorProto.FLOAT, [3, 2]),
        helper.make_tensor_value_info("B", TensorProto.FLOAT, [2]),
    ],
    outputs=[helper.make_tensor_value_info("Y", TensorProto.FLOAT, ["N", 2])],
    initializer=[w, b],
)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 8)])
model.ir_version = 3
onnx.save(model, os.path.join(out, "ir3_initializers.onnx"))

light = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light", "light_squeezenet.onnx")
shutil.copyfile(light, os.path.join(out, "light_squeezenet.onnx"))

if len(sys.argv) == 4:
    ir, opset = int(sys.argv[2]), int(sys.argv[3])
    stamped = onnx.ModelProto()  # built raw: the checker refuses stamps it does not know
    stamped.ir_version = ir
    entry = stamped.opset_import.add()
    entry.domain, entry.version = "", opset
    stamped.graph.CopyFrom(helper.make_graph(
        [helper.make_node("Identity", ["features"], ["label"])], "stamped",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["N", 13])],
        [helper.make_tensor_value_info("label", TensorProto.FLOAT, ["N", 13])]))
    with open(os.path.join(out, "stamped.onnx"), "wb") as f:
        f.write(stamped.SerializeToString())
