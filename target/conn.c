/* SPDX-License-Identifier: MIT */
/*
 * NVMe/TCP connection: one queue's byte stream in and out.
 *
 * Receive is a small state machine fed with whatever the socket delivered:
 * it assembles each PDU header (validated field by field before use), then
 * streams the PDU's data straight into its destination (the in-capsule
 * buffer or the request's buffer), then checks the data digest.  Nothing
 * waits for a whole PDU to be buffered, so the receive buffer stays small
 * and a PDU's size is bounded only by the negotiated limits.
 *
 * Transmit is a FIFO of scatter lists; the reactor sends as many as fit in
 * one sendmsg.  A request is released when its last byte has been sent.
 *
 * A TLS layer slots in between the socket and conn_rx_feed()/the send path:
 * it decrypts into rbuf and encrypts the gathered iovecs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "proto/crc32c.h"
#include "proto/nvme_tcp_pdu.h"
#include "target/core.h"

#define ZNST_RBUF_SIZE		(64 * 1024)
#define ZNST_INLINE_IO		8192		/* in-capsule data on I/O queues */
#define ZNST_MAXH2CDATA		(128 * 1024)
#define ZNST_REQ_SLACK		8

/* ---- Small helpers ----------------------------------------------------------- */

static void tx_init(struct znst_tx *tx, struct znst_req *req)
{
	memset(tx, 0, sizeof(*tx));
	tx->req = req;
}

static void tx_add(struct znst_tx *tx, void *base, size_t len)
{
	if (!len)
		return;
	tx->iov[tx->nr_iov].iov_base = base;
	tx->iov[tx->nr_iov].iov_len = len;
	tx->nr_iov++;
	tx->total += (uint32_t)len;
}

static void conn_queue_tx(struct znst_conn *c, struct znst_tx *tx)
{
	/* Queuing an entry twice would link it to itself. */
	if (tx->queued) {
		conn_log(c, LOG_ERR, "internal: PDU queued twice; dropped");
		return;
	}
	tx->queued = true;
	tx->next = NULL;
	tx->done = 0;
	if (c->tx_tail)
		c->tx_tail->next = tx;
	else
		c->tx_head = tx;
	c->tx_tail = tx;
	reactor_arm_send(c);
}

/* ---- Request pool -------------------------------------------------------------- */

static struct znst_req *req_alloc(struct znst_conn *c)
{
	struct znst_req *req;

	if (!c->free_top)
		return NULL;
	req = &c->reqs[c->free_stack[--c->free_top]];
	c->busy++;
	memset(&req->cmd, 0, offsetof(struct znst_req, c2h_hdr) -
	       offsetof(struct znst_req, cmd));
	req->conn = c;
	req->ttag = (uint16_t)(req - c->reqs);
	req->state = REQ_EXECUTING;
	dlq_node_init(&req->dl);
	return req;
}

static void req_release(struct znst_req *req)
{
	struct znst_conn *c = req->conn;

	if (req->data_owned) {
		free(req->data);
		c->inflight -= req->data_len;
	}
	req->data = NULL;
	req->data_owned = false;
	if (req->state == REQ_SENDING)
		c->sending--;
	req->state = REQ_FREE;
	c->free_stack[c->free_top++] = req->ttag;
	c->busy--;
}

/* Close for a limit or a timeout: the one log line says why, at LOG_INFO. */
static void conn_drop(struct znst_conn *c, const char *why)
{
	if (c->state == CONN_CLOSING)
		return;
	conn_log(c, LOG_INFO, "closing: %s", why);
	c->close_logged = true;
	conn_close(c, why);
}

/* ---- Fatal errors ----------------------------------------------------------------- */

/*
 * NVMe TCP 1.0 3.6.2.10: a fatal transport error is answered with a
 * C2HTermReq carrying the error status, the offset of the offending field
 * and the offending header; the connection closes once it is sent.
 */
static void conn_fatal(struct znst_conn *c, enum nvme_tcp_fes fes, uint32_t fei,
		       const char *why)
{
	size_t len;

	if (c->state == CONN_CLOSING || c->rx.failed)
		return;
	conn_log(c, LOG_ERR, "fatal: %s (FES %#x, offset %u); terminating", why,
		 fes, fei);
	c->rx.failed = true;
	len = nvme_tcp_build_term(c->term_buf, NVME_TCP_C2H_TERM, fes, fei,
				  c->rx.hdr, c->rx.hdr_have);
	tx_init(&c->term_tx, NULL);
	tx_add(&c->term_tx, c->term_buf, len);
	c->term_tx.close_after = true;
	conn_queue_tx(c, &c->term_tx);
}

/* ---- Responses ------------------------------------------------------------------- */

/* Build the wire image of a finished request and queue it. */
void conn_submit_response(struct znst_req *req)
{
	struct znst_conn *c = req->conn;
	bool data = req->status == NVME_SC_SUCCESS && req->c2h_len;
	/* SUCCESS flag (no response capsule) only when SQ flow control is off
	 * and the host needs nothing from the CQE but the status. */
	bool success_only = data && c->sqflow_off && req->result == 0;

	if (req->timed)
		timing_lateness_complete(&c->reactor->late, req->tio.op,
					 req->deadline, znst_now_ns());
	tx_init(&req->tx, req);
	if (data) {
		size_t pdo = nvme_tcp_build_c2h(req->c2h_hdr, req->cmd.cid, 0,
				req->c2h_len, NVME_TCP_F_DATA_LAST |
				(success_only ? NVME_TCP_F_DATA_SUCCESS : 0),
				c->hdgst, c->ddgst, c->rx.hpda);

		tx_add(&req->tx, req->c2h_hdr, pdo);
		tx_add(&req->tx, req->data, req->c2h_len);
		if (c->ddgst) {
			put_le32(req->ddgst, nvme_tcp_data_digest(req->data, req->c2h_len));
			tx_add(&req->tx, req->ddgst, 4);
		}
	}
	if (!success_only) {
		struct nvme_cqe cqe = {
			.result = cpu_to_le64(req->result),
			.sq_head = cpu_to_le16(c->sqflow_off ? 0xffff :
				(uint16_t)(c->sq_consumed % (c->sqsize ? c->sqsize : 1))),
			.sq_id = cpu_to_le16(c->qid),
			.cid = req->cmd.cid,
			.status = cpu_to_le16((uint16_t)(req->status << 1)),
		};

		tx_add(&req->tx, req->rsp_hdr,
		       nvme_tcp_build_rsp(req->rsp_hdr, &cqe, c->hdgst));
	}
	/* A refused Disconnect (before Connect) leaves the queue as it was. */
	if (req->cmd.opcode == NVME_CMD_FABRICS && !req->status &&
	    ((struct nvmf_connect_cmd *)&req->cmd)->fctype == NVMF_TYPE_DISCONNECT)
		req->tx.close_after = true;
	req->state = REQ_SENDING;
	c->sending++;
	conn_queue_tx(c, &req->tx);
}

/* What the latency model needs to know about a finished command. */
static void timing_io_fill(struct znst_req *req)
{
	struct timing_io *io = &req->tio;
	uint32_t shift = req->ns->lba_shift;

	io->zoned = req->ns->csi == NVME_CSI_ZNS;
	io->offset = io->slba << shift;
	switch (io->op) {
	case TIMING_OP_READ:
	case TIMING_OP_WRITE:
	case TIMING_OP_APPEND:
	case TIMING_OP_WRITE_ZEROES:
		io->bytes = (uint64_t)io->nlb << shift;
		break;
	default:
		io->bytes = 0;
		break;
	}
	io->all = req->cmd.opcode == NVME_CMD_ZONE_MGMT_SEND &&
		  (le32_to_cpu(req->cmd.cdw13) >> 8) & 1;
}

/*
 * The one completion path of the command layer: ask the namespace's timing
 * model when this command may complete and hold it until then.
 */
void req_complete(struct znst_req *req)
{
	struct znst_conn *c = req->conn;
	uint64_t now, deadline;

	if (c->state == CONN_CLOSING) {
		req_release(req);
		return;
	}
	/* A successful controller-to-host command returns its whole buffer;
	 * a failed one returns no data. */
	req->c2h_len = !req->status && req->dir == XFER_C2H ? req->data_len : 0;
	if (!req->status && req->ns && req->ns->zone_owner)
		ns_note_zone_owner(req);
	if (!req->ns) {
		conn_submit_response(req);
		return;
	}
	if (req->ns->timing->p.kind == TIMING_MODEL_NONE) {
		conn_submit_response(req);
		return;
	}
	timing_io_fill(req);
	now = znst_now_ns();
	/* A refused command touched no media: it costs the controller's
	 * overhead only and must not advance the model's dies or zones. */
	if (req->status)
		deadline = now + req->ns->timing->p.overhead_ns;
	else
		deadline = timing_deadline(req->ns->timing, &req->tio, now);
	req->deadline = deadline;
	req->timed = true;
	if (deadline <= now || reactor_hold(c->reactor, req, deadline) != 0)
		conn_submit_response(req);
	else
		req->state = REQ_HELD;
}

/* Complete without executing: parse errors, bad SGLs, digest errors. */
static void req_fail(struct znst_req *req, nvme_status st)
{
	req->status = st;
	req->ns = NULL;
	req_complete(req);
}

static void req_execute(struct znst_req *req)
{
	req->state = REQ_EXECUTING;
	req->execute(req);
}

/* ---- Command capsules ---------------------------------------------------------- */

static nvme_status req_parse(struct znst_req *req)
{
	struct znst_conn *c = req->conn;
	const struct nvme_sqe *cmd = &req->cmd;

	if ((cmd->flags & NVME_SQE_FUSE_MASK) ||
	    (cmd->flags & NVME_SQE_PSDT_MASK) != NVME_SQE_PSDT_SGL)
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	/* Property Get/Set and Disconnect need the controller Connect binds */
	if (cmd->opcode == NVME_ADMIN_FABRICS &&
	    (c->state == CONN_LIVE ||
	     ((const struct nvmf_connect_cmd *)cmd)->fctype == NVMF_TYPE_CONNECT))
		return fabrics_parse(req);
	if (c->state != CONN_LIVE)
		return NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR;
	if (c->qid == 0) {
		if (!(c->ctrl->csts & NVME_CSTS_RDY))
			return NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR;
		return admin_parse(req);
	}
	return io_parse(req);
}

/* Check the data SGL against what the command moves (NVMe TCP 1.0 3.3). */
static nvme_status req_check_sgl(struct znst_req *req, uint32_t inline_len)
{
	const struct nvme_sgl_desc *sgl = &req->cmd.dptr;
	uint32_t len = le32_to_cpu(sgl->length);

	/* SGLS bit 18 clear: a descriptor longer than the transfer is invalid,
	 * so a command that moves no data carries a zero-length one. */
	if (req->dir == XFER_NONE)
		return len || inline_len ? NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR
					 : NVME_SC_SUCCESS;
	if (sgl->type == NVME_SGL_INCAPSULE) {
		if (req->dir != XFER_H2C)
			return NVME_SC_SGL_INVALID_TYPE | NVME_STATUS_DNR;
		if (le64_to_cpu(sgl->addr) != 0)
			return NVME_SC_SGL_INVALID_OFFSET | NVME_STATUS_DNR;
		if (len != req->data_len || inline_len != len)
			return NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR;
		return NVME_SC_SUCCESS;
	}
	if (sgl->type != NVME_SGL_TRANSPORT_DATA)
		return NVME_SC_SGL_INVALID_TYPE | NVME_STATUS_DNR;
	if (len != req->data_len || inline_len)
		return NVME_SC_SGL_INVALID_DATA | NVME_STATUS_DNR;
	return NVME_SC_SUCCESS;
}

static void send_r2t(struct znst_req *req)
{
	struct znst_conn *c = req->conn;

	tx_init(&req->r2t_tx, NULL);
	/* MAXH2CDATA >= MDTS: one R2T covers the whole transfer */
	tx_add(&req->r2t_tx, req->r2t_hdr,
	       nvme_tcp_build_r2t(req->r2t_hdr, req->cmd.cid, req->ttag, 0,
				  req->data_len, c->hdgst));
	req->state = REQ_NEED_DATA;
	conn_queue_tx(c, &req->r2t_tx);
}

bool req_take_buffer(struct znst_req *req)
{
	req->data = malloc(req->data_len);
	if (!req->data)
		return false;
	req->data_owned = true;
	req->conn->inflight += req->data_len;
	return true;
}

/* Give @req its data buffer and start it: R2T for writes, else execute. */
static void req_start_data(struct znst_req *req)
{
	if (!req_take_buffer(req))
		return req_fail(req, NVME_SC_INTERNAL);
	if (req->dir == XFER_H2C)
		return send_r2t(req);
	req_execute(req);
}

/*
 * --max-inflight-data: a connection holds at most that many bytes of data
 * buffers.  A command beyond it waits, in order, until earlier ones finish;
 * so a host that queues many large writes and never sends their data pins
 * a bounded amount of memory, and a well-behaved deep queue only slows.
 */
static bool conn_over_budget(struct znst_conn *c, uint32_t len)
{
	return c->wait_head ||
	       (c->inflight && c->inflight + len > c->reactor->daemon->cfg.max_inflight);
}

static void conn_wait_buf(struct znst_conn *c, struct znst_req *req)
{
	if (!c->inflight_logged) {
		conn_log(c, LOG_INFO, "%llu bytes of data in flight (--max-inflight-data): "
			 "further commands wait", (unsigned long long)c->inflight);
		c->inflight_logged = true;
	}
	req->state = REQ_WAIT_BUF;
	req->wait_next = NULL;
	if (c->wait_tail)
		c->wait_tail->wait_next = req;
	else
		c->wait_head = req;
	c->wait_tail = req;
}

/* Start waiting commands that now fit; called where no send is in progress. */
static void conn_wait_kick(struct znst_conn *c)
{
	/* after a fatal error nothing more starts: the TermReq goes last */
	while (c->wait_head && c->state != CONN_CLOSING && !c->rx.failed) {
		struct znst_req *req = c->wait_head;

		if (c->inflight && c->inflight + req->data_len >
				   c->reactor->daemon->cfg.max_inflight)
			return;
		c->wait_head = req->wait_next;
		if (!c->wait_head)
			c->wait_tail = NULL;
		req_start_data(req);
	}
}

/* A whole CapsuleCmd has arrived (header, in-capsule data, digests). */
static void handle_cmd(struct znst_conn *c)
{
	struct znst_req *req = c->rx.req;
	uint32_t inline_len = c->rx.data_len;
	nvme_status st;

	c->rx.req = NULL;
	c->sq_consumed++;	/* Connect itself is entry 0 */
	if (c->rx.ddgst_bad)
		return req_fail(req, NVME_SC_DATA_XFER_ERROR);
	st = req_parse(req);
	if (!st)
		st = req_check_sgl(req, inline_len);
	if (st)
		return req_fail(req, st);

	if (req->dir == XFER_H2C && inline_len) {
		/* consumed synchronously: in place in the receive buffer
		 * when the whole data came in one receive */
		req->data = c->rx.inline_ptr ? c->rx.inline_ptr : c->rx.inline_buf;
		return req_execute(req);
	}
	if (req->dir == XFER_NONE || !req->data_len || req->store_ref)
		return req_execute(req);
	if (conn_over_budget(c, req->data_len))
		return conn_wait_buf(c, req);
	req_start_data(req);
}

/* ---- Receive state machine ----------------------------------------------------- */

/* Common header checks; returns false after a fatal error. */
static bool rx_check_common(struct znst_conn *c)
{
	const struct nvme_tcp_rx_limits lim = {
		.expect_icreq = c->state == CONN_WAIT_ICREQ,
		.hdgst = c->hdgst,
		.ddgst = c->ddgst,
		.max_inline = c->inline_max,
		.maxh2cdata = c->maxh2cdata,
	};
	struct nvme_tcp_shape shape;
	struct nvme_tcp_err err;

	if (nvme_tcp_check_hdr((const void *)c->rx.hdr, &lim, &shape, &err)) {
		conn_fatal(c, err.fes, err.fei, err.why);
		return false;
	}
	c->rx.hdr_need = shape.hdr_len;
	c->rx.data_len = shape.data_len;
	return true;
}

static bool rx_check_hdgst(struct znst_conn *c)
{
	const struct nvme_tcp_hdr *h = (const void *)c->rx.hdr;

	if (!c->hdgst || h->type == NVME_TCP_ICREQ || h->type == NVME_TCP_H2C_TERM)
		return true;
	if (nvme_tcp_hdgst_ok(c->rx.hdr, h->hlen))
		return true;
	conn_fatal(c, NVME_TCP_FES_HDR_DIGEST_ERR, 0, "header digest mismatch");
	return false;
}

static void handle_icreq(struct znst_conn *c)
{
	const struct nvme_tcp_icreq *ic = (const void *)c->rx.hdr;

	if (le16_to_cpu(ic->pfv) != NVME_TCP_PFV_1_0)
		return conn_fatal(c, NVME_TCP_FES_UNSUPPORTED_PARAM,
				  offsetof(struct nvme_tcp_icreq, pfv), "unsupported PFV");
	if (ic->hpda > 31)
		return conn_fatal(c, NVME_TCP_FES_UNSUPPORTED_PARAM,
				  offsetof(struct nvme_tcp_icreq, hpda), "HPDA above 31");
	c->hdgst = ic->digest & NVME_TCP_HDR_DIGEST_ENABLE;
	c->ddgst = ic->digest & NVME_TCP_DATA_DIGEST_ENABLE;
	c->rx.hpda = ic->hpda;
	c->maxr2t = le32_to_cpu(ic->maxr2t) + 1;
	c->cpda = 0;
	c->maxh2cdata = ZNST_MAXH2CDATA;
	if (c->maxh2cdata < c->reactor->daemon->cfg.mdts)
		c->maxh2cdata = (uint32_t)c->reactor->daemon->cfg.mdts;

	tx_init(&c->icresp_tx, NULL);
	tx_add(&c->icresp_tx, c->icresp_buf,
	       nvme_tcp_build_icresp(c->icresp_buf, c->cpda,
				     (uint8_t)((c->hdgst ? NVME_TCP_HDR_DIGEST_ENABLE : 0) |
					       (c->ddgst ? NVME_TCP_DATA_DIGEST_ENABLE : 0)),
				     c->maxh2cdata));
	conn_queue_tx(c, &c->icresp_tx);
	c->state = CONN_WAIT_CONNECT;
	conn_log(c, LOG_DEBUG, "ICReq: hdgst %d ddgst %d hpda %u maxr2t %u",
		 c->hdgst, c->ddgst, ic->hpda, c->maxr2t);
}

/* Header of a CapsuleCmd complete: take a request, aim the data. */
static bool rx_start_cmd(struct znst_conn *c)
{
	struct znst_req *req;

	/* The host may have SQSIZE commands outstanding: those whose response
	 * it cannot have seen yet (a response on the send path may already
	 * have reached it, and its tag been reused). */
	if (c->state == CONN_LIVE && c->busy - c->sending >= c->sqsize) {
		conn_fatal(c, NVME_TCP_FES_PDU_SEQ_ERR, 0,
			   "host exceeded the SQSIZE it connected with");
		return false;
	}
	req = req_alloc(c);
	if (!req) {
		conn_fatal(c, NVME_TCP_FES_PDU_SEQ_ERR, 0,
			   "host exceeded the queue size");
		return false;
	}
	memcpy(&req->cmd, c->rx.hdr + sizeof(struct nvme_tcp_hdr), sizeof(req->cmd));
	c->rx.req = req;
	c->rx.dst = c->rx.inline_buf;
	return true;
}

/* Header of an H2CData PDU complete: find its request, check the window. */
static bool rx_start_h2c(struct znst_conn *c)
{
	const struct nvme_tcp_data *d = (const void *)c->rx.hdr;
	uint16_t ttag = le16_to_cpu(d->ttag);
	uint32_t datao = le32_to_cpu(d->datao), datal = le32_to_cpu(d->datal);
	struct znst_req *req;

	if (ttag >= c->nr_reqs || c->reqs[ttag].state != REQ_NEED_DATA) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR,
			   offsetof(struct nvme_tcp_data, ttag), "H2CData with unknown TTAG");
		return false;
	}
	req = &c->reqs[ttag];
	if (d->cccid != req->cmd.cid) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR,
			   offsetof(struct nvme_tcp_data, cccid), "H2CData CCCID does not match TTAG");
		return false;
	}
	if (datal != c->rx.data_len) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR,
			   offsetof(struct nvme_tcp_data, datal), "DATAL does not match PLEN");
		return false;
	}
	if (datao != req->h2c_rcvd || datal > req->data_len - datao) {
		conn_fatal(c, NVME_TCP_FES_DATA_OUT_OF_RANGE,
			   offsetof(struct nvme_tcp_data, datao), "H2CData outside the R2T window");
		return false;
	}
	if (datao + datal == req->data_len &&
	    !(d->hdr.flags & NVME_TCP_F_DATA_LAST)) {
		conn_fatal(c, NVME_TCP_FES_INVALID_PDU_HDR,
			   offsetof(struct nvme_tcp_hdr, flags), "last H2CData without LAST_PDU");
		return false;
	}
	c->rx.req = req;
	c->rx.dst = req->data + datao;
	return true;
}

static bool rx_header_done(struct znst_conn *c)
{
	const struct nvme_tcp_hdr *h = (const void *)c->rx.hdr;

	if (!rx_check_hdgst(c))
		return false;
	c->rx.ddgst_bad = false;
	c->rx.crc = 0;
	switch (h->type) {
	case NVME_TCP_ICREQ:
		handle_icreq(c);
		return !c->rx.failed;
	case NVME_TCP_H2C_TERM: {
		const struct nvme_tcp_term *t = (const void *)c->rx.hdr;

		conn_log(c, LOG_INFO, "host terminated the connection (FES %#x)",
			 le16_to_cpu(t->fes));
		conn_close(c, "H2CTermReq");
		return false;
	}
	case NVME_TCP_CMD:
		return rx_start_cmd(c);
	case NVME_TCP_H2C_DATA:
		return rx_start_h2c(c);
	}
	return false;
}

static void rx_pdu_done(struct znst_conn *c)
{
	const struct nvme_tcp_hdr *h = (const void *)c->rx.hdr;

	if (h->type == NVME_TCP_CMD) {
		handle_cmd(c);
	} else if (h->type == NVME_TCP_H2C_DATA) {
		struct znst_req *req = c->rx.req;

		c->rx.req = NULL;
		req->h2c_rcvd += c->rx.data_len;
		if (c->rx.ddgst_bad)
			req->status = NVME_SC_DATA_XFER_ERROR;
		if (req->h2c_rcvd == req->data_len) {
			if (req->status)
				req_fail(req, req->status);
			else
				req_execute(req);
		}
	}
	c->rx.hdr_have = 0;
	c->rx.phase = RX_HDR;
	c->rx.inline_ptr = NULL;
	c->rx.pdus++;
	/* a deadline may have passed while this PDU was handled */
	reactor_release_due(c->reactor);
}

/*
 * @n more bytes of the current PDU's data are in place at @bytes: in its
 * buffer, or in rbuf for in-capsule data read in place.  Once all are in,
 * its digest comes next, or the PDU is done.
 */
static void rx_data_got(struct znst_conn *c, const uint8_t *bytes, uint32_t n)
{
	if (c->ddgst)
		c->rx.crc = znst_crc32c(c->rx.crc, bytes, n);
	c->rx.data_have += n;
	if (c->rx.data_have < c->rx.data_len)
		return;
	c->rx.ddgst_have = 0;
	if (c->ddgst)
		c->rx.phase = RX_DDGST;
	else
		rx_pdu_done(c);
}

/* Feed received bytes through the PDU state machine. */
static void conn_rx_feed(struct znst_conn *c, const uint8_t *p, uint32_t n)
{
	while (n && c->state != CONN_CLOSING && !c->rx.failed) {
		uint32_t k;

		switch (c->rx.phase) {
		case RX_HDR: {
			uint32_t need = c->rx.hdr_have < sizeof(struct nvme_tcp_hdr) ?
					sizeof(struct nvme_tcp_hdr) : c->rx.hdr_need;

			k = need - c->rx.hdr_have;
			k = k < n ? k : n;
			memcpy(c->rx.hdr + c->rx.hdr_have, p, k);
			c->rx.hdr_have += k;
			p += k;
			n -= k;
			if (c->rx.hdr_have == sizeof(struct nvme_tcp_hdr)) {
				if (!rx_check_common(c))
					return;
			}
			if (c->rx.hdr_have < sizeof(struct nvme_tcp_hdr) ||
			    c->rx.hdr_have < c->rx.hdr_need)
				break;
			if (!rx_header_done(c))
				return;
			if (c->rx.data_len) {
				c->rx.data_have = 0;
				c->rx.phase = RX_DATA;
			} else {
				rx_pdu_done(c);
			}
			break;
		}
		case RX_DATA:
			k = c->rx.data_len - c->rx.data_have;
			k = k < n ? k : n;
			/* In-capsule data wholly in this receive (and no
			 * digest to wait for): the command reads it in place. */
			if (!c->rx.data_have && k == c->rx.data_len && !c->ddgst &&
			    c->rx.dst == c->rx.inline_buf)
				c->rx.inline_ptr = (uint8_t *)p;
			else
				memcpy(c->rx.dst + c->rx.data_have, p, k);
			rx_data_got(c, p, k);
			p += k;
			n -= k;
			break;
		case RX_DDGST:
			k = 4 - c->rx.ddgst_have;
			k = k < n ? k : n;
			memcpy(c->rx.ddgst + c->rx.ddgst_have, p, k);
			c->rx.ddgst_have += k;
			p += k;
			n -= k;
			if (c->rx.ddgst_have < 4)
				break;
			/* NVMe TCP 1.0 3.6.1: a data digest error fails the
			 * command, not the connection. */
			if (get_le32(c->rx.ddgst) != c->rx.crc) {
				conn_log(c, LOG_ERR, "data digest mismatch");
				c->rx.ddgst_bad = true;
			}
			rx_pdu_done(c);
			break;
		}
	}
}

void conn_rx_ready(struct znst_conn *c, int res)
{
	bool direct = c->recv_direct;

	c->recv_armed = false;
	c->recv_direct = false;
	if (c->state == CONN_CLOSING)
		return;
	if (res <= 0) {
		conn_close(c, res == 0 ? "peer closed" : strerror(-res));
		return;
	}
	if (direct)	/* straight into the buffer (reactor_arm_recv) */
		rx_data_got(c, c->rx.dst + c->rx.data_have, (uint32_t)res);
	else
		conn_rx_feed(c, c->rbuf, (uint32_t)res);
	if (c->state == CONN_CLOSING || c->rx.failed)
		return;
	/* Stamp the first byte of each unfinished PDU (--pdu-timeout); one
	 * clock read per PDU that spans receives, none otherwise. */
	if (c->rx.phase == RX_HDR && !c->rx.hdr_have)
		c->rx.partial_since = 0;
	else if (!c->rx.partial_since || c->rx.partial_pdu != c->rx.pdus) {
		c->rx.partial_since = znst_now_ns();
		c->rx.partial_pdu = c->rx.pdus;
	}
	reactor_arm_recv(c);
}

/* ---- Transmit completion -------------------------------------------------------- */

void conn_tx_done(struct znst_conn *c, int res)
{
	uint32_t left;

	c->send_armed = false;
	if (res < 0) {
		if (c->state != CONN_CLOSING)
			conn_close(c, strerror(-res));
		res = 0;
		/* drop everything queued: nothing more can be sent */
		while (c->tx_head) {
			struct znst_tx *tx = c->tx_head;

			c->tx_head = tx->next;
			if (tx->req && tx->req->state == REQ_SENDING)
				req_release(tx->req);
		}
		c->tx_tail = NULL;
		return;
	}
	left = (uint32_t)res;
	while (c->tx_head) {
		struct znst_tx *tx = c->tx_head;
		uint32_t rem = tx->total - tx->done;

		if (left < rem) {
			tx->done += left;
			break;
		}
		left -= rem;
		tx->done = tx->total;
		tx->queued = false;
		c->tx_head = tx->next;
		if (!c->tx_head)
			c->tx_tail = NULL;
		if (tx->req)
			req_release(tx->req);
		if (tx->close_after) {
			conn_close(c, tx == &c->term_tx ? "terminated after fatal error"
							: "Disconnect");
		}
	}
	if (c->state == CONN_CLOSING)
		return;
	/* Buffers freed above may let waiting commands start; only now,
	 * with the FIFO consistent, may they queue R2Ts and responses. */
	conn_wait_kick(c);
	if (c->tx_head)
		reactor_arm_send(c);
}

/* ---- Life cycle ------------------------------------------------------------------- */

struct znst_conn *conn_create(struct znst_reactor *r, int fd)
{
	const struct znst_config *cfg = &r->daemon->cfg;
	struct znst_conn *c = calloc(1, sizeof(*c));
	struct sockaddr_storage peer;
	socklen_t sl = sizeof(peer);
	char host[INET6_ADDRSTRLEN] = "?";
	int one = 1;

	if (!c)
		return NULL;
	c->reactor = r;
	c->fd = fd;
	c->id = ++r->next_conn_id * 1000 + r->index;
	c->state = CONN_WAIT_ICREQ;
	c->created_ns = znst_now_ns();
	c->nr_reqs = cfg->queue_depth + ZNST_REQ_SLACK;
	c->inline_max = ZNST_INLINE_IO;
	c->rcap = ZNST_RBUF_SIZE;
	c->reqs = calloc(c->nr_reqs, sizeof(*c->reqs));
	c->free_stack = calloc(c->nr_reqs, sizeof(*c->free_stack));
	c->rbuf = malloc(c->rcap);
	c->rx.inline_buf = malloc(NVME_TCP_ADMIN_CCSZ > ZNST_INLINE_IO ?
				  NVME_TCP_ADMIN_CCSZ : ZNST_INLINE_IO);
	if (!c->reqs || !c->free_stack || !c->rbuf || !c->rx.inline_buf) {
		free(c->reqs);
		free(c->free_stack);
		free(c->rbuf);
		free(c->rx.inline_buf);
		free(c);
		return NULL;
	}
	for (uint32_t i = 0; i < c->nr_reqs; i++) {
		c->reqs[i].state = REQ_FREE;
		c->reqs[i].conn = c;
		c->reqs[i].ttag = (uint16_t)i;
		c->free_stack[i] = (uint16_t)(c->nr_reqs - 1 - i);
	}
	c->free_top = c->nr_reqs;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	sl = sizeof(c->local);
	getsockname(fd, (struct sockaddr *)&c->local, &sl);
	sl = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &sl) == 0) {
		uint16_t port = 0;

		if (peer.ss_family == AF_INET6) {
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr,
				  host, sizeof(host));
			port = ntohs(((struct sockaddr_in6 *)&peer)->sin6_port);
		} else {
			inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr,
				  host, sizeof(host));
			port = ntohs(((struct sockaddr_in *)&peer)->sin_port);
		}
		snprintf(c->peer, sizeof(c->peer), "%s:%u", host, port);
	}
	c->next = r->conns;
	if (r->conns)
		r->conns->prev = c;
	r->conns = c;
	r->nr_conns++;
	conn_log(c, LOG_DEBUG, "accepted");
	reactor_arm_recv(c);
	return c;
}

/*
 * Stop using a connection: pull its held completions out of the deadline
 * queue, drop its controller reference, and shut the socket so pending
 * io_uring operations finish; conn_maybe_free() frees it after the last.
 */
void conn_close(struct znst_conn *c, const char *why)
{
	struct znst_ctrl *ctrl = c->ctrl;

	if (c->state == CONN_CLOSING)
		return;
	if (!c->close_logged)
		conn_log(c, c->state == CONN_LIVE ? LOG_INFO : LOG_DEBUG,
			 "closing: %s", why);
	c->state = CONN_CLOSING;
	for (uint32_t i = 0; i < c->nr_reqs; i++) {
		struct znst_req *req = &c->reqs[i];

		if (req->state == REQ_HELD) {
			reactor_unhold(c->reactor, req);
			req_release(req);
		} else if (req->state == REQ_NEED_DATA && c->recv_direct &&
			   req == c->rx.req) {
			/* a receive is writing into its buffer: freed by
			 * conn_maybe_free() once that receive is done */
		} else if (req->state == REQ_AER_PENDING ||
			   req->state == REQ_NEED_DATA ||
			   req->state == REQ_WAIT_BUF) {
			req_release(req);
		}
	}
	c->wait_head = c->wait_tail = NULL;
	if (c->rx.req && c->rx.req->state == REQ_EXECUTING)
		req_release(c->rx.req);
	c->rx.req = NULL;
	if (ctrl) {
		if (c->qid) {
			pthread_mutex_lock(&ctrl->subsys->lock);
			ctrl->qids[c->qid / 64] &= ~(1ull << (c->qid % 64));
			pthread_mutex_unlock(&ctrl->subsys->lock);
		}
		if (ctrl->admin == c) {
			/* The admin queue going away ends the controller
			 * (NVMe over Fabrics 1.1 3.3): its I/O queues close. */
			ctrl->admin = NULL;
			ctrl_fail_aers(ctrl);
			atomic_store(&ctrl->dead, true);
		}
		c->ctrl = NULL;
		ctrl_put(ctrl);
	}
	/* Freed later by conn_maybe_free() at a safe point of the reactor
	 * loop, never here: callers up the stack still hold @c. */
	shutdown(c->fd, SHUT_RDWR);
}

void conn_maybe_free(struct znst_conn *c)
{
	struct znst_reactor *r = c->reactor;

	if (c->state != CONN_CLOSING || c->ops_inflight || c->send_armed ||
	    c->recv_armed || c->recv_wanted)
		return;
	while (c->tx_head) {
		struct znst_tx *tx = c->tx_head;

		c->tx_head = tx->next;
		if (tx->req && tx->req->state == REQ_SENDING)
			req_release(tx->req);
	}
	for (uint32_t i = 0; i < c->nr_reqs; i++)
		if (c->reqs[i].data_owned)
			free(c->reqs[i].data);
	if (c->prev)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	r->nr_conns--;
	atomic_fetch_sub(&r->daemon->nr_conns, 1);	/* taken at accept */
	close(c->fd);
	free(c->reqs);
	free(c->free_stack);
	free(c->rbuf);
	free(c->rx.inline_buf);
	free(c);
}

/* Periodic checks: handshake deadline, keep alive, controller teardown. */
void conn_tick(struct znst_conn *c, uint64_t now)
{
	const struct znst_config *cfg = &c->reactor->daemon->cfg;
	struct znst_ctrl *ctrl = c->ctrl;
	char why[96];

	if (c->state == CONN_CLOSING)
		return;
	if (c->rx.partial_since && now - c->rx.partial_since > cfg->pdu_timeout) {
		snprintf(why, sizeof(why), "PDU unfinished %llu ms after its first byte "
			 "(--pdu-timeout)",
			 (unsigned long long)((now - c->rx.partial_since) / 1000000));
		conn_drop(c, why);
		return;
	}
	if (c->state != CONN_LIVE) {
		if (now - c->created_ns > cfg->handshake_timeout) {
			snprintf(why, sizeof(why), "no %s within %llu ms (--handshake-timeout)",
				 c->state == CONN_WAIT_ICREQ ? "ICReq" : "Connect",
				 (unsigned long long)(cfg->handshake_timeout / 1000000));
			conn_drop(c, why);
		}
		return;
	}
	if (atomic_load(&ctrl->dead)) {
		conn_close(c, "controller torn down");
		return;
	}
	if (ctrl->admin == c && ctrl->kato_ms) {
		uint64_t last = atomic_load(&ctrl->last_ka_ns);

		/* NVMe base 2.0 3.9: no Keep Alive within KATO ends the
		 * controller; its queues and open resources go with it. */
		if (now > last && now - last > (uint64_t)ctrl->kato_ms * 1000000ull) {
			znst_log(c->reactor->daemon, LOG_INFO,
				 "controller %u (%s): keep alive timeout (%u ms) expired",
				 ctrl->cntlid, ctrl->hostnqn, ctrl->kato_ms);
			atomic_store(&ctrl->dead, true);
			conn_close(c, "keep alive timeout");
		}
	}
}
