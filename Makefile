# Two commands do all the set-up on a machine that has only Python:
#   make run    trains, evaluates and exports the IMDB sentiment model (python -m tasks.imdb), its report too
#   make demo   serves the page over the exports at http://127.0.0.1:7860 (python -m tasks.demo)
#   make test   runs the test suite (its browser test needs Chromium: apt-get install chromium)
# Both create .venv and install the project into it the first time.
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: run demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/python -m tasks.imdb $(ARGS)

demo: $(STAMP)
	$(VENV)/bin/python -m tasks.demo $(ARGS)

# Two test processes: a single test keeps about one core busy (its TensorFlow start-up, export and
# subprocess waits are serial), so a second one fills the other; more would only contend.
test: $(STAMP)
	$(VENV)/bin/python -m pytest -n 2 --dist worksteal $(ARGS)

bench: $(STAMP)
	$(VENV)/bin/python -m bench $(or $(ARGS),mnist)

clean:
	rm -rf $(VENV) .pytest_cache
