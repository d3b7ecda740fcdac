# ksft.mk - extracts kselftest's headers, lib.mk and runner into $(KSFT_DIR)
# from Debian's linux-source-6.1 (never committed: kernel code stays in
# the kernel's tarball).  Included by the top Makefile and by
# selftests/kmod/Makefile, which sets KSFT_DIR itself when run alone.
KSFT_TARBALL ?= /usr/src/linux-source-6.1.tar.xz
KSFT_FILES := kselftest.h kselftest_harness.h lib.mk run_kselftest.sh \
	kselftest/runner.sh kselftest/prefix.pl

$(KSFT_DIR)/.extracted:
	@mkdir -p $(KSFT_DIR)
	tar -xJf $(KSFT_TARBALL) -C $(KSFT_DIR) --strip-components=4 \
		$(addprefix linux-source-6.1/tools/testing/selftests/,$(KSFT_FILES))
	@touch $@

$(addprefix $(KSFT_DIR)/,$(KSFT_FILES)): $(KSFT_DIR)/.extracted ;
