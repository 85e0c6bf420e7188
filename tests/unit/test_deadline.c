/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for timing/deadline: the binary min-heap deadline queue.
 * Random pushes pop in order, removal of arbitrary nodes keeps the heap
 * valid, queued flags, equal deadlines, growth.  TAP output.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing/deadline.h"
#include "tests/unit/tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* xorshift64, state owned by the caller */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* A queued object: the node embedded as the daemon embeds it. */
struct item {
	uint32_t	id;
	struct dlq_node	node;
};

static struct item *item_of(struct dlq_node *n)
{
	return (struct item *)((char *)n - offsetof(struct item, node));
}

/*
 * Heap invariant: every parent <= its children, every node's idx is its
 * slot, count within capacity.
 */
static bool heap_valid(const struct dlq *q)
{
	if (q->nr > q->cap)
		return false;
	for (uint32_t i = 0; i < q->nr; i++) {
		if (q->heap[i]->idx != i) {
			diag("slot %" PRIu32 " holds a node with idx %" PRIu32,
			     i, q->heap[i]->idx);
			return false;
		}
		if (i > 0 && q->heap[(i - 1) / 2]->deadline > q->heap[i]->deadline) {
			diag("slot %" PRIu32 " smaller than its parent", i);
			return false;
		}
	}
	return true;
}

/*
 * Pop everything: deadlines non-decreasing, every popped node unqueued,
 * each id at most once; returns the count popped or -1 on disorder.
 */
static long drain(struct dlq *q, bool *seen, uint32_t nr_ids)
{
	uint64_t last = 0;
	long n = 0;
	struct dlq_node *p;

	while ((p = dlq_pop(q)) != NULL) {
		struct item *it = item_of(p);

		if (p->deadline < last || dlq_queued(p) || it->id >= nr_ids ||
		    seen[it->id]) {
			diag("pop %ld: deadline %" PRIu64 " after %" PRIu64
			     ", queued %d, id %" PRIu32, n, p->deadline, last,
			     dlq_queued(p), it->id);
			return -1;
		}
		seen[it->id] = true;
		last = p->deadline;
		n++;
	}
	return n;
}

static void test_empty(struct tap *t)
{
	struct dlq q;
	struct item it = { .id = 0 };
	bool ok;

	dlq_init(&q);
	dlq_node_init(&it.node);
	ok = dlq_peek(&q) == NULL && dlq_pop(&q) == NULL && !dlq_queued(&it.node);
	dlq_remove(&q, &it.node);		/* not queued: no-op */
	ok &= q.nr == 0 && !dlq_queued(&it.node);
	tap_result(t, ok, "empty queue: peek/pop NULL, removing an unqueued node is a no-op");

	ok = dlq_push(&q, &it.node, 42) == 0 && dlq_queued(&it.node) &&
	     dlq_peek(&q) == &it.node && it.node.deadline == 42;
	ok &= dlq_pop(&q) == &it.node && !dlq_queued(&it.node) &&
	      dlq_peek(&q) == NULL;
	ok &= dlq_push(&q, &it.node, 7) == 0 && dlq_queued(&it.node);
	dlq_remove(&q, &it.node);
	ok &= !dlq_queued(&it.node) && q.nr == 0;
	ok &= dlq_push(&q, &it.node, 9) == 0 && dlq_pop(&q) == &it.node;
	tap_result(t, ok, "one node: push sets queued, pop/remove clear it, node reusable");
	dlq_fini(&q);
}

static void test_random_order(struct tap *t)
{
	enum { N = 1000 };
	struct item *items = calloc(N, sizeof(*items));
	bool *seen = calloc(N, sizeof(*seen));
	uint64_t seed = 0x0123456789abcdefull, min = UINT64_MAX;
	bool ok = true, all_queued = true;
	struct dlq q;
	long popped;

	if (!items || !seen) {
		tap_result(t, false, "random deadlines: allocation");
		free(items);
		free(seen);
		return;
	}
	dlq_init(&q);
	for (uint32_t i = 0; i < N; i++) {
		/* a narrow range too, for duplicates */
		uint64_t d = i % 3 ? rng_next(&seed) : rng_next(&seed) % 50;

		items[i].id = i;
		dlq_node_init(&items[i].node);
		ok &= dlq_push(&q, &items[i].node, d) == 0;
		min = d < min ? d : min;
		ok &= dlq_peek(&q)->deadline == min;
	}
	for (uint32_t i = 0; i < N; i++)
		all_queued &= dlq_queued(&items[i].node);
	ok &= heap_valid(&q) && q.nr == N;
	tap_result(t, ok && all_queued,
		   "%d random pushes: heap valid, peek is the minimum after each, all queued", N);

	popped = drain(&q, seen, N);
	tap_result(t, popped == N, "pop yields all %d in non-decreasing deadline order, each once (%ld)",
		   N, popped);
	dlq_fini(&q);
	free(items);
	free(seen);
}

static void test_remove(struct tap *t)
{
	enum { N = 2000 };
	struct item *items = calloc(N, sizeof(*items));
	bool *seen = calloc(N, sizeof(*seen));
	uint64_t seed = 0xfeedfacecafebeefull;
	bool ok = true, flags = true;
	uint32_t removed = 0;
	struct dlq q;
	long popped;

	if (!items || !seen) {
		tap_result(t, false, "remove: allocation");
		free(items);
		free(seen);
		return;
	}
	dlq_init(&q);
	for (uint32_t i = 0; i < N; i++) {
		items[i].id = i;
		dlq_node_init(&items[i].node);
		ok &= dlq_push(&q, &items[i].node, rng_next(&seed) % 100000) == 0;
	}
	/* Remove most of them, in random order, checking the heap each time
	 * (removals from the middle exercise both sift directions). */
	for (uint32_t k = 0; k < N; k++) {
		struct item *it = &items[rng_next(&seed) % N];

		if (!dlq_queued(&it->node))
			continue;
		dlq_remove(&q, &it->node);
		removed++;
		flags &= !dlq_queued(&it->node);
		seen[it->id] = true;		/* must not come out of pop */
		if (!heap_valid(&q)) {
			ok = false;
			break;
		}
	}
	ok &= q.nr == N - removed;
	tap_result(t, ok && flags, "removing %" PRIu32 " arbitrary nodes keeps heap order and clears their queued flag",
		   removed);

	/* Root and last slot */
	if (q.nr > 2) {
		struct dlq_node *root = dlq_peek(&q), *last = q.heap[q.nr - 1];

		dlq_remove(&q, root);
		seen[item_of(root)->id] = true;
		dlq_remove(&q, last);
		seen[item_of(last)->id] = true;
		removed += 2;
		ok = heap_valid(&q) && !dlq_queued(root) && !dlq_queued(last);
	} else {
		ok = false;
	}
	tap_result(t, ok, "removing the root and the last slot keeps heap order");

	popped = drain(&q, seen, N);
	tap_result(t, popped == (long)(N - removed),
		   "the remaining %" PRIu32 " pop in order, no removed node comes back (%ld)",
		   N - removed, popped);
	for (uint32_t i = 0; i < N; i++)
		flags &= !dlq_queued(&items[i].node);
	tap_result(t, flags && dlq_peek(&q) == NULL, "all nodes unqueued afterwards");

	/* Removal that must sift up: the last node moves into a slot under
	 * a parent with a larger deadline. */
	{
		/* Pushed in this order the nodes stay in their slots:
		 *   0:0  1:100  2:1  3:101  4:102  5:2  6:3
		 * removing slot 3 moves the last (deadline 3) under slot 1
		 * (deadline 100): it has to rise to slot 1. */
		static const uint64_t d[] = { 0, 100, 1, 101, 102, 2, 3 };
		struct item small[ARRAY_SIZE(d)];
		bool seen2[ARRAY_SIZE(d)] = { false };
		struct dlq q2;

		dlq_init(&q2);
		ok = true;
		for (uint32_t i = 0; i < ARRAY_SIZE(d); i++) {
			small[i].id = i;
			dlq_node_init(&small[i].node);
			ok &= dlq_push(&q2, &small[i].node, d[i]) == 0;
		}
		for (uint32_t i = 0; i < ARRAY_SIZE(d); i++)
			ok &= small[i].node.idx == i;
		dlq_remove(&q2, &small[3].node);
		seen2[3] = true;
		ok &= heap_valid(&q2) && small[6].node.idx == 1;
		ok &= drain(&q2, seen2, ARRAY_SIZE(d)) == (long)ARRAY_SIZE(d) - 1;
		tap_result(t, ok, "removal that moves a small last node under a larger parent sifts it up");
		dlq_fini(&q2);
	}
	dlq_fini(&q);
	free(items);
	free(seen);
}

static void test_equal(struct tap *t)
{
	enum { N = 300 };
	struct item items[N];
	bool seen[N] = { false };
	struct dlq q;
	bool ok = true;
	long popped;

	dlq_init(&q);
	for (uint32_t i = 0; i < N; i++) {
		items[i].id = i;
		dlq_node_init(&items[i].node);
		ok &= dlq_push(&q, &items[i].node, i < N / 2 ? 500 : 200) == 0;
	}
	ok &= heap_valid(&q) && dlq_peek(&q)->deadline == 200;
	/* remove a few equal ones from the middle */
	for (uint32_t i = 10; i < N; i += 37) {
		dlq_remove(&q, &items[i].node);
		seen[i] = true;
		ok &= heap_valid(&q);
	}
	popped = drain(&q, seen, N);
	for (uint32_t i = 0; i < N; i++)
		ok &= seen[i];
	tap_result(t, ok && popped > 0,
		   "%d nodes with two equal deadlines: every node pops exactly once, 200s first (%ld)",
		   N, popped);
	dlq_fini(&q);
}

static void test_growth(struct tap *t)
{
	enum { N = 10000 };
	struct item *items = calloc(N, sizeof(*items));
	bool *seen = calloc(N, sizeof(*seen));
	uint64_t seed = 99;
	bool ok = true;
	struct dlq q;
	long popped;

	if (!items || !seen) {
		tap_result(t, false, "growth: allocation");
		free(items);
		free(seen);
		return;
	}
	dlq_init(&q);
	/* Descending deadlines: every push sifts to the root. */
	for (uint32_t i = 0; i < N; i++) {
		items[i].id = i;
		dlq_node_init(&items[i].node);
		ok &= dlq_push(&q, &items[i].node,
			       (uint64_t)(N - i) * 1000 + rng_next(&seed) % 1000) == 0;
		ok &= dlq_peek(&q) == &items[i].node;
	}
	ok &= q.nr == N && q.cap >= N && heap_valid(&q);
	tap_result(t, ok, "%d pushes grow the heap past its initial capacity (cap %" PRIu32 "), order kept",
		   N, q.cap);
	popped = drain(&q, seen, N);
	tap_result(t, popped == N, "all %d pop in order (%ld)", N, popped);

	/* Reuse after draining, then fini with nodes still queued */
	ok = dlq_push(&q, &items[0].node, 5) == 0 &&
	     dlq_push(&q, &items[1].node, 3) == 0 &&
	     dlq_pop(&q) == &items[1].node && dlq_peek(&q) == &items[0].node;
	tap_result(t, ok, "the queue is reusable after being drained");
	dlq_fini(&q);
	ok = q.nr == 0 && q.heap == NULL && dlq_peek(&q) == NULL;
	tap_result(t, ok, "dlq_fini leaves an empty, reusable queue");
	free(items);
	free(seen);
}

int main(void)
{
	struct tap t = { 0 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_empty(&t);
	test_random_order(&t);
	test_remove(&t);
	test_equal(&t);
	test_growth(&t);
	printf("1..%d\n", t.n);
	return t.failed ? 1 : 0;
}
