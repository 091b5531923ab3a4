# ClinicBox: `make run` starts the demo box, `make test` runs every test.
# Both set up what they need first (Debian packages via apt-get as root,
# then a .venv with the Python packages), so they work on a fresh Debian 12.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_DIR ?= var/demo

# What building the PJSUA2 engine needs (firmware/pjproject/build-pjproject.sh).
ENGINE_APT := $(shell firmware/pjproject/build-pjproject.sh --print-deps)
# What the box needs to run (demo included).
RUN_APT := python3-venv python3-dev build-essential espeak-ng sox libsox-fmt-base alsa-utils kamailio kamailio-tls-modules $(ENGINE_APT)
# What the tests need besides: real SIP peers, the provider, a browser, gammu...
TEST_APT := sip-tester baresip-core kamailio sipsak sipvicious chromium fonts-noto-cjk \
            gammu device-tree-compiler shellcheck systemd nginx python3-hl7 radicale python3-tz \
            mmdebstrap e2fsprogs fdisk dosfstools mtools

.PHONY: run test check unit integration webui deps deps-run deps-test bench clean image image-test

run: deps-run $(VENV)/.installed
	$(BIN)/clinicbox demo --dir $(DEMO_DIR)

# The static checks (lint, format, types, layer contracts) run first, so CI keeps them.
# Most tests wait on real SIP timers, not the CPU, so they can run in TEST_WORKERS
# processes; those marked `serial` measure load, audio or time and run alone after.
# 4 workers take 15 minutes here on 2 cores, one takes 45 (README, Performance);
# `make test TEST_WORKERS=1` runs the first part in one process.
TEST_WORKERS ?= 4
test: deps-run deps-test $(VENV)/.installed-test check
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=30 -n $(TEST_WORKERS) -m "not serial" tests --ignore=tests/image
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=10 -m serial tests --ignore=tests/image

unit: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q tests/unit

integration: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q tests/integration

webui: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q tests/webui

# Lint, format, types and the layering contracts ([tool.importlinter] in pyproject.toml).
check: $(VENV)/.installed-test
	$(BIN)/ruff check appliance webui provisioning tests bench
	$(BIN)/ruff format --check appliance webui provisioning tests bench
	$(BIN)/mypy appliance webui provisioning
	$(BIN)/lint-imports --no-cache

deps-run:
	@./.ci/apt-ensure $(RUN_APT)

deps-test:
	@./.ci/apt-ensure $(TEST_APT)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# The PJSUA2 engine, built from Debian's pjproject source with our config and
# patches (about 3 minutes, once); rebuilt only when one of its inputs changes.
ENGINE_INPUTS := $(wildcard firmware/pjproject/*.sh firmware/pjproject/*.h firmware/pjproject/*.py \
                   firmware/pjproject/patches/*.patch)
$(VENV)/.engine: $(ENGINE_INPUTS) | $(BIN)/python
	./firmware/pjproject/build-pjproject.sh --python $(abspath $(BIN)/python) \
	    --work $(abspath build/engine) --wheelhouse $(abspath build/wheelhouse)
	$(BIN)/python -m pip uninstall -q -y pjsua2-python 2>/dev/null || true
	$(BIN)/python -m pip install -q --no-index --force-reinstall "$$(cat build/wheelhouse/LATEST)"
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.engine
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@

bench: $(VENV)/.installed-test
	$(BIN)/python -m bench.store

clean:
	rm -rf $(VENV) var build *.egg-info tests/output

# The appliance image from Debian packages (firmware/image/build-image.sh, as
# root; reused while its inputs are unchanged) and the boot tests: the amd64
# image under KVM (tests/image, about 3 minutes once built; not in `make test`).
# IMAGE_ARCH=arm64: the arm64 image (built under qemu-user-static, the engine
# compiled in the chroot) booted under qemu-system-aarch64 -M virt (TCG).
# IMAGE_ARCH=arm64 IMAGE_BOARD=pi: the Raspberry Pi image, booted under QEMU's
# raspi3b (TCG) from its own boot partition's kernel, initrd and device tree.
IMAGE_APT := mmdebstrap arch-test qemu-system-x86 qemu-system-arm qemu-efi-aarch64 qemu-user-static binfmt-support \
             qemu-utils ovmf sip-tester openssh-client e2fsprogs fdisk dosfstools mtools \
             device-tree-compiler
IMAGE_ARCH ?= amd64
IMAGE_OUT ?= build/image
IMAGE_KEYS ?= $(IMAGE_OUT)/test-keys
IMAGE_BOARD ?= virt
IMAGE_ARGS ?= --arch $(IMAGE_ARCH) --board $(IMAGE_BOARD) --test-access

image: $(VENV)/.engine
	@./.ci/apt-ensure $(IMAGE_APT)
	@[ -f $(IMAGE_KEYS)/installer.key ] || $(BIN)/clinicbox provision keygen --out $(IMAGE_KEYS)/installer.key
	nice -n 19 ionice -c3 firmware/image/build-image.sh $(IMAGE_ARGS) --out $(IMAGE_OUT) --keys $(IMAGE_KEYS) \
	    --engine-wheel "$$(cat build/wheelhouse/LATEST)"

image-test: image $(VENV)/.installed-test
	CLINICBOX_IMAGE=$(abspath $(IMAGE_OUT))/$(IMAGE_ARCH)-$(IMAGE_BOARD).img $(BIN)/python -m pytest -q -p no:cacheprovider -s tests/image
