# Every target creates .venv on first use (and again when pyproject.toml changes),
# so a fresh clone needs nothing but python3 (3.11+) and make.
VENV ?= .venv
PYTHON := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
# Custom-resource schemas for tests/test_custom_resources.py (npm packages, pinned by the lockfile).
SCHEMAS := tests/schemas/node_modules/.installed-$(shell cksum tests/schemas/package-lock.json | cut -d' ' -f1)

.PHONY: plan test lint golden bench rig rig-build rig-down rig-onprem

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[dev,flow]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

## The main job on the embedded default: the offline plan of the `local` stack, then the
## flows of both examples end to end on this machine (synthetic data, MLDE local mode, real
## TorchServe).
plan: $(STAMP)
	$(VENV)/bin/pdk plan -s local
	$(VENV)/bin/pdk example run dog-cat --local
	$(VENV)/bin/pdk example run taxi --local

# Checkov in its own virtualenv (its boto3 pin conflicts with ours): tests/test_checkov.py.
CHECKOV := .venv-checkov/.installed-$(shell cksum tests/checkov/requirements.txt | cut -d' ' -f1)

$(CHECKOV): tests/checkov/requirements.txt
	python3 -m venv .venv-checkov
	.venv-checkov/bin/pip install --quiet --disable-pip-version-check -r tests/checkov/requirements.txt
	rm -f .venv-checkov/.installed-* && touch $(CHECKOV)

$(SCHEMAS): tests/schemas/package-lock.json
	npm ci --prefix tests/schemas --no-audit --no-fund --loglevel=error
	rm -f tests/schemas/node_modules/.installed-* && touch $(SCHEMAS)

## Every test (unit, property, schema, golden, CLI), and the rig's real-engine tests when the
## rig is built (`make rig-build`); without it they are skipped with the reason.
test: $(STAMP) $(SCHEMAS) $(CHECKOV)
	$(PYTHON) -m pytest -n auto --dist loadfile --durations=12

# The policy pack's own virtualenv, as `pulumi preview --policy-pack policy` expects it
# (PulumiPolicy.yaml); the rig's language host does not install packages.
POLICY_VENV := policy/venv/.installed-$(shell cksum policy/requirements.txt | cut -d' ' -f1)

$(POLICY_VENV): policy/requirements.txt
	python3 -m venv policy/venv
	policy/venv/bin/pip install --quiet --disable-pip-version-check -r policy/requirements.txt
	rm -f policy/venv/.installed-* && touch $(POLICY_VENV)

## The rig (tests/rig/): real Pulumi CLI, provider and Kubernetes control plane built from their
## Go modules (cold: tens of minutes; warm: seconds), and the charts as local archives.
rig-build: $(STAMP) $(POLICY_VENV)
	$(PYTHON) -m tests.rig.build
	$(PYTHON) -m tests.rig.charts .rig/charts

## Starts the rig's control plane and prints the environment for the real CLI against it.
rig: rig-build
	$(PYTHON) -m tests.rig.cluster up
	@echo "# To run the real CLI against the rig:  eval \"\$$(make -s rig-env)\""

## The same lifecycle for the `onprem` stack file, less Istio, Serverless KServe and the flow
## (tests/test_rig_lifecycle.py says why); run by .ci/run after `make test`.
rig-onprem: $(STAMP) $(SCHEMAS)
	PDK_RIG_STACK=onprem $(PYTHON) -m pytest tests/test_rig_lifecycle.py

rig-env: $(STAMP)
	@$(PYTHON) -m tests.rig.cluster env

rig-down: $(STAMP)
	$(PYTHON) -m tests.rig.cluster down

## Linter and type checker over infra/ (the program and the CLI), tests and benchmarks.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

## Rewrite the golden plans after an intended change; review the diff before committing.
golden: $(STAMP)
	$(PYTHON) -m pytest tests/test_golden.py --update-golden

bench: $(STAMP)
	$(PYTHON) benchmarks/plan_time.py
	$(PYTHON) benchmarks/dry_run.py
	$(PYTHON) benchmarks/ops_time.py
