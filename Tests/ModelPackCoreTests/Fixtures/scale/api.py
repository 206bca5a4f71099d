"""The Python API of modelpack_batch as a user's own job calls it (ScaleTests):

    api.py spark|ray RUNTIME_DIR BUNDLE MODEL_DIR

spark: spark_udf over a DataFrame (columns by input name, then positionally; a bad row fails with
its partition and row, or is null with skip_invalid); ray: ray_predictor in map_batches. Prints
one JSON line: {"rows", "differing", "bad", "nulls"}."""
import importlib.util
import json
import random
import sys

engine, runtime, bundle, model_dir = sys.argv[1:5]
sys.path.insert(0, runtime)
import modelpack_batch  # noqa: E402
import pandas as pd  # noqa: E402

rng = random.Random(3)
NAMES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
frame = pd.DataFrame([[round(rng.uniform(lo, hi), 1) for lo, hi in [(4, 8), (2, 4.5), (1, 7), (0.1, 2.5)]]
                      for _ in range(20000)], columns=NAMES)
sys.path.insert(0, model_dir)
spec = importlib.util.spec_from_file_location("interface", f"{model_dir}/interface.py")
interface = importlib.util.module_from_spec(spec)
spec.loader.exec_module(interface)
own = interface.load_model().predict(frame.to_dict("records"))
report = {}

if engine == "spark":
    import os

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false").getOrCreate()
    spark.sparkContext.setLogLevel("FATAL")
    df = spark.createDataFrame(frame.reset_index().rename(columns={"index": "n"})).repartition(3, "n")
    predict = modelpack_batch.spark_udf(spark, bundle)
    by_name = df.withColumn("species", predict()).orderBy("n").select("species").toPandas()["species"].tolist()
    renamed = df.select("n", *[F.col(c).alias(c.upper()) for c in NAMES])
    positional = renamed.withColumn("species", predict(*[c.upper() for c in NAMES]))
    positional = positional.orderBy("n").select("species").toPandas()["species"].tolist()
    report["rows"] = len(by_name)
    report["differing"] = sum(a != b for a, b in zip(by_name, own)) + sum(a != b for a, b in zip(positional, own))
    bad = df.withColumn("sepal_length", F.when(F.col("n") == 777, F.lit(None)).otherwise(F.col("sepal_length")))
    try:
        bad.withColumn("species", predict()).collect()
        report["bad"] = "no error"
    except Exception as error:
        found = [line for line in str(error).splitlines() if modelpack_batch.BAD_ROW in line]
        report["bad"] = found[0].split(modelpack_batch.BAD_ROW, 1)[1] if found else str(error)[-300:]
    # The bundle at a URL (Spark's addFile fetches it, for the driver too), under another name.
    import shutil
    import tempfile

    elsewhere = os.path.join(tempfile.mkdtemp(), "fetched-iris.zip")
    shutil.copyfile(bundle, elsewhere)
    fetched = modelpack_batch.spark_udf(spark, "file://" + elsewhere)
    by_url = df.withColumn("species", fetched()).orderBy("n").select("species").toPandas()["species"].tolist()
    report["url_rows"] = len(by_url)
    report["url_differing"] = sum(a != b for a, b in zip(by_url, own))
    skipping = modelpack_batch.spark_udf(spark, bundle, skip_invalid=True)
    scored = bad.withColumn("species", skipping()).orderBy("n").toPandas()
    report["nulls"] = scored.index[scored["species"].isna()].tolist()
    spark.stop()
else:
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", runtime_env={"working_dir": runtime})
    Predictor = modelpack_batch.ray_predictor(bundle)
    # Before the dataset is made: a dataset keeps the context it was made with.
    ray.data.DataContext.get_current().execution_options.preserve_order = True
    ds = ray.data.from_pandas([frame.iloc[i:i + 5000] for i in range(0, 20000, 5000)])
    out = ds.map_batches(Predictor, batch_size=Predictor.batch_size, batch_format="pandas",
                         compute=ray.data.ActorPoolStrategy(min_size=1, max_size=2)).to_pandas()
    report["rows"] = len(out)
    report["differing"] = sum(a != b for a, b in zip(out["prediction"].tolist(), own))
    broken = frame.astype({"sepal_length": object})
    broken.loc[777, "sepal_length"] = "x"
    try:
        ray.data.from_pandas(broken).map_batches(Predictor, batch_size=5000, batch_format="pandas",
                                                 compute=ray.data.ActorPoolStrategy(size=1)).materialize()
        report["bad"] = "no error"
    except Exception as error:
        found = [line for line in str(error).splitlines() if modelpack_batch.BAD_ROW in line]
        report["bad"] = found[0].split(modelpack_batch.BAD_ROW, 1)[1] if found else str(error)[-300:]
    Skipping = modelpack_batch.ray_predictor(bundle, skip_invalid=True)
    kept = ray.data.from_pandas(broken).map_batches(Skipping, batch_size=5000, batch_format="pandas",
                                                    compute=ray.data.ActorPoolStrategy(size=1)).count()
    report["nulls"] = 20000 - kept
    ray.shutdown()
print(json.dumps(report))
