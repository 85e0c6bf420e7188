/* SPDX-License-Identifier: MIT */
/*
 * I/O command set handlers: NVM (Read, Write, Flush, Write Zeroes) on both
 * namespaces, and the Zoned Namespace commands (Zone Append, Zone
 * Management Send/Receive) on the zoned one; the optional NVM commands
 * (Compare, Verify, Dataset Management, Copy) on both when enabled.  Zone rules live in zns/;
 * this file maps commands onto it and fills the timing description.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/zns.h"
#include "target/core.h"

static void req_done(struct znst_req *req, nvme_status st)
{
	req->status = st;
	req_complete(req);
}

/* After a write into the zone of @lba: keep memory ahead of its write
 * pointer populated (zns_prefault_hint). */
static void zone_prefault(struct znst_req *req, uint64_t lba)
{
	struct znst_ns *ns = req->ns;
	uint64_t off, len;

	if (zns_prefault_hint(&ns->zoned, lba, &off, &len))
		prefault_push(&req->conn->reactor->daemon->prefault,
			      (void *)znst_store_ptr(&ns->zoned.store, off), len);
}

static bool ns_range_ok(const struct znst_ns *ns, uint64_t slba, uint32_t nlb)
{
	return slba < ns->nsze && nlb <= ns->nsze - slba;
}

/*
 * A Read sends straight from the store where it can (store_ref): no buffer,
 * no copy; the send path reads the bytes when it sends them.  Otherwise
 * (unwritten blocks to zero, a read across zones) it takes a buffer now.
 */
static void exec_read(struct znst_req *req)
{
	struct znst_ns *ns = req->ns;
	uint64_t slba = nvme_sqe_slba(&req->cmd);
	uint32_t nlb = nvme_sqe_nlb(&req->cmd);
	nvme_status st = NVME_SC_SUCCESS;
	const void *ref = NULL;

	if (req->store_ref) {
		if (ns->csi == NVME_CSI_ZNS)
			st = zns_read_ref(&ns->zoned, slba, nlb, &ref);
		else if (!ns_range_ok(ns, slba, nlb))
			st = NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
		else
			ref = znst_store_ptr(&ns->store, slba << ns->lba_shift);
		if (st || ref) {
			req->data = (uint8_t *)ref;
			return req_done(req, st);
		}
		if (!req_take_buffer(req))
			return req_done(req, NVME_SC_INTERNAL);
	}
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
		if (!st)
			zone_prefault(req, slba);
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
		zone_prefault(req, alba);
	}
	req_done(req, st);
}

/* Compare (data) and Verify (no data): a read that returns nothing. */
static void exec_compare(struct znst_req *req)
{
	struct znst_ns *ns = req->ns;
	uint64_t slba = nvme_sqe_slba(&req->cmd);
	uint32_t nlb = nvme_sqe_nlb(&req->cmd);
	const void *data = req->cmd.opcode == NVME_CMD_COMPARE ? req->data : NULL;
	nvme_status st = NVME_SC_SUCCESS;

	if (ns->csi == NVME_CSI_ZNS) {
		st = zns_compare(&ns->zoned, slba, nlb, data);
	} else if (!ns_range_ok(ns, slba, nlb)) {
		st = NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	} else if (data) {
		size_t len = (size_t)nlb << ns->lba_shift;
		uint8_t *buf = malloc(len);

		if (!buf)
			return req_done(req, NVME_SC_INTERNAL);
		znst_store_read(&ns->store, slba << ns->lba_shift, buf, len);
		if (memcmp(buf, data, len))
			st = NVME_SC_COMPARE_FAILED | NVME_STATUS_DNR;
		free(buf);
	}
	req_done(req, st);
}

/* Dataset Management: deallocate on the regular namespace; the other
 * attributes are hints (NVM command set 3.2.3) and need nothing. */
static void exec_dsm(struct znst_req *req)
{
	struct znst_ns *ns = req->ns;
	const struct nvme_dsm_range *r = (const void *)req->data;
	uint32_t nr = nvme_dsm_nr(&req->cmd);
	bool dealloc = le32_to_cpu(req->cmd.cdw11) & NVME_DSM_AD;

	for (uint32_t i = 0; i < nr; i++) {
		uint64_t slba = le64_to_cpu(r[i].slba);
		uint32_t nlb = le32_to_cpu(r[i].nlb);

		if (nlb && !ns_range_ok(ns, slba, nlb))
			return req_done(req, NVME_SC_LBA_RANGE | NVME_STATUS_DNR);
	}
	/* A zoned namespace frees blocks only by Reset Zone: deallocate
	 * is advisory there and changes nothing. */
	if (!dealloc || ns->csi == NVME_CSI_ZNS)
		return req_done(req, NVME_SC_SUCCESS);
	for (uint32_t i = 0; i < nr; i++)
		znst_store_discard(&ns->store,
				   le64_to_cpu(r[i].slba) << ns->lba_shift,
				   (uint64_t)le32_to_cpu(r[i].nlb) << ns->lba_shift);
	req_done(req, NVME_SC_SUCCESS);
}

/* Copy limits advertised in Identify Namespace (MSSRL, MCL, MSRC + 1). */
uint32_t io_copy_max_blocks(const struct znst_config *cfg)
{
	uint64_t n = cfg->mdts / cfg->lba_size;

	return n > 0xffff ? 0xffff : (uint32_t)n;
}

/*
 * Copy (NVM command set 3.2.2), descriptor format 0: read every source
 * range, then write the whole at SDLBA.  On the zoned namespace that is a
 * write, so SDLBA must be the destination zone's write pointer.
 */
static void exec_copy(struct znst_req *req)
{
	struct znst_ns *ns = req->ns;
	const struct znst_config *cfg = &req->conn->reactor->daemon->cfg;
	const struct nvme_copy_range *r = (const void *)req->data;
	uint32_t nr = nvme_copy_nr(&req->cmd);
	uint64_t sdlba = nvme_sqe_slba(&req->cmd);
	uint64_t total = 0;
	nvme_status st = NVME_SC_SUCCESS;
	uint8_t *buf;

	for (uint32_t i = 0; i < nr; i++) {
		uint32_t nlb = (uint32_t)le16_to_cpu(r[i].nlb) + 1;	/* 0's based */

		if (nlb > io_copy_max_blocks(cfg))
			return req_done(req, NVME_SC_CMD_SIZE_LIMIT | NVME_STATUS_DNR);
		if (!ns_range_ok(ns, le64_to_cpu(r[i].slba), nlb))
			return req_done(req, NVME_SC_LBA_RANGE | NVME_STATUS_DNR);
		total += nlb;
	}
	if (total > io_copy_max_blocks(cfg))
		return req_done(req, NVME_SC_CMD_SIZE_LIMIT | NVME_STATUS_DNR);
	if (!ns_range_ok(ns, sdlba, (uint32_t)total))
		return req_done(req, NVME_SC_LBA_RANGE | NVME_STATUS_DNR);
	buf = malloc(total << ns->lba_shift);
	if (!buf)
		return req_done(req, NVME_SC_INTERNAL);
	for (uint64_t i = 0, off = 0; !st && i < nr; i++) {
		uint64_t slba = le64_to_cpu(r[i].slba);
		uint32_t nlb = (uint32_t)le16_to_cpu(r[i].nlb) + 1;

		if (ns->csi == NVME_CSI_ZNS)
			st = zns_read(&ns->zoned, slba, nlb, buf + off);
		else
			znst_store_read(&ns->store, slba << ns->lba_shift,
					buf + off, (size_t)nlb << ns->lba_shift);
		off += (uint64_t)nlb << ns->lba_shift;
	}
	if (!st) {
		if (ns->csi == NVME_CSI_ZNS)
			st = zns_write(&ns->zoned, sdlba, (uint32_t)total, buf);
		else
			znst_store_write(&ns->store, sdlba << ns->lba_shift, buf,
					 total << ns->lba_shift);
	}
	free(buf);
	req->tio.nlb = (uint32_t)total;
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
	[NVME_ZSA_SET_DESC_EXT]	= { ZNS_ACT_NR,		TIMING_OP_ZONE_OTHER },
	[NVME_ZSA_ZRWA_FLUSH]	= { ZNS_ACT_NR,		TIMING_OP_ZONE_OTHER },
};

static void exec_zone_send(struct znst_req *req)
{
	struct zns_ns *zns = &req->ns->zoned;
	uint64_t slba = nvme_sqe_slba(&req->cmd);
	bool all = nvme_zsa_select_all(&req->cmd);
	uint8_t zsa = nvme_zsa_of(&req->cmd);
	nvme_status st;

	switch (zsa) {
	case NVME_ZSA_SET_DESC_EXT:
		st = zns_set_desc_ext(zns, slba, req->data,
				      nvme_zsa_zrwa(&req->cmd));
		break;
	case NVME_ZSA_ZRWA_FLUSH:
		st = zns_zrwa_flush(zns, slba);
		break;
	case NVME_ZSA_OPEN:
		if (nvme_zsa_zrwa(&req->cmd)) {
			st = zns_open_zrwa(zns, slba);
			break;
		}
		/* fallthrough */
	default:
		st = zns_mgmt_send(zns, slba, zsa_map[zsa].act, all);
		break;
	}
	req_done(req, st);
}

static void exec_zone_recv(struct znst_req *req)
{
	nvme_status st;

	st = zns_report(&req->ns->zoned, nvme_sqe_slba(&req->cmd),
			nvme_zrasf_of(&req->cmd), nvme_zra_partial(&req->cmd),
			nvme_zra_of(&req->cmd) == NVME_ZRA_EXT_REPORT,
			req->data, req->data_len);
	req_done(req, st);
}

/* Zone Management Send, checks that need only the SQE (ZNS 1.1 4.4.3). */
static nvme_status zone_send_parse(struct znst_req *req,
				   const struct znst_config *cfg)
{
	const struct zns_params *p = &req->ns->zoned.p;
	uint8_t zsa = nvme_zsa_of(&req->cmd);
	bool all = nvme_zsa_select_all(&req->cmd);

	if (zsa >= sizeof(zsa_map) / sizeof(zsa_map[0]) || !zsa_map[zsa].op ||
	    nvme_zsa_rsvd(&req->cmd) || req->cmd.cdw12 || req->cmd.cdw14 ||
	    req->cmd.cdw15)
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	/* ZSASO (ZRWAA) only means something to Open and Set Zone
	 * Descriptor Extension; it needs ZRWASUP */
	if (nvme_zsa_zrwa(&req->cmd) &&
	    ((zsa != NVME_ZSA_OPEN && zsa != NVME_ZSA_SET_DESC_EXT) || !p->numzrwa ||
	     all))
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	req->tio.all = all;
	req->tio.op = zsa_map[zsa].op;
	req->execute = exec_zone_send;
	switch (zsa) {
	case NVME_ZSA_SET_DESC_EXT:
		if (all || !p->zdes)
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		req->dir = XFER_H2C;
		req->data_len = p->zdes * 64;
		break;
	case NVME_ZSA_ZRWA_FLUSH:
		if (all || !p->numzrwa)
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		break;
	default:
		break;
	}
	(void)cfg;
	return NVME_SC_SUCCESS;
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
	/* Flush alone takes the broadcast NSID (VWC bits 2:1 say so) */
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
		/* with a data digest the bytes must not change between the
		 * digest and the send: those reads copy */
		req->store_ref = !conn->ddgst;
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
	case NVME_CMD_COMPARE:
		if (!cfg->cmd_compare)
			break;
		req->execute = exec_compare;
		req->dir = XFER_H2C;
		req->tio.op = TIMING_OP_READ;
		return rw_len(req, cfg->mdts);
	case NVME_CMD_VERIFY:
		if (!cfg->cmd_verify)
			break;
		/* no data moves: MDTS does not apply (NVM 3.3.7) */
		req->execute = exec_compare;
		req->tio.op = TIMING_OP_READ;
		return NVME_SC_SUCCESS;
	case NVME_CMD_DSM:
		if (!cfg->cmd_dsm)
			break;
		req->execute = exec_dsm;
		req->dir = XFER_H2C;
		req->data_len = nvme_dsm_nr(&req->cmd) * sizeof(struct nvme_dsm_range);
		req->tio.op = TIMING_OP_WRITE_ZEROES;
		req->tio.nlb = 0;
		return NVME_SC_SUCCESS;
	case NVME_CMD_COPY:
		if (!cfg->cmd_copy)
			break;
		/* only source range format 0 (OCFS bit 0); more ranges than
		 * MSRC + 1 is Command Size Limit Exceeded (NVM 3.3.1) */
		if (nvme_copy_desfmt(&req->cmd) != 0)
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		if (nvme_copy_nr(&req->cmd) > ZNST_COPY_MAX_RANGES)
			return NVME_SC_CMD_SIZE_LIMIT | NVME_STATUS_DNR;
		req->execute = exec_copy;
		req->dir = XFER_H2C;
		req->data_len = nvme_copy_nr(&req->cmd) * sizeof(struct nvme_copy_range);
		req->tio.op = TIMING_OP_WRITE;
		return NVME_SC_SUCCESS;
	case NVME_CMD_ZONE_APPEND:
		if (!zoned)
			break;
		req->execute = exec_append;
		req->dir = XFER_H2C;
		req->tio.op = TIMING_OP_APPEND;
		/* ZNS 1.1 4.3: data size above ZASL is an invalid field */
		return rw_len(req, cfg->zoned.zone_append_max);
	case NVME_CMD_ZONE_MGMT_SEND:
		if (!zoned)
			break;
		return zone_send_parse(req, cfg);
	case NVME_CMD_ZONE_MGMT_RECV: {
		uint64_t len = nvme_zmr_len(&req->cmd);
		uint8_t zra = nvme_zra_of(&req->cmd);

		if (!zoned)
			break;
		if ((zra != NVME_ZRA_REPORT &&
		     (zra != NVME_ZRA_EXT_REPORT || !req->ns->zoned.p.zdes)) ||
		    nvme_zra_rsvd(&req->cmd) || req->cmd.cdw14 || req->cmd.cdw15 ||
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
