# The two commands of the README:
#   make run   - set up .venv-run (the package with its runtime extras only) and start the server
#                (stdio; pass ARGS="--transport streamable-http"). stdout is the MCP channel: make
#                echoes nothing and every set-up step writes to stderr.
#   make test  - set everything up and run every check: pytest (unit + end-to-end), ruff, mypy
# "Everything" is: the venv with the package and its test extra (which brings Node.js from PyPI), the
# test Authorization Server's npm packages (installed with that Node), and the Debian packages the
# end-to-end tests run for real (SYSTEM_PACKAGES below).
# Never "make[1]: Entering directory" (a sub-make, e.g. `make run` started by a test under `make
# test`, would print it on stdout, the MCP channel).
MAKEFLAGS += --no-print-directory
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# `make run`'s own venv: the runtime extras only (no test tools, no Node.js).
RUN_VENV ?= .venv-run
RUN_BIN := $(RUN_VENV)/bin
RUN_EXTRAS ?= auth,redis

# Debian packages, each providing the command of the same name (podman, mmdebstrap and runc build and
# run the container image, catatonit is the pause process of the pods podman kube play starts;
# prometheus scrapes the metrics endpoint in its end-to-end test). Missing
# ones are installed when make runs as root on a machine with apt-get; otherwise make stops before
# anything else, naming them.
SYSTEM_PACKAGES := redis-server nginx chromium podman mmdebstrap runc catatonit prometheus
# Where to look for those commands (nginx lives in /usr/sbin, which a user's PATH may lack).
SYSTEM_PATH ?= $(PATH):/usr/sbin:/sbin
missing_packages := $(foreach tool,$(SYSTEM_PACKAGES),$(if $(shell PATH='$(SYSTEM_PATH)'; command -v $(tool)),,$(tool)))
# Debian's python3 creates venvs only with python3-venv installed; only matters before the venv exists.
ifeq ($(wildcard $(BIN)/python),)
missing_packages += $(if $(shell $(PYTHON) -c 'import ensurepip' 2>/dev/null && echo ok),,python3-venv)
endif
missing_packages := $(strip $(missing_packages))
can_apt := $(and $(filter 0,$(shell id -u)),$(shell command -v apt-get))

.PHONY: run test setup system-packages clean mutation test-pythons bundle demo-auth image

# The other Python versions the classifiers name, from pyenv (this machine kind has them): each gets
# a venv of its own and runs the unit tests, both at once (`make test` does this too).
OTHER_PYTHONS ?= 3.12 3.13
PYENV_ROOT ?= $(HOME)/.pyenv
UNIT_TESTS ?= tests/auth tests/server tests/tools
python_for = $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/$(1).*/bin/python$(1))))

# Before the venv, so that a machine lacking a package stops at once.
system-packages:
ifneq ($(missing_packages),)
ifneq ($(can_apt),)
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(missing_packages) >/dev/null
else
	$(error the tests need the Debian packages $(missing_packages): run make as root, or install them first: sudo apt-get install $(missing_packages))
endif
endif

$(BIN)/oscal-mcp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[auth,redis,test]'
	touch $@

# npm ci for the test Authorization Server, on the venv's Node (unless node_modules matches the lock).
setup: system-packages $(BIN)/oscal-mcp
	$(BIN)/python -c 'from tests.e2e.as_fixture import ensure_node_modules; ensure_node_modules()'

# Silent: the server's stdout carries JSON-RPC from its first byte (pip's output goes to stderr).
$(RUN_BIN)/oscal-mcp: pyproject.toml
	@echo "make run: installing oscal-mcp[$(RUN_EXTRAS)] into $(RUN_VENV) (once)" >&2
	@$(PYTHON) -m venv $(RUN_VENV) >&2
	@$(RUN_BIN)/pip install --quiet -e '.[$(RUN_EXTRAS)]' >&2  # the venv's own pip: no upgrade, a faster first start
	@touch $@

run: $(RUN_BIN)/oscal-mcp
	@exec $(RUN_BIN)/oscal-mcp $(ARGS)

test: setup
	$(MAKE) -j2 --output-sync=target test-pythons
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# OAuth seen working in one command: the test Authorization Server and the server with the jwt
# verifier on 127.0.0.1, then examples/clients/client_credentials.py against them; all stop after.
demo-auth: $(BIN)/oscal-mcp
	@$(BIN)/python -m tools.demo_auth

# The MCP bundle (dist/oscal-mcp-<version>.mcpb, uv type, every platform): packed and validated by the
# mcpb CLI pinned in deploy/mcpb/package-lock.json, on the venv's Node.js.
bundle: $(BIN)/oscal-mcp
	$(BIN)/python deploy/mcpb/build_bundle.py --outdir dist

test-pythons: $(foreach version,$(OTHER_PYTHONS),test-python-$(version))

test-python-%: system-packages $(VENV)-py%/installed
	$(VENV)-py$*/bin/python -m pytest $(UNIT_TESTS) -x -q -p no:cacheprovider

# Kept between runs (make would delete it as an intermediate file).
.PRECIOUS: $(VENV)-py%/installed
$(VENV)-py%/installed: pyproject.toml
	$(if $(call python_for,$*),,$(error Python $* not found under $(PYENV_ROOT)/versions: pyenv install $*, or set OTHER_PYTHONS))
	$(call python_for,$*) -m venv $(VENV)-py$*
	$(VENV)-py$*/bin/pip install --quiet --upgrade pip
	$(VENV)-py$*/bin/pip install --quiet -e '.[auth,redis,test]'
	touch $@

# The server image localhost/oscal-mcp:<version>, built with podman from deploy/container/ (README:
# "Container image"); cached by a hash of its inputs, REBUILD=1 builds it again.
image: system-packages $(BIN)/oscal-mcp
	$(BIN)/python deploy/container/build_image.py $(if $(REBUILD),--rebuild)

clean:
	rm -rf $(VENV) $(VENV)-py* $(RUN_VENV) tests/e2e/authserver/node_modules .pytest_cache .mypy_cache .ruff_cache

# Mutation testing of the security-critical code (not part of `make test`): mutmut mutates what
# [tool.mutmut] in pyproject.toml names and runs the unit tests against each mutant. Bounded by
# MUTATION_SECONDS, resumable: results stay in mutants/ and the next run tests only the mutants
# without one. MUTANTS narrows (and re-runs) a set, e.g. MUTANTS='oscal_mcp_auth.scopes*'; MUTANTS_FILE
# names a file of names or patterns, one a line, for a selection too long for a command line; PENDING
# runs only the mutants without a result of the modules it names, e.g. PENDING=oscal_mcp_auth.settings.
MUTATION_SECONDS ?= 3600
mutation: setup
	test -x $(BIN)/mutmut || $(BIN)/pip install --quiet -e '.[auth,redis,test,mutation]'
	timeout --signal=INT $(MUTATION_SECONDS) $(BIN)/python tools/mutation_run.py $(if $(PENDING),--pending $(PENDING)) $(if $(MUTANTS_FILE),--file $(MUTANTS_FILE)) $(MUTANTS) || [ $$? -eq 124 ]
	$(BIN)/python tools/mutation_score.py --survivors
