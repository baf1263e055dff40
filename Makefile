# SPDX-License-Identifier: Apache-2.0
#
# Entry points for people and CI. `make check` installs what is missing,
# builds with warnings as errors, runs every test, then runs the same suite
# again under AddressSanitizer and UBSan. See README.md.

BUILD ?= build
ASAN_BUILD ?= build-asan
SHARED ?= ../shared
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
CTEST = ctest --output-on-failure -j $(JOBS)

.PHONY: all deps node-deps build test wycheproof asan style check demo \
        clean bench-server

all: build

deps:
	@scripts/install-deps

# The interoperability tests drive the official SDK from npm; the lock
# file pins every package. Skipped when node_modules matches the lock.
node-deps: deps
	@if [ -f tests/interop/package-lock.json ] && \
	    ! cmp -s tests/interop/package-lock.json \
	        tests/interop/node_modules/.package-lock.json 2>/dev/null; then \
	    echo "npm ci in tests/interop"; \
	    cd tests/interop && npm ci --no-audit --no-fund --loglevel=error; \
	fi

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Debug \
	    -DCARDEA_SHARED_DIR=$(abspath $(SHARED)) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

test: build node-deps
	$(CTEST) --test-dir $(BUILD)
	$(MAKE) --no-print-directory wycheproof

# Runs the vector program on the shared Wycheproof files, as given.
wycheproof: build
	@if ls $(SHARED)/vectors/wycheproof/*.json >/dev/null 2>&1; then \
	    $(BUILD)/tests/run-wycheproof $(SHARED)/vectors/wycheproof/*.json; \
	else \
	    echo "wycheproof: $(SHARED)/vectors/wycheproof not found;" \
	         "the project copy ran under ctest"; \
	fi

asan: deps node-deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	    -DCARDEA_SANITIZE=ON -DCARDEA_SHARED_DIR=$(abspath $(SHARED)) \
	    $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1 $(CTEST) --test-dir $(ASAN_BUILD)

style:
	@scripts/check-style

check: style test asan

# Server benchmark: prints figures and never asserts them, so it is not
# part of `check`. It measures an optimised build (-O2) in its own
# folder; warnings stay visible but do not stop it. docs/BENCHMARKS.md
# records the results.
BENCH_BUILD ?= build-bench
bench-server: build
	cmake -S . -B $(BENCH_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	    -DCARDEA_WERROR=OFF -DCARDEA_SHARED_DIR=$(abspath $(SHARED)) \
	    $(CMAKE_FLAGS)
	cmake --build $(BENCH_BUILD) -j $(JOBS) --target cardea_cli \
	    cardea_bench_bare cardea_bench_load
	bench/run-bench-server.sh $(BENCH_BUILD)

# The main job end to end on embedded SQLite: users, server on
# 127.0.0.1, FHIR import, sharing, read-back, search, database scan and a
# summary table. The database stays in demo/ for inspection.
demo: deps build
	scripts/demo $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
