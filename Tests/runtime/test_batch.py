"""The batch engines' fast path (modelpack_batch.Scorer.fits, whole pandas columns at once): a frame
it passes is one whose every value the shared check passes, for columns of every numeric kind
against every numeric input and dtype, and it does decide the common in-range columns."""
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd

RUNTIME = Path(__file__).resolve().parents[2] / "Sources/ModelPackCore/Serving/runtime"
sys.path.insert(0, str(RUNTIME))
import modelpack_batch  # noqa: E402
import modelpack_inputs  # noqa: E402

SPECS = [{"type": "float"}, {"type": "float", "dtype": "float32"}, {"type": "float", "dtype": "float16"},
         {"type": "float", "dtype": "float64"}, {"type": "int"}, {"type": "int", "dtype": "int8"},
         {"type": "int", "dtype": "uint8"}, {"type": "int", "dtype": "int32"}, {"type": "int", "dtype": "uint64"},
         {"type": "bool"}]
INT64 = np.iinfo(np.int64)
COLUMNS = [np.array([0.5, -3.0, 3.4e38]), np.array([1e39]), np.array([-1e39]), np.array([70000.0]),
           np.array([65504.0, -65504.0]), np.array([1.5, 2.5], np.float32), np.array([np.nan]), np.array([np.inf]),
           np.array([1, 2, 3]), np.array([-128, 127], np.int8), np.array([128], np.int16), np.array([255], np.uint8),
           np.array([-1]), np.array([2 ** 31]), np.array([INT64.max]), np.array([INT64.min]),
           np.array([2 ** 64 - 1], np.uint64), np.array([True, False])]


def fits(spec, column):
    scorer = types.SimpleNamespace(inputs=[{"name": "v", **spec}])
    return modelpack_batch.Scorer.fits(scorer, pd.DataFrame({"v": column}))


def problems(spec, column):
    rows = pd.DataFrame({"v": column}).to_dict("records")  # as Scorer.score hands them to the check
    return modelpack_inputs.validate(rows, [{"name": "v", **spec}])[1]


def test_a_column_the_fast_path_passes_is_one_the_check_passes():
    decided = 0
    for spec in SPECS:
        for column in COLUMNS:
            if fits(spec, column):
                assert problems(spec, column) == [], (spec, column)
                decided += 1
    assert decided > 20  # the fast path is taken, not always declined


def test_out_of_range_columns_go_to_the_check_which_names_the_problem():
    f32 = {"type": "float", "dtype": "float32"}
    assert not fits(f32, np.array([1e39]))
    assert "outside the range of float32" in problems(f32, np.array([1e39]))[0]["error"]
    assert not fits({"type": "int", "dtype": "int8"}, np.array([128], np.int16))
    assert not fits({"type": "int"}, np.array([2 ** 64 - 1], np.uint64))  # beyond int64, the default
    assert "outside the range of int64" in problems({"type": "int"}, np.array([2 ** 64 - 1], np.uint64))[0]["error"]
    assert fits({"type": "int", "dtype": "uint64"}, np.array([2 ** 64 - 1], np.uint64))
    assert fits({"type": "float", "dtype": "float16"}, np.array([65504.0, -65504.0]))
    assert not fits({"type": "float", "dtype": "float16"}, np.array([INT64.min]))  # no overflow in abs()
