"""Pushes a ModelPack-typed artifact with oras-py: a client that is not modelpack.

    oras_push.py TARGET DIR ITEM...

Each ITEM that is a FILE (relative to DIR) becomes a raw layer of a CNCF ModelPack media type
(weights for .joblib and .bin, code for .py and .txt, docs otherwise) named by oras's title
annotation; the config is a ModelPack config of the model's name. oras-py cannot set
artifactType: the config's media type says what the artifact is.

Packed layers, as KitOps and modctl push them:
    tar:NAME=FILE,FILE...   the FILEs, under their paths, in one code layer NAME (.tar plain,
                            .tar.gz gzip: application/vnd.cncf.model.code.v1.tar[+gzip])
    evil:NAME=KIND          a tar layer NAME holding a hostile entry: KIND is traversal
                            (../escape.txt), symlink (link.txt -> /etc/passwd), reserved
                            (.modelpack/manifest.json), collide (Weights.bin and weights.bin) or
                            bytecode (__pycache__/interface.cpython-311.pyc)
"""

import io
import json
import os
import sys
import tarfile
import tempfile

import oras.client


def main() -> None:
    target, directory, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.chdir(directory)
    config = {
        "descriptor": {"name": "foreign-iris", "version": "3.0.0"},
        "config": {"format": "scikit-learn"},
        "modelfs": {"type": "layers", "diffIds": []},
    }
    config_path = os.path.join(tempfile.mkdtemp(), "config.json")  # not in DIR: it is no file of the model
    with open(config_path, "w") as f:
        json.dump(config, f)
    typed = []
    packed = tempfile.mkdtemp()  # the tar layers, outside DIR
    for item in files:
        if item.startswith(("tar:", "evil:")):
            what, _, spec = item.partition(":")
            name, _, rest = spec.partition("=")
            path = os.path.join(packed, name)
            with tarfile.open(path, "w:gz" if name.endswith(".gz") else "w") as tar:
                if what == "tar":
                    for member in rest.split(","):
                        tar.add(member, arcname=member)
                elif rest == "traversal":
                    data = b"outside\n"
                    info = tarfile.TarInfo("../escape.txt")
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
                elif rest in ("reserved", "collide", "bytecode"):
                    names = {
                        "reserved": [".modelpack/manifest.json"],
                        "collide": ["Weights.bin", "weights.bin"],
                        "bytecode": ["__pycache__/interface.cpython-311.pyc"],
                    }[rest]
                    for entry in names:
                        data = b"{}\n"
                        info = tarfile.TarInfo(entry)
                        info.size = len(data)
                        tar.addfile(info, io.BytesIO(data))
                else:
                    info = tarfile.TarInfo("link.txt")
                    info.type = tarfile.SYMTYPE
                    info.linkname = "/etc/passwd"
                    tar.addfile(info)
            packing = "tar+gzip" if name.endswith(".gz") else "tar"
            typed.append(f"{path}:application/vnd.cncf.model.code.v1.{packing}")
            continue
        kind = "weight" if item.endswith((".joblib", ".bin")) else "code" if item.endswith((".py", ".txt")) else "doc"
        typed.append(f"{item}:application/vnd.cncf.model.{kind}.v1.raw")
    client = oras.client.OrasClient(hostname=target.split("/")[0], insecure=True)
    client.push(
        target=target,
        files=typed,
        manifest_config=f"{config_path}:application/vnd.cncf.model.config.v1+json",
        disable_path_validation=True,
        quiet=True,
    )


if __name__ == "__main__":
    main()
