# Thin wrapper over CMake. Build output goes to build/, programs to build/bin/.
#   make          build the library and tests
#   make demo     run the demo
#   make bench    benchmark against libmosquitto, paho and a raw socket (not part of make test);
#                 report in build/bench/report.md, chart in build/bench/chart.svg
#   make bench MODE=wake (or make bench-wake)  the wake cycle (connect, one QoS 1 publish,
#                 disconnect) of every client, plain and TLS (full, resumed), through a
#                 50 ms-each-way delay proxy: round trips, bytes, CPU, syscalls per cycle
#                 (docs/wake.md); build/bench/wake.md, wake.svg and report.md's last section
#   make test     install missing packages, build, run the suite as built, under ASan+UBSan
#                 and under ThreadSanitizer; after each pass scripts/test_guard.py checks
#                 that every program ran every case its source registers
#   make test-brokers  the integration core, the brokers' departures from the spec and
#                 failover across a cluster against mosquitto, aedes (npm), a 3-node RabbitMQ
#                 3.10 and a 2-node ejabberd 23.01 cluster, all private (docs/brokers.md);
#                 build/brokers; a few minutes; run by .ci/run, not by make test
#   make bench-storm  1,000 clients (nano in one thread, threaded) against a broker
#                 cluster with a jittered connect storm (not a test; docs/brokers.md)
#   make test-target  the core's unit tests cross-compiled and run on emulated Cortex-M0+/M4
#                 (qemu-system-arm, semihosting); also the last step of make test
#   make fuzz     run the libFuzzer harnesses, FUZZ_SECONDS in all split between them (clang)
#   make coverage the whole gcc suite built with --coverage; line and branch coverage per
#                 folder of src/ (gcovr), HTML in build/coverage/html/index.html
#   make prove    Frama-C: WP proves the codec's pure helpers against their ACSL contracts,
#                 Eva the decoder (PROVE_N bytes, default 8) and the engine's input path
#                 (PROVE_SESSION_N, default 4) on every input, each alarm explained
#   make model    Spin checks the threaded client's lifecycle (src/client/lifecycle.pml) and
#                 that the field report's design is caught leaking a socket
#   make mutate   mutation testing: mutants of MUTATE_FILES, killed or not by MUTATE_TESTS
#   make size     cross-compile the core for Cortex-M4/M0+ (5.0 and 3.1.1-only) and print its
#                 footprint, a minimal linked app, sizeof the client and its default heap
#   make install  install the library, headers, tools, man pages, kmqtt.pc and the CMake
#                 package under PREFIX (default /usr/local)
#   make docs     the HTML API reference from include/kmqtt/*.h in build/docs/html; fails on
#                 any undocumented public symbol
#   make deb      Debian packages libkmqtt0, libkmqtt-dev, kmqtt-clients in build/deb, checked
#                 with lintian and installed into an empty root (needs root)
#   make check-rtthread RTT_ROOT=<rt-thread tree> [MBEDTLS_ROOT=<mbedtls package>]
#                 compile the RT-Thread package in every configuration (full/nano,
#                 lwIP/AT sockets, with/without TLS) against a real RT-Thread tree
#                 with -Werror (docs/port-rtthread.md says where to get the trees)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 60
PREFIX ?= /usr/local
BUILD_TYPE ?= RelWithDebInfo

.PHONY: all deps demo bench test test-default test-asan test-tsan test-target fuzz size install \
	docs deb clean check-rtthread test-brokers brokers-build bench-storm coverage prove model \
	mutate bench-wake

all:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build build -j$(JOBS)

deps:
	@sh scripts/deps.sh

demo: deps all
	@sh scripts/demo.sh

# The peers (bench/) are built by the script into build/bench-peers/.
MODE ?=
bench: all
	@sh scripts/deps.sh bench
	@if [ "$(MODE)" = wake ]; then sh scripts/bench_wake.sh; else sh scripts/bench.sh; fi

bench-wake: all
	@sh scripts/deps.sh bench
	@sh scripts/bench_wake.sh

test: deps
	@$(MAKE) --no-print-directory test-default
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-tsan
	@$(MAKE) --no-print-directory test-target

# Each CTest pass writes every test's output to <build>/test-guard/junit.xml
# (untruncated); the guard then compares what each program ran with what its
# source registers (issue 23).
CTEST_GUARD = --output-junit test-guard/junit.xml --test-output-size-passed 67108864 \
	--test-output-size-failed 67108864

test-default:
	cmake -S . -B build -DCMAKE_BUILD_TYPE=$(BUILD_TYPE)
	cmake --build build -j$(JOBS)
	rm -f build/test-guard/junit.xml
	ctest --test-dir build --output-on-failure -j$(JOBS) $(CTEST_GUARD)
	python3 scripts/test_guard.py ctest build build/test-guard/junit.xml

test-asan:
	cmake -S . -B build/asan -DCMAKE_C_COMPILER=clang -DKMQTT_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build/asan -j$(JOBS)
	rm -f build/asan/test-guard/junit.xml
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --test-dir build/asan --output-on-failure -j$(JOBS) $(CTEST_GUARD)
	python3 scripts/test_guard.py ctest build/asan build/asan/test-guard/junit.xml

test-tsan:
	cmake -S . -B build/tsan -DCMAKE_C_COMPILER=clang -DKMQTT_SANITIZE_THREAD=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build/tsan -j$(JOBS)
	rm -f build/tsan/test-guard/junit.xml
	TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
		ctest --test-dir build/tsan --output-on-failure -j$(JOBS) $(CTEST_GUARD)
	python3 scripts/test_guard.py ctest build/tsan build/tsan/test-guard/junit.xml

test-target:
	@JOBS=$(JOBS) sh scripts/test-target.sh build/target

# The broker suite (issue 22): its own configuration (no unit or integration
# tests), aedes from npm into build/aedes (package.json of tests/brokers/support).
# One program at a time (-j1): each starts its own private cluster.
BROKERS_BUILD = build/brokers
brokers-build:
	@sh scripts/deps.sh brokers
	@if [ ! -f build/aedes/node_modules/aedes/aedes.js ]; then \
		mkdir -p build/aedes && cp tests/brokers/support/package.json build/aedes/ && \
		npm install --prefix build/aedes --no-audit --no-fund >build/aedes/npm.log 2>&1 || \
		{ cat build/aedes/npm.log; exit 1; }; fi
	cmake -S . -B $(BROKERS_BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DKMQTT_BUILD_TESTS=OFF \
		-DKMQTT_BROKER_TESTS=ON -DKMQTT_AEDES_DIR=$(CURDIR)/build/aedes
	cmake --build $(BROKERS_BUILD) -j$(JOBS)

test-brokers: brokers-build
	rm -f $(BROKERS_BUILD)/test-guard/junit.xml
	ctest --test-dir $(BROKERS_BUILD) --output-on-failure -j1 $(CTEST_GUARD)
	python3 scripts/test_guard.py ctest $(BROKERS_BUILD) $(BROKERS_BUILD)/test-guard/junit.xml \
		--only tests/brokers/

bench-storm: brokers-build
	$(BROKERS_BUILD)/bin/kmqtt-storm $(STORM_ARGS)

fuzz: deps
	cmake -S . -B build/fuzz -DCMAKE_C_COMPILER=clang -DKMQTT_FUZZ=ON -DKMQTT_BUILD_TESTS=OFF \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo
	cmake --build build/fuzz -j$(JOBS)
	@sh scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

# docs/proof.md: what each of these proves and its figures.
coverage: deps
	@sh scripts/deps.sh coverage
	# From scratch: objects of a target or source that no longer exists
	# (after a merge) keep .gcno files with old line numbers, which gcovr
	# cannot merge with the new ones. CI starts from an empty build/ anyway.
	rm -rf build/coverage
	cmake -S . -B build/coverage -DKMQTT_COVERAGE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build/coverage -j$(JOBS)
	find build/coverage -name '*.gcda' -delete
	# package.install builds programs against the installed library without
	# --coverage, which an instrumented libkmqtt.a cannot link into (no
	# libgcov); make test runs it on the real build.
	ctest --test-dir build/coverage --output-on-failure -j$(JOBS) -E '^package\.install$$'
	@sh scripts/coverage.sh build/coverage

prove:
	@sh scripts/deps.sh prove
	@sh scripts/prove.sh build/prove

model:
	@sh scripts/deps.sh model
	@sh scripts/model.sh build/model

MUTATE_FILES ?= src/codec/*.c src/codec/codec_internal.h
MUTATE_TESTS ?= unit\.test_(decode|decode_frame|decode_reject|encode|props|reason|roundtrip|topic|utf8|varint)$$
MUTATE_MAX ?= 200
mutate:
	python3 scripts/mutate.py --files $(MUTATE_FILES) --tests '$(MUTATE_TESTS)' --max $(MUTATE_MAX) \
		--jobs $(JOBS) --out build/mutate

size: deps
	@sh scripts/size.sh build/size

check-rtthread:
	@if [ -z "$(RTT_ROOT)" ]; then echo "usage: make check-rtthread RTT_ROOT=<rt-thread tree> [MBEDTLS_ROOT=<mbedtls package>]" >&2; exit 2; fi
	@sh scripts/deps.sh rtthread
	/usr/bin/python3 scripts/rtthread_tree_check.py "$(RTT_ROOT)" "$(MBEDTLS_ROOT)"

# A configuration of its own without the tests, so a user needs only a compiler,
# CMake and libssl-dev (deps.sh install), not the test suite's packages.
install:
	@sh scripts/deps.sh install
	cmake -S . -B build/release -DKMQTT_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX)
	cmake --build build/release -j$(JOBS)
	cmake --install build/release --prefix $(PREFIX)

# Its own small configuration (no tests, no tools: only doxygen is needed); the
# reference lands in build/docs/html, where make test's docs.api test puts it too.
docs:
	@sh scripts/deps.sh docs
	cmake -S . -B build/docs-config -DKMQTT_BUILD_TESTS=OFF -DKMQTT_BUILD_TOOLS=OFF \
		-DKMQTT_DOCS_DIR=$(CURDIR)/build/docs
	cmake --build build/docs-config --target docs

deb:
	@sh scripts/deps.sh deb
	@JOBS=$(JOBS) sh scripts/deb.sh build/deb

clean:
	rm -rf build
