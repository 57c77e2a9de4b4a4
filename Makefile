# Front door of the project: `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
CONFIG ?= training/params.yaml
REQUIREMENTS := training/requirements.txt backend/requirements.txt frontend/requirements.txt \
                deploy/requirements.txt requirements-dev.txt
PYTEST_ARGS ?=
COVERAGE_MIN ?= 80
CODE_DIRS := training backend/app frontend deploy benchmarks scripts
AUDITED_REQUIREMENTS := $(sort $(wildcard */requirements.txt) requirements-dev.txt)

.PHONY: help install system-deps train repro retrain lint fmt test test-fast serve ui bench \
        up down deploy switch-green switch-blue rollback release prune-images status logs simulate-traffic \
        shadow-green shadow-blue shadow-off \
        canary-green canary-blue promote abort \
        load-outcomes simulate-outcomes \
        coverage security clean api-key api-key-rotate api-key-revoke api-keys user-add user-password user-remove \
        users audit

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: $(REQUIREMENTS)
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (Python 3.11 is required)"; exit 2; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet $(addprefix -r ,$(REQUIREMENTS))
	touch $@

install: $(VENV)/.installed ## one .venv with every component's pinned dependencies and the dev tools

system-deps: ## Debian packages the tests and benchmarks use (wrk, chromium), if missing
	bash scripts/system-deps.sh

STACK_MLFLOW ?= http://127.0.0.1:5000

# The MLflow store for training: $MLFLOW_TRACKING_URI, else the stack's server if it answers (with the MLflow
# credentials `make up` wrote into the state directory), else mlruns/.
define with_tracking_uri
	@uri="$${MLFLOW_TRACKING_URI:-}"; \
	if [ -z "$$uri" ] && $(PY) -c "import urllib.request; urllib.request.urlopen('$(STACK_MLFLOW)/health', timeout=2)" 2>/dev/null; then \
	    uri=$(STACK_MLFLOW); echo "make $@: the stack's MLflow server answers: tracking and registry at $$uri"; \
	    if [ -r "$(STATE_DIR)/mlflow/client.env" ]; then set -a; . "$(STATE_DIR)/mlflow/client.env"; set +a; fi; \
	fi; \
	env $${uri:+MLFLOW_TRACKING_URI=$$uri} $(1)
endef

train: install ## train, gate, register and export the champion (the stack's MLflow server if it runs, else mlruns/)
	$(call with_tracking_uri,$(PY) -m training.train --config $(CONFIG))

repro: install ## the same pipeline as DVC stages (dvc repro): skips the stages whose code, data and params are unchanged
	$(call with_tracking_uri,PATH="$(CURDIR)/$(VENV)/bin:$$PATH" DVC_NO_ANALYTICS=1 $(VENV)/bin/dvc repro)

# Retraining on outcomes (docs/training.md): LABELED = a labeled CSV instead of the service's matured outcomes,
# SERVING = the registry version to gate against (default: the champion alias). The service is read through nginx
# with $API_KEY, else the deploy CLI's key (scope audit), over HTTPS verified against the CA bundle `make up` wrote
# (RETRAIN_CA; none: the system's trust store).
LABELED ?=
SERVING ?=
RETRAIN_URL ?= https://127.0.0.1:$(or $(PUBLIC_PORT),8080)/api
RETRAIN_CA ?= $(wildcard $(STATE_DIR)/tls/ca.pem)

retrain: install ## retrain on the original data + matured labeled outcomes [LABELED=f.csv], gated vs the serving model
	$(call with_tracking_uri,$(PY) -m training.outcomes.retrain --config $(CONFIG) \
	    $(if $(LABELED),--labeled "$(LABELED)",--url "$(RETRAIN_URL)" --key-file "$(STATE_DIR)/cli/api-key" $(if $(RETRAIN_CA),--ca-file "$(RETRAIN_CA)")) \
	    $(if $(SERVING),--serving "$(SERVING)"))

lint: install ## flake8 over all Python, and the formatting check
	$(VENV)/bin/flake8
	$(VENV)/bin/black --check --quiet .

fmt: install ## format all Python with black
	$(VENV)/bin/black .

test: install system-deps ## everything: lint, then every test (slow and Docker ones included)
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install ## the quick inner-loop subset (no training runs, no processes, no Docker)
	$(PY) -m pytest -m "not slow and not docker" -q $(PYTEST_ARGS)

coverage: install system-deps ## every test except the Docker ones, with coverage (fails under COVERAGE_MIN %)
	$(PY) -m pytest -m "not docker" --cov=training --cov=backend/app --cov=frontend --cov=deploy --cov=scripts \
	    --cov-report=term:skip-covered --cov-report=xml --cov-report=html --cov-fail-under=$(COVERAGE_MIN) $(PYTEST_ARGS)

security: install ## bandit over the code (high severity fails), pip-audit over every requirements file (needs the vuln services)
	$(VENV)/bin/bandit -q -r $(CODE_DIRS) -x '*/tests/*' --severity-level high
	$(VENV)/bin/pip-audit --strict --progress-spinner off $(addprefix -r ,$(AUDITED_REQUIREMENTS))

# The deploy CLI's state directory: the key store, the service keys and the analysts (docs/deployment.md).
STATE_DIR := $(abspath $(or $(DEPLOY_STATE_DIR),.deploy/$(or $(COMPOSE_PROJECT_NAME),credit-risk)))

serve: install ## run the backend (python -m app) on :8000 with models/credit-default/latest and the stack's API keys
	$(PY) -m deploy.cli credentials
	cd backend && SERVED_BUNDLE=$${SERVED_BUNDLE:-../models/credit-default/latest} \
	    API_KEYS_PATH=$${API_KEYS_PATH:-$(STATE_DIR)/auth/api-keys.json} ../$(PY) -m app

ui: install ## run the Streamlit app on :8501 against BACKEND_URL (default http://localhost:8000), the stack's analysts
	$(PY) -m deploy.cli credentials
	BACKEND_URL=$${BACKEND_URL:-http://localhost:8000} BACKEND_API_KEY_FILE=$${BACKEND_API_KEY_FILE:-$(STATE_DIR)/ui/service-key} \
	    UI_USERS_PATH=$${UI_USERS_PATH:-$(STATE_DIR)/ui/users.json} \
	    $(VENV)/bin/streamlit run frontend/app.py --server.port 8501 --server.headless true

bench: install system-deps ## benchmark the backend against `mlflow models serve` (results in docs/benchmarks.md)
	$(PY) -m benchmarks.serving

# Releases (docs/deployment.md): TAG = an image tag (default: this checkout's revision), MODEL = a model
# version, a registry alias or `latest` (default), REGISTRY = pull released images instead of building.
TAG ?=
MODEL ?=
KEEP ?=
FORCE ?=
RELEASE_ARGS = $(if $(TAG),--tag $(TAG)) $(if $(MODEL),--model $(MODEL)) $(if $(FORCE),--force)

up: install ## build the shared images, train if no model exists, start every pinned color + nginx, wait until healthy
	$(PY) -m deploy.cli up

down: install ## stop every stack (volumes, runs, models, pinned releases and history are kept)
	$(PY) -m deploy.cli down

deploy: install ## build (or pull) a release [TAG=] [MODEL=] and start it on the idle color, gated; no traffic change
	$(PY) -m deploy.cli deploy $(RELEASE_ARGS)

switch-green: install ## gate green and switch the public traffic to it (automatic rollback on failure)
	$(PY) -m deploy.cli switch green $(if $(FORCE),--force)

switch-blue: install ## the same gates, to blue
	$(PY) -m deploy.cli switch blue $(if $(FORCE),--force)

rollback: install ## switch back to the other color, which still holds the previous release
	$(PY) -m deploy.cli rollback

shadow-green: install ## copy live scoring requests to the idle green (answers discarded; compare: make status)
	$(PY) -m deploy.cli shadow green

shadow-blue: install ## the same, to the idle blue
	$(PY) -m deploy.cli shadow blue

shadow-off: install ## stop copying live scoring requests to the idle color
	$(PY) -m deploy.cli shadow off

STEPS ?= 10,50,100
canary-green: install ## shift the traffic to green in judged steps STEPS= (default 10,50,100); aborts or promotes by itself
	$(PY) -m deploy.cli canary green --steps $(STEPS) $(if $(FORCE),--force)

canary-blue: install ## the same canary, to blue
	$(PY) -m deploy.cli canary blue --steps $(STEPS) $(if $(FORCE),--force)

promote: install ## end the running canary by hand: its color receives all traffic
	$(PY) -m deploy.cli promote

abort: install ## end the running canary by hand: all traffic back on the stable color
	$(PY) -m deploy.cli abort

release: install ## deploy a release [TAG=] [MODEL=] to the idle color, then switch to it (the release workflow's deploy)
	$(PY) -m deploy.cli release $(RELEASE_ARGS)

prune-images: install ## remove the images of releases older than the last KEEP (default DEPLOY_KEEP_RELEASES=3)
	$(PY) -m deploy.cli prune $(if $(KEEP),--keep $(KEEP))

status: install ## each color's release (code revision, model version), health and role; the last operations
	$(PY) -m deploy.cli status

logs: install ## follow the logs of every running service
	$(PY) -m deploy.cli logs

simulate-traffic: install ## send realistic, then shifted, applicant traffic through nginx
	$(PY) -m deploy.simulate_traffic

FILE ?=
load-outcomes: install ## post observed outcomes FILE= (CSV: prediction_id,outcome,observed_date) through nginx
	$(PY) -m deploy.load_outcomes "$(FILE)"

simulate-outcomes: install ## draw outcomes of the logged predictions from their own probabilities (seeded) and load them
	$(PY) -m deploy.simulate_outcomes

# Access (docs/deployment.md, Access): NAME = a key's or an analyst's name, SCOPES = score,read,... (comma-separated)
NAME ?=
SCOPES ?=
WINDOW ?= 24h
LIMIT ?= 1000

api-key: install ## create an API key NAME= SCOPES=score,read,... (printed once; only its hash is stored)
	$(PY) -m deploy.cli api-key create "$(NAME)" --scopes "$(SCOPES)"

api-key-rotate: install ## a new key for NAME= (same scopes; the old key stops working at once)
	$(PY) -m deploy.cli api-key rotate "$(NAME)"

api-key-revoke: install ## revoke the API key NAME= (both colors refuse it within a second, no restart)
	$(PY) -m deploy.cli api-key revoke "$(NAME)"

api-keys: install ## list the API keys: name, scopes, created, last used, status
	$(PY) -m deploy.cli api-key list

user-add: install ## add an analyst NAME= to the UI's built-in sign-in (asks the password twice)
	$(PY) -m deploy.cli user add "$(NAME)"

user-password: install ## set a new password for the analyst NAME=
	$(PY) -m deploy.cli user password "$(NAME)"

user-remove: install ## remove the analyst NAME=
	$(PY) -m deploy.cli user remove "$(NAME)"

users: install ## list the analysts of the built-in sign-in
	$(PY) -m deploy.cli user list

audit: install ## the scoring requests of the analyst (or API key) NAME= over WINDOW= (default 24h)
	$(PY) -m deploy.cli audit "$(NAME)" --window "$(WINDOW)" --limit "$(LIMIT)"

clean: ## remove caches and test artifacts (keeps .venv, mlruns and models)
	rm -rf .pytest_cache .coverage coverage.xml htmlcov test-artifacts catboost_info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
