/* SPDX-License-Identifier: MIT */
/*
 * NVMe Zoned Namespace Command Set 1.1 wire structures: the ZNS Identify
 * Namespace / Controller data, zone descriptors and report header, and the
 * Zone Management Send/Receive field accessors.  No I/O, no allocation.
 */
#ifndef ZNST_PROTO_ZNS_H
#define ZNST_PROTO_ZNS_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/byteorder.h"
#include "proto/nvme.h"

struct nvme_zns_lbafe {
	le64		zsze;		/* zone size in logical blocks */
	uint8_t		zdes;		/* descriptor extension size, 64-byte units */
	uint8_t		rsvd9[7];
};
static_assert(sizeof(struct nvme_zns_lbafe) == 16, "LBA format extension");

struct nvme_id_ns_zns {
	le16		zoc;
	le16		ozcs;		/* bit 0 RAZB, bit 1 ZRWASUP */
	le32		mar;		/* 0's based, 0xffffffff: no limit */
	le32		mor;		/* 0's based, 0xffffffff: no limit */
	le32		rrl;
	le32		frl;
	le32		rrl1, rrl2, rrl3;
	le32		frl1, frl2, frl3;
	le32		numzrwa;
	le16		zrwafg;
	le16		zrwas;
	uint8_t		zrwacap;
	uint8_t		rsvd53[2763];
	struct nvme_zns_lbafe lbafe[64];
	uint8_t		vs[256];
};
static_assert(sizeof(struct nvme_id_ns_zns) == 4096, "ZNS Identify Namespace");
static_assert(offsetof(struct nvme_id_ns_zns, mor) == 8, "MOR");
static_assert(offsetof(struct nvme_id_ns_zns, numzrwa) == 44, "NUMZRWA");
static_assert(offsetof(struct nvme_id_ns_zns, lbafe) == 2816, "LBAFE");

#define NVME_ZNS_NO_LIMIT	0xffffffffu

enum {
	NVME_ZNS_OZCS_RAZB	= 1 << 0,	/* read across zone boundaries */
	NVME_ZNS_OZCS_ZRWASUP	= 1 << 1,	/* zone random write areas */
	NVME_ZNS_ZRWACAP_EXPFLUSH = 1 << 0,	/* explicit ZRWA flush */
};

/* Changed Zone List log page (LID BFh), ZNS 1.1 5.3.1 */
struct nvme_zns_changed_zone_log {
	le16		nrzid;		/* FFFFh: more than 511 changed */
	uint8_t		rsvd2[6];
	le64		zid[511];	/* zone start LBAs */
};
static_assert(sizeof(struct nvme_zns_changed_zone_log) == 4096, "changed zone log");

struct nvme_id_ctrl_zns {
	uint8_t		zasl;		/* 2^n units of CAP.MPSMIN, 0: MDTS */
	uint8_t		rsvd1[4095];
};
static_assert(sizeof(struct nvme_id_ctrl_zns) == 4096, "ZNS Identify Controller");

enum nvme_zone_type {
	NVME_ZONE_TYPE_SEQWRITE_REQ	= 0x2,
};

/* Zone State field values (descriptor byte 1, bits 7:4) */
enum nvme_zone_state {
	NVME_ZS_EMPTY		= 0x1,
	NVME_ZS_IMP_OPEN	= 0x2,
	NVME_ZS_EXP_OPEN	= 0x3,
	NVME_ZS_CLOSED		= 0x4,
	NVME_ZS_READ_ONLY	= 0xd,
	NVME_ZS_FULL		= 0xe,
	NVME_ZS_OFFLINE		= 0xf,
};

enum {
	NVME_ZA_ZFC	= 1 << 0,	/* zone finished by controller */
	NVME_ZA_FZR	= 1 << 1,	/* finish zone recommended */
	NVME_ZA_RZR	= 1 << 2,	/* reset zone recommended */
	NVME_ZA_ZRWAV	= 1 << 3,
	NVME_ZA_ZDEV	= 1 << 7,	/* zone descriptor extension valid */
};

struct nvme_zone_desc {
	uint8_t		zt;
	uint8_t		zs;		/* state << 4 */
	uint8_t		za;
	uint8_t		zai;
	uint8_t		rsvd4[4];
	le64		zcap;
	le64		zslba;
	le64		wp;
	uint8_t		rsvd32[32];
};
static_assert(sizeof(struct nvme_zone_desc) == 64, "zone descriptor");
static_assert(offsetof(struct nvme_zone_desc, wp) == 24, "zone WP");

struct nvme_zone_report_hdr {
	le64		nr_zones;
	uint8_t		rsvd8[56];
};
static_assert(sizeof(struct nvme_zone_report_hdr) == 64, "zone report header");

/* Zone Management Send: CDW13 ZSA 7:0, Select All bit 8, ZSASO bit 9 */
enum nvme_zone_send_action {
	NVME_ZSA_CLOSE		= 0x01,
	NVME_ZSA_FINISH		= 0x02,
	NVME_ZSA_OPEN		= 0x03,
	NVME_ZSA_RESET		= 0x04,
	NVME_ZSA_OFFLINE	= 0x05,
	NVME_ZSA_SET_DESC_EXT	= 0x10,
	NVME_ZSA_ZRWA_FLUSH	= 0x11,
};

static inline uint8_t nvme_zsa_of(const struct nvme_sqe *c)
{
	return le32_to_cpu(c->cdw13) & 0xff;
}

static inline int nvme_zsa_select_all(const struct nvme_sqe *c)
{
	return (le32_to_cpu(c->cdw13) >> 8) & 1;
}

static inline int nvme_zsa_zrwa(const struct nvme_sqe *c)
{
	return (le32_to_cpu(c->cdw13) >> 9) & 1;
}

/* CDW13 bits 31:10 are reserved */
static inline uint32_t nvme_zsa_rsvd(const struct nvme_sqe *c)
{
	return le32_to_cpu(c->cdw13) & ~0x3ffu;
}

/* Zone Management Receive: CDW12 NUMD (0's based), CDW13 ZRA/ZRASF/partial */
enum nvme_zone_recv_action {
	NVME_ZRA_REPORT		= 0x00,
	NVME_ZRA_EXT_REPORT	= 0x01,
};

enum nvme_zone_report_filter {
	NVME_ZRASF_ALL		= 0x00,
	NVME_ZRASF_EMPTY	= 0x01,
	NVME_ZRASF_IMP_OPEN	= 0x02,
	NVME_ZRASF_EXP_OPEN	= 0x03,
	NVME_ZRASF_CLOSED	= 0x04,
	NVME_ZRASF_FULL		= 0x05,
	NVME_ZRASF_READ_ONLY	= 0x06,
	NVME_ZRASF_OFFLINE	= 0x07,
};

static inline uint64_t nvme_zmr_len(const struct nvme_sqe *c)
{
	return ((uint64_t)le32_to_cpu(c->cdw12) + 1) * 4;	/* NUMD is 0's based */
}

static inline uint8_t nvme_zra_of(const struct nvme_sqe *c)
{
	return le32_to_cpu(c->cdw13) & 0xff;
}

static inline uint8_t nvme_zrasf_of(const struct nvme_sqe *c)
{
	return (le32_to_cpu(c->cdw13) >> 8) & 0xff;
}

static inline int nvme_zra_partial(const struct nvme_sqe *c)
{
	return (le32_to_cpu(c->cdw13) >> 16) & 1;
}

/* CDW13 bits 31:17 are reserved */
static inline uint32_t nvme_zra_rsvd(const struct nvme_sqe *c)
{
	return le32_to_cpu(c->cdw13) & ~0x1ffffu;
}

#endif
