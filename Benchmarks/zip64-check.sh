#!/usr/bin/env bash
# zip64 check: packs a model whose artifact is larger than 4 GiB (a sparse file, so it costs disk
# writes but no generation time), then checks that modelpack inspects and verifies it, and that an
# independent reader (Python's zipfile) sees the true size. About 35 s and 4.4 GB of free disk.
#   Benchmarks/zip64-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${BENCH_DIR:-/var/tmp/modelpack-zip64}
SIZE=${SIZE:-4400M}
source Benchmarks/release-binary.sh
rm -rf "$WORK" && mkdir -p "$WORK/model"
trap 'rm -rf "$WORK"' EXIT
cp Examples/iris-sklearn/{metadata.yaml,requirements.txt,interface.py,model.joblib} "$WORK/model/"
truncate -s "$SIZE" "$WORK/model/big.bin"
SECONDS=0
"$MP" build "$WORK/model" -o "$WORK/big.zip" 2>/dev/null
echo "build: ${SECONDS}s, $(stat -c %s "$WORK/big.zip") bytes"
"$MP" inspect "$WORK/big.zip" | grep -E 'files|big.bin'
python3 - "$WORK/big.zip" "$(stat -c %s "$WORK/model/big.bin")" <<'PY'
import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
info = z.getinfo("big.bin")
want = int(sys.argv[2])
assert info.file_size == want and info.compress_type == zipfile.ZIP_STORED, (info.file_size, want)
print(f"python zipfile: big.bin is {info.file_size} bytes, stored (zip64)")
manifest = z.read(".modelpack/manifest.json")  # checks the CRC-32 written after the files
print(f"python zipfile: the manifest, filled in after the files, reads with its CRC-32 ({len(manifest)} bytes)")
PY
SECONDS=0
"$MP" verify "$WORK/big.zip" | tail -1
echo "verify: ${SECONDS}s"
