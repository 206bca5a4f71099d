"""The reference for modelpack's PEP 508 parser: runs `packaging` (PyPI) on every line of
pep508-corpus.txt and writes pep508-expected.json. The Swift test RequirementsOracleTests compares
the parser with this file line by line; `make oracle` re-runs this script and fails if the
committed file no longer matches what packaging says.

    python3 oracle.py            # rewrite pep508-expected.json
    python3 oracle.py --check    # exit 1 if it differs
"""
import json
import sys
from pathlib import Path

import packaging
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

HERE = Path(__file__).resolve().parent


def judge(line: str) -> dict:
    try:
        req = Requirement(line)
    except InvalidRequirement:
        return {"line": line, "valid": False}
    return {
        "line": line,
        "valid": True,
        "name": canonicalize_name(req.name),
        "extras": sorted(canonicalize_name(e) for e in req.extras),
        "specifiers": sorted(str(s) for s in req.specifier),
        "url": req.url,
        "marker": str(req.marker) if req.marker is not None else None,
    }


def main() -> int:
    lines = (HERE / "pep508-corpus.txt").read_text(encoding="utf-8").split("\n")[:-1]
    result = {"packaging": packaging.__version__, "cases": [judge(line) for line in lines]}
    text = json.dumps(result, indent=1, ensure_ascii=False) + "\n"
    target = HERE / "pep508-expected.json"
    if "--check" in sys.argv:
        current = json.loads(target.read_text(encoding="utf-8"))
        if current["cases"] != result["cases"]:
            print(f"pep508-expected.json differs from packaging {packaging.__version__}: run oracle.py")
            return 1
        print(f"pep508-expected.json agrees with packaging {packaging.__version__} on {len(lines)} lines")
        return 0
    target.write_text(text, encoding="utf-8")
    valid = sum(c["valid"] for c in result["cases"])
    print(f"wrote {len(lines)} cases ({valid} valid) from packaging {packaging.__version__}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
