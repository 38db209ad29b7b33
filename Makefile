# Set-up is part of every target: a fresh clone needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test chromium redis system-deps run lint bench bench-search bench-replay clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## crawl the bundled sample newsroom (offline) into data/
	$(BIN)/mediawatch demo

test: $(STAMP) system-deps  ## the whole test suite
	$(BIN)/python -m pytest -q

# System programs the tests drive, from Debian: chromium for the browser tests (Playwright
# downloads no browser) and redis-server. Installed when missing and we are root (CI is);
# otherwise the browser tests skip with the reason. Nothing is fetched when both are there,
# so `make test` works offline on a machine already set up.
system-deps: chromium redis

chromium:
	@$(call apt_install_missing,/usr/bin/chromium,chromium)

redis:
	@$(call apt_install_missing,/usr/bin/redis-server,redis-server)

# $(1): the program that must exist; $(2): the Debian package that brings it.
define apt_install_missing
if [ ! -x $(1) ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y $(2); fi
endef

run: $(STAMP)  ## the scheduler service on the real configured sources (Ctrl-C stops it)
	$(BIN)/mediawatch schedule

lint: $(STAMP)  ## ruff, then mypy (its config is [tool.mypy] in pyproject.toml)
	$(BIN)/ruff check . && $(BIN)/mypy

bench: $(STAMP)  ## crawl throughput against plain Scrapy; recrawl cost on the sample newsroom
	$(BIN)/python bench/crawl.py
	$(BIN)/python bench/recrawl.py

bench-search: $(STAMP)  ## search latency at 1,000,000 articles (builds and caches the archive)
	$(BIN)/python bench/search.py

bench-replay: $(STAMP)  ## replay latency against pywb (installs pywb into bench/out/)
	$(BIN)/python bench/replay.py

clean:
	rm -rf $(VENV) data .pytest_cache
