#!/usr/bin/env bash
# OMS verification speed: `modelpack verify DIR --key PUB --signature SIG` against `model_signing
# verify key` (PyPI model-signing, `make oms-deps`) on the same model directory and the same
# signature (made by model_signing with a P-256 key), alternately, RUNS times each, page cache
# warm. Three shapes of 1 GiB: one file, 8 files of 128 MiB (both tools hash files in parallel),
# and 16,384 files of 64 KiB (a tokenizer-and-shards tree taken to its limit: per-file cost).
# Prints medians of wall seconds and peak RSS, and the ratio of times (below 1.00x, modelpack
# took less), with `openssl dgst -sha256` over the same bytes as the one-core hash floor.
#   Benchmarks/oms-verify.sh [RUNS]      # MODEL_SIGNING=path/to/model_signing for another one
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
WORK=${BENCH_DIR:-/var/tmp/modelpack-oms-bench}
MS=${MODEL_SIGNING:-$PWD/.build/venvs/model-signing/bin/model_signing}
[[ -x $MS ]] || make -s oms-deps
source Benchmarks/release-binary.sh
rm -rf "$WORK" && mkdir -p "$WORK/one" "$WORK/eight" "$WORK/many"
trap 'rm -rf "$WORK"' EXIT
head -c 1G /dev/urandom >"$WORK/one/weights.bin"
for i in 0 1 2 3 4 5 6 7; do head -c 128M /dev/urandom >"$WORK/eight/shard-$i.bin"; done
head -c 1G /dev/urandom | split -b 64K -a 4 - "$WORK/many/part-"
openssl ecparam -name prime256v1 -genkey -noout -out "$WORK/key.pem" 2>/dev/null
openssl ec -in "$WORK/key.pem" -pubout -out "$WORK/key.pub" 2>/dev/null
measure() { /usr/bin/time -f '%e %M' -o "$WORK/.time" "$@" >/dev/null 2>&1 || { echo "FAILED: $*" >&2; exit 1; }; tail -1 "$WORK/.time"; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo "OMS verify, $(nproc) cores, $(date -u +%F), $("$MS" --version 2>/dev/null | head -1)"
printf '%-26s %10s %9s %10s %9s %8s\n' "model" "modelpack" "RSS MiB" "reference" "RSS MiB" "ratio"
for shape in one eight many; do
  "$MS" sign key "$WORK/$shape" --private_key "$WORK/key.pem" --signature "$WORK/$shape.sig" >/dev/null
  cat "$WORK/$shape"/* >/dev/null  # warm the cache
  : >"$WORK/mp" && : >"$WORK/ref"
  for _ in $(seq "$RUNS"); do
    measure "$MP" verify "$WORK/$shape" --key "$WORK/key.pub" --signature "$WORK/$shape.sig" >>"$WORK/mp"
    measure "$MS" verify key "$WORK/$shape" --signature "$WORK/$shape.sig" --public_key "$WORK/key.pub" >>"$WORK/ref"
  done
  mp_s=$(cut -d' ' -f1 "$WORK/mp" | median); mp_m=$(cut -d' ' -f2 "$WORK/mp" | median)
  ref_s=$(cut -d' ' -f1 "$WORK/ref" | median); ref_m=$(cut -d' ' -f2 "$WORK/ref" | median)
  case $shape in one) label="1 file of 1 GiB" ;; eight) label="8 files of 128 MiB" ;; *) label="16,384 files of 64 KiB" ;; esac
  awk -v l="$label" -v a="$mp_s" -v b="$mp_m" -v c="$ref_s" -v d="$ref_m" \
    'BEGIN { printf "%-26s %10.2f %9.0f %10.2f %9.0f %7.2fx\n", l, a, b / 1024, c, d / 1024, a / c }'
done
floor=$( { /usr/bin/time -f '%e' openssl dgst -sha256 "$WORK/one/weights.bin" >/dev/null; } 2>&1 | tail -1)
echo "hash floor: openssl dgst -sha256 over 1 GiB on one core, ${floor} s"
