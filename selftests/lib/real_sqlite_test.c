/*
 * real_sqlite_test.c - Debian's libsqlite3.so.0 (needs libm: bound to the
 * process's copy) loaded with kdl: an in-memory database, inserts through
 * a prepared statement, an aggregating SELECT, a C callback registered as
 * an SQL function; results compared with the copy glibc loads.
 */
#include <sqlite3.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

#define SQAPI(X) X(sqlite3_libversion) X(sqlite3_open) X(sqlite3_close) \
	X(sqlite3_exec) X(sqlite3_prepare_v2) X(sqlite3_bind_int) \
	X(sqlite3_bind_text) X(sqlite3_step) X(sqlite3_reset) \
	X(sqlite3_finalize) X(sqlite3_column_text) X(sqlite3_column_count) \
	X(sqlite3_errmsg) X(sqlite3_create_function) X(sqlite3_value_int) \
	X(sqlite3_result_int) X(sqlite3_free)

struct sqapi {
	SQAPI(KT_API_FIELD)
};

static int sqbind(struct sqapi *api, void *h, kt_lookup_fn lookup, const char **missing)
{
	SQAPI(KT_API_BIND)
	return 0;
}

/* Builds a table of 1000 rows and prints an aggregate query into out. */
static int run_workload(const struct sqapi *q, char *out, size_t outsz)
{
	static const char *const names[] = { "ann", "bob", "cyd", "dee", "eve" };
	sqlite3 *db;
	sqlite3_stmt *st;
	size_t len = 0;
	int rc;

	if (q->sqlite3_open(":memory:", &db) != SQLITE_OK)
		return -1;
	rc = q->sqlite3_exec(db, "CREATE TABLE t(a INTEGER, name TEXT);"
			     "BEGIN;", NULL, NULL, NULL);
	if (rc == SQLITE_OK)
		rc = q->sqlite3_prepare_v2(db, "INSERT INTO t VALUES(?, ?)", -1, &st, NULL);
	for (int i = 0; rc == SQLITE_OK && i < 1000; i++) {
		q->sqlite3_bind_int(st, 1, i * 7 % 1000);
		q->sqlite3_bind_text(st, 2, names[i % 5], -1, SQLITE_STATIC);
		if (q->sqlite3_step(st) != SQLITE_DONE)
			rc = SQLITE_ERROR;
		q->sqlite3_reset(st);
	}
	if (rc == SQLITE_OK) {
		q->sqlite3_finalize(st);
		rc = q->sqlite3_exec(db, "COMMIT;", NULL, NULL, NULL);
	}
	if (rc == SQLITE_OK)
		rc = q->sqlite3_prepare_v2(db,
			"SELECT name, count(*), sum(a), printf('%.3f', avg(a)), "
			"max(a) FROM t GROUP BY name ORDER BY name", -1, &st, NULL);
	while (rc == SQLITE_OK && q->sqlite3_step(st) == SQLITE_ROW) {
		for (int c = 0; c < q->sqlite3_column_count(st); c++)
			len += snprintf(out + len, outsz - len, "%s%s",
					(const char *)q->sqlite3_column_text(st, c),
					c + 1 < q->sqlite3_column_count(st) ? "|" : "\n");
		if (len >= outsz)
			break;
	}
	if (rc == SQLITE_OK)
		q->sqlite3_finalize(st);
	q->sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

FIXTURE(sqlite) {
	void *h, *g;
	struct sqapi k, d;
};

FIXTURE_SETUP(sqlite)
{
	self->h = KDL_OPEN_OK("libsqlite3.so.0", RTLD_NOW);
	KT_BIND_OK(sqbind, &self->k, self->h, kt_kdl_lookup);
	self->g = DL_OPEN_OK("libsqlite3.so.0");
	KT_BIND_OK(sqbind, &self->d, self->g, kt_dl_lookup);
}

FIXTURE_TEARDOWN(sqlite)
{
	if (self->g)
		dlclose(self->g);
	if (self->h)
		EXPECT_EQ(0, kdl_close(self->h));
}

TEST_F(sqlite, loaded_its_own_copy)
{
	EXPECT_SEPARATE_COPY(self->k.sqlite3_open, self->d.sqlite3_open);
	EXPECT_STREQ(self->d.sqlite3_libversion(), self->k.sqlite3_libversion());
}

TEST_F(sqlite, aggregate_query_matches_glibc)
{
	char kout[1024] = "", dout[1024] = "";

	ASSERT_EQ(0, run_workload(&self->k, kout, sizeof(kout)));
	ASSERT_EQ(0, run_workload(&self->d, dout, sizeof(dout)));
	TH_LOG("result:\n%s", kout);
	EXPECT_STREQ(dout, kout);
	/* 200 rows per name; a = i*7 % 1000 covers 0..999 once */
	EXPECT_NE(NULL, strstr(kout, "ann|200|"));
	EXPECT_NE(NULL, strstr(kout, "eve|200|"));
}

/* The API the callback must use: the copy that is calling it. */
static const struct sqapi *cb_api;
static int cb_calls;

static void twice(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	cb_calls++;
	cb_api->sqlite3_result_int(ctx, 2 * cb_api->sqlite3_value_int(argv[0]));
}

static int collect(void *arg, int ncol, char **vals, char **names)
{
	snprintf(arg, 64, "%s", vals[0] ? vals[0] : "NULL");
	return 0;
}

TEST_F(sqlite, sql_calls_back_into_the_test)
{
	sqlite3 *db;
	char out[64] = "";

	cb_api = &self->k;
	ASSERT_EQ(SQLITE_OK, self->k.sqlite3_open(":memory:", &db));
	ASSERT_EQ(SQLITE_OK, self->k.sqlite3_create_function(db, "twice", 1,
			SQLITE_UTF8 | SQLITE_DETERMINISTIC, NULL, twice, NULL, NULL));
	ASSERT_EQ(SQLITE_OK, self->k.sqlite3_exec(db,
			"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM n "
			"WHERE x < 100) SELECT sum(twice(x)) FROM n", collect, out, NULL));
	EXPECT_STREQ("10100", out);
	EXPECT_EQ(100, cb_calls);
	self->k.sqlite3_close(db);
}

TEST_F(sqlite, errors_come_back_as_messages)
{
	sqlite3 *db;
	char *err = NULL;

	ASSERT_EQ(SQLITE_OK, self->k.sqlite3_open(":memory:", &db));
	EXPECT_EQ(SQLITE_ERROR, self->k.sqlite3_exec(db, "SELEC 1", NULL, NULL, &err));
	ASSERT_NE(NULL, err);
	EXPECT_NE(NULL, strstr(err, "syntax error"));
	self->k.sqlite3_free(err);
	self->k.sqlite3_close(db);
}

TEST_HARNESS_MAIN
