/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for proto/nvme_tcp_pdu: received-header validation as a table
 * of (header, negotiated limits, expected shape or FES/FEI), the header
 * digest check, and the PDU builders compared byte by byte with images
 * written out from the NVMe/TCP 1.0 layouts.  TAP output.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/crc32c.h"
#include "proto/nvme_tcp_pdu.h"
#include "tests/unit/tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Bit-at-a-time CRC32C, so expected digests do not come from the code
 * under test. */
static uint32_t ref_crc32c(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	uint32_t crc = ~0u;

	while (len--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (crc >> 1) ^ (0x82F63B78u & -(crc & 1));
	}
	return ~crc;
}

static void put_le32_at(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* First differing offset, or -1; reported as a TAP diagnostic. */
static long first_diff(const uint8_t *got, const uint8_t *want, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (got[i] != want[i])
			return (long)i;
	return -1;
}

static void diag_diff(const uint8_t *got, const uint8_t *want, long at)
{
	if (at >= 0)
		printf("# first difference at byte %ld: got 0x%02x, want 0x%02x\n",
		       at, got[at], want[at]);
}

/* ---- 1. nvme_tcp_check_hdr ------------------------------------------------ */

/* CID as it sits in an SQE: opaque bytes, copied back unchanged. */
static uint16_t raw_cid(uint8_t lo, uint8_t hi)
{
	uint8_t b[2] = { lo, hi };
	uint16_t v;

	memcpy(&v, b, sizeof(v));
	return v;
}

enum { EXPECT_OK, EXPECT_ERR };

struct hdr_case {
	const char	*name;
	uint8_t		type, flags, hlen, pdo;
	uint32_t	plen;
	struct nvme_tcp_rx_limits lim;
	int		expect;
	uint32_t	hdr_len, data_len;	/* EXPECT_OK */
	uint16_t	fes;			/* EXPECT_ERR */
	uint32_t	fei;
};

#define MAX_INLINE	8192u
#define MAXH2C		32768u

/* Before ICReq; after it without digests, with both, with only one. */
#define L_INIT	{ .expect_icreq = true, .max_inline = MAX_INLINE, .maxh2cdata = MAXH2C }
#define L_PLAIN	{ .max_inline = MAX_INLINE, .maxh2cdata = MAXH2C }
#define L_HD	{ .hdgst = true, .max_inline = MAX_INLINE, .maxh2cdata = MAXH2C }
#define L_DD	{ .ddgst = true, .max_inline = MAX_INLINE, .maxh2cdata = MAXH2C }
#define L_BOTH	{ .hdgst = true, .ddgst = true, .max_inline = MAX_INLINE, .maxh2cdata = MAXH2C }

#define OK(h, d)	.expect = EXPECT_OK, .hdr_len = (h), .data_len = (d)
#define ERR(s, i)	.expect = EXPECT_ERR, .fes = (s), .fei = (i)

/* FEI (NVMe TCP 1.0, C2HTermReq): the field's byte offset for FES 01h and
 * 06h, the header digest for 03h, reserved (0) for 02h, 04h and 05h. */
#define FEI_TYPE	0
#define FEI_FLAGS	1
#define FEI_HLEN	2
#define FEI_PDO		3
#define FEI_PLEN	4
#define FEI_RSVD	0

#define F_H	NVME_TCP_F_HDGST
#define F_D	NVME_TCP_F_DDGST
#define F_LAST	NVME_TCP_F_DATA_LAST

static const struct hdr_case hdr_cases[] = {
	/* ICReq: HLEN = PLEN = 128, PDO 0, first and only once */
	{ "ICReq valid", 0x00, 0, 128, 0, 128, L_INIT, OK(128, 0) },
	{ "ICReq PLEN 132", 0x00, 0, 128, 0, 132, L_INIT, ERR(1, FEI_PLEN) },
	{ "ICReq PLEN 127", 0x00, 0, 128, 0, 127, L_INIT, ERR(1, FEI_PLEN) },
	{ "ICReq PDO 4", 0x00, 0, 128, 4, 128, L_INIT, ERR(1, FEI_PDO) },
	{ "ICReq HLEN 72", 0x00, 0, 72, 0, 128, L_INIT, ERR(1, FEI_HLEN) },
	{ "CapsuleCmd before ICReq", 0x04, 0, 72, 0, 72, L_INIT, ERR(2, FEI_RSVD) },
	{ "H2CData before ICReq", 0x06, 0, 24, 24, 536, L_INIT, ERR(2, FEI_RSVD) },
	{ "second ICReq", 0x00, 0, 128, 0, 128, L_PLAIN, ERR(2, FEI_RSVD) },

	/* types a target never receives */
	{ "unknown type 0x08", 0x08, 0, 24, 0, 24, L_PLAIN, ERR(1, FEI_TYPE) },
	{ "unknown type 0x0a", 0x0a, 0, 24, 0, 24, L_PLAIN, ERR(1, FEI_TYPE) },
	{ "unknown type 0xff", 0xff, 0, 24, 0, 24, L_PLAIN, ERR(1, FEI_TYPE) },
	{ "C2HData from host", 0x07, 0, 24, 24, 536, L_PLAIN, ERR(1, FEI_TYPE) },
	{ "R2T from host", 0x09, 0, 24, 0, 24, L_PLAIN, ERR(1, FEI_TYPE) },
	{ "CapsuleResp from host", 0x05, 0, 24, 0, 24, L_PLAIN, ERR(1, FEI_TYPE) },
	{ "ICResp from host", 0x01, 0, 128, 0, 128, L_PLAIN, ERR(1, FEI_TYPE) },
	{ "C2HTermReq from host", 0x03, 0, 24, 0, 24, L_PLAIN, ERR(1, FEI_TYPE) },

	/* HLEN per type */
	{ "CapsuleCmd HLEN 24", 0x04, 0, 24, 0, 72, L_PLAIN, ERR(1, FEI_HLEN) },
	{ "CapsuleCmd HLEN 76", 0x04, 0, 76, 0, 76, L_PLAIN, ERR(1, FEI_HLEN) },
	{ "H2CData HLEN 72", 0x06, 0, 72, 72, 584, L_PLAIN, ERR(1, FEI_HLEN) },
	{ "H2CTermReq HLEN 128", 0x02, 0, 128, 0, 128, L_PLAIN, ERR(1, FEI_HLEN) },

	/* CapsuleCmd shapes */
	{ "CapsuleCmd no data", 0x04, 0, 72, 0, 72, L_PLAIN, OK(72, 0) },
	{ "CapsuleCmd no data, HDGST", 0x04, F_H, 72, 0, 76, L_HD, OK(76, 0) },
	{ "CapsuleCmd no data, both digests negotiated", 0x04, F_H, 72, 0, 76,
	  L_BOTH, OK(76, 0) },
	{ "CapsuleCmd 4096 in-capsule", 0x04, 0, 72, 72, 72 + 4096, L_PLAIN,
	  OK(72, 4096) },
	{ "CapsuleCmd 512 in-capsule, HDGST (PDO 76)", 0x04, F_H, 72, 76,
	  76 + 512, L_HD, OK(76, 512) },
	{ "CapsuleCmd 512 in-capsule, DDGST in PLEN", 0x04, F_D, 72, 72,
	  72 + 512 + 4, L_DD, OK(72, 512) },
	{ "CapsuleCmd 1024 in-capsule, both digests", 0x04, F_H | F_D, 72, 76,
	  76 + 1024 + 4, L_BOTH, OK(76, 1024) },
	{ "CapsuleCmd in-capsule == max_inline", 0x04, 0, 72, 72,
	  72 + MAX_INLINE, L_PLAIN, OK(72, MAX_INLINE) },
	{ "CapsuleCmd in-capsule > max_inline", 0x04, 0, 72, 72,
	  72 + MAX_INLINE + 4, L_PLAIN, ERR(5, FEI_RSVD) },
	{ "CapsuleCmd in-capsule > max_inline, both digests", 0x04, F_H | F_D,
	  72, 76, 76 + MAX_INLINE + 4 + 4, L_BOTH, ERR(5, FEI_RSVD) },

	/* digest flags exactly as negotiated */
	{ "HDGSTF set, not negotiated", 0x04, F_H, 72, 0, 76, L_PLAIN,
	  ERR(1, FEI_FLAGS) },
	{ "HDGSTF missing, negotiated", 0x04, 0, 72, 0, 72, L_HD,
	  ERR(1, FEI_FLAGS) },
	{ "H2CData HDGSTF missing, negotiated", 0x06, 0, 24, 24, 24 + 512, L_HD,
	  ERR(1, FEI_FLAGS) },
	{ "DDGSTF without data", 0x04, F_D, 72, 0, 72, L_DD, ERR(1, FEI_FLAGS) },
	{ "DDGSTF set with data, not negotiated", 0x04, F_D, 72, 72,
	  72 + 512 + 4, L_PLAIN, ERR(1, FEI_FLAGS) },
	{ "DDGSTF missing with data, negotiated", 0x04, 0, 72, 72, 72 + 512,
	  L_DD, ERR(1, FEI_FLAGS) },

	/* PLEN and PDO */
	{ "CapsuleCmd PLEN 71", 0x04, 0, 72, 0, 71, L_PLAIN, ERR(1, FEI_PLEN) },
	{ "CapsuleCmd PLEN 74 with HDGST", 0x04, F_H, 72, 0, 74, L_HD,
	  ERR(1, FEI_PLEN) },
	{ "H2CData PLEN 8", 0x06, 0, 24, 0, 8, L_PLAIN, ERR(1, FEI_PLEN) },
	{ "PDO 68 below HLEN", 0x04, 0, 72, 68, 72 + 512, L_PLAIN,
	  ERR(1, FEI_PDO) },
	{ "PDO 72 below HLEN + HDGST", 0x04, F_H, 72, 72, 76 + 512, L_HD,
	  ERR(1, FEI_PDO) },
	{ "PDO 0 with data", 0x04, 0, 72, 0, 72 + 512, L_PLAIN, ERR(1, FEI_PDO) },
	{ "PDO 74 not a dword multiple", 0x04, 0, 72, 74, 74 + 512, L_PLAIN,
	  ERR(1, FEI_PDO) },
	{ "PDO 128 beyond PLEN 100", 0x04, 0, 72, 128, 100, L_PLAIN,
	  ERR(1, FEI_PDO) },
	{ "PDO + DDGST beyond PLEN", 0x04, F_D, 72, 72, 74, L_DD,
	  ERR(1, FEI_PDO) },

	/* H2CData */
	{ "H2CData without data", 0x06, 0, 24, 0, 24, L_PLAIN, ERR(1, FEI_PLEN) },
	{ "H2CData without data, HDGST", 0x06, F_H, 24, 0, 28, L_HD,
	  ERR(1, FEI_PLEN) },
	{ "H2CData 4096, LAST", 0x06, F_LAST, 24, 24, 24 + 4096, L_PLAIN,
	  OK(24, 4096) },
	{ "H2CData 8192 with both digests", 0x06, F_H | F_D | F_LAST, 24, 28,
	  28 + 8192 + 4, L_BOTH, OK(28, 8192) },
	{ "H2CData == maxh2cdata", 0x06, 0, 24, 24, 24 + MAXH2C, L_PLAIN,
	  OK(24, MAXH2C) },
	{ "H2CData > maxh2cdata", 0x06, 0, 24, 24, 24 + MAXH2C + 4, L_PLAIN,
	  ERR(5, FEI_RSVD) },
	{ "H2CData > maxh2cdata, both digests", 0x06, F_H | F_D, 24, 28,
	  28 + MAXH2C + 4 + 4, L_BOTH, ERR(5, FEI_RSVD) },

	/* H2CTermReq: 24-byte header + up to 128 bytes of offending header */
	{ "H2CTermReq PLEN 24", 0x02, 0, 24, 0, 24, L_PLAIN, OK(24, 0) },
	{ "H2CTermReq PLEN 96", 0x02, 0, 24, 0, 96, L_HD, OK(96, 0) },
	{ "H2CTermReq PLEN 152", 0x02, 0, 24, 0, 152, L_PLAIN, OK(152, 0) },
	{ "H2CTermReq PLEN 153", 0x02, 0, 24, 0, 153, L_PLAIN, ERR(1, FEI_PLEN) },
	{ "H2CTermReq PLEN 23", 0x02, 0, 24, 0, 23, L_PLAIN, ERR(1, FEI_PLEN) },
};

static void test_check_hdr(struct tap *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(hdr_cases); i++) {
		const struct hdr_case *c = &hdr_cases[i];
		/* the common header as bytes, PLEN little-endian */
		uint8_t raw[8] = { c->type, c->flags, c->hlen, c->pdo };
		struct nvme_tcp_hdr h;
		struct nvme_tcp_shape shape = { 0xdead, 0xbeef };
		struct nvme_tcp_err err = { 0xffff, 0xffffffff, NULL };
		int rc;
		bool ok;

		put_le32_at(raw + 4, c->plen);
		memcpy(&h, raw, sizeof(h));
		rc = nvme_tcp_check_hdr(&h, &c->lim, &shape, &err);
		if (c->expect == EXPECT_OK) {
			ok = rc == 0 && shape.hdr_len == c->hdr_len &&
			     shape.data_len == c->data_len;
			tap_result(t, ok, "check_hdr: %s -> hdr %u data %u",
				   c->name, c->hdr_len, c->data_len);
			if (!ok)
				printf("# got rc %d hdr %u data %u (%s)\n", rc,
				       shape.hdr_len, shape.data_len,
				       rc ? err.why : "");
		} else {
			ok = rc == -1 && err.fes == c->fes && err.fei == c->fei &&
			     err.why != NULL;
			tap_result(t, ok, "check_hdr: %s -> FES %u FEI %u",
				   c->name, c->fes, c->fei);
			if (!ok)
				printf("# got rc %d FES %u FEI %u (%s)\n", rc,
				       err.fes, err.fei,
				       err.why ? err.why : "no reason");
		}
	}
}

/* ---- 2. header digest ----------------------------------------------------- */

static void test_hdgst(struct tap *t)
{
	uint8_t pdu[72 + 4] = {
		0x04, NVME_TCP_F_HDGST, 72, 0, 76, 0, 0, 0,	/* CapsuleCmd */
		0x02, 0x00, 0x34, 0x12,		/* Read, CID 0x1234 */
		0x01, 0x00, 0x00, 0x00,		/* NSID 1 */
	};
	unsigned int bad = 0;

	pdu[8 + 24] = 0x01;		/* SGL: Transport Data Block */
	pdu[8 + 24 + 8] = 0x00;
	pdu[8 + 24 + 9] = 0x10;		/* length 4096 */
	pdu[8 + 24 + 15] = 0x5a;	/* type 5h, subtype Ah */
	pdu[8 + 40] = 0x80;		/* SLBA */
	pdu[8 + 48] = 0x07;		/* NLB 7: eight blocks */
	put_le32_at(pdu + 72, znst_crc32c(0, pdu, 72));

	tap_result(t, nvme_tcp_hdgst_ok(pdu, 72),
		   "hdgst_ok: CapsuleCmd header with its CRC32C digest");
	tap_result(t, ref_crc32c(pdu, 72) == znst_crc32c(0, pdu, 72),
		   "hdgst: znst_crc32c agrees with the bitwise reference");

	for (unsigned int bit = 0; bit < sizeof(pdu) * 8; bit++) {
		pdu[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		if (nvme_tcp_hdgst_ok(pdu, 72)) {
			if (!bad)
				printf("# flipping bit %u still verifies\n", bit);
			bad++;
		}
		pdu[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
	tap_result(t, bad == 0,
		   "hdgst_ok: false for each of the %zu single-bit flips (%u pass)",
		   sizeof(pdu) * 8, bad);
	tap_result(t, nvme_tcp_hdgst_ok(pdu, 72),
		   "hdgst_ok: true again after the flips are undone");

	/* digest stored big-endian must not verify */
	{
		uint32_t d = znst_crc32c(0, pdu, 72);
		uint8_t be[4] = { (uint8_t)(d >> 24), (uint8_t)(d >> 16),
				  (uint8_t)(d >> 8), (uint8_t)d };

		memcpy(pdu + 72, be, 4);
		tap_result(t, !nvme_tcp_hdgst_ok(pdu, 72),
			   "hdgst_ok: a big-endian digest is rejected");
	}
}

/* ---- 3. builders ---------------------------------------------------------- */

#define SENTINEL	0xa5
#define BUF_LEN		512

/* Compare @len built bytes with @want, and check nothing beyond was touched. */
static void check_image(struct tap *t, const char *name, const uint8_t *buf,
			size_t ret, const uint8_t *want, size_t len)
{
	long at = first_diff(buf, want, len);
	size_t spill = 0;

	for (size_t i = len; i < BUF_LEN; i++)
		spill += buf[i] != SENTINEL;
	tap_result(t, ret == len && at < 0 && spill == 0,
		   "%s: %zu bytes as laid out", name, len);
	if (ret != len)
		printf("# returned %zu, want %zu\n", ret, len);
	diag_diff(buf, want, at);
	if (spill)
		printf("# %zu bytes written past the PDU\n", spill);
}

static void test_build_icresp(struct tap *t)
{
	uint8_t want[128] = {
		0x01, 0x00, 0x80, 0x00,		/* ICResp, HLEN 128, PDO 0 */
		0x80, 0x00, 0x00, 0x00,		/* PLEN 128 */
		0x00, 0x00,			/* PFV 0 */
		0x02,				/* CPDA */
		0x03,				/* DGST: header + data */
		0x40, 0x23, 0x01, 0x00,		/* MAXH2CDATA 0x12340 */
	};
	uint8_t buf[BUF_LEN];
	size_t n;

	memset(buf, SENTINEL, sizeof(buf));
	n = nvme_tcp_build_icresp(buf, 2, NVME_TCP_HDR_DIGEST_ENABLE |
				  NVME_TCP_DATA_DIGEST_ENABLE, 0x12340);
	check_image(t, "ICResp cpda 2 dgst 3 maxh2cdata 0x12340", buf, n, want,
		    sizeof(want));

	want[10] = 0x00;
	want[11] = 0x00;
	want[12] = 0x00; want[13] = 0x10; want[14] = 0x00; want[15] = 0x00;
	memset(buf, SENTINEL, sizeof(buf));
	n = nvme_tcp_build_icresp(buf, 0, 0, 4096);
	check_image(t, "ICResp cpda 0 dgst 0 maxh2cdata 4096", buf, n, want,
		    sizeof(want));
}

static void test_build_rsp(struct tap *t)
{
	static const uint8_t cqe_bytes[16] = {
		0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,	/* result */
		0x02, 0x01,			/* SQHD 0x0102 */
		0x03, 0x00,			/* SQID 3 */
		0x34, 0x12,			/* CID 0x1234 */
		0x02, 0x40,			/* status 0x4002 */
	};
	uint8_t want[28] = {
		0x05, 0x00, 0x18, 0x00,		/* CapsuleResp, HLEN 24 */
		0x18, 0x00, 0x00, 0x00,		/* PLEN 24 */
	};
	struct nvme_cqe cqe;
	uint8_t buf[BUF_LEN];
	size_t n;

	cqe.result = cpu_to_le64(0x1122334455667788ull);
	cqe.sq_head = cpu_to_le16(0x0102);
	cqe.sq_id = cpu_to_le16(3);
	cqe.cid = raw_cid(0x34, 0x12);
	cqe.status = cpu_to_le16(0x4002);
	memcpy(want + 8, cqe_bytes, sizeof(cqe_bytes));

	memset(buf, SENTINEL, sizeof(buf));
	n = nvme_tcp_build_rsp(buf, &cqe, false);
	check_image(t, "CapsuleResp without HDGST", buf, n, want, 24);

	want[1] = NVME_TCP_F_HDGST;
	want[4] = 0x1c;			/* PLEN 28 */
	put_le32_at(want + 24, ref_crc32c(want, 24));
	memset(buf, SENTINEL, sizeof(buf));
	n = nvme_tcp_build_rsp(buf, &cqe, true);
	check_image(t, "CapsuleResp with HDGST", buf, n, want, 28);
}

struct c2h_case {
	const char	*name;
	uint8_t		flags, hpda;
	bool		hdgst, ddgst;
	uint32_t	datao, datal;
	uint8_t		hdr[24];	/* the header as laid out */
	uint32_t	pdo;		/* header + digest + padding */
};

/* CCCID 0x1234 throughout; TTAG (bytes 10-11) and 20-23 reserved. */
static const struct c2h_case c2h_cases[] = {
	{ "C2HData LAST|SUCCESS, hpda 0, no digests",
	  NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, 0, false, false,
	  0x1000, 0x200,
	  { 0x07, 0x0c, 0x18, 0x18, 0x18, 0x02, 0x00, 0x00,	/* PLEN 536 */
	    0x34, 0x12, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
	    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, 24 },
	{ "C2HData LAST|SUCCESS, hpda 0, HDGST+DDGST",
	  NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, 0, true, true,
	  0x1000, 0x200,
	  { 0x07, 0x0f, 0x18, 0x1c, 0x20, 0x02, 0x00, 0x00,	/* 28+512+4 */
	    0x34, 0x12, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
	    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, 28 },
	{ "C2HData hpda 0, DDGST only",
	  NVME_TCP_F_DATA_LAST, 0, false, true, 0, 0x1000,
	  { 0x07, 0x06, 0x18, 0x18, 0x1c, 0x10, 0x00, 0x00,	/* 24+4096+4 */
	    0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, 24 },
	{ "C2HData not last, datao 0x12345678",
	  0, 0, false, false, 0x12345678, 0x00abcdef,
	  { 0x07, 0x00, 0x18, 0x18, 0x07, 0xce, 0xab, 0x00,	/* 24+0xabcdef */
	    0x34, 0x12, 0x00, 0x00, 0x78, 0x56, 0x34, 0x12,
	    0xef, 0xcd, 0xab, 0x00, 0x00, 0x00, 0x00, 0x00 }, 24 },
	{ "C2HData hpda 1 (8 bytes), HDGST: PDO 32",
	  NVME_TCP_F_DATA_LAST, 1, true, false, 0, 0x200,
	  { 0x07, 0x05, 0x18, 0x20, 0x20, 0x02, 0x00, 0x00,	/* 32+512 */
	    0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, 32 },
	{ "C2HData hpda 3 (16 bytes), HDGST: PDO 32",
	  NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, 3, true, false,
	  0, 0x200,
	  { 0x07, 0x0d, 0x18, 0x20, 0x20, 0x02, 0x00, 0x00,	/* 32+512 */
	    0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, 32 },
	{ "C2HData hpda 7 (32 bytes), no digests: PDO 32",
	  NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, 7, false, false,
	  0, 0x200,
	  { 0x07, 0x0c, 0x18, 0x20, 0x20, 0x02, 0x00, 0x00,	/* 32+512 */
	    0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, 32 },
	{ "C2HData hpda 7 (32 bytes), HDGST+DDGST: PDO 32",
	  NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS, 7, true, true,
	  0, 0x200,
	  { 0x07, 0x0f, 0x18, 0x20, 0x24, 0x02, 0x00, 0x00,	/* 32+512+4 */
	    0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, 32 },
	{ "C2HData hpda 31 (128 bytes), HDGST: PDO 128",
	  NVME_TCP_F_DATA_LAST, 31, true, false, 0, 0x200,
	  { 0x07, 0x05, 0x18, 0x80, 0x80, 0x02, 0x00, 0x00,	/* 128+512 */
	    0x34, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	    0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 }, 128 },
};

static void test_build_c2h(struct tap *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(c2h_cases); i++) {
		const struct c2h_case *c = &c2h_cases[i];
		uint8_t want[BUF_LEN] = { 0 };	/* padding is zero */
		uint8_t buf[BUF_LEN];
		size_t n;

		memcpy(want, c->hdr, sizeof(c->hdr));
		if (c->hdgst)
			put_le32_at(want + 24, ref_crc32c(want, 24));
		memset(buf, SENTINEL, sizeof(buf));
		n = nvme_tcp_build_c2h(buf, raw_cid(0x34, 0x12), c->datao,
				       c->datal, c->flags, c->hdgst, c->ddgst,
				       c->hpda);
		check_image(t, c->name, buf, n, want, c->pdo);
	}
}

static void test_build_r2t(struct tap *t)
{
	uint8_t want[28] = {
		0x09, 0x00, 0x18, 0x00,		/* R2T, HLEN 24, PDO 0 */
		0x18, 0x00, 0x00, 0x00,		/* PLEN 24 */
		0x34, 0x12,			/* CCCID @8 */
		0xef, 0xbe,			/* TTAG @10 */
		0x00, 0x00, 0x01, 0x00,		/* R2TO @12: 0x10000 */
		0x00, 0x30, 0x02, 0x00,		/* R2TL @16: 0x23000 */
		0x00, 0x00, 0x00, 0x00,
	};
	uint8_t buf[BUF_LEN];
	size_t n;

	memset(buf, SENTINEL, sizeof(buf));
	n = nvme_tcp_build_r2t(buf, raw_cid(0x34, 0x12), 0xbeef, 0x10000,
			       0x23000, false);
	check_image(t, "R2T without HDGST", buf, n, want, 24);

	want[1] = NVME_TCP_F_HDGST;
	want[4] = 0x1c;
	put_le32_at(want + 24, ref_crc32c(want, 24));
	memset(buf, SENTINEL, sizeof(buf));
	n = nvme_tcp_build_r2t(buf, raw_cid(0x34, 0x12), 0xbeef, 0x10000,
			       0x23000, true);
	check_image(t, "R2T with HDGST", buf, n, want, 28);
}

static void test_build_term(struct tap *t)
{
	uint8_t bad[200];
	uint8_t want[24 + 128] = {
		0x03, 0x00, 0x18, 0x00,		/* C2HTermReq, HLEN 24, PDO 0 */
		0x60, 0x00, 0x00, 0x00,		/* PLEN 24 + 72 */
		0x01, 0x00,			/* FES 1 @8 */
		0x0d, 0x0c, 0x0b, 0x0a,		/* FEI 0x0a0b0c0d @10 */
	};
	uint8_t buf[BUF_LEN];
	size_t n;

	for (size_t i = 0; i < sizeof(bad); i++)
		bad[i] = (uint8_t)(i * 7 + 1);

	/* a 72-byte CapsuleCmd header rides along whole */
	memcpy(want + 24, bad, 72);
	memset(buf, SENTINEL, sizeof(buf));
	n = nvme_tcp_build_term(buf, NVME_TCP_C2H_TERM, 1, 0x0a0b0c0d, bad, 72);
	check_image(t, "C2HTermReq FES 1, FEI unaligned LE, 72-byte header",
		    buf, n, want, 24 + 72);

	/* longer than 128: truncated, PLEN 152 */
	want[4] = 0x98;
	want[8] = 0x05;
	want[10] = 0x00; want[11] = 0x00; want[12] = 0x00; want[13] = 0x00;
	memcpy(want + 24, bad, 128);
	memset(buf, SENTINEL, sizeof(buf));
	n = nvme_tcp_build_term(buf, NVME_TCP_C2H_TERM, 5, 0, bad, sizeof(bad));
	check_image(t, "C2HTermReq 200-byte header truncated to 128", buf, n,
		    want, 24 + 128);

	/* exactly 128 */
	memset(buf, SENTINEL, sizeof(buf));
	n = nvme_tcp_build_term(buf, NVME_TCP_C2H_TERM, 5, 0, bad, 128);
	check_image(t, "C2HTermReq 128-byte header copied whole", buf, n, want,
		    24 + 128);

	/* nothing to copy */
	want[4] = 0x18;
	want[8] = 0x02;
	memset(buf, SENTINEL, sizeof(buf));
	n = nvme_tcp_build_term(buf, NVME_TCP_C2H_TERM, 2, 0, NULL, 0);
	check_image(t, "C2HTermReq FES 2 without a header", buf, n, want, 24);
}

/* ---- 4. round trip: every digest the target sends verifies ---------------- */

static void test_round_trip(struct tap *t)
{
	static const uint8_t hpdas[] = { 0, 1, 3, 7, 31 };
	struct nvme_cqe cqe = { .cid = raw_cid(0x01, 0x00) };
	uint8_t buf[BUF_LEN];
	size_t n;
	bool ok;

	n = nvme_tcp_build_rsp(buf, &cqe, true);
	ok = n == 28 && (buf[1] & NVME_TCP_F_HDGST) && nvme_tcp_hdgst_ok(buf, buf[2]);
	buf[9] ^= 1;
	ok = ok && !nvme_tcp_hdgst_ok(buf, buf[2]);
	tap_result(t, ok, "round trip: CapsuleResp HDGST verifies, a flip does not");

	n = nvme_tcp_build_r2t(buf, raw_cid(0x02, 0x00), 7, 0, 4096, true);
	ok = n == 28 && (buf[1] & NVME_TCP_F_HDGST) && nvme_tcp_hdgst_ok(buf, buf[2]);
	buf[16] ^= 0x80;
	ok = ok && !nvme_tcp_hdgst_ok(buf, buf[2]);
	tap_result(t, ok, "round trip: R2T HDGST verifies, a flip does not");

	for (size_t i = 0; i < ARRAY_SIZE(hpdas); i++) {
		uint8_t data[512];
		uint8_t pdu[128 + sizeof(data) + 4];	/* PDO <= 128 */
		uint32_t plen, dd;

		for (size_t j = 0; j < sizeof(data); j++)
			data[j] = (uint8_t)(j ^ 0x5a);
		n = nvme_tcp_build_c2h(pdu, raw_cid(0x03, 0x00), 0,
				       sizeof(data),
				       NVME_TCP_F_DATA_LAST | NVME_TCP_F_DATA_SUCCESS,
				       true, true, hpdas[i]);
		memcpy(pdu + n, data, sizeof(data));
		dd = nvme_tcp_data_digest(pdu + n, sizeof(data));
		put_le32_at(pdu + n + sizeof(data), dd);
		memcpy(&plen, pdu + 4, 4);
		plen = le32_to_cpu(plen);
		ok = (pdu[1] & (NVME_TCP_F_HDGST | NVME_TCP_F_DDGST)) ==
		     (NVME_TCP_F_HDGST | NVME_TCP_F_DDGST) &&
		     nvme_tcp_hdgst_ok(pdu, pdu[2]) && pdu[3] == n &&
		     n % ((hpdas[i] + 1u) * 4) == 0 &&
		     plen == n + sizeof(data) + 4 &&
		     dd == ref_crc32c(data, sizeof(data));
		tap_result(t, ok,
			   "round trip: C2HData hpda %u HDGST verifies, PDO %zu aligned, PLEN covers data + DDGST",
			   hpdas[i], n);
	}

	n = nvme_tcp_build_icresp(buf, 0, 3, 4096);
	tap_result(t, n == 128 && !(buf[1] & (NVME_TCP_F_HDGST | NVME_TCP_F_DDGST)),
		   "round trip: ICResp carries no digest flags");
	n = nvme_tcp_build_term(buf, NVME_TCP_C2H_TERM, 3, 0, &cqe, sizeof(cqe));
	tap_result(t, n == 40 && !(buf[1] & (NVME_TCP_F_HDGST | NVME_TCP_F_DDGST)),
		   "round trip: C2HTermReq carries no digest flags");
}

/* ---- 5. data digest ------------------------------------------------------- */

enum fill { FILL_STRING, FILL_ZERO, FILL_ONES, FILL_INC, FILL_DEC };

static const struct dd_vector {
	const char	*name;
	enum fill	fill;
	size_t		len;
	uint32_t	crc;
} dd_vectors[] = {
	{ "\"123456789\"", FILL_STRING, 9, 0xE3069283 },
	{ "empty", FILL_ZERO, 0, 0x00000000 },
	{ "32 x 00h (RFC 3720 B.4)", FILL_ZERO, 32, 0x8A9136AA },
	{ "32 x FFh (RFC 3720 B.4)", FILL_ONES, 32, 0x62A8AB43 },
	{ "00h..1Fh (RFC 3720 B.4)", FILL_INC, 32, 0x46DD794E },
	{ "1Fh..00h (RFC 3720 B.4)", FILL_DEC, 32, 0x113FDB5C },
};

static void test_data_digest(struct tap *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(dd_vectors); i++) {
		const struct dd_vector *v = &dd_vectors[i];
		uint8_t buf[32];
		uint32_t got;

		for (size_t j = 0; j < sizeof(buf); j++) {
			switch (v->fill) {
			case FILL_STRING: buf[j] = (uint8_t)('1' + j); break;
			case FILL_ZERO:   buf[j] = 0x00; break;
			case FILL_ONES:   buf[j] = 0xff; break;
			case FILL_INC:    buf[j] = (uint8_t)j; break;
			case FILL_DEC:    buf[j] = (uint8_t)(31 - j); break;
			}
		}
		got = nvme_tcp_data_digest(buf, v->len);
		tap_result(t, got == v->crc,
			   "data digest %s = 0x%08X (got 0x%08X)", v->name,
			   v->crc, got);
	}
}

int main(void)
{
	struct tap t = { 0 };

	test_check_hdr(&t);
	test_hdgst(&t);
	test_build_icresp(&t);
	test_build_rsp(&t);
	test_build_c2h(&t);
	test_build_r2t(&t);
	test_build_term(&t);
	test_round_trip(&t);
	test_data_digest(&t);
	printf("1..%d\n", t.n);
	return t.failed ? 1 : 0;
}
