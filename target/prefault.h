/* SPDX-License-Identifier: MIT */
/*
 * The populator: one background thread per daemon that makes store memory
 * resident ahead of the zone write pointers (zns_prefault_hint), so that
 * first writes do not stop a reactor on page faults.
 *
 * A first touch of a page costs a fault that zeroes it: 100-250 us per
 * 2 MiB huge page here, and in a VM often the host's own fault on top.  A
 * reactor that takes that fault delays every completion due meanwhile.
 * The thread runs SCHED_IDLE: it uses CPU time nobody else wants and never
 * takes it from a reactor, whatever policy the daemon was started with.
 * Requests are hints; a full queue drops them (the write then faults
 * inline, as without the thread).
 */
#ifndef ZNST_TARGET_PREFAULT_H
#define ZNST_TARGET_PREFAULT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define ZNST_PREFAULT_QUEUE	64

struct znst_prefault_req {
	uint8_t		*addr;
	uint64_t	len;
};

struct znst_prefaulter {
	pthread_t		thread;
	pthread_mutex_t		lock;
	pthread_cond_t		cond;
	struct znst_prefault_req q[ZNST_PREFAULT_QUEUE];
	uint32_t		head, nr;
	bool			stop;
	bool			started;	/* thread exists: prefault_stop() joins it */
	atomic_bool		running;	/* started, and the kernel can do it */
};

/* Returns 0 or -errno (the daemon runs without it then). */
int prefault_start(struct znst_prefaulter *pf);
void prefault_stop(struct znst_prefaulter *pf);	/* no-op unless started */
/* Queue [addr, addr + len) to be populated; drops it when full or off. */
void prefault_push(struct znst_prefaulter *pf, void *addr, uint64_t len);

#endif
