# Shortcuts for the README's commands (the scripts themselves need only bash).
.PHONY: setup demo test bench

setup:
	bash scripts/setup.sh

demo:
	bash scripts/demo.sh

test:
	bash scripts/test.sh

bench: setup
	.venv/bin/python benchmarks/origin.py
