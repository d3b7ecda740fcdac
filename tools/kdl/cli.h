/* cli.h - subcommands of the kdl command. */
#ifndef KDL_CLI_H
#define KDL_CLI_H

#include <stddef.h>

struct kdl_cmd {
	const char *name;
	const char *help;
	int (*fn)(int argc, char **argv);
};

int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_ldd(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_cache(int argc, char **argv);

/* The handles a walk of a dependency tree has met, each once (a tree
 * larger than KDL_SEEN_MAX is cut short). */
#define KDL_SEEN_MAX 1024
struct kdl_seen {
	void *h[KDL_SEEN_MAX];
	size_t n;
};

/* 1 if @h was met before (or the set is full), else adds it and 0. */
static inline int kdl_seen(struct kdl_seen *s, void *h)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->h[i] == h)
			return 1;
	if (s->n == KDL_SEEN_MAX)
		return 1;
	s->h[s->n++] = h;
	return 0;
}

/* ns_opts.c: --ns NAME, --isolated, --shared, --library-path DIRS,
 * --permitted DIRS, --share SONAMES, --link-default SONAMES, --window
 * LO:HI, --mirror BASE before the operands. */
#include "kdl.h"
struct ns_opts {
	struct kdl_ns_config cfg;
	const char *link_default;
	int wanted;		/* any option given: load into a namespace */
	struct kdl_ns *ns;	/* ns_opts_make()'s, or NULL: the default */
};
/* Index of the first operand, or -1 after a message. */
int ns_opts_parse(int argc, char **argv, struct ns_opts *o);
int ns_opts_make(struct ns_opts *o);
/* The name of @h's namespace. */
const char *ns_name_of(void *h);

/* pack_check.c: "kdl pack --check ZIP"; exit status 0, 1 or 2. */
int pack_check(const char *zip);

/* static_tls.c: when @err says glibc's static TLS surplus is exhausted,
 * exec the command line @argv again with the surplus raised; returns
 * only when that cannot help. */
void static_tls_retry(char **argv, const char *err);

#endif
