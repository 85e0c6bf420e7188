/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP PDU validation and construction over plain byte buffers: what a
 * target checks in every received header before using it, and the PDUs it
 * sends.  No I/O, no allocation; the caller owns every buffer.
 */
#ifndef ZNST_PROTO_NVME_TCP_PDU_H
#define ZNST_PROTO_NVME_TCP_PDU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/nvme.h"
#include "proto/nvme_tcp.h"

/* What the receiver has negotiated (or not yet). */
struct nvme_tcp_rx_limits {
	bool		expect_icreq;	/* nothing negotiated yet */
	bool		hdgst, ddgst;
	uint32_t	max_inline;	/* in-capsule data bytes */
	uint32_t	maxh2cdata;
};

/* How much of a PDU is header (up to PDO) and how much is data. */
struct nvme_tcp_shape {
	uint32_t	hdr_len;	/* bytes from PDU start to data (or end) */
	uint32_t	data_len;	/* data bytes, digest excluded */
};

/* A fatal transport error: goes into a C2HTermReq. */
struct nvme_tcp_err {
	uint16_t	fes;		/* enum nvme_tcp_fes */
	uint32_t	fei;		/* byte offset of the offending field */
	const char	*why;		/* one line for the log */
};

/*
 * Validate the 8-byte common header of a received PDU against its type and
 * the negotiated limits (NVMe TCP 1.0 3.6.2).  0 with @shape filled, or -1
 * with @err filled.
 */
int nvme_tcp_check_hdr(const struct nvme_tcp_hdr *h,
		       const struct nvme_tcp_rx_limits *lim,
		       struct nvme_tcp_shape *shape, struct nvme_tcp_err *err);

/* Header digest at @hdr + @hlen matches the CRC32C of the first @hlen bytes. */
bool nvme_tcp_hdgst_ok(const void *hdr, uint8_t hlen);

/* Builders return the bytes written; sizes the caller must provide:
 * ICResp 128, CapsuleResp 24 + 4, C2HData header up to 24 + 4 + 124 (HPDA
 * padding), R2T 24 + 4, TermReq 24 + 128. */
size_t nvme_tcp_build_icresp(void *buf, uint8_t cpda, uint8_t digest,
			     uint32_t maxh2cdata);
size_t nvme_tcp_build_rsp(void *buf, const struct nvme_cqe *cqe, bool hdgst);
/* Returns PDO: header + digest + padding; @flags: LAST / SUCCESS. */
size_t nvme_tcp_build_c2h(void *buf, uint16_t cccid, uint32_t datao,
			  uint32_t datal, uint8_t flags, bool hdgst, bool ddgst,
			  uint8_t hpda);
size_t nvme_tcp_build_r2t(void *buf, uint16_t cccid, uint16_t ttag,
			  uint32_t r2to, uint32_t r2tl, bool hdgst);
size_t nvme_tcp_build_term(void *buf, uint8_t type, uint16_t fes, uint32_t fei,
			   const void *bad_hdr, size_t bad_len);
uint32_t nvme_tcp_data_digest(const void *data, size_t len);

#endif
