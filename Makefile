# The two commands of the README: `make run` and `make test`. Everything else is their plumbing.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install install-dev translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

translations: $(VENV)/.installed
	@$(FLASK) translate compile > /dev/null

## make run: install, migrate the SQLite default, load demo data and serve on http://127.0.0.1:5000
## (without REDIS_URL the schedule runs in the server's own thread: INLINE_SCHEDULE=1)
## (PORT=8000, HOST=0.0.0.0 to serve elsewhere: links in emails and posters follow, unless
## PUBLIC_BASE_URL says otherwise)
run: translations
	$(FLASK) db upgrade
	$(FLASK) loyalty demo
	@echo
	@echo "  Loyalty is running on http://$(HOST):$(PORT)/  (Ctrl+C to stop)"
	@echo
	INLINE_SCHEDULE=1 FLASK_RUN_HOST=$(HOST) FLASK_RUN_PORT=$(PORT) $(FLASK) run

## make test: install the dev dependencies and run the whole suite (PYTEST_ARGS to narrow it)
test: $(VENV)/.installed-dev translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance test-output .pytest_cache
