#!/usr/bin/env bash
# Scan speed: modelpack scan on a 1 GiB safetensors file and a 1 GiB joblib file (a float32 array
# written inline by joblib, as real models are), beside `dd bs=1M` (reading alone) and
# sha256sum on the same files, page cache warm. Prints seconds, peak RSS and the ratio to dd. A safetensors scan reads the header only: the header alone must account for the file length.
#   Benchmarks/scan-speed.sh         # needs python3 with numpy and joblib
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${SIZE_MIB:-1024}
WORK=${BENCH_DIR:-/var/tmp/modelpack-scan-bench}
source Benchmarks/release-binary.sh
rm -rf "$WORK" && mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT
python3 - "$WORK" "$SIZE_MIB" <<'PY'
import json, struct, sys
import numpy as np, joblib
work, mib = sys.argv[1], int(sys.argv[2])
n = mib * (1 << 20) // 4
data = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
joblib.dump({"weights": data}, f"{work}/model.joblib")
header = json.dumps({"weights": {"dtype": "F32", "shape": [n], "data_offsets": [0, n * 4]}, "__metadata__": {"format": "pt"}}).encode()
header += b" " * (-len(header) % 8)
with open(f"{work}/model.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header)
    data.tofile(f)
PY
measure() { /usr/bin/time -f '%e %M' -o "$WORK/.time" "$@" >/dev/null 2>&1 || true; tail -1 "$WORK/.time"; }
echo "scan speed, $SIZE_MIB MiB files, $(nproc) cores, $(date -u +%F)"
printf '%-34s %8s %9s %8s\n' "operation" "s" "RSS MiB" "vs dd"
for f in model.safetensors model.joblib; do
  dd if="$WORK/$f" of=/dev/null bs=1M 2>/dev/null  # warm the cache
  c=$(measure dd if="$WORK/$f" of=/dev/null bs=1M); s=$(measure sha256sum "$WORK/$f"); m=$(measure "$MP" scan "$WORK/$f")
  for row in "dd bs=1M $f|$c" "sha256sum $f|$s" "modelpack scan $f|$m"; do
    label=${row%%|*}; set -- ${row##*|}
    python3 -c "import sys; t,k,base=float(sys.argv[2]),float(sys.argv[3])/1024,float(sys.argv[4]); print(f'{sys.argv[1]:<34} {t:8.2f} {k:9.1f} {t/max(base,0.01):7.2f}x')" "$label" "$1" "$2" "${c%% *}"
  done
done
"$MP" scan "$WORK/model.joblib" | head -2
