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
	uint64_t	wp;		/* with a ZRWA: the start of the window */
	uint64_t	last_write;	/* LRU stamp for implicit close */
	uint64_t	since;		/* clock when the zone entered its state */
	uint64_t	fzr_at;		/* clock when FZR was set */
	enum zns_state	state;
	uint8_t		attrs;		/* NVME_ZA_* */
	bool		changed;	/* listed in the Changed Zone List */
	uint64_t	resident_end;	/* populate asked up to here (zns_prefault_hint) */
	/* end of the blocks written since the last reset: reads from here
	 * on return zeroes without looking at the store, which a reset
	 * released without zeroing (znst_store_release) */
	uint64_t	data_end;
};

struct zns_params {
	uint32_t	nr_zones;
	uint64_t	zone_size;	/* LBAs, power of two */
	uint64_t	zone_cap;	/* LBAs, <= zone_size */
	uint32_t	lba_shift;	/* 9 or 12 */
	uint32_t	max_open;	/* 0: no limit */
	uint32_t	max_active;	/* 0: no limit */
	/* optional features, all off when 0 */
	uint32_t	zdes;		/* descriptor extension, 64-byte units */
	bool		razb;		/* reads may cross zone boundaries */
	uint32_t	numzrwa;	/* ZRWA resources (not 0's based) */
	uint32_t	zrwas;		/* ZRWA size, LBAs */
	uint32_t	zrwafg;		/* ZRWA flush granularity, LBAs */
	uint64_t	rrl_ns;		/* Full this long: RZR set */
	uint64_t	frl_ns;		/* active this long: FZR set */
	uint64_t	zfc_ns;		/* FZR set this long: finished, ZFC */
	uint64_t	prefault;	/* LBAs kept resident ahead of a WP; 0: off */
	bool		reset_frees;	/* reset frees the pages, else releases them lazily */
};

/* ZNS 1.1 5.3.1 Changed Zone List: at most 511 identifiers, else FFFFh */
#define ZNS_CHANGED_MAX		511
#define ZNS_CHANGED_OVERFLOW	0xffffu

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
	uint64_t		clock;		/* last time given to zns_tick() */
	bool			clock_started;
	uint8_t			*ext;		/* nr_zones x zdes x 64 bytes */
	uint32_t		zrwa_free;	/* unallocated ZRWA resources */
	uint64_t		changed[ZNS_CHANGED_MAX];	/* zone start LBAs */
	uint32_t		nr_changed;	/* > ZNS_CHANGED_MAX: overflow */
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
/*
 * After a write to the zone holding @lba: a byte range of the store worth
 * populating now, so that the writer finds its next pages resident.  A
 * first touch costs a page fault that zeroes the page (in a VM, often also
 * the host's fault); done off the I/O path, it stops delaying completions.
 * Keeps ns->p.prefault LBAs resident ahead of the write pointer, asking for
 * twice that when it falls short.  Returns false when nothing is needed.
 */
bool zns_prefault_hint(struct zns_ns *ns, uint64_t lba, uint64_t *off,
		       uint64_t *len);
/* Zone Append: @zslba must be a zone start; the LBA used goes to @alba. */
nvme_status zns_append(struct zns_ns *ns, uint64_t zslba, uint32_t nlb,
		       const void *data, uint64_t *alba);
/*
 * A Read's checks, and where possible the stored bytes themselves: *@ref
 * points into the store when the whole range lies in one zone and below
 * what was written since its reset, else NULL (the caller copies with
 * zns_read, which also makes the zeroes).  The bytes stay mapped for the
 * namespace's life; a later reset or write may change them, as any
 * command the host sends meanwhile may.
 */
nvme_status zns_read_ref(struct zns_ns *ns, uint64_t slba, uint32_t nlb,
			 const void **ref);
nvme_status zns_read(struct zns_ns *ns, uint64_t slba, uint32_t nlb,
		     void *buf);
/* Zone Management Send for one zone (@all false) or Select All. */
nvme_status zns_mgmt_send(struct zns_ns *ns, uint64_t slba,
			  enum zns_action act, bool all);
/* Open Zone with ZRWA allocation (ZSASO set, ZNS 1.1 3.4.3.1.3). */
nvme_status zns_open_zrwa(struct zns_ns *ns, uint64_t slba);
/* ZRWA flush (ZSA 11h): commit up to and including @elba. */
nvme_status zns_zrwa_flush(struct zns_ns *ns, uint64_t elba);
/* Set Zone Descriptor Extension (ZSA 10h): @data is zdes x 64 bytes;
 * @zrwa (ZSASO) also allocates a ZRWA to the zone. */
nvme_status zns_set_desc_ext(struct zns_ns *ns, uint64_t slba,
			     const void *data, bool zrwa);
/*
 * Zone Management Receive (report): fills @buf (@len bytes, zeroed here)
 * with the header and as many descriptors as fit; @extended adds each
 * zone's descriptor extension after its descriptor (ZRA 01h).
 */
nvme_status zns_report(struct zns_ns *ns, uint64_t slba, uint8_t filter,
		       bool partial, bool extended, void *buf, size_t len);
/* Verify / Compare: LBA range and offline zones, as a read would see them;
 * Compare also matches @data (NULL: Verify). */
nvme_status zns_compare(struct zns_ns *ns, uint64_t slba, uint32_t nlb,
			const void *data);

/*
 * Time-driven zone attributes (ZNS 1.1 5.2.2): RZR after rrl_ns in Full,
 * FZR after frl_ns active, and a controller Finish (ZFC) zfc_ns after FZR.
 * @now is any monotonic clock in ns; the caller owns it (tests pass a fake
 * one).  Returns how many zones were newly added to the Changed Zone List.
 */
uint32_t zns_tick(struct zns_ns *ns, uint64_t now);
/*
 * Changed Zone List log page (4096 bytes into @buf, zeroed here); @clear
 * empties the list (Get Log Page with RAE cleared).
 */
void zns_changed_log(struct zns_ns *ns, void *buf, bool clear);

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
