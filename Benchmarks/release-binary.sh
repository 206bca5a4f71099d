# Sourced by the benchmarks: sets MP to the binary that `make install` and `make deb` ship (the
# Swift runtime and Foundation linked in, `make release`), or to MODELPACK_BIN (an older build, for
# a before/after run). The static binary starts in about 6 ms here, the `swift build -c release`
# one, which loads some thirty shared libraries, in about 10 ms: short rows would time that too.
if [[ -n ${MODELPACK_BIN:-} ]]; then
  MP=$MODELPACK_BIN
else
  make -s release >/dev/null 2>&1 || make release
  MP=$PWD/.build-static/release/modelpack
fi
