# Kumo developer entry points.
#
#   make run    install into .venv/, prepare .kumo/ and start the all-in-one cloud
#   make test   install into .venv/ and run the whole test suite (stestr)
#
# Both work on a fresh Debian machine with Python 3.11, run as root: they
# apt-get install the Debian packages they need when these are missing.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
VBIN := $(VENV)/bin
# Touched after a successful install; anything newer than it triggers a re-install.
STAMP := $(VENV)/.kumo-installed
STATE := .kumo
CONF := $(STATE)/kumo.conf
CONF_TEMPLATE := etc/kumo/kumo-all.conf.sample
COMPUTES ?= 2
TEST_CONCURRENCY ?= 2

PYPROJECTS := common/pyproject.toml api/pyproject.toml conductor/pyproject.toml \
              scheduler/pyproject.toml compute-agent/pyproject.toml
# Same set as tox.ini's deps: the five distributions, editable, plus test deps.
INSTALL_ARGS := -e 'common[postgresql,mysql]' -e conductor -e scheduler \
                -e 'compute-agent[libvirt]' -e 'api[all]' -r test-requirements.txt
# libvirt-python compiles against these.
BUILD_DEBS := libvirt-dev pkg-config
# What real guests need (tests/guest/): libvirtd, QEMU, qemu-img, an ISO9660 tool,
# mkfs.vfat (ephemeral disks of images without os_type, as Nova formats them).
GUEST_DEBS := libvirt-daemon-system qemu-system-x86 qemu-utils genisoimage dosfstools
# The test guest (tools/build-test-guest.py), rebuilt only when its inputs change.
GUEST := $(STATE)/guest

# $(call apt_ensure,pkg ...): apt-get install those of the packages not yet installed.
define apt_ensure
missing=""; \
for p in $(1); do dpkg -s "$$p" >/dev/null 2>&1 || missing="$$missing $$p"; done; \
if [ -n "$$missing" ]; then \
    echo "Installing Debian packages:$$missing"; \
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
fi
endef

.PHONY: help venv run test pep8 genconfig genpolicy clean guest libvirt

help:
	@echo "make run        start the all-in-one cloud (state under $(STATE)/, API on 127.0.0.1:8774)"
	@echo "make test       run the whole test suite; ends with 'N passed, M failed'"
	@echo "make pep8       ruff check (tox -e pep8)"
	@echo "make genconfig  generate etc/kumo/kumo.conf.sample (tox -e genconfig)"
	@echo "make genpolicy  generate etc/kumo/policy.yaml.sample (tox -e genpolicy)"
	@echo "make venv       only create/update $(VENV)/"
	@echo "make guest      build the test guest into $(GUEST)/ (kernel, initramfs, disk)"
	@echo "make libvirt    install libvirt/QEMU if missing and start virtlogd, libvirtd"
	@echo "make clean      remove $(VENV)/, .tox/, .stestr/ and caches (keeps $(STATE)/)"

venv: $(STAMP)

# Debian splits venv/ensurepip out of python3 (package python3-venv): install it
# only when creating the venv actually fails.
$(VBIN)/pip:
	@if ! $(PYTHON) -m venv $(VENV); then \
	    echo "'$(PYTHON) -m venv' failed; installing python3-venv"; \
	    rm -rf $(VENV); \
	    $(call apt_ensure,python3-venv); \
	    $(PYTHON) -m venv $(VENV); \
	fi
	$(VBIN)/python -m pip install -q --upgrade pip

# The Makefile too: INSTALL_ARGS (e.g. an added extra) changes what gets installed.
$(STAMP): $(PYPROJECTS) test-requirements.txt Makefile | $(VBIN)/pip
	@$(call apt_ensure,$(BUILD_DEBS))
	$(VBIN)/pip install -q $(INSTALL_ARGS)
	@touch $@

# Written once; edit .kumo/kumo.conf freely afterwards (delete it to regenerate).
$(CONF):
	@mkdir -p $(STATE)
	sed -e 's|@STATE_PATH@|$(CURDIR)/$(STATE)|g' $(CONF_TEMPLATE) > $@.tmp
	@mv $@.tmp $@
	@echo "Wrote $@"

# The test guest becomes the seeded test image, so that guests boot for real when
# kumo-all picks the libvirt driver (it does when libvirtd answers, and says so).
# Without a guest (e.g. no apt), the cloud still runs on the fake driver.
guest:
	$(PYTHON) tools/build-test-guest.py --output $(GUEST)

libvirt:
	@$(call apt_ensure,$(GUEST_DEBS))
	bash tools/ensure-services.sh libvirt

run: venv $(CONF)
	$(VBIN)/kumo-manage --config-file $(CONF) db sync
	@if $(PYTHON) tools/build-test-guest.py --output $(GUEST); then \
	    $(VBIN)/kumo-manage --config-file $(CONF) seed --guest-dir $(GUEST); \
	else \
	    echo "Could not build the test guest; seeding without it"; \
	    $(VBIN)/kumo-manage --config-file $(CONF) seed; \
	fi
	exec $(VBIN)/kumo-all --config-file $(CONF) --computes $(COMPUTES)

# tools/test_summary.py runs stestr with --subunit, prints a line per test and the
# failures, and closes with "N passed, M failed" counted from this run's own stream
# (never a stale .stestr run). It exits non-zero if anything failed or no test ran.
# stestr starts its workers with $$PYTHON when that is set: pin it to the venv's.
# tests/guest/ boots real guests: libvirt, QEMU and the test guest come first. If
# they cannot be had, the suite still runs and tests/guest/ says why (a failure with
# CI=true, a skip otherwise). A real Glance from PyPI (its own venv, .kumo/glance-venv)
# is optional: Kumo's own image service is the default, so its tests skip without it.
test: venv
	@$(MAKE) --no-print-directory libvirt guest || \
	    echo "WARNING: libvirt or the test guest is not ready; see tests/guest/"
	@bash tools/glance-venv.sh || \
	    echo "WARNING: Glance from PyPI did not install; the real-Glance tests skip"
	PYTHON='$(CURDIR)/$(VBIN)/python' $(VBIN)/python tools/test_summary.py -- \
	    $(VBIN)/stestr run --concurrency $(TEST_CONCURRENCY) --subunit

pep8: venv
	$(VBIN)/ruff check .

genconfig: venv
	$(VBIN)/oslo-config-generator --config-file etc/kumo/kumo-config-generator.conf

genpolicy: venv
	$(VBIN)/oslopolicy-sample-generator --config-file etc/kumo/kumo-policy-generator.conf

clean:
	rm -rf $(VENV) .tox .stestr .ruff_cache
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
