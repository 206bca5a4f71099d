#!/usr/bin/env bash
# Large-file benchmark (issue 15): modelpack build / verify / unpack / inspect against bsdtar and
# `openssl dgst -sha256` (one core, SHA-NI, reading the file as it goes) on the same files, each
# pair run alternately RUNS times on this machine; prints medians of wall time and peak RSS, and
# the ratio.
#   Benchmarks/large-file.sh                 # 1 GiB artifact, 5,000 small files, RUNS=5
#   SIZE_MIB=256 RUNS=3 Benchmarks/large-file.sh
#   LARGE_GIB=10 Benchmarks/large-file.sh    # adds 10 GiB rows, on disk (needs about 30 GiB free)
# The 5,000-file rows take tens of milliseconds, so they run SMALL_RUNS times (default 3 x RUNS).
# Below the table: the hash floor, SHA-256 of the artifact's size on one core with the data
# already in memory (`openssl speed`, no I/O at all), and each big row's time against it. Where a
# C compiler and OpenSSL's headers are at hand, build tar is also timed against
# Benchmarks/pipeline-floor.c: the same read, write and hash on a second thread with nothing else.
# modelpack fsyncs a bundle before renaming it into place; bsdtar does not, so each bsdtar build
# row is also shown followed by `sync FILE` (the same durability). unpack runs one syncfs(2) on
# its finished tree before renaming it into place, so unpack rows are also shown against
# `bsdtar -x` followed by `sync -f DIR` (syncfs).
# Every run starts after `sync` (no dirty pages left by the one before). Writes are still bound
# by the page cache and write-back: compare ratios within one run, never absolute times across
# runs (see ../shared/reference/measured-here.md).
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB=${SIZE_MIB:-1024}
RUNS=${RUNS:-5}
SMALL_FILES=${SMALL_FILES:-5000}
SMALL_RUNS=${SMALL_RUNS:-$((3 * RUNS))}
LARGE_GIB=${LARGE_GIB:-0}
# On tmpfs by default: this machine's disk (a virtual disk mounted with online discard) makes a
# write after a delete take from 0.6 s to 7 s at random, which swamps any difference between the
# tools; in memory the rows compare the tools' own work. BENCH_DIR=/var/tmp/... measures the disk
# (the 10 GiB rows need it).
if [[ -z ${BENCH_DIR:-} ]]; then
  BENCH_DIR=/dev/shm/modelpack-bench
  [[ $LARGE_GIB == 0 ]] || BENCH_DIR=/var/tmp/modelpack-bench
fi
WORK=$BENCH_DIR
command -v bsdtar >/dev/null || .ci/install-deps libarchive-tools
[[ -x /usr/bin/time ]] || .ci/install-deps time
source Benchmarks/release-binary.sh  # MP; MODELPACK_BIN=path times another binary (an older build)
REPO=$PWD
PIPELINE=""
if cc -O2 Benchmarks/pipeline-floor.c -o "${TMPDIR:-/tmp}/pipeline-floor-$$" -lcrypto -lpthread 2>/dev/null; then
  PIPELINE=${TMPDIR:-/tmp}/pipeline-floor-$$
else
  echo "no C pipeline row: Benchmarks/pipeline-floor.c needs cc and libssl-dev" >&2
fi

rm -rf "$WORK" && mkdir -p "$WORK"
# Free the page cache once (best effort, needs root): reclaiming it while tmpfs grows stalled
# single runs for seconds.
sync && { echo 1 >/proc/sys/vm/drop_caches; } 2>/dev/null || true
trap 'rm -rf "$WORK" ${PIPELINE:+"$PIPELINE"}' EXIT
export MODELPACK_CACHE=$WORK/cache

model() {  # model DIR: the iris example's three files and model.joblib
  mkdir -p "$1"
  cp "$REPO"/Examples/iris-sklearn/{metadata.yaml,requirements.txt,interface.py,model.joblib} "$1/"
}
model "$WORK/big"
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$WORK/big/weights.bin"
model "$WORK/small"
python3 - "$WORK/small/parts" "$SMALL_FILES" <<'PY'
import base64, os, sys
root, count = sys.argv[1], int(sys.argv[2])
for i in range(count):  # 2 KiB of text each (deflated by both tools), 50 per folder
    os.makedirs(f"{root}/{i // 50:03d}", exist_ok=True)
    with open(f"{root}/{i // 50:03d}/part-{i:05d}.dat", "wb") as f:
        f.write(base64.b64encode(os.urandom(1536)))
PY
sync

cd "$WORK"
# A pair is: label, setup (untimed, before each run), modelpack command, baseline label, baseline
# command. Both commands run $runs times (RUNS, then SMALL_RUNS), alternately, each after its setup,
# after one run of each that is not counted.
PAIRS=$WORK/pairs
: >"$PAIRS"
runs=$RUNS
pair() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" "$runs" >>"$PAIRS"; }
big_pairs() {  # big_pairs DIR ARTIFACT TAG
  local d=$1 art=$2 t=$3
  pair "build tar$t" "rm -f m.tar b.tar" "$MP build $d -o m.tar" "bsdtar -cf$t" "bsdtar -cf b.tar -C $d ."
  pair "build tar$t" "rm -f m.tar b.tar" "$MP build $d -o m.tar" "bsdtar -cf + sync$t" "bsdtar -cf b.tar -C $d . && sync b.tar"
  pair "build zip (stored)$t" "rm -f m.zip b.zip" "$MP build $d -o m.zip" "bsdtar zip store$t" \
    "bsdtar --format zip --options zip:compression=store -cf b.zip -C $d ."
  pair "build zip (stored)$t" "rm -f m.zip b.zip" "$MP build $d -o m.zip" "bsdtar zip store + sync$t" \
    "bsdtar --format zip --options zip:compression=store -cf b.zip -C $d . && sync b.zip"
  pair "build tar$t" "rm -f m.tar" "$MP build $d -o m.tar" "openssl dgst -sha256$t" "openssl dgst -sha256 $art"
  [[ -z $PIPELINE ]] || pair "build tar$t" "rm -f m.tar p.out" "$MP build $d -o m.tar" \
    "C pipeline: read, write, hash$t" "$PIPELINE $art p.out"
  pair "inspect --manifest-only zip$t" "test -f m.zip || $MP build $d -o m.zip; test -f iris.zip || $MP build $REPO/Examples/iris-sklearn -o iris.zip" \
    "$MP inspect --manifest-only m.zip" "same, 13 KiB bundle" "$MP inspect --manifest-only iris.zip"
  pair "verify tar$t" "test -f m.tar || $MP build $d -o m.tar" "$MP verify m.tar" "openssl dgst -sha256$t" "openssl dgst -sha256 $art"
  pair "verify zip$t" "test -f m.zip || $MP build $d -o m.zip" "$MP verify m.zip" "openssl dgst -sha256$t" "openssl dgst -sha256 $art"
  pair "inspect tar (full audit)$t" "test -f m.tar || $MP build $d -o m.tar" "$MP inspect m.tar" "openssl dgst -sha256$t" "openssl dgst -sha256 $art"
  pair "unpack tar (verifying)$t" "rm -rf out b-out; mkdir b-out; test -f b.tar || bsdtar -cf b.tar -C $d ." \
    "$MP unpack m.tar -o out" "bsdtar -xf tar$t" "bsdtar -xf b.tar -C b-out"
  pair "unpack tar (verifying)$t" "rm -rf out b-out; mkdir b-out; test -f b.tar || bsdtar -cf b.tar -C $d ." \
    "$MP unpack m.tar -o out" "bsdtar -xf + sync -f tar$t" "bsdtar -xf b.tar -C b-out && sync -f b-out"
  pair "unpack zip (verifying)$t" "rm -rf out b-out; mkdir b-out; test -f b.zip || bsdtar --format zip --options zip:compression=store -cf b.zip -C $d ." \
    "$MP unpack m.zip -o out" "bsdtar -xf zip$t" "bsdtar -xf b.zip -C b-out"
  pair "clean$t" "rm -rf out b-out m.tar b.tar m.zip b.zip p.out" "true" "-" "true"
}
big_pairs big big/weights.bin ""
runs=$SMALL_RUNS
pair "build zip, $SMALL_FILES small files" "rm -f s.zip bs.zip" "$MP build small -o s.zip" "bsdtar zip (deflate)" "bsdtar --format zip -cf bs.zip -C small ."
pair "build tar, $SMALL_FILES small files" "rm -f s.tar bs.tar" "$MP build small -o s.tar" "bsdtar -cf" "bsdtar -cf bs.tar -C small ."
pair "build tar, $SMALL_FILES small files" "rm -f s.tar bs.tar" "$MP build small -o s.tar" "bsdtar -cf + sync" "bsdtar -cf bs.tar -C small . && sync bs.tar"
pair "unpack zip, $SMALL_FILES small files" "rm -rf s-out bs-out; mkdir bs-out; test -f s.zip || $MP build small -o s.zip; test -f bs.zip || bsdtar --format zip -cf bs.zip -C small ." "$MP unpack s.zip -o s-out" "bsdtar -xf zip" "bsdtar -xf bs.zip -C bs-out"
pair "unpack zip, $SMALL_FILES small files" "rm -rf s-out bs-out; mkdir bs-out; test -f s.zip || $MP build small -o s.zip; test -f bs.zip || bsdtar --format zip -cf bs.zip -C small ." "$MP unpack s.zip -o s-out" "bsdtar -xf zip + sync -f" "bsdtar -xf bs.zip -C bs-out && sync -f bs-out"
pair "verify zip, $SMALL_FILES small files" "test -f s.zip || $MP build small -o s.zip; test -f bs.zip || bsdtar --format zip -cf bs.zip -C small ." "$MP verify s.zip" "bsdtar -tf zip (lists)" "bsdtar -tf bs.zip"
runs=$RUNS
if [[ $LARGE_GIB != 0 ]]; then
  # The large artifact is the 1 GiB one repeated: incompressible all the same. Time must grow
  # linearly: compare these rows with the ones above times LARGE_GIB. (Build and verify only:
  # unpack's two copies would need 50 GiB.) Made when its rows come, after the 1 GiB ones.
  pair "make the large artifact" "rm -rf small s.zip bs.zip s.tar bs.tar s-out bs-out m.tar b.tar m.zip b.zip out b-out; mkdir huge; cp big/*.yaml big/*.txt big/*.py big/*.joblib huge/; for _ in \$(seq $LARGE_GIB); do cat big/weights.bin; done >huge/weights.bin; rm -rf big" "true" "-" "true"
  t=" (${LARGE_GIB} GiB)"
  pair "build tar$t" "rm -f m.tar b.tar" "$MP build huge -o m.tar" "bsdtar -cf + sync$t" "bsdtar -cf b.tar -C huge . && sync b.tar"
  pair "verify tar$t" "rm -f b.tar; test -f m.tar || $MP build huge -o m.tar" "$MP verify m.tar" "openssl dgst -sha256$t" "openssl dgst -sha256 huge/weights.bin"
fi

# The floor's rate: the best of three `openssl speed` runs (1 MiB blocks, kB/s of 1,000 bytes).
FLOOR_KBS=$(for _ in 1 2 3; do openssl speed -seconds 2 -bytes 1048576 -evp sha256 2>/dev/null | awk '$1 == "sha256" {sub(/k$/, "", $2); print $2}'; done | sort -g | tail -1)

python3 - "$PAIRS" "$RUNS" "$SIZE_MIB" "$SMALL_FILES" "$(df --output=fstype "$WORK" | tail -1)" "$SMALL_RUNS" "$FLOOR_KBS" <<'PY'
import os, statistics, subprocess, sys, time
pairs, runs, size, small, fstype, small_runs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
floor = int(size) * 2**20 / (float(sys.argv[7]) * 1000)  # seconds to SHA-256 the artifact in memory
def timed(command):
    # Wall time from here (to the microsecond: /usr/bin/time's %e has 10 ms steps, as long as the
    # 5,000-file rows); peak RSS from /usr/bin/time. Both sides pay the same wrapper start-up.
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", ".time", "bash", "-c", command],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if r.returncode:
        sys.exit(f"benchmark step failed: {command}\n{r.stderr}")
    kib = open(".time").read().split()[-1]
    return elapsed, int(kib) / 1024
rows = []
big = {}  # the 1 GiB rows' medians, for the floor: label -> seconds (modelpack's and baselines')
for line in open(pairs):
    label, setup, mine, base_label, base, pair_runs = line.rstrip("\n").split("\t")
    if base_label == "-":  # a step between rows: its setup only
        subprocess.run(["bash", "-c", setup], check=True)
        continue
    ms, bs = [], []
    # Run 0 of each command is not counted: the benchmark's first build also starts Python for
    # interface.py's compile check, whose answer is cached from then on.
    for run in range(int(pair_runs) + 1):
        for command, into in ((mine, ms), (base, bs)):
            # Each run starts with no dirty pages: write-back of an earlier run's output would
            # otherwise throttle this one's writes (seconds, at random).
            subprocess.run(["bash", "-c", setup + " && sync"], check=True)
            result = timed(command)
            if run > 0:
                into.append(result)
    med = lambda xs: (statistics.median(x[0] for x in xs), max(x[1] for x in xs))
    (mt, mr), (bt, br) = med(ms), med(bs)
    rows.append(f"{label:<34} {mt:8.3f} {mr:8.1f}   {base_label:<30} {bt:8.3f} {br:8.1f}   {mt / bt:6.2f}x")
    if "small files" not in label and "GiB)" not in label and "manifest-only" not in label:
        big.setdefault(label, mt)
        if not base_label.startswith("openssl"):
            big.setdefault(base_label, bt)
print(f"modelpack large-file benchmark: one {size} MiB incompressible artifact and {small} files of 2 KiB, "
      f"{os.cpu_count()} cores, on {fstype} ({os.getcwd()}), medians of {runs} alternate runs "
      f"({small_runs} for the small files), {subprocess.getoutput('date -u +%F')}")
print(f"{'operation':<34} {'s':>8} {'RSS MiB':>8}   {'baseline':<30} {'s':>8} {'RSS MiB':>8}   {'ratio':>7}")
print("\n".join(rows))
print("(ratio = modelpack median time / baseline median time; RSS = the highest peak resident set size)")
print(f"hash floor: SHA-256 of {size} MiB in memory on one core (openssl speed, best of 3): {floor:.3f} s "
      f"({float(sys.argv[7]) / 1e6:.2f} GB/s); each {size} MiB row's median against it:")
print("\n".join(f"  {label:<32} {t:8.3f}   {t / floor:5.2f}x" for label, t in big.items()))
PY
