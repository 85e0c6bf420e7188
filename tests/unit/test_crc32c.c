/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for proto/crc32c: published vectors, the hardware path against
 * the table path, incremental use, and an NVMe/TCP header digest.  TAP output.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "proto/crc32c.h"
#include "tests/unit/tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Bit-at-a-time reference, independent of the slicing tables. */
static uint32_t crc32c_bitwise(uint32_t crc, const unsigned char *p,
			       size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int i = 0; i < 8; i++)
			crc = (crc >> 1) ^ (0x82F63B78u & -(crc & 1));
	}
	return ~crc;
}

/* xorshift64: deterministic "random" data, state owned by the caller. */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

enum fill { FILL_STRING, FILL_ZERO, FILL_ONES, FILL_INC, FILL_DEC };

static const struct vector {
	const char *name;
	enum fill fill;
	const char *str;
	size_t len;
	uint32_t crc;
} vectors[] = {
	{ "check string \"123456789\"", FILL_STRING, "123456789", 9, 0xE3069283 },
	{ "RFC 3720 B.4: 32 bytes of zeros", FILL_ZERO, NULL, 32, 0x8A9136AA },
	{ "RFC 3720 B.4: 32 bytes of 0xff", FILL_ONES, NULL, 32, 0x62A8AB43 },
	{ "RFC 3720 B.4: 32 incrementing bytes", FILL_INC, NULL, 32, 0x46DD794E },
	{ "RFC 3720 B.4: 32 decrementing bytes", FILL_DEC, NULL, 32, 0x113FDB5C },
	{ "empty buffer", FILL_ZERO, NULL, 0, 0x00000000 },
};

static void fill_vector(const struct vector *v, unsigned char *buf)
{
	for (size_t i = 0; i < v->len; i++) {
		switch (v->fill) {
		case FILL_STRING: buf[i] = (unsigned char)v->str[i]; break;
		case FILL_ZERO: buf[i] = 0; break;
		case FILL_ONES: buf[i] = 0xff; break;
		case FILL_INC: buf[i] = (unsigned char)i; break;
		case FILL_DEC: buf[i] = (unsigned char)(v->len - 1 - i); break;
		}
	}
}

static void test_vectors(struct tap *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(vectors); i++) {
		const struct vector *v = &vectors[i];
		unsigned char buf[64];
		uint32_t dflt, sw;

		fill_vector(v, buf);
		dflt = znst_crc32c(0, buf, v->len);
		sw = znst_crc32c_sw(0, buf, v->len);
		tap_result(t, dflt == v->crc && sw == v->crc,
			   "%s: 0x%08X (got 0x%08X, sw 0x%08X)", v->name,
			   v->crc, dflt, sw);
	}
}

/* One byte value at each lane of a 16-byte block reaches every entry of all
 * eight slicing tables. */
static void test_tables_exhaustive(struct tap *t)
{
	int bad = 0;

	for (int pos = 0; pos < 16; pos++) {
		for (int b = 0; b < 256; b++) {
			unsigned char buf[16] = { 0 };

			buf[pos] = (unsigned char)b;
			if (znst_crc32c_sw(0, buf, sizeof(buf)) !=
			    crc32c_bitwise(0, buf, sizeof(buf)))
				bad++;
		}
	}
	tap_result(t, bad == 0, "every slicing table entry matches bitwise (%d bad)",
		   bad);
}

static void test_random_vs_reference(struct tap *t)
{
	unsigned char buf[4100 + 16];
	uint64_t seed = 0x9E3779B97F4A7C15ull;
	int bad_sw = 0, bad_hw = 0, runs = 0;
	bool hw = znst_crc32c_hw_available();

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)rng_next(&seed);

	for (size_t len = 0; len <= 4100; len += 1 + rng_next(&seed) % 37) {
		for (size_t off = 0; off < 8; off++) {
			uint32_t init = (uint32_t)rng_next(&seed);
			uint32_t ref = crc32c_bitwise(init, buf + off, len);

			if (znst_crc32c_sw(init, buf + off, len) != ref)
				bad_sw++;
			if (znst_crc32c(init, buf + off, len) != ref)
				bad_hw++;
			runs++;
		}
	}
	/* Edges the random walk may step over. */
	for (size_t len = 0; len <= 17; len++) {
		for (size_t off = 0; off < 8; off++) {
			uint32_t ref = crc32c_bitwise(0, buf + off, len);

			bad_sw += znst_crc32c_sw(0, buf + off, len) != ref;
			bad_hw += znst_crc32c(0, buf + off, len) != ref;
			runs++;
		}
	}
	tap_result(t, bad_sw == 0, "sw == bitwise reference, %d lengths/alignments in 0..4100 (%d bad)",
		   runs, bad_sw);
	if (hw)
		tap_result(t, bad_hw == 0, "hw (SSE4.2) == bitwise reference, %d lengths/alignments (%d bad)",
			   runs, bad_hw);
	else
		tap_result(t, bad_hw == 0, "default path == reference # SKIP no SSE4.2, hw path not exercised");
}

static void test_incremental(struct tap *t)
{
	unsigned char buf[300];
	uint64_t seed = 42;
	int bad = 0;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)rng_next(&seed);
	const uint32_t whole = znst_crc32c(0, buf, sizeof(buf));

	for (size_t split = 0; split <= sizeof(buf); split++) {
		uint32_t c = znst_crc32c(0, buf, split);
		uint32_t s = znst_crc32c_sw(0, buf, split);

		c = znst_crc32c(c, buf + split, sizeof(buf) - split);
		s = znst_crc32c_sw(s, buf + split, sizeof(buf) - split);
		bad += c != whole || s != whole;
	}
	/* Byte at a time, the way a digest is updated across short reads. */
	uint32_t c = 0;
	for (size_t i = 0; i < sizeof(buf); i++)
		c = znst_crc32c(c, buf + i, 1);
	bad += c != whole;
	tap_result(t, bad == 0, "incremental == one-shot at every split (%d bad)",
		   bad);
}

/*
 * NVMe/TCP 1.0 3.6.1: HDGST is the CRC32C of the 72-byte CapsuleCmd PDU
 * header (8-byte common header + 64-byte SQE), sent little-endian after it.
 * The receiver's CRC over header || HDGST is the fixed CRC32C residue.
 */
static void test_nvme_tcp_hdgst(struct tap *t)
{
	unsigned char pdu[72 + 4] = {
		0x04,			/* PDU type: CapsuleCmd */
		0x01,			/* FLAGS: HDGSTF */
		72,			/* HLEN */
		0,			/* PDO */
		76, 0, 0, 0,		/* PLEN = HLEN + HDGST */
		0x06, 0x00, 0x01, 0x00,	/* SQE: Identify, CID 1 */
	};
	uint32_t d;

	pdu[8 + 40] = 0x01;		/* CDW10.CNS = 1: controller */
	d = znst_crc32c(0, pdu, 72);
	tap_result(t, d == 0x3AB4376F && znst_crc32c_sw(0, pdu, 72) == d,
		   "CapsuleCmd Identify header digest 0x3AB4376F (got 0x%08X)",
		   d);

	pdu[72] = (unsigned char)d;
	pdu[73] = (unsigned char)(d >> 8);
	pdu[74] = (unsigned char)(d >> 16);
	pdu[75] = (unsigned char)(d >> 24);
	d = znst_crc32c(0, pdu, sizeof(pdu));
	tap_result(t, d == 0x48674BC7,
		   "CRC over header || le32 digest is the residue 0x48674BC7 (got 0x%08X)",
		   d);

	pdu[20] ^= 0x10;		/* one flipped bit in the NSID */
	tap_result(t, znst_crc32c(0, pdu, sizeof(pdu)) != 0x48674BC7,
		   "a flipped header bit breaks the digest");
}

int main(void)
{
	struct tap t = { 0 };

	printf("1..%zu\n", ARRAY_SIZE(vectors) + 7);
	printf("# hardware crc32c: %s\n",
	       znst_crc32c_hw_available() ? "yes" : "no");
	test_vectors(&t);
	test_tables_exhaustive(&t);
	test_random_vs_reference(&t);
	test_incremental(&t);
	test_nvme_tcp_hdgst(&t);
	return t.failed ? 1 : 0;
}
