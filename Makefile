# The two commands: `make book` and `make test`. Both create (or reuse) the
# virtual environment .venv from requirements.txt and install d2lmini into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book test outputs check-site serve run venv clean glossary mutants

book: venv
	$(PY) book/make.py book

test: venv
	$(PY) book/make.py test

# Store full-profile runs for the site: make outputs PAGES="chapter_x/page ..." (no PAGES:
# every page whose stored run is missing or stale and that fits on this machine).
outputs: venv
	$(PY) book/make.py outputs $(PAGES)

# CI's checks of the built site: a real browser over both languages (needs Chromium, e.g.
# Debian's chromium package) and a downloaded notebook run in a fresh environment.
check-site: venv
	$(PY) -m pip install --disable-pip-version-check -q -r book/requirements-browser.txt
	$(PY) book/check_browser.py
	$(PY) book/check_download.py

# Mutation testing of d2lmini (mutmut; modules and tests in pyproject.toml): slow, not in CI.
# Prints generated/killed/surviving per module; fails above 10% survival or on a survivor
# that tests/MUTANTS.md does not explain.
mutants: venv
	$(PY) -m pip install --disable-pip-version-check -q -r tests/requirements-mutants.txt
	D2LMINI_PROFILE=quick D2LMINI_BOARD=static OMP_NUM_THREADS=1 $(VENV)/bin/mutmut run --max-children $(or $(JOBS),2) || true
	$(PY) tests/mutants.py

serve: venv
	$(PY) book/make.py serve $(PORT)

run: venv
	$(PY) book/make.py run "$(NB)" $(ARGS)

glossary: venv
	$(PY) book/glossary.py

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q -r requirements.txt
	$(PY) -m pip install --disable-pip-version-check -q --no-deps -e .
	touch $(STAMP)

clean:
	rm -rf _build
