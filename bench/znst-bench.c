/* SPDX-License-Identifier: MIT */
/*
 * znst-bench: a small NVMe/TCP initiator that measures what znstcpd's
 * latency model makes a host see.  One admin queue and one I/O queue on
 * plain blocking sockets, commands pipelined up to --qd.  Per operation it
 * prints mean/p50/p99 latency and IOPS/throughput, and beside them the
 * figures the daemon's own model gives for the same command sequence on a
 * fake clock with a zero network round trip (the "target"), so that
 * measured - baseline round trip can be compared with it.
 *
 * Output: one "RESULT key=value ..." line per operation (bench/run.sh
 * turns them into a table) and a human-readable line on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "conf/config.h"
#include "proto/nvme.h"
#include "proto/nvme_tcp.h"
#include "proto/zns.h"
#include "timing/timing.h"

#define QD_MAX		128
#define RBUF_SIZE	(4u << 20)
#define HOSTNQN		"nqn.2024-11.io.znstcp:bench"
#define KIB		UINT64_C(1024)
#define MIB		(KIB * KIB)

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("znst-bench: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* ---- Workloads: the same command sequence for the wire and the model --------- */

enum bench_op { OP_RANDREAD, OP_WRITE4K, OP_APPEND, OP_WRITE128K, OP_RESET, OP_FLUSH, OP_NR };

static const char *const op_names[OP_NR] = {
	[OP_RANDREAD] = "randread4k", [OP_WRITE4K] = "write4k", [OP_APPEND] = "append4k",
	[OP_WRITE128K] = "write128k", [OP_RESET] = "reset-full", [OP_FLUSH] = "flush",
};

enum cmd_kind { K_READ, K_WRITE, K_APPEND, K_FLUSH, K_RESET, K_FINISH, K_RESET_ALL };

struct wl_cmd {
	enum cmd_kind	kind;
	uint32_t	zone;
	uint64_t	off;		/* bytes into the zone */
	uint32_t	bytes;
	bool		timed;		/* counted in the statistics */
};

struct geometry {
	uint32_t	lba;		/* bytes */
	uint32_t	nr_zones;
	uint64_t	zone_size;	/* bytes */
	uint64_t	zone_cap;
};

#define STREAMS_MAX	64

struct workload {
	enum bench_op	op;
	uint64_t	n;		/* timed commands */
	uint64_t	issued;		/* timed commands handed out */
	uint64_t	rng;
	uint64_t	span;		/* randread: bytes prewritten in zone 0 */
	bool		pair_second;	/* reset/flush: the timed half is next */
	/* write128k: streams writing their zones sequentially */
	uint32_t	nstreams, next_stream, next_zone;
	uint32_t	szone[STREAMS_MAX];
	uint64_t	swp[STREAMS_MAX];
	const struct geometry *g;
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void wl_init(struct workload *w, enum bench_op op, uint64_t n,
		    uint32_t streams, uint64_t span, const struct geometry *g)
{
	memset(w, 0, sizeof(*w));
	w->op = op;
	w->n = n;
	w->rng = 0x9e3779b97f4a7c15ull;
	w->span = span;
	w->g = g;
	w->nstreams = streams;
	/* zone 0 holds randread's data; the others start at 1 */
	for (uint32_t s = 0; s < streams; s++)
		w->szone[s] = 1 + s;
	w->next_zone = 1 + streams;
}

/* The zone a reset/flush pair works on: the last one. */
static uint32_t pair_zone(const struct workload *w)
{
	return w->g->nr_zones - 1;
}

static bool wl_next(struct workload *w, struct wl_cmd *c)
{
	uint32_t s;

	if (w->issued >= w->n)
		return false;
	memset(c, 0, sizeof(*c));
	c->timed = true;
	switch (w->op) {
	case OP_RANDREAD:
		c->kind = K_READ;
		c->bytes = 4096;
		c->off = (xorshift(&w->rng) % (w->span / 4096)) * 4096;
		break;
	case OP_WRITE4K:
	case OP_APPEND:
	case OP_WRITE128K:
		/* streams write their zones sequentially and move on to an
		 * unused zone when one is full */
		c->bytes = w->op == OP_WRITE128K ? 128 * KIB : 4096;
		s = w->next_stream;
		w->next_stream = (s + 1) % w->nstreams;
		if (w->swp[s] + c->bytes > w->g->zone_cap) {
			if (w->next_zone >= w->g->nr_zones - 1)
				die("%s: ran out of zones; lower --count or --bytes",
				    op_names[w->op]);
			w->szone[s] = w->next_zone++;
			w->swp[s] = 0;
		}
		c->kind = w->op == OP_APPEND ? K_APPEND : K_WRITE;
		c->zone = w->szone[s];
		c->off = w->op == OP_APPEND ? 0 : w->swp[s];	/* appends: the ZSLBA */
		w->swp[s] += c->bytes;
		break;
	case OP_RESET:
		/* fill the zone cheaply with Finish, then time its reset */
		c->zone = pair_zone(w);
		c->kind = w->pair_second ? K_RESET : K_FINISH;
		c->timed = w->pair_second;
		break;
	case OP_FLUSH:
		/* 128 KiB of data to push out of the buffer, then flush */
		c->zone = pair_zone(w);
		if (w->pair_second) {
			c->kind = K_FLUSH;
			break;
		}
		c->timed = false;
		if (w->swp[0] + 128 * KIB > w->g->zone_cap) {
			/* zone full: start over (untimed reset first) */
			c->kind = K_RESET;
			w->swp[0] = 0;
			return true;
		}
		c->kind = K_WRITE;
		c->off = w->swp[0];
		c->bytes = 128 * KIB;
		w->swp[0] += 128 * KIB;
		break;
	case OP_NR:
		return false;
	}
	if (w->op == OP_RESET || w->op == OP_FLUSH)
		w->pair_second = !w->pair_second;
	if (c->timed)
		w->issued++;
	return true;
}

/* ---- Statistics ------------------------------------------------------------------ */

struct stats {
	uint64_t	*lat;		/* ns, timed commands */
	uint64_t	n, cap;
	uint64_t	bytes;
	uint64_t	t_first, t_last;	/* first submit, last completion */
	/* steady state: after a quarter of the commands */
	uint64_t	t_mark, bytes_mark, n_mark;
	uint64_t	errors;
};

static void stats_init(struct stats *s, uint64_t n)
{
	memset(s, 0, sizeof(*s));
	s->cap = n ? n : 1;
	s->lat = calloc(s->cap, sizeof(*s->lat));
	if (!s->lat)
		die("out of memory");
	s->t_first = UINT64_MAX;
}

static void stats_add(struct stats *s, uint64_t submit, uint64_t done, uint32_t bytes)
{
	if (s->n < s->cap)
		s->lat[s->n] = done - submit;
	s->n++;
	s->bytes += bytes;
	if (submit < s->t_first)
		s->t_first = submit;
	if (done > s->t_last)
		s->t_last = done;
	if (s->n == s->cap / 4) {
		s->t_mark = done;
		s->bytes_mark = s->bytes;
		s->n_mark = s->n;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct summary {
	double	mean_us, p50_us, p99_us;
	double	iops, mbps;		/* steady state where there is one */
};

static struct summary stats_summary(struct stats *s)
{
	struct summary r = { 0 };
	uint64_t n = s->n < s->cap ? s->n : s->cap, sum = 0;
	uint64_t t0 = s->t_first, nb = s->n, bytes = s->bytes;

	if (!n)
		return r;
	qsort(s->lat, n, sizeof(*s->lat), cmp_u64);
	for (uint64_t i = 0; i < n; i++)
		sum += s->lat[i];
	r.mean_us = (double)sum / (double)n / 1000.0;
	r.p50_us = (double)s->lat[(n - 1) / 2] / 1000.0;
	r.p99_us = (double)s->lat[(n * 99 + 99) / 100 - 1] / 1000.0;
	/* a write buffer absorbs the start of a run: rate from the mark on */
	if (s->t_mark && s->n >= 64 && s->t_last > s->t_mark) {
		t0 = s->t_mark;
		nb = s->n - s->n_mark;
		bytes = s->bytes - s->bytes_mark;
	}
	if (s->t_last > t0) {
		r.iops = (double)nb * 1e9 / (double)(s->t_last - t0);
		r.mbps = (double)bytes * 1e3 / (double)(s->t_last - t0);
	}
	return r;
}

/* ---- The model on a fake clock ------------------------------------------------------- */

/* The same mapping target/subsys.c makes from the configuration. */
static int model_from_config(struct timing_model *m, const struct znst_config *cfg)
{
	struct timing_params p;

	znst_config_timing_params(cfg, &p);
	return timing_model_init(m, &p);
}

static uint64_t model_cmd(struct timing_model *m, const struct geometry *g,
			  const struct wl_cmd *c, uint64_t now, uint64_t append_wp[2])
{
	static const enum timing_op ops[] = {
		[K_READ] = TIMING_OP_READ, [K_WRITE] = TIMING_OP_WRITE,
		[K_APPEND] = TIMING_OP_APPEND, [K_FLUSH] = TIMING_OP_FLUSH,
		[K_RESET] = TIMING_OP_ZONE_RESET, [K_FINISH] = TIMING_OP_ZONE_FINISH,
		[K_RESET_ALL] = TIMING_OP_ZONE_RESET,
	};
	struct timing_io io = {
		.op = ops[c->kind], .zoned = true, .all = c->kind == K_RESET_ALL,
		.offset = (uint64_t)c->zone * g->zone_size + c->off, .bytes = c->bytes,
	};

	if (c->kind == K_APPEND) {
		/* the LBA the device assigns: the zone's write pointer */
		if (append_wp[0] != c->zone) {
			append_wp[0] = c->zone;
			append_wp[1] = 0;
		}
		io.offset += append_wp[1];
		append_wp[1] += c->bytes;
	}
	return timing_deadline(m, &io, now);
}

/* Closed loop at @qd with a zero round trip: each slot issues its next
 * command the moment its previous one completes. */
static struct summary model_run(const struct znst_config *cfg, const struct geometry *g,
				enum bench_op op, uint64_t n, uint32_t qd, uint32_t streams,
				uint64_t span)
{
	struct timing_model m;
	struct workload w;
	struct stats st;
	struct wl_cmd c;
	uint64_t ready[QD_MAX] = { 0 }, append_wp[2] = { 0, 0 }, t = 0;
	struct summary r = { 0 };

	if (cfg->timing == ZNST_TIMING_NONE || model_from_config(&m, cfg))
		return r;
	if (op == OP_RESET || op == OP_FLUSH)
		qd = 1;
	stats_init(&st, n);
	wl_init(&w, op, n, streams, span, g);
	while (wl_next(&w, &c)) {
		uint32_t slot = 0;

		for (uint32_t i = 1; i < qd; i++)
			if (ready[i] < ready[slot])
				slot = i;
		t = ready[slot];
		ready[slot] = model_cmd(&m, g, &c, t, append_wp);
		if (c.timed)
			stats_add(&st, t, ready[slot], c.bytes);
	}
	r = stats_summary(&st);
	free(st.lat);
	timing_model_fini(&m);
	return r;
}

/* ---- NVMe/TCP queue ----------------------------------------------------------------- */

struct pending {
	bool		busy;
	bool		timed;
	uint64_t	submit;
	uint32_t	bytes;
	uint8_t		*data;		/* write source / read destination */
	uint32_t	len;
	uint16_t	status;
	uint64_t	result;
	bool		done;
};

struct queue {
	int		fd;
	uint8_t		*rbuf;
	size_t		rlen, roff;
	uint32_t	maxh2c;
	uint32_t	inline_max;
	uint16_t	cntlid;
	/* busy-poll the socket: a client that sleeps in recv() adds its own
	 * wake-up latency (tens of us in a VM) to every measurement */
	bool		poll;
	struct pending	p[QD_MAX];
	uint32_t	inflight;
	struct stats	*st;		/* timed completions go here */
};

static void send_all(int fd, struct iovec *iov, int n)
{
	while (n) {
		ssize_t r = writev(fd, iov, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("send: %s", strerror(errno));
		}
		while (n && (size_t)r >= iov->iov_len) {
			r -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (uint8_t *)iov->iov_base + r;
			iov->iov_len -= (size_t)r;
		}
	}
}

/* Make @need bytes of the receive buffer readable at q->roff. */
static void recv_need(struct queue *q, size_t need)
{
	if (q->roff + need > RBUF_SIZE) {
		memmove(q->rbuf, q->rbuf + q->roff, q->rlen - q->roff);
		q->rlen -= q->roff;
		q->roff = 0;
	}
	while (q->rlen - q->roff < need) {
		ssize_t r = recv(q->fd, q->rbuf + q->rlen, RBUF_SIZE - q->rlen,
				 q->poll ? MSG_DONTWAIT : 0);

		if (r < 0 && (errno == EINTR || (q->poll && errno == EAGAIN)))
			continue;
		if (r <= 0)
			die("recv: %s", r ? strerror(errno) : "connection closed");
		q->rlen += (size_t)r;
	}
}

static int queue_open(struct queue *q, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct nvme_tcp_icreq ic = { 0 };
	const struct nvme_tcp_icresp *rsp;
	int one = 1, ret;

	memset(q, 0, sizeof(*q));
	ret = getaddrinfo(host, port, &hints, &ai);
	if (ret)
		die("%s:%s: %s", host, port, gai_strerror(ret));
	q->fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (q->fd < 0 || connect(q->fd, ai->ai_addr, ai->ai_addrlen))
		die("connect %s:%s: %s", host, port, strerror(errno));
	freeaddrinfo(ai);
	setsockopt(q->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	q->rbuf = malloc(RBUF_SIZE);
	if (!q->rbuf)
		die("out of memory");
	q->inline_max = 8192;

	ic.hdr.type = NVME_TCP_ICREQ;
	ic.hdr.hlen = NVME_TCP_IC_HLEN;
	ic.hdr.plen = cpu_to_le32(NVME_TCP_IC_HLEN);
	ic.pfv = cpu_to_le16(NVME_TCP_PFV_1_0);
	send_all(q->fd, &(struct iovec){ &ic, sizeof(ic) }, 1);
	recv_need(q, sizeof(*rsp));
	rsp = (const void *)(q->rbuf + q->roff);
	if (rsp->hdr.type != NVME_TCP_ICRESP)
		die("expected ICResp, got PDU type %#x", rsp->hdr.type);
	q->maxh2c = le32_to_cpu(rsp->maxdata);
	q->roff += sizeof(*rsp);
	return 0;
}

static uint16_t alloc_cid(struct queue *q)
{
	for (uint16_t i = 0; i < QD_MAX; i++)
		if (!q->p[i].busy)
			return i;
	die("no free command slot");
}

/* Send one command capsule; data up to inline_max travels in it. */
static uint16_t queue_submit(struct queue *q, struct nvme_sqe *sqe, uint8_t *data,
			     uint32_t len, bool to_ctrl, bool timed)
{
	uint16_t cid = alloc_cid(q);
	struct pending *p = &q->p[cid];
	bool incapsule = to_ctrl && len && len <= q->inline_max;
	struct nvme_tcp_hdr h = {
		.type = NVME_TCP_CMD, .hlen = NVME_TCP_CMD_HLEN,
		.pdo = incapsule ? NVME_TCP_CMD_HLEN : 0,
		.plen = cpu_to_le32(NVME_TCP_CMD_HLEN + (incapsule ? len : 0)),
	};
	struct iovec iov[3] = { { &h, sizeof(h) }, { sqe, sizeof(*sqe) }, { data, len } };

	sqe->cid = cid;
	sqe->flags = NVME_SQE_PSDT_SGL;
	sqe->dptr.addr = 0;
	sqe->dptr.length = cpu_to_le32(len);
	sqe->dptr.type = incapsule ? NVME_SGL_INCAPSULE : NVME_SGL_TRANSPORT_DATA;
	*p = (struct pending){ .busy = true, .timed = timed, .data = data, .len = len,
			       .bytes = len };
	q->inflight++;
	p->submit = now_ns();
	send_all(q->fd, iov, incapsule ? 3 : 2);
	return cid;
}

static void send_h2c(struct queue *q, struct pending *p, uint16_t cid, uint16_t ttag,
		     uint32_t off, uint32_t len)
{
	while (len) {
		uint32_t n = len < q->maxh2c ? len : q->maxh2c;
		struct nvme_tcp_data h = {
			.hdr = { .type = NVME_TCP_H2C_DATA, .hlen = NVME_TCP_DATA_HLEN,
				 .pdo = NVME_TCP_DATA_HLEN,
				 .flags = n == len ? NVME_TCP_F_DATA_LAST : 0,
				 .plen = cpu_to_le32(NVME_TCP_DATA_HLEN + n) },
			.cccid = cid, .ttag = cpu_to_le16(ttag),
			.datao = cpu_to_le32(off), .datal = cpu_to_le32(n),
		};
		struct iovec iov[2] = { { &h, sizeof(h) }, { p->data + off, n } };

		send_all(q->fd, iov, 2);
		off += n;
		len -= n;
	}
}

static void complete(struct queue *q, uint16_t cid, uint16_t status, uint64_t result)
{
	struct pending *p = &q->p[cid];
	uint64_t t = now_ns();

	p->status = status;
	p->result = result;
	p->done = true;
	p->busy = false;
	q->inflight--;
	if (status && q->st)
		q->st->errors++;
	if (p->timed && q->st && !status)
		stats_add(q->st, p->submit, t, p->bytes);
}

/* Receive and handle one PDU. */
static void queue_process(struct queue *q)
{
	const struct nvme_tcp_hdr *h;
	uint32_t plen;

	recv_need(q, sizeof(*h));
	h = (const void *)(q->rbuf + q->roff);
	plen = le32_to_cpu(h->plen);
	if (plen < sizeof(*h) || plen > RBUF_SIZE / 2)
		die("implausible PDU length %u", plen);
	recv_need(q, plen);
	h = (const void *)(q->rbuf + q->roff);
	switch (h->type) {
	case NVME_TCP_RSP: {
		const struct nvme_cqe *cqe = (const void *)(h + 1);

		if (cqe->cid >= QD_MAX || !q->p[cqe->cid].busy)
			die("response for unknown CID %u", cqe->cid);
		complete(q, cqe->cid, le16_to_cpu(cqe->status) >> 1, le64_to_cpu(cqe->result));
		break;
	}
	case NVME_TCP_C2H_DATA: {
		const struct nvme_tcp_data *d = (const void *)h;
		uint16_t cid = d->cccid;
		uint32_t off = le32_to_cpu(d->datao), len = le32_to_cpu(d->datal);

		if (cid >= QD_MAX || !q->p[cid].busy || off + len > q->p[cid].len)
			die("C2HData outside a command (CID %u)", cid);
		memcpy(q->p[cid].data + off, (const uint8_t *)h + h->pdo, len);
		if (h->flags & NVME_TCP_F_DATA_SUCCESS)
			complete(q, cid, 0, 0);
		break;
	}
	case NVME_TCP_R2T: {
		const struct nvme_tcp_r2t *r = (const void *)h;
		uint16_t cid = r->cccid;

		if (cid >= QD_MAX || !q->p[cid].busy)
			die("R2T for unknown CID %u", cid);
		/* consume before sending: send_h2c may not touch rbuf */
		q->roff += plen;
		send_h2c(q, &q->p[cid], cid, le16_to_cpu(r->ttag),
			 le32_to_cpu(r->r2to), le32_to_cpu(r->r2tl));
		return;
	}
	case NVME_TCP_C2H_TERM:
		die("the target terminated the connection (FES %#x)",
		    le16_to_cpu(((const struct nvme_tcp_term *)h)->fes));
	default:
		die("unexpected PDU type %#x", h->type);
	}
	q->roff += plen;
}

/* Submit and wait: for set-up and untimed commands. */
static struct pending queue_exec(struct queue *q, struct nvme_sqe *sqe, uint8_t *data,
				 uint32_t len, bool to_ctrl)
{
	uint16_t cid = queue_submit(q, sqe, data, len, to_ctrl, false);

	while (!q->p[cid].done)
		queue_process(q);
	return q->p[cid];
}

static void fabrics_connect(struct queue *q, const char *nqn, uint16_t qid,
			    uint16_t sqsize, uint16_t cntlid)
{
	struct nvmf_connect_cmd c = {
		.opcode = NVME_ADMIN_FABRICS, .fctype = NVMF_TYPE_CONNECT,
		.qid = cpu_to_le16(qid), .sqsize = cpu_to_le16(sqsize - 1),
	};
	struct nvmf_connect_data d = { .cntlid = cpu_to_le16(cntlid) };
	struct pending r;

	memset(d.hostid, 0x5a, sizeof(d.hostid));
	snprintf(d.subsysnqn, sizeof(d.subsysnqn), "%s", nqn);
	snprintf(d.hostnqn, sizeof(d.hostnqn), "%s", HOSTNQN);
	r = queue_exec(q, (struct nvme_sqe *)&c, (uint8_t *)&d, sizeof(d), true);
	if (r.status)
		die("Connect queue %u: status %#x", qid, r.status);
	q->cntlid = (uint16_t)r.result;
}

static struct pending prop(struct queue *q, uint8_t fctype, uint32_t off, uint64_t val,
			   bool eight)
{
	struct nvmf_property_cmd c = {
		.opcode = NVME_ADMIN_FABRICS, .fctype = fctype, .attrib = eight,
		.offset = cpu_to_le32(off), .value = cpu_to_le64(val),
	};

	return queue_exec(q, (struct nvme_sqe *)&c, NULL, 0, false);
}

static void ctrl_enable(struct queue *a)
{
	struct pending r = prop(a, NVMF_TYPE_PROPERTY_GET, NVME_REG_CAP, 0, true);
	uint64_t css = (r.result >> 43 & 1) ? 6 : 0;

	r = prop(a, NVMF_TYPE_PROPERTY_SET, NVME_REG_CC,
		 1 | css << 4 | 6 << 16 | 4 << 20, false);
	if (r.status)
		die("Property Set CC: status %#x", r.status);
	for (int i = 0; i < 1000; i++) {
		r = prop(a, NVMF_TYPE_PROPERTY_GET, NVME_REG_CSTS, 0, false);
		if (r.result & 1)
			return;
		usleep(1000);
	}
	die("CSTS.RDY not set");
}

static void identify(struct queue *a, uint8_t cns, uint32_t nsid, uint8_t csi, void *buf)
{
	struct nvme_sqe c = {
		.opcode = NVME_ADMIN_IDENTIFY, .nsid = cpu_to_le32(nsid),
		.cdw10 = cpu_to_le32(cns), .cdw11 = cpu_to_le32((uint32_t)csi << 24),
	};
	struct pending r = queue_exec(a, &c, buf, 4096, false);

	if (r.status)
		die("Identify CNS %u: status %#x", cns, r.status);
}

/* ---- Commands on the I/O queue -------------------------------------------------------- */

struct bench {
	struct queue	admin, io;
	struct geometry	g;
	uint32_t	nsid;
	uint8_t		*bufs;		/* QD_MAX x 128 KiB */
	bool		poll;
	bool		cold;		/* --cold: no preconditioning */
	uint32_t	settle_ms;	/* --settle: pause after preconditioning */
	pid_t		daemon_pid;	/* --daemon-pid: lateness per run */
	unsigned	late_reports;	/* reports asked for so far */
};

/*
 * With --daemon-pid, each measured run gets the daemon's lateness report
 * of its own: SIGUSR2 before it clears the counts (after preconditioning
 * and preparation, whose completions are not the run's), SIGUSR1 after it
 * prints report number late_reports, which the RESULT line names.
 */
static void daemon_signal(struct bench *b, int sig)
{
	if (!b->daemon_pid)
		return;
	if (kill(b->daemon_pid, sig) != 0)
		die("--daemon-pid %d: %s", (int)b->daemon_pid, strerror(errno));
	if (sig == SIGUSR1)
		b->late_reports++;
	/* the daemon acts on it between two loop turns */
	usleep(sig == SIGUSR1 ? 200000 : 20000);
}

static void build_cmd(const struct bench *b, const struct wl_cmd *c, struct nvme_sqe *s)
{
	uint64_t slba = ((uint64_t)c->zone * b->g.zone_size + c->off) / b->g.lba;
	uint32_t nlb = c->bytes / b->g.lba;

	memset(s, 0, sizeof(*s));
	s->nsid = cpu_to_le32(b->nsid);
	s->cdw10 = cpu_to_le32((uint32_t)slba);
	s->cdw11 = cpu_to_le32((uint32_t)(slba >> 32));
	if (nlb)
		s->cdw12 = cpu_to_le32(nlb - 1);
	switch (c->kind) {
	case K_READ:	s->opcode = NVME_CMD_READ; break;
	case K_WRITE:	s->opcode = NVME_CMD_WRITE; break;
	case K_APPEND:	s->opcode = NVME_CMD_ZONE_APPEND; break;
	case K_FLUSH:	s->opcode = NVME_CMD_FLUSH; s->cdw10 = s->cdw11 = 0; break;
	case K_RESET:
	case K_FINISH:
	case K_RESET_ALL:
		s->opcode = NVME_CMD_ZONE_MGMT_SEND;
		s->cdw13 = cpu_to_le32((c->kind == K_FINISH ? NVME_ZSA_FINISH : NVME_ZSA_RESET) |
				       (c->kind == K_RESET_ALL ? 1u << 8 : 0));
		break;
	}
}

static void io_submit_cmd(struct bench *b, const struct wl_cmd *c)
{
	struct nvme_sqe s;

	build_cmd(b, c, &s);
	/* queue_submit takes the same free slot: its buffer is the slot's */
	queue_submit(&b->io, &s, b->bufs + (size_t)alloc_cid(&b->io) * 128 * KIB, c->bytes,
		     c->kind != K_READ, c->timed);
}

static void io_drain(struct bench *b)
{
	while (b->io.inflight)
		queue_process(&b->io);
}

static void io_exec(struct bench *b, enum cmd_kind kind, uint32_t zone, uint64_t off,
		    uint32_t bytes)
{
	struct wl_cmd c = { .kind = kind, .zone = zone, .off = off, .bytes = bytes };
	struct stats *st = b->io.st;

	b->io.st = NULL;
	io_submit_cmd(b, &c);
	io_drain(b);
	b->io.st = st;
}

/* Untimed: the device back to empty zones and a drained buffer. */
static void device_quiesce(struct bench *b)
{
	io_exec(b, K_RESET_ALL, 0, 0, 0);
	io_exec(b, K_FLUSH, 0, 0, 0);
}

static void bench_connect(struct bench *b, const char *host, const char *port,
			  const char *nqn, uint32_t qd)
{
	uint8_t *id = aligned_alloc(4096, 4096);
	const struct nvme_id_ctrl *ic = (const void *)id;
	const struct nvme_id_ns *ns = (const void *)id;
	struct nvme_sqe zr;
	uint8_t *rep;
	struct pending r;

	queue_open(&b->admin, host, port);
	fabrics_connect(&b->admin, nqn, 0, 32, NVMF_CNTLID_DYNAMIC);
	ctrl_enable(&b->admin);
	identify(&b->admin, NVME_ID_CNS_CTRL, 0, 0, id);
	b->admin.inline_max = le32_to_cpu(ic->ioccsz) * 16 - 64;
	b->nsid = 1;
	identify(&b->admin, NVME_ID_CNS_NS, b->nsid, 0, id);
	b->g.lba = 1u << ns->lbaf[ns->flbas & 0xf].ds;
	free(id);

	queue_open(&b->io, host, port);
	b->io.poll = b->poll;
	b->io.inline_max = b->admin.inline_max;
	fabrics_connect(&b->io, nqn, 1, (uint16_t)(qd + 1 > 32 ? qd + 1 : 32), b->admin.cntlid);
	b->bufs = aligned_alloc(4096, QD_MAX * 128 * KIB);
	if (!b->bufs)
		die("out of memory");
	memset(b->bufs, 0xa5, QD_MAX * 128 * KIB);

	/* zone geometry from a report of the first two zones */
	rep = b->bufs;
	memset(&zr, 0, sizeof(zr));
	zr.opcode = NVME_CMD_ZONE_MGMT_RECV;
	zr.nsid = cpu_to_le32(b->nsid);
	zr.cdw12 = cpu_to_le32(4096 / 4 - 1);
	r = queue_exec(&b->io, &zr, rep, 4096, false);
	if (r.status)
		die("Zone Management Receive: status %#x (is NSID 1 zoned?)", r.status);
	{
		const struct nvme_zone_report_hdr *rh = (const void *)rep;
		const struct nvme_zone_desc *zd = (const void *)(rep + sizeof(*rh));

		b->g.nr_zones = (uint32_t)le64_to_cpu(rh->nr_zones);
		if (b->g.nr_zones < 4)
			die("need at least 4 zones, the namespace has %u", b->g.nr_zones);
		b->g.zone_cap = le64_to_cpu(zd[0].zcap) * b->g.lba;
		b->g.zone_size = le64_to_cpu(zd[1].zslba) * b->g.lba;
	}
	memset(b->bufs, 0xa5, 4096);
}

/* Empty zones, and randread's data in place (untimed). */
static void bench_prepare(struct bench *b, enum bench_op op, uint32_t qd, uint64_t span)
{
	device_quiesce(b);
	if (op != OP_RANDREAD)
		return;
	for (uint64_t off = 0; off < span; off += 128 * KIB) {
		struct wl_cmd pw = { .kind = K_WRITE, .off = off, .bytes = 128 * KIB };

		/* at the run's depth: the daemon's lateness report for a
		 * QD1 run should hold QD1 completions only */
		while (b->io.inflight >= (qd < 16 ? qd : 16))
			queue_process(&b->io);
		io_submit_cmd(b, &pw);
	}
	io_drain(b);
	io_exec(b, K_FLUSH, 0, 0, 0);
}

/* Run @w on for @k more timed commands at @qd, into @st. */
static void bench_chunk(struct bench *b, struct workload *w, struct stats *st,
			uint32_t qd, uint64_t k)
{
	uint64_t until = w->issued + k;
	struct wl_cmd c;

	b->io.st = st;
	while (w->issued < until && wl_next(w, &c)) {
		while (b->io.inflight >= qd)
			queue_process(&b->io);
		io_submit_cmd(b, &c);
	}
	io_drain(b);
	b->io.st = NULL;
}

/*
 * Precondition the drive, as SSD benchmarks do: write every zone range the
 * workload will write, once, untimed, then reset.  The measured run then
 * writes memory the daemon already holds (a reset keeps it, --reset-pages
 * lazy), as a drive in service would, and not pages the kernel first has
 * to fault in and zero, which inside a VM also means the host's faults
 * and costs far more than the copy (README.md, "Latency benchmark").
 */
static void bench_precondition(struct bench *b, enum bench_op op, uint64_t n,
			       uint32_t streams, uint64_t span)
{
	uint64_t *extent = calloc(b->g.nr_zones, sizeof(*extent));
	struct workload w;
	struct wl_cmd c;

	if (!extent)
		die("out of memory");
	wl_init(&w, op, n, streams, span, &b->g);
	while (wl_next(&w, &c)) {
		/* appends land at the zone's write pointer: their bytes
		 * add up like sequential writes */
		uint64_t end = (c.kind == K_APPEND ? extent[c.zone] : c.off) + c.bytes;

		if (c.kind != K_WRITE && c.kind != K_APPEND)
			continue;
		if (end > extent[c.zone])
			extent[c.zone] = end;
	}
	for (uint32_t z = 0; z < b->g.nr_zones; z++) {
		for (uint64_t off = 0; off < extent[z]; off += 128 * KIB) {
			struct wl_cmd pw = { .kind = K_WRITE, .zone = z, .off = off,
					     .bytes = 128 * KIB };

			if (off + pw.bytes > b->g.zone_cap)
				break;
			while (b->io.inflight >= 16)
				queue_process(&b->io);
			io_submit_cmd(b, &pw);
		}
	}
	io_drain(b);
	free(extent);
}

/*
 * Pause after preconditioning, with the daemon idle.  Preconditioning keeps
 * a SCHED_FIFO reactor (bench/run.sh) busy for seconds, and whatever else
 * wants its CPU meanwhile (the daemon's populator, the kernel's per-CPU
 * workers) is starved.  Linux (6.12+) then lends starved normal tasks up
 * to 50 ms of each second at once (the fair server), and without a pause
 * that lands in the measured run: stalls of 14-40 ms in most 128K runs
 * here, none in three runs with 1.5 s of pause.
 */
static void bench_settle(const struct bench *b)
{
	struct timespec ts = {
		.tv_sec = b->settle_ms / 1000,
		.tv_nsec = (long)(b->settle_ms % 1000) * 1000000L,
	};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Real run of one operation at @qd.  With @base (a second daemon without a
 * latency model) the same sequence runs on both in alternating chunks of
 * 100 commands, so that the baseline round trip is measured under the
 * same machine conditions as the delayed one: on a shared machine the
 * round trip drifts by more than the 10 % of an 11 us target between two
 * runs made minutes apart.
 */
static struct summary bench_run(struct bench *b, struct bench *base, enum bench_op op,
				uint64_t n, uint32_t qd, uint32_t streams, uint64_t span,
				uint64_t *errors, struct summary *base_sum)
{
	struct workload w, wb;
	struct stats st, sb;
	struct summary r;
	uint64_t chunk = base ? 100 : n;

	if (op == OP_RESET || op == OP_FLUSH) {
		qd = 1;
		chunk = base ? 1 : n;	/* each is milliseconds long */
	}
	if (!b->cold && (op == OP_WRITE4K || op == OP_APPEND || op == OP_WRITE128K)) {
		bench_precondition(b, op, n, streams, span);
		if (base)
			bench_precondition(base, op, n, streams, span);
		bench_settle(b);
	}
	bench_prepare(b, op, qd, span);
	daemon_signal(b, SIGUSR2);
	stats_init(&st, n);
	wl_init(&w, op, n, streams, span, &b->g);
	if (base) {
		bench_prepare(base, op, qd, span);
		stats_init(&sb, n);
		wl_init(&wb, op, n, streams, span, &base->g);
	}
	while (w.issued < n) {
		bench_chunk(b, &w, &st, qd, chunk);
		if (base)
			bench_chunk(base, &wb, &sb, qd, chunk);
	}
	daemon_signal(b, SIGUSR1);
	r = stats_summary(&st);
	*errors = st.errors;
	free(st.lat);
	if (base) {
		*base_sum = stats_summary(&sb);
		*errors += sb.errors;
		free(sb.lat);
		device_quiesce(base);
	}
	return r;
}

/* ---- Machine jitter ------------------------------------------------------------------ */

/*
 * Spin on the clock for @secs and count the gaps: how often this CPU is
 * taken away (interrupts, the hypervisor, other tasks) for 20 us or more.
 * A reactor that spins to its deadline cannot be on time more often than
 * this allows, so run.sh prints it beside the lateness figures.
 */
static void jitter_probe(double secs)
{
	uint64_t len = (uint64_t)(secs * 1e9), spun = 0;
	uint64_t g10 = 0, g20 = 0, g50 = 0, stolen20 = 0, max = 0;

	/* 100 ms spins with 20 ms rests: a SCHED_FIFO spinner never idles
	 * and would meet the RT throttle, which the daemon does not */
	while (spun < len) {
		uint64_t start = now_ns(), prev = start, t;

		while ((t = now_ns()) - start < 100000000ull) {
			uint64_t d = t - prev;

			prev = t;
			if (d < 10000)
				continue;
			g10++;
			if (d >= 20000) {
				g20++;
				stolen20 += d;
			}
			if (d >= 50000)
				g50++;
			if (d > max)
				max = d;
		}
		spun += t - start;
		usleep(20000);
	}
	/* share of instants that fall >= 20 us into a gap: what a deadline
	 * landing at a random instant would see as >= 20 us lateness */
	printf("JITTER secs=%.1f gaps10_per_s=%.0f gaps20_per_s=%.0f gaps50_per_s=%.0f"
	       " late20_pct=%.3f max_us=%.1f\n", secs, (double)g10 / secs,
	       (double)g20 / secs, (double)g50 / secs,
	       100.0 * (double)(stolen20 - g20 * 20000) / (double)spun,
	       (double)max / 1000.0);
}

/* ---- main ------------------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr,
		"usage: znst-bench [--addr HOST] [--port PORT] [--nqn NQN] [--qd N]\n"
		"                  [--ops LIST] [--count N] [--bytes SIZE] [--zones-open LIST]\n"
		"                  [--resets N] [--profile NAME] [--set OPTION=VALUE ...] [--sleep]\n"
		"                  [--baseline-port PORT] [--cold] [--settle MS]\n"
		"                  [--daemon-pid PID]\n"
		"       znst-bench --jitter SECS\n"
		"  ops: randread4k,write4k,append4k,write128k,reset-full,flush (default: all)\n"
		"  --profile/--set describe the daemon's timing options, for the model's targets\n"
		"  --sleep: block in recv() instead of busy-polling the I/O queue's socket\n"
		"  --cold: do not precondition (write once and reset) the zones a write run uses\n"
		"  --settle MS: pause after preconditioning, daemon idle (default 1500)\n"
		"  --daemon-pid PID: the daemon's lateness report for each run (SIGUSR2, SIGUSR1)\n"
		"  --jitter SECS: only measure how often this CPU stalls for >= 20 us\n"
		"  --baseline-port: a znstcpd without delays on that port, run in alternation\n");
	exit(2);
}

static bool parse_ops(const char *s, bool *on)
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", s);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < OP_NR && strcmp(t, op_names[i]); i++)
			;
		if (i == OP_NR)
			return false;
		on[i] = true;
	}
	return true;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "addr", required_argument, NULL, 'a' }, { "port", required_argument, NULL, 'p' },
		{ "nqn", required_argument, NULL, 'n' }, { "qd", required_argument, NULL, 'q' },
		{ "ops", required_argument, NULL, 'o' }, { "count", required_argument, NULL, 'c' },
		{ "bytes", required_argument, NULL, 'b' }, { "zones-open", required_argument, NULL, 'z' },
		{ "resets", required_argument, NULL, 'r' }, { "profile", required_argument, NULL, 'P' },
		{ "set", required_argument, NULL, 's' }, { "help", no_argument, NULL, 'h' },
		{ "sleep", no_argument, NULL, 'S' }, { "jitter", required_argument, NULL, 'J' },
		{ "baseline-port", required_argument, NULL, 'B' },
		{ "cold", no_argument, NULL, 'C' },
		{ "settle", required_argument, NULL, 'T' },
		{ "daemon-pid", required_argument, NULL, 'D' },
		{ 0 },
	};
	const char *host = "127.0.0.1", *port = "4420", *nqn = "nqn.2024-11.io.znstcp:zns";
	const char *zones_open = "1,14", *base_port = NULL;
	uint32_t qd = 1;
	uint64_t count = 0, bytes = 1024 * MIB, resets = 5;
	bool on[OP_NR] = { false }, any = false, sleep_recv = false, cold = false;
	uint32_t settle_ms = 1500;
	pid_t daemon_pid = 0;
	struct znst_config cfg;
	struct bench b, base;
	char err[256];
	int opt;

	znst_config_defaults(&cfg);
	while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
		switch (opt) {
		case 'a': host = optarg; break;
		case 'p': port = optarg; break;
		case 'n': nqn = optarg; break;
		case 'q': qd = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'o':
			if (!parse_ops(optarg, on))
				usage();
			break;
		case 'c': count = strtoull(optarg, NULL, 0); break;
		case 'b':
			if (znst_parse_size(optarg, &bytes))
				usage();
			break;
		case 'z': zones_open = optarg; break;
		case 'r': resets = strtoull(optarg, NULL, 0); break;
		case 'S': sleep_recv = true; break;
		case 'C': cold = true; break;
		case 'T': {
			char *end;
			unsigned long v = strtoul(optarg, &end, 10);

			if (end == optarg || *end || v > 60000)
				die("--settle: milliseconds, 0..60000");
			settle_ms = (uint32_t)v;
			break;
		}
		case 'D': {
			char *end;
			long v = strtol(optarg, &end, 10);

			if (end == optarg || *end || v <= 0 || v > INT32_MAX)
				die("--daemon-pid: '%s' is not a process id", optarg);
			daemon_pid = (pid_t)v;
			break;
		}
		case 'B': base_port = optarg; break;
		case 'J':
			jitter_probe(strtod(optarg, NULL));
			return 0;
		case 'P':
			if (znst_config_set(&cfg, "profile", optarg, err, sizeof(err)))
				die("--profile: %s", err);
			break;
		case 's': {
			char name[64], *eq = strchr(optarg, '=');

			if (!eq || eq - optarg >= (long)sizeof(name))
				usage();
			snprintf(name, sizeof(name), "%.*s", (int)(eq - optarg), optarg);
			if (znst_config_set(&cfg, name, eq + 1, err, sizeof(err)))
				die("--set %s: %s", name, err);
			break;
		}
		default:
			usage();
		}
	}
	if (qd < 1 || qd > QD_MAX - 2)
		die("--qd: 1..%d", QD_MAX - 2);
	for (int i = 0; i < OP_NR; i++)
		any |= on[i];
	if (!any)
		for (int i = 0; i < OP_NR; i++)
			on[i] = true;

	memset(&b, 0, sizeof(b));
	memset(&base, 0, sizeof(base));
	b.cold = cold;	/* b's flag decides for both daemons */
	b.settle_ms = settle_ms;	/* one pause serves both daemons */
	b.daemon_pid = daemon_pid;
	b.poll = base.poll = !sleep_recv;
	bench_connect(&b, host, port, nqn, qd);
	if (base_port) {
		bench_connect(&base, host, base_port, nqn, qd);
		if (base.g.zone_size != b.g.zone_size || base.g.nr_zones != b.g.nr_zones ||
		    base.g.zone_cap != b.g.zone_cap || base.g.lba != b.g.lba)
			die("--baseline-port: the baseline daemon's geometry differs");
	}
	fprintf(stderr, "znst-bench: %s:%s, lba %u, %u zones of %" PRIu64 " MiB (cap %" PRIu64
		" MiB), qd %u, model %s\n", host, port, b.g.lba, b.g.nr_zones,
		b.g.zone_size / MIB, b.g.zone_cap / MIB, qd,
		cfg.timing == ZNST_TIMING_NAND ? "nand" :
		cfg.timing == ZNST_TIMING_FIXED ? "fixed" : "none");

	for (int op = 0; op < OP_NR; op++) {
		char zl[64], *save = NULL;

		if (!on[op])
			continue;
		snprintf(zl, sizeof(zl), "%s", op == OP_WRITE128K ? zones_open : "1");
		for (char *t = strtok_r(zl, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			uint32_t streams = (uint32_t)strtoul(t, NULL, 0);
			uint64_t n = count, errors = 0;
			uint64_t span = 64 * MIB < b.g.zone_cap ? 64 * MIB : b.g.zone_cap;
			struct summary m, tg, bs = { 0 };
			char label[32];

			if (streams < 1 || streams > STREAMS_MAX)
				die("--zones-open: 1..%d", STREAMS_MAX);
			span -= span % (128 * KIB);
			if (op == OP_WRITE128K)
				n = bytes / (128 * KIB);
			else if (op == OP_RESET)
				n = resets;
			else if (!n)
				n = op == OP_FLUSH ? 200 : qd > 1 ? 40000 : 5000;
			if (op == OP_WRITE128K)
				snprintf(label, sizeof(label), "%s/%uz", op_names[op], streams);
			else
				snprintf(label, sizeof(label), "%s", op_names[op]);
			m = bench_run(&b, base_port ? &base : NULL, (enum bench_op)op, n, qd,
				      streams, span, &errors, &bs);
			tg = model_run(&cfg, &b.g, (enum bench_op)op, n, qd, streams, span);
			printf("RESULT op=%s qd=%u n=%" PRIu64 " errors=%" PRIu64
			       " mean_us=%.2f p50_us=%.2f p99_us=%.2f iops=%.0f mbps=%.1f"
			       " target_mean_us=%.2f target_p50_us=%.2f target_p99_us=%.2f"
			       " target_iops=%.0f target_mbps=%.1f",
			       label, op == OP_RESET || op == OP_FLUSH ? 1 : qd, n, errors,
			       m.mean_us, m.p50_us, m.p99_us, m.iops, m.mbps,
			       tg.mean_us, tg.p50_us, tg.p99_us, tg.iops, tg.mbps);
			if (base_port)
				printf(" base_mean_us=%.2f base_p50_us=%.2f base_p99_us=%.2f",
				       bs.mean_us, bs.p50_us, bs.p99_us);
			if (b.daemon_pid)
				printf(" late_report=%u", b.late_reports);
			printf("\n");
			fflush(stdout);
			fprintf(stderr, "  %-16s qd %-3u mean %9.2f us  p50 %9.2f  p99 %9.2f  %9.0f IOPS %8.1f MB/s%s\n",
				label, qd, m.mean_us, m.p50_us, m.p99_us, m.iops, m.mbps,
				errors ? "  (errors!)" : "");
		}
	}
	device_quiesce(&b);
	close(b.io.fd);
	close(b.admin.fd);
	if (base_port) {
		close(base.io.fd);
		close(base.admin.fd);
	}
	return 0;
}
