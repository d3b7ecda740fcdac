/*
 * probe.c - one step of the corpus check (tools/corpus/run.sh):
 *
 *   probe glibc PATH    dlopen(PATH, RTLD_NOW)
 *   probe kdl PATH      kdl_open(PATH, RTLD_NOW, NULL)
 *   probe elf PATH...   print the PATHs that are x86-64 ELF shared objects
 *
 * A load exits 0 when it succeeds, 3 with the loader's message on stderr
 * (one line, "probe: <message>") when it is refused: 3, because 1 is what
 * constructors that give up call exit with.  The process ends with
 * _exit right after the load: what is checked is the load and the
 * constructors, not what the library's destructors do at exit.
 */
#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kdl.h"

static int is_shared_object(const char *path)
{
	Elf64_Ehdr eh;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = pread(fd, &eh, sizeof(eh), 0);
	close(fd);
	return n == sizeof(eh) && !memcmp(eh.e_ident, ELFMAG, SELFMAG) &&
	       eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_machine == EM_X86_64 &&
	       eh.e_type == ET_DYN;
}

static void fail(const char *msg)
{
	/* one line: the driver greps the last "probe: " line */
	fprintf(stderr, "\nprobe: ");
	for (; msg && *msg; msg++)
		fputc(*msg == '\n' ? ' ' : *msg, stderr);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(3);
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "elf")) {
		for (int i = 2; i < argc; i++)
			if (is_shared_object(argv[i]))
				printf("%s\n", argv[i]);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "glibc") && strcmp(argv[1], "kdl"))) {
		fprintf(stderr, "usage: probe glibc|kdl PATH | probe elf PATH...\n");
		return 2;
	}
	if (!strcmp(argv[1], "glibc")) {
		if (!dlopen(argv[2], RTLD_NOW))
			fail(dlerror());
	} else {
		if (!kdl_open(argv[2], RTLD_NOW, NULL))
			fail(kdl_error());
	}
	fflush(stdout);
	_exit(0);
}
