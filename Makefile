# The two commands of README.md: `make example` and `make test`.
VENV := .venv
PYTHON := $(VENV)/bin/python
EXAMPLE := example-app

.PHONY: setup tools example test benchmark

# A venv with the pinned tools (constraints.txt locks every transitive version).
$(VENV)/.installed: pyproject.toml constraints.txt
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet --constraint constraints.txt '.[test]'
	touch $@

setup: $(VENV)/.installed

# helm and kubectl: from PATH, else provisioned into .tools/bin.
tools: setup
	$(PYTHON) scripts/get_tools.py

# Generate an example app with every default from this checkout (uncommitted changes included);
# the absolute source path lets `copier update` find the template again.
example: setup
	rm -rf $(EXAMPLE)
	$(VENV)/bin/copier copy --trust --defaults --vcs-ref HEAD --data app_name=example-app $(CURDIR) $(EXAMPLE)

test: tools
	$(VENV)/bin/pytest -n auto $(PYTEST_ARGS)

benchmark: setup
	$(PYTHON) scripts/benchmark.py
