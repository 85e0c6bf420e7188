/* SPDX-License-Identifier: MIT */
/*
 * I/O command set handlers: NVM (Read, Write, Flush, Write Zeroes) on both
 * namespaces, and the Zoned Namespace commands (Zone Append, Zone
 * Management Send/Receive) on the zoned one.  Zone rules live in zns/;
 * this file maps commands onto it and fills the timing description.
 */
#include <string.h>

#include "proto/zns.h"
#include "target/core.h"

static void req_done(struct znst_req *req, nvme_status st)
{
	req->status = st;
	req_complete(req);
}

static bool ns_range_ok(const struct znst_ns *ns, uint64_t slba, uint32_t nlb)
{
	return slba < ns->nsze && nlb <= ns->nsze - slba;
}

static void exec_read(struct znst_req *req)
{
	struct znst_ns *ns = req->ns;
	uint64_t slba = nvme_sqe_slba(&req->cmd);
	uint32_t nlb = nvme_sqe_nlb(&req->cmd);
	nvme_status st = NVME_SC_SUCCESS;

	if (ns->csi == NVME_CSI_ZNS) {
		st = zns_read(&ns->zoned, slba, nlb, req->data);
	} else if (!ns_range_ok(ns, slba, nlb)) {
		st = NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	} else {
		znst_store_read(&ns->store, slba << ns->lba_shift, req->data,
				req->data_len);
	}
	req_done(req, st);
}

static void exec_write(struct znst_req *req)
{
	struct znst_ns *ns = req->ns;
	uint64_t slba = nvme_sqe_slba(&req->cmd);
	uint32_t nlb = nvme_sqe_nlb(&req->cmd);
	bool zeroes = req->cmd.opcode == NVME_CMD_WRITE_ZEROES;
	nvme_status st = NVME_SC_SUCCESS;

	if (ns->csi == NVME_CSI_ZNS) {
		st = zns_write(&ns->zoned, slba, nlb, zeroes ? NULL : req->data);
	} else if (!ns_range_ok(ns, slba, nlb)) {
		st = NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	} else if (zeroes) {
		znst_store_discard(&ns->store, slba << ns->lba_shift,
				   (uint64_t)nlb << ns->lba_shift);
	} else {
		znst_store_write(&ns->store, slba << ns->lba_shift, req->data,
				 req->data_len);
	}
	req_done(req, st);
}

static void exec_flush(struct znst_req *req)
{
	/* RAM store: data is durable for the life of the process once the
	 * write completed; there is no volatile cache to drain. */
	req_done(req, NVME_SC_SUCCESS);
}

static void exec_append(struct znst_req *req)
{
	uint64_t alba = 0;
	nvme_status st;

	st = zns_append(&req->ns->zoned, nvme_sqe_slba(&req->cmd),
			nvme_sqe_nlb(&req->cmd), req->data, &alba);
	if (!st) {
		req->result = alba;
		req->tio.slba = alba;
	}
	req_done(req, st);
}

static const struct {
	enum zns_action	act;
	enum timing_op	op;
} zsa_map[] = {
	[NVME_ZSA_CLOSE]	= { ZNS_ACT_CLOSE,	TIMING_OP_ZONE_CLOSE },
	[NVME_ZSA_FINISH]	= { ZNS_ACT_FINISH,	TIMING_OP_ZONE_FINISH },
	[NVME_ZSA_OPEN]		= { ZNS_ACT_OPEN,	TIMING_OP_ZONE_OPEN },
	[NVME_ZSA_RESET]	= { ZNS_ACT_RESET,	TIMING_OP_ZONE_RESET },
	[NVME_ZSA_OFFLINE]	= { ZNS_ACT_OFFLINE,	TIMING_OP_ZONE_OTHER },
};

static void exec_zone_send(struct znst_req *req)
{
	uint8_t zsa = nvme_zsa_of(&req->cmd);

	req_done(req, zns_mgmt_send(&req->ns->zoned, nvme_sqe_slba(&req->cmd),
				    zsa_map[zsa].act,
				    nvme_zsa_select_all(&req->cmd)));
}

static void exec_zone_recv(struct znst_req *req)
{
	nvme_status st;

	st = zns_report(&req->ns->zoned, nvme_sqe_slba(&req->cmd),
			nvme_zrasf_of(&req->cmd), nvme_zra_partial(&req->cmd),
			req->data, req->data_len);
	req_done(req, st);
}

/* Data transfer length of an LBA-addressed command, checked against MDTS. */
static nvme_status rw_len(struct znst_req *req, uint64_t limit)
{
	uint64_t len = (uint64_t)nvme_sqe_nlb(&req->cmd) << req->ns->lba_shift;

	if (len > limit)
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	req->data_len = (uint32_t)len;
	return NVME_SC_SUCCESS;
}

nvme_status io_parse(struct znst_req *req)
{
	struct znst_conn *conn = req->conn;
	const struct znst_config *cfg = &conn->reactor->daemon->cfg;
	uint32_t nsid = le32_to_cpu(req->cmd.nsid);
	bool zoned;

	if (!(conn->ctrl->csts & NVME_CSTS_RDY))
		return NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR;
	if (req->cmd.opcode == NVME_CMD_FLUSH && nsid == NVME_NSID_BROADCAST) {
		req->execute = exec_flush;
		req->tio.op = TIMING_OP_FLUSH;
		return NVME_SC_SUCCESS;
	}
	req->ns = subsys_ns(conn->subsys, nsid);
	if (!req->ns)
		return NVME_SC_INVALID_NS | NVME_STATUS_DNR;
	zoned = req->ns->csi == NVME_CSI_ZNS;
	req->tio.slba = nvme_sqe_slba(&req->cmd);
	req->tio.nlb = nvme_sqe_nlb(&req->cmd);

	switch (req->cmd.opcode) {
	case NVME_CMD_READ:
		req->execute = exec_read;
		req->dir = XFER_C2H;
		req->tio.op = TIMING_OP_READ;
		return rw_len(req, cfg->mdts);
	case NVME_CMD_WRITE:
		req->execute = exec_write;
		req->dir = XFER_H2C;
		req->tio.op = TIMING_OP_WRITE;
		return rw_len(req, cfg->mdts);
	case NVME_CMD_WRITE_ZEROES:
		req->execute = exec_write;
		req->tio.op = TIMING_OP_WRITE_ZEROES;
		return NVME_SC_SUCCESS;
	case NVME_CMD_FLUSH:
		req->execute = exec_flush;
		req->tio.op = TIMING_OP_FLUSH;
		return NVME_SC_SUCCESS;
	case NVME_CMD_ZONE_APPEND:
		if (!zoned)
			break;
		req->execute = exec_append;
		req->dir = XFER_H2C;
		req->tio.op = TIMING_OP_APPEND;
		/* ZNS 1.1 4.3: data size above ZASL is an invalid field */
		return rw_len(req, cfg->zoned.zone_append_max);
	case NVME_CMD_ZONE_MGMT_SEND: {
		uint8_t zsa = nvme_zsa_of(&req->cmd);

		if (!zoned)
			break;
		if (zsa >= sizeof(zsa_map) / sizeof(zsa_map[0]) ||
		    !zsa_map[zsa].op)
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		req->execute = exec_zone_send;
		req->tio.op = zsa_map[zsa].op;
		return NVME_SC_SUCCESS;
	}
	case NVME_CMD_ZONE_MGMT_RECV: {
		uint64_t len = nvme_zmr_len(&req->cmd);

		if (!zoned)
			break;
		if (nvme_zra_of(&req->cmd) != NVME_ZRA_REPORT ||
		    len > cfg->mdts || len < sizeof(struct nvme_zone_report_hdr))
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		req->execute = exec_zone_recv;
		req->dir = XFER_C2H;
		req->data_len = (uint32_t)len;
		req->tio.op = TIMING_OP_REPORT;
		return NVME_SC_SUCCESS;
	}
	default:
		break;
	}
	return NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR;
}
