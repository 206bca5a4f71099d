#!/usr/bin/env bash
# Builds the libFuzzer driver (swiftc -sanitize=fuzzer,address) and runs each target for a set
# time with a seed corpus from the test fixtures, then prints a table: executions, coverage
# (edges), corpus size, and crashes. A crash, hang (-timeout) or allocation over the limit leaves
# its input in .build-fuzz/crashes/; replay it with Tests/Fuzz/fuzz.sh --replay FILE TARGET, then
# add it to Tests/ModelPackCoreTests/Fixtures/fuzz/TARGET/ (FuzzRegressionTests replays those).
#
#   Tests/Fuzz/fuzz.sh [--time SECONDS] [TARGET...]     (default: 600 s each, every target)
#   Tests/Fuzz/fuzz.sh --runs N [TARGET...]             (N inputs each from seed 1: repeatable; CI's smoke run)
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_EACH=600
TARGETS=()
REPLAY=""
RUNS=""
while [ $# -gt 0 ]; do
    case "$1" in
        --time) SECONDS_EACH="$2"; shift 2 ;;
        --replay) REPLAY="$2"; shift 2 ;;
        --runs) RUNS="$2"; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) TARGETS+=("$1"); shift ;;
    esac
done
ALL=(pickle yaml requirements manifest archive safetensors onnx gguf artifact)
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL[@]}")

OUT=.build-fuzz
BIN=$OUT/release/modelpack-fuzz
export SWIFT_BACKTRACE=enable=no   # libFuzzer reports crashes itself
export ASAN_OPTIONS=detect_leaks=0 # process-lifetime caches are not leaks worth a crash

echo "building the fuzz driver (release, -sanitize=fuzzer,address)..." >&2
MODELPACK_FUZZ=1 swift build -c release --scratch-path $OUT --product modelpack-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing \
    -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld 2>&1 | grep -E "error|Compiling|Build complete" >&2 || true
[ -x $BIN ] || { echo "fuzz.sh: the fuzz driver did not build" >&2; exit 1; }

if [ -n "$REPLAY" ]; then
    MODELPACK_FUZZ_TARGET="${TARGETS[0]}" $BIN -runs=1 "$REPLAY"
    exit $?
fi

swift build --product modelpack >&2
python3 Tests/Fuzz/seeds.py .build/debug/modelpack $OUT/seeds >&2
mkdir -p $OUT/crashes $OUT/logs

printf '%-13s %6s %12s %8s %7s %7s %8s %8s\n' TARGET SECONDS EXECUTIONS EXEC/S EDGES FEATURES CORPUS CRASHES
failed=0
if [ -n "$RUNS" ]; then budget=(-runs="$RUNS" -seed=1); else budget=(-max_total_time="$SECONDS_EACH"); fi
for t in "${TARGETS[@]}"; do
    mkdir -p $OUT/corpus/$t
    log=$OUT/logs/$t.log
    rm -f $OUT/crashes/$t-*
    set +e
    corpus_dir=$OUT/corpus/$t
    if [ -n "$RUNS" ]; then corpus_dir=$OUT/smoke/$t; rm -rf "$corpus_dir"; mkdir -p "$corpus_dir"; fi
    MODELPACK_FUZZ_TARGET=$t $BIN "$corpus_dir" $OUT/seeds/$t \
        "${budget[@]}" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix=$OUT/crashes/$t- >"$log" 2>&1
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    edges=$(echo "$last" | grep -o 'cov: [0-9]*' | awk '{print $2}')
    features=$(echo "$last" | grep -o 'ft: [0-9]*' | awk '{print $2}')
    corpus=$(echo "$last" | grep -o 'corp: [0-9]*' | awk '{print $2}')
    secs=$(grep -o 'Done [0-9]* runs in [0-9]*' "$log" | awk '{print $5}' | tail -1)
    crashes=$(find $OUT/crashes -name "$t-*" | wc -l)
    rate=$(( ${execs:-0} / ( ${secs:-1} > 0 ? ${secs:-1} : 1 ) ))
    printf '%-13s %6s %12s %8s %7s %7s %8s %8s\n' "$t" "${secs:-?}" "${execs:-?}" "$rate" \
        "${edges:-?}" "${features:-?}" "${corpus:-?}" "$crashes"
    if [ "$crashes" -gt 0 ]; then
        failed=1
        grep -m3 -E 'ERROR|SUMMARY|Fatal error|deadly signal|timeout' "$log" | sed "s/^/  $t: /"
    fi
    set -e
done
exit $failed
