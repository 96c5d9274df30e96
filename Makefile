# The two quick-start commands are `make demo` and `make test`; both install what they need first.
SWIFT ?= swift

.PHONY: deps build demo test bench-layers bench-registry bench-build

deps:
	./scripts/install-deps.sh

build: deps
	$(SWIFT) build --product cog

demo: build
	./scripts/demo.sh

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

bench-layers: deps
	./bench/layers.sh

bench-build: deps
	./bench/build.sh

bench-registry: deps
	./bench/registry.sh
