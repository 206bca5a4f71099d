"""The CycloneDX reference for `modelpack bom`: cyclonedx-python-lib's strict JSON schema validator
for CycloneDX 1.6, and what the spec says in prose but the schema does not check (unique
bom-refs, dependencies naming existing refs, package URLs that parse).

    python3 validate_bom.py FILE      exit 0 when valid; else each error on a line, exit 1
"""
import json
import sys

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from packageurl import PackageURL


def errors(text):
    found = []
    for error in JsonStrictValidator(SchemaVersion.V1_6).validate_str(text, all_errors=True) or []:
        data = error.data
        found.append("schema: $" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in data.absolute_path)
                     + ": " + data.message[:300])
    document = json.loads(text)
    refs = set()

    def walk(node):
        if isinstance(node, dict):
            ref = node.get("bom-ref")
            if isinstance(ref, str):
                if ref in refs:
                    found.append(f"duplicate bom-ref {ref!r}")
                refs.add(ref)
            if isinstance(node.get("purl"), str):
                try:
                    PackageURL.from_string(node["purl"])
                except ValueError as error:
                    found.append(f"purl {node['purl']!r}: {error}")
            for key, value in node.items():
                if key != "dependencies":
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    for dependency in document.get("dependencies", []):
        for ref in [dependency.get("ref")] + dependency.get("dependsOn", []):
            if ref not in refs:
                found.append(f"dependency names {ref!r}, which no component has")
    return found


def main():
    found = errors(open(sys.argv[1], encoding="utf-8").read())
    for line in found:
        print(line)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
