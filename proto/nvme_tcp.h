/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP transport PDUs (NVMe TCP Transport Specification 1.0).
 * Wire structures only: little-endian fields, reserved bytes named by
 * offset, a size assert after every struct.  No I/O, no allocation.
 */
#ifndef ZNST_PROTO_NVME_TCP_H
#define ZNST_PROTO_NVME_TCP_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/byteorder.h"

enum nvme_tcp_pdu_type {
	NVME_TCP_ICREQ		= 0x00,
	NVME_TCP_ICRESP		= 0x01,
	NVME_TCP_H2C_TERM	= 0x02,
	NVME_TCP_C2H_TERM	= 0x03,
	NVME_TCP_CMD		= 0x04,
	NVME_TCP_RSP		= 0x05,
	NVME_TCP_H2C_DATA	= 0x06,
	NVME_TCP_C2H_DATA	= 0x07,
	NVME_TCP_R2T		= 0x09,
	NVME_TCP_PDU_TYPE_MAX	= 0x09,
};

enum nvme_tcp_pdu_flags {
	NVME_TCP_F_HDGST	= 1 << 0,
	NVME_TCP_F_DDGST	= 1 << 1,
	NVME_TCP_F_DATA_LAST	= 1 << 2,	/* H2CData / C2HData */
	NVME_TCP_F_DATA_SUCCESS	= 1 << 3,	/* C2HData only */
};

/* ICReq/ICResp DGST field */
enum {
	NVME_TCP_HDR_DIGEST_ENABLE	= 1 << 0,
	NVME_TCP_DATA_DIGEST_ENABLE	= 1 << 1,
};

/* 3.6.2.9 / 3.6.2.10: fatal error status in a TermReq */
enum nvme_tcp_fes {
	NVME_TCP_FES_INVALID_PDU_HDR	= 0x01,
	NVME_TCP_FES_PDU_SEQ_ERR	= 0x02,
	NVME_TCP_FES_HDR_DIGEST_ERR	= 0x03,
	NVME_TCP_FES_DATA_OUT_OF_RANGE	= 0x04,
	NVME_TCP_FES_R2T_LIMIT_EXCEEDED	= 0x05,	/* "data transfer limit exceeded" */
	NVME_TCP_FES_UNSUPPORTED_PARAM	= 0x06,
};

#define NVME_TCP_DIGEST_LEN	4
#define NVME_TCP_TERM_MAX_DATA	128	/* offending header copied into a TermReq */
#define NVME_TCP_PFV_1_0	0
#define NVME_TCP_ADMIN_CCSZ	8192	/* Linux host: in-capsule data on the admin queue */

struct nvme_tcp_hdr {
	uint8_t		type;
	uint8_t		flags;
	uint8_t		hlen;
	uint8_t		pdo;
	le32		plen;
};
static_assert(sizeof(struct nvme_tcp_hdr) == 8, "common header");

struct nvme_tcp_icreq {
	struct nvme_tcp_hdr hdr;
	le16		pfv;
	uint8_t		hpda;		/* 0's based dwords */
	uint8_t		digest;
	le32	maxr2t;		/* 0's based */
	uint8_t		rsvd16[112];
};
static_assert(sizeof(struct nvme_tcp_icreq) == 128, "ICReq");
static_assert(offsetof(struct nvme_tcp_icreq, maxr2t) == 12, "ICReq MAXR2T");

struct nvme_tcp_icresp {
	struct nvme_tcp_hdr hdr;
	le16		pfv;
	uint8_t		cpda;
	uint8_t		digest;
	le32	maxdata;	/* MAXH2CDATA */
	uint8_t		rsvd16[112];
};
static_assert(sizeof(struct nvme_tcp_icresp) == 128, "ICResp");
static_assert(offsetof(struct nvme_tcp_icresp, maxdata) == 12, "ICResp MAXH2CDATA");

struct nvme_tcp_term {
	struct nvme_tcp_hdr hdr;
	le16	fes;
	le32	fei;		/* unaligned on the wire: bytes 10..13 */
	uint8_t		rsvd14[10];
} __attribute__((packed));
static_assert(sizeof(struct nvme_tcp_term) == 24, "TermReq");
static_assert(offsetof(struct nvme_tcp_term, fei) == 10, "TermReq FEI");

struct nvme_tcp_data {		/* H2CData and C2HData */
	struct nvme_tcp_hdr hdr;
	le16	cccid;
	le16	ttag;		/* H2CData only */
	le32	datao;
	le32	datal;
	uint8_t		rsvd20[4];
};
static_assert(sizeof(struct nvme_tcp_data) == 24, "H2CData/C2HData");
static_assert(offsetof(struct nvme_tcp_data, datal) == 16, "DATAL");

struct nvme_tcp_r2t {
	struct nvme_tcp_hdr hdr;
	le16	cccid;
	le16	ttag;
	le32	r2to;
	le32	r2tl;
	uint8_t		rsvd20[4];
};
static_assert(sizeof(struct nvme_tcp_r2t) == 24, "R2T");

/* CapsuleCmd = common header + 64-byte SQE; CapsuleResp = header + CQE */
#define NVME_TCP_CMD_HLEN	72
#define NVME_TCP_RSP_HLEN	24
#define NVME_TCP_DATA_HLEN	24
#define NVME_TCP_R2T_HLEN	24
#define NVME_TCP_TERM_HLEN	24
#define NVME_TCP_IC_HLEN	128

/* Expected HLEN per PDU type, 0 for types a target never receives. */
static inline uint8_t nvme_tcp_hlen_of(uint8_t type)
{
	switch (type) {
	case NVME_TCP_ICREQ:	return NVME_TCP_IC_HLEN;
	case NVME_TCP_H2C_TERM:	return NVME_TCP_TERM_HLEN;
	case NVME_TCP_CMD:	return NVME_TCP_CMD_HLEN;
	case NVME_TCP_H2C_DATA:	return NVME_TCP_DATA_HLEN;
	default:		return 0;
	}
}

#endif
