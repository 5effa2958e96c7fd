# Every target bootstraps uv itself (into .tools/) when it is not on PATH.
UV ?= $(shell command -v uv 2>/dev/null)
ifeq ($(strip $(UV)),)
UV := $(CURDIR)/.tools/bin/uv
endif
PYTEST_ARGS ?=

.PHONY: install browser run test faults lint demo bench clean

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet uv

install: $(UV)
	$(UV) sync --frozen

run: install
	$(UV) run im up

# The dashboard's browser test drives Debian's chromium (Playwright's driver only, never
# `playwright install`). Installed once when missing; without root or apt-get the test
# says why it skips (and fails instead under CI=…).
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] \
		&& apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } \
		|| echo "chromium is not installed (needs root and apt-get): the browser test will skip"

test: install browser
	$(UV) run pytest $(PYTEST_ARGS)

# The fault suite (tests/faults, docs/reliability.md): real processes killed, servers
# stopped; every case prints what it counted (also appended to var/faults.jsonl). The
# quick cases also run in `make test`; the long ones (marked slow) only here (~12 min).
faults: install
	$(UV) run pytest tests/faults -m "slow or not slow" -s -q $(PYTEST_ARGS)

lint: install
	$(UV) run ruff check .
	$(UV) run mypy -p contracts -p im_operator -p im_runtime -p im_cli -p gateway -p housing -p education -p employment -p counselling -p volunteers -p privacy -p plans

demo: install
	$(UV) run im demo

bench: install
	$(UV) run python bench/ingest.py
	$(UV) run python bench/replay.py
	$(UV) run python bench/gateway.py
	$(UV) run python bench/erasure.py
	$(UV) run python bench/commands.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
