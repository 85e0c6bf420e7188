/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP PDU validation and construction: pure functions over byte
 * buffers, shared by the target's connection code and the unit tests.
 */
#include "proto/nvme_tcp_pdu.h"

#include <string.h>

#include "proto/crc32c.h"

static int fail(struct nvme_tcp_err *err, enum nvme_tcp_fes fes, uint32_t fei,
		const char *why)
{
	err->fes = fes;
	err->fei = fei;
	err->why = why;
	return -1;
}

int nvme_tcp_check_hdr(const struct nvme_tcp_hdr *h,
		       const struct nvme_tcp_rx_limits *lim,
		       struct nvme_tcp_shape *shape, struct nvme_tcp_err *err)
{
	uint32_t plen = le32_to_cpu(h->plen);
	uint8_t want_hlen = nvme_tcp_hlen_of(h->type);
	uint32_t hd = lim->hdgst ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t dd = lim->ddgst ? NVME_TCP_DIGEST_LEN : 0;
	uint32_t max_data = 0;

	/* 3.6.2.1: ICReq first and only once */
	if (lim->expect_icreq && h->type != NVME_TCP_ICREQ)
		return fail(err, NVME_TCP_FES_PDU_SEQ_ERR, 0, "first PDU is not ICReq");
	if (!lim->expect_icreq && h->type == NVME_TCP_ICREQ)
		return fail(err, NVME_TCP_FES_PDU_SEQ_ERR, 0, "second ICReq");
	if (!want_hlen)
		return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
			    offsetof(struct nvme_tcp_hdr, type), "unexpected PDU type");
	if (h->hlen != want_hlen)
		return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
			    offsetof(struct nvme_tcp_hdr, hlen), "bad HLEN");

	switch (h->type) {
	case NVME_TCP_ICREQ:
		if (plen != NVME_TCP_IC_HLEN)
			return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
				    offsetof(struct nvme_tcp_hdr, plen), "bad ICReq PLEN");
		if (h->pdo != 0)
			return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
				    offsetof(struct nvme_tcp_hdr, pdo), "ICReq PDO not 0");
		shape->hdr_len = NVME_TCP_IC_HLEN;
		shape->data_len = 0;
		return 0;
	case NVME_TCP_H2C_TERM:
		if (plen < NVME_TCP_TERM_HLEN ||
		    plen > NVME_TCP_TERM_HLEN + NVME_TCP_TERM_MAX_DATA)
			return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
				    offsetof(struct nvme_tcp_hdr, plen), "bad H2CTermReq PLEN");
		shape->hdr_len = plen;	/* the offending header rides along */
		shape->data_len = 0;
		return 0;
	case NVME_TCP_CMD:
		max_data = lim->max_inline;
		break;
	case NVME_TCP_H2C_DATA:
		max_data = lim->maxh2cdata;
		break;
	}

	/* CapsuleCmd and H2CData: digests exactly as negotiated */
	if (!!(h->flags & NVME_TCP_F_HDGST) != lim->hdgst)
		return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
			    offsetof(struct nvme_tcp_hdr, flags), "HDGSTF does not match ICReq");
	if (plen < (uint32_t)h->hlen + hd)
		return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
			    offsetof(struct nvme_tcp_hdr, plen), "PLEN shorter than header");
	if (plen == (uint32_t)h->hlen + hd) {
		if (h->flags & NVME_TCP_F_DDGST)
			return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
				    offsetof(struct nvme_tcp_hdr, flags), "DDGSTF without data");
		if (h->type == NVME_TCP_H2C_DATA)
			return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
				    offsetof(struct nvme_tcp_hdr, plen), "H2CData without data");
		shape->hdr_len = plen;
		shape->data_len = 0;
		return 0;
	}
	if (!!(h->flags & NVME_TCP_F_DDGST) != lim->ddgst)
		return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
			    offsetof(struct nvme_tcp_hdr, flags), "DDGSTF does not match ICReq");
	/* 3.5.1: data starts at PDO, after the header digest and the padding
	 * CPDA asks for (CPDA 0 here: dword alignment) */
	if (h->pdo < h->hlen + hd || (h->pdo & 3) || (uint32_t)h->pdo + dd > plen)
		return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
			    offsetof(struct nvme_tcp_hdr, pdo), "bad PDO");
	shape->hdr_len = h->pdo;
	shape->data_len = plen - h->pdo - dd;
	if (!shape->data_len && h->type == NVME_TCP_H2C_DATA)
		return fail(err, NVME_TCP_FES_INVALID_PDU_HDR,
			    offsetof(struct nvme_tcp_hdr, plen), "H2CData without data");
	/* 3.6.2.10: FEI is reserved (0) for FES 05h */
	if (shape->data_len > max_data)
		return fail(err, NVME_TCP_FES_R2T_LIMIT_EXCEEDED, 0,
			    h->type == NVME_TCP_CMD ? "in-capsule data above IOCCSZ"
						    : "H2CData above MAXH2CDATA");
	return 0;
}

bool nvme_tcp_hdgst_ok(const void *hdr, uint8_t hlen)
{
	return get_le32((const uint8_t *)hdr + hlen) == znst_crc32c(0, hdr, hlen);
}

static void hdr_init(struct nvme_tcp_hdr *h, uint8_t type, uint8_t flags,
		     uint8_t hlen, uint8_t pdo, uint32_t plen)
{
	h->type = type;
	h->flags = flags;
	h->hlen = hlen;
	h->pdo = pdo;
	h->plen = cpu_to_le32(plen);
}

static void hdgst_put(uint8_t *buf, uint8_t hlen, bool hdgst)
{
	if (hdgst)
		put_le32(buf + hlen, znst_crc32c(0, buf, hlen));
}

size_t nvme_tcp_build_icresp(void *buf, uint8_t cpda, uint8_t digest,
			     uint32_t maxh2cdata)
{
	struct nvme_tcp_icresp *r = buf;

	memset(r, 0, sizeof(*r));
	hdr_init(&r->hdr, NVME_TCP_ICRESP, 0, NVME_TCP_IC_HLEN, 0, NVME_TCP_IC_HLEN);
	r->pfv = cpu_to_le16(NVME_TCP_PFV_1_0);
	r->cpda = cpda;
	r->digest = digest;
	r->maxdata = cpu_to_le32(maxh2cdata);
	return sizeof(*r);
}

size_t nvme_tcp_build_rsp(void *buf, const struct nvme_cqe *cqe, bool hdgst)
{
	uint8_t *p = buf;
	uint32_t len = NVME_TCP_RSP_HLEN + (hdgst ? NVME_TCP_DIGEST_LEN : 0);

	memset(p, 0, NVME_TCP_RSP_HLEN);
	hdr_init(buf, NVME_TCP_RSP, hdgst ? NVME_TCP_F_HDGST : 0,
		 NVME_TCP_RSP_HLEN, 0, len);
	memcpy(p + sizeof(struct nvme_tcp_hdr), cqe, sizeof(*cqe));
	hdgst_put(p, NVME_TCP_RSP_HLEN, hdgst);
	return len;
}

size_t nvme_tcp_build_c2h(void *buf, uint16_t cccid, uint32_t datao,
			  uint32_t datal, uint8_t flags, bool hdgst, bool ddgst,
			  uint8_t hpda)
{
	struct nvme_tcp_data *d = buf;
	uint32_t align = ((uint32_t)hpda + 1) * 4;
	uint32_t pdo = NVME_TCP_DATA_HLEN + (hdgst ? NVME_TCP_DIGEST_LEN : 0);

	/* 3.5.1: the host asked for data aligned to (HPDA + 1) dwords */
	pdo = (pdo + align - 1) / align * align;
	memset(buf, 0, pdo);
	flags |= (hdgst ? NVME_TCP_F_HDGST : 0) | (ddgst ? NVME_TCP_F_DDGST : 0);
	hdr_init(&d->hdr, NVME_TCP_C2H_DATA, flags, NVME_TCP_DATA_HLEN, (uint8_t)pdo,
		 pdo + datal + (ddgst ? NVME_TCP_DIGEST_LEN : 0));
	d->cccid = cccid;
	d->datao = cpu_to_le32(datao);
	d->datal = cpu_to_le32(datal);
	hdgst_put(buf, NVME_TCP_DATA_HLEN, hdgst);
	return pdo;
}

size_t nvme_tcp_build_r2t(void *buf, uint16_t cccid, uint16_t ttag,
			  uint32_t r2to, uint32_t r2tl, bool hdgst)
{
	struct nvme_tcp_r2t *r = buf;
	uint32_t len = NVME_TCP_R2T_HLEN + (hdgst ? NVME_TCP_DIGEST_LEN : 0);

	memset(r, 0, sizeof(*r));
	hdr_init(&r->hdr, NVME_TCP_R2T, hdgst ? NVME_TCP_F_HDGST : 0,
		 NVME_TCP_R2T_HLEN, 0, len);
	r->cccid = cccid;
	r->ttag = cpu_to_le16(ttag);
	r->r2to = cpu_to_le32(r2to);
	r->r2tl = cpu_to_le32(r2tl);
	hdgst_put(buf, NVME_TCP_R2T_HLEN, hdgst);
	return len;
}

size_t nvme_tcp_build_term(void *buf, uint8_t type, uint16_t fes, uint32_t fei,
			   const void *bad_hdr, size_t bad_len)
{
	struct nvme_tcp_term *t = buf;

	if (bad_len > NVME_TCP_TERM_MAX_DATA)
		bad_len = NVME_TCP_TERM_MAX_DATA;
	memset(t, 0, sizeof(*t));
	hdr_init(buf, type, 0, NVME_TCP_TERM_HLEN, 0,
		 NVME_TCP_TERM_HLEN + (uint32_t)bad_len);
	t->fes = cpu_to_le16(fes);
	t->fei = cpu_to_le32(fei);
	if (bad_len)
		memcpy((uint8_t *)buf + NVME_TCP_TERM_HLEN, bad_hdr, bad_len);
	return NVME_TCP_TERM_HLEN + bad_len;
}

uint32_t nvme_tcp_data_digest(const void *data, size_t len)
{
	return znst_crc32c(0, data, len);
}
