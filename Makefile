# Two entry points for a fresh Debian 12 machine; each installs what is missing first.
#   make test   build everything and run every test suite (ctest)
#   make demo   build and run the main job
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps build test demo format clean

deps:
	@launch/install_deps.sh

build: deps
	@cmake -S . -B $(BUILD) -G Ninja $(CMAKE_FLAGS) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: build
	@$(BUILD)/launch/stilts train --model test-small --task reverse --steps 1000 --batch 32 \
	  --optimizer adafactor --lr 1e-2 --scale-parameter true --dropout 0 --run-dir runs/demo \
	  --eval-every 250 --log-every 50

format:
	@clang-format -i $$(git ls-files '*.h' '*.cc' '*.cu')

clean:
	@rm -rf $(BUILD)
