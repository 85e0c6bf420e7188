/* SPDX-License-Identifier: MIT */
/*
 * Zoned namespace model (NVMe ZNS command set 1.1): the zone state machine,
 * open/active resource accounting and the data store behind it.
 *
 * Plain synchronous code with no sockets or io_uring: every entry point
 * takes the namespace lock, does the whole operation (state change and data
 * copy, so concurrent appends never tear) and returns an NVMe status.
 * LBAs and counts are in logical blocks; nothing here is 0's based.
 */
#ifndef ZNST_ZNS_ZNS_H
#define ZNST_ZNS_ZNS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/nvme.h"
#include "zns/store.h"

enum zns_state {
	ZNS_ZS_EMPTY,
	ZNS_ZS_IMP_OPEN,
	ZNS_ZS_EXP_OPEN,
	ZNS_ZS_CLOSED,
	ZNS_ZS_FULL,
	ZNS_ZS_READ_ONLY,
	ZNS_ZS_OFFLINE,
	ZNS_ZS_NR,
};

enum zns_action {
	ZNS_ACT_OPEN,
	ZNS_ACT_CLOSE,
	ZNS_ACT_FINISH,
	ZNS_ACT_RESET,
	ZNS_ACT_OFFLINE,
	ZNS_ACT_WRITE,		/* implicit transition caused by a write */
	ZNS_ACT_NR,
};

struct zns_zone {
	uint64_t	zslba;
	uint64_t	wp;
	uint64_t	last_write;	/* LRU stamp for implicit close */
	enum zns_state	state;
	uint8_t		attrs;		/* NVME_ZA_* */
};

struct zns_params {
	uint32_t	nr_zones;
	uint64_t	zone_size;	/* LBAs, power of two */
	uint64_t	zone_cap;	/* LBAs, <= zone_size */
	uint32_t	lba_shift;	/* 9 or 12 */
	uint32_t	max_open;	/* 0: no limit */
	uint32_t	max_active;	/* 0: no limit */
};

struct zns_counters {
	uint32_t	nr_open;	/* implicitly + explicitly opened */
	uint32_t	nr_active;	/* opened + closed */
	uint32_t	nr_imp_closed;	/* implicit closes done to free an open resource */
};

struct zns_ns {
	struct zns_params	p;
	uint32_t		zone_shift;	/* log2(zone_size) */
	struct zns_zone		*zones;
	uint32_t		*open_list;	/* indices of opened zones */
	uint32_t		*scratch;	/* Select All work list */
	struct zns_counters	cnt;
	uint64_t		lru_clock;
	struct znst_store	store;
	pthread_mutex_t		lock;
};

/* Returns 0 or -errno (-EINVAL for geometry the spec does not allow). */
int zns_ns_init(struct zns_ns *ns, const struct zns_params *p);
void zns_ns_fini(struct zns_ns *ns);

static inline uint64_t zns_nsze(const struct zns_ns *ns)
{
	return (uint64_t)ns->p.nr_zones << ns->zone_shift;
}

/* Write @nlb blocks at @slba (NULL @data: zeroes, i.e. Write Zeroes). */
nvme_status zns_write(struct zns_ns *ns, uint64_t slba, uint32_t nlb,
		      const void *data);
/* Zone Append: @zslba must be a zone start; the LBA used goes to @alba. */
nvme_status zns_append(struct zns_ns *ns, uint64_t zslba, uint32_t nlb,
		       const void *data, uint64_t *alba);
nvme_status zns_read(struct zns_ns *ns, uint64_t slba, uint32_t nlb,
		     void *buf);
/* Zone Management Send for one zone (@all false) or Select All. */
nvme_status zns_mgmt_send(struct zns_ns *ns, uint64_t slba,
			  enum zns_action act, bool all);
/*
 * Zone Management Receive (report): fills @buf (@len bytes, zeroed here)
 * with the header and as many descriptors as fit.
 */
nvme_status zns_report(struct zns_ns *ns, uint64_t slba, uint8_t filter,
		       bool partial, void *buf, size_t len);

/* Start-up only: mark a zone read-only or offline (config). */
nvme_status zns_zone_force_state(struct zns_ns *ns, uint32_t idx,
				 enum zns_state st);

/* Snapshot of one zone / the counters, for tests and the control socket. */
void zns_zone_get(struct zns_ns *ns, uint32_t idx, struct zns_zone *out);
void zns_counters_get(struct zns_ns *ns, struct zns_counters *out);
/* Logical blocks holding written data (NUSE). */
uint64_t zns_nuse(struct zns_ns *ns);

/* Wire encoding of a state (NVME_ZS_*) and a short name ("exp_open"). */
uint8_t zns_state_to_wire(enum zns_state st);
const char *zns_state_name(enum zns_state st);

#endif
