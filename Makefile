# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt constraints.txt | cksum | cut -d' ' -f1)
PIP := python -m pip --disable-pip-version-check

.PHONY: run test browser lint fuzz bench bench-bot eval index fake-provider lock clean

# requirements.txt names what we use; constraints.txt pins everything they pull in.
$(STAMP): requirements.txt constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/$(PIP) install --quiet -r requirements.txt -c constraints.txt
	rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

# pytest exits 5 when it collected no test; make treats that as the failure it is.
# The tests run in one process per core, up to four (each loads the bot's models); an idle
# process takes tests from a busy one's queue, since a few end-to-end tests take seconds each.
test: $(STAMP) browser
	$(BIN)/python -m pytest -n auto --maxprocesses=4 --dist worksteal

# The console's browser test drives the system's Chromium. Where it is missing and we may
# install packages (root, apt), Debian's is installed; elsewhere that one test is skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	  || command -v google-chrome >/dev/null 2>&1 || [ -n "$$CHROMIUM_PATH" ] \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	       && echo "installing Debian's chromium for the console's browser test..." \
	       && { apt-get install -y -q chromium >/dev/null 2>&1 \
	            || { apt-get update -q >/dev/null 2>&1 \
	                 && apt-get install -y -q chromium >/dev/null 2>&1; }; }; } \
	  || echo "no Chromium here, and no way to install it: the console's browser test is skipped"

# The webhook fuzz tests at length (CI runs 40 examples of each; this, thousands).
fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -q tests/test_fuzz.py

lint: $(STAMP)
	$(BIN)/ruff check .

# A provider stand-in on 127.0.0.1:9000 that prints every answer the gateway sends.
fake-provider: $(STAMP)
	$(BIN)/python -m tests.fake_provider 9000

# Needs wrk (Debian's is installed where we may) and pywa, the baseline (bench/requirements.txt).
bench: $(STAMP)
	$(BIN)/$(PIP) install --quiet -r bench/requirements.txt -c constraints.txt
	@command -v wrk >/dev/null 2>&1 \
	  || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	       && { apt-get install -y -q wrk >/dev/null 2>&1 \
	            || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q wrk >/dev/null 2>&1; }; }; } \
	  || echo "no wrk here, and no way to install it: the side-by-side part is skipped"
	$(BIN)/python -m bench.webhook

# Index time, search time and memory of the offline bot for 10,000 passages; memory per worker.
bench-bot: $(STAMP)
	$(BIN)/python -m bench.knowledge

# How well the offline bot answers the labelled conversations in bench/eval, per language.
eval: $(STAMP)
	$(BIN)/python -m bench.eval $(ARGS)

# Rebuild the knowledge index (KNOWLEDGE_DIR) into its cache, ignoring the cached one.
index: $(STAMP)
	$(BIN)/python -m app.services.retrieval

# After changing requirements.txt: resolve it afresh and pin the result in constraints.txt.
lock:
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/$(PIP) install --quiet -r requirements.txt
	{ echo "# Every installed package, pinned by 'make lock' from requirements.txt."; \
	  .lock-venv/bin/$(PIP) freeze; } > constraints.txt
	rm -rf .lock-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
