#!/usr/bin/env bash
# Large-file benchmark: modelpack build/inspect/verify/unpack on a model with one big artifact,
# beside bsdtar, sha256sum and openssl on the same file, on this machine, in one run.
# Prints a table of wall time and peak RSS, and each ratio to its baseline.
#   Benchmarks/large-file.sh            # 1 GiB artifact
#   SIZE_MIB=256 Benchmarks/large-file.sh
# Writes are bound by the page cache and write-back: compare ratios within one run, not absolute
# times across runs (see ../shared/reference/measured-here.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${SIZE_MIB:-1024}
WORK=${BENCH_DIR:-/var/tmp/modelpack-bench}
command -v bsdtar >/dev/null || .ci/install-deps libarchive-tools
[[ -x /usr/bin/time ]] || .ci/install-deps time
swift build -c release >/dev/null
MP=$(swift build -c release --show-bin-path)/modelpack

rm -rf "$WORK" && mkdir -p "$WORK/model"
cp Examples/iris-sklearn/{metadata.yaml,requirements.txt,interface.py,model.joblib} "$WORK/model/"
head -c "$((SIZE_MIB << 20))" /dev/urandom > "$WORK/model/weights.bin"
sync
ART="$WORK/model/weights.bin"

# measure CMD...: prints "seconds peak_rss_kib" for the command
measure() {
  /usr/bin/time -f '%e %M' -o "$WORK/.time" "$@" >/dev/null 2>"$WORK/.stderr" || {
    echo "benchmark step failed: $*" >&2; cat "$WORK/.stderr" >&2; exit 1; }
  tail -1 "$WORK/.time"
}
rows=()
row() {  # label, modelpack "seconds kib", baseline label, baseline "seconds kib"
  rows+=("$(python3 -c '
import sys
label, (ms, mk), base, (bs, bk) = sys.argv[1], sys.argv[2].split(), sys.argv[3], sys.argv[4].split()
ms, mk, bs, bk = float(ms), float(mk) / 1024, float(bs), float(bk) / 1024
print(f"{label:<28} {ms:8.2f} {mk:9.1f}   {base:<26} {bs:8.2f} {bk:9.1f}   {ms / max(bs, 0.01):6.2f}x")
' "$1" "$2" "$3" "$4")")
}

cd "$WORK"
m_build_tar=$(measure "$MP" build model -o m.tar)
b_build_tar=$(measure bsdtar -cf b.tar -C model .)
m_build_zip=$(measure "$MP" build model -o m.zip)
b_build_zip=$(measure bsdtar --format zip --options zip:compression=store -cf b.zip -C model .)
b_sha=$(measure sha256sum "$ART")
b_ossl=$(measure openssl dgst -sha256 "$ART")
m_inspect_zip=$(measure "$MP" inspect --manifest-only m.zip)
m_inspect_tar=$(measure "$MP" inspect --manifest-only m.tar)
m_audit_tar=$(measure "$MP" inspect m.tar)
"$MP" build "$OLDPWD/Examples/iris-sklearn" -o small.zip >/dev/null
m_inspect_small=$(measure "$MP" inspect --manifest-only small.zip)
m_verify_tar=$(measure "$MP" verify m.tar)
m_verify_zip=$(measure "$MP" verify m.zip)
rm -rf out b-out; mkdir b-out
m_unpack_tar=$(measure "$MP" unpack m.tar -o out)
b_unpack_tar=$(measure bsdtar -xf b.tar -C b-out)
rm -rf out
m_unpack_zip=$(measure "$MP" unpack m.zip -o out)

row "build tar" "$m_build_tar" "bsdtar -cf (tar)" "$b_build_tar"
row "build zip (stored)" "$m_build_zip" "bsdtar zip, store" "$b_build_zip"
row "verify tar (re-hash all)" "$m_verify_tar" "sha256sum" "$b_sha"
row "verify zip (re-hash all)" "$m_verify_zip" "openssl dgst -sha256" "$b_ossl"
row "unpack tar (+verify)" "$m_unpack_tar" "bsdtar -xf (no check)" "$b_unpack_tar"
row "unpack zip (+verify)" "$m_unpack_zip" "bsdtar -xf (no check)" "$b_unpack_tar"
row "inspect --manifest-only zip" "$m_inspect_zip" "same, 13 KiB bundle" "$m_inspect_small"
row "inspect --manifest-only tar" "$m_inspect_tar" "same, 13 KiB bundle" "$m_inspect_small"
row "inspect tar (full audit)" "$m_audit_tar" "sha256sum" "$b_sha"

echo "modelpack large-file benchmark: one ${SIZE_MIB} MiB incompressible artifact, $(nproc) cores, $(date -u +%F)"
printf '%-28s %8s %9s   %-26s %8s %9s   %7s\n' "operation" "s" "RSS MiB" "baseline" "s" "RSS MiB" "ratio"
printf '%s\n' "${rows[@]}"
echo "(ratio = modelpack time / baseline time; RSS = peak resident set size)"
cd - >/dev/null
rm -rf "$WORK"
