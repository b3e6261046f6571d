# probity — the two set-up commands are `make demo` and `make test`; both start with `make deps`.
SHELL := /bin/bash
BUILD ?= build
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 5
DEMO_IMAGE ?= $(BUILD)/demo/sysupgrade.bin
DEMO_OUT ?= $(BUILD)/demo/out

.PHONY: all deps configure build test unit npm-deps fixtures fuzz-build sanitize fuzz fuzz-long demo bench vectors format format-check clean install

all: build

deps:
	@bash scripts/deps.sh

$(BUILD)/build.ninja: CMakeLists.txt
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROBITY_WERROR=ON

configure: $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# Fixtures made by scripts (hostile archives; real Debian armhf packages for realistic images).
fixtures: build
	@bash tests/fixtures/make-all.sh $(BUILD)/fixtures

# npm packages for the ecosystem validators and the browser test (from lock files).
npm-deps:
	@bash tests/browser/install.sh

# The fleet tests run against a real PostgreSQL and a one-node Slurm (scripts/test-services.sh,
# ~5 s to start); they are stopped again whatever ctest's result.
unit: build fixtures npm-deps
	@env=$$(bash scripts/test-services.sh start) || { echo "make unit: scripts/test-services.sh start failed" >&2; exit 2; }; \
	  eval "$$env"; cd $(BUILD) && ctest --output-on-failure -j $(JOBS); \
	  rc=$$?; cd $(CURDIR) && bash scripts/test-services.sh stop; exit $$rc

fuzz-build:
	CC=clang-16 CXX=clang++-16 cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPROBITY_FUZZ=ON -DPROBITY_TESTS=OFF -DPROBITY_WERROR=ON \
	  -DPROBITY_SAN_FIXTURES_DIR=$(abspath $(BUILD))/fixtures
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# The unit tests under ASan+UBSan and the task pool under TSan, built by fuzz-build (its library
# objects are sanitizer-instrumented already); uses the fixtures of $(BUILD). Part of `make
# test`: 56 more clang objects (~4 min on 2 cores) and a 30 s run (390 tests).
sanitize: fuzz-build
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target probity_san_tests probity_tsan_tests
	@bash scripts/sanitize.sh $(FUZZ_BUILD)

# A short run of every fuzz target (seconds each); `make fuzz-long FUZZ_SECONDS=3600` for real.
fuzz: fuzz-build
	@bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

fuzz-long: fuzz-build
	@bash fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.cpp' '*.hpp') && echo "format-check: ok"

test: deps build
	@$(MAKE) --no-print-directory format-check
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory sanitize

demo: deps build
	@bash scripts/make-sample-image.sh $(DEMO_IMAGE)
	@rm -rf $(DEMO_OUT)
	./$(BUILD)/probity scan $(DEMO_IMAGE) --out $(DEMO_OUT) || [ $$? -eq 1 ]  # exit 1 = the policy failed (expected: the sample has planted problems)

bench: deps build
	bash bench/unpack.sh
	bash bench/scan.sh
	bash bench/identify.sh
	bash bench/vulndb-import.sh
	bash bench/tlog.sh
	bash bench/equiv.sh
	bash bench/source.sh
	@$(MAKE) --no-print-directory vectors

# probity unpack on the public format vectors of ../shared/vectors/formats (skips when absent):
# bench/results/vectors.md, per family. Not part of `make test` (minutes).
vectors: build
	python3 bench/vectors.py --probity $(BUILD)/probity

# PREFIX/bin/probity finds its data in PREFIX/share/probity (or $$PROBITY_DATA_DIR), the
# default vulnerability database included.
PREFIX ?= /usr/local
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/probity
	install -m 0755 $(BUILD)/probity $(DESTDIR)$(PREFIX)/bin/probity
	cp -r data/credentials data/eol data/policy data/rules data/signatures $(DESTDIR)$(PREFIX)/share/probity/
	install -m 0644 $(BUILD)/data/vuln.db $(DESTDIR)$(PREFIX)/share/probity/vuln.db
	install -D -m 0644 $(BUILD)/share/man/man1/probity.1 $(DESTDIR)$(PREFIX)/share/man/man1/probity.1
	install -D -m 0644 $(BUILD)/share/bash-completion/completions/probity \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/probity
	install -D -m 0644 $(BUILD)/share/zsh/site-functions/_probity \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_probity

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
