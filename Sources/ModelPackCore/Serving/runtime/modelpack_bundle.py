"""A modelpack bundle read, verified and unpacked in Python alone, for the places the modelpack
binary is not: Spark executors and Ray workers (modelpack_batch). It applies the reading rules of
Docs/FORMAT.md: the manifest first and in canonical form, then only regular files it lists (and
no Python bytecode: __pycache__/, *.pyc, *.pyo), each read no further than its declared size and
checked against its SHA-256, written with O_EXCL and O_NOFOLLOW into a fresh folder renamed into
place once every check passed. The bundle is held to the limits of Docs/SECURITY.md ("Limits": files,
uncompressed size, expansion ratio, path length), checked against the manifest before a file is
written, as the modelpack binary holds it: the run's limits are those serving.json gives (`limits`,
the values of --max-entries, --max-total-size, --max-ratio and --max-path-length), else the defaults.

    python3 modelpack_bundle.py digest BUNDLE         prints the bundle digest (reads the manifest)
    python3 modelpack_bundle.py unpack BUNDLE DIR     verifies and unpacks into DIR (must not exist)
    python3 modelpack_bundle.py cached BUNDLE         verifies into the cache, prints the folder

Each takes `--serving serving.json` for the run's limits.

Containers: zip, tar, tar.gz, and tar.zst when the `zstandard` package is installed. Exit 0, or 1
with one line naming the bundle and the problem.
"""
import fcntl
import hashlib
import json
import os
import shutil
import stat
import sys
import tarfile
import unicodedata
import uuid
import zipfile
import zlib
from pathlib import Path
from typing import NamedTuple

MANIFEST = ".modelpack/manifest.json"
FORMAT_VERSIONS = (1, 2)  # 2 is what modelpack writes; 1 reads the same (Docs/FORMAT.md, Versioning)
MAX_MANIFEST = 64 << 20
REQUIRED = {"metadata.yaml": "metadata", "requirements.txt": "requirements", "interface.py": "interface"}
CHUNK = 1 << 20


class BundleError(Exception):
    """'BUNDLE: why', one line."""


# serving.json's names of the limits, in the order of Limits' fields.
SERVING_KEYS = ("maxEntries", "maxTotalSize", "maxRatio", "ratioFloor", "maxPathBytes")


class Limits(NamedTuple):
    """The bounds a bundle is held to, with the defaults of Sources/ModelPackCore/Support/Limits.swift
    (UnpackLimits): files, total uncompressed bytes, uncompressed bytes per byte of archive (checked
    once the total passes `ratio_floor`), bytes in a path. Plain data, so it travels to Spark
    executors and Ray workers with the rest of a job."""

    max_entries: int = 100_000
    max_total_size: int = 256 << 30
    max_ratio: int = 1000
    ratio_floor: int = 1 << 30
    max_path_bytes: int = 1024

    @classmethod
    def from_serving(cls, description, where="serving.json"):
        """The limits in a serving description's `limits` (as modelpack writes serving.json: maxEntries,
        maxTotalSize, maxRatio, ratioFloor, maxPathBytes); a missing one keeps its default."""
        given = (description or {}).get("limits")
        if given is None:
            return cls()
        if not isinstance(given, dict):
            raise BundleError(f"{where}: limits: not an object")
        values = {}
        for field, key in zip(cls._fields, SERVING_KEYS):
            if key in given:
                value = given[key]
                if type(value) is not int or value <= 0:
                    raise BundleError(f"{where}: limits.{key}: {json.dumps(value)} is not a positive whole number")
                values[field] = value
        return cls(**values)

    def check(self, manifest, archive_size, bundle):
        """Refuses a manifest over the limits (Sources/ModelPackCore/Bundle/UnpackLimits.swift, with
        its messages), before anything else of the bundle is read."""
        files = len(manifest["files"])
        if files > self.max_entries:
            raise BundleError(f"{bundle}: {files} files exceed the limit of {self.max_entries} "
                              "(raise it with --max-entries)")
        total = sum(f["size"] for f in manifest["files"])
        if total > self.max_total_size:
            raise BundleError(f"{bundle}: {total} bytes uncompressed exceed the limit of {self.max_total_size} "
                              "(raise it with --max-total-size)")
        ratio = total // max(archive_size, 1)
        if total > self.ratio_floor and ratio > self.max_ratio:
            raise BundleError(f"{bundle}: expands {ratio}:1, more than {self.max_ratio}:1 "
                              "(a compression bomb? raise it with --max-ratio)")


DEFAULT_LIMITS = Limits()


def quote(text):
    out = ['"']
    for ch in text:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out) + '"'


def canonical(manifest):
    """The canonical bytes of a parsed manifest (Sources/ModelPackCore/Bundle/Manifest+Canonical.swift)."""
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


def path_problem(path, limits=DEFAULT_LIMITS):
    """Why `path` breaks the bundle path rule (Docs/FORMAT.md#paths) with the limits' path length
    (Sources/ModelPackCore/ModelDirectory/BundlePath.swift), or None."""
    data = path.encode("utf-8", "surrogateescape")
    if not path:
        return "empty path"
    if len(data) > limits.max_path_bytes:
        return f"path longer than {limits.max_path_bytes} bytes (raise the limit with --max-path-length)"
    if path.startswith("/"):
        return "absolute path"
    if "\\" in path:
        return "backslash in path"
    if any(b < 0x20 or b == 0x7F for b in data):
        return "control character in path"
    if len(path) >= 2 and path[1] == ":" and path[0].lower() in "abcdefghijklmnopqrstuvwxyz":
        return "drive-letter path"
    for component in path.split("/"):
        if component == "":
            return "empty path component"
        if component in (".", ".."):
            return f"'{component}' path component"
        if len(component.encode("utf-8", "surrogateescape")) > 255:
            return "path component longer than 255 bytes"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "path is not UTF-8"
    return None


def bytecode_problem(path):
    """Why `path` is Python bytecode, which no bundle carries (Docs/FORMAT.md, What is left out),
    or None. Letter case is folded, as a case-insensitive file system finds the files."""
    parts = path.lower().split("/")
    kind = "__pycache__" if "__pycache__" in parts else parts[-1][-4:] if parts[-1].endswith((".pyc", ".pyo")) else None
    if kind:
        return f"Python bytecode ({kind}): never packed, Python would run it instead of the audited source"
    return None


def role_of(path):
    return REQUIRED.get(path, "artifact")


def check_manifest(data, bundle, limits=DEFAULT_LIMITS):
    """The manifest parsed from `data`, refused unless it is a well-formed canonical manifest whose
    paths keep the path rule with the limits' path length."""
    def refuse(why):
        return BundleError(f"{bundle}: manifest {MANIFEST}: {why}")

    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise refuse("not a modelpack manifest (invalid JSON or no formatVersion)") from None
    if not isinstance(manifest, dict) or type(manifest.get("formatVersion")) is not int:
        raise refuse("not a modelpack manifest (invalid JSON or no formatVersion)")
    if manifest["formatVersion"] not in FORMAT_VERSIONS:
        raise refuse(f"format version {manifest['formatVersion']} is not supported (this modelpack reads 1 and 2)")
    keys = {"formatVersion", "tool", "name", "version", "allowedUnsafe", "trustedModules", "files"}
    files = manifest.get("files")
    if set(manifest) - keys or not isinstance(files, list) or not all(
            isinstance(manifest.get(k), str) for k in ("tool", "name", "version")):
        raise refuse("malformed (unknown or missing keys)")
    file_keys = {"path": str, "role": str, "size": int, "sha256": str, "executable": bool}
    for f in files:
        if not isinstance(f, dict) or set(f) != set(file_keys) or not all(
                type(f[k]) is t for k, t in file_keys.items()):
            raise refuse("malformed file record")
    try:
        canonical_bytes = canonical(manifest)
    except (TypeError, KeyError, AttributeError):
        raise refuse("malformed") from None
    if canonical_bytes != data:
        raise refuse("not in canonical form (edited by hand, or unknown keys)")
    previous, folded, paths = None, {}, {f["path"] for f in files}
    for f in files:
        path = f["path"]
        problem = path_problem(path, limits) or bytecode_problem(path)
        if problem:
            raise refuse(f"'{path}': {problem}")
        if path.startswith(".modelpack/"):
            raise refuse(f"'{path}' is inside the reserved .modelpack/ folder")
        if previous is not None and not previous.encode() < path.encode():
            raise refuse(f"duplicate path '{path}'" if previous == path else f"paths are not sorted at '{path}'")
        key = unicodedata.normalize("NFC", path).lower()
        if key in folded:
            raise refuse(f"'{path}' and '{folded[key]}' collide on case-insensitive file systems")
        folded[key] = path
        if f["size"] < 0:
            raise refuse(f"'{path}' has a negative size")
        if len(f["sha256"]) != 64 or any(c not in "0123456789abcdef" for c in f["sha256"]):
            raise refuse(f"'{path}' has a malformed sha256")
        if f["role"] != role_of(path):
            raise refuse(f"'{path}' has role {f['role']}, expected {role_of(path)}")
        parts = path.split("/")
        for i in range(1, len(parts)):
            if "/".join(parts[:i]) in paths:
                raise refuse(f"'{'/'.join(parts[:i])}' is both a file and the folder of '{path}'")
        previous = path
    for required in REQUIRED:
        if required not in paths:
            raise refuse(f"required file {required} is not listed")
    return manifest


class Entry:
    """One archive entry: its name, its kind (None for a regular file, else why it is refused, in
    the words of Sources/ModelPackCore/Bundle/EntryWalk.swift), its declared size, its bytes."""

    def __init__(self, name, kind, size, opener):
        self.name, self.kind, self.size, self.open = name, kind, size, opener

    @property
    def regular(self):
        return self.kind is None


DIRECTORY = "directory entry (bundles hold files only)"
SPECIAL = "device, FIFO or socket"


def entries(bundle):
    """The bundle's entries in archive order, whatever the container (told by its first bytes)."""
    with open(bundle, "rb") as f:
        head = f.read(4)
    if not head:
        raise BundleError(f"{bundle}: empty file")
    if head.startswith(b"PK"):
        yield from zip_entries(bundle)
        return
    if head.startswith(b"\x28\xb5\x2f\xfd"):
        try:
            import zstandard
        except ImportError:
            raise BundleError(f"{bundle}: a tar.zst bundle needs the zstandard package here "
                              "(pip install zstandard), or build the bundle as zip, tar or tar.gz") from None
        with open(bundle, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as stream:
            yield from tar_entries(bundle, stream, "tar.zst")
        return
    with open(bundle, "rb") as raw:
        yield from tar_entries(bundle, raw, "tar.gz" if head.startswith(b"\x1f\x8b") else None)


def zip_entries(bundle):
    try:
        archive = zipfile.ZipFile(bundle)
    except (zipfile.BadZipFile, OSError) as error:
        if str(error) == "File is not a zip file":  # no end of central directory record
            raise BundleError(f"{bundle}: truncated or damaged zip: it has no central directory (the file ends at "
                              f"byte {os.stat(bundle).st_size})") from None
        raise BundleError(f"{bundle}: damaged zip: {error}") from None
    with archive:
        for info in archive.infolist():
            mode = stat.S_IFMT(info.external_attr >> 16)  # 0 when the writer recorded no type
            kind = (DIRECTORY if info.is_dir() or mode == stat.S_IFDIR else "symbolic link" if mode == stat.S_IFLNK
                    else None if mode in (0, stat.S_IFREG) else SPECIAL)
            yield Entry(info.filename, kind, info.file_size, lambda info=info: archive.open(info))


def tar_entries(bundle, stream, compressed=None):
    """A tar's entries; `compressed` names the stream it comes through (tar.gz, tar.zst), if any."""
    try:
        archive = tarfile.open(fileobj=stream, mode="r|*")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError, EOFError) as error:
        if compressed:  # the stream breaks before the first tar header (a small bundle cut short)
            raise BundleError(f"{bundle}: truncated or damaged {compressed}: the file ends at byte "
                              f"{os.stat(bundle).st_size} ({error})") from None
        raise BundleError(f"{bundle}: not a zip, tar, tar.gz or tar.zst archive ({error})") from None
    with archive:
        for member in archive:
            kind = (None if member.type in (tarfile.REGTYPE, tarfile.AREGTYPE) else "hard link" if member.islnk()
                    else "symbolic link" if member.issym() else DIRECTORY if member.isdir() else SPECIAL)
            name = member.name + "/" if member.isdir() and not member.name.endswith("/") else member.name
            yield Entry(name, kind, member.size, lambda member=member: archive.extractfile(member))


def read_exactly(entry, limit, bundle):
    with entry.open() as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise BundleError(f"{bundle}: {entry.name} is larger than {limit} bytes")
    return data


def first_manifest(bundle, iterator, limits=DEFAULT_LIMITS):
    """The first entry's bytes and the manifest they hold, refused unless it is a well-formed
    manifest within the limits (against the bundle file's size for the expansion ratio)."""
    try:
        entry = next(iterator, None)
    except FileNotFoundError:
        raise BundleError(f"{bundle}: no such file") from None
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as error:
        raise BundleError(f"{bundle}: not a zip, tar, tar.gz or tar.zst archive ({error})") from None
    if entry is None:
        raise BundleError(f"{bundle}: empty archive")
    if entry.name != MANIFEST or not entry.regular:
        raise BundleError(f"{bundle}: not a modelpack bundle: the first entry is '{entry.name}', not {MANIFEST}")
    data = read_exactly(entry, MAX_MANIFEST, bundle)
    manifest = check_manifest(data, bundle, limits)
    limits.check(manifest, os.stat(bundle).st_size, bundle)
    return data, manifest


def damaged(bundle, reading, error):
    """The archive broke while `reading`: a truncation when it ran out of bytes (in the words of
    Sources/ModelPackCore/Archive/ArchiveReader.swift), else damage."""
    if isinstance(error, EOFError) or "unexpected end of data" in str(error):
        return BundleError(f"{bundle}: truncated: the archive ends at byte {os.stat(bundle).st_size} while reading "
                           f"{reading} ({error})")
    return BundleError(f"{bundle}: damaged while reading {reading}: {error}")


def digest(bundle, limits=DEFAULT_LIMITS):
    """The bundle digest (sha256: and the SHA-256 of the manifest's bytes), from the first entry,
    refused unless the manifest is within the limits."""
    data, _ = first_manifest(bundle, entries(bundle), limits)
    return "sha256:" + hashlib.sha256(data).hexdigest()


def unpack(bundle, destination, limits=DEFAULT_LIMITS):
    """Verifies every entry and unpacks the bundle into `destination` (which must not exist),
    through a temporary folder beside it, once its manifest was found within the limits. Returns the
    bundle digest."""
    destination = Path(destination)
    if destination.exists():
        raise BundleError(f"{destination}: already exists")
    temporary = destination.parent / f".modelpack-tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    temporary.mkdir(parents=True)
    try:
        result = _write(bundle, temporary, limits)
        os.rename(temporary, destination)
        return result
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise


def _write(bundle, into, limits=DEFAULT_LIMITS):
    reading = "an entry header"
    try:
        iterator = entries(bundle)
        data, manifest = first_manifest(bundle, iterator, limits)
        listed = {f["path"]: f for f in manifest["files"]}
        seen = set()
        for entry in iterator:
            # In the order of Sources/ModelPackCore/Bundle/EntryWalk.swift: the entry's kind, its
            # path, a second entry, one the manifest does not list, its declared size.
            name = entry.name
            problem = entry.kind or path_problem(name, limits) or bytecode_problem(name)
            if not problem and (name in seen or name == MANIFEST):
                problem = "second entry with this path"
            if not problem and name not in listed:
                problem = "not listed in the manifest"
            if not problem and entry.size != listed[name]["size"]:
                problem = f"archive declares {entry.size} bytes, manifest says {listed[name]['size']}"
            if problem:
                raise BundleError(f"{bundle}: refused entry '{name}': {problem}")
            record = listed[name]
            seen.add(name)
            reading = f"'{name}'"
            _extract(bundle, entry, record, into)
            reading = "an entry header"
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, zlib.error) as error:
        raise damaged(bundle, reading, error) from None
    # The first in manifest order (byte order), as the Swift reader names it.
    missing = next((f["path"] for f in manifest["files"] if f["path"] not in seen), None)
    if missing:
        raise BundleError(f"{bundle}: refused: '{missing}' is listed in the manifest but not in the archive")
    (into / ".modelpack").mkdir()
    _create(into / MANIFEST, 0o644, [data])
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _extract(bundle, entry, record, into):
    target = into.joinpath(*record["path"].split("/"))
    target.parent.mkdir(parents=True, exist_ok=True)
    hasher, size = hashlib.sha256(), record["size"]

    def chunks():
        nonlocal size
        with entry.open() as f:
            while True:
                block = f.read(min(CHUNK, size + 1))
                if not block:
                    break
                size -= len(block)
                if size < 0:
                    raise BundleError(f"{bundle}: refused entry '{record['path']}': more than the {record['size']} "
                                      "bytes the manifest gives")
                hasher.update(block)
                yield block

    _create(target, 0o755 if record["executable"] else 0o644, chunks())
    if size > 0:
        raise BundleError(f"{bundle}: refused entry '{record['path']}': {record['size'] - size} bytes, manifest says "
                          f"{record['size']}")
    if hasher.hexdigest() != record["sha256"]:
        raise BundleError(f"{bundle}: refused entry '{record['path']}': content differs from the manifest (sha256 "
                          f"{hasher.hexdigest()}, expected {record['sha256']})")


def _create(path, mode, blocks):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    with os.fdopen(fd, "wb") as out:
        for block in blocks:
            out.write(block)
    os.chmod(path, mode)


def cache_directory():
    """The cache folder modelpack uses (Sources/ModelPackCore/Support/CacheDirectory.swift)."""
    if os.environ.get("MODELPACK_CACHE"):
        return Path(os.environ["MODELPACK_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "modelpack"
    return Path(os.environ.get("HOME", "/tmp")) / ".cache" / "modelpack"


IN_USE = {}


def lock_file(path, operation):
    """flock(2) on `path` (created when absent); taken again when the file was removed meanwhile
    (`modelpack cache prune` removes the lock files of an entry it removes, holding them)."""
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        fcntl.flock(fd, operation)
        try:
            if os.path.samestat(os.fstat(fd), os.lstat(path)):
                return fd
        except FileNotFoundError:
            pass
        os.close(fd)


def cached(bundle, cache=None, limits=DEFAULT_LIMITS):
    """The bundle verified and unpacked once into `<cache>/bundles/<digest hex>` (a folder is there
    only after every check passed), its manifest held to the limits at every call, unpacked already
    or not. Processes on one machine take turns through `<hex>.lock`, and each holds `<hex>.use`
    shared until it exits, so `modelpack cache prune` leaves the folder alone while it is used (the
    protocol of Sources/ModelPackCore/Support/CacheStore.swift). Returns (folder, digest)."""
    name = digest(bundle, limits)
    root = Path(cache) if cache else cache_directory() / "bundles"
    folder = root / name.split(":", 1)[1]
    root.mkdir(parents=True, exist_ok=True)
    change = lock_file(f"{folder}.lock", fcntl.LOCK_EX)
    try:
        if not (folder / MANIFEST).is_file():
            unpack(bundle, folder, limits)
        if str(folder) not in IN_USE:
            use = lock_file(f"{folder}.use", fcntl.LOCK_SH)
            os.utime(use)
            IN_USE[str(folder)] = use
    finally:
        os.close(change)
    return folder, name


def main(argv):
    usage = ("usage: modelpack_bundle.py [--serving serving.json] digest BUNDLE | unpack BUNDLE DIR"
             " | cached BUNDLE")
    argv, serving = list(argv), None
    if "--serving" in argv:
        at = argv.index("--serving")
        if at + 1 >= len(argv):
            print(usage, file=sys.stderr)
            return 2
        serving = argv[at + 1]
        del argv[at:at + 2]
    try:
        limits = Limits()
        if serving is not None and len(argv) in (2, 3):
            try:
                description = json.loads(Path(serving).read_text(encoding="utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                raise BundleError(f"{serving}: not a serving description ({error})") from None
            if not isinstance(description, dict):
                raise BundleError(f"{serving}: not a serving description (not a JSON object)")
            limits = Limits.from_serving(description, serving)
        if len(argv) == 2 and argv[0] == "digest":
            print(digest(argv[1], limits))
        elif len(argv) == 3 and argv[0] == "unpack":
            print(unpack(argv[1], argv[2], limits))
        elif len(argv) == 2 and argv[0] == "cached":
            print(cached(argv[1], limits=limits)[0])
        else:
            print(usage, file=sys.stderr)
            return 2
    except BundleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: {error.filename or argv[1]}: {error.strerror}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
