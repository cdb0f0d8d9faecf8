# The two commands of the README: `make demo` and `make test`. Both set up everything they need first.
.PHONY: setup demo test db bench clean-db

setup:
	bash scripts/setup.sh

db: setup
	.venv/bin/gi db up

demo: db
	.venv/bin/gi demo

# GI_REQUIRE_DB=1: a PostGIS test that cannot reach its database fails instead of skipping.
test: db
	GI_REQUIRE_DB=1 .venv/bin/python -m pytest -n 2 --dist loadfile -q

bench: db
	.venv/bin/python benchmarks/origin.py

clean-db:
	-.venv/bin/gi db stop
	rm -rf .pgdata
