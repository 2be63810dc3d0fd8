# Set-up is two commands on a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# Both install what is missing first (apt packages, the Python venv), then build.

SHELL := /bin/bash
SWIFT ?= swift
VENV ?= .venv
# The system interpreter: steps run as other OS users (execution.stepUser), who must be able to run the
# venv's python; an interpreter under a private home (pyenv in /root) would be "Permission denied" for them.
PYTHON ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := libgit2-dev libcurl4-openssl-dev libsqlite3-dev pkg-config git openssh-client python3 python3-venv sqlite3 jq curl strace util-linux systemd libcap2-bin libpq-dev postgresql chromium fonts-dejavu-core
BIN := .build/debug/pipeline-agent

.PHONY: all deps apt venv build lint test demo demo-minimal demo-ha schema clean bench install
PREFIX ?= /usr/local

all: build

## deps: install missing apt packages and create the Python venv
deps: apt venv

apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	@touch $@

## build: compile; fails on any compiler warning in our own code
build: apt
	@mkdir -p .build
	$(SWIFT) build --build-tests 2>&1 | tee .build/build.log
	@if grep -E "^$(CURDIR)/(Sources|Tests)/.*warning:" .build/build.log; then echo "error: compiler warnings"; exit 1; fi

## lint: swift format in strict mode over Sources and Tests
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Benchmarks

## test: every test (unit, real git, real processes)
test: deps lint build
	$(SWIFT) test --skip-build

## demo: the main job: the Olist dbt project promoted dev -> staging -> prod by the agent, for real; then the
## agent serves its web page (the URL is printed) until Ctrl-C
demo: deps build
	@scripts/olist-demo.sh --serve

## demo-minimal: the same story on a shell-only example (no dbt)
demo-minimal: deps build
	@scripts/demo-minimal.sh

## demo-ha: three agents on a local PostgreSQL; the one running a step is killed, another takes over
demo-ha: deps build
	@scripts/demo-ha.sh

## schema: regenerate pipelines/pipeline.schema.json, docs/agent-config.schema.json and docs/agent-config.md from the Swift types
schema: build
	$(BIN) schema > pipelines/pipeline.schema.json
	$(BIN) schema --config > docs/agent-config.schema.json
	$(BIN) schema --config --markdown > docs/agent-config.md

clean:
	rm -rf .build $(VENV)

## bench: performance figures (release build); not part of `make test`, machines are noisy
bench: apt
	scripts/bench.sh

## install: the release binary, the systemd unit, the audit script and the docs (DESTDIR and PREFIX honoured)
install: apt
	$(SWIFT) build -c release --product pipeline-agent
	install -D -m 0755 .build/release/pipeline-agent $(DESTDIR)$(PREFIX)/bin/pipeline-agent
	install -D -m 0644 packaging/pipeline-agent.service $(DESTDIR)/etc/systemd/system/pipeline-agent.service
	sed -i 's|/usr/local/|$(PREFIX)/|g' $(DESTDIR)/etc/systemd/system/pipeline-agent.service
	install -D -m 0755 scripts/verify-audit.py $(DESTDIR)$(PREFIX)/share/pipeline-agent/verify-audit.py
	install -d -m 0755 $(DESTDIR)$(PREFIX)/share/doc/pipeline-agent
	install -m 0644 README.md docs/*.md docs/agent-config.schema.json examples/agent.yaml $(DESTDIR)$(PREFIX)/share/doc/pipeline-agent/
	install -d -m 0750 $(DESTDIR)/etc/pipeline-agent
