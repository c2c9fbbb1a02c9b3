# qmail-fleet: `make demo` provisions two local sandbox mailhubs with the real
# Pulumi engine; `make test` runs every test. See README.md.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

DEMO_DIR := .sandbox/demo
PULUMI := sandbox/pulumi

.PHONY: demo demo-down test unit e2e typecheck deps build engine bench

# Debian tools, qmail users, npm packages (and the compiled CLI), the Pulumi engine.
deps: node_modules/.package-lock.json
	sandbox/install-deps

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund

# The provider plugin and the CLI run from dist/ (compiled JavaScript).
build: deps
	npm run --silent build

engine:
	sandbox/build-engine >/dev/null

demo: build engine
	sandbox/mailhubs start --dir $(DEMO_DIR) --count 2 --first-address 127.0.0.11
	$(PULUMI) stack select demo --create
	$(PULUMI) up --yes --stack demo
	$(PULUMI) stack output --stack demo --json
	sandbox/demo-report $(DEMO_DIR)

demo-down:
	if $(PULUMI) stack select demo 2>/dev/null; then $(PULUMI) destroy --yes --stack demo; fi
	sandbox/mailhubs stop --dir $(DEMO_DIR)

typecheck: deps
	npx tsc --noEmit -p .

unit: deps
	npx vitest run --project unit

e2e: build engine
	npx vitest run --project e2e

test: build engine typecheck
	npx vitest run

# Each benchmark prints its figures beside their goals; the state one takes 15-20 minutes,
# the fleet one (qmail-fleet beside Ansible at 1 to 50 hosts) over an hour.
bench: build engine
	sandbox/install-bench-deps
	npm run bench:cdb
	npm run bench:restart
	npm run bench:state
	npm run bench:validate
	npm run bench:fleet
