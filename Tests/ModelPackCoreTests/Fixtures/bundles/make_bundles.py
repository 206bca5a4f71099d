"""The bundle rulebook: writes cases/*.zip, *.tar, *.tar.gz and cases.json, the bundles both
readers of a bundle are held to (the Swift reader, BundleReader and Unpacker, in RulebookTests;
the Python one, runtime/modelpack_bundle.py, for Spark executors and Ray workers, in
Tests/runtime/test_rulebook.py), each with its expected verdict:

- `accept`: the bundle digest (SHA-256 of the canonical manifest) and every file as unpacked
  (path, role, size, sha256, executable);
- `refuse`: the reason, which both readers give after "BUNDLE: " (each case breaks one rule).

A case may give `limits`, in serving.json's names (maxEntries, maxTotalSize, maxRatio, ratioFloor,
maxPathBytes): the reader runs with them in place of the defaults.

Deterministic (fixed timestamps, no random bytes): running it again writes the same files, which
RulebookTests checks. usage: python3 make_bundles.py (from anywhere; it writes beside itself)
"""
import gzip
import hashlib
import io
import json
import stat
import sys
import tarfile
import warnings
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MANIFEST = ".modelpack/manifest.json"
REQUIRED = {"interface.py": "interface", "metadata.yaml": "metadata", "requirements.txt": "requirements"}
FILES = {
    "interface.py": b"def load_model():\n    return None\n",
    "metadata.yaml": b"name: m\nversion: '1'\n",
    "requirements.txt": b"",
    "weights/w.bin": bytes(range(256)) * 12,
}
LONG = "deep/" + "/".join(c * 200 for c in "abcdef") + "/w.bin"  # 1216 bytes; components of 200
DATE = (2020, 1, 1, 0, 0, 0)
BYTECODE = "Python bytecode ({}): never packed, Python would run it instead of the audited source"


NOT_FIRST = f"not a modelpack bundle: the first entry is 'interface.py', not {MANIFEST}"


def refused(path, why):
    """An entry's refusal, in the words both readers use."""
    return f"refused entry '{path}': {why}"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def quote(text):
    return json.dumps(text, ensure_ascii=False)


def canonical(manifest):
    """Sources/ModelPackCore/Bundle/Manifest+Canonical.swift's bytes (Docs/FORMAT.md)."""
    out = ["{\n", f'  "formatVersion": {manifest["formatVersion"]},\n', f'  "tool": {quote(manifest["tool"])},\n',
           f'  "name": {quote(manifest["name"])},\n', f'  "version": {quote(manifest["version"])},\n']
    for key in ("allowedUnsafe", "trustedModules"):
        if manifest.get(key):
            out.append(f'  "{key}": [' + ", ".join(quote(v) for v in manifest[key]) + "],\n")
    out.append('  "files": [')
    for index, f in enumerate(manifest["files"]):
        out.append("\n" if index == 0 else ",\n")
        out.append(f'    {{"path": {quote(f["path"])}, "role": "{f["role"]}", "size": {f["size"]}, '
                   f'"sha256": "{f["sha256"]}", "executable": {"true" if f["executable"] else "false"}}}')
    out.append("\n  ]\n" if manifest["files"] else "]\n")
    out.append("}\n")
    return "".join(out).encode("utf-8")


def records(files, executable=()):
    return [{"path": p, "role": REQUIRED.get(p, "artifact"), "size": len(b), "sha256": hashlib.sha256(b).hexdigest(),
             "executable": p in executable} for p, b in sorted(files.items(), key=lambda kv: kv[0].encode())]


def manifest_bytes(files, version=2, executable=(), edit=None):
    manifest = {"formatVersion": version, "tool": "modelpack 0.1.0", "name": "m", "version": "1",
                "files": records(files, executable)}
    if edit:
        edit(manifest)
    return canonical(manifest)


def honest(files=FILES, **options):
    """The entries of a well-formed bundle: its manifest first, then every file in manifest order."""
    return [(MANIFEST, manifest_bytes(files, **options), "file")] + [
        (p, files[p], "file") for p in sorted(files, key=str.encode)]


def write(path, entries, container, executable=()):
    """An archive of (name, bytes, kind) entries in order; kind: file, symlink, hardlink, dir, fifo."""
    if container == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data, kind in entries:
                info = zipfile.ZipInfo(name, date_time=DATE)
                info.compress_type = zipfile.ZIP_DEFLATED
                mode = {"symlink": stat.S_IFLNK | 0o777, "dir": stat.S_IFDIR | 0o755}.get(
                    kind, stat.S_IFREG | (0o755 if name in executable else 0o644))
                info.external_attr = mode << 16
                info.create_system = 3
                z.writestr(info, data)
        return
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name)
            info.mtime, info.mode, info.uname, info.gname = 1577836800, 0o755 if name in executable else 0o644, "", ""
            if kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            elif kind == "hardlink":
                info.type, info.linkname = tarfile.LNKTYPE, "/etc/passwd"
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
            elif kind == "fifo":
                info.type = tarfile.FIFOTYPE
            else:
                info.size = len(data)
            t.addfile(info, io.BytesIO(data) if kind == "file" else None)
    data = buffer.getvalue()
    if container == "tar.gz":
        out = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0) as g:
            g.write(data)
        data = out.getvalue()
    Path(path).write_bytes(data)


def replaced(entries, index, entry):
    entries = list(entries)
    entries[index] = entry
    return entries


def plus(*extra, files=FILES):
    return honest(files) + list(extra)


def listed(extra_files):
    """Entries of a bundle whose manifest lists `extra_files` too, every one present."""
    return honest({**FILES, **extra_files})


GOOD = honest()
W = sorted(FILES, key=str.encode).index("weights/w.bin") + 1

# name -> (entries, verdict, options). verdict: "accept", or the refusal's reason. Options:
# containers (default zip and tar), limits, executable.
CASES = {
    "good": (GOOD, "accept", {"containers": ("zip", "tar", "tar.gz")}),
    "format-1": (honest(version=1), "accept", {}),
    "executable-and-unicode": (
        honest({**FILES, "bin/run.sh": b"#!/bin/sh\necho ok\n", "vocab/caf\u00e9.txt": b"caf\u00e9\n"},
               executable=("bin/run.sh",)), "accept", {"executable": ("bin/run.sh",)}),
    "long-path-raised-limit": (listed({LONG: b"deep"}), "accept", {"limits": {"maxPathBytes": 2048}}),
    "long-path": (listed({LONG: b"deep"}), f"manifest {MANIFEST}: '{LONG}': path longer than 1024 bytes "
                  "(raise the limit with --max-path-length)", {}),
    "lowered-path-limit": (GOOD, f"manifest {MANIFEST}: 'metadata.yaml': path longer than 12 bytes "
                           "(raise the limit with --max-path-length)", {"limits": {"maxPathBytes": 12}}),
    "max-entries": (GOOD, "4 files exceed the limit of 3 (raise it with --max-entries)",
                    {"limits": {"maxEntries": 3}}),
    "max-entries-fits": (GOOD, "accept", {"limits": {"maxEntries": 4}}),
    "max-total-size": (GOOD, f"{sum(map(len, FILES.values()))} bytes uncompressed exceed the limit of 3000 "
                       "(raise it with --max-total-size)", {"limits": {"maxTotalSize": 3000}}),
    "compression-bomb": (listed({"weights/zeros.bin": bytes(4 << 20)}), "expands {ratio}:1, more than 100:1 (a "
                         "compression bomb? raise it with --max-ratio)",
                         {"limits": {"maxRatio": 100, "ratioFloor": 1 << 20}, "containers": ("zip", "tar.gz")}),
    "compression-bomb-under-the-floor": (listed({"weights/zeros.bin": bytes(4 << 20)}), "accept",
                                         {"limits": {"maxRatio": 100}, "containers": ("zip", "tar.gz")}),
    # Entries that are not what the manifest lists.
    "absolute-path": (plus(("/tmp/modelpack-rulebook-escape.txt", b"x", "file")),
                      refused("/tmp/modelpack-rulebook-escape.txt", "absolute path"), {}),
    "dot-dot": (plus(("../escape.txt", b"x", "file")), refused("../escape.txt", "'..' path component"), {}),
    "inner-dot-dot": (plus(("a/../../escape.txt", b"x", "file")),
                      refused("a/../../escape.txt", "'..' path component"), {}),
    "trailing-dot-dot": (plus(("a/..", b"x", "file")), refused("a/..", "'..' path component"), {}),
    "dot-component": (plus(("./x.bin", b"x", "file")), refused("./x.bin", "'.' path component"), {}),
    "backslash": (plus(("..\\escape.txt", b"x", "file")), refused("..\\escape.txt", "backslash in path"), {}),
    "drive-letter": (plus(("C:/escape.txt", b"x", "file")), refused("C:/escape.txt", "drive-letter path"), {}),
    "bytecode-unlisted": (plus(("__pycache__/interface.cpython-311.pyc", b"bytecode", "file")),
                          refused("__pycache__/interface.cpython-311.pyc", BYTECODE.format("__pycache__")), {}),
    "bytecode-folder-in-capitals": (plus(("pkg/__PyCache__/notes.txt", b"x", "file")),
                                    refused("pkg/__PyCache__/notes.txt", BYTECODE.format("__pycache__")), {}),
    "bytecode-pyo": (plus(("old.PYO", b"x", "file")), refused("old.PYO", BYTECODE.format(".pyo")), {}),
    "backslash-for-a-listed-path": ([(n.replace("a/b.txt", "a\\b.txt"), d, k) for n, d, k in listed({"a/b.txt": b"x"})],
                                    refused("a\\b.txt", "backslash in path"), {}),
    "symlink": (plus(("link.py", b"", "symlink")), refused("link.py", "symbolic link"), {}),
    "directory-entry": (plus(("subdir/", b"", "dir")),
                        refused("subdir/", "directory entry (bundles hold files only)"), {}),
    "hardlink": (plus(("x.bin", b"", "hardlink")), refused("x.bin", "hard link"), {"containers": ("tar",)}),
    "fifo": (plus(("x.bin", b"", "fifo")), refused("x.bin", "device, FIFO or socket"), {"containers": ("tar",)}),
    "extra": (plus(("extra.txt", b"x", "file")), refused("extra.txt", "not listed in the manifest"), {}),
    "missing": (GOOD[:-1], "refused: 'weights/w.bin' is listed in the manifest but not in the archive", {}),
    "duplicate": (plus(GOOD[-1]), refused("weights/w.bin", "second entry with this path"), {}),
    "second-manifest": (plus(GOOD[0]), refused(MANIFEST, "second entry with this path"), {}),
    "manifest-not-first": (GOOD[1:] + GOOD[:1], NOT_FIRST, {}),
    "no-manifest": (GOOD[1:], NOT_FIRST, {}),
    "longer": (replaced(GOOD, W, ("weights/w.bin", FILES["weights/w.bin"] + b"more", "file")),
               refused("weights/w.bin", "archive declares 3076 bytes, manifest says 3072"), {}),
    "shorter": (replaced(GOOD, W, ("weights/w.bin", FILES["weights/w.bin"][:-1], "file")),
                refused("weights/w.bin", "archive declares 3071 bytes, manifest says 3072"), {}),
    "modified": (replaced(GOOD, W, ("weights/w.bin", bytes(3072), "file")),
                 refused("weights/w.bin", f"content differs from the manifest (sha256 {sha256(bytes(3072))}, "
                                          f"expected {sha256(FILES['weights/w.bin'])})"), {}),
    # Manifests that break a rule of their own.
    "manifest-lists-dot-dot": (listed({"../escape.txt": b"x"}),
                               f"manifest {MANIFEST}: '../escape.txt': '..' path component", {}),
    "manifest-lists-bytecode": (listed({"features.pyc": b"bytecode"}),
                                f"manifest {MANIFEST}: 'features.pyc': {BYTECODE.format('.pyc')}", {}),
    "manifest-lists-reserved": (listed({".modelpack/extra.json": b"{}"}),
                                f"manifest {MANIFEST}: '.modelpack/extra.json' is inside the reserved .modelpack/ "
                                "folder", {}),
    "case-collision": (listed({"X.bin": b"x", "x.bin": b"x"}),
                       f"manifest {MANIFEST}: 'x.bin' and 'X.bin' collide on case-insensitive file systems", {}),
    "file-and-folder": (listed({"x": b"x", "x/y": b"y"}),
                        f"manifest {MANIFEST}: 'x' is both a file and the folder of 'x/y'", {}),
    "missing-required": (honest({k: v for k, v in FILES.items() if k != "requirements.txt"}),
                         f"manifest {MANIFEST}: required file requirements.txt is not listed", {}),
    "wrong-role": (replaced(GOOD, 0, (MANIFEST, manifest_bytes(FILES, edit=lambda m: m["files"][-1].update(
        role="interface")), "file")), f"manifest {MANIFEST}: 'weights/w.bin' has role interface, expected artifact",
        {}),
    "malformed-sha256": (replaced(GOOD, 0, (MANIFEST, manifest_bytes(FILES, edit=lambda m: m["files"][-1].update(
        sha256="xyz")), "file")), f"manifest {MANIFEST}: 'weights/w.bin' has a malformed sha256", {}),
    "unsorted": (replaced(GOOD, 0, (MANIFEST, manifest_bytes(FILES, edit=lambda m: m["files"].reverse()), "file")),
                 f"manifest {MANIFEST}: paths are not sorted at", {}),
    "not-canonical": (replaced(GOOD, 0, (MANIFEST, GOOD[0][1].replace(b'  "formatVersion"', b'   "formatVersion"'),
                                         "file")), f"manifest {MANIFEST}: not in canonical form", {}),
    "not-json": (replaced(GOOD, 0, (MANIFEST, b"{not json", "file")),
                 f"manifest {MANIFEST}: not a modelpack manifest (invalid JSON or no formatVersion)", {}),
    "future-format": (replaced(GOOD, 0, (MANIFEST, GOOD[0][1].replace(b'"formatVersion": 2', b'"formatVersion": 99'),
                                         "file")),
                      f"manifest {MANIFEST}: format version 99 is not supported (this modelpack reads 1 and 2)", {}),
}
# Whole files that are not bundles.
RAW = {
    "empty": (b"", "empty file"),
    "not-an-archive": (b"this is not an archive\n" * 8, "not a zip, tar, tar.gz or tar.zst archive"),
}


def main(argv):
    """Writes the rulebook into `--out DIR` when given (RulebookTests compares it with this folder)."""
    warnings.filterwarnings("ignore", "Duplicate name", UserWarning)  # the duplicate cases are on purpose
    out = Path(argv[argv.index("--out") + 1]) if "--out" in argv else HERE
    cases_dir = out / "cases"
    cases_dir.mkdir(parents=True, exist_ok=True)
    for old in cases_dir.iterdir():
        old.unlink()
    table = []
    for name, (entries, verdict, options) in CASES.items():
        for container in options.get("containers", ("zip", "tar")):
            file = f"cases/{name}.{container}"
            write(out / file, entries, container, options.get("executable", ()))
            case = {"name": f"{name} ({container})", "bundle": file}
            if "limits" in options:
                case["limits"] = options["limits"]
            if verdict == "accept":
                manifest = entries[0][1]
                case["accept"] = {"digest": "sha256:" + hashlib.sha256(manifest).hexdigest(),
                                  "files": json.loads(manifest)["files"]}
            else:
                total = sum(len(data) for name, data, kind in entries[1:] if kind == "file")
                case["refuse"] = verdict.replace("{ratio}", str(total // (out / file).stat().st_size))
            table.append(case)
    # Cut short in the middle of a file's data (its bytes do not compress, so the cut is there).
    # 128 KiB: more than the first block a reader takes at open, so the cut is met inside the file.
    noise = b"".join(hashlib.sha256(str(i).encode()).digest() for i in range(4096))
    for container in ("zip", "tar", "tar.gz"):
        whole = out / f"cases/whole.{container}"
        write(whole, listed({"weights/noise.bin": noise}), container)
        data = whole.read_bytes()
        whole.unlink()
        file = f"cases/truncated.{container}"
        (out / file).write_bytes(data[: len(data) * 2 // 3])
        size = len(data) * 2 // 3
        reason = (f"truncated or damaged zip: it has no central directory (the file ends at byte {size})"
                  if container == "zip" else f"truncated: the archive ends at byte {size} while reading "
                  "'weights/noise.bin'")
        table.append({"name": f"truncated ({container})", "bundle": file, "refuse": reason})
    # Cut before its first tar header: the compressed stream breaks at once.
    (out / "cases/truncated-early.tar.gz").write_bytes((out / "cases/good.tar.gz").read_bytes()[:100])
    table.append({"name": "truncated early (tar.gz)", "bundle": "cases/truncated-early.tar.gz",
                  "refuse": "truncated or damaged tar.gz: the file ends at byte 100"})
    for name, (data, reason) in RAW.items():
        (out / f"cases/{name}.bin").write_bytes(data)
        table.append({"name": name, "bundle": f"cases/{name}.bin", "refuse": reason})
    (out / "cases.json").write_text(json.dumps({"cases": table}, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {len(table)} cases")


if __name__ == "__main__":
    main(sys.argv[1:])
