"""Pushes a ModelPack-typed artifact with oras-py: a client that is not modelpack.

    oras_push.py TARGET DIR FILE...

Each FILE (relative to DIR) becomes a layer of a CNCF ModelPack media type (weights for .joblib and
.bin, code for .py and .txt, docs otherwise) named by oras's title annotation; the config is a
ModelPack config of the model's name. oras-py cannot set artifactType: the config's media type
says what the artifact is.
"""

import json
import os
import sys
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
    for name in files:
        kind = "weight" if name.endswith((".joblib", ".bin")) else "code" if name.endswith((".py", ".txt")) else "doc"
        typed.append(f"{name}:application/vnd.cncf.model.{kind}.v1.raw")
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
