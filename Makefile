# The two quick-start commands are `make demo` and `make test`; both install what they need first.
SWIFT ?= swift

.PHONY: deps build demo test lint bench-layers bench-registry bench-build

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
