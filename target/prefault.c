/* SPDX-License-Identifier: MIT */
/* The populator thread: see prefault.h. */
#include "target/prefault.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE	23	/* Linux 5.14 */
#endif

/* One madvise per huge page: a reset may free the range meanwhile, and a
 * stop request waits for one piece at most. */
#define PREFAULT_PIECE		(2u << 20)

static void *prefault_main(void *arg)
{
	struct znst_prefaulter *pf = arg;
	struct sched_param sp = { .sched_priority = 0 };

	/* Lower than anything, whatever the daemon was started with: a
	 * SCHED_FIFO reactor on the same CPU must never wait for us. */
	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0)
		(void)nice(19);
	pthread_mutex_lock(&pf->lock);
	for (;;) {
		struct znst_prefault_req rq;

		while (!pf->nr && !pf->stop)
			pthread_cond_wait(&pf->cond, &pf->lock);
		if (pf->stop)
			break;
		rq = pf->q[pf->head];
		pf->head = (pf->head + 1) % ZNST_PREFAULT_QUEUE;
		pf->nr--;
		pthread_mutex_unlock(&pf->lock);
		for (uint64_t off = 0; off < rq.len; off += PREFAULT_PIECE) {
			uint64_t n = rq.len - off < PREFAULT_PIECE ? rq.len - off
								 : PREFAULT_PIECE;

			/* Populating never changes data: a page the reactor
			 * wrote meanwhile is left as it is. */
			if (madvise(rq.addr + off, n, MADV_POPULATE_WRITE) != 0) {
				if (errno == EINVAL) {
					/* before Linux 5.14: nothing to do but
					 * let writes fault */
					fprintf(stderr, "znstcpd: MADV_POPULATE_WRITE unsupported: "
						"--zone-prefault has no effect\n");
					atomic_store(&pf->running, false);
				}
				break;	/* ENOMEM and the like: the write will tell */
			}
		}
		pthread_mutex_lock(&pf->lock);
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

int prefault_start(struct znst_prefaulter *pf)
{
	int ret;

	memset(pf, 0, sizeof(*pf));
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->cond, NULL);
	atomic_store(&pf->running, true);
	ret = pthread_create(&pf->thread, NULL, prefault_main, pf);
	if (ret) {
		atomic_store(&pf->running, false);
		pthread_cond_destroy(&pf->cond);
		pthread_mutex_destroy(&pf->lock);
		return -ret;
	}
	pf->started = true;
	return 0;
}

void prefault_stop(struct znst_prefaulter *pf)
{
	if (!pf->started)
		return;
	pthread_mutex_lock(&pf->lock);
	pf->stop = true;
	pthread_cond_signal(&pf->cond);
	pthread_mutex_unlock(&pf->lock);
	pthread_join(pf->thread, NULL);
	atomic_store(&pf->running, false);
	pthread_cond_destroy(&pf->cond);
	pthread_mutex_destroy(&pf->lock);
	pf->started = false;
}

void prefault_push(struct znst_prefaulter *pf, void *addr, uint64_t len)
{
	if (!len || !atomic_load_explicit(&pf->running, memory_order_relaxed))
		return;
	pthread_mutex_lock(&pf->lock);
	if (pf->nr < ZNST_PREFAULT_QUEUE) {	/* else dropped: a hint */
		pf->q[(pf->head + pf->nr) % ZNST_PREFAULT_QUEUE] =
			(struct znst_prefault_req){ .addr = addr, .len = len };
		pf->nr++;
		pthread_cond_signal(&pf->cond);
	}
	pthread_mutex_unlock(&pf->lock);
}
