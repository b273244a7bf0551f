# The two commands a learner needs: `make run` and `make test`. Both create .venv themselves.
#   make run      execute every notebook offline against the simulator; write build/
#   make test     lint (ruff, notebooks included) and every test, nbval included
#   make outputs  regenerate the notebooks' stored outputs, exactly as `make test` runs them
#   make bench    print the performance figures as JSON
#   make check    check this machine's environment (python -m helpers.check_env)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.requirements.stamp
DEV_STAMP := $(VENV)/.requirements-dev.stamp

# Data that is not ours may sit beside the checkout (it does in CI); use it when it is there.
SHARED := $(abspath ../shared)
ifneq ($(wildcard $(SHARED)/scikit_learn_data),)
export SCIKIT_LEARN_DATA ?= $(SHARED)/scikit_learn_data
endif
ifneq ($(wildcard $(SHARED)/tiktoken_cache),)
export TIKTOKEN_CACHE_DIR ?= $(SHARED)/tiktoken_cache
endif

# Notebooks always run against a fresh simulator state and a fresh working folder, so that
# `make run`, `make outputs` and nbval all see the same ids, numbers and outputs.
NB_STATE := build/.state
NB_ENV := TUTORIAL_BACKEND=simulator SIMULATOR_STATE=$(abspath $(NB_STATE))/simulator \
	TUTORIAL_WORK_DIR=$(abspath $(NB_STATE))/work PYTHONHASHSEED=0

.PHONY: run test lint unit nbval outputs bench check clean

# Reinstall only when a requirements file changed.
$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(DEV_STAMP): requirements-dev.txt $(STAMP)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(STAMP)
	rm -rf $(NB_STATE)
	$(NB_ENV) $(PY) -m scripts.run_notebooks --out build

test: lint unit nbval

lint: $(DEV_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

unit: $(DEV_STAMP)
	$(PY) -m pytest tests

nbval: $(DEV_STAMP)
	rm -rf $(NB_STATE)
	$(NB_ENV) $(PY) -m pytest --nbval --nbval-current-env notebooks \
		--nbval-sanitize-with tests/nbval_sanitize.cfg -o testpaths=notebooks

outputs: $(DEV_STAMP)
	rm -rf $(NB_STATE)
	$(NB_ENV) $(PY) -m scripts.run_notebooks --in-place

bench: $(DEV_STAMP)
	rm -rf $(NB_STATE)
	$(NB_ENV) $(PY) -m benchmarks.run

check: $(STAMP)
	$(PY) -m helpers.check_env

clean:
	rm -rf build
