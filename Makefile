# The two quick-start commands are `make demo` and `make test`; both install what they need first.
SWIFT ?= swift

.PHONY: deps build demo test lint bench-layers bench-registry bench-build cog-integration cog-integration-selftest

deps:
	./scripts/install-deps.sh

build: deps
	$(SWIFT) build --product cog

demo: build
	./scripts/demo.sh

test: deps lint
	$(SWIFT) build --build-tests
	$(SWIFT) test

# swift-format (in the toolchain) with the settings in .swift-format: 4 spaces, 120 columns.
lint:
	$(SWIFT) format lint --strict --recursive --parallel Sources Tests Package.swift

bench-layers: deps
	./bench/layers.sh

bench-build: deps
	./bench/build.sh

bench-registry: deps
	./bench/registry.sh

# Cog's own integration tests (replicate/cog integration-tests/tests/*.txtar, read from a git directory at the
# pinned commit; see README "Cog's integration tests") against the release binary. Slow (a build per script):
# not part of `make test`. ARGS="--filter REGEX" runs some; COG_SOURCE=/path/to/cog-git-dir says where Cog is.
cog-integration: deps
	flock /tmp/swift-build.lock $(SWIFT) build -c release --product cog
	nice -n 19 python3 scripts/cog-integration-tests.py $(ARGS)

# The runner's own test (its testscript dialect, on testdata/cog-integration/; no cog needed, a second).
cog-integration-selftest:
	python3 -m unittest discover -s scripts -p 'test_cog_integration_runner.py'
