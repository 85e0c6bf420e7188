/* SPDX-License-Identifier: MIT */
/*
 * Latency models.  Every completed command asks the device's model when it
 * may complete; the reactor holds the completion until then.  A model is a
 * pure function of (operation, geometry, now) plus its own state, so it is
 * testable with a fake clock: nothing here reads a clock.
 *
 *   none   complete at once
 *   fixed  a latency per operation type, plus an optional bandwidth cap
 *   nand   channels x dies x planes with tR / tPROG / tBERS, per-die and
 *          per-channel busy timelines, zone-to-die striping, an optional
 *          write buffer that completes writes early and drains to NAND,
 *          resets costing erases and finishes costing padding programs;
 *          a flush waits until every full program unit written so far
 *          is programmed (a partial unit stays in the buffer, as on a
 *          drive with power-loss protection)
 */
#ifndef ZNST_TIMING_TIMING_H
#define ZNST_TIMING_TIMING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum timing_op {
	TIMING_OP_READ,
	TIMING_OP_WRITE,
	TIMING_OP_APPEND,
	TIMING_OP_WRITE_ZEROES,
	TIMING_OP_FLUSH,
	TIMING_OP_ZONE_OPEN,
	TIMING_OP_ZONE_CLOSE,
	TIMING_OP_ZONE_FINISH,
	TIMING_OP_ZONE_RESET,
	TIMING_OP_ZONE_OTHER,
	TIMING_OP_REPORT,
	TIMING_OP_ADMIN,
	TIMING_OP_NR,
};

enum timing_model_kind {
	TIMING_MODEL_NONE,
	TIMING_MODEL_FIXED,
	TIMING_MODEL_NAND,
	TIMING_MODEL_NR,
};

/* One command as the model sees it. */
struct timing_io {
	enum timing_op	op;
	bool		zoned;		/* zoned namespace (else regular) */
	bool		all;		/* zone action with Select All */
	uint64_t	offset;		/* byte offset in the namespace */
	uint64_t	bytes;		/* data moved */
	/* filled by the target for the lateness report; the model ignores */
	uint64_t	slba;
	uint32_t	nlb;
};

struct timing_nand {
	uint32_t	channels;
	uint32_t	dies;		/* per channel (LUNs) */
	uint32_t	planes;		/* per die: a program or erase covers all */
	uint32_t	page_size;	/* bytes per plane page */
	uint64_t	block_size;	/* bytes per plane erase block */
	uint64_t	t_read;		/* ns */
	uint64_t	t_prog;
	uint64_t	t_erase;
	uint64_t	chan_bw;	/* bytes per second per channel */
	uint32_t	zone_dies;	/* dies one zone stripes over; 0: all */
	uint64_t	wbuf;		/* write buffer bytes; 0: none */
	uint64_t	append_ns;	/* Zone Append engine time per command */
};

struct timing_params {
	enum timing_model_kind kind;
	uint64_t	overhead_ns;		/* controller time on every command */
	uint64_t	lat_ns[TIMING_OP_NR];	/* fixed model */
	uint64_t	bandwidth;		/* fixed model: bytes/s, 0: no cap */
	struct timing_nand nand;
	/* device geometry the nand model maps onto dies */
	uint32_t	nr_zones;
	uint64_t	zone_size;		/* bytes */
	uint64_t	zone_cap;		/* bytes */
};

/* Write-buffer occupancy: bytes that drain (are programmed) at a time. */
struct timing_wb_entry {
	uint64_t	done;
	uint64_t	bytes;
};

struct timing_model {
	struct timing_params p;
	pthread_mutex_t	lock;		/* namespaces on several reactors share it */
	uint64_t	bus_free;	/* fixed model bandwidth timeline */
	uint64_t	append_free;
	uint64_t	*die_free;	/* [channels * dies] */
	uint64_t	*chan_free;	/* [channels] */
	uint64_t	*zone_fill;	/* bytes written per zone */
	uint64_t	*zone_partial;	/* bytes of an unfinished program unit */
	uint64_t	conv_partial;
	struct timing_wb_entry *wb;	/* ring */
	uint32_t	wb_cap, wb_head, wb_nr;
	uint64_t	wb_used;
	uint64_t	last_drain;
};

/* Returns 0 or -errno (-EINVAL: parameters the model cannot use). */
int timing_model_init(struct timing_model *m, const struct timing_params *p);
void timing_model_init_none(struct timing_model *m);
void timing_model_fini(struct timing_model *m);

/* Absolute completion time (ns, the caller's clock) of one command that
 * arrived at @now. */
uint64_t timing_deadline(struct timing_model *m, const struct timing_io *io,
			 uint64_t now);

const char *timing_op_name(enum timing_op op);
const char *timing_model_name(enum timing_model_kind kind);

/* ---- Lateness statistics ---------------------------------------------------- */

/* Bucket upper bounds in ns, exclusive (bucket b holds lateness in
 * [limit(b - 1), limit(b))); the last bucket is open-ended. */
#define TIMING_LATE_BUCKETS	12

/* The lateness that counts as late in the report's ">=20us" column. */
#define TIMING_LATE_NS		20000ull

/*
 * The machine's share.  While the reactor spins to a deadline it runs
 * nothing but clock reads in user space, so any gap of TIMING_LATE_NS or
 * more between two reads is the CPU taken away (the hypervisor, an
 * interrupt, another task), never the daemon's own work.  The spins sample
 * how often that happens on the reactor's CPU during the very run; and a
 * completion whose deadline fell so early in such a gap that the gap
 * alone made it late is counted as the machine's.
 */
struct timing_stalls {
	uint64_t	spin_ns;	/* time spent spinning to deadlines */
	uint64_t	nr;		/* gaps >= TIMING_LATE_NS in those spins */
	uint64_t	ns;		/* their total length */
	uint64_t	over_ns;	/* sum of (gap - TIMING_LATE_NS) */
	uint64_t	late_in;	/* late completions the gap alone made late */
	uint64_t	last_from, last_to;	/* the latest gap */
};

struct timing_lateness {
	uint64_t	count[TIMING_OP_NR][TIMING_LATE_BUCKETS];
	uint64_t	total[TIMING_OP_NR];
	uint64_t	sum_ns[TIMING_OP_NR];
	uint64_t	max_ns[TIMING_OP_NR];
	struct timing_stalls stalls;
};

void timing_lateness_add(struct timing_lateness *l, enum timing_op op,
			 uint64_t late_ns);
/* A completion due at @deadline handed off at @now: its lateness, and
 * whether the latest stall (timing_lateness_stall) alone made it late. */
void timing_lateness_complete(struct timing_lateness *l, enum timing_op op,
			      uint64_t deadline, uint64_t now);
/* @spin_ns more spent spinning; and a gap from @from to @to within it,
 * counted when it is TIMING_LATE_NS or longer (pass from == to for none). */
void timing_lateness_spin(struct timing_lateness *l, uint64_t spin_ns);
void timing_lateness_stall(struct timing_lateness *l, uint64_t from, uint64_t to);
void timing_lateness_merge(struct timing_lateness *into,
			   const struct timing_lateness *from);
/* Upper bound (ns) of the bucket holding quantile @q (0..1, nearest rank)
 * of @op. */
uint64_t timing_lateness_quantile(const struct timing_lateness *l,
				  enum timing_op op, double q);
uint64_t timing_lateness_bucket_limit(unsigned bucket);
/* One line per operation with completions, then one for the stalls
 * seen while spinning, into @buf. */
void timing_lateness_format(const struct timing_lateness *l, char *buf,
			    unsigned long len);

#endif
