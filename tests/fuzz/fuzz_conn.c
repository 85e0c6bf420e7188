/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: arbitrary bytes into one NVMe/TCP connection, through
 * the receive state machine (conn.c) and command dispatch (admin.c, io.c,
 * the zone code) of the real target, on the socket-less reactor of
 * fuzz_stub.c.
 *
 * Input: byte 0 picks the receive size (how the stream is cut), byte 1
 * where the stream starts; the rest is what the host sends:
 *   byte 1 % 4 = 0: a fresh connection (the input must bring its ICReq)
 *                1: after an ICReq (digests from bits 2 and 3)
 *                2: on an admin queue, connected and enabled (CC.EN = 1)
 *                3: on I/O queue 1 of a controller that outlives the input
 * The canned PDUs of modes 1-3 come with the digests of bits 2-3.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/crc32c.h"
#include "tests/fuzz/fuzz_stub.h"

#define FUZZ_NQN	"nqn.2024-11.io.znstcp:zns"
#define FUZZ_HOSTNQN	"nqn.2014-08.org.nvmexpress:uuid:fuzz"

static struct znst_daemon daemon_ctx;
static struct znst_reactor reactor_ctx;
static uint16_t io_cntlid;	/* controller whose I/O queue mode 3 uses */

struct canned {
	uint8_t buf[4096];
	size_t len;
	bool hdgst, ddgst;
};

static void put32(uint8_t *p, uint32_t v)
{
	v = cpu_to_le32(v);
	memcpy(p, &v, 4);
}

static void canned_icreq(struct canned *k)
{
	struct nvme_tcp_icreq *ic = (void *)(k->buf + k->len);

	memset(ic, 0, sizeof(*ic));
	ic->hdr.type = NVME_TCP_ICREQ;
	ic->hdr.hlen = NVME_TCP_IC_HLEN;
	ic->hdr.plen = cpu_to_le32(NVME_TCP_IC_HLEN);
	ic->digest = (uint8_t)((k->hdgst ? NVME_TCP_HDR_DIGEST_ENABLE : 0) |
			       (k->ddgst ? NVME_TCP_DATA_DIGEST_ENABLE : 0));
	k->len += sizeof(*ic);
}

/* A CapsuleCmd with in-capsule data, digests as negotiated. */
static void canned_cmd(struct canned *k, const struct nvme_sqe *sqe,
		       const void *data, uint32_t dlen)
{
	uint8_t *p = k->buf + k->len;
	uint32_t hd = k->hdgst ? 4 : 0, dd = dlen && k->ddgst ? 4 : 0;
	uint32_t pdo = NVME_TCP_CMD_HLEN + hd;
	uint32_t plen = pdo + dlen + dd;

	memset(p, 0, pdo);
	p[0] = NVME_TCP_CMD;
	p[1] = (uint8_t)((hd ? NVME_TCP_F_HDGST : 0) | (dd ? NVME_TCP_F_DDGST : 0));
	p[2] = NVME_TCP_CMD_HLEN;
	p[3] = dlen ? (uint8_t)pdo : 0;
	put32(p + 4, plen);
	memcpy(p + 8, sqe, sizeof(*sqe));
	if (hd)
		put32(p + NVME_TCP_CMD_HLEN, znst_crc32c(0, p, NVME_TCP_CMD_HLEN));
	if (dlen)
		memcpy(p + pdo, data, dlen);
	if (dd)
		put32(p + pdo + dlen, znst_crc32c(0, data, dlen));
	k->len += plen;
}

static void canned_connect(struct canned *k, uint16_t qid, uint16_t cntlid)
{
	struct nvmf_connect_cmd c = {
		.opcode = NVME_ADMIN_FABRICS,
		.cid = 1,
		.fctype = NVMF_TYPE_CONNECT,
		.qid = cpu_to_le16(qid),
		.sqsize = cpu_to_le16(15),
	};
	struct nvmf_connect_data d;

	memset(&d, 0, sizeof(d));
	d.cntlid = cpu_to_le16(cntlid);
	strcpy(d.subsysnqn, FUZZ_NQN);
	strcpy(d.hostnqn, FUZZ_HOSTNQN);
	c.dptr.type = NVME_SGL_INCAPSULE;
	c.dptr.length = cpu_to_le32(sizeof(d));
	c.rsvd1 = NVME_SQE_PSDT_SGL;	/* flags byte */
	canned_cmd(k, (const void *)&c, &d, sizeof(d));
}

static void canned_enable(struct canned *k)
{
	struct nvmf_property_cmd p = {
		.opcode = NVME_ADMIN_FABRICS,
		.rsvd1 = NVME_SQE_PSDT_SGL,
		.cid = 2,
		.fctype = NVMF_TYPE_PROPERTY_SET,
		.offset = cpu_to_le32(NVME_REG_CC),
		/* EN, CSS 110b, IOSQES 6, IOCQES 4 */
		.value = cpu_to_le64(1u | 6u << 4 | 6u << 16 | 4u << 20),
	};

	canned_cmd(k, (const void *)&p, NULL, 0);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct canned k = { .len = 0 };
	struct znst_conn *c;

	if (fuzz_daemon_init(&daemon_ctx, &reactor_ctx))
		abort();
	/* A controller that lives for the whole run, for mode 3. */
	canned_icreq(&k);
	canned_connect(&k, 0, NVMF_CNTLID_DYNAMIC);
	canned_enable(&k);
	c = fuzz_conn_open(&reactor_ctx);
	if (!c || !fuzz_feed(c, k.buf, k.len, k.len) || !c->ctrl ||
	    !(c->ctrl->csts & NVME_CSTS_RDY))
		abort();
	io_cntlid = c->ctrl->cntlid;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t chunks[8] = { 1, 3, 8, 24, 72, 200, 1500, 65536 };
	struct canned k = { .len = 0 };
	struct znst_conn *c;
	size_t chunk;
	uint8_t mode;

	if (size < 2)
		return 0;
	chunk = chunks[data[0] & 7];
	mode = data[1];
	data += 2;
	size -= 2;
	k.hdgst = mode & 4;
	k.ddgst = mode & 8;
	if (mode & 3)
		canned_icreq(&k);
	if ((mode & 3) == 2) {
		canned_connect(&k, 0, NVMF_CNTLID_DYNAMIC);
		canned_enable(&k);
	} else if ((mode & 3) == 3) {
		canned_connect(&k, 1, io_cntlid);
	}
	c = fuzz_conn_open(&reactor_ctx);
	if (!c)
		return 0;
	if (fuzz_feed(c, k.buf, k.len, k.len))
		fuzz_feed(c, data, size, chunk);
	fuzz_conn_close(c);
	return 0;
}
