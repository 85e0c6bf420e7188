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
static void zrwa_release(struct zns_ns *ns, struct zns_zone *z)
{
	if (z->attrs & NVME_ZA_ZRWAV) {
		z->attrs &= (uint8_t)~NVME_ZA_ZRWAV;
		ns->zrwa_free++;
	}
}

static void ext_clear(struct zns_ns *ns, struct zns_zone *z)
{
	size_t sz = (size_t)ns->p.zdes * 64;

	if (sz)
		memset(ns->ext + (size_t)zone_idx(ns, z) * sz, 0, sz);
}

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
	/* RRL counts from entering Full, FRL from becoming active */
	if (zs_is_active(prev) != zs_is_active(next) ||
	    (prev != next && next == ZNS_ZS_FULL))
		z->since = ns->clock;

	switch (next) {
	case ZNS_ZS_EMPTY:
		/* ZNS 1.1 3.4.3.1.4: a reset clears the descriptor extension
		 * (and ZDEV) and frees the ZRWA with the other attributes */
		zrwa_release(ns, z);
		ext_clear(ns, z);
		z->wp = z->zslba;
		z->data_end = z->zslba;
		z->resident_end = z->zslba;
		z->attrs = 0;
		break;
	case ZNS_ZS_FULL:
		/* ZNS 1.1 2.1.1.6: the write pointer of a full zone is not
		 * valid; report the end of the writable capacity. */
		zrwa_release(ns, z);
		z->attrs &= (uint8_t)~NVME_ZA_FZR;
		z->wp = zone_wcap_end(ns, z);
		break;
	case ZNS_ZS_READ_ONLY:
		zrwa_release(ns, z);
		z->attrs &= (uint8_t)~(NVME_ZA_FZR | NVME_ZA_RZR);
		break;
	case ZNS_ZS_OFFLINE:
		zrwa_release(ns, z);
		ext_clear(ns, z);
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
	/*
	 * A reset keeps the zone's pages for its next writes (a first touch
	 * costs a fault and a zeroing, far more inside a VM) and lets the
	 * kernel take them under memory pressure; reads past data_end return
	 * zeroes.  A ZRWA may leave holes below data_end, so namespaces with
	 * ZRWAs zero them the plain way, as does --reset-pages free.
	 */
	if (act == ZNS_ACT_RESET) {
		uint64_t off = z->zslba << ns->p.lba_shift;

		if (!ns->p.numzrwa && !ns->p.reset_frees)
			znst_store_release(&ns->store, off,
					   (z->data_end - z->zslba) << ns->p.lba_shift);
		else
			znst_store_discard(&ns->store, off,
					   ns->p.zone_size << ns->p.lba_shift);
	}
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
	    (p->max_active && !p->max_open) || p->zdes > 255 ||
	    (p->numzrwa && (!p->zrwafg || !p->zrwas || p->zrwas % p->zrwafg ||
			    p->zrwas > p->zone_cap ||
			    (p->max_active && p->numzrwa > p->max_active))))
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
	if (p->zdes)
		ns->ext = calloc(p->nr_zones, (size_t)p->zdes * 64);
	ns->zrwa_free = p->numzrwa;
	if (!ns->zones || !ns->open_list || !ns->scratch ||
	    (p->zdes && !ns->ext)) {
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
		ns->zones[i].resident_end = ns->zones[i].zslba;
		ns->zones[i].data_end = ns->zones[i].zslba;
		ns->zones[i].state = ZNS_ZS_EMPTY;
	}
	return 0;

free_store:
	znst_store_fini(&ns->store);
free_arrays:
	free(ns->ext);
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
	free(ns->ext);
	free(ns->scratch);
	free(ns->open_list);
	free(ns->zones);
	ns->zones = NULL;
	ns->open_list = NULL;
	ns->scratch = NULL;
	ns->ext = NULL;
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
	bool zrwa = z->attrs & NVME_ZA_ZRWAV;
	nvme_status st;

	/* ZNS 1.1 3.3.1: state errors first, then the write pointer, then
	 * the zone's writable capacity. */
	if (t->status)
		return t->status;
	/* ZNS 1.1 2.1.3: with a ZRWA, writes may land anywhere in the ZRWA
	 * and its implicit flush region (ZRWAS blocks each) past the WP. */
	if (zrwa ? slba < z->wp || slba + nlb > z->wp + 2ull * ns->p.zrwas
		 : slba != z->wp)
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
	if (slba + nlb > z->data_end)
		z->data_end = slba + nlb;
	if (zrwa) {
		uint64_t end = slba + nlb, win_end = z->wp + ns->p.zrwas;

		/* Implicit ZRWA flush: commit whole flush granules until
		 * the write's end falls inside the window again. */
		if (end > win_end) {
			uint64_t n = end - win_end;

			n = (n + ns->p.zrwafg - 1) / ns->p.zrwafg * ns->p.zrwafg;
			z->wp += n;
			if (z->wp > zone_wcap_end(ns, z))
				z->wp = zone_wcap_end(ns, z);
		}
	} else {
		z->wp += nlb;
	}
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

bool zns_prefault_hint(struct zns_ns *ns, uint64_t lba, uint64_t *off,
		       uint64_t *len)
{
	struct zns_zone *z;
	uint64_t start, end, cap_end;
	bool hint = false;

	if (!ns->p.prefault || lba >= zns_nsze(ns))
		return false;
	z = zone_of(ns, lba);
	pthread_mutex_lock(&ns->lock);
	cap_end = zone_wcap_end(ns, z);
	if (zs_is_active(z->state) && z->resident_end < cap_end &&
	    z->resident_end < z->wp + ns->p.prefault) {
		start = z->resident_end > z->wp ? z->resident_end : z->wp;
		end = z->wp + 2 * ns->p.prefault;
		if (end > cap_end)
			end = cap_end;
		z->resident_end = end;
		*off = start << ns->p.lba_shift;
		*len = (end - start) << ns->p.lba_shift;
		hint = true;
	}
	pthread_mutex_unlock(&ns->lock);
	return hint;
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
	else if (z->attrs & NVME_ZA_ZRWAV)
		/* ZNS 1.1 4.3: no Zone Append to a zone with a ZRWA */
		st = NVME_SC_ZONE_INVALID_OP;
	else if (nlb > zone_wcap_end(ns, z) - z->wp)
		st = NVME_SC_ZONE_BOUNDARY;
	else {
		*alba = z->wp;
		st = zone_write_locked(ns, z, z->wp, nlb, data);
	}
	pthread_mutex_unlock(&ns->lock);
	return st ? st | NVME_STATUS_DNR : st;
}

/* Range and zone checks every read-like command shares, lock held. */
static nvme_status read_check_locked(struct zns_ns *ns, uint64_t slba,
				     uint32_t nlb)
{
	uint32_t first, last;

	if (!nlb || slba >= zns_nsze(ns) || nlb > zns_nsze(ns) - slba)
		return NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	first = (uint32_t)(slba >> ns->zone_shift);
	last = (uint32_t)((slba + nlb - 1) >> ns->zone_shift);
	/* ZNS 1.1 3.4.1: without RAZB, a read may not cross a zone boundary */
	if (first != last && !ns->p.razb)
		return NVME_SC_ZONE_BOUNDARY | NVME_STATUS_DNR;
	for (uint32_t i = first; i <= last; i++)
		if (ns->zones[i].state == ZNS_ZS_OFFLINE)
			return NVME_SC_ZONE_OFFLINE | NVME_STATUS_DNR;
	return NVME_SC_SUCCESS;
}

/* Copy blocks out, zone by zone: what lies past a zone's data_end reads
 * as zeroes (the store may still hold released bytes there). */
static void zone_read_locked(struct zns_ns *ns, uint64_t slba, uint32_t nlb,
			     uint8_t *buf)
{
	while (nlb) {
		struct zns_zone *z = zone_of(ns, slba);
		uint64_t zend = z->zslba + ns->p.zone_size;
		uint32_t n = zend - slba < nlb ? (uint32_t)(zend - slba) : nlb;
		uint64_t have = z->data_end > slba ? z->data_end - slba : 0;
		size_t len = (size_t)n << ns->p.lba_shift;
		size_t from_store = (size_t)(have < n ? have : n) << ns->p.lba_shift;

		if (from_store)
			znst_store_read(&ns->store, slba << ns->p.lba_shift, buf,
					from_store);
		memset(buf + from_store, 0, len - from_store);
		buf += len;
		slba += n;
		nlb -= n;
	}
}

nvme_status zns_read_ref(struct zns_ns *ns, uint64_t slba, uint32_t nlb,
			 const void **ref)
{
	nvme_status st;

	*ref = NULL;
	pthread_mutex_lock(&ns->lock);
	st = read_check_locked(ns, slba, nlb);
	/* data_end lies in slba's zone: below it means one zone, all written */
	if (!st && slba + nlb <= zone_of(ns, slba)->data_end)
		*ref = znst_store_ptr(&ns->store, slba << ns->p.lba_shift);
	pthread_mutex_unlock(&ns->lock);
	return st;
}

nvme_status zns_read(struct zns_ns *ns, uint64_t slba, uint32_t nlb, void *buf)
{
	nvme_status st;

	pthread_mutex_lock(&ns->lock);
	st = read_check_locked(ns, slba, nlb);
	if (!st)
		zone_read_locked(ns, slba, nlb, buf);
	pthread_mutex_unlock(&ns->lock);
	return st;
}

nvme_status zns_compare(struct zns_ns *ns, uint64_t slba, uint32_t nlb,
			const void *data)
{
	size_t len = (size_t)nlb << ns->p.lba_shift;
	uint8_t *buf = NULL;
	nvme_status st;

	if (data && !(buf = malloc(len)))
		return NVME_SC_INTERNAL;
	pthread_mutex_lock(&ns->lock);
	st = read_check_locked(ns, slba, nlb);
	if (!st && data)
		zone_read_locked(ns, slba, nlb, buf);
	pthread_mutex_unlock(&ns->lock);
	if (!st && data && memcmp(buf, data, len))
		st = NVME_SC_COMPARE_FAILED | NVME_STATUS_DNR;
	free(buf);
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
		       bool partial, bool extended, void *buf, size_t len)
{
	struct nvme_zone_report_hdr *hdr = buf;
	size_t ext = extended ? (size_t)ns->p.zdes * 64 : 0;
	size_t entry = sizeof(struct nvme_zone_desc) + ext;
	size_t max_desc, nr_desc = 0;
	uint64_t matched = 0;
	int8_t want;

	if (filter >= sizeof(zns_filter_state))
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	/* ZNS 1.1 4.4.1: the extended report needs extensions (ZDES > 0) */
	if (extended && !ext)
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	if (slba >= zns_nsze(ns))
		return NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	if (len < sizeof(*hdr))
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	want = zns_filter_state[filter];
	memset(buf, 0, len);
	max_desc = (len - sizeof(*hdr)) / entry;

	pthread_mutex_lock(&ns->lock);
	for (uint32_t i = (uint32_t)(slba >> ns->zone_shift);
	     i < ns->p.nr_zones; i++) {
		const struct zns_zone *z = &ns->zones[i];

		if (want >= 0 && z->state != (enum zns_state)want)
			continue;
		matched++;
		if (nr_desc < max_desc) {
			uint8_t *p = (uint8_t *)buf + sizeof(*hdr) + nr_desc * entry;

			zone_describe(ns, z, (struct nvme_zone_desc *)p);
			if (ext)
				memcpy(p + sizeof(struct nvme_zone_desc),
				       ns->ext + (size_t)i * ext, ext);
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

/* Zone Send checks shared by the single-zone actions: SLBA in range and,
 * for all but ZRWA flush, the first LBA of a zone. */
static nvme_status send_slba_check(const struct zns_ns *ns, uint64_t slba,
				   bool zone_start)
{
	if (slba >= zns_nsze(ns))
		return NVME_SC_LBA_RANGE | NVME_STATUS_DNR;
	if (zone_start && (slba & (ns->p.zone_size - 1)))
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	return NVME_SC_SUCCESS;
}

nvme_status zns_open_zrwa(struct zns_ns *ns, uint64_t slba)
{
	struct zns_zone *z;
	nvme_status st;

	if (!ns->p.numzrwa)
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	st = send_slba_check(ns, slba, true);
	if (st)
		return st;
	z = zone_of(ns, slba);
	pthread_mutex_lock(&ns->lock);
	st = zns_table[ZNS_ACT_OPEN][z->state].status;
	if (!st && !(z->attrs & NVME_ZA_ZRWAV)) {
		/* A ZRWA starts at the write pointer on a flush granule */
		if (!ns->zrwa_free || (z->wp - z->zslba) % ns->p.zrwafg)
			st = NVME_SC_ZONE_ZRWA_UNAVAIL;
		else if (!(st = zone_apply(ns, z, ZNS_ACT_OPEN))) {
			z->attrs |= NVME_ZA_ZRWAV;
			ns->zrwa_free--;
		}
	} else if (!st) {
		st = zone_apply(ns, z, ZNS_ACT_OPEN);
	}
	pthread_mutex_unlock(&ns->lock);
	return st ? st | NVME_STATUS_DNR : st;
}

nvme_status zns_zrwa_flush(struct zns_ns *ns, uint64_t elba)
{
	struct zns_zone *z;
	nvme_status st;
	uint64_t nlb;

	if (!ns->p.numzrwa)
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	st = send_slba_check(ns, elba, false);
	if (st)
		return st;
	z = zone_of(ns, elba);
	pthread_mutex_lock(&ns->lock);
	if (!(z->attrs & NVME_ZA_ZRWAV)) {
		st = NVME_SC_INVALID_FIELD;
	} else if (elba < z->wp || elba >= z->wp + ns->p.zrwas ||
		   elba >= zone_wcap_end(ns, z)) {
		st = NVME_SC_ZONE_BOUNDARY;
	} else {
		/* ZNS 1.1 3.4.3.1.7: whole flush granules, or up to the end
		 * of the zone's capacity */
		nlb = elba - z->wp + 1;
		if (nlb % ns->p.zrwafg && elba + 1 != zone_wcap_end(ns, z)) {
			st = NVME_SC_INVALID_FIELD;
		} else {
			z->wp += nlb;
			if (z->wp == zone_wcap_end(ns, z))
				zone_set_state(ns, z, ZNS_ZS_FULL);
		}
	}
	pthread_mutex_unlock(&ns->lock);
	return st ? st | NVME_STATUS_DNR : st;
}

nvme_status zns_set_desc_ext(struct zns_ns *ns, uint64_t slba,
			     const void *data, bool zrwa)
{
	size_t sz = (size_t)ns->p.zdes * 64;
	struct zns_zone *z;
	nvme_status st;

	if (!sz || (zrwa && !ns->p.numzrwa))
		return NVME_SC_INVALID_FIELD | NVME_STATUS_DNR;
	st = send_slba_check(ns, slba, true);
	if (st)
		return st;
	z = zone_of(ns, slba);
	pthread_mutex_lock(&ns->lock);
	/* ZNS 1.1 3.4.3.1.6: only an empty zone takes an extension; it
	 * becomes Closed, so it needs an active resource (and, with ZRWAA,
	 * a ZRWA resource) */
	if (z->state != ZNS_ZS_EMPTY)
		st = NVME_SC_ZONE_INVALID_TRANSITION;
	else if (zrwa && !ns->zrwa_free)
		st = NVME_SC_ZONE_ZRWA_UNAVAIL;
	else
		st = zone_reserve(ns, z, ZNS_ZS_CLOSED);
	if (!st) {
		zone_set_state(ns, z, ZNS_ZS_CLOSED);
		memcpy(ns->ext + (size_t)zone_idx(ns, z) * sz, data, sz);
		z->attrs |= NVME_ZA_ZDEV;
		if (zrwa) {
			z->attrs |= NVME_ZA_ZRWAV;
			ns->zrwa_free--;
		}
	}
	pthread_mutex_unlock(&ns->lock);
	return st ? st | NVME_STATUS_DNR : st;
}

/* Add a zone to the Changed Zone List once; returns 1 if newly added. */
static uint32_t mark_changed(struct zns_ns *ns, struct zns_zone *z)
{
	if (z->changed)
		return 0;
	z->changed = true;
	if (ns->nr_changed < ZNS_CHANGED_MAX)
		ns->changed[ns->nr_changed] = z->zslba;
	if (ns->nr_changed <= ZNS_CHANGED_MAX)
		ns->nr_changed++;
	return 1;
}

uint32_t zns_tick(struct zns_ns *ns, uint64_t now)
{
	const struct zns_params *p = &ns->p;
	uint32_t added = 0;
	bool first;

	/* No timer configured: nothing to do, and no reason to take the
	 * lock or walk the zones every tick */
	if (!p->rrl_ns && !p->frl_ns && !p->zfc_ns)
		return 0;
	pthread_mutex_lock(&ns->lock);
	first = !ns->clock_started;
	ns->clock_started = true;
	ns->clock = now;
	for (uint32_t i = 0; i < p->nr_zones; i++) {
		struct zns_zone *z = &ns->zones[i];

		/* Timers start at the first tick for zones set up before */
		if (first)
			z->since = now;
		if (p->rrl_ns && z->state == ZNS_ZS_FULL &&
		    !(z->attrs & NVME_ZA_RZR) && now - z->since >= p->rrl_ns) {
			z->attrs |= NVME_ZA_RZR;
			added += mark_changed(ns, z);
		}
		if (!zs_is_active(z->state))
			continue;
		if (p->frl_ns && !(z->attrs & NVME_ZA_FZR) &&
		    now - z->since >= p->frl_ns) {
			z->attrs |= NVME_ZA_FZR;
			z->fzr_at = now;
			added += mark_changed(ns, z);
		}
		if (p->zfc_ns && (z->attrs & NVME_ZA_FZR) &&
		    now - z->fzr_at >= p->zfc_ns) {
			/* ZNS 1.1 2.1.1.4.3: the controller finishes the zone
			 * and says so with ZFC */
			zone_set_state(ns, z, ZNS_ZS_FULL);
			z->attrs |= NVME_ZA_ZFC;
			added += mark_changed(ns, z);
		}
	}
	pthread_mutex_unlock(&ns->lock);
	return added;
}

void zns_changed_log(struct zns_ns *ns, void *buf, bool clear)
{
	struct nvme_zns_changed_zone_log *log = buf;

	memset(log, 0, sizeof(*log));
	pthread_mutex_lock(&ns->lock);
	if (ns->nr_changed > ZNS_CHANGED_MAX) {
		log->nrzid = cpu_to_le16(ZNS_CHANGED_OVERFLOW);
	} else {
		log->nrzid = cpu_to_le16((uint16_t)ns->nr_changed);
		for (uint32_t i = 0; i < ns->nr_changed; i++)
			log->zid[i] = cpu_to_le64(ns->changed[i]);
	}
	if (clear) {
		ns->nr_changed = 0;
		for (uint32_t i = 0; i < ns->p.nr_zones; i++)
			ns->zones[i].changed = false;
	}
	pthread_mutex_unlock(&ns->lock);
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
