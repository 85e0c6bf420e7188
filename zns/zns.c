/* SPDX-License-Identifier: MIT */
/*
 * Zone state machine and zoned I/O (NVMe ZNS command set 1.1, section 2.1
 * "Zoned Namespace" and 3.4 "Zone Management").
 *
 * The transition table below is the only place that decides what an action
 * does to a zone in a given state; zone_set_state() is the only place that
 * changes a zone's state and the open/active counters.
 */
#include "zns/zns.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/zns.h"

/*
 * What an action does to a zone in each state: the next state, or a status
 * when the action is refused.  NOOP means "success, nothing changes".
 */
struct zns_transition {
	enum zns_state	next;
	nvme_status	status;		/* non-zero: refused */
	bool		noop;
};

#define TO(s)		{ .next = (s) }
#define NOOP(s)		{ .next = (s), .noop = true }
#define FAIL(sc)	{ .status = (sc) }

static const struct zns_transition zns_table[ZNS_ACT_NR][ZNS_ZS_NR] = {
	/*
	 * ZNS 1.1 3.4.3.1.1-4 item c): open, close, finish and reset of a
	 * read-only or offline zone abort with Invalid Zone State Transition
	 * (Zone Is Read Only / Offline are for writes, 2.1.1.2.1.1).
	 */
	/* 3.4.3.1.3 Open Zone */
	[ZNS_ACT_OPEN] = {
		[ZNS_ZS_EMPTY]		= TO(ZNS_ZS_EXP_OPEN),
		[ZNS_ZS_IMP_OPEN]	= TO(ZNS_ZS_EXP_OPEN),
		[ZNS_ZS_EXP_OPEN]	= NOOP(ZNS_ZS_EXP_OPEN),
		[ZNS_ZS_CLOSED]		= TO(ZNS_ZS_EXP_OPEN),
		[ZNS_ZS_FULL]		= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_READ_ONLY]	= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_OFFLINE]	= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
	},
	/* 3.4.3.1.1 Close Zone */
	[ZNS_ACT_CLOSE] = {
		[ZNS_ZS_EMPTY]		= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_IMP_OPEN]	= TO(ZNS_ZS_CLOSED),
		[ZNS_ZS_EXP_OPEN]	= TO(ZNS_ZS_CLOSED),
		[ZNS_ZS_CLOSED]		= NOOP(ZNS_ZS_CLOSED),
		[ZNS_ZS_FULL]		= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_READ_ONLY]	= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_OFFLINE]	= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
	},
	/* 3.4.3.1.2 Finish Zone */
	[ZNS_ACT_FINISH] = {
		[ZNS_ZS_EMPTY]		= TO(ZNS_ZS_FULL),
		[ZNS_ZS_IMP_OPEN]	= TO(ZNS_ZS_FULL),
		[ZNS_ZS_EXP_OPEN]	= TO(ZNS_ZS_FULL),
		[ZNS_ZS_CLOSED]		= TO(ZNS_ZS_FULL),
		[ZNS_ZS_FULL]		= NOOP(ZNS_ZS_FULL),
		[ZNS_ZS_READ_ONLY]	= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_OFFLINE]	= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
	},
	/* 3.4.3.1.4 Reset Zone */
	[ZNS_ACT_RESET] = {
		[ZNS_ZS_EMPTY]		= NOOP(ZNS_ZS_EMPTY),
		[ZNS_ZS_IMP_OPEN]	= TO(ZNS_ZS_EMPTY),
		[ZNS_ZS_EXP_OPEN]	= TO(ZNS_ZS_EMPTY),
		[ZNS_ZS_CLOSED]		= TO(ZNS_ZS_EMPTY),
		[ZNS_ZS_FULL]		= TO(ZNS_ZS_EMPTY),
		[ZNS_ZS_READ_ONLY]	= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_OFFLINE]	= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
	},
	/* 3.4.3.1.5 Offline Zone: only a read-only zone may be taken offline */
	[ZNS_ACT_OFFLINE] = {
		[ZNS_ZS_EMPTY]		= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_IMP_OPEN]	= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_EXP_OPEN]	= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_CLOSED]		= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_FULL]		= FAIL(NVME_SC_ZONE_INVALID_TRANSITION),
		[ZNS_ZS_READ_ONLY]	= TO(ZNS_ZS_OFFLINE),
		[ZNS_ZS_OFFLINE]	= NOOP(ZNS_ZS_OFFLINE),
	},
	/* 2.1.1.3: a write implicitly opens an empty or closed zone */
	[ZNS_ACT_WRITE] = {
		[ZNS_ZS_EMPTY]		= TO(ZNS_ZS_IMP_OPEN),
		[ZNS_ZS_IMP_OPEN]	= NOOP(ZNS_ZS_IMP_OPEN),
		[ZNS_ZS_EXP_OPEN]	= NOOP(ZNS_ZS_EXP_OPEN),
		[ZNS_ZS_CLOSED]		= TO(ZNS_ZS_IMP_OPEN),
		[ZNS_ZS_FULL]		= FAIL(NVME_SC_ZONE_FULL),
		[ZNS_ZS_READ_ONLY]	= FAIL(NVME_SC_ZONE_READ_ONLY),
		[ZNS_ZS_OFFLINE]	= FAIL(NVME_SC_ZONE_OFFLINE),
	},
};

/* Which zones a Select All action applies to (4.4.3.1). */
static const uint8_t zns_select_all_mask[ZNS_ACT_NR] = {
	[ZNS_ACT_OPEN]		= 1u << ZNS_ZS_CLOSED,
	[ZNS_ACT_CLOSE]		= 1u << ZNS_ZS_IMP_OPEN | 1u << ZNS_ZS_EXP_OPEN,
	[ZNS_ACT_FINISH]	= 1u << ZNS_ZS_IMP_OPEN | 1u << ZNS_ZS_EXP_OPEN |
				  1u << ZNS_ZS_CLOSED,
	[ZNS_ACT_RESET]		= 1u << ZNS_ZS_IMP_OPEN | 1u << ZNS_ZS_EXP_OPEN |
				  1u << ZNS_ZS_CLOSED | 1u << ZNS_ZS_FULL,
	[ZNS_ACT_OFFLINE]	= 1u << ZNS_ZS_READ_ONLY,
};

static const uint8_t zns_state_wire[ZNS_ZS_NR] = {
	[ZNS_ZS_EMPTY]		= NVME_ZS_EMPTY,
	[ZNS_ZS_IMP_OPEN]	= NVME_ZS_IMP_OPEN,
	[ZNS_ZS_EXP_OPEN]	= NVME_ZS_EXP_OPEN,
	[ZNS_ZS_CLOSED]		= NVME_ZS_CLOSED,
	[ZNS_ZS_FULL]		= NVME_ZS_FULL,
	[ZNS_ZS_READ_ONLY]	= NVME_ZS_READ_ONLY,
	[ZNS_ZS_OFFLINE]	= NVME_ZS_OFFLINE,
};

static const char *const zns_state_names[ZNS_ZS_NR] = {
	[ZNS_ZS_EMPTY]		= "empty",
	[ZNS_ZS_IMP_OPEN]	= "imp_open",
	[ZNS_ZS_EXP_OPEN]	= "exp_open",
	[ZNS_ZS_CLOSED]		= "closed",
	[ZNS_ZS_FULL]		= "full",
	[ZNS_ZS_READ_ONLY]	= "read_only",
	[ZNS_ZS_OFFLINE]	= "offline",
};

/* Report filter (ZRASF) -> matching state, ZRASF 0 matches all */
static const int8_t zns_filter_state[] = {
	[NVME_ZRASF_ALL]	= -1,
	[NVME_ZRASF_EMPTY]	= ZNS_ZS_EMPTY,
	[NVME_ZRASF_IMP_OPEN]	= ZNS_ZS_IMP_OPEN,
	[NVME_ZRASF_EXP_OPEN]	= ZNS_ZS_EXP_OPEN,
	[NVME_ZRASF_CLOSED]	= ZNS_ZS_CLOSED,
	[NVME_ZRASF_FULL]	= ZNS_ZS_FULL,
	[NVME_ZRASF_READ_ONLY]	= ZNS_ZS_READ_ONLY,
	[NVME_ZRASF_OFFLINE]	= ZNS_ZS_OFFLINE,
};

uint8_t zns_state_to_wire(enum zns_state st)
{
	return st < ZNS_ZS_NR ? zns_state_wire[st] : 0;
}

const char *zns_state_name(enum zns_state st)
{
	return st < ZNS_ZS_NR ? zns_state_names[st] : "?";
}

static bool zs_is_open(enum zns_state s)
{
	return s == ZNS_ZS_IMP_OPEN || s == ZNS_ZS_EXP_OPEN;
}

static bool zs_is_active(enum zns_state s)
{
	return zs_is_open(s) || s == ZNS_ZS_CLOSED;
}

static uint64_t zone_wcap_end(const struct zns_ns *ns, const struct zns_zone *z)
{
	return z->zslba + ns->p.zone_cap;
}

static uint32_t zone_idx(const struct zns_ns *ns, const struct zns_zone *z)
{
	return (uint32_t)(z - ns->zones);
}

static void counters_check(const struct zns_ns *ns)
{
	assert(ns->cnt.nr_open <= ns->cnt.nr_active);
	assert(!ns->p.max_open || ns->cnt.nr_open <= ns->p.max_open);
	assert(!ns->p.max_active || ns->cnt.nr_active <= ns->p.max_active);
	(void)ns;
}

static void open_list_del(struct zns_ns *ns, uint32_t idx)
{
	for (uint32_t i = 0; i < ns->cnt.nr_open; i++) {
		if (ns->open_list[i] == idx) {
			ns->open_list[i] = ns->open_list[ns->cnt.nr_open - 1];
			return;
		}
	}
	assert(!"opened zone missing from open list");
}

/*
 * The one setter: moves a zone to @next and keeps the open/active counters
 * and the open list in step.  Resource checks happen before, in
 * zone_reserve(); here they are invariants.
 */
static void zone_set_state(struct zns_ns *ns, struct zns_zone *z,
			   enum zns_state next)
{
	enum zns_state prev = z->state;
	uint32_t idx = zone_idx(ns, z);

	if (zs_is_open(prev) && !zs_is_open(next)) {
		open_list_del(ns, idx);
		ns->cnt.nr_open--;
	} else if (!zs_is_open(prev) && zs_is_open(next)) {
		ns->open_list[ns->cnt.nr_open++] = idx;
	}
	if (zs_is_active(prev) && !zs_is_active(next))
		ns->cnt.nr_active--;
	else if (!zs_is_active(prev) && zs_is_active(next))
		ns->cnt.nr_active++;

	switch (next) {
	case ZNS_ZS_EMPTY:
		z->wp = z->zslba;
		z->attrs = 0;
		break;
	case ZNS_ZS_FULL:
		/* ZNS 1.1 2.1.1.6: the write pointer of a full zone is not
		 * valid; report the end of the writable capacity. */
		z->wp = zone_wcap_end(ns, z);
		break;
	case ZNS_ZS_OFFLINE:
		z->wp = UINT64_MAX;
		z->attrs = 0;
		break;
	default:
		break;
	}
	z->state = next;
	counters_check(ns);
}

/* Least recently written implicitly opened zone, or NULL. */
static struct zns_zone *lru_imp_open(struct zns_ns *ns)
{
	struct zns_zone *best = NULL;

	for (uint32_t i = 0; i < ns->cnt.nr_open; i++) {
		struct zns_zone *z = &ns->zones[ns->open_list[i]];

		if (z->state == ZNS_ZS_IMP_OPEN &&
		    (!best || z->last_write < best->last_write))
			best = z;
	}
	return best;
}

/*
 * Check (and make room for) the resources a transition to @next needs.
 * ZNS 1.1 2.1.1.4: when the open limit is reached, the controller may
 * close an implicitly opened zone to open another one.
 */
static nvme_status zone_reserve(struct zns_ns *ns, struct zns_zone *z,
				enum zns_state next)
{
	bool need_active = !zs_is_active(z->state) && zs_is_active(next);
	bool need_open = !zs_is_open(z->state) && zs_is_open(next);

	if (need_active && ns->p.max_active &&
	    ns->cnt.nr_active >= ns->p.max_active)
		return NVME_SC_ZONE_TOO_MANY_ACTIVE;
	if (need_open && ns->p.max_open && ns->cnt.nr_open >= ns->p.max_open) {
		struct zns_zone *victim = lru_imp_open(ns);

		if (!victim)
			return NVME_SC_ZONE_TOO_MANY_OPEN;
		zone_set_state(ns, victim, ZNS_ZS_CLOSED);
		ns->cnt.nr_imp_closed++;
	}
	return NVME_SC_SUCCESS;
}

/* Apply one action to one zone: the table, then resources, then the move. */
static nvme_status zone_apply(struct zns_ns *ns, struct zns_zone *z,
			      enum zns_action act)
{
	const struct zns_transition *t = &zns_table[act][z->state];
	nvme_status st;

	if (t->status)
		return t->status;
	if (t->noop)
		return NVME_SC_SUCCESS;
	st = zone_reserve(ns, z, t->next);
	if (st)
		return st;
	if (act == ZNS_ACT_RESET)
		znst_store_discard(&ns->store, z->zslba << ns->p.lba_shift,
				   ns->p.zone_size << ns->p.lba_shift);
	zone_set_state(ns, z, t->next);
	return NVME_SC_SUCCESS;
}

int zns_ns_init(struct zns_ns *ns, const struct zns_params *p)
{
	uint64_t bytes;
	int ret;

	memset(ns, 0, sizeof(*ns));
	if (!p->nr_zones || !p->zone_size || (p->zone_size & (p->zone_size - 1)) ||
	    !p->zone_cap || p->zone_cap > p->zone_size ||
	    (p->lba_shift != 9 && p->lba_shift != 12) ||
	    (p->max_active && p->max_open > p->max_active) ||
	    (p->max_active && !p->max_open))
		return -EINVAL;
	ns->p = *p;
	ns->zone_shift = (uint32_t)__builtin_ctzll(p->zone_size);
	if (ns->zone_shift + p->lba_shift >= 63 ||
	    (uint64_t)p->nr_zones > (UINT64_MAX >> (ns->zone_shift + p->lba_shift)))
		return -ERANGE;
	bytes = (uint64_t)p->nr_zones << (ns->zone_shift + p->lba_shift);

	ns->zones = calloc(p->nr_zones, sizeof(*ns->zones));
	ns->open_list = calloc(p->nr_zones, sizeof(*ns->open_list));
	ns->scratch = calloc(p->nr_zones, sizeof(*ns->scratch));
	if (!ns->zones || !ns->open_list || !ns->scratch) {
		ret = -ENOMEM;
		goto free_arrays;
	}
	ret = znst_store_init(&ns->store, bytes);
	if (ret)
		goto free_arrays;
	ret = -pthread_mutex_init(&ns->lock, NULL);
	if (ret)
		goto free_store;
	for (uint32_t i = 0; i < p->nr_zones; i++) {
		ns->zones[i].zslba = (uint64_t)i << ns->zone_shift;
		ns->zones[i].wp = ns->zones[i].zslba;
		ns->zones[i].state = ZNS_ZS_EMPTY;
	}
	return 0;

free_store:
	znst_store_fini(&ns->store);
free_arrays:
	free(ns->scratch);
	free(ns->open_list);
	free(ns->zones);
	ns->zones = NULL;
	ns->open_list = NULL;
	return ret;
}

void zns_ns_fini(struct zns_ns *ns)
{
	if (!ns->zones)
		return;
	pthread_mutex_destroy(&ns->lock);
	znst_store_fini(&ns->store);
	free(ns->scratch);
	free(ns->open_list);
	free(ns->zones);
	ns->zones = NULL;
	ns->open_list = NULL;
	ns->scratch = NULL;
}

static struct zns_zone *zone_of(struct zns_ns *ns, uint64_t lba)
{
	return &ns->zones[lba >> ns->zone_shift];
}

/* Common part of Write, Write Zeroes and Zone Append, lock held. */
static nvme_status zone_write_locked(struct zns_ns *ns, struct zns_zone *z,
				     uint64_t slba, uint32_t nlb,
				     const void *data)
{
	const struct zns_transition *t = &zns_table[ZNS_ACT_WRITE][z->state];
	nvme_status st;

	/* ZNS 1.1 3.3.1: state errors first, then the write pointer, then
	 * the zone's writable capacity. */
	if (t->status)
		return t->status;
	if (slba != z->wp)
		return NVME_SC_ZONE_INVALID_WRITE;
	if (nlb > zone_wcap_end(ns, z) - slba)
		return NVME_SC_ZONE_BOUNDARY;
	if (!t->noop) {
		st = zone_reserve(ns, z, t->next);
		if (st)
			return st;
		zone_set_state(ns, z, t->next);
	}
	if (data)
		znst_store_write(&ns->store, slba << ns->p.lba_shift, data,
				 (size_t)nlb << ns->p.lba_shift);
	else
		znst_store_discard(&ns->store, slba << ns->p.lba_shift,
				   (uint64_t)nlb << ns->p.lba_shift);
	z->wp += nlb;
	z->last_write = ++ns->lru_clock;
	if (z->wp == zone_wcap_end(ns, z))
		zone_set_state(ns, z, ZNS_ZS_FULL);
	return NVME_SC_SUCCESS;
}

nvme_status zns_write(struct zns_ns *ns, uint64_t slba, uint32_t nlb,
		      const void *data)
{
	struct zns_zone *z;
	nvme_status st;

	if (!nlb || slba >= zns_nsze(ns) || nlb > zns_nsze(ns) - slba)
		return NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	z = zone_of(ns, slba);
	if ((slba + nlb - 1) >> ns->zone_shift != slba >> ns->zone_shift)
		return NVME_SC_ZONE_BOUNDARY | NVME_STATUS_DNR;
	pthread_mutex_lock(&ns->lock);
	st = zone_write_locked(ns, z, slba, nlb, data);
	pthread_mutex_unlock(&ns->lock);
	return st ? st | NVME_STATUS_DNR : st;
}

nvme_status zns_append(struct zns_ns *ns, uint64_t zslba, uint32_t nlb,
		       const void *data, uint64_t *alba)
{
	struct zns_zone *z;
	nvme_status st;

	if (!nlb || zslba >= zns_nsze(ns))
		return NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	/* ZNS 1.1 4.3: SLBA must be the lowest LBA of the zone */
	if (zslba & (ns->p.zone_size - 1))
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	z = zone_of(ns, zslba);
	pthread_mutex_lock(&ns->lock);
	/* The write pointer is read and advanced under the lock, so appends
	 * from several queues get distinct LBAs and whole data. */
	if (z->state == ZNS_ZS_FULL || z->state == ZNS_ZS_READ_ONLY ||
	    z->state == ZNS_ZS_OFFLINE)
		st = zns_table[ZNS_ACT_WRITE][z->state].status;
	else if (nlb > zone_wcap_end(ns, z) - z->wp)
		st = NVME_SC_ZONE_BOUNDARY;
	else {
		*alba = z->wp;
		st = zone_write_locked(ns, z, z->wp, nlb, data);
	}
	pthread_mutex_unlock(&ns->lock);
	return st ? st | NVME_STATUS_DNR : st;
}

nvme_status zns_read(struct zns_ns *ns, uint64_t slba, uint32_t nlb, void *buf)
{
	uint32_t first, last;
	nvme_status st = NVME_SC_SUCCESS;

	if (!nlb || slba >= zns_nsze(ns) || nlb > zns_nsze(ns) - slba)
		return NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	first = (uint32_t)(slba >> ns->zone_shift);
	last = (uint32_t)((slba + nlb - 1) >> ns->zone_shift);
	/* ZNS 1.1 3.4.1: without RAZB, a read may not cross a zone boundary */
	if (first != last)
		return NVME_SC_ZONE_BOUNDARY | NVME_STATUS_DNR;
	pthread_mutex_lock(&ns->lock);
	if (ns->zones[first].state == ZNS_ZS_OFFLINE)
		st = NVME_SC_ZONE_OFFLINE | NVME_STATUS_DNR;
	else
		znst_store_read(&ns->store, slba << ns->p.lba_shift, buf,
				(size_t)nlb << ns->p.lba_shift);
	pthread_mutex_unlock(&ns->lock);
	return st;
}

/* Select All open needs every closed zone to fit: check before changing
 * anything, so a refused command leaves no zone half-processed. */
static nvme_status open_all_check(struct zns_ns *ns)
{
	uint32_t closed = 0, imp_open = 0;

	for (uint32_t i = 0; i < ns->p.nr_zones; i++) {
		closed += ns->zones[i].state == ZNS_ZS_CLOSED;
		imp_open += ns->zones[i].state == ZNS_ZS_IMP_OPEN;
	}
	if (ns->p.max_open &&
	    ns->cnt.nr_open - imp_open + closed > ns->p.max_open)
		return NVME_SC_ZONE_TOO_MANY_OPEN;
	return NVME_SC_SUCCESS;
}

nvme_status zns_mgmt_send(struct zns_ns *ns, uint64_t slba,
			  enum zns_action act, bool all)
{
	nvme_status st = NVME_SC_SUCCESS;

	if (act >= ZNS_ACT_WRITE)
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	if (!all) {
		if (slba >= zns_nsze(ns))
			return NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
		if (slba & (ns->p.zone_size - 1))
			return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	}
	pthread_mutex_lock(&ns->lock);
	if (!all) {
		st = zone_apply(ns, zone_of(ns, slba), act);
	} else {
		uint32_t nr = 0;

		/* Select All acts on the zones in the named states when the
		 * command starts; zones it changes on the way (an implicit
		 * close) are not picked up again. */
		for (uint32_t i = 0; i < ns->p.nr_zones; i++)
			if (zns_select_all_mask[act] & (1u << ns->zones[i].state))
				ns->scratch[nr++] = i;
		if (act == ZNS_ACT_OPEN)
			st = open_all_check(ns);
		for (uint32_t i = 0; !st && i < nr; i++)
			st = zone_apply(ns, &ns->zones[ns->scratch[i]], act);
	}
	pthread_mutex_unlock(&ns->lock);
	return st ? st | NVME_STATUS_DNR : st;
}

static void zone_describe(const struct zns_ns *ns, const struct zns_zone *z,
			  struct nvme_zone_desc *d)
{
	memset(d, 0, sizeof(*d));
	d->zt = NVME_ZONE_TYPE_SEQWRITE_REQ;
	d->zs = (uint8_t)(zns_state_wire[z->state] << 4);
	d->za = z->attrs;
	d->zcap = cpu_to_le64(ns->p.zone_cap);
	d->zslba = cpu_to_le64(z->zslba);
	d->wp = cpu_to_le64(z->wp);
}

nvme_status zns_report(struct zns_ns *ns, uint64_t slba, uint8_t filter,
		       bool partial, void *buf, size_t len)
{
	struct nvme_zone_report_hdr *hdr = buf;
	size_t max_desc, nr_desc = 0;
	uint64_t matched = 0;
	int8_t want;

	if (filter >= sizeof(zns_filter_state))
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	if (slba >= zns_nsze(ns))
		return NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	if (len < sizeof(*hdr))
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	want = zns_filter_state[filter];
	memset(buf, 0, len);
	max_desc = (len - sizeof(*hdr)) / sizeof(struct nvme_zone_desc);

	pthread_mutex_lock(&ns->lock);
	for (uint32_t i = (uint32_t)(slba >> ns->zone_shift);
	     i < ns->p.nr_zones; i++) {
		const struct zns_zone *z = &ns->zones[i];

		if (want >= 0 && z->state != (enum zns_state)want)
			continue;
		matched++;
		if (nr_desc < max_desc) {
			struct nvme_zone_desc *d = (struct nvme_zone_desc *)
				((uint8_t *)buf + sizeof(*hdr)) + nr_desc;
			zone_describe(ns, z, d);
			nr_desc++;
		} else if (partial) {
			break;
		}
	}
	pthread_mutex_unlock(&ns->lock);
	/* ZNS 1.1 4.4.2.2: with Partial Report set, NRZ counts the
	 * descriptors returned; otherwise every matching zone. */
	hdr->nr_zones = cpu_to_le64(partial ? nr_desc : matched);
	return NVME_SC_SUCCESS;
}

nvme_status zns_zone_force_state(struct zns_ns *ns, uint32_t idx,
				 enum zns_state st)
{
	struct zns_zone *z;

	if (idx >= ns->p.nr_zones ||
	    (st != ZNS_ZS_READ_ONLY && st != ZNS_ZS_OFFLINE))
		return NVME_SC_INVALID_FIELD;
	pthread_mutex_lock(&ns->lock);
	z = &ns->zones[idx];
	zone_set_state(ns, z, st);
	pthread_mutex_unlock(&ns->lock);
	return NVME_SC_SUCCESS;
}

void zns_zone_get(struct zns_ns *ns, uint32_t idx, struct zns_zone *out)
{
	pthread_mutex_lock(&ns->lock);
	*out = ns->zones[idx];
	pthread_mutex_unlock(&ns->lock);
}

void zns_counters_get(struct zns_ns *ns, struct zns_counters *out)
{
	pthread_mutex_lock(&ns->lock);
	*out = ns->cnt;
	pthread_mutex_unlock(&ns->lock);
}

uint64_t zns_nuse(struct zns_ns *ns)
{
	uint64_t n = 0;

	pthread_mutex_lock(&ns->lock);
	for (uint32_t i = 0; i < ns->p.nr_zones; i++) {
		const struct zns_zone *z = &ns->zones[i];

		if (z->state == ZNS_ZS_OFFLINE)
			continue;
		n += (z->state == ZNS_ZS_FULL ? ns->p.zone_cap : z->wp - z->zslba);
	}
	pthread_mutex_unlock(&ns->lock);
	return n;
}
