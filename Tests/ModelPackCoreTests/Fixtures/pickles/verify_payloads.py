"""Proves that the real payloads of the hostile corpora really work: each file is loaded with the
loader a user would use, in a subprocess whose working directory (and HOME) is a fresh temporary
directory holding a copy of the files it needs, with a timeout, and the effect is checked from
outside: MODELPACK_PWNED appeared in that directory, or bytes of a file outside the model directory
(/etc/passwd, /etc/hostname) came back in the loaded model. This process never loads a payload.

Covers the cases of make_malicious.py from "Payloads that really run" on, ../arrays/malicious,
../onnx/malicious and ../keras/malicious. The older pickle cases only name their target
(`echo pwned`, `pip.main`, sockets...) and are not loaded here.

Each run is either "must run" (the loader named really executes the payload; the script exits 1 if
one of these did not) or informative (what a patched or stricter loader does: refused, ignored).

    /work/venvs/corpus/bin/python verify_payloads.py [--only SUBSTRING]

Loaders: the interpreter running this script (Python 3.11 with numpy, joblib, onnx, onnxruntime,
keras 3 and tensorflow-cpu), plus two vulnerable versions that the CVEs need, set up with:

    python3 -m venv /work/venvs/corpus-onnx115
    /work/venvs/corpus-onnx115/bin/pip install onnx==1.15.0 onnxruntime==1.23.2 "numpy<2"
    /work/venvs/corpus/bin/pip install --no-deps --target /work/venvs/corpus-vuln/keras-3.10.0 keras==3.10.0

(override with MODELPACK_VULN_ONNX_PYTHON and MODELPACK_KERAS_310_PATH). The marshalled lambda in
the keras corpus only loads on Python 3.11; mailcap and cgitb exist up to Python 3.12.
"""
import argparse
import bz2
import io
import json
import lzma
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent
MARKER = "MODELPACK_PWNED"
ONNX_OLD_PYTHON = os.environ.get("MODELPACK_VULN_ONNX_PYTHON", "/work/venvs/corpus-onnx115/bin/python")
KERAS_310_PATH = os.environ.get("MODELPACK_KERAS_310_PATH", "/work/venvs/corpus-vuln/keras-3.10.0")
TIMEOUT = 240


@dataclass
class Run:
    loader: str  # what a user would call, as shown in the table
    code: str  # run with cwd = the temporary directory; sys.argv[1] is the copied file's name
    must_run: bool = True
    effect: str = "marker"  # "marker", "passwd" (first 4 bytes of /etc/passwd read), "hostname"
    python: str = "main"  # "main", "onnx-1.15" (onnx 1.15.0 + onnxruntime 1.23.2), "keras-3.10"
    min_reads: int = 1  # "passwd": how many tensors must come back with the outside bytes
    first_file_only: bool = False  # a control run without the files shipped beside


@dataclass
class Case:
    file: str  # relative to Fixtures/; the file the loader opens
    technique: str
    runs: list
    beside: list = field(default_factory=list)  # other files copied into the same directory


PICKLE = "import pickle, sys\npickle.load(open(sys.argv[1], 'rb'))"
JOBLIB = "import joblib, sys\njoblib.load(sys.argv[1])"
NUMPY = "import numpy, sys\nnumpy.load(sys.argv[1], allow_pickle=True)"
NUMPY_SAFE = "import numpy, sys\nnumpy.load(sys.argv[1])"
NPZ = "import numpy, sys\nnumpy.load(sys.argv[1], allow_pickle=True)['weights']"
NPZ_SAFE = "import numpy, sys\nnumpy.load(sys.argv[1])['weights']"

# Every tensor of the model, wherever it sits (initializers, sparse values, node attributes,
# subgraphs, functions), independent of which ones the loader itself walks.
ONNX_LOAD = """import sys, onnx
def tensors(g):
    for t in getattr(g, "initializer", []): yield t
    for s in getattr(g, "sparse_initializer", []): yield s.values
    for n in g.node:
        for a in n.attribute:
            if a.HasField("t"): yield a.t
            yield from a.tensors
            if a.HasField("g"): yield from tensors(a.g)
            for sub in a.graphs: yield from tensors(sub)
m = onnx.load(sys.argv[1], load_external_data=True)
for g in [m.graph, *m.functions]:
    for t in tensors(g):
        if t.name.startswith("secret") and t.raw_data: print("READ", t.raw_data.hex())
print("LOADED onnx", onnx.__version__)"""
ORT_RUN = """import sys, numpy, onnxruntime
s = onnxruntime.InferenceSession(sys.argv[1], providers=["CPUExecutionProvider"])
feeds = [{}] if not s.get_inputs() else [{"cond": numpy.array(True)}, {"cond": numpy.array(False)}]
for f in feeds: print("READ", s.run(None, f)[0].tobytes().hex())
print("LOADED onnxruntime", onnxruntime.__version__)"""


OLD_ONNX_LOADERS = {
    "onnx.load": "onnx.load(f, load_external_data=True) (onnx 1.15.0)",
    "InferenceSession.run": "InferenceSession(f).run (onnxruntime 1.23.2)",
}


def keras_load(safe_mode: bool, then: str = "") -> str:
    return (
        "import os, sys, json, keras\n"
        f"m = keras.saving.load_model(sys.argv[1], safe_mode={safe_mode})\n"
        "print('LOADED keras', keras.__version__)\n"
        "for l in m.layers:\n"
        "    if isinstance(l, keras.layers.StringLookup): print('VOCAB', json.dumps([str(v) for v in l.get_vocabulary()]))\n"
        + then
    )


FIRST_CALL = "import numpy\nm(numpy.zeros((1, 4), 'float32'))\nprint('CALLED')\n"


def pickles(name):
    return f"pickles/malicious/{name}"


CASES = [
    # 1. Compressed pickles: joblib's five compressors, its old ZF format, pickle through gzip/bz2/xz.
    Case(pickles("compressed_zlib_os_system.joblib"), "joblib compress=3 (zlib) around os.system", [Run("joblib.load", JOBLIB)]),
    Case(pickles("compressed_gzip_os_system.joblib"), "joblib compress=('gzip',3)", [Run("joblib.load", JOBLIB)]),
    Case(pickles("compressed_bz2_os_system.joblib"), "joblib compress=('bz2',3)", [Run("joblib.load", JOBLIB)]),
    Case(pickles("compressed_xz_os_system.joblib"), "joblib compress=('xz',3)", [Run("joblib.load", JOBLIB)]),
    Case(pickles("compressed_lzma_alone_os_system.joblib"), "joblib compress=('lzma',3), FORMAT_ALONE", [Run("joblib.load", JOBLIB)]),
    Case(pickles("compressed_zfile_compat_os_system.joblib"), "joblib < 0.10 ZF z-file", [Run("joblib.load", JOBLIB)]),
    Case(pickles("compressed_os_system.pkl.gz"), "pickle.dump into gzip.open",
         [Run("pickle.load(gzip.open(f))", "import gzip, pickle, sys\npickle.load(gzip.open(sys.argv[1]))")]),
    Case(pickles("compressed_os_system.pkl.bz2"), "pickle.dump into bz2.open",
         [Run("pickle.load(bz2.open(f))", "import bz2, pickle, sys\npickle.load(bz2.open(sys.argv[1]))")]),
    Case(pickles("compressed_os_system.pkl.xz"), "pickle.dump into lzma.open",
         [Run("pickle.load(lzma.open(f))", "import lzma, pickle, sys\npickle.load(lzma.open(sys.argv[1]))")]),
    Case(pickles("compressed_gzip_of_zlib.joblib.gz"), "gzip around a zlib joblib (double)",
         [Run("joblib.load(gzip.open(f))", "import gzip, joblib, sys\njoblib.load(gzip.open(sys.argv[1], 'rb'))")]),
    Case(pickles("compressed_zlib_payload_after_array_356.joblib"), "payload after an inline array, zlib (modelscan #356)",
         [Run("joblib.load", JOBLIB)]),
    # 2. Allowlist bypasses (protocol 4 dotted names and stdlib helpers that run commands).
    Case(pickles("cgitb_pydoc_pipepager.pkl"), "cgitb + dotted pydoc.pipepager(text, cmd)", [Run("pickle.load", PICKLE)]),
    Case(pickles("unittest_mock_asyncio_subprocess_start.pkl"), "unittest.mock + asyncio.unix_events._UnixSubprocessTransport._start",
         [Run("pickle.load", PICKLE)]),
    Case(pickles("mailcap_findmatch_test.pkl"), "mailcap.findmatch runs the entry's test command", [Run("pickle.load", PICKLE)]),
    Case(pickles("numpy_savetxt_pth_site_addsitedir.pkl"), "numpy.savetxt writes a .pth, site.addsitedir execs it",
         [Run("pickle.load", PICKLE)]),
    Case(pickles("joblib_load_second_file.pkl"), "joblib.load of a second pickle shipped beside",
         [Run("pickle.load", PICKLE), Run("pickle.load, second file absent (control)", PICKLE, must_run=False, first_file_only=True)],
         beside=[pickles("second_file_loaded_by_joblib.pkl")]),
    Case(pickles("second_file_loaded_by_joblib.pkl"), "the second file itself (classic REDUCE)", [Run("pickle.load", PICKLE)]),
    Case(pickles("pathlib_path_write_text.pkl"), "pathlib dotted Path.write_text(Path(...), text)", [Run("pickle.load", PICKLE)]),
    # 3. NumPy object arrays (CVE-2019-6446).
    *[
        Case(f"arrays/malicious/{name}", technique, [
            Run("numpy.load(allow_pickle=True)", NUMPY),
            Run("numpy.load (default allow_pickle=False)", NUMPY_SAFE, must_run=False),
        ])
        for name, technique in [
            ("object_dtype_spelt_object.npy", "descr 'object'"),
            ("structured_object_field.npy", "structured dtype with an |O field"),
            ("subarray_object_field.npy", "field of subarray ('O', (2,))"),
            ("object_dtype_npy_v2.npy", "descr '|O' in an npy 2.0 header"),
        ]
    ],
    Case("arrays/malicious/object_array_in.npz", "npz member with descr 'object'", [
        Run("numpy.load(allow_pickle=True)['weights']", NPZ),
        Run("numpy.load(f)['weights'] (default)", NPZ_SAFE, must_run=False),
    ]),
    # 4. ONNX external data outside the model directory, beyond graph.initializer. The proof is a
    # loader from before the fixes (onnx.load <= 1.15, onnxruntime < 1.24); the current ones refuse.
    *[
        Case(f"onnx/malicious/{name}", technique, [
            Run(OLD_ONNX_LOADERS[proof], ONNX_LOAD if proof == "onnx.load" else ORT_RUN,
                python="onnx-1.15", effect="passwd", min_reads=reads),
            Run(OLD_ONNX_LOADERS[other], ORT_RUN if proof == "onnx.load" else ONNX_LOAD,
                python="onnx-1.15", effect="passwd", must_run=False),
            Run("onnx.load(f, load_external_data=True) (current onnx)", ONNX_LOAD, effect="passwd", must_run=False),
            Run("InferenceSession(f).run (current onnxruntime)", ORT_RUN, effect="passwd", must_run=False),
        ])
        for name, technique, reads, proof, other in [
            ("constant_node_external_data.onnx", "Constant node value attribute", 1, "InferenceSession.run", "onnx.load"),
            ("if_branch_external_data.onnx", "If then-branch initializer + else-branch Constant", 2, "onnx.load", "InferenceSession.run"),
            ("loop_body_external_data.onnx", "Loop body initializer", 1, "onnx.load", "InferenceSession.run"),
            ("sparse_initializer_external_data.onnx", "sparse_initializer values", 1, "InferenceSession.run", "onnx.load"),
            ("function_constant_external_data.onnx", "Constant in a model-local function", 1, "InferenceSession.run", "onnx.load"),
        ]
    ],
    # 5. Keras .keras archives.
    Case("keras/malicious/lambda_dense_activation_CVE-2024-3660.keras", "__lambda__ as a Dense activation (runs on first call)", [
        Run("load_model(safe_mode=False) + first call", keras_load(False, FIRST_CALL)),
        Run("load_model(safe_mode=False), no call", keras_load(False), must_run=False),
        Run("load_model(safe_mode=True) + first call", keras_load(True, FIRST_CALL), must_run=False),
    ]),
    Case("keras/malicious/lambda_dense_activation_eager_node_CVE-2024-3660.keras", "__lambda__ activation + a literal inbound node", [
        Run("load_model(safe_mode=False)", keras_load(False)),
        Run("load_model(safe_mode=True)", keras_load(True), must_run=False),
    ]),
    Case("keras/malicious/get_file_nested_lambda_CVE-2025-8747.keras", "keras.utils.get_file in a Lambda of a nested model", [
        Run("load_model(safe_mode=True) (keras 3.10.0)", keras_load(True), python="keras-3.10"),
        Run("load_model(safe_mode=False) (keras 3.10.0)", keras_load(False), python="keras-3.10"),
        Run("load_model(safe_mode=False) (current keras)", keras_load(False), must_run=False),
        Run("load_model(safe_mode=True) (current keras)", keras_load(True), must_run=False),
    ]),
    Case("keras/malicious/stringlookup_vocabulary_path_CVE-2025-12058.keras", "StringLookup vocabulary=/etc/hostname", [
        Run("load_model(safe_mode=True) (keras 3.10.0)", keras_load(True), python="keras-3.10", effect="hostname"),
        Run("load_model(safe_mode=False) (current keras)", keras_load(False), effect="hostname"),
        Run("load_model(safe_mode=True) (current keras)", keras_load(True), must_run=False, effect="hostname"),
    ]),
]

WRAPPER = """import sys
try:
{body}
except BaseException as e:
    lines = [l for l in str(e).strip().splitlines() if l.strip()]
    telling = [l for l in lines if "outside" in l or "escapes" in l] or lines[-1:] or [""]
    print("ERROR", type(e).__name__ + ":", telling[0][:240])
"""


def interpreter(run: Run):
    """(argv prefix, extra env) for the run's loader, or a reason it is not installed."""
    if run.python == "onnx-1.15":
        if not Path(ONNX_OLD_PYTHON).exists():
            return None, f"not installed: {ONNX_OLD_PYTHON}"
        return [ONNX_OLD_PYTHON], {}
    if run.python == "keras-3.10":
        if not Path(KERAS_310_PATH, "keras").exists():
            return None, f"not installed: {KERAS_310_PATH}"
        return [sys.executable], {"PYTHONPATH": KERAS_310_PATH}
    return [sys.executable], {}


def expected(effect: str):
    if effect == "passwd":
        return Path("/etc/passwd").read_bytes()[:4].hex()
    if effect == "hostname":
        return Path("/etc/hostname").read_text().strip()
    return None


def execute(case: Case, run: Run):
    """Runs one loader; returns (ran: bool|None, note)."""
    argv, env_extra = interpreter(run)
    if argv is None:
        return None, env_extra
    with tempfile.TemporaryDirectory(prefix="modelpack-verify-") as tmp:
        for rel in [case.file] + ([] if run.first_file_only else case.beside):
            shutil.copy(FIXTURES / rel, tmp)
        (Path(tmp) / "weights").mkdir()  # a subfolder, as model bundles have (ONNX nested location)
        env = dict(os.environ, HOME=tmp, KERAS_BACKEND="tensorflow", TF_CPP_MIN_LOG_LEVEL="3", PYTHONWARNINGS="ignore", **env_extra)
        if "PYTHONPATH" not in env_extra:
            env.pop("PYTHONPATH", None)
        body = "\n".join("    " + line for line in run.code.splitlines())
        try:
            proc = subprocess.run(argv + ["-c", WRAPPER.format(body=body), Path(case.file).name], cwd=tmp, env=env,
                                  capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL)
            out = proc.stdout
        except subprocess.TimeoutExpired as e:
            out = (e.stdout or b"").decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            out += f"\nERROR Timeout: after {TIMEOUT} s"
        lines = out.splitlines()
        error = next((l[6:] for l in lines if l.startswith("ERROR ")), "")
        loaded = next((l[7:] for l in lines if l.startswith("LOADED ")), "")
        if run.effect == "marker":
            for _ in range(50):  # a command started without waiting (asyncio's _start) may lag
                if (Path(tmp) / MARKER).exists():
                    break
                time.sleep(0.1)
            ran = (Path(tmp) / MARKER).exists()
            note = error or (f"loaded ({loaded})" if loaded else "loaded")
            return ran, (f"{MARKER} created; " if ran else "") + note
        want = expected(run.effect)
        if run.effect == "passwd":
            reads = [l.split()[1] for l in lines if l.startswith("READ ")]
            hits = sum(r == want for r in reads)
            ran = hits >= run.min_reads
            note = f"{hits} tensor(s) read /etc/passwd[:4]={bytes.fromhex(want)!r}" if hits else "outside file not read"
            return ran, note + (f"; {error}" if error else f"; {loaded}" if loaded else "")
        vocab = next((json.loads(l[6:]) for l in lines if l.startswith("VOCAB ")), [])
        ran = want in vocab
        note = f"vocabulary holds /etc/hostname ({want!r})" if ran else "outside file not read"
        return ran, note + (f"; {error}" if error else f"; {loaded}" if loaded else "")


class _Kept(io.BytesIO):
    def close(self):  # the compressor wrappers close their file object
        pass


def joblib_writer_checks():
    """The compressed joblib cases are byte-identical to what joblib's own writers produce."""
    try:
        from joblib.compressor import _COMPRESSORS
    except ImportError:
        return [("joblib writer check", None, "joblib not installed")]
    rows = []
    decompress = {"zlib": zlib.decompress, "gzip": lambda d: zlib.decompress(d, 31), "bz2": bz2.decompress,
                  "xz": lzma.decompress, "lzma": lzma.decompress}
    names = {"zlib": "compressed_zlib_os_system.joblib", "gzip": "compressed_gzip_os_system.joblib",
             "bz2": "compressed_bz2_os_system.joblib", "xz": "compressed_xz_os_system.joblib",
             "lzma": "compressed_lzma_alone_os_system.joblib"}
    for kind, name in names.items():
        data = (FIXTURES / pickles(name)).read_bytes()
        buffer = _Kept()
        with _COMPRESSORS[kind].compressor_file(buffer, compresslevel=3) as f:
            f.write(decompress[kind](data))
        same = buffer.getvalue() == data
        rows.append((f"{name} == joblib '{kind}' writer, level 3", same, "identical bytes" if same else "differs"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the cases whose file name contains this")
    args = parser.parse_args()
    rows, failures = [], []
    for case in CASES:
        if args.only not in case.file:
            continue
        if not (FIXTURES / case.file).exists():
            rows.append((case.file, "(file missing)", True, None, "run the generator"))
            failures.append(case.file)
            continue
        for run in case.runs:
            ran, note = execute(case, run)
            rows.append((case.file, run.loader, run.must_run, ran, note))
            if run.must_run and not ran:
                failures.append(f"{case.file}: {run.loader}")
            print(f"{'yes ' if ran else 'skip' if ran is None else 'no  '} {'must' if run.must_run else 'info'}  {case.file}  [{run.loader}]  {note}", flush=True)
    checks = joblib_writer_checks() if not args.only else []
    for name, same, note in checks:
        if same is False:
            failures.append(name)
    width = max((len(r[0]) for r in rows), default=4)
    print("\nfile".ljust(width + 1), " must  ran   loader — outcome")
    for file, loader, must, ran, note in rows:
        shown = "yes" if ran else "SKIP" if ran is None else "no"
        print(f"{file.ljust(width)}  {'must' if must else 'info'}  {shown:<4}  {loader} — {note}")
    for name, same, note in checks:
        print(f"check: {name}: {note}")
    must_total = sum(1 for r in rows if r[2])
    must_ran = sum(1 for r in rows if r[2] and r[3])
    print(f"\n{must_ran} of {must_total} must-run loads ran; {len(failures)} failure(s)")
    for failure in failures:
        print("FAILED:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
