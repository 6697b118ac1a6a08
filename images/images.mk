# images.mk - builds the guest test programs images/*.c into build/images/NAME.
#
# Include it from the root Makefile (`include images/images.mk`), or use it
# alone from the repository root:  make -f images/images.mk images
#
# Every program is a static glibc executable (see the variants and the
# dynamically linked programs of images/dyn/ below), built with
#   gcc -static -O2 -Wall -o build/images/NAME images/NAME.c -lm
# (-lm only matters for float.c: libm is a separate archive in static glibc).
#
# Including this file does not change the includer's default goal.
#
# Each images/*.c begins with "//go:build ignore" (a C comment to gcc) so the
# go tool does not refuse the Go package in images/ for containing C files.

IMAGES_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

IMAGES_CC      ?= gcc
IMAGES_CFLAGS  ?= -static -O2 -Wall
IMAGES_LDLIBS  ?= -lm
IMAGES_SRCDIR  := images
IMAGES_OUTDIR  := build/images
IMAGES_SRCS    := $(sort $(wildcard $(IMAGES_SRCDIR)/*.c))
IMAGES_BINS    := $(patsubst $(IMAGES_SRCDIR)/%.c,$(IMAGES_OUTDIR)/%,$(IMAGES_SRCS))
# Go guest programs: images/goprogs/NAME/main.go -> build/images/go_NAME,
# static (CGO_ENABLED=0), with the Go toolchain that builds kshim.
IMAGES_GODIRS  := $(sort $(wildcard $(IMAGES_SRCDIR)/goprogs/*/main.go))
IMAGES_GOBINS  := $(patsubst $(IMAGES_SRCDIR)/goprogs/%/main.go,$(IMAGES_OUTDIR)/go_%,$(IMAGES_GODIRS))
IMAGES_GO      ?= go

# Link-mode variants of some programs: NAME_spie (static-pie) and NAME_dyn
# (dynamically linked PIE), for the address-space layout tests; hello_dyn
# is the dynamic ELF the interpreter tests patch (images/diff_test.go
# buildDynamic), prebuilt so that they need no gcc where they run.
IMAGES_VARIANTS := aslr hello
IMAGES_VARBINS := $(foreach n,$(IMAGES_VARIANTS),$(IMAGES_OUTDIR)/$(n)_spie $(IMAGES_OUTDIR)/$(n)_dyn)
# Dynamically linked programs: images/dyn/NAME.c -> build/images/dyn_NAME,
# linked against build/images/lib/libkshimdyn.so (images/dyn/libkshimdyn.c)
# without an rpath, so they find it through LD_LIBRARY_PATH.
IMAGES_DYNSRCS := $(filter-out $(IMAGES_SRCDIR)/dyn/lib%,$(sort $(wildcard $(IMAGES_SRCDIR)/dyn/*.c)))
IMAGES_DYNBINS := $(patsubst $(IMAGES_SRCDIR)/dyn/%.c,$(IMAGES_OUTDIR)/dyn_%,$(IMAGES_DYNSRCS))
IMAGES_DYNLIB  := $(IMAGES_OUTDIR)/lib/libkshimdyn.so

.PHONY: images images-clean

images: $(IMAGES_BINS) $(IMAGES_GOBINS) $(IMAGES_VARBINS) $(IMAGES_DYNBINS)

# A minimal program interpreter without libc (images/dyn_test.go).
$(IMAGES_OUTDIR)/fakeld: $(IMAGES_SRCDIR)/fakeld.c
	@mkdir -p $(@D)
	$(IMAGES_CC) -nostdlib -static-pie -fPIE -ffreestanding -fno-stack-protector -O2 -Wall -o $@ $<

$(IMAGES_OUTDIR)/%_spie: $(IMAGES_SRCDIR)/%.c $(IMAGES_SRCDIR)/common.h
	@mkdir -p $(@D)
	$(IMAGES_CC) -static-pie -O2 -Wall -o $@ $< $(IMAGES_LDLIBS)

$(IMAGES_OUTDIR)/%_dyn: $(IMAGES_SRCDIR)/%.c $(IMAGES_SRCDIR)/common.h
	@mkdir -p $(@D)
	$(IMAGES_CC) -O2 -Wall -o $@ $< $(IMAGES_LDLIBS)

$(IMAGES_DYNLIB): $(IMAGES_SRCDIR)/dyn/libkshimdyn.c
	@mkdir -p $(@D)
	$(IMAGES_CC) -shared -fPIC -O2 -Wall -o $@ $<

$(IMAGES_OUTDIR)/dyn_%: $(IMAGES_SRCDIR)/dyn/%.c $(IMAGES_DYNLIB)
	@mkdir -p $(@D)
	$(IMAGES_CC) -O2 -Wall -o $@ $< -L$(IMAGES_OUTDIR)/lib -lkshimdyn

$(IMAGES_OUTDIR)/go_%: $(IMAGES_SRCDIR)/goprogs/%/main.go
	@mkdir -p $(@D)
	CGO_ENABLED=0 $(IMAGES_GO) build -o $@ ./$(IMAGES_SRCDIR)/goprogs/$*

# The benchmark guests share bench.h too.
$(IMAGES_OUTDIR)/bench_%: $(IMAGES_SRCDIR)/bench_%.c $(IMAGES_SRCDIR)/common.h $(IMAGES_SRCDIR)/bench.h
	@mkdir -p $(@D)
	$(IMAGES_CC) $(IMAGES_CFLAGS) -o $@ $< $(IMAGES_LDLIBS)

# The programs that write kshim's fast area by hand share its layout.
$(IMAGES_OUTDIR)/fast_%: $(IMAGES_SRCDIR)/fast_%.c $(IMAGES_SRCDIR)/common.h $(IMAGES_SRCDIR)/fast_area.h
	@mkdir -p $(@D)
	$(IMAGES_CC) $(IMAGES_CFLAGS) -o $@ $< $(IMAGES_LDLIBS)

# common.h holds helpers the programs share: a change to it rebuilds them all.
$(IMAGES_OUTDIR)/%: $(IMAGES_SRCDIR)/%.c $(IMAGES_SRCDIR)/common.h
	@mkdir -p $(@D)
	$(IMAGES_CC) $(IMAGES_CFLAGS) -o $@ $< $(IMAGES_LDLIBS)

images-clean:
	rm -rf $(IMAGES_OUTDIR)

# Runs every image natively twice and checks the output is identical (no
# kshim needed); the differential test itself is `go test ./images/`.
.PHONY: images-check-native
images-check-native: images
	go test -count=1 -run TestNativeDeterministic ./images/

# Restore the includer's default goal; used alone, default to `images`.
ifeq ($(IMAGES_SAVED_DEFAULT_GOAL),)
ifeq ($(words $(MAKEFILE_LIST)),1)
.DEFAULT_GOAL := images
else
.DEFAULT_GOAL :=
endif
else
.DEFAULT_GOAL := $(IMAGES_SAVED_DEFAULT_GOAL)
endif
