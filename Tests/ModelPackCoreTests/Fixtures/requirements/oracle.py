"""The reference for modelpack's PEP 508 parser: runs `packaging` (PyPI) on every line of
pep508-corpus.txt and writes pep508-expected.json. The Swift test RequirementsOracleTests compares
the parser with this file line by line; `make oracle` re-runs this script and fails if the
committed file no longer matches what packaging says.

    python3 oracle.py            # rewrite pep508-expected.json
    python3 oracle.py --check    # exit 1 if it differs (run with the recorded packaging version)
    python3 oracle.py --drift    # print what a newer packaging says differently (exit 0)
    python3 oracle.py --version  # the packaging version the expectations were recorded with
"""
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def judge(line: str) -> dict:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

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
    target = HERE / "pep508-expected.json"
    if "--version" in sys.argv:
        print(json.loads(target.read_text(encoding="utf-8"))["packaging"])
        return 0
    import packaging  # only now: --version must answer before packaging is installed

    lines = (HERE / "pep508-corpus.txt").read_text(encoding="utf-8").split("\n")[:-1]
    result = {"packaging": packaging.__version__, "cases": [judge(line) for line in lines]}
    text = json.dumps(result, indent=1, ensure_ascii=False) + "\n"
    current = json.loads(target.read_text(encoding="utf-8"))
    if "--drift" in sys.argv:
        changed = [(old, new) for old, new in zip(current["cases"], result["cases"]) if old != new]
        for old, new in changed:
            print(f"drift: {old['line']!r}: packaging {current['packaging']} says {old}, {packaging.__version__} says {new}")
        print(f"packaging {packaging.__version__} (newest) against the recorded {current['packaging']}: "
              f"{len(changed)} of {len(lines)} lines differ" + (" - re-record with it and follow it" if changed else ""))
        return 0
    if "--check" in sys.argv:
        if current["packaging"] != packaging.__version__:
            print(f"the expectations were recorded with packaging {current['packaging']}, "
                  f"this is {packaging.__version__}: install packaging=={current['packaging']}")
            return 1
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
