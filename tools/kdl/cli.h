/* cli.h - subcommands of the kdl command. */
#ifndef KDL_CLI_H
#define KDL_CLI_H

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

/* pack_check.c: "kdl pack --check ZIP"; exit status 0, 1 or 2. */
int pack_check(const char *zip);

/* static_tls.c: when @err says glibc's static TLS surplus is exhausted,
 * exec the command line @argv again with the surplus raised; returns
 * only when that cannot help. */
void static_tls_retry(char **argv, const char *err);

#endif
