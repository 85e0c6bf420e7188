/* SPDX-License-Identifier: MIT */
/*
 * Reactors: one thread and one io_uring each.  Reactor 0 also accepts and
 * hands connections out round-robin (eventfd + inbox); every connection
 * lives on one reactor for its whole life, so its state needs no locks.
 *
 * Each io_uring operation carries (object pointer | op) in user_data.  The
 * loop: complete held requests whose deadline passed, run periodic checks,
 * then submit and wait until the next deadline or tick.
 *
 * Kernel features are probed at start-up and used only when present, so
 * the daemon runs on the 5.10 kernels of FEMU guests as well as on 6.x.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>

#include "target/core.h"

#define ZNST_TICK_NS		(200ull * 1000000ull)
#define ZNST_RING_ENTRIES	256
#define ZNST_CQ_ENTRIES		8192
/* H2C data left in a PDU from which a receive goes straight to its buffer */
#define ZNST_RECV_DIRECT_MIN	(16 * 1024)
#define ZNST_RECV_DIRECT_MAX	(32 * 1024)

enum uop {
	UOP_ACCEPT	= 1,
	UOP_RECV	= 2,
	UOP_SEND	= 3,
	UOP_WAKE	= 4,
	UOP_SIGNAL	= 5,
};

static uint64_t ud_pack(void *p, enum uop op)
{
	return (uint64_t)(uintptr_t)p | (uint64_t)op;
}

static enum uop ud_op(uint64_t ud)
{
	return (enum uop)(ud & 7);
}

static void *ud_ptr(uint64_t ud)
{
	return (void *)(uintptr_t)(ud & ~7ull);
}

uint64_t znst_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct io_uring_sqe *get_sqe(struct znst_reactor *r)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);

	if (!sqe) {
		io_uring_submit(&r->ring);
		sqe = io_uring_get_sqe(&r->ring);
	}
	return sqe;
}

/* ---- Arming operations ---------------------------------------------------------- */

/*
 * A receive is not prepared at once but listed, and all listed ones go
 * into the ring just before the loop's next submission of its own
 * (flush_recvs).  A receive whose data is already there runs inline when
 * submitted, with the TCP work behind it: tens of microseconds.  Kept out
 * of the submissions that release completions, it never delays their
 * sends, and near a deadline the loop can hold it back (reactor_run).
 */
void reactor_arm_recv(struct znst_conn *c)
{
	struct znst_reactor *r = c->reactor;

	if (c->recv_armed || c->recv_wanted || c->state == CONN_CLOSING)
		return;
	/* a stack: one flush prepares them all, so order does not matter */
	c->recv_wanted = true;
	c->recv_next = r->recv_todo;
	r->recv_todo = c;
}

static void prep_recv(struct znst_conn *c)
{
	struct io_uring_sqe *sqe;

	sqe = get_sqe(c->reactor);
	if (!sqe) {
		conn_close(c, "submission queue full");
		return;
	}
	/* Large H2C data goes straight to its buffer, skipping the copy out
	 * of rbuf; the receive asks for no more than this PDU's data, so
	 * what follows it still comes through rbuf and the state machine. */
	if (c->rx.phase == RX_DATA && !c->rx.failed && c->rx.dst != c->rx.inline_buf &&
	    c->rx.data_len - c->rx.data_have >= ZNST_RECV_DIRECT_MIN) {
		uint32_t left = c->rx.data_len - c->rx.data_have;

		io_uring_prep_recv(sqe, c->fd, c->rx.dst + c->rx.data_have,
				   left < ZNST_RECV_DIRECT_MAX ? left : ZNST_RECV_DIRECT_MAX, 0);
		c->recv_direct = true;
	} else {
		io_uring_prep_recv(sqe, c->fd, c->rbuf, c->rcap, 0);
	}
	io_uring_sqe_set_data64(sqe, ud_pack(c, UOP_RECV));
	c->recv_armed = true;
}

static void flush_recvs(struct znst_reactor *r)
{
	struct znst_conn *c;

	while ((c = r->recv_todo) != NULL) {
		r->recv_todo = c->recv_next;
		c->recv_wanted = false;
		if (c->state == CONN_CLOSING)
			conn_maybe_free(c);	/* it waited for this flag */
		else
			prep_recv(c);
	}
}

void reactor_arm_send(struct znst_conn *c)
{
	struct io_uring_sqe *sqe;
	uint32_t n = 0, len = 0;

	if (c->send_armed || !c->tx_head)
		return;
	/* Gather queued PDUs into one sendmsg. */
	for (struct znst_tx *tx = c->tx_head; tx && n < 60; tx = tx->next) {
		uint32_t skip = tx->done;

		for (uint32_t i = 0; i < tx->nr_iov; i++) {
			struct iovec v = tx->iov[i];

			if (skip >= v.iov_len) {
				skip -= (uint32_t)v.iov_len;
				continue;
			}
			v.iov_base = (uint8_t *)v.iov_base + skip;
			v.iov_len -= skip;
			skip = 0;
			c->send_iov[n++] = v;
			len += (uint32_t)v.iov_len;
		}
	}
	sqe = get_sqe(c->reactor);
	if (!sqe) {
		conn_close(c, "submission queue full");
		return;
	}
	memset(&c->send_msg, 0, sizeof(c->send_msg));
	c->send_msg.msg_iov = c->send_iov;
	c->send_msg.msg_iovlen = n;
	c->send_len = len;
	io_uring_prep_sendmsg(sqe, c->fd, &c->send_msg, MSG_NOSIGNAL);
	io_uring_sqe_set_data64(sqe, ud_pack(c, UOP_SEND));
	c->send_armed = true;
}

static void arm_accept(struct znst_reactor *r)
{
	struct io_uring_sqe *sqe;

	if (r->accept_armed || r->listen_fd < 0)
		return;
	sqe = get_sqe(r);
	if (!sqe)
		return;
	if (r->caps.multishot_accept)
		io_uring_prep_multishot_accept(sqe, r->listen_fd, NULL, NULL,
					       SOCK_CLOEXEC);
	else
		io_uring_prep_accept(sqe, r->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	io_uring_sqe_set_data64(sqe, ud_pack(r, UOP_ACCEPT));
	r->accept_armed = true;
}

static void arm_wake(struct znst_reactor *r)
{
	struct io_uring_sqe *sqe;

	if (r->wake_armed)
		return;
	sqe = get_sqe(r);
	if (!sqe)
		return;
	io_uring_prep_read(sqe, r->wake_fd, &r->wake_val, sizeof(r->wake_val), 0);
	io_uring_sqe_set_data64(sqe, ud_pack(r, UOP_WAKE));
	r->wake_armed = true;
}

static void arm_signal(struct znst_reactor *r)
{
	struct io_uring_sqe *sqe;

	if (r->signal_fd < 0)
		return;
	sqe = get_sqe(r);
	if (!sqe)
		return;
	io_uring_prep_read(sqe, r->signal_fd, &r->siginfo, sizeof(r->siginfo), 0);
	io_uring_sqe_set_data64(sqe, ud_pack(r, UOP_SIGNAL));
}

/* ---- Deadline queue -------------------------------------------------------------- */

int reactor_hold(struct znst_reactor *r, struct znst_req *req, uint64_t deadline)
{
	return dlq_push(&r->held, &req->dl, deadline);
}

void reactor_unhold(struct znst_reactor *r, struct znst_req *req)
{
	dlq_remove(&r->held, &req->dl);
}

static unsigned release_due(struct znst_reactor *r, uint64_t now)
{
	struct dlq_node *n;
	unsigned nr = 0;

	while ((n = dlq_peek(&r->held)) && n->deadline <= now) {
		struct znst_req *req = (struct znst_req *)
			((uint8_t *)n - offsetof(struct znst_req, dl));

		dlq_pop(&r->held);
		conn_submit_response(req);
		nr++;
	}
	return nr;
}

/*
 * Between units of work (a CQE, a received PDU): hand due completions to
 * the send path, and put their sends on the wire now rather than after
 * the rest of the batch.  Under load one receive carries tens of commands
 * and a batch of CQEs takes longer than the gaps between deadlines.
 */
void reactor_release_due(struct znst_reactor *r)
{
	if (!dlq_peek(&r->held) || !release_due(r, znst_now_ns()))
		return;
	if (io_uring_sq_ready(&r->ring))
		io_uring_submit(&r->ring);
}

/* ---- Completions ------------------------------------------------------------------ */

static void wake_reactor(struct znst_reactor *r)
{
	uint64_t one = 1;

	if (write(r->wake_fd, &one, sizeof(one)) < 0)
		znst_log(r->daemon, LOG_ERR, "reactor %u: wake failed: %s",
			 r->index, strerror(errno));
}

static void adopt_fd(struct znst_reactor *r, int fd)
{
	if (!conn_create(r, fd)) {
		znst_log(r->daemon, LOG_ERR, "out of memory for a connection; dropped");
		atomic_fetch_sub(&r->daemon->nr_conns, 1);
		close(fd);
	}
}

/* --max-connections reached: close at once; one log line a second. */
static void refuse_fd(struct znst_reactor *r, int fd)
{
	struct znst_daemon *d = r->daemon;
	uint64_t now = znst_now_ns();

	if (now - r->refused_log_ns >= 1000000000ull) {
		znst_log(d, LOG_INFO, "connection refused: --max-connections %u reached%s",
			 d->cfg.max_conns,
			 r->refused_quiet ? "; more refused in the last second" : "");
		r->refused_log_ns = now;
		r->refused_quiet = 0;
	} else {
		r->refused_quiet++;
	}
	close(fd);
}

static void hand_out(struct znst_reactor *r, int fd)
{
	struct znst_daemon *d = r->daemon;
	struct znst_reactor *to = &d->reactors[d->next_reactor++ % d->nr_reactors];
	int *inbox;

	/* Counted here, before the hand-over, so reactors cannot overshoot
	 * together; conn_maybe_free() gives it back. */
	if (atomic_fetch_add(&d->nr_conns, 1) >= d->cfg.max_conns) {
		atomic_fetch_sub(&d->nr_conns, 1);
		return refuse_fd(r, fd);
	}
	if (to == r)
		return adopt_fd(r, fd);
	pthread_mutex_lock(&to->inbox_lock);
	if (to->inbox_nr == to->inbox_cap) {
		uint32_t cap = to->inbox_cap ? to->inbox_cap * 2 : 16;

		inbox = realloc(to->inbox, cap * sizeof(*inbox));
		if (!inbox) {
			pthread_mutex_unlock(&to->inbox_lock);
			atomic_fetch_sub(&d->nr_conns, 1);
			close(fd);
			return;
		}
		to->inbox = inbox;
		to->inbox_cap = cap;
	}
	to->inbox[to->inbox_nr++] = fd;
	pthread_mutex_unlock(&to->inbox_lock);
	wake_reactor(to);
}

static void handle_accept(struct znst_reactor *r, struct io_uring_cqe *cqe)
{
	if (!(cqe->flags & IORING_CQE_F_MORE))
		r->accept_armed = false;
	if (cqe->res >= 0) {
		hand_out(r, cqe->res);
		return;
	}
	if (cqe->res == -EINVAL && r->caps.multishot_accept) {
		/* older kernel: no multishot accept, re-arm one at a time */
		znst_log(r->daemon, LOG_DEBUG, "multishot accept unsupported; falling back");
		r->caps.multishot_accept = false;
		return;
	}
	if (cqe->res == -ECANCELED)
		return;
	znst_log(r->daemon, LOG_ERR, "accept: %s", strerror(-cqe->res));
	/* Out of fds or memory: re-arming at once would spin on the same
	 * error; try again after a tick. */
	if (!r->accept_armed)
		r->accept_pause_until = znst_now_ns() + ZNST_TICK_NS;
}

static void handle_wake(struct znst_reactor *r, struct io_uring_cqe *cqe)
{
	r->wake_armed = false;
	pthread_mutex_lock(&r->inbox_lock);
	while (r->inbox_nr) {
		int fd = r->inbox[--r->inbox_nr];

		pthread_mutex_unlock(&r->inbox_lock);
		adopt_fd(r, fd);
		pthread_mutex_lock(&r->inbox_lock);
	}
	pthread_mutex_unlock(&r->inbox_lock);
	(void)cqe;
}

/* Lateness of completions against their deadlines, all reactors merged.
 * Counters of other reactors are read without a lock: a report taken
 * while they run may be a few completions stale, never wrong in kind. */
void daemon_report_lateness(struct znst_daemon *d)
{
	struct timing_lateness sum;
	char buf[2048];

	memset(&sum, 0, sizeof(sum));
	for (unsigned i = 0; i < d->nr_reactors; i++)
		timing_lateness_merge(&sum, &d->reactors[i].late);
	timing_lateness_format(&sum, buf, sizeof(buf));
	/* numbered, so a benchmark that asks for several can tell them apart */
	fprintf(stderr, "znstcpd: lateness report %u\n",
		atomic_fetch_add(&d->late_reports, 1) + 1);
	if (buf[0])
		fprintf(stderr, "%s", buf);
	else
		fprintf(stderr, "znstcpd: lateness: no timed completions\n");
	fflush(stderr);
}

static void handle_signal(struct znst_reactor *r, struct io_uring_cqe *cqe)
{
	struct znst_daemon *d = r->daemon;

	if (cqe->res < 0)
		return;
	if (r->siginfo.ssi_signo == SIGUSR1) {
		daemon_report_lateness(d);
		return;
	}
	if (r->siginfo.ssi_signo == SIGUSR2) {
		/* each reactor clears its own counts at the top of its loop */
		atomic_fetch_add(&d->late_gen, 1);
		znst_log(d, LOG_DEBUG, "lateness counts start over");
		return;
	}
	znst_log(d, LOG_INFO, "signal %u: shutting down", r->siginfo.ssi_signo);
	atomic_store(&d->stop, true);
	for (unsigned i = 0; i < d->nr_reactors; i++)
		if (&d->reactors[i] != r)
			wake_reactor(&d->reactors[i]);
}

static void handle_cqe(struct znst_reactor *r, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	struct znst_conn *c;

	if (ud == LIBURING_UDATA_TIMEOUT || ud == 0)
		return;
	switch (ud_op(ud)) {
	case UOP_ACCEPT:
		handle_accept(r, cqe);
		break;
	case UOP_RECV:
		c = ud_ptr(ud);
		conn_rx_ready(c, cqe->res);
		conn_maybe_free(c);
		break;
	case UOP_SEND:
		c = ud_ptr(ud);
		conn_tx_done(c, cqe->res);
		conn_maybe_free(c);
		break;
	case UOP_WAKE:
		handle_wake(r, cqe);
		break;
	case UOP_SIGNAL:
		handle_signal(r, cqe);
		if (!atomic_load(&r->daemon->stop))
			arm_signal(r);
		break;
	}
}

static void tick(struct znst_reactor *r, uint64_t now)
{
	struct znst_conn *c = r->conns, *next;

	ctrl_zone_tick(r, now);		/* zone timers and their notices */
	for (; c; c = next) {
		next = c->next;
		conn_tick(c, now);
		conn_maybe_free(c);
	}
}

/* ---- Set-up and the loop ---------------------------------------------------------- */

static int ring_setup(struct znst_reactor *r)
{
	static const struct {
		unsigned flags;
		const char *name;
	} tries[] = {
		{ IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
		  "single issuer + deferred task run" },
		{ IORING_SETUP_COOP_TASKRUN, "cooperative task run" },
		{ 0, "plain" },
	};
	struct io_uring_probe *probe;
	int ret = -EINVAL;

	for (size_t i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		struct io_uring_params p;

		memset(&p, 0, sizeof(p));
		p.flags = tries[i].flags | IORING_SETUP_CQSIZE;
		p.cq_entries = ZNST_CQ_ENTRIES;
		ret = io_uring_queue_init_params(ZNST_RING_ENTRIES, &r->ring, &p);
		if (ret == 0) {
			r->caps.single_issuer = p.flags & IORING_SETUP_SINGLE_ISSUER;
			r->caps.defer_taskrun = p.flags & IORING_SETUP_DEFER_TASKRUN;
			r->caps.coop_taskrun = p.flags & IORING_SETUP_COOP_TASKRUN;
			r->caps.ext_arg = p.features & IORING_FEAT_EXT_ARG;
			r->caps.fast_poll = p.features & IORING_FEAT_FAST_POLL;
			/* tried at the first sleep, dropped on -EINVAL */
			r->caps.abs_timer = r->caps.ext_arg;
			if (r->index == 0)
				znst_log(r->daemon, LOG_DEBUG, "io_uring: %s ring, ext_arg %d, fast_poll %d",
					 tries[i].name, r->caps.ext_arg, r->caps.fast_poll);
			break;
		}
	}
	if (ret) {
		znst_log(r->daemon, LOG_ERR, "io_uring_setup failed: %s (need Linux 5.6 or later "
			 "with io_uring enabled)", strerror(-ret));
		return ret;
	}
	probe = io_uring_get_probe_ring(&r->ring);
	if (probe) {
		static const struct {
			int op;
			const char *name;
		} need[] = {
			{ IORING_OP_ACCEPT, "accept" }, { IORING_OP_RECV, "recv" },
			{ IORING_OP_SENDMSG, "sendmsg" }, { IORING_OP_READ, "read" },
			{ IORING_OP_TIMEOUT, "timeout" },
		};

		for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
			if (!io_uring_opcode_supported(probe, need[i].op)) {
				znst_log(r->daemon, LOG_ERR,
					 "io_uring lacks the %s operation (need Linux 5.6+)",
					 need[i].name);
				io_uring_free_probe(probe);
				io_uring_queue_exit(&r->ring);
				return -EOPNOTSUPP;
			}
		}
		io_uring_free_probe(probe);
	}
	/* Multishot accept (5.19) is tried first and dropped on -EINVAL. */
	r->caps.multishot_accept = true;
	return 0;
}

int reactor_init(struct znst_reactor *r, struct znst_daemon *d, unsigned index)
{
	memset(r, 0, sizeof(*r));
	r->daemon = d;
	r->index = index;
	r->listen_fd = -1;
	r->signal_fd = -1;
	dlq_init(&r->held);
	r->wake_fd = eventfd(0, EFD_CLOEXEC);
	if (r->wake_fd < 0)
		return -errno;
	pthread_mutex_init(&r->inbox_lock, NULL);
	return 0;
}

void reactor_fini(struct znst_reactor *r)
{
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	pthread_mutex_destroy(&r->inbox_lock);
	for (uint32_t i = 0; i < r->inbox_nr; i++)
		close(r->inbox[i]);
	free(r->inbox);
	dlq_fini(&r->held);
}

/* Close every connection and wait for their operations to finish. */
static void drain(struct znst_reactor *r)
{
	struct znst_conn *c, *next;
	struct __kernel_timespec ts = { .tv_sec = 0, .tv_nsec = 50 * 1000000 };

	for (c = r->conns; c; c = next) {
		next = c->next;
		conn_close(c, "daemon shutting down");
		conn_maybe_free(c);
	}
	for (int i = 0; i < 40 && r->conns; i++) {
		struct io_uring_cqe *cqe;
		unsigned head, n = 0;

		flush_recvs(r);	/* frees the closed ones still listed */
		io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1, &ts, NULL);
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			handle_cqe(r, cqe);
			n++;
		}
		io_uring_cq_advance(&r->ring, n);
	}
}

/*
 * A timed wait ends late: here (a VM on a loaded host) by ~15 us after
 * sleeps of tens of microseconds and ~30 us, p99 60-90 us, after sleeps of
 * milliseconds, more than the 20 us --spin default.  Each reactor learns
 * an upper envelope of its own overshoot, apart for short and long sleeps,
 * and wakes that much earlier on top of --spin, so that the spin and not
 * the timer ends the wait.  For short sleeps the envelope rises half-way
 * to any overshoot above it and decays by 1/64 per wake-up within it; for
 * long ones (a reset or a flush every few milliseconds: few samples, and
 * waking early costs little next to the sleep) it rises to the overshoot
 * at once and decays by 1/256.  It costs spin time only, never accuracy.
 */
#define WAKE_LONG_NS		(500ull * 1000)
#define WAKE_LATE_MAX_NS	(500ull * 1000)

static void wake_learn(uint64_t *est, uint64_t over, bool long_sleep)
{
	if (over > *est)
		/* long sleeps are few and waking one early is cheap next to
		 * its length: take the whole overshoot at once */
		*est += long_sleep ? over - *est : (over - *est + 1) / 2;
	else
		*est -= *est / (long_sleep ? 256 : 64);
	if (*est > WAKE_LATE_MAX_NS)
		*est = WAKE_LATE_MAX_NS;
}

#ifndef IORING_ENTER_ABS_TIMER
#define IORING_ENTER_ABS_TIMER	(1U << 5)	/* Linux 6.12 */
#endif

/*
 * Sleep until a completion arrives or until @until (CLOCK_MONOTONIC ns,
 * the ring's clock).  Pending submissions go first, in their own call:
 * inline sends and receives can take tens of microseconds, and a timeout
 * relative to the start of the same call would end that much later.  The
 * timeout itself is absolute where the kernel takes one (6.12), else
 * computed from the clock after the submission.
 */
static struct __kernel_timespec ns_to_ts(uint64_t ns)
{
	return (struct __kernel_timespec){
		.tv_sec = (long long)(ns / 1000000000ull),
		.tv_nsec = (long long)(ns % 1000000000ull),
	};
}

static int wait_until(struct znst_reactor *r, uint64_t until)
{
	struct __kernel_timespec ts;
	struct io_uring_cqe *cqe;
	uint64_t now;
	int ret;

	if (io_uring_sq_ready(&r->ring)) {
		ret = io_uring_submit(&r->ring);
		if (ret < 0 && ret != -EBUSY && ret != -EAGAIN && ret != -EINTR)
			return ret;
	}
	if (io_uring_cq_ready(&r->ring))
		return 0;	/* the submission completed something */
	if (r->caps.abs_timer) {
		struct io_uring_getevents_arg arg = {
			.ts = (uint64_t)(uintptr_t)&ts,
		};

		ts = ns_to_ts(until);
		ret = io_uring_enter2(r->ring.ring_fd, 0, 1, IORING_ENTER_GETEVENTS |
				      IORING_ENTER_EXT_ARG | IORING_ENTER_ABS_TIMER,
				      (sigset_t *)&arg, sizeof(arg));
		if (ret == -1)
			ret = -errno;
		if (ret != -EINVAL)
			return ret < 0 ? ret : 0;
		znst_log(r->daemon, LOG_DEBUG, "io_uring: no absolute timeouts (before "
			 "Linux 6.12); relative ones from after the submission");
		r->caps.abs_timer = false;
	}
	now = znst_now_ns();
	ts = ns_to_ts(until > now ? until - now : 0);
	return io_uring_wait_cqe_timeout(&r->ring, &cqe, &ts);
}

/*
 * Wait for @deadline without entering the kernel's event collection; the
 * sends of completions released meanwhile (none, normally) and anything
 * else already prepared go out first.  Receives stay listed (flush_recvs).
 * A long gap between two clock reads here is the CPU taken away, and goes
 * into the lateness report as the machine's (struct timing_stalls).
 */
static void spin_until(struct znst_reactor *r, uint64_t deadline)
{
	uint64_t start, prev, now;

	if (io_uring_sq_ready(&r->ring))
		io_uring_submit(&r->ring);
	start = prev = znst_now_ns();
	while ((now = znst_now_ns()) < deadline) {
		if (now - prev >= TIMING_LATE_NS)
			timing_lateness_stall(&r->late, prev, now);
		prev = now;
		znst_cpu_relax();
	}
	/* the gap the deadline fell in, if it was one */
	timing_lateness_stall(&r->late, prev, now);
	timing_lateness_spin(&r->late, now - start);
}

int reactor_run(struct znst_reactor *r)
{
	/* learned timer overshoot, short and long sleeps (wake_learn) */
	uint64_t wake_late[2] = { 0, 0 };
	bool spun = false;	/* the last pass spun to a deadline */
	int ret = ring_setup(r);

	if (ret)
		return ret;
	/* Sleeps end within a microsecond of the asked time, not the 50 us
	 * default slack: deadlines are the product. */
	prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	r->spin_ns = r->daemon->cfg.tm.spin;
	r->next_tick_ns = znst_now_ns() + ZNST_TICK_NS;
	arm_wake(r);
	arm_signal(r);
	arm_accept(r);
	while (!atomic_load(&r->daemon->stop)) {
		uint64_t now = znst_now_ns(), wake_at, margin = r->spin_ns;
		uint64_t *est = NULL;
		struct io_uring_cqe *cqe;
		struct dlq_node *next;
		unsigned head, n = 0;

		if (atomic_load_explicit(&r->daemon->late_gen, memory_order_relaxed) !=
		    r->late_gen) {
			r->late_gen = atomic_load(&r->daemon->late_gen);
			memset(&r->late, 0, sizeof(r->late));
		}
		release_due(r, now);
		if (now >= r->next_tick_ns) {
			tick(r, now);
			r->next_tick_ns = now + ZNST_TICK_NS;
		}
		wake_at = r->next_tick_ns;
		next = dlq_peek(&r->held);
		now = znst_now_ns();
		if (next && next->deadline > now + r->spin_ns) {
			est = &wake_late[next->deadline - now - r->spin_ns >= WAKE_LONG_NS];
			margin += *est;
		}
		if (next && next->deadline <= now + margin && !spun) {
			/* Deadline close.  Collecting events now would run
			 * the receives whose data came in, inline, for tens
			 * of microseconds under load; so spin to the deadline
			 * in user space and release it first.  The next pass
			 * collects events whatever the next deadline is: the
			 * receives wait one deadline at most. */
			spin_until(r, next->deadline);
			spun = true;
			continue;
		}
		spun = false;
		flush_recvs(r);
		if (next && next->deadline <= now + margin) {
			/* just spun to a deadline: poll, do not sleep */
			ret = io_uring_submit_and_get_events(&r->ring);
		} else {
			uint64_t target;

			if (next && next->deadline - margin < wake_at)
				wake_at = next->deadline - margin;
			else
				est = NULL;	/* a tick, not a deadline */
			target = wake_at;
			ret = wait_until(r, target);
			now = znst_now_ns();
			if (est && now >= target)
				wake_learn(est, now - target, est == &wake_late[1]);
		}
		if (ret < 0 && ret != -ETIME && ret != -EINTR && ret != -EAGAIN &&
		    ret != -EBUSY) {
			znst_log(r->daemon, LOG_ERR, "io_uring wait: %s", strerror(-ret));
			break;
		}
		io_uring_for_each_cqe(&r->ring, head, cqe) {
			handle_cqe(r, cqe);
			n++;
			reactor_release_due(r);
		}
		io_uring_cq_advance(&r->ring, n);
		if (!r->wake_armed)
			arm_wake(r);
		if (!r->accept_armed && znst_now_ns() >= r->accept_pause_until)
			arm_accept(r);
	}
	drain(r);
	io_uring_queue_exit(&r->ring);
	return 0;
}
