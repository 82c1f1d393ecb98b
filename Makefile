# ordo — build, test and try it out. Targets that touch containerd or network
# namespaces (test, demo, lab-up, lab-down) need root.

export PATH := /usr/local/go/bin:$(PATH)

GO      ?= go
BIN     := bin
IMAGE   := $(BIN)/busybox-oci.tar
# Application images built from Debian packages (internal/testimage.Apps); the
# packages are downloaded with apt, not installed, and kept in DEBCACHE.
APPS    := etcd redis
APP_IMAGES := $(APPS:%=$(BIN)/%-oci.tar)
DEBCACHE := $(BIN)/debian
LAB     := scripts/lab
NODES   ?= 3
IS_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo yes)
LAB_DIR := $(or $(ORDO_LAB_DIR),/run/ordo-lab)

.PHONY: all build image app-images deps test vet demo lab-up lab-down proto check-proto bench clean vmlab-deps vmlab-test

all: build

build:
	$(GO) build -o $(BIN)/ ./cmd/...

image: $(IMAGE)

$(IMAGE): scripts/testimage/main.go $(wildcard internal/testimage/*.go)
	$(GO) run ./scripts/testimage -o $@ \
		--tag ordo.local/busybox:latest --variant-tag ordo.local/busybox:v2

app-images: $(APP_IMAGES)

$(APP_IMAGES): $(BIN)/%-oci.tar: scripts/testimage/main.go $(wildcard internal/testimage/*.go)
	$(GO) run ./scripts/testimage --app $* -o $@ --cache $(DEBCACHE)

# Installs the Debian packages when run as root; only checks otherwise.
deps:
	@if [ "$(IS_ROOT)" = yes ]; then scripts/install-deps.sh; fi

vet:
	$(GO) vet ./...

# Unit tests and the end-to-end tests under test/e2e (those need root; outside
# CI they skip without it). The application tests import the app images.
test: deps vet build image app-images
	$(GO) test -count=1 -timeout 25m ./...

demo: export ORDO_ADDR = unix://$(LAB_DIR)/ordo.sock
demo: deps build image
	@$(LAB) down >/dev/null 2>&1 || true
	$(LAB) up --nodes $(NODES) >/dev/null
	$(BIN)/ordo apply -f examples/web.yaml
	@echo "--- watching the pods come up in order (web-0, then web-1, then web-2)"
	@timeout 60 $(BIN)/ordo get pods -w & watcher=$$!; \
	ok=0; for i in $$(seq 1 600); do \
		if [ "$$($(BIN)/ordo get pods 2>/dev/null | awk '$$1 ~ /^web-[0-2]$$/ && $$2 == "1/1" && $$3 == "Running"' | wc -l)" = 3 ]; then ok=1; break; fi; \
		sleep 0.1; \
	done; \
	kill $$watcher 2>/dev/null; wait $$watcher 2>/dev/null; \
	[ $$ok = 1 ] || { echo "web-0..web-2 did not become Ready within 60s" >&2; exit 1; }
	@echo "--- ordo get pods -o wide"
	@$(BIN)/ordo get pods -o wide
	@echo "--- ordo get sts"
	@$(BIN)/ordo get sts
	@echo "--- scripts/lab exec node-1 -- ctr -n ordo containers ls"
	@$(LAB) exec node-1 -- ctr -n ordo containers ls
	@echo
	@echo "The lab keeps running. To use it from this shell:"
	@echo "    eval \$$(scripts/lab env)"
	@echo "    ordo get pods -o wide"
	@echo "    scripts/lab exec node-1 -- ctr -n ordo containers ls"
	@echo "When done:"
	@echo "    scripts/lab down"

lab-up: deps build image
	$(LAB) up --nodes $(NODES)

lab-down:
	$(LAB) down

# The VM lab (scripts/vmlab): node VMs and an NFS server VM under qemu. The
# first run builds the Debian image (cached in /var/cache/ordo-vmlab).
vmlab-deps:
	@if [ "$(IS_ROOT)" = yes ]; then scripts/vmlab deps; fi

vmlab-test: vmlab-deps build image
	ORDO_VMLAB=1 $(GO) test -count=1 -v -timeout 40m ./test/vmlab/

proto:
	scripts/gen-proto.sh

# Regenerates the Go code and fails when it differs from what is committed.
check-proto: proto
	@git diff --exit-code -- proto/ && \
	if [ -n "$$(git status --porcelain -- proto/)" ]; then \
		git status --short -- proto/; echo "proto/: generated code is not committed" >&2; exit 1; \
	fi

bench:
	$(GO) test -count=1 -run '^$$' -bench . ./...

clean:
	rm -rf $(BIN)
