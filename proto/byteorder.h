/* SPDX-License-Identifier: MIT */
/*
 * Little-endian wire types.  The typedefs document which fields are on the
 * wire; every access goes through the le*_to_cpu / cpu_to_le* helpers.
 */
#ifndef ZNST_PROTO_BYTEORDER_H
#define ZNST_PROTO_BYTEORDER_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

typedef uint16_t le16;
typedef uint32_t le32;
typedef uint64_t le64;

#define le16_to_cpu(x)	le16toh(x)
#define le32_to_cpu(x)	le32toh(x)
#define le64_to_cpu(x)	le64toh(x)
#define cpu_to_le16(x)	htole16(x)
#define cpu_to_le32(x)	htole32(x)
#define cpu_to_le64(x)	htole64(x)

/* A little-endian u32 at any alignment (digests follow odd-sized headers). */
static inline void put_le32(uint8_t *p, uint32_t v)
{
	v = cpu_to_le32(v);
	memcpy(p, &v, 4);
}

static inline uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return le32_to_cpu(v);
}

#endif
