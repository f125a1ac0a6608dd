# Thin wrappers over scripts/. `make run` and `make test` are the only two set-up commands.
.PHONY: run test lint lock bench emulator clean

run:            ## serve the site on http://127.0.0.1:8000 (SQLite, no AWS, no containers)
	@scripts/run.sh

test:           ## every test: lint, types, the site on SQLite and PostgreSQL, template, CLI, containers
	@scripts/test.sh

lint:           ## ruff (lint and format) and mypy only
	@scripts/test.sh lint

lock:           ## regenerate the hashed lock files in requirements/
	@scripts/bootstrap.sh && scripts/lock.sh

emulator:       ## the tests' AWS emulator on loopback, to try `cloudsite up` with no account
	@scripts/bootstrap.sh && .venv/bin/python scripts/emulator.py

bench:          ## run every benchmark in bench/ and print the figures
	@scripts/bootstrap.sh && for b in bench/*.py; do .venv/bin/python "$$b"; done

clean:          ## remove the virtualenvs, caches and local state
	rm -rf .venv .venv-checkov .venv-awscli .cache examples/wanderpage/staticfiles examples/wanderpage/db.sqlite3 examples/wanderpage/.cloudsite/local
