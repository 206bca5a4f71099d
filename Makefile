# The two README commands: `make demo` and `make test`.
SWIFT ?= swift
BIN   := .build/debug/modelpack
DEMO  := .build/demo
EXAMPLE := Examples/iris-sklearn

PREFIX ?= /usr/local
DESTDIR ?=
VERSION := $(shell sed -n 's/.*current = "\(.*\)"/\1/p' Sources/ModelPackCore/Support/ModelPackVersion.swift)

PHONY_EXTRA := demo-run deb-test
.PHONY: test-apt runtime-deps test-scale oms-deps install deb release manual $(PHONY_EXTRA) deps build demo test check docs bench lint clean oracle compare container-test fuzz fuzz-smoke runtime-test runtime-embed test-deps

deps:
	@.ci/install-deps

build: deps
	$(SWIFT) build

# Pack the iris example in every container, audit it, verify it and unpack it.
demo: build
	@$(MAKE) --no-print-directory demo-run

# The demo's commands with $(BIN) (deb-test runs them with the installed binary).
demo-run:
	@rm -rf $(DEMO) && mkdir -p $(DEMO)
	@for e in iris-sklearn churn-sklearn wine-onnx diabetes-lightgbm digits-safetensors; do \
	  echo "$(BIN) validate Examples/$$e"; $(BIN) validate Examples/$$e || exit 1; done
	@for f in zip tar tar.gz tar.zst; do $(BIN) build $(EXAMPLE) -o $(DEMO)/iris.$$f || exit 1; done
	@echo; $(BIN) inspect $(DEMO)/iris.zip
	@echo; $(BIN) verify $(DEMO)/iris.tar.zst
	@echo; $(BIN) unpack $(DEMO)/iris.tar.gz -o $(DEMO)/iris
	@for f in interface.py metadata.yaml model.joblib requirements.txt; do \
	  cmp $(EXAMPLE)/$$f $(DEMO)/iris/$$f || exit 1; done; echo "the unpacked files are identical to $(EXAMPLE)"

# The whole suite in one test process. (Two at once, the Spark and Ray tier beside the rest, saved
# nothing on 2 cores: make test took 1019 s on a fresh machine split and 1011 s in one process,
# and 12m13 against 12m22 here; the tests are CPU-bound.) `make test-scale` runs that tier alone.
test: deps lint runtime-test test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-scale: deps test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --filter ScaleTests

# The quick loop (Docs/DEVELOPMENT.md): lint, and the tests that need no network, virtualenv or
# registry (MODELPACK_TIER=check turns off the serve, test, predict, Spark, Ray and registry
# suites), and the Python readers' own tests. `make test` is the whole suite.
check: deps lint
	$(SWIFT) build --build-tests
	MODELPACK_TIER=check $(SWIFT) test --skip-build
	.ci/pip-install pytest==9.0.3
	python3 -m pytest -q -p no:cacheprovider Tests/runtime/test_rulebook.py Tests/runtime/test_bundle.py \
	  Tests/runtime/test_inputs.py

# Regenerate the generated docs: Docs/CLI.md's command reference (each command's --help), the help
# snapshots and Docs/DIAGNOSTICS.md. A recording run reports what it wrote and fails; run it twice.
docs:
	$(SWIFT) build --build-tests
	-RECORD=1 $(SWIFT) test --skip-build --filter "HelpSnapshotTests|DiagnosticsDocTests"
	$(SWIFT) test --skip-build --filter "HelpSnapshotTests|DiagnosticsDocTests"

# What the tests use as references: Debian's docker-registry (the CNCF distribution registry,
# started by the tests on 127.0.0.1 and stopped by PID), skopeo, htpasswd and openssl (the TLS
# registry's CA and certificate); from PyPI oras-py
# (a second registry client), cryptography (the test token server's JWTs), jsonschema and
# markdown-it-py (the model card read back by a CommonMark parser), PyYAML (the examples' rows read
# by a reference YAML reader), cyclonedx-python-lib (the ML-BOM's schema validator). Java 17 runs Spark (the Spark and Ray tests install pyspark and ray
# themselves, as `predict --engine` does for a user).
TEST_DEPS := oras==0.2.43 cryptography==48.0.0 jsonschema==4.26.0 markdown-it-py==3.0.0 pyyaml==6.0.3 onnx==1.23.2 onnxruntime==1.32.0 \
	'cyclonedx-python-lib[json-validation]==11.12.0' packageurl-python==0.17.6
TEST_APT := docker-registry skopeo apache2-utils openjdk-17-jre-headless openssl
test-apt:
	@.ci/install-deps $(TEST_APT)

test-deps: test-apt oms-deps
	.ci/pip-install $(TEST_DEPS)

# The OpenSSF model signing reference (PyPI model-signing; it imports pyOpenSSL without declaring
# it) in a virtualenv of its own, shared by every test that runs it (SigningInteropTests).
OMS_VENV := .build/venvs/model-signing
OMS_DEPS := model-signing==1.1.1 pyopenssl==26.4.0
oms-deps:
	@test -x $(OMS_VENV)/bin/model_signing || { python3 -m venv $(OMS_VENV) \
	  && $(OMS_VENV)/bin/pip install -q --disable-pip-version-check $(OMS_DEPS); }

# The serving runtime's Python (Sources/ModelPackCore/Serving/runtime): pytest with FastAPI's
# TestClient and a real uvicorn process on loopback, at the versions the images pin.
RUNTIME_TEST_DEPS := fastapi==0.165.0 uvicorn==0.54.0 httptools==0.9.0 uvloop==0.23.0 httpx==0.28.1 pytest==9.0.3 ruff==0.17.6 \
	schemathesis==4.32.5 openapi-spec-validator==0.9.0 jsonschema==4.26.0 pandas==3.1.1 numpy==2.4.6
runtime-deps:
	.ci/pip-install $(RUNTIME_TEST_DEPS)

runtime-test: runtime-deps
	python3 -m pytest -q -p no:cacheprovider Tests/runtime

# After editing the runtime's Python: regenerate the Swift file that embeds it.
runtime-embed:
	python3 Sources/ModelPackCore/Serving/runtime/embed.py
	$(SWIFT) format format --in-place "Sources/ModelPackCore/Serving/Generated/ServingRuntime+Files.swift"

bench: deps
	Benchmarks/large-file.sh

lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift
	.ci/pip-install ruff==0.17.6
	python3 -m ruff check Sources/ModelPackCore/Serving/runtime Tests/runtime Tests/ModelPackCoreTests/Fixtures/inputs \
	  Tests/ModelPackCoreTests/Fixtures/registry Tests/ModelPackCoreTests/Fixtures/scale Tests/ModelPackCoreTests/Fixtures/init \
	  Tests/ModelPackCoreTests/Fixtures/bundles

clean:
	rm -rf .build

# Re-run the PEP 508 reference (packaging, from PyPI) over the corpus and fail if it disagrees with
# the committed expectations the Swift tests use.
# It runs with the exact packaging version the expectations were recorded with, then reports drift
# against the newest release (in a throwaway virtualenv; a drift is reported, never a failure).
ORACLE := Tests/ModelPackCoreTests/Fixtures/requirements/oracle.py
oracle:
	.ci/pip-install "packaging==$$(python3 $(ORACLE) --version)"
	python3 $(ORACLE) --check
	@rm -rf .build/oracle-newest && python3 -m venv .build/oracle-newest \
	  && .build/oracle-newest/bin/pip install -q --disable-pip-version-check --upgrade packaging \
	  && .build/oracle-newest/bin/python $(ORACLE) --drift

# modelpack's audit beside picklescan, modelscan, fickling and ModelAudit on the same corpora, each at
# the version of Docs/AUDIT.md's table, in virtualenvs under .build/. modelscan gets its own: it
# reads .npy only with numpy < 2 and .keras only where tensorflow imports, while ModelAudit needs numpy 2.4.
compare:
	python3 -m venv .build/scanners
	.build/scanners/bin/pip install -q --disable-pip-version-check picklescan==1.0.5 fickling==0.1.12 \
	  py7zr==1.1.4 'modelaudit[onnx,h5,sevenzip,joblib]==0.2.54'
	python3 -m venv .build/scanners-modelscan
	.build/scanners-modelscan/bin/pip install -q --disable-pip-version-check modelscan==0.8.8 \
	  tensorflow-cpu==2.21.0 numpy==1.26.4
	swift build -c release
	.build/scanners/bin/python Benchmarks/compare-scanners.py .build/release/modelpack \
	  --python modelscan=.build/scanners-modelscan/bin/python

# Build the iris example's image with buildah (no Docker engine) and probe its server.
container-test: build
	Tests/container/build-and-serve.sh $(BIN)

# libFuzzer over every parser (Docs/SECURITY.md#fuzzing): ten minutes per target.
fuzz:
	Tests/Fuzz/fuzz.sh

# The same driver with a fixed number of inputs per target from seed 1: repeatable, so CI can run it.
fuzz-smoke:
	Tests/Fuzz/fuzz.sh --runs 3000

# A release binary with the Swift standard library and Foundation linked in, so it runs where
# only the C libraries are installed (libarchive13, libyaml-0-2, zlib1g; libcurl4, which the registry
# commands load when they first need it).
release: deps
	@.ci/install-deps libcurl4-openssl-dev
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-static

# The man page, generated from the commands by swift-argument-parser's manual generator (the tool
# behind its GenerateManual plugin, run on the release binary), dated by the last commit.
manual: release
	$(SWIFT) build --product generate-manual
	@mkdir -p .build/manual
	"$$($(SWIFT) build --show-bin-path)/generate-manual" .build-static/release/modelpack \
	  --date "$$(git log -1 --format=%cs 2>/dev/null || date +%F)" --output-directory .build/manual

# The binary, bash/zsh/fish completions (generated by the binary) and the man page.
install: release manual
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 .build-static/release/modelpack $(DESTDIR)$(PREFIX)/bin/modelpack
	install -m 0644 .build/manual/modelpack.1 $(DESTDIR)$(PREFIX)/share/man/man1/modelpack.1
	.build-static/release/modelpack --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/modelpack
	.build-static/release/modelpack --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_modelpack
	.build-static/release/modelpack --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/modelpack.fish

# A Debian package of `make install PREFIX=/usr`, depending on the runtime libraries only.
DEB := .build/modelpack_$(VERSION)_$(shell dpkg --print-architecture).deb
deb:
	rm -rf .build/deb && $(MAKE) install PREFIX=/usr DESTDIR=$(CURDIR)/.build/deb
	mkdir -p .build/deb/DEBIAN
	printf '%s\n' "Package: modelpack" "Version: $(VERSION)" "Architecture: $$(dpkg --print-architecture)" \
	  "Maintainer: modelpack developers <modelpack@example.com>" \
	  "Depends: libc6, libarchive13, libyaml-0-2, zlib1g, libcurl4, libstdc++6, libgcc-s1" \
	  "Recommends: python3, python3-venv" "Section: utils" "Priority: optional" \
	  "Description: packager and inspector for boxed ML models" \
	  " Builds deterministic, verifiable model bundles, audits pickles without loading them," \
	  " serves and predicts, and moves bundles through OCI registries." > .build/deb/DEBIAN/control
	dpkg-deb --root-owner-group --build .build/deb $(DEB)
	@echo "built $(DEB)"

# The .deb installed on this machine: --version, the demo with the installed binary, the man page.
deb-test: deb
	dpkg -i $(DEB)
	/usr/bin/modelpack --version
	@! ldd /usr/bin/modelpack | grep -E 'libswift|libFoundation' || { echo "links the Swift runtime" >&2; exit 1; }
	$(MAKE) demo-run BIN=/usr/bin/modelpack
	man -w modelpack
