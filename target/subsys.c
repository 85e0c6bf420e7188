/* SPDX-License-Identifier: MIT */
/*
 * Subsystems (the configured NVM subsystem and the discovery subsystem),
 * their namespaces, and the controller table with dynamic controller IDs.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "target/core.h"

/* Stable identifiers across restarts: the host keys namespaces on them. */
static void derive_id(const char *nqn, uint32_t nsid, const char *what,
		      uint8_t out[16])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char buf[NVME_NQN_SIZE + 64];
	int n = snprintf(buf, sizeof(buf), "%s/%u/%s", nqn, nsid, what);

	EVP_Digest(buf, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
	memcpy(out, md, 16);
}

static void ns_ids(struct znst_ns *ns, const char *nqn)
{
	derive_id(nqn, ns->nsid, "uuid", ns->uuid);
	ns->uuid[6] = (uint8_t)((ns->uuid[6] & 0x0f) | 0x50);	/* RFC 4122 v5-like */
	ns->uuid[8] = (uint8_t)((ns->uuid[8] & 0x3f) | 0x80);
	derive_id(nqn, ns->nsid, "nguid", ns->nguid);
}

static void ns_free(struct znst_ns *ns)
{
	if (!ns)
		return;
	if (ns->csi == NVME_CSI_ZNS) {
		zns_ns_fini(&ns->zoned);
		free(ns->zone_owner);
	} else
		znst_store_fini(&ns->store);
	free(ns);
}

static int ns_add_zoned(struct znst_subsys *s, const struct znst_config *cfg)
{
	struct znst_ns *ns = calloc(1, sizeof(*ns));
	struct zns_params p = {
		.nr_zones = cfg->zoned.nr_zones,
		.lba_shift = (uint32_t)__builtin_ctz(cfg->lba_size),
		.max_open = cfg->zoned.max_open,
		.max_active = cfg->zoned.max_active,
	};
	int ret;

	if (!ns)
		return -ENOMEM;
	p.zone_size = cfg->zoned.zone_size >> p.lba_shift;
	p.zone_cap = cfg->zoned.zone_cap >> p.lba_shift;
	/* optional features (README "ZNS features"); seconds become ns */
	p.zdes = (uint32_t)(cfg->zoned.desc_ext_size / 64);
	p.razb = cfg->zoned.razb;
	p.numzrwa = cfg->zoned.numzrwa;
	p.zrwas = (uint32_t)(cfg->zoned.zrwa_size >> p.lba_shift);
	p.zrwafg = cfg->zoned.zrwa_fg ? (uint32_t)(cfg->zoned.zrwa_fg >> p.lba_shift) : 1;
	p.rrl_ns = cfg->zoned.rrl * 1000000000ull;
	p.frl_ns = cfg->zoned.frl * 1000000000ull;
	p.zfc_ns = cfg->zoned.zfc_delay * 1000000000ull;
	p.prefault = (cfg->zoned.prefault + cfg->lba_size - 1) >> p.lba_shift;
	p.reset_frees = cfg->zoned.reset_pages == ZNST_RESET_FREE;
	ret = zns_ns_init(&ns->zoned, &p);
	if (ret) {
		free(ns);
		return ret;
	}
	ns->zone_owner = calloc(p.nr_zones, sizeof(*ns->zone_owner));
	if (!ns->zone_owner) {
		zns_ns_fini(&ns->zoned);
		free(ns);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < cfg->zoned.offline_zones.nr; i++)
		zns_zone_force_state(&ns->zoned, cfg->zoned.offline_zones.idx[i],
				     ZNS_ZS_OFFLINE);
	for (uint32_t i = 0; i < cfg->zoned.read_only_zones.nr; i++)
		zns_zone_force_state(&ns->zoned, cfg->zoned.read_only_zones.idx[i],
				     ZNS_ZS_READ_ONLY);
	ns->csi = NVME_CSI_ZNS;
	ns->lba_shift = p.lba_shift;
	ns->nsze = zns_nsze(&ns->zoned);
	ns->nsid = s->nr_ns + 1;
	ns->timing = &s->timing;
	ns_ids(ns, s->nqn);
	s->ns[s->nr_ns++] = ns;
	return 0;
}

static int ns_add_conv(struct znst_subsys *s, const struct znst_config *cfg)
{
	struct znst_ns *ns = calloc(1, sizeof(*ns));
	int ret;

	if (!ns)
		return -ENOMEM;
	ret = znst_store_init(&ns->store, cfg->conv_size);
	if (ret) {
		free(ns);
		return ret;
	}
	ns->csi = NVME_CSI_NVM;
	ns->lba_shift = (uint32_t)__builtin_ctz(cfg->lba_size);
	ns->nsze = cfg->conv_size >> ns->lba_shift;
	ns->nsid = s->nr_ns + 1;
	ns->timing = cfg->conv_timing == ZNST_CONV_TIMING_SHARED ? &s->timing : &s->conv_timing;
	ns_ids(ns, s->nqn);
	s->ns[s->nr_ns++] = ns;
	return 0;
}

static int subsys_init_common(struct znst_subsys *s, struct znst_daemon *d,
			      enum znst_subsys_type type, const char *nqn)
{
	uint8_t h[16];

	memset(s, 0, sizeof(*s));
	s->type = type;
	s->daemon = d;
	s->next_cntlid = 1;
	s->genctr = 1;
	timing_model_init_none(&s->timing);
	timing_model_init_none(&s->conv_timing);
	snprintf(s->nqn, sizeof(s->nqn), "%s", nqn);
	derive_id(nqn, 0, "serial", h);
	snprintf(s->serial, sizeof(s->serial), "ZNST%02X%02X%02X%02X%02X%02X%02X%02X",
		 h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]);
	return -pthread_mutex_init(&s->lock, NULL);
}

/* The device's latency model from the configuration (timing/timing.h),
 * and the conventional namespace's when it has one of its own. */
static int timing_init(struct znst_subsys *s, const struct znst_config *cfg)
{
	struct timing_params p;
	int ret;

	znst_config_timing_params(cfg, &p);
	ret = timing_model_init(&s->timing, &p);
	if (!ret && znst_config_conv_timing_params(cfg, &p))
		ret = timing_model_init(&s->conv_timing, &p);
	return ret;
}

int subsys_init_nvm(struct znst_subsys *s, struct znst_daemon *d)
{
	const struct znst_config *cfg = &d->cfg;
	int ret = subsys_init_common(s, d, ZNST_SUBSYS_NVM, cfg->nqn);

	if (ret)
		return ret;
	ret = timing_init(s, cfg);
	if (ret)
		goto fail;
	/* nsid 1: the zoned namespace; nsid 2: the regular one beside it */
	if (cfg->zoned.nr_zones) {
		ret = ns_add_zoned(s, cfg);
		if (ret)
			goto fail;
	}
	if (cfg->conv_size) {
		ret = ns_add_conv(s, cfg);
		if (ret)
			goto fail;
	}
	return 0;
fail:
	subsys_fini(s);
	return ret;
}

int subsys_init_disc(struct znst_subsys *s, struct znst_daemon *d)
{
	return subsys_init_common(s, d, ZNST_SUBSYS_DISCOVERY, NVME_DISC_NQN);
}

void subsys_fini(struct znst_subsys *s)
{
	for (uint32_t i = 0; i < s->nr_ns; i++)
		ns_free(s->ns[i]);
	s->nr_ns = 0;
	for (unsigned i = 0; i < ZNST_MAX_CTRLS; i++) {
		free(s->ctrls[i]);
		s->ctrls[i] = NULL;
	}
	timing_model_fini(&s->timing);
	timing_model_fini(&s->conv_timing);
	pthread_mutex_destroy(&s->lock);
}

struct znst_subsys *subsys_find(struct znst_daemon *d, const char *nqn)
{
	if (!strcmp(nqn, d->nvm.nqn))
		return &d->nvm;
	if (!strcmp(nqn, NVME_DISC_NQN))
		return &d->disc;
	return NULL;
}

nvme_status ctrl_create(struct znst_subsys *s, const struct nvmf_connect_data *cd,
			uint32_t kato_ms, struct znst_ctrl **out)
{
	struct znst_ctrl *ctrl;
	unsigned slot = ZNST_MAX_CTRLS;

	ctrl = calloc(1, sizeof(*ctrl));
	if (!ctrl)
		return NVME_SC_INTERNAL;
	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < ZNST_MAX_CTRLS; i++) {
		if (!s->ctrls[i]) {
			slot = i;
			break;
		}
	}
	if (slot == ZNST_MAX_CTRLS) {
		pthread_mutex_unlock(&s->lock);
		free(ctrl);
		return NVME_SC_CONNECT_CTRL_BUSY | NVME_STATUS_DNR;
	}
	/* Dynamic controller model: IDs handed out round-robin, never 0 or
	 * above FFEFh, and not reused while a controller holds them. */
	for (;;) {
		uint16_t id = s->next_cntlid;
		bool used = false;

		s->next_cntlid = (uint16_t)(id >= NVMF_CNTLID_MAX ? 1 : id + 1);
		for (unsigned i = 0; i < ZNST_MAX_CTRLS; i++)
			used |= s->ctrls[i] && s->ctrls[i]->cntlid == id;
		if (!used) {
			ctrl->cntlid = id;
			break;
		}
	}
	ctrl->subsys = s;
	atomic_init(&ctrl->refs, 1);
	atomic_init(&ctrl->dead, false);
	ctrl->kato_ms = ctrl_kato_bound(ctrl, kato_ms);
	atomic_init(&ctrl->last_ka_ns, znst_now_ns());
	memcpy(ctrl->hostid, cd->hostid, sizeof(ctrl->hostid));
	memcpy(ctrl->hostnqn, cd->hostnqn, sizeof(ctrl->hostnqn));
	ctrl->hostnqn[NVME_NQN_SIZE - 1] = 0;
	ctrl->nr_io_queues = (uint16_t)s->daemon->cfg.max_queues;
	ctrl->max_qsize = (uint16_t)s->daemon->cfg.queue_depth;
	s->ctrls[slot] = ctrl;
	pthread_mutex_unlock(&s->lock);
	*out = ctrl;
	return NVME_SC_SUCCESS;
}

/*
 * KATO 0 disables the keep alive timer (NVMe base 2.0 5.27.1.12); here it
 * gets --kato-max instead, so no controller of a vanished host holds its
 * slot and its zones' open resources for ever.  Linux nvmet does the same
 * for discovery controllers (120 s).
 */
uint32_t ctrl_kato_bound(struct znst_ctrl *ctrl, uint32_t kato_ms)
{
	const struct znst_config *cfg = &ctrl->subsys->daemon->cfg;
	uint64_t lo = cfg->kato_min / 1000000, hi = cfg->kato_max / 1000000;
	uint32_t want = kato_ms;

	if (!kato_ms || kato_ms > hi)
		kato_ms = (uint32_t)hi;
	else if (kato_ms < lo)
		kato_ms = (uint32_t)lo;
	if (kato_ms != want)
		znst_log(ctrl->subsys->daemon, want ? LOG_INFO : LOG_DEBUG,
			 "controller %u: KATO %u ms %s to %u ms (--kato-%s)",
			 ctrl->cntlid, want, kato_ms < want || !want ? "lowered" : "raised",
			 kato_ms, kato_ms == hi ? "max" : "min");
	return kato_ms;
}

struct znst_ctrl *ctrl_get_by_id(struct znst_subsys *s, uint16_t cntlid,
				 const char *hostnqn)
{
	struct znst_ctrl *found = NULL;

	pthread_mutex_lock(&s->lock);
	for (unsigned i = 0; i < ZNST_MAX_CTRLS; i++) {
		struct znst_ctrl *c = s->ctrls[i];

		if (c && c->cntlid == cntlid && !atomic_load(&c->dead) &&
		    !strncmp(c->hostnqn, hostnqn, NVME_NQN_SIZE)) {
			atomic_fetch_add(&c->refs, 1);
			found = c;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return found;
}

void ns_note_zone_owner(struct znst_req *req)
{
	const struct nvme_sqe *cmd = &req->cmd;
	struct znst_ns *ns = req->ns;
	uint64_t slba, idx;

	switch (cmd->opcode) {
	case NVME_CMD_WRITE:
	case NVME_CMD_WRITE_ZEROES:
	case NVME_CMD_ZONE_APPEND:
	case NVME_CMD_COPY:		/* SDLBA sits where SLBA does */
		break;
	case NVME_CMD_ZONE_MGMT_SEND:
		if ((le32_to_cpu(cmd->cdw13) & 0x1ff) == 0x03)	/* Open, not Select All */
			break;
		return;
	default:
		return;
	}
	slba = le32_to_cpu(cmd->cdw10) | (uint64_t)le32_to_cpu(cmd->cdw11) << 32;
	idx = slba >> ns->zoned.zone_shift;
	if (idx < ns->zoned.p.nr_zones)
		atomic_store_explicit(&ns->zone_owner[idx], req->conn->ctrl->cntlid,
				      memory_order_relaxed);
}

/*
 * A controller is gone (Disconnect, admin queue lost, KATO expired): close
 * the zones it opened and still holds open, as a host would before
 * leaving, so their open resources return to the hosts that remain.  The
 * data and write pointers stay (ZNS 1.1 keeps zone state across controller
 * loss); QEMU's ZNS model does the same on controller shutdown.  Called
 * with the subsystem lock held, before the controller ID can be reused.
 */
static void ctrl_release_zones(struct znst_ctrl *ctrl)
{
	struct znst_subsys *s = ctrl->subsys;
	uint32_t closed = 0;

	for (uint32_t n = 0; n < s->nr_ns; n++) {
		struct znst_ns *ns = s->ns[n];

		if (ns->csi != NVME_CSI_ZNS)
			continue;
		for (uint32_t i = 0; i < ns->zoned.p.nr_zones; i++) {
			uint16_t owner = ctrl->cntlid;
			struct zns_zone z;

			if (!atomic_compare_exchange_strong(&ns->zone_owner[i], &owner, 0))
				continue;
			zns_zone_get(&ns->zoned, i, &z);
			if ((z.state == ZNS_ZS_IMP_OPEN || z.state == ZNS_ZS_EXP_OPEN) &&
			    zns_mgmt_send(&ns->zoned, z.zslba, ZNS_ACT_CLOSE, false) == 0)
				closed++;
		}
	}
	if (closed)
		znst_log(s->daemon, LOG_INFO, "controller %u (%s): closed %u zone%s it had "
			 "opened, releasing their open resources", ctrl->cntlid,
			 ctrl->hostnqn, closed, closed == 1 ? "" : "s");
}

void ctrl_put(struct znst_ctrl *ctrl)
{
	struct znst_subsys *s = ctrl->subsys;

	pthread_mutex_lock(&s->lock);
	if (atomic_fetch_sub(&ctrl->refs, 1) != 1) {
		pthread_mutex_unlock(&s->lock);
		return;
	}
	ctrl_release_zones(ctrl);
	for (unsigned i = 0; i < ZNST_MAX_CTRLS; i++)
		if (s->ctrls[i] == ctrl)
			s->ctrls[i] = NULL;
	pthread_mutex_unlock(&s->lock);
	znst_log(s->daemon, LOG_INFO, "controller %u (%s) released",
		 ctrl->cntlid, ctrl->hostnqn);
	free(ctrl);
}
