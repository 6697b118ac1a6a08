# kshim build. `make run` builds everything and runs the default guest;
# `make test` runs every test (unit and differential). Needs Go, gcc and
# a static glibc (Debian: libc6-dev); `make deps` installs what is missing.

GO      ?= go
KSHIM   := bin/kshim

# kshim is built (and tested) without cgo: a static binary (an initramfs
# can hold it), and the Go runtime's own all-threads set*id calls, which
# the sandbox relies on (sandbox/identity.go).
export CGO_ENABLED := 0

.PHONY: all build run test test-svm test-svm-teardown test-oci test-python vet deps clean generate

all: build images

include images/images.mk

build: $(KSHIM) bin/kshim-plot

$(KSHIM): $(shell find . -name '*.go' -not -path './build/*') go.mod go.sum
	@mkdir -p bin
	$(GO) build -o $@ ./cmd/kshim

# `kshim faultlat --plot` draws with it (beside kshim): a command of its
# own so that the plotting library's init is not in kshim's start-up.
bin/kshim-plot: $(shell find ./cmd/kshim-plot -name '*.go') go.mod go.sum
	@mkdir -p bin
	$(GO) build -o $@ ./cmd/kshim-plot

# Install build and test dependencies when missing (CI runs on fresh
# machines): gcc and a static glibc for the guest images, and Debian's
# busybox-static for the busybox differential tests.
deps:
	@command -v gcc >/dev/null && test -f /usr/lib/x86_64-linux-gnu/libc.a || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev; }
	@dpkg -s busybox-static >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox-static; }

run: deps build build/images/hello
	$(KSHIM) run build/images/hello

generate:
	$(GO) generate ./boot ./sandbox

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }

test: deps build images
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "not gofmt'ed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) test -count=1 ./...

# `make test-python`: CPython's own regression tests (Debian's
# libpython3.11-testsuite) natively and under `kshim run`, as the same
# identity; fails unless every case that passes natively passes under kshim,
# except those in ci/python/exceptions (each with its reason). Modules:
# ci/python/tests; see ci/python/main.go. PYTHON_FLAGS passes options
# (e.g. PYTHON_FLAGS=-only=test_os,test_mmap).
test-python: deps build
	@test -x /usr/bin/python3 && dpkg -s libpython3.11-testsuite >/dev/null 2>&1 || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 libpython3.11-testsuite; }
	$(GO) run ./ci/python $(PYTHON_FLAGS)

# `make test-svm`: the guest-running tests (vmm, images: native vs kshim)
# inside a Debian kernel booted under QEMU TCG, an emulated AMD CPU with
# SVM, where kshim takes its VMX/SVM syscall path (cpl0-sysret); once with
# kvm_amd npt=0 and once with npt=1. Installs qemu-system-x86 and fetches
# the kernel package when missing; see ci/svm/main.go. CPU heavy (QEMU
# runs under nice, both emulated CPUs on one host thread; ~18 min for
# both configurations on a 2-core host); .ci/run runs it after make test.
# SVM_FLAGS passes options (e.g. SVM_FLAGS=-npt=1).
test-svm: deps images
	$(GO) run ./ci/svm $(SVM_FLAGS)

# `make test-oci`: kshim as the OCI runtime of a private containerd, and
# the runtime-tools validation suite with runc's score beside kshim's
# (OCI_VALIDATION=0 skips it): see ci/oci/run.sh. Installs containerd,
# umoci, runc and busybox-static when missing; needs root.
test-oci: deps build
	bash ci/oci/run.sh $(KSHIM)

# `make test-svm-teardown`: in the same two configurations, each Go guest of
# ci/svm's teardownProgs TEARDOWN_RUNS times under kshim, every run compared
# with a native one; prints how many differed (not in CI: 100 runs of
# go_goroutines took 23-25 min per configuration on a loaded host).
TEARDOWN_RUNS ?= 100
test-svm-teardown: deps images
	$(GO) run ./ci/svm -teardown=$(TEARDOWN_RUNS) -timeout=120m $(SVM_FLAGS)

clean:
	rm -rf bin build

# Long robustness runs (not in CI; `make test` runs a short version of
# each): the syscall fuzzer (images/fuzz_syscalls.c) for SEEDS seeds of
# CALLS calls per task, leaving out what hits open kshim bugs unless
# EXCLUDE says otherwise (EXCLUDE=none: nothing), and the exit-race stress
# test (images/exit_race.c, Go guests) RUNS times per variant, known kshim
# bugs included. See images/fuzz_test.go and images/stress_test.go.
SEEDS    ?= 20
CALLS    ?= 200000
FUZZ_SECONDS ?= 60
RUNS     ?= 1000
VARIANTS ?= all
EXCLUDE  ?=

.PHONY: fuzz-long stress-long
fuzz-long: deps build images
	KSHIM_FUZZ_SEEDS=$(SEEDS) KSHIM_FUZZ_CALLS=$(CALLS) KSHIM_FUZZ_SECONDS=$(FUZZ_SECONDS) KSHIM_FUZZ_EXCLUDE=$(EXCLUDE) \
		$(GO) test -count=1 -timeout 0 -v -run 'TestFuzzSyscalls$$' ./images/

stress-long: deps build images
	KSHIM_STRESS_RUNS=$(RUNS) KSHIM_STRESS_VARIANTS=$(VARIANTS) \
		$(GO) test -count=1 -timeout 0 -v -run 'TestStress$$' ./images/

# `make bench`: the benchmark suite (`kshim bench`) under kshim, native,
# qemu-user and gVisor (runsc, ptrace platform), and the fault-latency lab
# (`kshim faultlat`); writes docs/bench.md and docs/faultlat.png. Not in CI:
# slow and noisy; `make test` smoke-tests the same code. Peers missing here
# are installed from Debian's packages when apt has them; one that cannot be
# installed is reported absent, with the reason, by `kshim bench`.
BENCH_PEER_PKGS := qemu-x86_64:qemu-user runsc:runsc busybox:busybox-static
# BENCH_FLAGS: more `kshim bench` flags, e.g. --baseline=OLD/bin/kshim.
BENCH_FLAGS ?=

.PHONY: bench bench-peers
bench-peers:
	@missing=""; for p in $(BENCH_PEER_PKGS); do command -v $${p%%:*} >/dev/null || missing="$$missing $${p#*:}"; done; \
	if [ -n "$$missing" ]; then \
		apt-get update -qq || true; \
		for pkg in $$missing; do \
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$pkg >/dev/null 2>&1 || \
				echo "make bench: could not install $$pkg (not in the configured apt sources?): it will be reported absent"; \
		done; \
	fi

bench: deps build images bench-peers
	@mkdir -p build docs
	$(KSHIM) bench --markdown $(BENCH_FLAGS) > build/bench-suite.md
	$(KSHIM) faultlat --markdown --plot docs/faultlat.png > build/bench-faultlat.md
	@{ echo "# kshim measurements"; echo; \
	   echo "Written by \`make bench\` (\`kshim bench --markdown\`, \`kshim faultlat --markdown --plot docs/faultlat.png\`);"; \
	   echo "every figure is from the run below, on the host described. Absent cells say why."; echo; \
	   cat build/bench-suite.md build/bench-faultlat.md; } > docs/bench.md
	@echo "wrote docs/bench.md and docs/faultlat.png"
