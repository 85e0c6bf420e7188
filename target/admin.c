/* SPDX-License-Identifier: MIT */
/*
 * Fabrics commands (Connect, Property Get/Set, Disconnect) and the admin
 * command set of the NVM and discovery controllers: Identify, Get Log Page,
 * Set/Get Features, Asynchronous Event Request, Keep Alive, Abort.
 *
 * *_parse() checks what can be checked from the SQE alone and picks the
 * handler; handlers fill req->data / req->result / req->status and call
 * req_complete() exactly once (AERs later, when an event fires).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include "proto/zns.h"
#include "target/core.h"

#define ZNST_KAS_100MS		1
#define ZNST_AERL		(ZNST_MAX_AER - 1)	/* 0's based */
#define ZNST_ELPE		0			/* 0's based: one entry */

static void req_done(struct znst_req *req, nvme_status st)
{
	req->status = st;
	req_complete(req);
}

static bool subsys_is_disc(const struct znst_req *req)
{
	return req->conn->subsys && req->conn->subsys->type == ZNST_SUBSYS_DISCOVERY;
}

/* Copy a (possibly partial) window of a log page into the request buffer:
 * Get Log Page moves NUMD dwords starting at byte offset LPO. */
static nvme_status copy_log(struct znst_req *req, const void *page, size_t len)
{
	uint64_t off = nvme_sqe_log_offset(&req->cmd);

	/* CDW14 bit 23 (OT): index offsets, which no page here supports
	 * (IOS clear in log page 00h) */
	if (off & 3 || le32_to_cpu(req->cmd.cdw14) & (1u << 23))
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	if (off > len)
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	memset(req->data, 0, req->data_len);
	memcpy(req->data, (const uint8_t *)page + off,
	       len - off < req->data_len ? len - off : req->data_len);
	return NVME_SC_SUCCESS;
}

/* ---- Fabrics ---------------------------------------------------------------- */

static uint64_t ctrl_cap(const struct znst_ctrl *ctrl)
{
	uint64_t cap = 0;

	cap |= (uint64_t)(ctrl->max_qsize - 1);		/* MQES, 0's based */
	cap |= 1ull << 16;				/* CQR */
	cap |= 15ull << 24;				/* TO: 7.5 s */
	cap |= 1ull << 37;				/* CSS: NVM command set */
	if (ctrl->subsys->type == ZNST_SUBSYS_NVM)
		cap |= 1ull << 43;			/* CSS: I/O command sets (ZNS) */
	/* MPSMIN = MPSMAX = 0: 4 KiB */
	return cap;
}

static void exec_prop_get(struct znst_req *req)
{
	const struct nvmf_property_cmd *c = (const void *)&req->cmd;
	struct znst_ctrl *ctrl = req->conn->ctrl;
	bool wide = c->attrib & 1;
	uint32_t ofst = le32_to_cpu(c->offset);

	switch (ofst) {
	case NVME_REG_CAP:
		if (!wide)
			break;
		req->result = ctrl_cap(ctrl);
		return req_done(req, NVME_SC_SUCCESS);
	case NVME_REG_VS:
		if (wide)
			break;
		req->result = NVME_VS(2, 0, 0);
		return req_done(req, NVME_SC_SUCCESS);
	case NVME_REG_CC:
		if (wide)
			break;
		req->result = ctrl->cc;
		return req_done(req, NVME_SC_SUCCESS);
	case NVME_REG_CSTS:
		if (wide)
			break;
		req->result = ctrl->csts;
		return req_done(req, NVME_SC_SUCCESS);
	default:
		break;
	}
	req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
}

/* NVMe base 2.0 3.5.1: controller enable, reset and shutdown via CC. */
static void ctrl_write_cc(struct znst_ctrl *ctrl, uint32_t cc)
{
	uint32_t old = ctrl->cc;

	ctrl->cc = cc;
	if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN)) {
		unsigned css = NVME_CC_CSS(cc);
		bool css_ok = css == NVME_CC_CSS_NVM ||
			(css == NVME_CC_CSS_CSI && ctrl->subsys->type == ZNST_SUBSYS_NVM);

		if (!css_ok || NVME_CC_MPS(cc) != 0 ||
		    (ctrl->subsys->type == ZNST_SUBSYS_NVM &&
		     (NVME_CC_IOSQES(cc) != 6 || NVME_CC_IOCQES(cc) != 4))) {
			ctrl->csts = NVME_CSTS_CFS;
			znst_log(ctrl->subsys->daemon, LOG_ERR,
				 "controller %u: invalid CC %#x, fatal status set",
				 ctrl->cntlid, cc);
			return;
		}
		ctrl->csts = NVME_CSTS_RDY;
	} else if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN)) {
		ctrl->csts = 0;
	}
	if (NVME_CC_SHN(cc) && !NVME_CC_SHN(old)) {
		ctrl->csts |= NVME_CSTS_SHST_CMPLT;
	} else if (!NVME_CC_SHN(cc)) {
		ctrl->csts &= ~NVME_CSTS_SHST_CMPLT;
	}
}

static void exec_prop_set(struct znst_req *req)
{
	const struct nvmf_property_cmd *c = (const void *)&req->cmd;
	uint32_t ofst = le32_to_cpu(c->offset);

	if ((c->attrib & 1) || ofst != NVME_REG_CC)
		return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	ctrl_write_cc(req->conn->ctrl, (uint32_t)le64_to_cpu(c->value));
	req_done(req, NVME_SC_SUCCESS);
}

static void exec_disconnect(struct znst_req *req)
{
	req_done(req, NVME_SC_SUCCESS);
}

/* Connect rejection with the offending parameter's location (Fabrics 1.1
 * figure "Connect Response": IATTR bit 16 = in data, IPO bits 15:0). */
static void connect_invalid(struct znst_req *req, bool in_data, uint16_t ipo,
			    const char *why)
{
	conn_log(req->conn, LOG_ERR, "Connect refused: %s", why);
	req->result = (in_data ? 1u << 16 : 0) | ipo;
	req_done(req, NVME_SC_CONNECT_INVALID_PARAM | NVME_STATUS_DNR);
}

static bool nqn_valid(const char *nqn, size_t max)
{
	size_t len = strnlen(nqn, max);

	if (len == max || len < 5 || strncmp(nqn, "nqn.", 4))
		return false;
	for (size_t i = 0; i < len; i++)
		if (nqn[i] < 0x20 || nqn[i] > 0x7e)
			return false;
	return true;
}

/* An I/O queue ID may be connected once per controller. */
static bool ctrl_claim_qid(struct znst_ctrl *ctrl, uint16_t qid)
{
	uint64_t bit = 1ull << (qid % 64);
	bool free_slot;

	pthread_mutex_lock(&ctrl->subsys->lock);
	free_slot = !(ctrl->qids[qid / 64] & bit);
	ctrl->qids[qid / 64] |= bit;
	pthread_mutex_unlock(&ctrl->subsys->lock);
	return free_slot;
}

static void exec_connect(struct znst_req *req)
{
	const struct nvmf_connect_cmd *c = (const void *)&req->cmd;
	struct nvmf_connect_data *d = (void *)req->data;
	struct znst_conn *conn = req->conn;
	struct znst_daemon *dmn = conn->reactor->daemon;
	uint16_t qid = le16_to_cpu(c->qid);
	uint32_t sqsize = (uint32_t)le16_to_cpu(c->sqsize) + 1;	/* 0's based */
	struct znst_subsys *s;
	struct znst_ctrl *ctrl;
	nvme_status st;

	if (conn->state != CONN_WAIT_CONNECT)
		return req_done(req, NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR);
	if (le16_to_cpu(c->recfmt) != 0)
		return req_done(req, NVME_SC_CONNECT_FORMAT | NVME_STATUS_DNR);
	if (!nqn_valid(d->subsysnqn, sizeof(d->subsysnqn)))
		return connect_invalid(req, true, offsetof(struct nvmf_connect_data, subsysnqn),
				       "malformed subsystem NQN");
	if (!nqn_valid(d->hostnqn, sizeof(d->hostnqn)))
		return connect_invalid(req, true, offsetof(struct nvmf_connect_data, hostnqn),
				       "malformed host NQN");
	s = subsys_find(dmn, d->subsysnqn);
	if (!s)
		return connect_invalid(req, true, offsetof(struct nvmf_connect_data, subsysnqn),
				       "unknown subsystem NQN");
	if (sqsize < 2 || sqsize > dmn->cfg.queue_depth)
		return connect_invalid(req, false, offsetof(struct nvmf_connect_cmd, sqsize),
				       "queue size out of range");
	if (qid == 0) {
		if (le16_to_cpu(d->cntlid) != NVMF_CNTLID_DYNAMIC)
			return connect_invalid(req, true, offsetof(struct nvmf_connect_data, cntlid),
					       "static controller ID requested");
		st = ctrl_create(s, d, le32_to_cpu(c->kato), &ctrl);
		if (st) {
			conn_log(conn, LOG_ERR, "Connect refused: too many controllers");
			return req_done(req, st);
		}
		ctrl->admin = conn;
	} else {
		ctrl = ctrl_get_by_id(s, le16_to_cpu(d->cntlid), d->hostnqn);
		if (!ctrl)
			return connect_invalid(req, true, offsetof(struct nvmf_connect_data, cntlid),
					       "no such controller for this host");
		if (!(ctrl->csts & NVME_CSTS_RDY) || qid > ctrl->nr_io_queues ||
		    s->type == ZNST_SUBSYS_DISCOVERY) {
			ctrl_put(ctrl);
			return connect_invalid(req, false, offsetof(struct nvmf_connect_cmd, qid),
					       "queue ID not allowed");
		}
		if (!ctrl_claim_qid(ctrl, qid)) {
			ctrl_put(ctrl);
			return connect_invalid(req, false, offsetof(struct nvmf_connect_cmd, qid),
					       "queue ID already connected");
		}
	}
	conn->ctrl = ctrl;
	conn->subsys = s;
	conn->qid = qid;
	conn->sqsize = (uint16_t)sqsize;
	conn->sqflow_off = c->cattr & NVMF_CONNECT_DISABLE_SQFLOW;
	conn->state = CONN_LIVE;
	conn_log(conn, LOG_INFO, "%s queue %u of controller %u for %s (%u entries)",
		 s->type == ZNST_SUBSYS_DISCOVERY ? "discovery" : "NVM", qid,
		 ctrl->cntlid, ctrl->hostnqn, sqsize);
	req->result = ctrl->cntlid;
	req_done(req, NVME_SC_SUCCESS);
}

nvme_status fabrics_parse(struct znst_req *req)
{
	const struct nvmf_connect_cmd *c = (const void *)&req->cmd;

	switch (c->fctype) {
	case NVMF_TYPE_CONNECT:
		req->execute = exec_connect;
		req->dir = XFER_H2C;
		req->data_len = sizeof(struct nvmf_connect_data);
		return NVME_SC_SUCCESS;
	case NVMF_TYPE_PROPERTY_GET:
		if (req->conn->qid)
			break;
		req->execute = exec_prop_get;
		return NVME_SC_SUCCESS;
	case NVMF_TYPE_PROPERTY_SET:
		if (req->conn->qid)
			break;
		req->execute = exec_prop_set;
		return NVME_SC_SUCCESS;
	case NVMF_TYPE_DISCONNECT:
		req->execute = exec_disconnect;
		return NVME_SC_SUCCESS;
	default:
		break;
	}
	return NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR;
}

/* ---- Identify --------------------------------------------------------------- */

static void pad_copy(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	memset(dst, ' ', len);
	memcpy(dst, src, n < len ? n : len);
}

static uint16_t oncs_of(const struct znst_config *cfg)
{
	return (uint16_t)(NVME_CTRL_ONCS_WRITE_ZEROES |
		(cfg->cmd_compare ? NVME_CTRL_ONCS_COMPARE : 0) |
		(cfg->cmd_dsm ? NVME_CTRL_ONCS_DSM : 0) |
		(cfg->cmd_verify ? NVME_CTRL_ONCS_VERIFY : 0) |
		(cfg->cmd_copy ? NVME_CTRL_ONCS_COPY : 0));
}

/* Zone Descriptor Changed notices exist when some timer can set RZR, FZR
 * or ZFC (ZNS 1.1 5.3): then OAES bit 27 and the AEN config bit apply. */
static bool zone_events_on(const struct znst_config *cfg)
{
	return cfg->zoned.nr_zones &&
	       (cfg->zoned.rrl || cfg->zoned.frl || cfg->zoned.zfc_delay);
}

static void id_ctrl(struct znst_req *req)
{
	struct znst_ctrl *ctrl = req->conn->ctrl;
	struct znst_subsys *s = ctrl->subsys;
	const struct znst_config *cfg = &s->daemon->cfg;
	struct nvme_id_ctrl *id = (void *)req->data;
	bool disc = s->type == ZNST_SUBSYS_DISCOVERY;

	pad_copy(id->sn, sizeof(id->sn), s->serial);
	pad_copy(id->mn, sizeof(id->mn), disc ? "znstcp discovery" : "znstcp ZNS RAM SSD");
	pad_copy(id->fr, sizeof(id->fr), ZNST_VERSION_STRING);
	id->rab = 6;
	id->mdts = (uint8_t)(__builtin_ctzll(cfg->mdts) - 12);
	id->cntlid = cpu_to_le16(ctrl->cntlid);
	id->ver = cpu_to_le32(NVME_VS(2, 0, 0));
	id->ctratt = cpu_to_le32(NVME_CTRL_CTRATT_128_HOSTID);
	id->cntrltype = disc ? NVME_CTRL_TYPE_DISC : NVME_CTRL_TYPE_IO;
	id->acl = 3;
	id->aerl = ZNST_AERL;
	id->frmw = NVME_CTRL_FRMW_SLOT1_RO | (1 << 1);
	id->lpa = NVME_CTRL_LPA_CMD_EFFECTS | NVME_CTRL_LPA_EXTENDED |
		  NVME_CTRL_LPA_SUPPORTED_LOGS;
	id->elpe = ZNST_ELPE;
	id->kas = cpu_to_le16(ZNST_KAS_100MS);
	id->sqes = (6 << 4) | 6;
	id->cqes = (4 << 4) | 4;
	id->maxcmd = cpu_to_le16((uint16_t)cfg->queue_depth);
	id->sgls = cpu_to_le32(NVME_CTRL_SGLS_SUPPORTED | NVME_CTRL_SGLS_OFFSET);
	id->msdbd = 1;
	id->ioccsz = cpu_to_le32((sizeof(struct nvme_sqe) + req->conn->inline_max) / 16);
	id->iorcsz = cpu_to_le32(sizeof(struct nvme_cqe) / 16);
	id->psd[0].mp = cpu_to_le16(100);	/* 1 W, in 0.01 W units */
	snprintf(id->subnqn, sizeof(id->subnqn), "%s", s->nqn);
	if (disc)
		return;
	id->nn = cpu_to_le32(s->nr_ns);
	id->oncs = cpu_to_le16(oncs_of(cfg));
	if (cfg->cmd_copy)
		id->ocfs = cpu_to_le16(NVME_CTRL_OCFS_FORMAT0);
	/* Bit 8 too: Namespace Attribute Notices are accepted in the async
	 * event configuration (none is ever due, the namespaces are fixed),
	 * and a Linux host submits its AER only when OAES has a bit it
	 * knows, so without it a zone notice would have nothing to ride on */
	if (zone_events_on(cfg))
		id->oaes = cpu_to_le32(NVME_CTRL_OAES_ZONE_DESC | NVME_CTRL_OAES_NS_ATTR);
	id->vwc = NVME_CTRL_VWC_PRESENT | NVME_CTRL_VWC_NSID_FFFFFFFF;
	id->wctemp = cpu_to_le16(343);
	id->cctemp = cpu_to_le16(358);
}

static void id_ns(struct znst_req *req, struct znst_ns *ns)
{
	const struct znst_config *cfg = &req->conn->reactor->daemon->cfg;
	struct nvme_id_ns *id = (void *)req->data;
	uint64_t nuse;

	if (!ns)
		return;		/* inactive NSID: zero-filled structure */
	nuse = ns->csi == NVME_CSI_ZNS ? zns_nuse(&ns->zoned) : ns->nsze;
	id->nsze = cpu_to_le64(ns->nsze);
	id->ncap = cpu_to_le64(ns->nsze);
	id->nuse = cpu_to_le64(nuse);
	id->nlbaf = 0;
	id->flbas = 0;
	/* deallocated blocks read as zeroes; Write Zeroes deallocates */
	id->dlfeat = 0x1 | 0x8;
	id->lbaf[0].ds = (uint8_t)ns->lba_shift;
	memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
	if (cfg->cmd_copy) {
		id->mssrl = cpu_to_le16((uint16_t)io_copy_max_blocks(cfg));
		id->mcl = cpu_to_le32(io_copy_max_blocks(cfg));
		id->msrc = ZNST_COPY_MAX_RANGES - 1;	/* 0's based */
	}
}

static void id_ns_zns(struct znst_req *req, struct znst_ns *ns)
{
	struct nvme_id_ns_zns *id = (void *)req->data;
	const struct zns_params *p = &ns->zoned.p;

	const struct znst_zoned_conf *zc = &req->conn->reactor->daemon->cfg.zoned;

	id->zoc = 0;
	id->ozcs = cpu_to_le16((p->razb ? NVME_ZNS_OZCS_RAZB : 0) |
			       (p->numzrwa ? NVME_ZNS_OZCS_ZRWASUP : 0));
	id->mar = cpu_to_le32(p->max_active ? p->max_active - 1 : NVME_ZNS_NO_LIMIT);
	id->mor = cpu_to_le32(p->max_open ? p->max_open - 1 : NVME_ZNS_NO_LIMIT);
	/* ZNS 1.1 figure 49: limits in seconds, 0: not reported */
	id->rrl = cpu_to_le32(zc->rrl);
	id->frl = cpu_to_le32(zc->frl);
	id->rrl1 = cpu_to_le32(zc->rrl1);
	id->rrl2 = cpu_to_le32(zc->rrl2);
	id->rrl3 = cpu_to_le32(zc->rrl3);
	id->frl1 = cpu_to_le32(zc->frl1);
	id->frl2 = cpu_to_le32(zc->frl2);
	id->frl3 = cpu_to_le32(zc->frl3);
	if (p->numzrwa) {
		id->numzrwa = cpu_to_le32(p->numzrwa - 1);	/* 0's based */
		id->zrwafg = cpu_to_le16((uint16_t)p->zrwafg);
		id->zrwas = cpu_to_le16((uint16_t)p->zrwas);
		id->zrwacap = NVME_ZNS_ZRWACAP_EXPFLUSH;
	}
	id->lbafe[0].zsze = cpu_to_le64(p->zone_size);
	id->lbafe[0].zdes = (uint8_t)p->zdes;
}

static void id_ns_cs_indep(struct znst_req *req, struct znst_ns *ns)
{
	struct nvme_id_ns_cs_indep *id = (void *)req->data;

	if (!ns)
		return;
	id->nstat = 1;		/* namespace ready */
}

static void id_active_list(struct znst_req *req, int csi)
{
	struct znst_subsys *s = req->conn->ctrl->subsys;
	uint32_t start = le32_to_cpu(req->cmd.nsid);
	le32 *list = (void *)req->data;
	unsigned n = 0;

	for (uint32_t i = 0; i < s->nr_ns && n < 1024; i++) {
		struct znst_ns *ns = s->ns[i];

		if (ns->nsid > start && (csi < 0 || ns->csi == csi))
			list[n++] = cpu_to_le32(ns->nsid);
	}
}

static size_t put_desc(uint8_t *p, uint8_t type, const void *val, uint8_t len)
{
	struct nvme_ns_id_desc d = { .nidt = type, .nidl = len };

	memcpy(p, &d, sizeof(d));
	memcpy(p + sizeof(d), val, len);
	return sizeof(d) + len;
}

static void id_desc_list(struct znst_req *req, struct znst_ns *ns)
{
	uint8_t *p = req->data;

	p += put_desc(p, NVME_NIDT_NGUID, ns->nguid, 16);
	p += put_desc(p, NVME_NIDT_UUID, ns->uuid, 16);
	/* Linux ignores a namespace whose descriptor list has no CSI */
	put_desc(p, NVME_NIDT_CSI, &ns->csi, 1);
}

static uint8_t zasl_of(const struct znst_config *cfg)
{
	/* 2^ZASL units of CAP.MPSMIN (4 KiB) */
	return (uint8_t)(__builtin_ctzll(cfg->zoned.zone_append_max) - 12);
}

static void exec_identify(struct znst_req *req)
{
	struct znst_ctrl *ctrl = req->conn->ctrl;
	struct znst_subsys *s = ctrl->subsys;
	uint32_t nsid = le32_to_cpu(req->cmd.nsid);
	uint8_t cns = nvme_identify_cns_of(&req->cmd);
	uint8_t csi = nvme_identify_csi_of(&req->cmd);
	bool disc = s->type == ZNST_SUBSYS_DISCOVERY;
	struct znst_ns *ns = subsys_ns(s, nsid);
	bool nsid_valid = nsid >= 1 && nsid <= s->nr_ns;

	memset(req->data, 0, req->data_len);
	if (disc && cns != NVME_ID_CNS_CTRL)
		return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	/* CDW10 bits 15:8 are reserved */
	if (le32_to_cpu(req->cmd.cdw10) & 0xff00)
		return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);

	switch (cns) {
	case NVME_ID_CNS_CTRL:
		id_ctrl(req);
		break;
	case NVME_ID_CNS_NS:
		if (!nsid_valid)
			return req_done(req, NVME_SC_INVALID_NS | NVME_STATUS_DNR);
		id_ns(req, ns);
		break;
	case NVME_ID_CNS_NS_ACTIVE_LIST:
		if (nsid >= 0xfffffffe)
			return req_done(req, NVME_SC_INVALID_NS | NVME_STATUS_DNR);
		id_active_list(req, -1);
		break;
	case NVME_ID_CNS_NS_DESC_LIST:
		if (!ns)
			return req_done(req, NVME_SC_INVALID_NS | NVME_STATUS_DNR);
		id_desc_list(req, ns);
		break;
	case NVME_ID_CNS_CS_NS:
		if (!ns)
			return req_done(req, NVME_SC_INVALID_NS | NVME_STATUS_DNR);
		if (csi == NVME_CSI_ZNS && ns->csi == NVME_CSI_ZNS)
			id_ns_zns(req, ns);
		else if (csi != NVME_CSI_NVM)
			return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		break;
	case NVME_ID_CNS_CS_CTRL:
		if (csi == NVME_CSI_ZNS)
			((struct nvme_id_ctrl_zns *)req->data)->zasl = zasl_of(&s->daemon->cfg);
		else if (csi != NVME_CSI_NVM)
			return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		break;
	case NVME_ID_CNS_NS_CS_ACTIVE_LIST:
		if (nsid >= 0xfffffffe)
			return req_done(req, NVME_SC_INVALID_NS | NVME_STATUS_DNR);
		if (csi != NVME_CSI_NVM && csi != NVME_CSI_ZNS)
			return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		id_active_list(req, csi);
		break;
	case NVME_ID_CNS_CS_INDEP_NS:
		if (!nsid_valid)
			return req_done(req, NVME_SC_INVALID_NS | NVME_STATUS_DNR);
		id_ns_cs_indep(req, ns);
		break;
	case NVME_ID_CNS_CS_COMBINATIONS: {
		le64 *vec = (void *)req->data;

		vec[0] = cpu_to_le64(1u << NVME_CSI_NVM | 1u << NVME_CSI_ZNS);
		break;
	}
	default:
		return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	}
	req_done(req, NVME_SC_SUCCESS);
}

/* ---- Log pages -------------------------------------------------------------- */

static void effects_fill(struct nvme_effects_log *log, uint8_t csi,
			 const struct znst_config *cfg)
{
	static const uint8_t admin_ops[] = {
		NVME_ADMIN_GET_LOG_PAGE, NVME_ADMIN_IDENTIFY, NVME_ADMIN_ABORT,
		NVME_ADMIN_SET_FEATURES, NVME_ADMIN_GET_FEATURES,
		NVME_ADMIN_ASYNC_EVENT, NVME_ADMIN_KEEP_ALIVE,
	};
	const uint32_t sup = NVME_CMD_EFFECTS_CSUPP;
	const uint32_t mod = NVME_CMD_EFFECTS_CSUPP | NVME_CMD_EFFECTS_LBCC;

	for (size_t i = 0; i < sizeof(admin_ops); i++)
		log->acs[admin_ops[i]] = cpu_to_le32(sup);
	if (csi != NVME_CSI_NVM && csi != NVME_CSI_ZNS)
		return;
	log->iocs[NVME_CMD_FLUSH] = cpu_to_le32(mod);
	log->iocs[NVME_CMD_WRITE] = cpu_to_le32(mod);
	log->iocs[NVME_CMD_READ] = cpu_to_le32(sup);
	log->iocs[NVME_CMD_WRITE_ZEROES] = cpu_to_le32(mod);
	if (cfg->cmd_compare)
		log->iocs[NVME_CMD_COMPARE] = cpu_to_le32(sup);
	if (cfg->cmd_verify)
		log->iocs[NVME_CMD_VERIFY] = cpu_to_le32(sup);
	if (cfg->cmd_dsm)
		log->iocs[NVME_CMD_DSM] = cpu_to_le32(mod);
	if (cfg->cmd_copy)
		log->iocs[NVME_CMD_COPY] = cpu_to_le32(mod);
	if (csi == NVME_CSI_ZNS) {
		/* Linux makes a zoned namespace read-only without Zone Append */
		log->iocs[NVME_CMD_ZONE_APPEND] = cpu_to_le32(mod);
		log->iocs[NVME_CMD_ZONE_MGMT_SEND] = cpu_to_le32(mod);
		log->iocs[NVME_CMD_ZONE_MGMT_RECV] = cpu_to_le32(sup);
	}
}

static void disc_entry_fill(struct znst_req *req, struct nvmf_disc_log_entry *e)
{
	const struct znst_daemon *d = req->conn->reactor->daemon;
	const struct sockaddr_storage *ss = &req->conn->local;
	char addr[INET6_ADDRSTRLEN] = "";

	e->trtype = NVMF_TRTYPE_TCP;
	e->subtype = NVMF_SUBTYPE_NVME;
	e->treq = NVMF_TREQ_NOT_SPECIFIED;
	e->portid = cpu_to_le16(1);
	e->cntlid = cpu_to_le16(NVMF_CNTLID_DYNAMIC);
	e->asqsz = cpu_to_le16(32);
	/* Report the address this host reached us on: with a wildcard
	 * listener that is the only address it is known to reach. */
	if (ss->ss_family == AF_INET6) {
		e->adrfam = NVMF_ADDR_FAMILY_IP6;
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr,
			  addr, sizeof(addr));
	} else {
		e->adrfam = NVMF_ADDR_FAMILY_IP4;
		inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr,
			  addr, sizeof(addr));
	}
	memset(e->traddr, ' ', sizeof(e->traddr));
	memcpy(e->traddr, addr, strlen(addr));
	memset(e->trsvcid, ' ', sizeof(e->trsvcid));
	{
		char port[8];
		int n = snprintf(port, sizeof(port), "%u", d->cfg.listen_port);

		memcpy(e->trsvcid, port, (size_t)n);
	}
	snprintf(e->subnqn, sizeof(e->subnqn), "%s", d->nvm.nqn);
	e->tsas[0] = NVMF_TCP_SECTYPE_NONE;
}

/* Supported Log Pages (LID 00h): LSUPP per LID. */
static void supported_logs_fill(struct znst_subsys *s, le32 *lids)
{
	static const uint8_t ids[] = {
		NVME_LOG_SUPPORTED, NVME_LOG_ERROR, NVME_LOG_SMART,
		NVME_LOG_FW_SLOT, NVME_LOG_CHANGED_NS, NVME_LOG_CMD_EFFECTS,
		NVME_LOG_FID_SUPPORTED,
	};
	/* LSUPP only: byte offsets (LPO) work, index offsets (IOS, OT) not */
	const uint32_t lsupp = 1u << 0;

	for (size_t i = 0; i < sizeof(ids); i++)
		lids[ids[i]] = cpu_to_le32(lsupp);
	if (s->daemon->cfg.zoned.nr_zones)
		lids[NVME_LOG_CHANGED_ZONES] = cpu_to_le32(lsupp);
}

/* Feature Identifiers Supported and Effects (LID 12h): FSUPP, and the
 * scope (bit 20: controller). */
static void supported_fids_fill(le32 *fids)
{
	static const uint8_t ids[] = {
		NVME_FEAT_ARBITRATION, NVME_FEAT_POWER_MGMT,
		NVME_FEAT_TEMP_THRESH, NVME_FEAT_ERR_RECOVERY,
		NVME_FEAT_VOLATILE_WC, NVME_FEAT_NUM_QUEUES,
		NVME_FEAT_IRQ_COALESCE, NVME_FEAT_WRITE_ATOMIC,
		NVME_FEAT_ASYNC_EVENT, NVME_FEAT_KATO, NVME_FEAT_IOCS_PROFILE,
		NVME_FEAT_HOST_ID,
	};
	const uint32_t fsupp = 1u << 0, ctrl_scope = 1u << 20;

	for (size_t i = 0; i < sizeof(ids); i++)
		fids[ids[i]] = cpu_to_le32(fsupp | ctrl_scope);
}

static void exec_get_log(struct znst_req *req)
{
	struct znst_ctrl *ctrl = req->conn->ctrl;
	uint8_t lid = nvme_log_lid_of(&req->cmd);
	bool disc = ctrl->subsys->type == ZNST_SUBSYS_DISCOVERY;
	union {
		struct nvme_error_log_entry err[ZNST_ELPE + 1];
		struct nvme_smart_log smart;
		struct nvme_fw_slot_log fw;
		struct nvme_effects_log effects;
		uint8_t changed_ns[4096];
		le32 lids[256];
		struct nvme_zns_changed_zone_log zones;
		struct {
			struct nvmf_disc_log_hdr hdr;
			struct nvmf_disc_log_entry e[1];
		} disc;
	} page;
	size_t len;

	memset(&page, 0, sizeof(page));
	if (disc && lid != NVME_LOG_DISC)
		return req_done(req, NVME_SC_INVALID_LOG_PAGE | NVME_STATUS_DNR);
	switch (lid) {
	case NVME_LOG_ERROR:
		len = sizeof(page.err);
		break;
	case NVME_LOG_SMART: {
		uint32_t nsid = le32_to_cpu(req->cmd.nsid);

		/* LPA bit 0 clear: no per-namespace SMART, so only the
		 * controller-wide page (NSID 0 or FFFFFFFFh) exists */
		if (nsid && nsid != NVME_NSID_BROADCAST)
			return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		page.smart.temperature = cpu_to_le16(313);
		page.smart.avail_spare = 100;
		page.smart.spare_thresh = 10;
		len = sizeof(page.smart);
		break;
	}
	case NVME_LOG_FW_SLOT:
		page.fw.afi = 1;
		pad_copy(page.fw.frs[0], sizeof(page.fw.frs[0]), ZNST_VERSION_STRING);
		len = sizeof(page.fw);
		break;
	case NVME_LOG_CHANGED_NS:
		len = sizeof(page.changed_ns);
		break;
	case NVME_LOG_SUPPORTED:
		supported_logs_fill(ctrl->subsys, page.lids);
		len = sizeof(page.lids);
		break;
	case NVME_LOG_FID_SUPPORTED:
		supported_fids_fill(page.lids);
		len = sizeof(page.lids);
		break;
	case NVME_LOG_CHANGED_ZONES: {
		struct znst_ns *ns = subsys_ns(ctrl->subsys, le32_to_cpu(req->cmd.nsid));
		bool rae = nvme_log_rae(&req->cmd);

		/* ZNS 1.1 5.3.1: per zoned namespace, CSI 02h */
		if (!ns || ns->csi != NVME_CSI_ZNS)
			return req_done(req, NVME_SC_INVALID_NS | NVME_STATUS_DNR);
		if (nvme_log_csi_of(&req->cmd) != NVME_CSI_ZNS)
			return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		zns_changed_log(&ns->zoned, &page.zones, !rae);
		if (!rae) {
			pthread_mutex_lock(&ctrl->subsys->lock);
			ctrl->zone_aen_masked = false;
			pthread_mutex_unlock(&ctrl->subsys->lock);
		}
		len = sizeof(page.zones);
		break;
	}
	case NVME_LOG_CMD_EFFECTS:
		effects_fill(&page.effects, nvme_log_csi_of(&req->cmd),
			     &ctrl->subsys->daemon->cfg);
		len = sizeof(page.effects);
		break;
	case NVME_LOG_DISC:
		if (!disc)
			return req_done(req, NVME_SC_INVALID_LOG_PAGE | NVME_STATUS_DNR);
		page.disc.hdr.genctr = cpu_to_le64(ctrl->subsys->genctr);
		page.disc.hdr.numrec = cpu_to_le64(1);
		disc_entry_fill(req, &page.disc.e[0]);
		len = sizeof(page.disc);
		break;
	default:
		return req_done(req, NVME_SC_INVALID_LOG_PAGE | NVME_STATUS_DNR);
	}
	req_done(req, copy_log(req, &page, len));
}

/* ---- Features ----------------------------------------------------------------- */

static uint32_t num_queues_dw(uint16_t n)
{
	return (uint32_t)(n - 1) | (uint32_t)(n - 1) << 16;
}

static void exec_set_features(struct znst_req *req)
{
	struct znst_ctrl *ctrl = req->conn->ctrl;
	uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
	uint32_t cdw11 = le32_to_cpu(req->cmd.cdw11);
	uint8_t fid = cdw10 & 0xff;

	uint32_t nsid = le32_to_cpu(req->cmd.nsid);

	if (cdw10 >> 31)	/* SV: nothing is saveable here */
		return req_done(req, NVME_SC_FEATURE_NOT_SAVEABLE | NVME_STATUS_DNR);
	/* NVMe base 2.0 5.27.1: every feature here is controller scoped, so
	 * an NSID other than 0 or FFFFFFFFh names a namespace it has not */
	if (nsid && nsid != NVME_NSID_BROADCAST)
		return req_done(req, NVME_SC_FEATURE_NOT_PER_NS | NVME_STATUS_DNR);
	switch (fid) {
	case NVME_FEAT_NUM_QUEUES: {
		uint32_t nsq = (cdw11 & 0xffff) + 1, ncq = (cdw11 >> 16) + 1;
		uint32_t want = nsq < ncq ? nsq : ncq;
		uint32_t max = ctrl->subsys->daemon->cfg.max_queues;

		if ((cdw11 & 0xffff) == 0xffff || (cdw11 >> 16) == 0xffff)
			return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		ctrl->nr_io_queues = (uint16_t)(want < max ? want : max);
		req->result = num_queues_dw(ctrl->nr_io_queues);
		break;
	}
	case NVME_FEAT_ASYNC_EVENT:
		ctrl->aen_cfg = cdw11 & (NVME_AEN_CFG_NS_ATTR | 0xff |
			(zone_events_on(&ctrl->subsys->daemon->cfg) ?
			 NVME_AEN_CFG_ZONE_CHANGED : 0));
		break;
	case NVME_FEAT_KATO:
		ctrl->kato_ms = ctrl_kato_bound(ctrl, cdw11);
		atomic_store(&ctrl->last_ka_ns, znst_now_ns());
		break;
	case NVME_FEAT_VOLATILE_WC:
		break;
	case NVME_FEAT_IOCS_PROFILE:
		if ((cdw11 & 0x1ff) != 0)
			return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		ctrl->iocs_profile = 0;
		break;
	case NVME_FEAT_HOST_ID:
		/* NVMe over Fabrics: the host ID comes from Connect */
		return req_done(req, NVME_SC_CMD_SEQ_ERROR | NVME_STATUS_DNR);
	default:
		return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	}
	req_done(req, NVME_SC_SUCCESS);
}

static void exec_get_features(struct znst_req *req)
{
	struct znst_ctrl *ctrl = req->conn->ctrl;
	uint32_t cdw10 = le32_to_cpu(req->cmd.cdw10);
	uint8_t fid = cdw10 & 0xff;
	uint8_t sel = (cdw10 >> 8) & 7;

	if (sel == 3) {		/* supported capabilities: changeable, not saveable */
		req->result = 1u << 2;
		return req_done(req, NVME_SC_SUCCESS);
	}
	if (sel > 3)
		return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	switch (fid) {
	case NVME_FEAT_NUM_QUEUES:
		req->result = num_queues_dw(sel == 1 ?
			(uint16_t)ctrl->subsys->daemon->cfg.max_queues : ctrl->nr_io_queues);
		break;
	case NVME_FEAT_ASYNC_EVENT:
		req->result = sel == 1 ? 0 : ctrl->aen_cfg;
		break;
	case NVME_FEAT_KATO:
		req->result = sel == 1 ? 0 : ctrl->kato_ms;
		break;
	case NVME_FEAT_VOLATILE_WC:
		req->result = 1;
		break;
	case NVME_FEAT_TEMP_THRESH:
		req->result = 343;
		break;
	case NVME_FEAT_ARBITRATION:
	case NVME_FEAT_POWER_MGMT:
	case NVME_FEAT_ERR_RECOVERY:
	case NVME_FEAT_IRQ_COALESCE:
	case NVME_FEAT_WRITE_ATOMIC:
		req->result = 0;
		break;
	case NVME_FEAT_IOCS_PROFILE:
		req->result = ctrl->iocs_profile;
		break;
	case NVME_FEAT_HOST_ID:
		/* EXHID must be set: this controller uses 128-bit host IDs */
		if (!(le32_to_cpu(req->cmd.cdw11) & 1))
			return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
		memcpy(req->data, ctrl->hostid, 16);
		break;
	default:
		return req_done(req, NVME_SC_INVALID_FIELD | NVME_STATUS_DNR);
	}
	req_done(req, NVME_SC_SUCCESS);
}

/* ---- Events, keep alive, abort ---------------------------------------------- */

/*
 * Deliver a due Zone Descriptor Changed notice (ZNS 1.1 5.3) on a parked
 * AER.  Runs on the reactor of the admin queue, subsystem lock held.  A
 * notice the host did not enable (async event config bit 27) is dropped;
 * after one is sent, more wait until the host reads log page BFh.
 */
static void zone_aen_try(struct znst_ctrl *ctrl)
{
	struct znst_req *aer;

	if (!ctrl->zone_aen_pending || ctrl->zone_aen_masked)
		return;
	if (!(ctrl->aen_cfg & NVME_AEN_CFG_ZONE_CHANGED)) {
		ctrl->zone_aen_pending = false;
		return;
	}
	if (!ctrl->nr_aer || !ctrl->admin || ctrl->admin->state != CONN_LIVE)
		return;
	aer = ctrl->aer[--ctrl->nr_aer];
	ctrl->zone_aen_pending = false;
	ctrl->zone_aen_masked = true;
	aer->result = NVME_AER_TYPE_NOTICE |
		      (uint32_t)NVME_AER_NOTICE_ZONE_CHANGED << 8 |
		      (uint32_t)NVME_LOG_CHANGED_ZONES << 16;
	aer->state = REQ_EXECUTING;
	aer->ns = NULL;
	req_done(aer, NVME_SC_SUCCESS);
}

static void exec_async_event(struct znst_req *req)
{
	struct znst_ctrl *ctrl = req->conn->ctrl;

	if (ctrl->nr_aer >= ZNST_MAX_AER)
		return req_done(req, NVME_SC_ASYNC_LIMIT | NVME_STATUS_DNR);
	/* Parked until an event fires or the controller goes away. */
	ctrl->aer[ctrl->nr_aer++] = req;
	req->state = REQ_AER_PENDING;
	pthread_mutex_lock(&ctrl->subsys->lock);
	zone_aen_try(ctrl);
	pthread_mutex_unlock(&ctrl->subsys->lock);
}

void ctrl_zone_tick(struct znst_reactor *r, uint64_t now)
{
	struct znst_subsys *s = &r->daemon->nvm;
	uint32_t added = 0;

	/* One reactor runs the zone timers; each reactor delivers the
	 * notices of the controllers whose admin queue it serves. */
	if (r->index == 0)
		for (uint32_t i = 0; i < s->nr_ns; i++)
			if (s->ns[i]->csi == NVME_CSI_ZNS)
				added += zns_tick(&s->ns[i]->zoned, now);
	pthread_mutex_lock(&s->lock);
	for (uint32_t i = 0; i < ZNST_MAX_CTRLS; i++) {
		struct znst_ctrl *ctrl = s->ctrls[i];

		if (!ctrl)
			continue;
		if (added)
			ctrl->zone_aen_pending = true;
		if (ctrl->admin && ctrl->admin->reactor == r)
			zone_aen_try(ctrl);
	}
	pthread_mutex_unlock(&s->lock);
}

void ctrl_fail_aers(struct znst_ctrl *ctrl)
{
	ctrl->nr_aer = 0;
}

static void exec_keep_alive(struct znst_req *req)
{
	atomic_store(&req->conn->ctrl->last_ka_ns, znst_now_ns());
	req_done(req, NVME_SC_SUCCESS);
}

static void exec_abort(struct znst_req *req)
{
	req->result = 1;	/* command not aborted */
	req_done(req, NVME_SC_SUCCESS);
}

nvme_status admin_parse(struct znst_req *req)
{
	bool disc = subsys_is_disc(req);

	switch (req->cmd.opcode) {
	case NVME_ADMIN_IDENTIFY:
		req->execute = exec_identify;
		req->dir = XFER_C2H;
		req->data_len = 4096;
		return NVME_SC_SUCCESS;
	case NVME_ADMIN_GET_LOG_PAGE: {
		uint64_t len = nvme_sqe_log_len(&req->cmd);

		if (len > req->conn->reactor->daemon->cfg.mdts)
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		req->execute = exec_get_log;
		req->dir = XFER_C2H;
		req->data_len = (uint32_t)len;
		return NVME_SC_SUCCESS;
	}
	case NVME_ADMIN_KEEP_ALIVE:
		req->execute = exec_keep_alive;
		return NVME_SC_SUCCESS;
	case NVME_ADMIN_ASYNC_EVENT:
		req->execute = exec_async_event;
		return NVME_SC_SUCCESS;
	case NVME_ADMIN_SET_FEATURES:
		if (disc && (le32_to_cpu(req->cmd.cdw10) & 0xff) != NVME_FEAT_KATO &&
		    (le32_to_cpu(req->cmd.cdw10) & 0xff) != NVME_FEAT_ASYNC_EVENT)
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
		req->execute = exec_set_features;
		return NVME_SC_SUCCESS;
	case NVME_ADMIN_GET_FEATURES:
		req->execute = exec_get_features;
		if ((le32_to_cpu(req->cmd.cdw10) & 0xff) == NVME_FEAT_HOST_ID) {
			req->dir = XFER_C2H;
			req->data_len = 16;
		}
		return NVME_SC_SUCCESS;
	case NVME_ADMIN_ABORT:
		if (disc)
			break;
		req->execute = exec_abort;
		return NVME_SC_SUCCESS;
	default:
		break;
	}
	return NVME_SC_INVALID_OPCODE | NVME_STATUS_DNR;
}
