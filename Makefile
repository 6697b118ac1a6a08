# kshim build. `make run` builds everything and runs the default guest;
# `make test` runs every test (unit and differential). Needs Go, gcc and
# a static glibc (Debian: libc6-dev); `make deps` installs what is missing.

GO      ?= go
KSHIM   := bin/kshim

.PHONY: all build run test vet deps clean generate

all: build images

include images/images.mk

build: $(KSHIM)

$(KSHIM): $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum
	@mkdir -p bin
	$(GO) build -o $@ ./cmd/kshim

# Install build dependencies when missing (CI runs on fresh machines).
deps:
	@command -v gcc >/dev/null && test -f /usr/lib/x86_64-linux-gnu/libc.a || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev; }

run: deps build build/images/hello
	$(KSHIM) run build/images/hello

generate:
	$(GO) generate ./boot

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

test: deps build images
	$(GO) vet ./...
	$(GO) test -count=1 ./...

clean:
	rm -rf bin build
