"""modelpack_bundle, the Python reader Spark executors and Ray workers unpack bundles with: it
accepts well-formed bundles in zip, tar and tar.gz and refuses every hostile or damaged one with one
line naming the bundle, leaving nothing behind. (The Swift test ScaleTests checks it accepts what
`modelpack build` writes, with the same digest and the same files as `modelpack unpack`.)"""
import fcntl
import hashlib
import importlib.util
import io
import os
import re
import stat
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "Sources/ModelPackCore/Serving/runtime"
spec = importlib.util.spec_from_file_location("modelpack_bundle", RUNTIME / "modelpack_bundle.py")
mb = importlib.util.module_from_spec(spec)
sys.modules["modelpack_bundle"] = mb
spec.loader.exec_module(mb)

FILES = {
    "interface.py": b"def load_model():\n    return None\n",
    "metadata.yaml": b"name: m\nversion: '1'\n",
    "requirements.txt": b"",
    "weights/w.bin": os.urandom(3000),
}


def manifest_for(files, version=2):
    records = [{"path": p, "role": mb.role_of(p), "size": len(b), "sha256": hashlib.sha256(b).hexdigest(),
                "executable": False} for p, b in sorted(files.items(), key=lambda kv: kv[0].encode())]
    return mb.canonical({"formatVersion": version, "tool": "test", "name": "m", "version": "1", "files": records})


def write(path, entries, container="zip"):
    """An archive of (name, bytes, kind) entries in order; kind is 'file', 'symlink' or 'dir'."""
    if container == "zip":
        with zipfile.ZipFile(path, "w") as z:
            for name, data, kind in entries:
                info = zipfile.ZipInfo(name)
                if kind == "symlink":
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                elif kind == "dir":
                    info.external_attr = (stat.S_IFDIR | 0o755) << 16
                z.writestr(info, data)
        return path
    with tarfile.open(path, "w:gz" if container == "tar.gz" else "w") as t:
        for name, data, kind in entries:
            info = tarfile.TarInfo(name)
            if kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
            else:
                info.size = len(data)
            t.addfile(info, io.BytesIO(data) if kind == "file" else None)
    return path


def good_entries(files=FILES):
    return [(mb.MANIFEST, manifest_for(files), "file")] + [
        (p, files[p], "file") for p in sorted(files, key=str.encode)]


@pytest.mark.parametrize("container", ["zip", "tar", "tar.gz"])
def test_a_good_bundle_unpacks_with_its_digest(tmp_path, container):
    bundle = write(tmp_path / f"b.{container}", good_entries(), container)
    digest = mb.unpack(bundle, tmp_path / "out")
    assert digest == "sha256:" + hashlib.sha256(manifest_for(FILES)).hexdigest() == mb.digest(bundle)
    for path, data in FILES.items():
        assert (tmp_path / "out" / path).read_bytes() == data
    assert (tmp_path / "out" / mb.MANIFEST).read_bytes() == manifest_for(FILES)


def test_a_format_1_bundle_unpacks_too(tmp_path):
    entries = good_entries()
    entries[0] = (mb.MANIFEST, manifest_for(FILES, version=1), "file")
    digest = mb.unpack(write(tmp_path / "b.zip", entries), tmp_path / "out")
    assert digest == "sha256:" + hashlib.sha256(manifest_for(FILES, version=1)).hexdigest()


def test_the_cache_unpacks_once(tmp_path):
    bundle = write(tmp_path / "b.zip", good_entries())
    folder, digest = mb.cached(bundle, tmp_path / "cache")
    assert folder.name == digest.split(":")[1]
    (folder / "interface.py").write_text("# marker: not unpacked again\n")
    again, _ = mb.cached(bundle, tmp_path / "cache")
    assert again == folder and (again / "interface.py").read_text().startswith("# marker")


def test_the_cache_marks_its_folder_in_use_and_survives_a_pruned_lock_file(tmp_path):
    """The folder's .use lock is held shared while this process lives (so `modelpack cache prune`
    cannot take it), and a lock file removed by a prune is made again, not waited on forever."""
    bundle = write(tmp_path / "b.zip", good_entries())
    folder, _ = mb.cached(bundle, tmp_path / "cache")
    probe = os.open(f"{folder}.use", os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(probe)
    os.unlink(f"{folder}.lock")
    again, _ = mb.cached(bundle, tmp_path / "cache")
    assert again == folder and os.path.exists(f"{folder}.lock")


def tampered(name):
    """Entries of a bundle broken in one way, by name."""
    entries = good_entries()
    if name == "modified":
        entries[-1] = (entries[-1][0], bytes(len(FILES["weights/w.bin"])), "file")
    elif name == "traversal":
        entries.append(("../escape.txt", b"x", "file"))
    elif name == "absolute":
        entries.append(("/tmp/escape.txt", b"x", "file"))
    elif name == "symlink":
        entries.insert(2, ("interface2.py", b"/etc/passwd", "symlink"))
    elif name == "folder":
        entries.insert(2, ("weights/", b"", "dir"))
    elif name == "extra":
        entries.append(("extra.txt", b"x", "file"))
    elif name == "missing":
        entries.pop()
    elif name == "duplicate":
        entries.append(entries[-1])
    elif name == "second-manifest":
        entries.append(entries[0])
    elif name == "manifest-not-first":
        entries.append(entries.pop(0))
    elif name == "not-canonical":
        entries[0] = (mb.MANIFEST, entries[0][1].replace(b'  "formatVersion"', b'   "formatVersion"'), "file")
    elif name == "unknown-version":
        entries[0] = (mb.MANIFEST, entries[0][1].replace(b'"formatVersion": 2', b'"formatVersion": 3'), "file")
    elif name == "longer":
        entries[-1] = (entries[-1][0], FILES["weights/w.bin"] + b"more", "file")
    return entries


CASES = {
    "modified": "weights/w.bin: modified", "traversal": "../escape.txt: '..' path component",
    "absolute": "/tmp/escape.txt: absolute path", "symlink": "interface2.py: not a regular file",
    "folder": "not a regular file (links, folders and devices are refused)",
    "extra": "extra.txt: not listed in the manifest",
    "missing": "weights/w.bin: listed in the manifest but not in the archive",
    "duplicate": "weights/w.bin: a second entry", "second-manifest": "manifest.json: a second entry",
    "manifest-not-first": "the first entry is not .modelpack/manifest.json",
    "not-canonical": "not in canonical form", "unknown-version": "format version 3 is not supported",
    "longer": "weights/w.bin: 3004 bytes, the manifest says 3000",
}


@pytest.mark.parametrize("container", ["zip", "tar"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_and_damaged_bundles_are_refused(tmp_path, case, container):
    bundle = write(tmp_path / f"b.{container}", tampered(case), container)
    with pytest.raises(mb.BundleError) as refused:
        mb.unpack(bundle, tmp_path / "out")
    message = str(refused.value)
    assert message.startswith(str(bundle) + ": ") and CASES[case] in message and "\n" not in message
    assert sorted(p.name for p in tmp_path.iterdir()) == [bundle.name], "nothing may be left behind"
    assert not Path("/tmp/escape.txt").exists()


@pytest.mark.parametrize("container", ["zip", "tar"])
@pytest.mark.parametrize("path", ["__pycache__/x.pyc", "pkg/__pycache__/notes.txt", "features.pyc", "old.pyo",
                                  "pkg/Helper.PYC"])
def test_bytecode_is_refused_even_when_the_manifest_lists_it(tmp_path, path, container):
    """Python would run a bundled .pyc in place of the audited source beside it (or with none)."""
    bundle = write(tmp_path / f"b.{container}", good_entries({**FILES, path: b"bytecode"}), container)
    with pytest.raises(mb.BundleError) as refused:
        mb.unpack(bundle, tmp_path / "out")
    assert str(refused.value) == (f"{bundle}: manifest {mb.MANIFEST}: '{path}': bytecode is never packed: "
                                  "Python would run it in place of the audited source")
    assert sorted(p.name for p in tmp_path.iterdir()) == [bundle.name], "nothing may be left behind"
    with pytest.raises(mb.BundleError, match="bytecode is never packed"):
        mb.digest(bundle)
    unlisted = write(tmp_path / f"u.{container}", [*good_entries(), (path, b"bytecode", "file")], container)
    with pytest.raises(mb.BundleError, match=re.escape(f"{unlisted}: {path}: bytecode is never packed: ")):
        mb.unpack(unlisted, tmp_path / "out")


def test_a_truncated_bundle_is_refused(tmp_path):
    whole = write(tmp_path / "b.tar.gz", good_entries(), "tar.gz").read_bytes()
    bundle = tmp_path / "cut.tar.gz"
    bundle.write_bytes(whole[: len(whole) - 900])
    with pytest.raises(mb.BundleError, match=r"cut\.tar\.gz: .*truncated"):
        mb.unpack(bundle, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_command_line_prints_one_line_and_exits_1(tmp_path, capsys):
    bundle = write(tmp_path / "b.zip", tampered("modified"))
    assert mb.main(["unpack", str(bundle), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {bundle}: weights/w.bin: modified")
    assert mb.main(["digest", str(tmp_path / "absent.zip")]) == 1
    assert "absent.zip: no such file" in capsys.readouterr().err
