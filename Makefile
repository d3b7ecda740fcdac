# Makefile - builds libkdl, the kdl tool, kdl.ko and the tests; runs them.
# kbuild reads ./Kbuild, not this file, for "make -C $KDIR M=$PWD".

PREFIX    ?= /usr/local
DESTDIR   ?=
LIBDIR    ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# The preload shim has no soname: a distribution may give it a private
# directory (debian/rules does).
PRELOADDIR ?= $(LIBDIR)
UDEVRULESDIR ?= /lib/udev/rules.d
# The one place the release is written (Documentation/packaging.md):
# libkdl.so.$(VERSION), soname libkdl.so.$(SOMAJOR), kdl --version,
# MODULE_VERSION (kmod/Kbuild), dkms.conf, kdl.pc.
VERSION   := $(shell cat VERSION)
SOMAJOR   := $(firstword $(subst ., ,$(VERSION)))
B         ?= build
CC        ?= gcc
# Set SAN=1 for an ASan/UBSan build (into build-san/ by default).
SAN       ?=
ifeq ($(SAN),1)
B         := build-san
SANFLAGS  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
endif
# Set TSAN=1 for a ThreadSanitizer build (into build-tsan/) of libkdl and
# the library tests that start threads (tsan-tests).
TSAN      ?=
ifeq ($(TSAN),1)
B         := build-tsan
SANFLAGS  := -fsanitize=thread -fno-omit-frame-pointer
endif

CFLAGS    ?= -O2 -g
WARN      := -Wall -Wextra -Werror
ALL_CFLAGS = -std=gnu11 $(WARN) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -D_GNU_SOURCE -Iuapi -Ilib/include
LDLIBS_LIB = -lpthread -ldl
KVER      = $(shell tools/kver.sh)
KDIR      = /lib/modules/$(KVER)/build
KSFT      = $(B)/kselftest
KSFT_DIR  = $(abspath $(KSFT))
KSFT_HDRS = $(KSFT_DIR)/.extracted

LIB_SRCS  := $(wildcard lib/*.c)
LIB_ASM   := $(wildcard lib/*.S)
LIB_OBJS  := $(LIB_SRCS:%.c=$(B)/obj/%.o) $(LIB_ASM:%.S=$(B)/obj/%.o)
KDL_SRCS  := $(wildcard tools/kdl/*.c)
KDL_OBJS  := $(KDL_SRCS:%.c=$(B)/obj/%.o)
LIBTESTS  := $(patsubst selftests/lib/%.c,$(B)/selftests/lib/%,$(wildcard selftests/lib/*_test.c))
EXAMPLES  := $(patsubst examples/%.c,$(B)/examples/%,$(wildcard examples/*.c))

.PHONY: all deps lib tools module tests examples check check-host check-vm check-san \
	demo install install-user install-module clean vm-shell bench-kmod ktests kselftest-install
.DELETE_ON_ERROR:

all: deps lib tools module tests examples

# KDL_NO_DEPS=1: the packages are someone else's business (a package
# build, whose Build-Depends install them).
deps:
	@[ -n "$(KDL_NO_DEPS)" ] || tools/deps.sh

lib: $(B)/lib/libkdl.so $(B)/lib/libkdl.a $(B)/lib/libkdl_preload.so
tools: $(B)/tools/kdl
tests: $(LIBTESTS) ktests kselftest-install
examples: $(EXAMPLES)

include selftests/fixtures/fixtures.mk

$(B)/obj/%.o: %.c $(wildcard lib/*.h lib/include/*.h uapi/linux/*.h tools/kdl/*.h) | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -c -o $@ $<

$(B)/obj/%.o: %.S | deps
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) -c -o $@ $<

# In the build tree libkdl.so is the file and libkdl.so.0 a link to it;
# make install lays out libkdl.so.$(VERSION) with the two links.
$(B)/lib/libkdl.so: $(LIB_OBJS) lib/libkdl.map
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) $(LDFLAGS) -shared -Wl,-soname,libkdl.so.$(SOMAJOR) \
		-Wl,--version-script=lib/libkdl.map \
		-Wl,-z,defs -Wl,-z,now -Wl,-z,relro -o $@ $(LIB_OBJS) $(LDLIBS_LIB)
	ln -sf libkdl.so $(B)/lib/libkdl.so.$(SOMAJOR)

# The preload shim: tools/preload/, a library that links libkdl.
$(B)/lib/libkdl_preload.so: tools/preload/preload.c $(B)/lib/libkdl.so lib/include/kdl.h
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -fPIC -shared -o $@ $< -L$(B)/lib -lkdl $(RPATH_PRELOAD)

$(B)/lib/libkdl.a: $(LIB_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

# kdl cache reads entries with libkdl's own checks: lib/cache_entry.c (and
# the io.c and path.c it calls) linked in, as libkdl keeps them hidden.
KDL_LIB_OBJS := $(B)/obj/lib/cache_entry.o $(B)/obj/lib/cache_hash_avx2.o $(B)/obj/lib/io.o \
		$(B)/obj/lib/path.o
# The build tree's layout: bin/../lib is where make install puts libkdl.
# A package, whose libkdl is in the linker's default path, sets these
# empty.
RPATH_TOOL    ?= -Wl,-rpath,'$$ORIGIN/../lib'
RPATH_PRELOAD ?= -Wl,-rpath,'$$ORIGIN'
$(B)/tools/kdl: $(KDL_OBJS) $(KDL_LIB_OBJS) $(B)/lib/libkdl.so
	@mkdir -p $(@D)
	$(CC) $(SANFLAGS) $(LDFLAGS) -o $@ $(KDL_OBJS) $(KDL_LIB_OBJS) -L$(B)/lib -lkdl \
		$(RPATH_TOOL) -lz
$(B)/obj/tools/kdl/main.o: VERSION
$(B)/obj/tools/kdl/main.o: ALL_CFLAGS += -DKDL_VERSION='"$(VERSION)"'

# kselftest's headers, lib.mk and runner, extracted from linux-source-6.1.
include selftests/ksft.mk
$(KSFT_HDRS): | deps

$(B)/selftests/lib/%: selftests/lib/%.c $(wildcard selftests/lib/*.h) selftests/kdl_harness_main.h lib/include/kdl.h $(KSFT_HDRS) $(B)/lib/libkdl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Wno-sign-compare -Wno-unused-parameter -Wno-clobbered -I$(KSFT) -o $@ $< -L$(B)/lib -lkdl \
		-Wl,-rpath,'$$ORIGIN/../../lib' -lpthread -ldl

# The module tests are built by their own Makefile, in kselftest's lib.mk
# conventions (selftests/kmod/Makefile), into $(B)/selftests/kmod; the
# kselftest-install directory, $(B)/kselftest_install, is laid out as the
# kernel's "make -C tools/testing/selftests install" lays out its own:
# run_kselftest.sh, kselftest/runner.sh, kselftest-list.txt, kmod/.
KSFT_MAKE = $(MAKE) --no-print-directory -C selftests/kmod KSFT_DIR=$(KSFT_DIR) \
	OUTPUT=$(abspath $(B))/selftests/kmod USERCFLAGS="$(SANFLAGS)"
KSFT_INSTALL = $(B)/kselftest_install
ktests: $(KSFT_HDRS)
	@mkdir -p $(B)/selftests/kmod
	+@$(KSFT_MAKE) all

kselftest-install: ktests
	@rm -rf $(KSFT_INSTALL) && mkdir -p $(KSFT_INSTALL)/kselftest
	@install -m 755 $(KSFT)/run_kselftest.sh $(KSFT_INSTALL)/
	@install -m 755 $(KSFT)/kselftest/runner.sh $(KSFT)/kselftest/prefix.pl $(KSFT_INSTALL)/kselftest/
	+@$(KSFT_MAKE) -s INSTALL_PATH=$(abspath $(KSFT_INSTALL))/kmod install
	+@$(KSFT_MAKE) -s COLLECTION=kmod emit_tests >$(KSFT_INSTALL)/kselftest-list.txt

# The GL example and test share the offscreen render.
$(B)/examples/egl_namespace $(B)/selftests/lib/real_egl_test: examples/gles_render.h

# The program selftests/tools/kdl_gdb.bats runs under gdb.
$(B)/selftests/tools/gdb_target: selftests/tools/gdb_target.c lib/include/kdl.h $(B)/lib/libkdl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B)/lib -lkdl -Wl,-rpath,'$$ORIGIN/../../lib'
tests: $(B)/selftests/tools/gdb_target

$(B)/examples/%: examples/%.c $(B)/lib/libkdl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B)/lib -lkdl -Wl,-rpath,'$$ORIGIN/../lib'

module: | deps
	@if [ -d "$(KDIR)" ]; then \
		$(MAKE) -C $(KDIR) M=$(CURDIR) modules >$(B).kbuild.log 2>&1 || \
		{ cat $(B).kbuild.log; exit 1; }; \
	else echo "module: no kernel build tree at $(KDIR), skipped"; fi

# check: the host suite, the host suite again on an ASan/UBSan build, the
# threaded library tests on a TSan build, then the VM suite; one summary
# line for all four.
check: all
	@$(MAKE) --no-print-directory SAN=1 lib tools tests >build-san.log 2>&1 || \
		{ cat build-san.log; exit 1; }
	@$(MAKE) --no-print-directory TSAN=1 tsan-tests >build-tsan.log 2>&1 || \
		{ cat build-tsan.log; exit 1; }
	@tools/check.sh $(B) "host san tsan vm"

check-san:
	@$(MAKE) --no-print-directory SAN=1 lib tools tests
	@tools/check.sh $(B) san

# The library tests that start threads (their source calls pthread_create;
# selftests/run.sh picks the same ones), for the tsan suite.  They load
# the main build's fixtures (KDL_FIXTURES_DIR, set by tools/check.sh),
# which no sanitizer changes.
TSAN_TESTS := $(patsubst selftests/lib/%.c,$(B)/selftests/lib/%,\
	$(shell grep -l pthread_create selftests/lib/*_test.c))
.PHONY: tsan-tests check-tsan
tsan-tests: $(TSAN_TESTS)

check-tsan: fixtures
	@$(MAKE) --no-print-directory TSAN=1 tsan-tests
	@tools/check.sh $(B) tsan

check-host: deps lib tools tests
	@tools/check.sh $(B) host

# KO=PATH boots the VM with another kdl.ko (the one DKMS built, say).
check-vm: all
	@KDL_KO=$(KO) tools/check.sh $(B) vm

# The VM suite on a debug kernel (KASAN, lockdep, KFENCE, UBSAN, kmemleak;
# not part of check): tools/vm/debug-kernel.sh builds the kernel once into
# a cache outside the tree, and kdl.ko against it each time.
# check-vm-debug-negative proves that a broken kdl.ko fails the run.
.PHONY: debug-kernel check-vm-debug check-vm-debug-negative
debug-kernel: | deps
	@tools/vm/debug-kernel.sh >/dev/null

check-vm-debug: deps lib tools tests
	@tools/check.sh $(B) vm-debug

check-vm-debug-negative: deps ktests
	@tools/vm/debug-negative.sh $(B)

# The ioctl stress alone at its full 10^5 requests on Debian's kernel
# (make check runs 20000 of them, check-vm-debug 8000 on the debug kernel;
# KDL_STRESS_REQUESTS and KDL_STRESS_SEED pass through).
.PHONY: check-vm-stress
check-vm-stress: all
	tools/vm/run.sh --timeout 1500 --out $(B)/vm-stress -- env \
		KDL_STRESS_REQUESTS=$${KDL_STRESS_REQUESTS:-100000} \
		$${KDL_STRESS_SEED:+KDL_STRESS_SEED=$$KDL_STRESS_SEED} \
		$(abspath $(B))/selftests/kmod/stress_test

demo: all
	@tools/demo.sh $(B)

# The corpus check (not part of check): every shared object under
# /usr/lib/x86_64-linux-gnu that glibc's dlopen loads, loaded by kdl_open
# in a fresh process each (tools/corpus/run.sh; CORPUS_ARGS passes options).
# corpus-vm does it in the VM on the kernel backend, every
# CORPUS_VM_SAMPLE-th library (1: all).
CORPUS_VM_SAMPLE ?= 1
.PHONY: corpus corpus-vm
$(B)/tools/corpus/probe: tools/corpus/probe.c lib/include/kdl.h $(B)/lib/libkdl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B)/lib -lkdl -Wl,-rpath,'$$ORIGIN/../../lib' -ldl

corpus: $(B)/tools/corpus/probe
	tools/corpus/run.sh --build $(B) $(CORPUS_ARGS)

corpus-vm: $(B)/tools/corpus/probe
	@[ -f kmod/kdl.ko ] || { echo "corpus-vm: kmod/kdl.ko was not built" >&2; exit 1; }
	KDL_BACKEND=kernel tools/vm/run.sh --timeout 3000 --out $(B)/vm-corpus -- \
		tools/corpus/run.sh --build $(B) --out /tmp/corpus \
		--sample $(CORPUS_VM_SAMPLE) $(CORPUS_ARGS)

# Benchmark of libkdl against glibc's loader on real libraries (not a
# test): first load in fresh processes, warm open+close, kdl_sym vs dlsym.
.PHONY: bench
$(B)/bench/open_bench: bench/open_bench.c bench/bench_util.h $(B)/lib/libkdl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B)/lib -lkdl -Wl,-rpath,'$$ORIGIN/../lib' -ldl

# cold_load: one first load (kdl or glibc) with callgrind collecting only
# around it, for counting instructions:
#   valgrind --tool=callgrind --collect-atstart=no $(B)/bench/cold_load kdl LIB
$(B)/bench/cold_load: bench/cold_load.c bench/bench_util.h $(B)/lib/libkdl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B)/lib -lkdl -Wl,-rpath,'$$ORIGIN/../lib' -ldl

# sources_bench: container loads vs extract + dlopen, kdl_memopen vs the
# memfd trick; packs its container with the kdl tool.
$(B)/bench/sources_bench: bench/sources_bench.c bench/bench_util.h $(B)/lib/libkdl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B)/lib -lkdl -Wl,-rpath,'$$ORIGIN/../lib' -ldl

# cache_bench: glibc vs kdl cold (KDL_CACHE=0) vs kdl from the relocation
# cache (KDL_CACHE=ro, primed in a private XDG_CACHE_HOME): time, faults,
# callgrind instructions (-I: off), Private_Dirty.
$(B)/bench/cache_bench: bench/cache_bench.c bench/bench_util.h $(B)/lib/libkdl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B)/lib -lkdl -Wl,-rpath,'$$ORIGIN/../lib' -ldl

# hash_bench: the cache's checksum against zlib's (Documentation/reloc-cache.md).
$(B)/bench/hash_bench: bench/hash_bench.c lib/cache_hash_avx2.c lib/cache_entry.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Ilib -o $@ $< lib/cache_hash_avx2.c -lz

# ns_bench: libpng+libz in N = 10..10000 namespaces, each N in a fresh
# process: load, lookup, destroy per namespace while N exist, Private_Dirty
# per namespace, against glibc's dlmopen(LM_ID_NEWLM) as far as it goes.
# As root it raises vm.max_map_count for the run (-k: not) and restores it.
$(B)/bench/ns_bench: bench/ns_bench.c bench/bench_util.h $(B)/lib/libkdl.so
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -L$(B)/lib -lkdl -Wl,-rpath,'$$ORIGIN/../lib' -ldl

.PHONY: bench-ns
bench-ns: $(B)/bench/ns_bench
	$(B)/bench/ns_bench $(NS_BENCH_ARGS)

bench: $(B)/bench/open_bench $(B)/bench/sources_bench $(B)/bench/cold_load $(B)/bench/cache_bench \
		$(B)/bench/hash_bench $(B)/bench/ns_bench $(B)/tools/kdl
	$(B)/bench/open_bench
	$(B)/bench/sources_bench -k $(abspath $(B))/tools/kdl
	$(B)/bench/cache_bench
	$(B)/bench/hash_bench
	$(B)/bench/ns_bench $(NS_BENCH_ARGS)

# Benchmark of kdl.ko (not a test): runs in the VM, prints time and
# syscalls per image.
$(B)/bench/kmod_%: bench/kmod_%.c uapi/linux/kdl.h | deps
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< -luring

bench-kmod: module $(B)/bench/kmod_map_bench $(B)/bench/cache_bench
	tools/vm/run.sh --timeout 1800 -- env BUILD=$(abspath $(B)) bench/kmod_backends.sh

vm-shell: all
	tools/vm/run.sh --shell

# install: the library, headers, kdl.pc, the tool, the shim and man pages
# (install-user), then kdl.ko with its udev rule if it was built
# (install-module, which runs depmod).
install: install-user install-module

$(B)/kdl.pc: lib/kdl.pc.in VERSION
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< >$@

install-user: lib tools $(B)/kdl.pc
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR)/linux $(DESTDIR)$(BINDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(PRELOADDIR)
	install -m 755 $(B)/lib/libkdl.so $(DESTDIR)$(LIBDIR)/libkdl.so.$(VERSION)
	ln -sf libkdl.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libkdl.so.$(SOMAJOR)
	ln -sf libkdl.so.$(SOMAJOR) $(DESTDIR)$(LIBDIR)/libkdl.so
	install -m 644 $(B)/lib/libkdl.a $(DESTDIR)$(LIBDIR)/libkdl.a
	install -m 644 $(B)/kdl.pc $(DESTDIR)$(PKGCONFIGDIR)/kdl.pc
	install -m 644 $(B)/lib/libkdl_preload.so $(DESTDIR)$(PRELOADDIR)/libkdl_preload.so
	install -m 644 lib/include/kdl.h $(DESTDIR)$(INCLUDEDIR)/kdl.h
	install -m 644 uapi/linux/kdl.h $(DESTDIR)$(INCLUDEDIR)/linux/kdl.h
	install -m 755 $(B)/tools/kdl $(DESTDIR)$(BINDIR)/kdl
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man4
	install -m 644 Documentation/man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 Documentation/man/*.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 644 Documentation/man/*.4 $(DESTDIR)$(MANDIR)/man4/

# The module for $(KVER), the udev rule and the kdl group it names; depmod
# with -b when staging into DESTDIR.
install-module:
	@if [ ! -f kmod/kdl.ko ]; then echo "install-module: kmod/kdl.ko was not built, skipped"; \
	else \
		install -d $(DESTDIR)/lib/modules/$(KVER)/extra $(DESTDIR)$(UDEVRULESDIR) && \
		install -m 644 kmod/kdl.ko $(DESTDIR)/lib/modules/$(KVER)/extra/kdl.ko && \
		install -m 644 kmod/60-kdl.rules $(DESTDIR)$(UDEVRULESDIR)/60-kdl.rules && \
		depmod $(if $(DESTDIR),-b $(DESTDIR)) $(KVER) && \
		if [ -z "$(DESTDIR)" ] && ! getent group kdl >/dev/null; then \
			groupadd --system kdl; fi; \
	fi

# The Debian packages (debian/), built from a copy of the tree's files
# (those git tracks or would) in $(B)/deb, where the .debs land, then
# checked by lintian; check-deb installs them in the VM and tries them.
DEB_DIR = $(B)/deb
DEB_SRC = $(DEB_DIR)/kdl-$(VERSION)
.PHONY: deb check-deb
deb: | deps
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_SRC)
	git ls-files -co --exclude-standard -z | tar --null -T - -cf - | tar -xf - -C $(DEB_SRC)
	cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc >../build.log 2>&1 || \
		{ tail -n 40 ../build.log; exit 1; }
	ls $(DEB_DIR)/*.deb
	lintian --tag-display-limit 0 $(DEB_DIR)/*.changes | tee $(DEB_DIR)/lintian.log; \
		! grep -q '^E: ' $(DEB_DIR)/lintian.log

check-deb: deb
	@tools/check.sh $(B) deb

# DKMS from a source tree: the module's sources copied to /usr/src/kdl-$(VERSION)
# (what dkms add . would copy, without the build directories), then
# built and installed for $(KVER).
DKMS_FILES = dkms.conf VERSION Kbuild kmod/Kbuild kmod/Kconfig $(wildcard kmod/*.c kmod/*.h) \
	kmod/60-kdl.rules uapi/linux/kdl.h
.PHONY: dkms-install dkms-remove
dkms-install:
	rm -rf $(DESTDIR)/usr/src/kdl-$(VERSION)
	install -d $(DESTDIR)/usr/src/kdl-$(VERSION)
	tar -cf - $(DKMS_FILES) | tar -xf - -C $(DESTDIR)/usr/src/kdl-$(VERSION)
	@if [ -z "$(DESTDIR)" ]; then \
		dkms add kdl/$(VERSION) && dkms build kdl/$(VERSION) -k $(KVER) && \
		dkms install kdl/$(VERSION) -k $(KVER); fi

dkms-remove:
	dkms remove kdl/$(VERSION) --all
	rm -rf /usr/src/kdl-$(VERSION)

clean:
	rm -rf build build-san build.kbuild.log build-san.kbuild.log build-san.log \
		build-tsan build-tsan.log build-deb
	@if [ -d "$(KDIR)" ]; then $(MAKE) -C $(KDIR) M=$(CURDIR) clean >/dev/null; fi

# libFuzzer targets over what parses untrusted bytes (clang), one per file
# in selftests/fuzz/, each linked with the library's sources.
FUZZERS := $(patsubst selftests/fuzz/%.c,$(B)/fuzz/%,$(wildcard selftests/fuzz/*.c))
$(B)/fuzz/%: selftests/fuzz/%.c $(LIB_SRCS) $(LIB_ASM) $(wildcard lib/*.h lib/include/*.h) | deps
	@mkdir -p $(@D)
	clang -std=gnu11 -g -O1 $(WARN) -Wno-unused-command-line-argument -D_GNU_SOURCE \
		-Iuapi -Ilib/include -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -o $@ $< $(LIB_SRCS) $(LIB_ASM) -lpthread -ldl
fuzz: $(FUZZERS)
tests: $(FUZZERS)
.PHONY: fuzz

# A long campaign (not part of check): each target FUZZ_TIME seconds on a
# copy of selftests/fuzz/corpus/, FUZZ_JOBS at once; FUZZ_MERGE=1 merges
# what raised coverage back into the tree (tools/fuzz-long.sh).
FUZZ_TIME ?= 600
.PHONY: fuzz-long
fuzz-long: $(FUZZERS)
	FUZZ_TIME=$(FUZZ_TIME) FUZZ_JOBS=$(FUZZ_JOBS) FUZZ_MERGE=$(FUZZ_MERGE) \
		FUZZ_MERGE_ARGS="$(FUZZ_MERGE_ARGS)" tools/fuzz-long.sh $(B)
