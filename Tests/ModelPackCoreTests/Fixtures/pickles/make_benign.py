"""Builds the benign corpus: artifacts that scikit-learn, numpy, pandas, xgboost, lightgbm and
joblib really produce, pickled by the libraries themselves (pickle.dump and joblib.dump, several
protocols). The scanner must report every one of them as safe, with no finding.

    python3 make_benign.py     # writes benign/*; needs scikit-learn, numpy, scipy, joblib,
                               # pandas, xgboost (or xgboost-cpu) and lightgbm
"""
import gzip
import pickle
from pathlib import Path

import joblib
import lightgbm
import numpy as np
import pandas as pd
import xgboost
from scipy import sparse
from sklearn.cluster import KMeans
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.decomposition import PCA
from sklearn.ensemble import GradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import LabelEncoder, OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

OUT = Path(__file__).resolve().parent / "benign"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    x, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(0)
    tabular = np.empty((150, 3), dtype=object)
    tabular[:, 0] = rng.choice(["a", "b", "c"], 150)
    tabular[:, 1] = x[:, 0]
    tabular[:, 2] = x[:, 1]
    pipeline = Pipeline([
        ("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), [0]), ("num", StandardScaler(), [1, 2])])),
        ("clf", LogisticRegression(max_iter=500)),
    ]).fit(tabular, y)
    models = {
        "random_forest": RandomForestClassifier(n_estimators=5, max_depth=3, random_state=0).fit(x, y),
        "pipeline_onehot_scaler_logreg": pipeline,
        "gradient_boosting": GradientBoostingClassifier(n_estimators=5, random_state=0).fit(x, y),
        "hist_gradient_boosting": HistGradientBoostingRegressor(max_iter=5).fit(x, x[:, 0]),
        "decision_tree": DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y),
        "svc": SVC(probability=False).fit(x, y),
        "kmeans": KMeans(n_clusters=3, n_init=1, random_state=0).fit(x),
        "pca": PCA(n_components=2).fit(x),
        "knn": KNeighborsClassifier().fit(x, y),
        "linear_regression": LinearRegression().fit(x, x[:, 0]),
        "label_encoder": LabelEncoder().fit(["setosa", "versicolor", "virginica"]),
        "tfidf": TfidfVectorizer().fit(["a small corpus", "of three documents", "for a vectorizer"]),
    }
    for name, model in models.items():
        joblib.dump(model, OUT / f"{name}.joblib")
    pickle.dump(models["random_forest"], open(OUT / "random_forest_p2.pkl", "wb"), protocol=2)
    pickle.dump(models["pipeline_onehot_scaler_logreg"], open(OUT / "pipeline_p5.pkl", "wb"), protocol=5)
    pickle.dump(models["linear_regression"], open(OUT / "linear_regression_p0.pkl", "wb"), protocol=0)
    pickle.dump(models["svc"], open(OUT / "svc_p4.pkl", "wb"), protocol=4)
    arrays = {"weights": rng.standard_normal((4, 3)).astype(np.float32), "ids": np.arange(5), "flags": np.array([True, False])}
    pickle.dump(arrays, open(OUT / "dict_of_arrays_p4.pkl", "wb"), protocol=4)
    pickle.dump(np.array(["x", 1, None], dtype=object), open(OUT / "object_array_p2.pkl", "wb"), protocol=2)
    joblib.dump({"matrix": sparse.random(5, 5, density=0.3, format="csr", random_state=0), "labels": np.array(["a", "b"])},
                OUT / "sparse_and_strings.joblib")
    joblib.dump(np.array(["x", "y", None], dtype=object), OUT / "object_array.joblib")
    joblib.dump(np.random.RandomState(0), OUT / "random_state.joblib")
    # pandas: a frame with every common dtype, a categorical series, and a pipeline fitted on a frame.
    frame = pd.DataFrame({
        "f": x[:, 0], "i": np.arange(150), "s": tabular[:, 0], "b": x[:, 1] > 3,
        "c": pd.Categorical(tabular[:, 0]), "t": pd.date_range("2026-01-01", periods=150, freq="h"),
    })
    pickle.dump(frame, open(OUT / "pandas_frame_p5.pkl", "wb"), protocol=5)
    pickle.dump(frame["c"], open(OUT / "pandas_categorical_p4.pkl", "wb"), protocol=4)
    joblib.dump(frame, OUT / "pandas_frame.joblib")
    on_frame = Pipeline([
        ("prep", ColumnTransformer([("cat", OneHotEncoder(handle_unknown="ignore"), ["s"]), ("num", StandardScaler(), ["f"])])),
        ("clf", LogisticRegression(max_iter=500)),
    ]).fit(frame, y)
    joblib.dump(on_frame, OUT / "pipeline_on_pandas_frame.joblib")
    # Gradient boosting libraries, through their scikit-learn wrappers and their own boosters.
    xgb = xgboost.XGBClassifier(n_estimators=3, max_depth=2, random_state=0).fit(x, y)
    joblib.dump(xgb, OUT / "xgboost_classifier.joblib")
    pickle.dump(xgb.get_booster(), open(OUT / "xgboost_booster_p4.pkl", "wb"), protocol=4)
    lgb = lightgbm.LGBMClassifier(n_estimators=3, num_leaves=4, random_state=0, verbose=-1).fit(x, y)
    joblib.dump(lgb, OUT / "lightgbm_classifier.joblib")
    pickle.dump(lgb.booster_, open(OUT / "lightgbm_booster_p4.pkl", "wb"), protocol=4)
    # Compressed by joblib (compress=3 is zlib; the others name the compressor), and a pickle written
    # through gzip (GzipFile with mtime 0, as gzip.open would but without the clock): the scanner
    # must decompress them and still find nothing.
    joblib.dump(models["random_forest"], OUT / "random_forest_compress3_zlib.joblib", compress=3)
    joblib.dump(models["pipeline_onehot_scaler_logreg"], OUT / "pipeline_compress_gzip3.joblib", compress=("gzip", 3))
    joblib.dump(models["decision_tree"], OUT / "decision_tree_compress_bz2_3.joblib", compress=("bz2", 3))
    joblib.dump(models["svc"], OUT / "svc_compress_xz3.joblib", compress=("xz", 3))
    joblib.dump(models["kmeans"], OUT / "kmeans_compress_lzma3.joblib", compress=("lzma", 3))
    with gzip.GzipFile(OUT / "pipeline_p4.pkl.gz", "wb", mtime=0) as f:
        pickle.dump(models["pipeline_onehot_scaler_logreg"], f, protocol=4)
    print(f"wrote {len(list(OUT.iterdir()))} benign files to {OUT}")


if __name__ == "__main__":
    main()
