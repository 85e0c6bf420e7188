/* SPDX-License-Identifier: MIT */
/*
 * Core objects of the target and how they own each other:
 *
 *   daemon -> subsystems (NVM + discovery) -> namespaces, controllers
 *   daemon -> reactors (one io_uring each) -> connections -> requests
 *
 * A connection is one NVMe/TCP queue (admin or I/O) of one controller.  A
 * request is one command from capsule to response; the command layer
 * (admin.c, io.c) sees only requests, never sockets, and finishes each one
 * through req_complete(), which goes through the namespace's timing model
 * and the reactor's deadline queue before the transport sends anything.
 */
#ifndef ZNST_TARGET_CORE_H
#define ZNST_TARGET_CORE_H

#include <liburing.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "conf/config.h"
#include "proto/nvme.h"
#include "proto/nvme_tcp.h"
#include "target/prefault.h"
#include "timing/deadline.h"
#include "timing/timing.h"
#include "zns/store.h"
#include "zns/zns.h"

struct znst_daemon;
struct znst_reactor;
struct znst_conn;
struct znst_ctrl;

/* ---- Namespaces and subsystems -------------------------------------------- */
struct znst_ns {
	uint32_t		nsid;
	uint8_t			csi;		/* NVME_CSI_NVM or NVME_CSI_ZNS */
	uint32_t		lba_shift;
	uint64_t		nsze;		/* logical blocks */
	uint8_t			uuid[16];
	uint8_t			nguid[16];
	struct zns_ns		zoned;		/* csi == ZNS */
	struct znst_store	store;		/* csi == NVM */
	struct timing_model	*timing;	/* the subsystem's, or conv_timing */
	/* csi == ZNS: controller that last opened or wrote each zone, so a
	 * torn-down controller's opened zones can be closed (0: none) */
	_Atomic uint16_t	*zone_owner;
};

#define ZNST_MAX_NS		2
#define ZNST_MAX_CTRLS		64
#define ZNST_MAX_AER		4

enum znst_subsys_type {
	ZNST_SUBSYS_NVM,
	ZNST_SUBSYS_DISCOVERY,
};

struct znst_subsys {
	enum znst_subsys_type	type;
	char			nqn[NVME_NQN_SIZE];
	char			serial[21];
	struct znst_ns		*ns[ZNST_MAX_NS];	/* index nsid - 1 */
	uint32_t		nr_ns;
	struct znst_daemon	*daemon;
	/* controllers, guarded by lock: reactors connect concurrently */
	pthread_mutex_t		lock;
	struct znst_ctrl	*ctrls[ZNST_MAX_CTRLS];
	uint16_t		next_cntlid;
	uint64_t		genctr;
	struct timing_model	timing;		/* one device: namespaces share dies */
	/* the conventional namespace's own (--conv-timing), else unused */
	struct timing_model	conv_timing;
};

static inline struct znst_ns *subsys_ns(struct znst_subsys *s, uint32_t nsid)
{
	return nsid >= 1 && nsid <= s->nr_ns ? s->ns[nsid - 1] : NULL;
}

/* ---- Controllers ------------------------------------------------------------ */
struct znst_ctrl {
	struct znst_subsys	*subsys;
	uint16_t		cntlid;
	char			hostnqn[NVME_NQN_SIZE];
	uint8_t			hostid[16];
	atomic_int		refs;		/* connections holding it */
	atomic_bool		dead;		/* KATO expired / fatal: queues close */
	uint32_t		cc;
	uint32_t		csts;
	uint32_t		kato_ms;
	_Atomic uint64_t	last_ka_ns;
	uint32_t		aen_cfg;
	uint16_t		nr_io_queues;	/* granted by Set Features 07h */
	uint16_t		max_qsize;	/* entries */
	uint64_t		qids[3];	/* I/O queue IDs 1..128 connected (subsys lock) */
	struct znst_conn	*admin;		/* admin queue connection */
	struct znst_req		*aer[ZNST_MAX_AER];
	uint32_t		nr_aer;
	uint32_t		iocs_profile;
	uint64_t		err_count;
	/* Zone Descriptor Changed notice: due but no AER parked, and
	 * masked until the host reads the Changed Zone List */
	bool			zone_aen_pending;
	bool			zone_aen_masked;
};

/* ---- Requests --------------------------------------------------------------- */
enum znst_xfer_dir {
	XFER_NONE,
	XFER_H2C,	/* host to controller: write-like */
	XFER_C2H,	/* controller to host: read-like */
};

enum znst_req_state {
	REQ_FREE,		/* in the connection's pool */
	REQ_WAIT_BUF,		/* parsed; waits for the connection's data budget */
	REQ_NEED_DATA,		/* R2T sent, waiting for H2CData */
	REQ_EXECUTING,		/* in the command layer */
	REQ_HELD,		/* done, held in the deadline queue */
	REQ_AER_PENDING,	/* Async Event Request parked on the controller */
	REQ_SENDING,		/* response (and C2H data) queued or on the wire */
};

/* One scatter list of bytes to send; lives in the request or connection. */
struct znst_tx {
	struct znst_tx		*next;
	struct iovec		iov[5];
	uint32_t		nr_iov;
	uint32_t		done;		/* bytes already sent */
	uint32_t		total;
	struct znst_req		*req;		/* released when sent, or NULL */
	bool			queued;		/* on a connection's send FIFO */
	bool			close_after;	/* TermReq: close when sent */
};

struct znst_req {
	struct nvme_sqe		cmd;
	uint64_t		result;
	nvme_status		status;
	enum znst_req_state	state;
	enum znst_xfer_dir	dir;
	uint16_t		ttag;		/* index in the connection's pool */
	struct znst_conn	*conn;
	struct znst_ns		*ns;
	void			(*execute)(struct znst_req *req);
	uint8_t			*data;		/* transfer buffer */
	bool			data_owned;	/* malloc'ed, freed on release */
	/* a Read that may send straight from the store: no buffer before
	 * it executes (exec_read takes one only if it must copy) */
	bool			store_ref;
	uint32_t		data_len;	/* bytes the command moves */
	uint32_t		h2c_rcvd;
	uint32_t		c2h_len;	/* bytes of data to return */
	struct timing_io	tio;
	struct dlq_node		dl;
	uint64_t		deadline;	/* set when a model timed it */
	bool			timed;
	struct znst_tx		tx;
	/* wire images built at completion (header + digest + padding) */
	uint8_t			c2h_hdr[NVME_TCP_DATA_HLEN + 4 + 128] __attribute__((aligned(8)));	/* + HPDA pad */
	uint8_t			rsp_hdr[NVME_TCP_RSP_HLEN + 16 + 4] __attribute__((aligned(8)));
	uint8_t			ddgst[4];
	uint8_t			r2t_hdr[NVME_TCP_R2T_HLEN + 4] __attribute__((aligned(8)));
	struct znst_tx		r2t_tx;
	struct znst_req		*wait_next;	/* REQ_WAIT_BUF FIFO */
};

/* ---- Connections (one per queue) ------------------------------------------- */
enum znst_rx_phase {
	RX_HDR,		/* collecting the PDU header (up to PDO) */
	RX_DATA,	/* streaming data into rx.dst */
	RX_DDGST,	/* collecting the data digest */
};

/* Receive state machine of one connection (see conn.c). */
struct znst_conn_rx {
	enum znst_rx_phase	phase;
	uint8_t			hdr[256] __attribute__((aligned(8)));	/* PDO is 8 bits: a header fits */
	uint32_t		hdr_have, hdr_need;
	uint32_t		data_len, data_have;
	uint8_t			*dst;
	uint32_t		crc;
	uint8_t			ddgst[4];
	uint32_t		ddgst_have;
	bool			ddgst_bad;
	bool			failed;		/* TermReq sent: ignore the rest */
	struct znst_req		*req;		/* request the current PDU feeds */
	uint8_t			*inline_buf;	/* in-capsule data */
	uint8_t			*inline_ptr;	/* or in place in rbuf, this PDU only */
	uint8_t			hpda;
	/* --pdu-timeout: when the unfinished PDU number partial_pdu got
	 * its first byte; 0 between PDUs */
	uint64_t		pdus;		/* PDUs completed */
	uint64_t		partial_pdu;
	uint64_t		partial_since;
};

enum znst_conn_state {
	CONN_WAIT_ICREQ,	/* fresh socket */
	CONN_WAIT_CONNECT,	/* ICResp sent, Fabrics Connect expected */
	CONN_LIVE,		/* queue bound to a controller */
	CONN_CLOSING,		/* draining outstanding io_uring ops */
};

struct znst_conn {
	struct znst_reactor	*reactor;
	struct znst_conn	*next, *prev;	/* reactor's list */
	int			fd;
	uint64_t		id;		/* for log lines */
	enum znst_conn_state	state;
	char			peer[64];
	struct sockaddr_storage	local;		/* address the host reached */
	/* negotiated at ICReq */
	bool			hdgst, ddgst;
	uint8_t			cpda;
	uint32_t		maxh2cdata;
	uint32_t		maxr2t;
	/* queue binding */
	struct znst_ctrl	*ctrl;
	struct znst_subsys	*subsys;
	uint16_t		qid;
	uint16_t		sqsize;		/* entries */
	uint32_t		sq_consumed;	/* SQ entries taken; SQHD = this mod sqsize */
	bool			sqflow_off;
	uint32_t		inline_max;	/* in-capsule data accepted */
	/* requests */
	struct znst_req		*reqs;
	uint32_t		nr_reqs;
	uint32_t		free_top;
	uint16_t		*free_stack;
	uint32_t		busy;		/* requests not free */
	uint32_t		sending;	/* of those, response handed to the send path */
	/* data buffers held (--max-inflight-data) and commands waiting */
	uint64_t		inflight;
	struct znst_req		*wait_head, *wait_tail;
	bool			inflight_logged;
	bool			close_logged;	/* reason already at LOG_INFO */
	/* receive */
	struct znst_conn_rx	rx;
	uint8_t			*rbuf;
	uint32_t		rcap, rlen;
	bool			recv_armed;
	bool			recv_direct;	/* armed into rx.dst, not rbuf */
	/* wants a receive armed: on the reactor's recv_todo list until the
	 * next flush (reactor_arm_recv) */
	bool			recv_wanted;
	struct znst_conn	*recv_next;
	/* transmit */
	struct znst_tx		*tx_head, *tx_tail;
	bool			send_armed;
	struct iovec		send_iov[64];
	struct msghdr		send_msg;
	uint32_t		send_len;
	/* ICResp and C2HTermReq each have their own entry: both can be
	 * queued at once when a bad PDU follows the ICReq in one segment */
	struct znst_tx		icresp_tx;
	uint8_t			icresp_buf[NVME_TCP_IC_HLEN] __attribute__((aligned(8)));
	struct znst_tx		term_tx;
	uint8_t			term_buf[NVME_TCP_TERM_HLEN + NVME_TCP_TERM_MAX_DATA] __attribute__((aligned(8)));
	int			ops_inflight;	/* io_uring ops referencing us */
	uint64_t		created_ns;
};

/* ---- Reactors --------------------------------------------------------------- */
struct znst_uring_caps {
	bool	multishot_accept;
	bool	ext_arg;
	bool	single_issuer;
	bool	coop_taskrun;
	bool	defer_taskrun;
	bool	fast_poll;
	bool	abs_timer;	/* IORING_ENTER_ABS_TIMER (wait_until) */
};

struct znst_reactor {
	struct znst_daemon	*daemon;
	unsigned		index;
	pthread_t		thread;
	struct io_uring		ring;
	struct znst_uring_caps	caps;
	struct znst_conn	*conns;		/* list head */
	uint32_t		nr_conns;
	struct dlq		held;		/* completions waiting for their deadline */
	/* connections whose receive is to be armed (reactor_arm_recv) */
	struct znst_conn	*recv_todo;
	int			listen_fd;	/* reactor 0 only, else -1 */
	bool			accept_armed;
	int			wake_fd;	/* eventfd: new fds, stop */
	uint64_t		wake_val;
	bool			wake_armed;
	pthread_mutex_t		inbox_lock;
	int			*inbox;		/* fds handed over by reactor 0 */
	uint32_t		inbox_nr, inbox_cap;
	uint64_t		next_tick_ns;
	uint64_t		next_conn_id;
	int			signal_fd;	/* reactor 0 only, else -1 */
	struct signalfd_siginfo	siginfo;
	struct timing_lateness	late;		/* completions vs their deadlines */
	unsigned		late_gen;	/* daemon's late_gen when last cleared */
	/* connections refused at accept: one log line a second at most */
	uint64_t		refused_log_ns;
	uint32_t		refused_quiet;
	uint64_t		accept_pause_until;	/* EMFILE: retry later */
	uint64_t		spin_ns;
};

/* ---- Daemon ----------------------------------------------------------------- */
struct znst_daemon {
	struct znst_config	cfg;
	struct znst_subsys	nvm;
	struct znst_subsys	disc;
	struct znst_reactor	*reactors;
	unsigned		nr_reactors;
	unsigned		next_reactor;
	atomic_bool		stop;
	int			listen_fd;
	char			listen_desc[96];
	_Atomic uint64_t	conn_ids;
	atomic_uint		nr_conns;	/* all reactors, vs cfg.max_conns */
	struct znst_prefaulter	prefault;	/* --zone-prefault */
	atomic_uint		late_gen;	/* SIGUSR2: reactors clear their lateness */
	atomic_uint		late_reports;	/* lateness reports printed */
};

/* ---- Interfaces between the layers ----------------------------------------- */
/* A busy-wait's pause: lets the sibling hyperthread run, saves power. */
static inline void znst_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}
uint64_t znst_now_ns(void);
/* One line to stderr when @level <= the daemon's verbosity (cfg.verbose). */
void znst_log(const struct znst_daemon *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define LOG_ERR		(-1)
#define LOG_INFO	0
#define LOG_DEBUG	1
#define conn_log(c, lvl, fmt, ...) \
	znst_log((c)->reactor->daemon, lvl, "conn %llu (%s): " fmt, \
		 (unsigned long long)(c)->id, (c)->peer, ##__VA_ARGS__)

/* subsys.c */
int subsys_init_nvm(struct znst_subsys *s, struct znst_daemon *d);
int subsys_init_disc(struct znst_subsys *s, struct znst_daemon *d);
void subsys_fini(struct znst_subsys *s);
struct znst_subsys *subsys_find(struct znst_daemon *d, const char *nqn);
nvme_status ctrl_create(struct znst_subsys *s, const struct nvmf_connect_data *cd,
			uint32_t kato_ms, struct znst_ctrl **out);
struct znst_ctrl *ctrl_get_by_id(struct znst_subsys *s, uint16_t cntlid,
				 const char *hostnqn);
void ctrl_put(struct znst_ctrl *ctrl);
/* KATO (ms) clamped into --kato-min/--kato-max, logged when changed */
uint32_t ctrl_kato_bound(struct znst_ctrl *ctrl, uint32_t kato_ms);
/* A request finished with success: note which controller drives its zone. */
void ns_note_zone_owner(struct znst_req *req);

/* admin.c / io.c: parse sets req->execute, dir and data_len, or a status */
nvme_status admin_parse(struct znst_req *req);
nvme_status fabrics_parse(struct znst_req *req);
nvme_status io_parse(struct znst_req *req);
void ctrl_fail_aers(struct znst_ctrl *ctrl);
/* Copy limits: MSRC + 1 source ranges, MSSRL = MCL blocks */
#define ZNST_COPY_MAX_RANGES	128
uint32_t io_copy_max_blocks(const struct znst_config *cfg);
/* Periodic zone timers and Zone Descriptor Changed events (admin.c);
 * the reactor's tick calls it with the time it already read. */
void ctrl_zone_tick(struct znst_reactor *r, uint64_t now);

/* conn.c: the command layer finishes every request here */
void req_complete(struct znst_req *req);
/* A data_len buffer for @req, owned and counted in the connection's
 * --max-inflight-data; false when out of memory. */
bool req_take_buffer(struct znst_req *req);
void conn_submit_response(struct znst_req *req);
void conn_rx_ready(struct znst_conn *c, int res);
void conn_tx_done(struct znst_conn *c, int res);
struct znst_conn *conn_create(struct znst_reactor *r, int fd);
void conn_close(struct znst_conn *c, const char *why);
void conn_maybe_free(struct znst_conn *c);
void conn_tick(struct znst_conn *c, uint64_t now);

/* reactor.c */
void reactor_arm_recv(struct znst_conn *c);
void reactor_arm_send(struct znst_conn *c);
int reactor_init(struct znst_reactor *r, struct znst_daemon *d, unsigned index);
void reactor_fini(struct znst_reactor *r);
int reactor_run(struct znst_reactor *r);	/* until daemon->stop */
void daemon_report_lateness(struct znst_daemon *d);
int reactor_hold(struct znst_reactor *r, struct znst_req *req, uint64_t deadline);
void reactor_unhold(struct znst_reactor *r, struct znst_req *req);
/* Release held completions that are due and submit their sends. */
void reactor_release_due(struct znst_reactor *r);

#endif
