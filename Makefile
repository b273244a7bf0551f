# The two commands a learner needs: `make run` and `make test`. Both create .venv themselves.
#   make run        execute every notebook offline against the simulator; write build/
#   make test       lint (ruff, notebooks included) and every test, nbval included
#   make outputs    regenerate the notebooks' stored outputs, exactly as `make test` runs them
#   make bench      print the performance figures as JSON
#   make check      check this machine's environment (python -m helpers.check_env)
#   make lab-check  open every notebook in JupyterLab in Chromium and run 01 through the UI
#
# Every target is `python -m scripts.course TARGET`, which works without make too (on Windows, say);
# it checks the Python, creates .venv and installs the requirements only when they changed.
# `make run PYTHON=python3.13` chooses the Python that creates .venv.

PYTHON ?= python3
COURSE := $(PYTHON) -m scripts.course

.PHONY: run test lint unit nbval outputs bench check lab-check sync-zh setup clean \
  .venv/.requirements.stamp .venv/.requirements-dev.stamp .venv/.requirements-lab.stamp

run test lint unit nbval outputs bench check lab-check sync-zh clean:
	$(COURSE) $@

setup .venv/.requirements.stamp:
	$(COURSE) setup

.venv/.requirements-dev.stamp:
	$(COURSE) setup --dev

.venv/.requirements-lab.stamp:
	$(COURSE) setup --lab
