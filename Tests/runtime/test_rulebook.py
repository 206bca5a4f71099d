"""The bundle rulebook (Tests/ModelPackCoreTests/Fixtures/bundles: cases.json and the bundles
make_bundles.py writes) read by the Python reader, modelpack_bundle: every bundle accepted with its
digest and files, or refused with the reason the table gives, in the same words as the Swift reader
(RulebookTests runs the same table), leaving nothing behind."""
import hashlib
import importlib.util
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "Sources/ModelPackCore/Serving/runtime"
RULEBOOK = ROOT / "Tests/ModelPackCoreTests/Fixtures/bundles"
spec = importlib.util.spec_from_file_location("modelpack_bundle", RUNTIME / "modelpack_bundle.py")
mb = importlib.util.module_from_spec(spec)
sys.modules.setdefault("modelpack_bundle", mb)
spec.loader.exec_module(mb)

CASES = json.loads((RULEBOOK / "cases.json").read_text(encoding="utf-8"))["cases"]


def test_the_table_is_there():
    assert len(CASES) >= 90
    assert {"accept", "refuse"} == {key for case in CASES for key in ("accept", "refuse") if key in case}


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_the_python_reader_keeps_the_rulebook(tmp_path, case):
    bundle = str(RULEBOOK / case["bundle"])
    limits = mb.Limits.from_serving({"limits": case.get("limits", {})})
    out = tmp_path / "out"
    if "accept" in case:
        expected = case["accept"]
        assert mb.unpack(bundle, out, limits=limits) == expected["digest"] == mb.digest(bundle, limits=limits)
        written = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
        assert written == sorted([mb.MANIFEST] + [f["path"] for f in expected["files"]])
        manifest = (out / mb.MANIFEST).read_bytes()
        assert "sha256:" + hashlib.sha256(manifest).hexdigest() == expected["digest"]
        assert json.loads(manifest)["files"] == expected["files"]
        for record in expected["files"]:
            data = (out / record["path"]).read_bytes()
            assert (len(data), hashlib.sha256(data).hexdigest()) == (record["size"], record["sha256"])
            assert record["role"] == mb.role_of(record["path"])
            assert bool(os.stat(out / record["path"]).st_mode & 0o111) == record["executable"]
    else:
        with pytest.raises(mb.BundleError) as refused:
            mb.unpack(bundle, out, limits=limits)
        message = str(refused.value)
        assert message.startswith(f"{bundle}: {case['refuse']}"), message
        assert "\n" not in message
        assert list(tmp_path.iterdir()) == [], "nothing may be left behind"
