# Công khai: `make demo` runs everything on this machine; `make test` runs the whole test suite
# (`make test-fast`: its unit layers, while you work).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
DEMO_DIR  ?= instance/demo
EMPLOYERS ?= 5000
# The report layouts of the demo's provinces (congkhai sample --help): those the publisher publishes today.
# The others join as it learns them; tests/publisher/test_sample_layouts.py marks what it does not yet do.
DEMO_LAYOUTS ?= mixed
PORT      ?= 5000
DAY2 := $(shell date +%F)
DAY1 := $(shell date -d yesterday +%F 2>/dev/null || $(PYTHON) -c 'import datetime;print(datetime.date.today()-datetime.timedelta(1))')

.PHONY: install demo publish-demo serve test test-fast bench clean translations

$(BIN)/congkhai: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,serve,bench]'
	touch $@

install: $(BIN)/congkhai

# Sample reports for yesterday and today (today's derived from yesterday's, a few percent changed, each
# province in its layout of yesterday), both published, then the portal on http://localhost:$(PORT). A few listed employers dispute their
# entries between the two releases, so today's files and pages show the "disputed" mark.
demo: publish-demo serve

publish-demo: install
	rm -rf $(DEMO_DIR)
	$(BIN)/congkhai sample --out $(DEMO_DIR)/reports/$(DAY1) --employers $(EMPLOYERS) --as-of $(DAY1) --seed 1 \
		--layout $(DEMO_LAYOUTS)
	$(BIN)/congkhai sample --out $(DEMO_DIR)/reports/$(DAY2) --employers $(EMPLOYERS) --as-of $(DAY2) --seed 1 \
		--previous $(DEMO_DIR)/reports/$(DAY1)
	CONGKHAI_DATA_DIR=$(DEMO_DIR) $(BIN)/congkhai keygen
	CONGKHAI_DATA_DIR=$(DEMO_DIR) CONGKHAI_BASE_URL=http://localhost:$(PORT) $(BIN)/congkhai publish --input $(DEMO_DIR)/reports/$(DAY1) --as-of $(DAY1)
	CONGKHAI_DATA_DIR=$(DEMO_DIR) $(BIN)/congkhai disputes sample --count 5 --seed 1
	# A province corrects yesterday's report before today's run: corrections, published with today's release.
	$(BIN)/congkhai sample --out $(DEMO_DIR)/reports/$(DAY1)-corrected --as-of $(DAY1) --seed 1 \
		--correct $(DEMO_DIR)/reports/$(DAY1)
	CONGKHAI_DATA_DIR=$(DEMO_DIR) $(BIN)/congkhai correct --input $(DEMO_DIR)/reports/$(DAY1)-corrected --as-of $(DAY1)
	CONGKHAI_DATA_DIR=$(DEMO_DIR) CONGKHAI_BASE_URL=http://localhost:$(PORT) $(BIN)/congkhai publish --input $(DEMO_DIR)/reports/$(DAY2) --as-of $(DAY2)
	CONGKHAI_DATA_DIR=$(DEMO_DIR) $(BIN)/congkhai notices --as-of $(DAY2)

# gunicorn with gunicorn.conf.py; waits until /readyz says the node can serve, then stays in the foreground.
serve: install
	@CONGKHAI_DATA_DIR=$(DEMO_DIR) CONGKHAI_BASE_URL=http://localhost:$(PORT) \
		REDIS_URL=$$(redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && echo redis://127.0.0.1:6379/0) \
		SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(32))') \
		GUNICORN_WORKERS=$${GUNICORN_WORKERS:-2} \
		$(BIN)/gunicorn -c gunicorn.conf.py --bind 127.0.0.1:$(PORT) 'portal:create_app()' & pid=$$!; \
	trap 'kill $$pid' INT TERM; \
	$(BIN)/python -m portal.health http://127.0.0.1:$(PORT)/readyz || { kill $$pid; exit 1; }; \
	echo "Portal: http://localhost:$(PORT)/  (Ctrl-C to stop)"; wait $$pid

test: install
	$(BIN)/python -m pytest

# The unit layers, in well under a minute: the core (tests/congkhai), the publisher's pure steps and its
# database step, and the README's checks; none of the slow, portal, browser, fault or benchmark tests.
FAST_TESTS := tests/congkhai tests/test_readme.py $(addprefix tests/publisher/test_,read.py validate.py \
	reconcile.py classify.py compare.py identity.py results.py layouts.py memo.py store.py)
test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(FAST_TESTS)

bench: install
	$(BIN)/python bench/publish.py
	$(BIN)/python bench/portal.py
	$(BIN)/python bench/load.py --datasette
	$(BIN)/python bench/results.py

translations: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -w 100 -o portal/translations/messages.pot .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --ignore-obsolete --no-fuzzy-matching -w 100
	$(BIN)/pybabel compile -d portal/translations

clean:
	rm -rf $(VENV) instance *.egg-info .pytest_cache
