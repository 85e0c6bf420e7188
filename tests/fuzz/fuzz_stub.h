/* SPDX-License-Identifier: MIT */
/* The socket-less reactor of the fuzz targets (fuzz_stub.c). */
#ifndef ZNST_TESTS_FUZZ_STUB_H
#define ZNST_TESTS_FUZZ_STUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/core.h"

/* A small daemon (tiny zones, MDTS 32K, queue depth 16) on one reactor. */
int fuzz_daemon_init(struct znst_daemon *d, struct znst_reactor *r);
struct znst_conn *fuzz_conn_open(struct znst_reactor *r);
/* Deliver @n bytes in receives of at most @chunk; false once it closed. */
bool fuzz_feed(struct znst_conn *c, const uint8_t *p, size_t n, size_t chunk);
/* Complete every armed send in full. */
void fuzz_pump(struct znst_conn *c);
/* Close and free, as the reactor would after shutdown(). */
void fuzz_conn_close(struct znst_conn *c);

#endif
