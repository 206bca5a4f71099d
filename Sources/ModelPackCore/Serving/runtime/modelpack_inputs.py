"""What every way of running a boxed model shares (the server and `modelpack predict`): the one
loader of interface.py (from source only), the input rule (whether a value fits a declared input,
Docs/METADATA.md#inputs) and the check of a batch of instances, and the conversion of predictions
to JSON."""
import importlib.machinery
import importlib.util
import math
import os
import signal
import sys

# The one input rule, the same as modelpack's InputFit (Sources/ModelPackCore/Metadata/InputFit.swift);
# both pass the table Tests/ModelPackCoreTests/Fixtures/inputs/cases.json.
FLOAT_LIMITS = {"float16": 65504.0, "bfloat16": 3.4028234663852886e38, "float32": 3.4028234663852886e38,
                "float64": 1.7976931348623157e308}


def kind_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "a mapping"


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def int_range(dtype):
    """The integers an int or uint dtype holds, as [low, high)."""
    bits = int(dtype.lstrip("uint") or 64)
    return (0, 2 ** bits) if dtype.startswith("u") else (-(2 ** (bits - 1)), 2 ** (bits - 1))


def finite(value, dtype):
    if type(value) is float and value - value == 0.0 and (dtype == "float64" or abs(value) <= FLOAT_LIMITS[dtype]):
        return None  # the common case, decided without a call (inf - inf and nan - nan are nan)
    if not (is_int(value) or isinstance(value, float)):
        return f"must be a number, found {kind_name(value)}"
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        return "must be a finite number"
    limit = FLOAT_LIMITS.get(dtype, FLOAT_LIMITS["float64"])
    return None if abs(number) <= limit else f"holds {number}, outside the range of {dtype}"


def element(value, dtype):
    if dtype == "bool":
        return None if isinstance(value, bool) else f"must hold true or false (dtype bool), found {kind_name(value)}"
    if dtype == "string":
        return None if isinstance(value, str) else f"must hold strings (dtype string), found {kind_name(value)}"
    if dtype.startswith(("int", "uint")):
        if not is_int(value):
            return f"must hold integers (dtype {dtype}), found {kind_name(value)}"
        low, high = int_range(dtype)
        if low <= value < high:
            return None
        return f"holds {value if abs(value) < 10 ** 20 else 'an integer'}, outside the range of {dtype}"
    return finite(value, dtype)


def tensor(value, shape, dtype, path):
    at = "" if not path else " at [" + "][".join(map(str, path)) + "]"
    depth = len(path)
    if shape is not None and depth == len(shape):
        if isinstance(value, list):
            return f"has more than the {len(shape)} dimensions of its shape{at}"
        problem = element(value, dtype)
        return problem and problem + at
    if not isinstance(value, list):
        if shape is None and depth > 0:
            problem = element(value, dtype)
            return problem and problem + at
        return f"has {depth} dimensions{at}, the shape has {len(shape or [])}"
    if shape is not None and shape[depth] not in (None, -1) and len(value) != shape[depth]:
        return f"has {len(value)} at dimension {depth}{at}, the shape says {shape[depth]}"
    extent = None
    for i, item in enumerate(value):
        if isinstance(item, list):
            if extent is not None and len(item) != extent:
                return f"is ragged{at}: row {i} has {len(item)} values, row 0 has {extent}"
            extent = len(item) if extent is None else extent
        problem = tensor(item, shape, dtype, [*path, i])
        if problem:
            return problem
    return None


def category_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if is_int(value) or isinstance(value, str):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return None


def check(value, spec):
    """Why `value` does not fit the input `spec`, or None."""
    kind = spec["type"]
    if kind == "float":
        dtype = spec.get("dtype") or "float64"
        if type(value) is float and value - value == 0.0 and dtype == "float64":
            return None
        return finite(value, dtype)
    if kind == "int":
        dtype = spec.get("dtype")
        if not is_int(value):
            return f"must be an integer{f' (dtype {dtype})' if dtype else ''}, found {kind_name(value)}"
        return element(value, dtype or "int64")  # what a model's integer arrays hold by default
    if kind == "bool":
        return None if isinstance(value, bool) else f"must be true or false, found {kind_name(value)}"
    if kind == "string":
        return None if isinstance(value, str) else f"must be a string, found {kind_name(value)}"
    if kind == "categorical":
        text = category_text(value)
        if text is None:
            return f"must be one of the categories, found {kind_name(value)}"
        categories = spec.get("categories") or []
        return None if not categories or text in categories else f"'{text}' is not one of {', '.join(categories)}"
    if kind == "tensor":
        if not isinstance(value, list):
            return f"must be a (nested) list, found {kind_name(value)}"
        shape = spec.get("shape")
        return tensor(value, [None if d in (None, -1) else d for d in shape] if shape else None,
                      spec.get("dtype") or "float32", [])
    return None


def category_values(categories):
    """The JSON values a category's text stands for (category_text's inverse): "1" is 1 or "1"."""
    values = []
    for text in categories:
        values.append(text)
        if text in ("true", "false"):
            values.append(text == "true")
            continue
        try:
            values.append(int(text))
        except ValueError:
            try:
                number = float(text)
                if math.isfinite(number) and repr(number) == text:
                    values.append(number)
            except ValueError:
                pass
    return values


def element_schema(dtype):
    if dtype == "bool":
        return {"type": "boolean"}
    if dtype == "string":
        return {"type": "string"}
    if dtype.startswith(("int", "uint")):
        low, high = int_range(dtype)
        return {"type": "integer", "minimum": low, "maximum": high - 1}
    limit = FLOAT_LIMITS.get(dtype, FLOAT_LIMITS["float64"])
    return {"type": "number", "minimum": -limit, "maximum": limit}


def json_schema(spec):
    """The JSON Schema of an input, as the check above reads it (a schema cannot say that a tensor
    is not ragged, nor that 3.0 is not an integer: there the check is stricter)."""
    kind = spec["type"]
    described = {"description": spec["description"]} if spec.get("description") else {}
    if kind == "float":
        return {**element_schema(spec.get("dtype") or "float64"), **described}
    if kind == "int":
        return {**element_schema(spec.get("dtype") or "int64"), **described}
    if kind == "bool":
        return {"type": "boolean", **described}
    if kind == "string":
        return {"type": "string", **described}
    if kind == "categorical":
        categories = spec.get("categories") or []
        if categories:
            return {"enum": category_values(categories), **described}
        return {"type": ["string", "integer", "number", "boolean"], **described}
    if kind == "tensor":
        shape = spec.get("shape")
        dtype = spec.get("dtype") or "float32"
        if not shape:
            return {"type": "array", **described}
        schema = element_schema(dtype)
        for extent in reversed(shape):
            schema = {"type": "array", "items": schema}
            if extent not in (None, -1):
                schema.update(minItems=extent, maxItems=extent)
        return {**schema, **described}
    return dict(described)


def instance_schema(inputs):
    """One instance: a mapping of every input, or a list of them in order."""
    properties = {spec["name"]: json_schema(spec) for spec in inputs}
    mapping = {"type": "object", "properties": properties, "required": list(properties),
               "additionalProperties": False}
    ordered = {"type": "array", "prefixItems": [json_schema(spec) for spec in inputs], "items": False,
               "minItems": len(inputs), "maxItems": len(inputs)}
    return {"anyOf": [mapping, ordered]}


def output_schema(outputs):
    """One prediction: the one output's schema (a categorical one is one of its categories); with
    several outputs, whatever the model returns for a row."""
    if len(outputs) != 1:
        return {"description": "the model's prediction for one instance"}
    spec = outputs[0]
    if spec.get("type") == "categorical" and spec.get("categories"):
        described = {"description": spec["description"]} if spec.get("description") else {}
        return {"enum": category_values([str(c) for c in spec["categories"]]), **described}
    return json_schema(spec)


class SourceOnlyLoader(importlib.machinery.SourceFileLoader):
    """A model directory's .py files: compiled from the source read, never from bytecode.
    SourceFileLoader's get_code would first read __pycache__/NAME.<tag>.pyc and run it when it
    matches (an unchecked-hash .pyc matches whatever the source is); this get_code reads only the
    source and compiles it as importlib does (source_to_code: compile(source, path, "exec",
    dont_inherit=True)), so tracebacks, __file__ and linecache name the .py as usual. __cached__ is
    None: no bytecode stands behind the module."""

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        return self.source_to_code(self.get_data(path), path)

    def exec_module(self, module):
        module.__cached__ = None
        super().exec_module(module)


# The loaders a model directory's modules may have: its compiled extensions and its sources (by
# SourceOnlyLoader), not SourcelessFileLoader (a .pyc without its .py).
MODEL_LOADERS = [(importlib.machinery.ExtensionFileLoader, importlib.machinery.EXTENSION_SUFFIXES),
                 (SourceOnlyLoader, importlib.machinery.SOURCE_SUFFIXES)]
MODEL_ROOTS = []  # the model directories loaded in this process, resolved


def in_model(path):
    """Whether a sys.path entry is a model directory or inside one."""
    resolved = os.path.realpath(path or os.getcwd())
    return any(os.path.commonpath([root, resolved]) == root for root in MODEL_ROOTS)


def model_finder(path):
    """sys.path_hooks' first hook: a model directory and every folder under it (packages, a
    folder the model puts on sys.path, an archive there too, whose .pyc files zipimport would run)
    are searched with MODEL_LOADERS only; any other path goes on to the usual hooks."""
    if not in_model(path):
        raise ImportError("not in a model directory")
    return importlib.machinery.FileFinder(path, *MODEL_LOADERS)


def sources_only(model_dir):
    """Makes Python run the model directory's sources, the files that were audited, and never
    bytecode shipped beside them: an unchecked-hash __pycache__/interface.cpython-3X.pyc would run
    instead of interface.py without a look at it, and a features.pyc alone would be importable.
    model_finder gives the directory and the folders under it SourceOnlyLoader and the extension
    loader only, and load_model loads interface.py with SourceOnlyLoader; no bytecode is written
    (sys.dont_write_bytecode). Only the model directory is touched: the libraries keep reading
    their installed bytecode. A global sys.pycache_prefix (an empty folder of the process's own)
    would also hide the model's __pycache__, but would make every library compile from source at
    each start (pandas, numpy and fastapi: 1.2 s -> 3.9 s), so it is not used."""
    sys.dont_write_bytecode = True
    root = os.path.realpath(model_dir)
    if root not in MODEL_ROOTS:
        MODEL_ROOTS.append(root)
    if model_finder in sys.path_hooks:
        sys.path_hooks.remove(model_finder)
    sys.path_hooks.insert(0, model_finder)
    for path in [p for p in sys.path_importer_cache if isinstance(p, str) and in_model(p)]:  # made before the hook
        del sys.path_importer_cache[path]


def load_model(model_dir):
    """interface.py's load_model(), with the model directory importable (its own modules), from
    source only (sources_only, SourceOnlyLoader)."""
    sources_only(model_dir)
    sys.path.insert(0, str(model_dir))
    path = f"{model_dir}/interface.py"
    spec = importlib.util.spec_from_file_location("interface", path, loader=SourceOnlyLoader("interface", path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_model()


def column_fits(values, spec):
    """Whether every value of one input's column fits it, decided by C-level passes (map, set,
    sum) for the common types; False also means "not decided here": check() then judges each
    value, so a batch this passes is exactly one check() would pass."""
    kind = spec["type"]
    types = set(map(type, values))
    dtype = spec.get("dtype")
    if kind == "float":
        if not types <= {float, int}:
            return False
        try:
            if not math.isfinite(math.fsum(values)):  # an inf or a nan anywhere makes the sum one
                return False
        except OverflowError:  # an int beyond float64
            return False
        return dtype in (None, "float64") or max(map(abs, values)) <= FLOAT_LIMITS[dtype]
    if kind == "int":
        if types != {int}:
            return False
        low, high = int_range(dtype or "int64")
        return low <= min(values) and max(values) < high
    if kind in ("bool", "string"):
        return types == {{"bool": bool, "string": str}[kind]}
    if kind == "categorical" and spec.get("categories"):
        return types == {str} and set(values) <= set(spec["categories"])
    return False


def fitting_batch(instances, inputs, names):
    """The rows of a batch whose instances all have the same form (all mappings of exactly the
    inputs, or all lists of as many values) and whose every column fits, else None."""
    shapes = set(map(type, instances))
    if shapes == {dict}:
        wanted = set(names)
        if not all(map(wanted.__eq__, map(set, instances))):
            return None
        columns = [[instance[name] for instance in instances] for name in names]
        rows = instances
    elif shapes == {list}:
        if set(map(len, instances)) != {len(names)}:
            return None
        columns = list(map(list, zip(*instances)))
        rows = None
    else:
        return None
    if not all(column_fits(column, spec) for column, spec in zip(columns, inputs)):
        return None
    return rows if rows is not None else [dict(zip(names, instance)) for instance in instances]


def validate(instances, inputs):
    """The instances as rows, one per instance (a list instance becomes a mapping, positionally;
    None where it is neither), and every problem with them: {"instance": index, "input": name,
    "error": why}. A batch whose columns all fit by column_fits is taken at once (10,000 rows of
    floats in a few milliseconds); any other goes through check() value by value, so the
    problems are always check()'s."""
    names = [i["name"] for i in inputs]
    if instances and inputs:
        rows = fitting_batch(instances, inputs, names)
        if rows is not None:
            return rows, []
    problems, rows = [], []
    for index, instance in enumerate(instances):
        if isinstance(instance, list):
            if len(instance) != len(inputs):
                expected = f"expected {len(inputs)} values ({', '.join(names)}), got {len(instance)}"
                problems.append({"instance": index, "error": expected})
                rows.append(None)
                continue
            instance = dict(zip(names, instance))
        if not isinstance(instance, dict):
            problems.append({"instance": index, "error": "an instance must be an object or a list"})
            rows.append(None)
            continue
        for name in sorted(set(instance) - set(names)):
            problems.append({"instance": index, "input": name, "error": "is not an input of this model"})
        for spec in inputs:
            if spec["name"] not in instance:
                problems.append({"instance": index, "input": spec["name"], "error": "is missing"})
            else:
                error = check(instance[spec["name"]], spec)
                if error:
                    problems.append({"instance": index, "input": spec["name"], "error": error})
        rows.append(instance)
    return rows, problems


def batch_size(serving, given=None, default=1024):
    """Rows per call to predict() in a batch run: the one asked for, else metadata.yaml's
    resources.batch_size, else the runner's default (1024 for predict, 10,000 for Spark and Ray)."""
    return given or (serving.get("resources") or {}).get("batch_size") or default


def jsonable(value):
    """A prediction as JSON values (numpy arrays and scalars become lists and numbers)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def follow_supervisor():
    """A process modelpack supervises (a `serve --reload` worker, `modelpack test`'s smoke test) ends
    with it: when the supervisor dies, even by SIGKILL, Linux sends this process SIGTERM
    (PR_SET_PDEATHSIG), so no orphan keeps a port, the model in memory or a cache entry in use."""
    supervisor = os.environ.get("MODELPACK_SUPERVISOR_PID")
    if not supervisor or os.getpid() == int(supervisor) or not sys.platform.startswith("linux"):
        return
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != int(supervisor):  # it died before the call
        os.kill(os.getpid(), signal.SIGTERM)
