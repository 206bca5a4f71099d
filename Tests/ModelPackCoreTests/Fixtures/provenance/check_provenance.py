"""The in-toto reference for `build --provenance`: in-toto-attestation's Statement v1 checks, and
the predicate parsed strictly (unknown fields refused) as SLSA Provenance v1's protobuf.

    python check_provenance.py FILE     exit 0 when valid; else the error, exit 1
A DSSE envelope is unwrapped first (its signature is the Swift test's to check).
"""
import base64
import json
import sys

from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement


def main():
    document = json.load(open(sys.argv[1], encoding="utf-8"))
    if "payloadType" in document:
        assert document["payloadType"] == "application/vnd.in-toto+json", document["payloadType"]
        document = json.loads(base64.b64decode(document["payload"]))
    try:
        statement = Statement.copy_from_pb(json_format.ParseDict(document, statement_pb2.Statement()))
        statement.validate()
        if document["predicateType"] != "https://slsa.dev/provenance/v1":
            raise ValueError("not SLSA provenance v1")
        provenance = json_format.ParseDict(document["predicate"], provenance_pb2.Provenance())
        if not provenance.build_definition.build_type or not provenance.run_details.builder.id:
            raise ValueError("buildType and builder.id are required")
    except (ValueError, json_format.ParseError) as error:
        print(error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
