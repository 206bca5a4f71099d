"""A boxed model as batch inference on Apache Spark and Ray Data, with the server's loader and input
check (modelpack_inputs) and the bundle verified where it runs (modelpack_bundle). Docs/SCALE.md.

In a Spark job (the bundle a path the driver can read; Spark ships it to the executors):

    from modelpack_batch import spark_udf
    predict = spark_udf(spark, "iris.zip")            # typed from metadata.yaml's outputs
    scored = df.withColumn("species", predict())      # the columns named by the inputs, or
    scored = df.withColumn("species", predict("a", "b", "c", "d"))   # positionally

On Ray (the bundle a path every node can read):

    from modelpack_batch import ray_predictor
    Predictor = ray_predictor("iris.zip")
    scored = ds.map_batches(Predictor, batch_size=Predictor.batch_size, batch_format="pandas",
                            compute=ray.data.ActorPoolStrategy(min_size=1, max_size=2))

Each executor process or actor unpacks and verifies the bundle once into its cache (keyed by the
bundle digest) and loads the model once. A row that does not fit the inputs fails the job with its
position, or with skip_invalid is given a null prediction (Spark) or left out (Ray).

The bundle is held to the limits of Docs/SECURITY.md ("Limits") on the driver and wherever it is
unpacked: the defaults, or those given (`limits=modelpack_bundle.Limits(max_path_bytes=2048)` for a
bundle built with a raised --max-path-length); `modelpack predict` gives its own in serving.json.
They travel to the executors and actors in the job's description (Scorer.of).

`modelpack predict BUNDLE --engine spark|ray` runs `main` here in the model's environment:

    modelpack_batch.py --engine spark|ray --bundle B --serving serving.json --input IN --output OUT
                       [--master URL] [--address ADDR] [--batch-size N] [--skip-invalid]
                       [--id-column NAME]
"""
import argparse
import gc
import json
import os
import re
import shutil
import sys
import time
import typing
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from modelpack_bundle import SERVING_KEYS, BundleError, Limits, cached  # the runtime's modules, beside this file
from modelpack_inputs import batch_size as default_batch
from modelpack_inputs import category_text, column_fits, jsonable, load_model, validate
from modelpack_predict import convert

RUNTIME = Path(__file__).resolve().parent
MODULES = ["modelpack_bundle.py", "modelpack_inputs.py", "modelpack_predict.py", "modelpack_batch.py"]
BAD_ROW = "modelpack-bad-row: "
URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
# Rows per predict() call on the engines unless asked or given by resources.batch_size: Spark's own
# Arrow batch (spark.sql.execution.arrow.maxRecordsPerBatch), which MLflow's spark_udf also uses.
ENGINE_BATCH = 10000


class BadRow(ValueError):
    """A row that does not fit the inputs; its text starts with BAD_ROW so the driver can find it
    in an engine's wrapped error."""


def describe(model_dir):
    """What the runtime needs from metadata.yaml (name, version, inputs, outputs), read with PyYAML
    by YAML 1.2's core schema as modelpack reads it (`yes` and `on` stay text), categories as text."""
    try:
        import yaml
    except ImportError:
        raise RuntimeError("reading metadata.yaml needs PyYAML on the driver (pip install pyyaml)") from None

    class Core(yaml.SafeLoader):
        pass

    Core.yaml_implicit_resolvers = {k: [r for r in v if r[0] != "tag:yaml.org,2002:bool"]
                                    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    Core.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                               list("tTfF"))
    metadata = yaml.load((Path(model_dir) / "metadata.yaml").read_text(encoding="utf-8"), Loader=Core) or {}
    inputs = []
    for spec in metadata.get("inputs") or []:
        spec = dict(spec)
        if "categories" in spec:
            spec["categories"] = [category_text(c) or "" for c in spec["categories"]]
        inputs.append(spec)
    return {"name": str(metadata.get("name", "model")), "version": str(metadata.get("version", "0")),
            "inputs": inputs, "outputs": metadata.get("outputs") or [], "resources": metadata.get("resources") or {}}


def with_limits(description, limits):
    """`description` with `limits` as serving.json gives them, for the scorers (Scorer.of) of the
    executors and actors the description is shipped to."""
    return {**description, "limits": dict(zip(SERVING_KEYS, limits))}


# Output types: metadata.yaml's output types as Spark SQL types (Arrow carries them to pandas).
SQL_TYPES = {"float": "double", "int": "bigint", "bool": "boolean", "string": "string", "categorical": "string"}
TENSOR_TYPES = {"bool": "boolean", "string": "string"}


def sql_type(output, flat=False):
    kind = output.get("type")
    if kind == "tensor":
        if flat:
            return "string"  # JSON text in a CSV cell
        dtype = output.get("dtype") or "float32"
        element = TENSOR_TYPES.get(dtype, "bigint" if dtype.startswith(("int", "uint")) else "double")
        for _ in output.get("shape") or [None]:
            element = f"array<{element}>"
        return element
    return SQL_TYPES.get(kind, "string")


def result_columns(outputs, flat=False):
    """(column, SQL type) per prediction column: one output gives one column named `prediction`,
    several one column each (the model's predict() returns mappings with those names), none a
    `prediction` column of JSON text."""
    if len(outputs) > 1:
        return [(o["name"], sql_type(o, flat)) for o in outputs]
    return [("prediction", sql_type(outputs[0], flat) if outputs else "string")]


def quoted(name):
    return "`" + name.replace("`", "``") + "`"


class Scorer:
    """The model of one bundle, loaded once in this process, scoring pandas frames."""

    _loaded: typing.ClassVar[dict] = {}  # by bundle digest: one model per process

    @classmethod
    def of(cls, bundle, description, digest=None):
        """The scorer of `bundle`, verified with the limits in `description` (serving.json's, or those
        spark_udf and ray_predictor were given) by the first call in this process."""
        scorer = cls._loaded.get(digest or bundle)
        if scorer is None:
            scorer = cls._loaded[digest or bundle] = cls(bundle, description, digest)
        return scorer

    def __init__(self, bundle, description, digest=None):
        folder, found = cached(bundle, limits=Limits.from_serving(description))
        if digest and found != digest:
            raise BundleError(f"{bundle}: its digest is {found}, the job was started with {digest}")
        self.inputs, self.outputs = description["inputs"], description.get("outputs") or []
        self.model = load_model(folder)
        # What exists now (the model, the imported libraries) lives as long as the process: out of
        # the cyclic collector, whose full passes would walk it again and again (as the server
        # does; 1,000,000 iris rows scored in one process: 5.5 s -> 4.1 s, medians of 5; end to end
        # within Benchmarks/scale.sh's noise).
        gc.collect()
        gc.freeze()

    def score(self, frame, text=False):
        """(predictions, problems) for a pandas frame of input columns: one prediction per row (None
        for a row with a problem) and {row index: why} for the rows that do not fit the inputs."""
        rows = frame.to_dict("records")
        if not text and self.fits(frame):  # every value fits, told by the columns' types
            result = jsonable(self.model.predict(rows))
            self.check_count(result, len(rows))
            return result, {}
        bad = {}
        if text:  # CSV cells as the values their inputs take
            specs = {spec["name"]: spec for spec in self.inputs}
            for index, row in enumerate(rows):
                for name, cell in row.items():
                    spec = specs.get(name)
                    if spec is None or not (cell is None or isinstance(cell, str)):
                        continue
                    try:
                        row[name] = convert(cell, spec)
                    except ValueError as error:
                        bad[index] = f"input '{name}' {error}"
                        break
        good = [i for i in range(len(rows)) if i not in bad]
        checked, problems = validate([rows[i] for i in good], self.inputs)
        for problem in problems:
            where = f"input '{problem['input']}' " if "input" in problem else ""
            bad.setdefault(good[problem["instance"]], f"{where}{problem['error']}")
        keep = [i for i in good if i not in bad]
        predictions = [None] * len(rows)
        if keep:
            position = {i: n for n, i in enumerate(good)}
            result = jsonable(self.model.predict([checked[position[i]] for i in keep]))
            self.check_count(result, len(keep))
            for i, prediction in zip(keep, result):
                predictions[i] = prediction
        return predictions, bad

    def scored(self, frame, ids, where, skip_invalid=False, text=False, flat=False):
        """One batch's result frame: an `id` column (`ids`, one per row; none when None) and the
        result columns. A row that does not fit the inputs fails the batch with BadRow
        (`where(index)` names the row) or, with skip_invalid, is left out with a warning."""
        predictions, bad = self.score(frame, text=text)
        if bad and not skip_invalid:
            first = min(bad)
            raise BadRow(f"{BAD_ROW}{where(first)}: {bad[first]}")
        for index in sorted(bad):
            print(f"warning: {where(index)}: {bad[index]}; skipped", file=sys.stderr)
        keep = [i for i in range(len(frame)) if i not in bad]
        out = self.frame([predictions[i] for i in keep], flat=flat)
        if ids is not None:
            out.insert(0, "id", [ids[i] for i in keep])
        return out

    @staticmethod
    def check_count(result, rows):
        if not isinstance(result, list) or len(result) != rows:
            count = len(result) if isinstance(result, list) else type(result).__name__
            raise RuntimeError(f"interface.py: predict() returned {count} for {rows} rows (one item per row)")

    def fits(self, frame):
        """Whether every value of the frame fits its input, decided for whole columns at once: the
        inputs' columns exactly, numeric or boolean, without nulls, each passing the server's
        column_fits (the shared check's answer for a column: type and dtype range). False also
        means "not decided here": the check then judges value by value and names the row."""
        if sorted(frame.columns) != sorted(spec["name"] for spec in self.inputs):
            return False
        for spec in self.inputs:
            column = frame[spec["name"]]
            # hasnans: also pandas' nullable integers and booleans with missing values.
            if column.hasnans or column.dtype.kind not in "iufb":
                return False
            if not column_fits(column.to_numpy().tolist(), spec):
                return False
        return True

    def frame(self, predictions, flat=False):
        """The predictions as a pandas frame of the result columns (object columns, so that a
        missing prediction is a null, not NaN). `flat`: tensors as JSON text, for CSV."""
        import pandas as pd

        columns = result_columns(self.outputs, flat)
        if len(columns) > 1:
            data = {n: [p.get(n) if isinstance(p, dict) else None for p in predictions] for n, _ in columns}
        else:
            one = self.outputs[0]["name"] if self.outputs else None
            data = {"prediction": [p[one] if isinstance(p, dict) and len(p) == 1 and one in p else p
                                   for p in predictions]}
        for name, sql in columns:
            if sql == "string":
                data[name] = [v if v is None or isinstance(v, str) else json.dumps(v) for v in data[name]]
        return pd.DataFrame({name: pd.Series(values, dtype=object) for name, values in data.items()})


def spark_udf(spark, bundle, result_type=None, skip_invalid=False, batch_size=None, limits=None):
    """A pandas UDF over the model's inputs, from a bundle at a local path or at any URL Spark reads
    (`hdfs://`, `s3a://` with the cluster's connectors, `file://`). Call it with no columns (the
    input names), or with one column per input in metadata.yaml's order. Its type is the metadata
    outputs' (one output: that type; several: a struct) unless `result_type` says otherwise.
    `batch_size` sets the session's Arrow batch (spark.sql.execution.arrow.maxRecordsPerBatch), by
    default metadata.yaml's resources.batch_size when it gives one. `limits` (a modelpack_bundle.Limits)
    the bundle is held to, on the driver and on every executor; the defaults unless given."""
    from pyspark import SparkFiles, TaskContext
    from pyspark.sql import functions as F
    from pyspark.sql.functions import pandas_udf

    if URL.match(bundle):  # any path Spark reads (hdfs://, s3a://, file://...): fetched by addFile
        spark.sparkContext.addFile(bundle)
        name = bundle.rstrip("/").rsplit("/", 1)[-1]
        local = SparkFiles.get(name)  # the driver's own copy, to verify and describe
    else:
        local = os.path.abspath(bundle)
        name = os.path.basename(local)
        spark.sparkContext.addFile(local)
    limits = limits or Limits()
    folder, digest = cached(local, limits=limits)
    description = with_limits(describe(folder), limits)
    for module in MODULES:
        spark.sparkContext.addPyFile(str(RUNTIME / module))
    batch_size = batch_size or (description.get("resources") or {}).get("batch_size")
    if batch_size:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch_size))
    columns = result_columns(description["outputs"])
    struct = len(columns) > 1
    if result_type is None:
        result_type = ("struct<" + ",".join(f"{quoted(n)}:{t}" for n, t in columns) + ">") if struct else columns[0][1]

    def predict(batches):
        scorer = Scorer.of(SparkFiles.get(name), description, digest)
        partition, offset = TaskContext.get().partitionId(), 0
        for frame in batches:
            predictions, bad = scorer.score(frame)
            if bad and not skip_invalid:
                first = min(bad)
                raise BadRow(f"{BAD_ROW}{name}: row {offset + first + 1} of partition {partition}: {bad[first]}")
            result = scorer.frame(predictions)
            yield result if struct else result["prediction"]
            offset += len(frame)

    import pandas as pd

    predict.__annotations__ = {"batches": typing.Iterator[pd.DataFrame],
                               "return": typing.Iterator[pd.DataFrame if struct else pd.Series]}
    udf = pandas_udf(predict, result_type)
    names = [spec["name"] for spec in description["inputs"]]

    def call(*given):
        given = given or names
        if len(given) != len(names):
            raise ValueError(f"{name}: the model takes {len(names)} inputs ({', '.join(names)}), given {len(given)}")
        return udf(F.struct(*[(F.col(c) if isinstance(c, str) else c).alias(n) for c, n in zip(given, names)]))

    return call


def ray_predictor(bundle, skip_invalid=False, batch_size=None, id_column=None, text=False, limits=None):
    """A callable class for ray.data.Dataset.map_batches (batch_format "pandas"): each actor loads
    the model once; a batch comes back with the result columns added (the input columns dropped),
    rows that do not fit the inputs failing the job or, with skip_invalid, left out. The class's
    `batch_size` is the argument, else metadata.yaml's resources.batch_size, else 10,000; its
    `num_cpus` is resources.cpu (default 1). `limits` (a modelpack_bundle.Limits) the bundle is held
    to, here and in every actor; the defaults unless given."""
    bundle = os.path.abspath(bundle)
    limits = limits or Limits()
    folder, digest = cached(bundle, limits=limits)
    description = with_limits(describe(folder), limits)
    return _predictor(bundle, description, digest, skip_invalid, batch_size, id_column, text)


def _predictor(bundle, description, digest, skip_invalid, batch_size, id_column, text, numbered=None, flat=False):
    """`numbered`: the ids are row numbers of this input (named so in messages); `flat`: for CSV."""
    name = os.path.basename(bundle)
    cpu = description.get("resources", {}).get("cpu", 1)
    if isinstance(cpu, str) and cpu.endswith("m"):
        cpu = int(cpu[:-1]) / 1000

    class Predictor:
        def __init__(self):
            self.scorer = Scorer.of(bundle, description, digest)

        def __call__(self, frame):
            ids = frame[id_column].tolist() if id_column else None
            inputs = frame.drop(columns=[id_column]) if id_column else frame

            def where(index):
                if numbered:
                    return f"{numbered}: row {ids[index]}"
                return f"{name}: id {ids[index]}" if id_column else f"{name}: row {index + 1} of a batch"

            return self.scorer.scored(inputs, ids, where, skip_invalid, text, flat)

        def table(self, table):
            """An Arrow table scored into an Arrow table (predict --engine ray's actors)."""
            import pyarrow as pa

            return pa.Table.from_pandas(self(table.to_pandas()), preserve_index=False)

    Predictor.batch_size = default_batch(description, batch_size, ENGINE_BATCH)
    Predictor.num_cpus = float(cpu)
    Predictor.__qualname__ = Predictor.__name__ = f"Predictor[{description['name']}]"
    return Predictor


# The command line (`modelpack predict --engine`).

def run_spark(args, description, digest):
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    if args.master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        raise BundleError("Spark needs Java 17 or newer: no java on PATH and no JAVA_HOME")
    builder = SparkSession.builder.appName(f"modelpack predict {description['name']}").master(args.master)
    settings = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false",
                "spark.sql.execution.arrow.pyspark.enabled": "true",
                "spark.sql.execution.arrow.maxRecordsPerBatch": str(args.batch_size)}
    given = dict(item.split("=", 1) for item in args.conf)
    # The executors' Python: --conf spark.pyspark.python (one they already have, an image's), else
    # on a cluster this environment as an archive Spark unpacks beside each executor, else (local)
    # this very Python. PySpark takes it from PYSPARK_PYTHON when the driver is not spark-submit.
    python = given.get("spark.pyspark.python")
    if python is None and not args.master.startswith("local"):
        settings["spark.archives"] = f"{packed_environment()}#modelpack-env"
        python = "./modelpack-env/bin/python"
    os.environ["PYSPARK_PYTHON"] = python or os.environ.get("PYSPARK_PYTHON") or sys.executable
    settings.update(given)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    # Splits small enough that every core gets a share of a small input (Spark's default packs
    # anything under 4 MiB per core into one task), in the input's order.
    cores = spark.sparkContext.defaultParallelism
    split = max(1 << 20, min(128 << 20, -(-input_bytes(args.input) // cores)))
    spark.conf.set("spark.sql.files.maxPartitionBytes", str(split))
    spark.conf.set("spark.sql.files.openCostInBytes", str(64 << 10))
    spark.sparkContext.setLogLevel("FATAL")  # the failures that matter are reported below
    try:
        sc = spark.sparkContext
        sc.addFile(args.bundle)
        for module in MODULES:
            sc.addPyFile(str(RUNTIME / module))
        text = args.input_format == "csv"
        reader = spark.read.option("header", "true").option("mode", "FAILFAST") if text else spark.read
        frame = reader.csv(args.input) if text else reader.parquet(args.input)
        check_columns(args, description, frame.columns)
        inputs = [spec["name"] for spec in description["inputs"]]
        counts = dict(frame.groupBy(F.spark_partition_id().alias("p")).count().collect())
        bases, total = {}, 0
        for partition in sorted(counts):
            bases[partition], total = total, total + counts[partition]
        name, skip, id_column = os.path.basename(args.bundle), args.skip_invalid, args.id_column
        flat = args.output_format == "csv"
        scorer_columns = result_columns(description["outputs"], flat=flat)
        id_type = dict(frame.dtypes)[id_column] if id_column else "bigint"
        schema = ", ".join([f"id {id_type}"] + [f"{quoted(n)} {t}" for n, t in scorer_columns])
        position = f"{args.shown}: row"

        def predict(batches):
            from pyspark import SparkFiles, TaskContext

            scorer = Scorer.of(SparkFiles.get(name), description, digest)
            offset = bases.get(TaskContext.get().partitionId(), 0)
            for batch in batches:
                ids = batch[id_column].tolist() if id_column else list(range(offset + 1, offset + len(batch) + 1))

                def where(index, offset=offset, ids=ids):
                    return f"{position} {offset + index + 1}" + (f" (id {ids[index]})" if id_column else "")

                yield scorer.scored(batch[inputs], ids, where, skip, text, flat)
                offset += len(batch)

        scored = frame.mapInPandas(predict, schema)
        writer = scored.write.mode("errorifexists")
        (writer.option("header", "true").csv if args.output_format == "csv" else writer.parquet)(args.temporary)
        written = spark.read.parquet(args.temporary).count() if args.output_format == "parquet" else \
            spark.read.option("header", "true").csv(args.temporary).count()
        return written, total - written
    finally:
        spark.stop()


def run_ray(args, description, digest):
    """The driver reads the input in its order (a file, or a folder's files sorted by name) batch by
    batch, numbers the rows and hands each batch to one of a pool of Ray actors (the class
    ray_predictor gives, one per `resources.cpu` the cluster has), at most two batches per actor in
    flight, so memory stays bounded whatever the input's size; it writes the results as they come
    back, in order, to one part file. Ray Data's map_batches over its own reader and writer took
    21-24 s for 1,000,000 iris rows on 2 CPUs where this takes 12-15 (Benchmarks/scale.sh): its
    streaming executor, a write task per block competing with the actors for the CPUs, and row
    numbers that needed the whole input materialised and counted first."""
    import collections
    import logging

    import pyarrow as pa
    import ray

    runtime_env = {"working_dir": str(RUNTIME)}  # the runtime's modules, for every worker
    if args.address:
        # A cluster's workers get the model's requirements in a virtualenv Ray makes (and caches)
        # on each node on top of the cluster's Python, which must be the model's Python version.
        folder, _ = cached(args.bundle, limits=args.limits)
        requirements = [line.strip() for line in (folder / "requirements.txt").read_text().splitlines()
                        if line.strip() and not line.strip().startswith("#")]
        if requirements:
            runtime_env["pip"] = requirements
    ray.init(address=args.address, include_dashboard=False, log_to_driver=True, runtime_env=runtime_env,
             logging_level="ERROR", configure_logging=True)
    for logger in ("ray", "ray.data"):
        logging.getLogger(logger).setLevel(logging.ERROR)  # the failures that matter are reported below
    try:
        source = input_dataset(args, description)
        check_columns(args, description, source.schema.names)
        id_column, numbered = (args.id_column, None) if args.id_column else ("id", args.shown)
        flat = args.output_format == "csv"
        id_type = source.schema.field(args.id_column).type if args.id_column else pa.int64()
        results = [(name, arrow_type(sql)) for name, sql in result_columns(description["outputs"], flat)]
        schema = pa.schema([("id", id_type), *results])
        predictor = _predictor(args.bundle, description, digest, args.skip_invalid, args.batch_size, id_column,
                               args.input_format == "csv", numbered, flat=flat)
        count = max(1, int(ray.cluster_resources().get("CPU", 1) // max(predictor.num_cpus, 1e-3)))
        actor = ray.remote(predictor).options(num_cpus=predictor.num_cpus, max_restarts=1, max_task_retries=1)
        actors = [actor.remote() for _ in range(count)]  # they load the model while the input is read
        pending, total, sent = collections.deque(), 0, 0

        def batches():
            nonlocal total, sent
            for batch in source.to_batches(batch_size=predictor.batch_size):
                if batch.num_rows:
                    table = pa.Table.from_batches([batch])
                    if not args.id_column:
                        numbers = pa.array(range(total + 1, total + table.num_rows + 1), pa.int64())
                        table = table.add_column(0, "id", numbers)
                    total += table.num_rows
                    pending.append(actors[sent % count].table.remote(table))
                    sent += 1
                    while len(pending) > 2 * count:
                        yield ray.get(pending.popleft())
            while pending:
                yield ray.get(pending.popleft())

        written = write_results(args, schema, batches())
        return written, total - written
    finally:
        ray.shutdown()


def input_dataset(args, description):
    """The input as a pyarrow dataset, its files in name order: CSV cells as text (converted by the
    declared input types when scored, as `predict` does), Parquet with its own column types."""
    import pyarrow as pa
    import pyarrow.csv
    import pyarrow.dataset as pds

    if args.input_format == "csv":
        strings = {spec["name"]: pa.string() for spec in description["inputs"]}
        if args.id_column:
            strings.pop(args.id_column, None)
        options = pyarrow.csv.ConvertOptions(column_types=strings, strings_can_be_null=True)
        data_format = pds.CsvFileFormat(convert_options=options)
    else:
        data_format = pds.ParquetFileFormat()
    found = pds.dataset(args.input, format=data_format)
    return pds.dataset(sorted(found.files), format=data_format, filesystem=found.filesystem)


def arrow_type(sql):
    import pyarrow as pa

    if sql.startswith("array<"):
        return pa.list_(arrow_type(sql[len("array<"):-1]))
    return {"double": pa.float64(), "bigint": pa.int64(), "boolean": pa.bool_()}.get(sql, pa.string())


def write_results(args, schema, batches):
    """The scored batches (Arrow tables), cast to the result types (as Spark's schema types them), into
    args.temporary/part-00000.parquet or .csv (with a header); the rows written."""
    import pyarrow as pa
    import pyarrow.csv
    import pyarrow.parquet as pq

    os.makedirs(args.temporary)
    path = os.path.join(args.temporary, f"part-00000.{args.output_format}")
    writer = pq.ParquetWriter(path, schema) if args.output_format == "parquet" else pyarrow.csv.CSVWriter(path, schema)
    written = 0
    try:
        for table in batches:
            try:
                table = table.select(schema.names).cast(schema)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, KeyError) as error:
                declared = ", ".join(f"{field.name} {field.type}" for field in schema)
                raise BundleError(f"interface.py: predict() returned values that do not fit the declared outputs"
                                  f" ({declared}): {error}") from None
            writer.write_table(table)
            written += table.num_rows
    finally:
        writer.close()
    return written


def packed_environment():
    """This virtualenv packed with venv-pack (once per change of the environment, beside it), for
    spark.archives: everything but pyspark and ray, which the cluster's workers bring."""
    import venv_pack

    prefix = Path(sys.prefix)
    archive = prefix.parent / "spark-env.tar.gz"
    markers = list(prefix.glob(".modelpack-*"))
    newest = max((m.stat().st_mtime for m in markers), default=0)
    if not archive.exists() or archive.stat().st_mtime < newest:
        print(f"packing the model's environment {prefix} for the executors (once) -> {archive}", file=sys.stderr)
        temporary = archive.with_name(f".modelpack-tmp-{os.getpid()}-{archive.name}")
        filters = [("exclude", "lib/python*/site-packages/pyspark/*"), ("exclude", "lib/python*/site-packages/ray/*")]
        venv_pack.pack(prefix=str(prefix), output=str(temporary), format="tar.gz", compress_level=1, filters=filters,
                       force=True)
        os.replace(temporary, archive)
    return archive


def input_bytes(path):
    if os.path.isdir(path):
        return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
    return os.path.getsize(path)


def check_columns(args, description, columns):
    names = [spec["name"] for spec in description["inputs"]]
    if args.id_column and args.id_column not in columns:
        raise BadRow(f"{BAD_ROW}{args.shown}: no column '{args.id_column}' (--id-column); it has {', '.join(columns)}")
    missing = [n for n in names if n not in columns]
    if missing:
        raise BadRow(f"{BAD_ROW}{args.shown}: no column for input '{missing[0]}'; it has {', '.join(columns)}")
    extra = [c for c in columns if c not in names and c != args.id_column]
    if extra:
        raise BadRow(f"{BAD_ROW}{args.shown}: column '{extra[0]}' is not an input of this model"
                     " (give it as --id-column, or leave it out)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--engine", choices=["spark", "ray"], required=True)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--serving", required=True)
    parser.add_argument("--input", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--address")
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--skip-invalid", action="store_true")
    parser.add_argument("--id-column")
    parser.add_argument("--conf", action="append", default=[], help="KEY=VALUE for Spark (repeatable)")
    args = parser.parse_args()
    bad_conf = [item for item in args.conf if "=" not in item]
    if bad_conf:
        print(f"error: --conf '{bad_conf[0]}': give KEY=VALUE", file=sys.stderr)
        return 2
    args.shown = args.input  # as given, for messages
    for name in ("bundle", "input", "output"):
        setattr(args, name, os.path.abspath(getattr(args, name)))
    args.input_format = "csv" if args.input.lower().rstrip("/").endswith(".csv") else "parquet"
    args.output_format = "csv" if args.output.lower().endswith(".csv") else "parquet"
    args.temporary = f"{args.output}.modelpack-tmp-{os.getpid()}"
    description = json.loads(Path(args.serving).read_text(encoding="utf-8"))
    args.batch_size = default_batch(description, args.batch_size, ENGINE_BATCH)
    started = time.perf_counter()
    try:
        # serving.json's limits (the modelpack binary's flags): here, and through `description` in
        # every executor and actor (Scorer.of).
        args.limits = Limits.from_serving(description, args.serving)
        _, digest = cached(args.bundle, limits=args.limits)
        run = run_spark if args.engine == "spark" else run_ray
        written, skipped = run(args, description, digest)
        if os.path.exists(args.output):
            raise BundleError(f"{args.output}: already exists (written by someone else during the run)")
        os.rename(args.temporary, args.output)
    except BaseException as error:
        shutil.rmtree(args.temporary, ignore_errors=True)
        found = re.search(re.escape(BAD_ROW) + r"([^\n]*)", str(error))
        if found or isinstance(error, BundleError):
            print(f"error: {found.group(1) if found else error}", file=sys.stderr)
            return 1
        if isinstance(error, Exception):
            lines = [line for line in str(error).strip().splitlines() if line.strip()]
            reason = lines[-1] if lines else type(error).__name__
            print(f"error: the {args.engine} job failed: {reason}", file=sys.stderr)
            return 1
        raise
    seconds = time.perf_counter() - started
    rate = written / max(seconds, 1e-9)
    print(f"predicted {written} rows ({skipped} skipped) on {args.engine} in {seconds:.2f} s, {rate:,.0f} rows/s"
          f" -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    import modelpack_batch  # the functions the engines ship must be the module's, not __main__'s

    sys.exit(modelpack_batch.main())
