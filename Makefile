# Entry points (DESIGN.md): setup, test, bench. Everything runs on the project's Node in .node/bin.
SHELL := /bin/bash
export PATH := $(CURDIR)/.node/bin:$(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: setup demo build native test test-unit test-integration lint typecheck bench clean

setup:
	./scripts/setup.sh

demo: setup
	./scripts/demo.sh

native:
	$(MAKE) -s -C native

build: native
	node scripts/build.mjs

lint:
	biome check .

typecheck:
	tsc -p .

test-unit:
	node --test --test-reporter=spec 'test/unit/**/*.test.ts'

test-integration:
	node --test --test-concurrency=2 --test-reporter=spec 'test/integration/**/*.test.ts' 'test/conformance/**/*.test.ts'

test: setup lint typecheck
	$(MAKE) -s -C native asan-test
	node --test --test-concurrency=2 --test-reporter=spec --test-reporter-destination=stdout \
	  'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/conformance/**/*.test.ts' 'test/e2e/**/*.test.ts'

bench: setup
	node bench/runtime-lifecycle.ts
	node bench/image-unpack.ts
	node bench/engine-run.ts
	node bench/registry-pull.ts
	node bench/network-run.ts

clean:
	rm -rf dist native/build
