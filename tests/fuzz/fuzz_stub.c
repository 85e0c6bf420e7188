/* SPDX-License-Identifier: MIT */
/*
 * A reactor without io_uring or sockets, for the fuzz targets: it stands in
 * for target/reactor.c (and main.c's logger) so that conn.c, admin.c, io.c
 * and subsys.c run unchanged.  "Arming" a receive or a send only records
 * it; fuzz_pump() then completes sends in full, as a socket with room
 * would, and fuzz_feed() delivers received bytes the way a recv
 * completion does, through conn_rx_ready().
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/fuzz/fuzz_stub.h"

uint64_t znst_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void znst_log(const struct znst_daemon *d, int level, const char *fmt, ...)
{
	va_list ap;

	if (!d || level > d->cfg.verbose)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void reactor_arm_recv(struct znst_conn *c)
{
	if (c->state != CONN_CLOSING)
		c->recv_armed = true;
}

void reactor_arm_send(struct znst_conn *c)
{
	uint32_t len = 0;

	if (c->send_armed || !c->tx_head)
		return;
	for (struct znst_tx *tx = c->tx_head; tx; tx = tx->next)
		len += tx->total - tx->done;
	c->send_len = len;
	c->send_armed = true;
}

void reactor_release_due(struct znst_reactor *r)
{
	(void)r;
}

int reactor_hold(struct znst_reactor *r, struct znst_req *req, uint64_t deadline)
{
	return -ENOSPC;		/* no timing model here: complete at once */
}

void reactor_unhold(struct znst_reactor *r, struct znst_req *req)
{
}

void daemon_report_lateness(struct znst_daemon *d)
{
}

int fuzz_daemon_init(struct znst_daemon *d, struct znst_reactor *r)
{
	static char *argv[] = {
		"fuzz", "--zones", "4", "--zone-size", "64K", "--zone-cap", "48K",
		"--max-open", "2", "--max-active", "3", "--conv-size", "256K",
		"--mdts", "32K", "--zone-append-max", "16K", "--queue-depth", "16",
		"--max-queues", "2", "--max-inflight-data", "64K", NULL,
	};
	char err[256];

	memset(d, 0, sizeof(*d));
	if (znst_config_from_args(&d->cfg, (int)(sizeof(argv) / sizeof(argv[0])) - 1,
				  argv, err, sizeof(err)) != ZNST_CLI_RUN) {
		fprintf(stderr, "fuzz: config: %s\n", err);
		return -1;
	}
	d->cfg.verbose = getenv("FUZZ_VERBOSE") ? 9 : -9;
	if (subsys_init_nvm(&d->nvm, d) || subsys_init_disc(&d->disc, d))
		return -1;
	memset(r, 0, sizeof(*r));
	r->daemon = d;
	r->listen_fd = r->signal_fd = r->wake_fd = -1;
	dlq_init(&r->held);
	d->reactors = r;
	d->nr_reactors = 1;
	return 0;
}

struct znst_conn *fuzz_conn_open(struct znst_reactor *r)
{
	atomic_fetch_add(&r->daemon->nr_conns, 1);	/* as the accept path does */
	return conn_create(r, -1);
}

void fuzz_pump(struct znst_conn *c)
{
	while (c->send_armed)
		conn_tx_done(c, (int)c->send_len);
}

bool fuzz_feed(struct znst_conn *c, const uint8_t *p, size_t n, size_t chunk)
{
	while (n && c->recv_armed && c->state != CONN_CLOSING) {
		size_t k = n < chunk ? n : chunk;

		if (k > c->rcap)
			k = c->rcap;
		memcpy(c->rbuf, p, k);
		conn_rx_ready(c, (int)k);
		fuzz_pump(c);
		p += k;
		n -= k;
	}
	return c->state != CONN_CLOSING;
}

void fuzz_conn_close(struct znst_conn *c)
{
	conn_close(c, "fuzz input done");
	/* what shutdown() makes the kernel do with pending operations */
	if (c->send_armed)
		conn_tx_done(c, -EPIPE);
	if (c->recv_armed)
		conn_rx_ready(c, 0);
	conn_maybe_free(c);
}
