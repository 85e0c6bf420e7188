/* SPDX-License-Identifier: MIT */
/*
 * Deadline queue: a binary min-heap of nodes embedded in the caller's
 * objects (one per reactor).  O(log n) insert, pop and remove-by-node, so a
 * connection that dies can pull its held completions out.
 */
#ifndef ZNST_TIMING_DEADLINE_H
#define ZNST_TIMING_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>

#define DLQ_NOT_QUEUED	UINT32_MAX

struct dlq_node {
	uint64_t	deadline;	/* ns */
	uint32_t	idx;		/* heap slot or DLQ_NOT_QUEUED */
};

struct dlq {
	struct dlq_node	**heap;
	uint32_t	nr;
	uint32_t	cap;
};

void dlq_init(struct dlq *q);
void dlq_fini(struct dlq *q);
/* Returns 0 or -ENOMEM. */
int dlq_push(struct dlq *q, struct dlq_node *n, uint64_t deadline);
struct dlq_node *dlq_peek(const struct dlq *q);
struct dlq_node *dlq_pop(struct dlq *q);
void dlq_remove(struct dlq *q, struct dlq_node *n);

static inline void dlq_node_init(struct dlq_node *n)
{
	n->idx = DLQ_NOT_QUEUED;
}

static inline bool dlq_queued(const struct dlq_node *n)
{
	return n->idx != DLQ_NOT_QUEUED;
}

#endif
