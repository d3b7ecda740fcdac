/* zipfmt.h - zip record layouts shared by "kdl pack" and "kdl pack --check".
 *
 * Facts from the PKWARE APPNOTE (6.3.x), section 4.3: local header (30 bytes
 * + name + extra, data follows), central directory header (46 + name +
 * extra + comment), end of central directory record (EOCD, 22 + comment),
 * zip64 EOCD record (56) and its locator (20) just before the EOCD.  All
 * integers are little-endian.  A 16/32-bit field holding its all-ones value
 * means "see the zip64 extra field (id 0x0001)", which holds, in this order
 * and only for the fields that overflowed, the uncompressed size, the
 * compressed size and the local header offset.
 */
#ifndef KDL_ZIPFMT_H
#define KDL_ZIPFMT_H

#include <stdint.h>

#define ZIP_SIG_LOCAL	0x04034b50u
#define ZIP_SIG_CENTRAL	0x02014b50u
#define ZIP_SIG_EOCD	0x06054b50u
#define ZIP_SIG_EOCD64	0x06064b50u
#define ZIP_SIG_LOC64	0x07064b50u

#define ZIP_LOCAL_LEN	30
#define ZIP_CENTRAL_LEN	46
#define ZIP_EOCD_LEN	22
#define ZIP_EOCD64_LEN	56
#define ZIP_LOC64_LEN	20
#define ZIP_MAX_COMMENT	65535

#define ZIP_EXTRA_ZIP64	0x0001
#define ZIP_EXTRA_ALIGN	0xd935	/* Android's zipalign: u16 alignment, then zero padding */

#define ZIP_METHOD_STORE	0
#define ZIP_METHOD_DEFLATE	8
#define ZIP_FLAG_ENCRYPTED	0x0001
#define ZIP_FLAG_UTF8		0x0800

#define ZIP_MAX16	0xffffu
#define ZIP_MAX32	0xffffffffu

/* The page size a zero-copy load needs data offsets aligned to. */
#define ZIP_PAGE	4096u

static inline uint16_t zip_get16(const unsigned char *p)
{
	return p[0] | p[1] << 8;
}

static inline uint32_t zip_get32(const unsigned char *p)
{
	return zip_get16(p) | (uint32_t)zip_get16(p + 2) << 16;
}

static inline uint64_t zip_get64(const unsigned char *p)
{
	return zip_get32(p) | (uint64_t)zip_get32(p + 4) << 32;
}

static inline unsigned char *zip_put16(unsigned char *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	return p + 2;
}

static inline unsigned char *zip_put32(unsigned char *p, uint32_t v)
{
	return zip_put16(zip_put16(p, v), v >> 16);
}

static inline unsigned char *zip_put64(unsigned char *p, uint64_t v)
{
	return zip_put32(zip_put32(p, v), v >> 32);
}

/* 1 if an entry named @name is a shared object: "x.so" or "x.so.N...". */
int zip_name_is_shared_object(const char *name);

#endif
