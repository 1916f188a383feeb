# Two entry points for a fresh Debian 12 machine; each installs what is missing first.
#   make test   build everything and run every test suite (ctest)
#   make test-sanitize   the CPU and MPI suites under AddressSanitizer and UBSan (build-sanitize)
#   make demo   build and run the embedded demo: a controlled study on synthetic languages, its
#               checks (PASS/FAIL) at the top of its report; make demo-full: three larger sizes
#   make demo-udhr   build and run the UDHR miniature, its tasks on disjoint articles
# On a machine with a GPU (README "GPU"; installs nothing):
#   make gpu-check   the GPU session: build, GPU tests, sanitizers, benchmarks, one log
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps build test test-sanitize demo demo-full demo-udhr demo-build gpu-check gpu-carry format clean

deps:
	@launch/install_deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The demos run on the CPU, so they build the stilts program alone in their own folder, without
# the CUDA backend and without the tests and benchmarks `make test` needs.
DEMO_BUILD ?= build-demo
demo-build: deps
	@cmake -S . -B $(DEMO_BUILD) -G Ninja -DSTILTS_CUDA=OFF $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(DEMO_BUILD) -j $(JOBS) --target stilts

# The controlled study on synthetic languages (experiments/demo/README.md), in runs/demo: two
# sizes, its checks at the top of the report; rerunning it resumes (and then only reports).
demo: demo-build
	@experiments/demo/run.sh --stilts $(DEMO_BUILD)/launch/stilts --work runs/demo

# The same study on the three larger demo sizes, with regime none (about an hour on 2 cores).
demo-full: demo-build
	@experiments/demo/run.sh --stilts $(DEMO_BUILD)/launch/stilts --work runs/demo-full \
	  --models "demo-small, demo-base, demo-large" --regimes "none, english, multilingual, shuffled"

# The UDHR miniature (experiments/demo-udhr/README.md): the study with its tasks on disjoint
# articles, nothing evaluated trained on, in runs/demo-udhr; rerunning it resumes.
demo-udhr: demo-build
	@experiments/demo-udhr/run.sh --stilts $(DEMO_BUILD)/launch/stilts --work runs/demo-udhr

# The GPU session (tests/cuda/session.sh, docs/GPU.md): builds for this GPU, runs the GPU tests
# (none may skip), compute-sanitizer, the mt5-large benchmark and the side-by-side with
# transformers, all into gpu-session/session.log. `make gpu-carry` first, on a machine with
# Debian's googletest, puts in .gpu-carry what a bare GPU machine lacks.
gpu-check:
	@tests/cuda/session.sh

gpu-carry:
	@test -f /usr/src/googletest/CMakeLists.txt || { echo "gpu-carry: /usr/src/googletest is missing (Debian: apt-get install googletest)"; exit 1; }
	@rm -rf .gpu-carry/googletest && mkdir -p .gpu-carry && cp -r /usr/src/googletest .gpu-carry/googletest
	@echo "gpu-carry: .gpu-carry/googletest ready; carry .gpu-carry with the working tree"

# The CPU and MPI suites under AddressSanitizer and UndefinedBehaviorSanitizer, in their own
# folder without the CUDA backend. OpenMPI's own allocations at exit are not stilts' leaks, and
# a rank's error must end the job, not only the process: hence the options.
SANITIZE_BUILD ?= build-sanitize
test-sanitize: deps
	@cmake -S . -B $(SANITIZE_BUILD) -G Ninja -DSTILTS_CUDA=OFF -DSTILTS_SANITIZE=ON \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	@cd $(SANITIZE_BUILD) && \
	  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:detect_stack_use_after_return=0 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -L 'unit|mpi|golden|e2e|reliability'

format:
	@clang-format -i $$(git ls-files '*.h' '*.cc' '*.cu')

clean:
	@rm -rf $(BUILD)
