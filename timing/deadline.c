/* SPDX-License-Identifier: MIT */
/* Deadline min-heap; see deadline.h. */
#include "timing/deadline.h"

#include <errno.h>
#include <stdlib.h>

void dlq_init(struct dlq *q)
{
	q->heap = NULL;
	q->nr = q->cap = 0;
}

void dlq_fini(struct dlq *q)
{
	free(q->heap);
	dlq_init(q);
}

static void dlq_place(struct dlq *q, uint32_t i, struct dlq_node *n)
{
	q->heap[i] = n;
	n->idx = i;
}

static void dlq_sift_up(struct dlq *q, uint32_t i)
{
	struct dlq_node *n = q->heap[i];

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (q->heap[parent]->deadline <= n->deadline)
			break;
		dlq_place(q, i, q->heap[parent]);
		i = parent;
	}
	dlq_place(q, i, n);
}

static void dlq_sift_down(struct dlq *q, uint32_t i)
{
	struct dlq_node *n = q->heap[i];

	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		uint64_t best = n->deadline;

		if (l < q->nr && q->heap[l]->deadline < best) {
			m = l;
			best = q->heap[l]->deadline;
		}
		if (r < q->nr && q->heap[r]->deadline < best)
			m = r;
		if (m == i)
			break;
		dlq_place(q, i, q->heap[m]);
		i = m;
	}
	dlq_place(q, i, n);
}

int dlq_push(struct dlq *q, struct dlq_node *n, uint64_t deadline)
{
	if (q->nr == q->cap) {
		uint32_t cap = q->cap ? q->cap * 2 : 64;
		struct dlq_node **h = realloc(q->heap, cap * sizeof(*h));

		if (!h)
			return -ENOMEM;
		q->heap = h;
		q->cap = cap;
	}
	n->deadline = deadline;
	q->heap[q->nr] = n;
	n->idx = q->nr++;
	dlq_sift_up(q, n->idx);
	return 0;
}

struct dlq_node *dlq_peek(const struct dlq *q)
{
	return q->nr ? q->heap[0] : NULL;
}

void dlq_remove(struct dlq *q, struct dlq_node *n)
{
	uint32_t i = n->idx;
	struct dlq_node *last;

	if (i == DLQ_NOT_QUEUED)
		return;
	last = q->heap[--q->nr];
	n->idx = DLQ_NOT_QUEUED;
	if (i == q->nr)
		return;
	dlq_place(q, i, last);
	if (i > 0 && q->heap[(i - 1) / 2]->deadline > last->deadline)
		dlq_sift_up(q, i);
	else
		dlq_sift_down(q, i);
}

struct dlq_node *dlq_pop(struct dlq *q)
{
	struct dlq_node *n = dlq_peek(q);

	if (n)
		dlq_remove(q, n);
	return n;
}
