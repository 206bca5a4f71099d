#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora: the test fixtures, the examples, bundles built by modelpack
itself, and small well-formed safetensors/GGUF/npy/zip files made here byte by byte (standard
library only; nothing is loaded or unpickled).

usage: seeds.py MODELPACK OUTDIR
"""
import io, json, os, shutil, struct, subprocess, sys, tempfile, zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "Tests/ModelPackCoreTests/Fixtures")


def put(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def safetensors(tensors, metadata=None):
    header, offset, data = {}, 0, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + data


def gguf_string(s):
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf(kvs, tensors):
    out = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), len(kvs))
    for key, kind, value in kvs:
        out += gguf_string(key) + struct.pack("<I", kind)
        if kind == 8:
            out += gguf_string(value)
        elif kind == 4:
            out += struct.pack("<I", value)
        elif kind == 9:  # array of strings
            out += struct.pack("<IQ", 8, len(value)) + b"".join(gguf_string(v) for v in value)
    for name, dims, ggml_type, offset in tensors:
        out += gguf_string(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<Q", d) for d in dims)
        out += struct.pack("<IQ", ggml_type, offset)
    out += b"\0" * (-len(out) % 32)
    return out + b"\0" * 64


def npy(descr, shape, raw):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (descr, tuple(shape))
    header += " " * (-(len(header) + 11) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + raw


def main():
    modelpack, out = sys.argv[1], sys.argv[2]
    shutil.rmtree(out, ignore_errors=True)
    pickles = [os.path.join(FIX, "pickles", kind, n) for kind in ("benign", "malicious")
               for n in sorted(os.listdir(os.path.join(FIX, "pickles", kind)))]
    for p in pickles:
        if os.path.getsize(p) <= 64 * 1024:
            put(out, "pickle", os.path.basename(p), read(p))
            put(out, "artifact", os.path.basename(p), read(p))

    for i, p in enumerate(["Examples/iris-sklearn/metadata.yaml", "Examples/churn-sklearn/metadata.yaml"]):
        put(out, "yaml", f"example{i}.yaml", read(os.path.join(ROOT, p)))
    put(out, "yaml", "multi-error.yaml", read(os.path.join(FIX, "multi-error/metadata.yaml")))
    put(out, "yaml", "anchors.yaml", b"base: &b {type: float, shape: [1, 2]}\ninputs:\n  - <<: *b\n    name: x\n"
        b"outputs: [*b]\nlist: [a, 'b', \"c\", |\n  block\n]\n")

    for i, p in enumerate(["Examples/iris-sklearn/requirements.txt", "Examples/churn-sklearn/requirements.txt",
                           os.path.join(FIX, "multi-error/requirements.txt")]):
        put(out, "requirements", f"file{i}.txt", read(os.path.join(ROOT, p)))
    corpus = read(os.path.join(FIX, "requirements/pep508-corpus.txt")).splitlines()
    for i, line in enumerate(corpus):
        put(out, "requirements", f"pep508-{i:03}.txt", line + b"\n")
    put(out, "requirements", "options.txt", b"--index-url https://example.org/simple\n-r constraints.txt\n"
        b"-c constraints.txt\nnumpy>=1.26 \\\n  ; python_version >= '3.9'  # comment\n-e .\n")

    for name in sorted(os.listdir(os.path.join(FIX, "onnx"))):
        if name.endswith(".onnx"):
            put(out, "onnx", name, read(os.path.join(FIX, "onnx", name)))
            put(out, "artifact", name, read(os.path.join(FIX, "onnx", name)))

    st = [
        safetensors([("w", "F32", [2, 2], b"\0" * 16), ("b", "F16", [2], b"\0" * 4)], {"format": "pt"}),
        safetensors([("t", "BF16", [1, 3], b"\0" * 6)]),
        safetensors([]),
    ]
    for i, data in enumerate(st):
        put(out, "safetensors", f"st{i}.safetensors", data)
        put(out, "artifact", f"st{i}.safetensors", data)

    gg = [
        gguf([("general.architecture", 8, "llama"), ("llama.context_length", 4, 4096),
              ("tokenizer.chat_template", 8, "{% for m in messages %}{{ m.content }}{% endfor %}"),
              ("tokenizer.ggml.tokens", 9, ["a", "b", "<s>"])],
             [("token_embd.weight", [4, 3], 0, 0), ("output.weight", [4], 1, 64)]),
        gguf([], []),
    ]
    for i, data in enumerate(gg):
        put(out, "gguf", f"g{i}.gguf", data)
        put(out, "artifact", f"g{i}.gguf", data)

    put(out, "artifact", "f4.npy", npy("<f4", [2, 3], b"\0" * 24))
    put(out, "artifact", "obj.npy", npy("|O", [1], read(os.path.join(FIX, "pickles/benign/object_array_p2.pkl"))))
    for name, member in (("torch.pt", "archive/data.pkl"), ("model.keras", "config.json")):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            if member.endswith(".pkl"):
                z.writestr(member, read(os.path.join(FIX, "pickles/benign/dict_of_arrays_p4.pkl")))
                z.writestr("archive/version", "3\n")
            else:
                z.writestr("metadata.json", json.dumps({"keras_version": "3.6.0"}))
                z.writestr(member, json.dumps({"class_name": "Sequential", "config": {"layers": [
                    {"class_name": "Dense", "module": "keras.layers", "config": {"units": 1}},
                    {"class_name": "Lambda", "module": "keras.layers", "config": {"function": "x"}}]}}))
        put(out, "artifact", name, buf.getvalue())

    # Bundles of a small model (iris with a small pickle), in every container, and their manifest.
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "model")
        shutil.copytree(os.path.join(ROOT, "Examples/iris-sklearn"), model)
        shutil.copy(os.path.join(FIX, "pickles/benign/decision_tree.joblib"), os.path.join(model, "model.joblib"))
        for ext in ("zip", "tar", "tar.gz", "tar.zst"):
            bundle = os.path.join(tmp, "iris." + ext)
            subprocess.run([modelpack, "build", model, "-o", bundle], check=True, stdout=subprocess.DEVNULL)
            put(out, "archive", "iris." + ext, read(bundle))
        with zipfile.ZipFile(os.path.join(tmp, "iris.zip")) as z:
            put(out, "manifest", "manifest.json", z.read(".modelpack/manifest.json"))
    for target in sorted(os.listdir(out)):
        print(f"{target}: {len(os.listdir(os.path.join(out, target)))} seeds")


if __name__ == "__main__":
    main()
