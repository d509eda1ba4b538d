# The two commands of README.md: `make example` and `make test`.
VENV := .venv
PYTHON := $(VENV)/bin/python
EXAMPLE := example-app
EXAMPLE_FLEET := example-fleet

.PHONY: setup tools example test benchmark benchmark-orchestration

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

# Generate an example app with every default from this checkout (uncommitted changes included),
# and an example orchestration repository with three example apps registered in it;
# the absolute source path lets `copier update` find the template again.
example: setup
	rm -rf $(EXAMPLE)
	$(VENV)/bin/copier copy --trust --defaults --vcs-ref HEAD --data app_name=example-app $(CURDIR) $(EXAMPLE)
	$(PYTHON) scripts/example_orchestration.py $(EXAMPLE_FLEET)

test: tools
	$(VENV)/bin/pytest -n auto $(PYTEST_ARGS)

benchmark: setup
	$(PYTHON) scripts/benchmark.py

# The orchestration graph's render and validation time with 10 and 200 registered apps.
benchmark-orchestration: tools
	$(PYTHON) scripts/benchmark_orchestration.py
