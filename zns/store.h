/* SPDX-License-Identifier: MIT */
/*
 * RAM store for one namespace's data.  The whole capacity is reserved as
 * address space only (MAP_NORESERVE): resident memory grows with the data
 * written, and a discard (zone reset, deallocate, write zeroes) hands whole
 * pages back to the kernel.  Never-written ranges read as zeroes.  The
 * mapping asks for transparent huge pages (see store.c).
 */
#ifndef ZNST_ZNS_STORE_H
#define ZNST_ZNS_STORE_H

#include <stddef.h>
#include <stdint.h>

/* huge-page size the store aligns to (x86-64, arm64 with 4 KiB pages) */
#define ZNST_STORE_HUGE		(2u << 20)

struct znst_store {
	void		*map;		/* the mapping, base rounded down */
	size_t		map_size;
	uint8_t		*base;
	uint64_t	size;		/* bytes */
	size_t		page_size;
};

/* Returns 0 or -errno. */
int znst_store_init(struct znst_store *st, uint64_t size);
void znst_store_fini(struct znst_store *st);

/* Callers check ranges; these assert them. */
void znst_store_write(struct znst_store *st, uint64_t off, const void *buf,
		      size_t len);
void znst_store_read(const struct znst_store *st, uint64_t off, void *buf,
		     size_t len);
/* Make [off, off+len) read as zeroes; frees the whole pages inside it. */
void znst_store_discard(struct znst_store *st, uint64_t off, uint64_t len);

/*
 * The bytes of [off, off+len) are no longer needed: the kernel may take
 * the whole pages inside it when memory is short (MADV_FREE), and until
 * then a write reuses them without a fault or a zeroing.  Unlike discard,
 * the range does NOT read as zeroes afterwards: the caller must not read
 * it before writing it again.
 */
void znst_store_release(struct znst_store *st, uint64_t off, uint64_t len);

/* Pointer to stored bytes, for zero-copy reads (valid until a discard). */
static inline const void *znst_store_ptr(const struct znst_store *st,
					 uint64_t off)
{
	return st->base + off;
}

#endif
