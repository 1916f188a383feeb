# Two entry points for a fresh Debian 12 machine; each installs what is missing first.
#   make test   build everything and run every test suite (ctest)
#   make demo   build and run the embedded demo: a controlled study on synthetic languages, its
#               checks (PASS/FAIL) at the top of its report; make demo-full: three larger sizes
#   make demo-udhr   build and run the UDHR miniature, its tasks on disjoint articles
# On a machine with a GPU (README "GPU"; installs nothing):
#   make gpu-check   build with CUDA, run the GPU tests and the kernel tests, benchmark
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

# gpu-check: its own build directory, CUDA code for the GPU present, and googletest from
# GOOGLETEST (a source tree) when no GTest package is installed.
GPU_BUILD ?= build-gpu
GPU_CMAKE_FLAGS ?= -DCMAKE_CUDA_ARCHITECTURES=native
GOOGLETEST ?=
GPU_GENERATOR := $(if $(shell command -v ninja),-G Ninja,)
GPU_CONFIGURE = cmake -S . -B $(GPU_BUILD) $(GPU_GENERATOR) -DSTILTS_CUDA=ON $(GPU_CMAKE_FLAGS) \
  $(if $(GOOGLETEST),-DSTILTS_GOOGLETEST_SOURCE=$(abspath $(GOOGLETEST)),)

.PHONY: deps build test demo demo-full demo-udhr demo-build gpu-check format clean

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

# The full build when its packages are installed, else the minimal one (CUDA toolkit only).
gpu-check:
	@$(GPU_CONFIGURE) >/dev/null 2>&1 || { \
	  echo "gpu-check: the full build's packages are missing, building the minimal one"; \
	  rm -rf $(GPU_BUILD) && $(GPU_CONFIGURE) -DSTILTS_MINIMAL=ON >/dev/null; }
	@cmake --build $(GPU_BUILD) -j $(JOBS)
	@cd $(GPU_BUILD) && ctest -L cuda --output-on-failure
	@$(GPU_BUILD)/tests/unit/kernels/unit_kernels --gtest_brief=1
	@for model in mt5-small mt5-base mt5-large; do $(GPU_BUILD)/launch/stilts-bench-cuda $$model; done

format:
	@clang-format -i $$(git ls-files '*.h' '*.cc' '*.cu')

clean:
	@rm -rf $(BUILD)
