"""modelpack_bundle, the Python reader Spark executors and Ray workers unpack bundles with: its
command line, its cache, the limits it takes from serving.json and checks before a file is written,
and the batch runners that call it. Which bundles it accepts and refuses is the rulebook's
(test_rulebook.py, the same table as the Swift reader's RulebookTests); ScaleTests checks it accepts
what `modelpack build` writes, with the same digest and files as `modelpack unpack`."""
import fcntl
import hashlib
import importlib.util
import io
import json
import os
import re
import stat
import sys
import tarfile
import types
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


# Hostile and damaged bundles, and the limits, are the rulebook's (test_rulebook.py runs it, and
# RulebookTests runs the same table on the Swift reader). What follows is this reader's own: its
# command line, its cache, the limits checked before a file is written, serving.json's limits.


def test_a_zip_with_data_before_it_is_refused(tmp_path):
    """A self-extracting stub before the zip: Python's zipfile would read it; a bundle starts with its zip."""
    bundle = write(tmp_path / "b.zip", good_entries())
    sfx = tmp_path / "s.zip"
    sfx.write_bytes(b"#!/bin/sh\nexit 0\n" + bundle.read_bytes())
    with pytest.raises(mb.BundleError, match=re.escape("not a zip, tar, tar.gz or tar.zst archive")):
        mb.unpack(sfx, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_the_command_line_prints_one_line_and_exits_1(tmp_path, capsys):
    entries = good_entries()
    entries[-1] = (entries[-1][0], bytes(len(FILES["weights/w.bin"])), "file")
    bundle = write(tmp_path / "b.zip", entries)
    assert mb.main(["unpack", str(bundle), str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"error: {bundle}: refused entry 'weights/w.bin': content differs from the manifest")
    assert mb.main(["digest", str(tmp_path / "absent.zip")]) == 1
    assert "absent.zip: no such file" in capsys.readouterr().err


# The limits of Docs/SECURITY.md ("Limits"), which the Swift side holds every bundle to and writes
# into serving.json for the runners: this reader holds bundles to the same ones, with the same
# messages, checked against the manifest before a file is written.

LONG = "deep/" + "/".join(c * 200 for c in "abcdef") + "/w.bin"  # 1216 bytes, components of at most 200
LONG_REFUSED = "path longer than 1024 bytes (raise the limit with --max-path-length)"


def nothing_written(monkeypatch):
    """Makes writing any file an error, for a bundle that must be refused before one is written."""
    def refuse(*_):
        raise AssertionError("a file was written before the limits were checked")

    monkeypatch.setattr(mb, "_create", refuse)


@pytest.mark.parametrize("container", ["zip", "tar"])
def test_a_path_longer_than_1024_bytes_needs_the_raised_limit(tmp_path, container):
    assert len(LONG.encode()) > 1024 and max(map(len, LONG.split("/"))) <= 255
    bundle = write(tmp_path / f"b.{container}", good_entries({**FILES, LONG: b"deep"}), container)
    for attempt in (lambda: mb.unpack(bundle, tmp_path / "out"), lambda: mb.digest(bundle),
                    lambda: mb.cached(bundle, tmp_path / "cache")):
        with pytest.raises(mb.BundleError) as refused:
            attempt()
        assert str(refused.value) == f"{bundle}: manifest {mb.MANIFEST}: '{LONG}': {LONG_REFUSED}"
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()

    raised = mb.Limits(max_path_bytes=2048)
    assert mb.unpack(bundle, tmp_path / "out", limits=raised) == mb.digest(bundle, limits=raised)
    assert (tmp_path / "out" / LONG).read_bytes() == b"deep"
    served = mb.Limits.from_serving({"name": "m", "limits": {"maxPathBytes": 2048}})
    folder, _ = mb.cached(bundle, tmp_path / "cache", limits=served)
    assert (folder / LONG).read_bytes() == b"deep"


def test_a_lowered_path_limit_is_held_too(tmp_path):
    bundle = write(tmp_path / "b.zip", good_entries())
    with pytest.raises(mb.BundleError) as refused:
        mb.unpack(bundle, tmp_path / "out", limits=mb.Limits(max_path_bytes=12))
    assert str(refused.value) == (f"{bundle}: manifest {mb.MANIFEST}: 'metadata.yaml': path longer than 12 bytes "
                                  "(raise the limit with --max-path-length)")
    unlisted = write(tmp_path / "u.zip", [*good_entries(), (LONG, b"x", "file")])
    with pytest.raises(mb.BundleError, match=re.escape(f"{unlisted}: refused entry '{LONG}': {LONG_REFUSED}")):
        mb.unpack(unlisted, tmp_path / "out")


@pytest.mark.parametrize("container", ["zip", "tar"])
def test_more_files_than_max_entries_are_refused_before_a_file_is_written(tmp_path, container, monkeypatch):
    bundle = write(tmp_path / f"b.{container}", good_entries(), container)
    assert mb.unpack(bundle, tmp_path / "fits", limits=mb.Limits(max_entries=4))
    nothing_written(monkeypatch)
    for attempt in (lambda limits: mb.unpack(bundle, tmp_path / "out", limits=limits),
                    lambda limits: mb.digest(bundle, limits=limits)):
        with pytest.raises(mb.BundleError) as refused:
            attempt(mb.Limits(max_entries=3))
        assert str(refused.value) == f"{bundle}: 4 files exceed the limit of 3 (raise it with --max-entries)"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("container", ["zip", "tar"])
def test_more_bytes_than_max_total_size_are_refused_before_a_file_is_written(tmp_path, container, monkeypatch):
    total = sum(map(len, FILES.values()))
    bundle = write(tmp_path / f"b.{container}", good_entries(), container)
    assert mb.unpack(bundle, tmp_path / "fits", limits=mb.Limits(max_total_size=total))
    nothing_written(monkeypatch)
    with pytest.raises(mb.BundleError) as refused:
        mb.unpack(bundle, tmp_path / "out", limits=mb.Limits.from_serving({"limits": {"maxTotalSize": total - 1}}))
    assert str(refused.value) == (f"{bundle}: {total} bytes uncompressed exceed the limit of {total - 1} "
                                  "(raise it with --max-total-size)")
    assert not (tmp_path / "out").exists()


def test_a_compression_bomb_is_refused_by_its_ratio_before_a_file_is_written(tmp_path, monkeypatch):
    files = {**FILES, "weights/zeros.bin": bytes(4 << 20)}  # 4 MiB of zeros: a few KiB gzipped
    bundle = write(tmp_path / "b.tar.gz", good_entries(files), "tar.gz")
    total, size = sum(map(len, files.values())), bundle.stat().st_size
    assert total // size > 100
    assert mb.unpack(bundle, tmp_path / "default")  # under the 1 GiB ratio floor
    assert mb.unpack(bundle, tmp_path / "floor", limits=mb.Limits(max_ratio=100, ratio_floor=total))
    nothing_written(monkeypatch)
    limits = mb.Limits.from_serving({"limits": {"maxRatio": 100, "ratioFloor": 1 << 20}})
    for attempt in (lambda: mb.unpack(bundle, tmp_path / "out", limits=limits),
                    lambda: mb.cached(bundle, tmp_path / "cache", limits=limits)):
        with pytest.raises(mb.BundleError) as refused:
            attempt()
        assert str(refused.value) == (f"{bundle}: expands {total // size}:1, more than 100:1 "
                                      "(a compression bomb? raise it with --max-ratio)")
    assert not (tmp_path / "out").exists() and not (tmp_path / "cache").exists()


def test_limits_are_read_from_a_serving_description():
    default = mb.Limits()
    assert (default.max_entries, default.max_total_size, default.max_ratio, default.ratio_floor,
            default.max_path_bytes) == (100_000, 256 << 30, 1000, 1 << 30, 1024)
    assert mb.Limits.from_serving({"name": "m"}) == mb.Limits.from_serving({"limits": {}}) == default
    given = {"maxEntries": 7, "maxTotalSize": 1 << 40, "maxRatio": 5, "ratioFloor": 9, "maxPathBytes": 4096}
    assert mb.Limits.from_serving({"limits": given}) == mb.Limits(
        max_entries=7, max_total_size=1 << 40, max_ratio=5, ratio_floor=9, max_path_bytes=4096)
    assert mb.Limits.from_serving({"limits": {"maxPathBytes": 2048}}) == default._replace(max_path_bytes=2048)
    for value in (0, -1, 1.5, 2048.0, "2048", True, None, [2048]):
        with pytest.raises(mb.BundleError) as refused:
            mb.Limits.from_serving({"limits": {"maxPathBytes": value}})
        assert "limits.maxPathBytes" in str(refused.value) and "positive whole number" in str(refused.value)
    with pytest.raises(mb.BundleError, match="limits: not an object"):
        mb.Limits.from_serving({"limits": [1024]})


def test_the_command_line_reads_the_limits_from_a_serving_file(tmp_path, capsys):
    bundle = write(tmp_path / "b.zip", good_entries({**FILES, LONG: b"deep"}))
    assert mb.main(["unpack", str(bundle), str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == f"error: {bundle}: manifest {mb.MANIFEST}: '{LONG}': {LONG_REFUSED}\n"
    serving = tmp_path / "serving.json"
    serving.write_text(json.dumps({"name": "m", "limits": {"maxPathBytes": 2048}}))
    assert mb.main(["--serving", str(serving), "unpack", str(bundle), str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / LONG).read_bytes() == b"deep"
    assert mb.main(["digest", str(bundle), "--serving", str(serving)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == mb.digest(bundle, limits=mb.Limits(max_path_bytes=2048))
    serving.write_text(json.dumps({"limits": {"maxEntries": 0}}))
    assert mb.main(["--serving", str(serving), "digest", str(bundle)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {serving}: limits.maxEntries: ")
    assert mb.main(["--serving"]) == 2


# The batch runners (modelpack_batch): the driver and every executor or worker verify the bundle
# with the limits serving.json gives the run.

def batch_module(monkeypatch, tmp_path):
    """modelpack_batch, its cache in tmp_path and its per-process state reset. Its own
    modelpack_bundle may be another module object than `mb` (test_batch.py imported it first)."""
    monkeypatch.syspath_prepend(str(RUNTIME))
    import modelpack_batch

    monkeypatch.setenv("MODELPACK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(sys, "path", list(sys.path))  # load_model puts the model folder first
    monkeypatch.setattr(modelpack_batch.Scorer, "_loaded", {})
    monkeypatch.setattr(modelpack_batch.gc, "freeze", lambda: None)
    return modelpack_batch


def serving_description(limits=None):
    description = {"name": "m", "version": "1", "inputs": [{"name": "x", "type": "float"}],
                   "outputs": [{"name": "y", "type": "float"}]}
    return {**description, "limits": limits} if limits is not None else description


def test_executors_and_workers_verify_with_the_limits_of_the_serving_description(tmp_path, monkeypatch):
    """Scorer.of is what Spark's executors (run_spark's and spark_udf's predict) and Ray's actors
    (the _predictor class) call, with the description the driver read from serving.json."""
    batch = batch_module(monkeypatch, tmp_path)
    bundle = str(write(tmp_path / "b.zip", good_entries({**FILES, LONG: b"deep"})))
    digest = mb.digest(bundle, limits=mb.Limits(max_path_bytes=2048))
    with pytest.raises(batch.BundleError, match=re.escape(LONG_REFUSED)):
        batch.Scorer.of(bundle, serving_description(), digest)
    with pytest.raises(batch.BundleError, match=re.escape(LONG_REFUSED)):
        batch._predictor(bundle, serving_description({"maxPathBytes": 1024}), digest, False, None, None, False)()
    predictor = batch._predictor(bundle, serving_description({"maxPathBytes": 2048}), digest, False, None, None,
                                 False)
    assert predictor().scorer.model is None  # the actor verified, unpacked and loaded the model
    assert (tmp_path / "cache" / "bundles" / digest.split(":")[1] / LONG).read_bytes() == b"deep"


def test_ray_predictor_takes_limits(tmp_path, monkeypatch):
    batch = batch_module(monkeypatch, tmp_path)
    bundle = str(write(tmp_path / "b.zip", good_entries({**FILES, LONG: b"deep"})))
    with pytest.raises(batch.BundleError, match=re.escape(LONG_REFUSED)):
        batch.ray_predictor(bundle)
    predictor = batch.ray_predictor(bundle, limits=batch.Limits(max_path_bytes=2048))
    assert predictor().scorer.model is None


def test_the_batch_driver_holds_the_bundle_to_the_limits_of_serving_json(tmp_path, monkeypatch, capsys):
    """`modelpack predict --engine ray --address ...` up to ray.init (a stand-in here: Ray and
    pyarrow need not be installed): the driver verifies the bundle twice (its digest, then its
    requirements for the workers' environment), both with serving.json's limits."""
    batch = batch_module(monkeypatch, tmp_path)
    bundle = write(tmp_path / "b.zip", good_entries({**FILES, LONG: b"deep"}))

    class Started(Exception):
        pass

    def init(**options):
        raise Started(f"ray.init reached with {sorted(options['runtime_env'])}")

    monkeypatch.setitem(sys.modules, "ray", types.SimpleNamespace(init=init, shutdown=lambda: None))
    monkeypatch.setitem(sys.modules, "pyarrow", types.ModuleType("pyarrow"))
    serving = tmp_path / "serving.json"

    def run(limits):
        serving.write_text(json.dumps(serving_description(limits)))
        monkeypatch.setattr(sys, "argv", ["modelpack_batch.py", "--engine", "ray", "--address", "ray://head:10001",
                                          "--bundle", str(bundle), "--serving", str(serving),
                                          "--input", str(tmp_path / "in.csv"), "--output", str(tmp_path / "out.csv")])
        code = batch.main()
        return code, capsys.readouterr().err

    assert run(None) == (1, f"error: {bundle}: manifest {mb.MANIFEST}: '{LONG}': {LONG_REFUSED}\n")
    assert run({"maxPathBytes": 2048}) == (1, "error: the ray job failed: ray.init reached with ['working_dir']\n")
    assert run({"maxPathBytes": 2048, "maxEntries": 4}) == (
        1, f"error: {bundle}: 5 files exceed the limit of 4 (raise it with --max-entries)\n")
    assert run({"maxPathBytes": "2048"}) == (
        1, f"error: {serving}: limits.maxPathBytes: \"2048\" is not a positive whole number\n")
