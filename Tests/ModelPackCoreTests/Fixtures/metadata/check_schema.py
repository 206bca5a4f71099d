"""Checks Docs/metadata.schema.json with jsonschema (PyPI) on metadata files read by PyYAML:
each file named on the command line must be valid, each after --invalid must be refused.

    python3 check_schema.py GOOD.yaml ... --invalid BAD.yaml ...
"""
import json
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[4]


def main() -> int:
    schema = json.loads((ROOT / "Docs/metadata.schema.json").read_text())
    jsonschema.validators.validator_for(schema).check_schema(schema)
    validator = jsonschema.validators.validator_for(schema)(schema)
    status, expect_valid = 0, True
    for arg in sys.argv[1:]:
        if arg == "--invalid":
            expect_valid = False
            continue
        document = yaml.safe_load(Path(arg).read_text())
        errors = list(validator.iter_errors(document))
        if expect_valid and errors:
            print(f"{arg}: refused by the schema: {errors[0].message}")
            status = 1
        elif not expect_valid and not errors:
            print(f"{arg}: accepted by the schema, but modelpack refuses it")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
