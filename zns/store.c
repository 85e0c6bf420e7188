/* SPDX-License-Identifier: MIT */
/* RAM store: lazily backed anonymous mapping, see store.h. */
#include "zns/store.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int znst_store_init(struct znst_store *st, uint64_t size)
{
	void *p;

	memset(st, 0, sizeof(*st));
	st->page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (size == 0)
		return 0;
	if (size > SIZE_MAX - ZNST_STORE_HUGE)
		return -ERANGE;
	/* Address space only: pages are allocated on first write.  One
	 * huge page more than asked, so that the store can start on a
	 * huge-page boundary. */
	p = mmap(NULL, size + ZNST_STORE_HUGE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	st->map = p;
	st->map_size = size + ZNST_STORE_HUGE;
	st->base = (uint8_t *)(((uintptr_t)p + ZNST_STORE_HUGE - 1) &
			       ~(uintptr_t)(ZNST_STORE_HUGE - 1));
	st->size = size;
	/*
	 * First writes fault pages in: with 4 KiB pages the faults, not
	 * the copies, were half of the daemon's time in a sequential write.
	 * Transparent huge pages cut them 512-fold.  Where THP is "never"
	 * this is a no-op; a reset still frees whole pages (MADV_DONTNEED
	 * splits a huge page it covers only in part).
	 */
	(void)madvise(st->base, size, MADV_HUGEPAGE);
	return 0;
}

void znst_store_fini(struct znst_store *st)
{
	if (st->map)
		munmap(st->map, st->map_size);
	st->map = NULL;
	st->map_size = 0;
	st->base = NULL;
	st->size = 0;
}

void znst_store_write(struct znst_store *st, uint64_t off, const void *buf,
		      size_t len)
{
	assert(off <= st->size && len <= st->size - off);
	memcpy(st->base + off, buf, len);
}

void znst_store_read(const struct znst_store *st, uint64_t off, void *buf,
		     size_t len)
{
	assert(off <= st->size && len <= st->size - off);
	memcpy(buf, st->base + off, len);
}

/* The whole pages inside [off, off+len): false when there are none. */
static bool whole_pages(const struct znst_store *st, uint64_t off, uint64_t len,
			uint64_t *start, uint64_t *end)
{
	uint64_t pg = st->page_size;

	assert(off <= st->size && len <= st->size - off);
	*start = (off + pg - 1) & ~(pg - 1);
	*end = (off + len) & ~(pg - 1);
	return *start < *end;
}

void znst_store_release(struct znst_store *st, uint64_t off, uint64_t len)
{
	uint64_t start, end;

	/* partial pages stay as they are: the caller does not read them */
	if (!whole_pages(st, off, len, &start, &end))
		return;
	/* MADV_FREE needs Linux 4.5; before it, give the pages back now */
	if (madvise(st->base + start, end - start, MADV_FREE) != 0)
		znst_store_discard(st, start, end - start);
}

void znst_store_discard(struct znst_store *st, uint64_t off, uint64_t len)
{
	uint64_t start, end;

	if (!whole_pages(st, off, len, &start, &end)) {
		memset(st->base + off, 0, len);
		return;
	}
	memset(st->base + off, 0, start - off);
	memset(st->base + end, 0, off + len - end);
	/* MADV_DONTNEED on private anonymous memory: zero-fill on next touch. */
	if (madvise(st->base + start, end - start, MADV_DONTNEED) != 0)
		memset(st->base + start, 0, end - start);
}
