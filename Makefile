# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum < requirements.txt | cut -d' ' -f1)

.PHONY: run test lint bench fake-provider clean

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

# pytest exits 5 when it collected no test; make treats that as the failure it is.
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

# A provider stand-in on 127.0.0.1:9000 that prints every answer the gateway sends.
fake-provider: $(STAMP)
	$(BIN)/python -m tests.fake_provider 9000

bench: $(STAMP)
	$(BIN)/python -m bench.webhook

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
