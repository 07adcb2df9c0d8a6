# 统战助手: `make run` installs and starts the bot on embedded defaults; `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test install lint bench screens

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed

run: install
	$(BIN)/python run.py serve

test: install
	@bash scripts/ensure_browser.sh
	@env $$(bash scripts/ensure_services.sh) $(BIN)/python -m pytest -q -p no:cacheprovider

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/bench_retrieval.py
	$(BIN)/python bench/bench_callback.py
	$(BIN)/python bench/bench_reminders.py

screens: install
	@bash scripts/ensure_browser.sh
	$(BIN)/python bench/screenshots.py
