/*
 * real_expat_test.c - Debian's libexpat.so.1 loaded with kdl: a document
 * parsed with callbacks into the test (element, attribute and text
 * counts), and a malformed one reported with line and message, the same
 * as through glibc's copy.
 */
#include <expat.h>

#include "kdl_test.h"
#include "kselftest_harness.h"

#define XAPI(X) X(XML_ExpatVersion) X(XML_ParserCreate) X(XML_ParserFree) \
	X(XML_SetElementHandler) X(XML_SetCharacterDataHandler) \
	X(XML_SetUserData) X(XML_Parse) X(XML_GetErrorCode) X(XML_ErrorString) \
	X(XML_GetCurrentLineNumber)

struct xapi {
	XAPI(KT_API_FIELD)
};

static int xbind(struct xapi *api, void *h, kt_lookup_fn lookup, const char **missing)
{
	XAPI(KT_API_BIND)
	return 0;
}

struct tally {
	int starts, ends, attrs, depth, max_depth;
	long text;
};

static void on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct tally *t = ud;

	t->starts++;
	for (; atts[0]; atts += 2)
		t->attrs++;
	if (++t->depth > t->max_depth)
		t->max_depth = t->depth;
}

static void on_end(void *ud, const XML_Char *name)
{
	struct tally *t = ud;

	t->ends++;
	t->depth--;
}

static void on_text(void *ud, const XML_Char *s, int len)
{
	((struct tally *)ud)->text += len;
}

static char *make_doc(size_t *len)
{
	size_t cap = 256 * 1024, n = 0;
	char *doc = malloc(cap);

	n += snprintf(doc + n, cap - n, "<?xml version=\"1.0\"?>\n<libs>\n");
	for (int i = 0; i < 500; i++)
		n += snprintf(doc + n, cap - n,
			      "  <lib id=\"%d\" kind=\"%s\"><name>libfx_%d.so</name>"
			      "<deps><dep n=\"%d\"/></deps></lib>\n",
			      i, i % 2 ? "odd" : "even", i, i * 3);
	n += snprintf(doc + n, cap - n, "</libs>\n");
	*len = n;
	return doc;
}

static int parse(const struct xapi *x, const char *doc, size_t len, struct tally *t,
		 char *err, size_t errsz)
{
	XML_Parser p = x->XML_ParserCreate(NULL);
	int ok;

	memset(t, 0, sizeof(*t));
	x->XML_SetUserData(p, t);
	x->XML_SetElementHandler(p, on_start, on_end);
	x->XML_SetCharacterDataHandler(p, on_text);
	ok = x->XML_Parse(p, doc, len, 1) == XML_STATUS_OK;
	if (!ok)
		snprintf(err, errsz, "line %lu: %s",
			 (unsigned long)x->XML_GetCurrentLineNumber(p),
			 x->XML_ErrorString(x->XML_GetErrorCode(p)));
	x->XML_ParserFree(p);
	return ok;
}

TEST(parse_with_callbacks_matches_glibc)
{
	void *h = KDL_OPEN_OK("libexpat.so.1", RTLD_NOW), *g = DL_OPEN_OK("libexpat.so.1");
	struct xapi k, d;
	struct tally kt, dt;
	size_t len;
	char *doc = make_doc(&len), err[128];

	KT_BIND_OK(xbind, &k, h, kt_kdl_lookup);
	KT_BIND_OK(xbind, &d, g, kt_dl_lookup);
	EXPECT_SEPARATE_COPY(k.XML_Parse, d.XML_Parse);
	EXPECT_STREQ(d.XML_ExpatVersion(), k.XML_ExpatVersion());
	ASSERT_TRUE(parse(&k, doc, len, &kt, err, sizeof(err)));
	ASSERT_TRUE(parse(&d, doc, len, &dt, err, sizeof(err)));
	EXPECT_EQ(1 + 500 * 4, kt.starts);
	EXPECT_EQ(kt.starts, kt.ends);
	EXPECT_EQ(500 * 3, kt.attrs);
	EXPECT_EQ(4, kt.max_depth);
	EXPECT_EQ(0, memcmp(&kt, &dt, sizeof(kt)));
	free(doc);
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST(malformed_document_reports_the_same_error)
{
	static const char bad[] = "<a>\n<b></a>\n";
	void *h = KDL_OPEN_OK("libexpat.so.1", RTLD_NOW), *g = DL_OPEN_OK("libexpat.so.1");
	struct xapi k, d;
	struct tally t;
	char kerr[128] = "", derr[128] = "";

	KT_BIND_OK(xbind, &k, h, kt_kdl_lookup);
	KT_BIND_OK(xbind, &d, g, kt_dl_lookup);
	EXPECT_FALSE(parse(&k, bad, strlen(bad), &t, kerr, sizeof(kerr)));
	EXPECT_FALSE(parse(&d, bad, strlen(bad), &t, derr, sizeof(derr)));
	TH_LOG("%s", kerr);
	EXPECT_STREQ(derr, kerr);
	EXPECT_NE(NULL, strstr(kerr, "line 2"));
	dlclose(g);
	EXPECT_EQ(0, kdl_close(h));
}

TEST_HARNESS_MAIN
