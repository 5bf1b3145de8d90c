# The two commands: `make book` and `make test`. Both create (or reuse) the
# virtual environment .venv from requirements.txt and install d2lmini into it.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: book test serve run venv clean glossary

book: venv
	$(PY) book/make.py book

test: venv
	$(PY) book/make.py test

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
