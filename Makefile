# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test chromium run lint bench bench-search bench-replay clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## crawl the bundled sample newsroom (offline) into data/
	$(BIN)/mediawatch demo

test: $(STAMP) chromium  ## the whole test suite
	$(BIN)/python -m pytest -q

# The browser tests drive Debian's chromium (Playwright downloads no browser): installed here
# when it is missing and we are root; otherwise those tests skip with the reason.
chromium:
	@if [ ! -x /usr/bin/chromium ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update && apt-get install -y chromium; fi

run: $(STAMP)  ## the scheduler service on the real configured sources (Ctrl-C stops it)
	$(BIN)/mediawatch schedule

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)  ## crawl throughput against plain Scrapy; recrawl cost on the sample newsroom
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/recrawl.py

bench-search: $(STAMP)  ## search latency at 1,000,000 articles (builds and caches the archive)
	$(BIN)/python bench/search.py

bench-replay: $(STAMP)  ## replay latency against pywb (installs pywb into bench/out/)
	$(BIN)/python bench/replay.py

clean:
	rm -rf $(VENV) data .pytest_cache
