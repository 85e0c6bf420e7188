/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for timing/timing: the fixed and nand latency models against
 * hand-computed timelines on a fake clock, and the lateness histogram.
 *
 * The nand geometry used throughout is small enough to compute by hand:
 * 2 channels x 2 dies (dies 0 and 2 on channel 0, 1 and 3 on channel 1),
 * 1 plane, 4 KiB pages (so a program unit is 4 KiB), 16 KiB blocks,
 * tR 50 us, tPROG 500 us, tBERS 3 ms, and a channel moving 4 KiB in 10 us.
 * Zones are 64 KiB.  A zone striped over all dies puts unit u on die u % 4;
 * a zone on one die (zone_dies 1) lives on die (zone % 4).  TAP output.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "timing/timing.h"
#include "tests/unit/tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define US(x)	((uint64_t)(x) * 1000u)
#define KIB	UINT64_C(1024)
#define ANY	UINT64_MAX		/* step whose deadline is not checked */
#define MAX_STEPS 16

/* ---- nand timelines ------------------------------------------------------------ */

/* Departures from the base geometry; 0 keeps the base value. */
struct geo_tweak {
	uint32_t	zone_dies;	/* base: 0 (all dies) */
	uint32_t	planes;		/* base: 1 */
	uint32_t	nr_zones;	/* base: 4 */
	uint64_t	zone_size;	/* base: 64 KiB */
	uint64_t	zone_cap;	/* base: the zone size */
	uint64_t	wbuf;		/* base: none */
	uint64_t	overhead;	/* base: 0 */
	uint64_t	append_ns;	/* base: 0 */
};

static struct timing_params nand_params(const struct geo_tweak *tw)
{
	struct timing_params p = {
		.kind = TIMING_MODEL_NAND,
		.overhead_ns = tw->overhead,
		.nand = {
			.channels = 2, .dies = 2,
			.planes = tw->planes ? tw->planes : 1,
			.page_size = 4096, .block_size = 16 * KIB,
			.t_read = US(50), .t_prog = US(500), .t_erase = US(3000),
			.chan_bw = 409600000,		/* 4 KiB in 10 us */
			.zone_dies = tw->zone_dies,
			.wbuf = tw->wbuf, .append_ns = tw->append_ns,
		},
		.nr_zones = tw->nr_zones ? tw->nr_zones : 4,
		.zone_size = tw->zone_size ? tw->zone_size : 64 * KIB,
	};

	p.zone_cap = tw->zone_cap ? tw->zone_cap : p.zone_size;
	return p;
}

/* One command on the fake clock and the deadline worked out by hand. */
struct step {
	enum timing_op	op;
	bool		conv;		/* regular namespace (else zoned) */
	bool		all;		/* Select All */
	uint32_t	zone;
	uint64_t	off;		/* bytes into the zone (or namespace) */
	uint64_t	bytes;
	uint64_t	now;		/* ns */
	uint64_t	want;		/* ns, or ANY */
};

struct scenario {
	const char	*name;
	struct geo_tweak tw;
	struct step	steps[MAX_STEPS];
};

#define RD(z, o, n, t, w)	{ .op = TIMING_OP_READ, .zone = z, .off = o, .bytes = n, .now = t, .want = w }
#define WR(z, o, n, t, w)	{ .op = TIMING_OP_WRITE, .zone = z, .off = o, .bytes = n, .now = t, .want = w }
#define AP(z, o, n, t, w)	{ .op = TIMING_OP_APPEND, .zone = z, .off = o, .bytes = n, .now = t, .want = w }
#define FL(t, w)		{ .op = TIMING_OP_FLUSH, .now = t, .want = w }
#define RESET(z, t, w)		{ .op = TIMING_OP_ZONE_RESET, .zone = z, .now = t, .want = w }
#define RESET_ALL(t, w)		{ .op = TIMING_OP_ZONE_RESET, .all = true, .now = t, .want = w }
#define FINISH(z, t, w)		{ .op = TIMING_OP_ZONE_FINISH, .zone = z, .now = t, .want = w }
#define FINISH_ALL(t, w)	{ .op = TIMING_OP_ZONE_FINISH, .all = true, .now = t, .want = w }
#define OPEN(z, t, w)		{ .op = TIMING_OP_ZONE_OPEN, .zone = z, .now = t, .want = w }

static const struct scenario scenarios[] = {
	/* Reads: tR on the die, then the page crosses the die's channel; the
	 * die is busy until its data is out. */
	{ "read: one 4K read costs tR + transfer", {}, {
		RD(0, 0, 4 * KIB, US(0), US(60)),
	} },
	{ "read: two reads on one die queue (die contention)", {}, {
		RD(0, 0, 4 * KIB, US(0), US(60)),		/* die 0: 0-50 tR, 50-60 xfer */
		RD(0, 0, 4 * KIB, US(0), US(120)),		/* die 0 free at 60: 60-110, 110-120 */
	} },
	{ "read: dies on different channels run in parallel", {}, {
		RD(0, 0, 4 * KIB, US(0), US(60)),		/* die 0, channel 0 */
		RD(0, 4 * KIB, 4 * KIB, US(0), US(60)),	/* die 1, channel 1 */
	} },
	{ "read: dies on one channel share its transfer time", {}, {
		RD(0, 0, 4 * KIB, US(0), US(60)),		/* die 0: ch0 busy 50-60 */
		RD(0, 8 * KIB, 4 * KIB, US(0), US(70)),	/* die 2: tR 0-50, ch0 60-70 */
	} },
	{ "read: 16K striped read spans all four dies", {}, {
		/* dies 0,1,2,3 read in parallel; ch0 carries dies 0 and 2
		 * (50-60, 60-70), ch1 dies 1 and 3 */
		RD(0, 0, 16 * KIB, US(0), US(70)),
	} },
	{ "read: a later read after the dies went idle", {}, {
		RD(0, 0, 4 * KIB, US(0), US(60)),
		RD(0, 0, 4 * KIB, US(1000), US(1060)),
	} },
	{ "read: regular namespace stripes units over all dies", {}, {
		{ .op = TIMING_OP_READ, .conv = true, .off = 0, .bytes = 4 * KIB,
		  .now = 0, .want = US(60) },
		{ .op = TIMING_OP_READ, .conv = true, .off = 8 * KIB, .bytes = 4 * KIB,
		  .now = 0, .want = US(70) },			/* unit 2: die 2, ch0 after die 0 */
	} },

	/* Unbuffered writes complete when programmed: transfer, then tPROG. */
	{ "write: one unbuffered 4K write costs transfer + tPROG", {}, {
		WR(0, 0, 4 * KIB, US(0), US(510)),
	} },
	{ "write: striping over all dies, four writes in parallel", {}, {
		/* ch0: die 0 0-10, die 2 10-20; ch1: die 1 0-10, die 3 10-20 */
		WR(0, 0, 4 * KIB, US(0), US(510)),
		WR(0, 4 * KIB, 4 * KIB, US(0), US(510)),
		WR(0, 8 * KIB, 4 * KIB, US(0), US(520)),
		WR(0, 12 * KIB, 4 * KIB, US(0), US(520)),
	} },
	{ "write: zone on one die serializes its programs", { .zone_dies = 1 }, {
		/* all on die 0: ch0 0-10, 10-20, 20-30, 30-40; die 0 programs
		 * 10-510, 510-1010, 1010-1510, 1510-2010 */
		WR(0, 0, 4 * KIB, US(0), US(510)),
		WR(0, 4 * KIB, 4 * KIB, US(0), US(1010)),
		WR(0, 8 * KIB, 4 * KIB, US(0), US(1510)),
		WR(0, 12 * KIB, 4 * KIB, US(0), US(2010)),
	} },
	{ "write: one-die zones on different dies run in parallel", { .zone_dies = 1 }, {
		WR(0, 0, 4 * KIB, US(0), US(510)),		/* die 0, ch0 */
		WR(1, 0, 4 * KIB, US(0), US(510)),		/* die 1, ch1 */
		WR(2, 0, 4 * KIB, US(0), US(520)),		/* die 2, ch0 after die 0 */
	} },
	{ "write: one 16K command striped vs on one die", {}, {
		WR(0, 0, 16 * KIB, US(0), US(520)),
	} },
	{ "write: one 16K command on a one-die zone", { .zone_dies = 1 }, {
		WR(0, 0, 16 * KIB, US(0), US(2010)),
	} },
	{ "write: a read waits for the die's program", {}, {
		WR(0, 0, 4 * KIB, US(0), US(510)),
		RD(0, 0, 4 * KIB, US(0), US(570)),		/* die 0 free at 510 */
	} },
	{ "write: a program keeps its die busy, not its channel", {}, {
		WR(0, 0, 4 * KIB, US(0), US(510)),		/* ch0 0-10 */
		RD(0, 8 * KIB, 4 * KIB, US(5), US(65)),	/* die 2: tR 5-55, ch0 55-65 */
	} },

	/* Write buffer: 8 KiB (two units) in front of a one-die zone, so the
	 * buffer drains at one program per 500 us. */
	{ "write buffer: early completion, then wait for drain, flush", { .zone_dies = 1, .wbuf = 8 * KIB }, {
		WR(0, 0, 4 * KIB, US(0), US(0)),		/* drains 10-510 */
		WR(0, 4 * KIB, 4 * KIB, US(0), US(0)),		/* drains 20-1010 */
		WR(0, 8 * KIB, 4 * KIB, US(0), US(510)),	/* full: waits for 510 */
		WR(0, 12 * KIB, 4 * KIB, US(0), US(1010)),	/* waits for 1010 */
		FL(US(0), US(2010)),				/* last program ends 2010 */
	} },
	{ "write buffer: flush after the drain completes at once", { .zone_dies = 1, .wbuf = 8 * KIB, .overhead = US(2) }, {
		WR(0, 0, 4 * KIB, US(0), US(2)),
		FL(US(600), US(602)),
	} },
	{ "write buffer: room again once programs finish", { .zone_dies = 1, .wbuf = 8 * KIB }, {
		WR(0, 0, 4 * KIB, US(0), US(0)),
		WR(0, 4 * KIB, 4 * KIB, US(0), US(0)),
		WR(0, 8 * KIB, 4 * KIB, US(600), US(600)),	/* first unit drained at 510 */
	} },
	{ "write buffer: striped zone drains on all dies", { .wbuf = 8 * KIB }, {
		WR(0, 0, 4 * KIB, US(0), US(0)),		/* die 0: 10-510 */
		WR(0, 4 * KIB, 4 * KIB, US(0), US(0)),		/* die 1: 10-510 */
		WR(0, 8 * KIB, 4 * KIB, US(0), US(510)),	/* die 2: 520-1020 */
		FL(US(0), US(1020)),
	} },
	{ "write buffer: a partial unit waits in the buffer", { .planes = 2, .zone_dies = 1, .wbuf = 64 * KIB }, {
		/* unit = 8 KiB: the first 4K is not programmed yet */
		WR(0, 0, 4 * KIB, US(0), US(0)),
		FL(US(0), US(0)),
		/* the second half fills the unit: 8 KiB cross ch0 in 20 us */
		WR(0, 4 * KIB, 4 * KIB, US(0), US(0)),
		FL(US(0), US(520)),
	} },

	/* Erase: ceil(fill / (zone_dies x block x planes)) x tBERS on each of
	 * the zone's dies; an empty zone costs only the overhead. */
	{ "reset: an empty zone costs only overhead", { .overhead = US(1) }, {
		RESET(0, US(0), US(1)),
	} },
	{ "reset: a partly written striped zone erases one block per die", { .overhead = US(1) }, {
		WR(0, 0, 8 * KIB, US(0), US(511)),
		RESET(0, US(1000), US(4001)),
		RESET(0, US(5000), US(5001)),			/* empty again */
	} },
	{ "reset: waits for the dies' programs", {}, {
		WR(0, 0, 4 * KIB, US(0), US(510)),
		RESET(0, US(100), US(3510)),			/* die 0 busy until 510 */
	} },
	{ "reset: blocks = ceil(fill / (dies x block x planes))", { .planes = 2, .zone_dies = 1 }, {
		/* per die: 16 KiB x 2 planes = 32 KiB; 40 KiB -> 2 blocks */
		WR(0, 0, 40 * KIB, US(0), ANY),
		RESET(0, US(100000), US(106000)),
	} },
	{ "reset: a full 64K zone on all dies: one block each", {}, {
		WR(0, 0, 64 * KIB, US(0), ANY),
		RESET(0, US(100000), US(103000)),
	} },
	{ "reset: a full 64K zone on one die: four blocks", { .zone_dies = 1 }, {
		WR(0, 0, 64 * KIB, US(0), ANY),
		RESET(0, US(100000), US(112000)),
	} },
	{ "reset: select all erases written zones only, dies in parallel", { .zone_dies = 1 }, {
		WR(0, 0, 4 * KIB, US(0), US(510)),		/* die 0 */
		WR(1, 0, 4 * KIB, US(0), US(510)),		/* die 1 */
		RESET_ALL(US(10000), US(13000)),
		RESET_ALL(US(20000), US(20000)),		/* nothing written */
	} },
	{ "reset: select all, two zones on one die erase in turn", { .zone_dies = 1, .nr_zones = 8 }, {
		WR(0, 0, 4 * KIB, US(0), US(510)),		/* zone 0: die 0 */
		WR(4, 0, 4 * KIB, US(0), US(1010)),		/* zone 4: die 0 too */
		RESET_ALL(US(10000), US(16000)),
	} },

	/* Finish pads the rest of the capacity with programs, continuing at
	 * the write pointer; no channel transfer (the controller pads). */
	{ "finish: pads the rest of the zone, per die in parallel", { .zone_cap = 48 * KIB }, {
		/* 44 KiB = 11 units on dies 1,2,3,0,1,2,3,0,1,2,3: 3 each on
		 * dies 1-3, 2 on die 0; dies idle at 1000 */
		WR(0, 0, 4 * KIB, US(0), US(510)),
		FINISH(0, US(1000), US(2500)),
		RESET(0, US(10000), US(13000)),			/* 48 KiB full -> 1 block */
	} },
	{ "finish: padding continues on the die after the write pointer", { .zone_cap = 8 * KIB }, {
		/* unit 0 on die 0 (busy until 510); the pad unit 1 is on die 1 */
		WR(0, 0, 4 * KIB, US(0), US(510)),
		FINISH(0, US(0), US(500)),
	} },
	{ "finish: uneven padding leaves the other dies' timelines exact", { .zone_cap = 20 * KIB }, {
		/* 5 units from empty: dies 0,1,2,3,0 -> die 0 two programs,
		 * dies 1-3 one: a read on die 1 waits only until 500 */
		FINISH(0, US(0), US(1000)),
		RD(0, 4 * KIB, 4 * KIB, US(0), US(560)),
	} },
	{ "finish: a full zone costs nothing", { .overhead = US(1) }, {
		WR(0, 0, 64 * KIB, US(0), ANY),
		FINISH(0, US(100000), US(100001)),
	} },
	{ "finish: select all pads partly written zones only", { .zone_dies = 1, .zone_cap = 16 * KIB }, {
		WR(1, 0, 8 * KIB, US(0), US(1010)),		/* zone 1: die 1, 2 units */
		FINISH_ALL(US(2000), US(3000)),			/* 2 pad units on die 1 */
	} },

	/* The append engine serializes Zone Appends before the write path. */
	{ "append: engine time serializes appends", { .wbuf = 1024 * KIB, .append_ns = US(10) }, {
		AP(0, 0, 4 * KIB, US(0), US(10)),
		AP(0, 4 * KIB, 4 * KIB, US(0), US(20)),
		AP(1, 0, 4 * KIB, US(0), US(30)),		/* one engine for all zones */
		AP(0, 8 * KIB, 4 * KIB, US(100), US(110)),	/* idle engine again */
		WR(2, 0, 4 * KIB, US(100), US(100)),		/* writes do not queue on it */
	} },
	{ "append: without a buffer an append is engine time + program", { .append_ns = US(10) }, {
		AP(0, 0, 4 * KIB, US(0), US(520)),
	} },

	{ "zone open/close cost only the overhead", { .overhead = US(3) }, {
		OPEN(0, US(7), US(10)),
	} },
};

/* Unused table slots are all zero; every real step expects a deadline. */
static bool step_used(const struct step *s)
{
	return s->want != 0 || s->now != 0 || s->op != TIMING_OP_READ;
}

static uint64_t step_deadline(struct timing_model *m, const struct timing_params *p,
			      const struct step *s)
{
	struct timing_io io = {
		.op = s->op,
		.zoned = !s->conv,
		.all = s->all,
		.offset = (s->conv ? 0 : (uint64_t)s->zone * p->zone_size) + s->off,
		.bytes = s->bytes,
	};

	return timing_deadline(m, &io, s->now);
}

static void test_nand_scenarios(struct tap *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(scenarios); i++) {
		const struct scenario *sc = &scenarios[i];
		struct timing_params p = nand_params(&sc->tw);
		struct timing_model m;
		bool ok = true;
		int ret = timing_model_init(&m, &p);

		if (ret) {
			tap_result(t, false, "%s (init: %d)", sc->name, ret);
			continue;
		}
		for (unsigned k = 0; k < MAX_STEPS && step_used(&sc->steps[k]); k++) {
			const struct step *s = &sc->steps[k];
			uint64_t got = step_deadline(&m, &p, s);

			if (s->want != ANY && got != s->want) {
				diag("%s: step %u (%s at %.3f us): deadline %.3f us, want %.3f us",
				     sc->name, k + 1, timing_op_name(s->op),
				     (double)s->now / 1000.0, (double)got / 1000.0,
				     (double)s->want / 1000.0);
				ok = false;
			}
		}
		tap_result(t, ok, "%s", sc->name);
		timing_model_fini(&m);
	}
}

/* Sequential writes of one zone, many at once: the striped zone is
 * zone_dies times faster than the one placed on a single die. */
static void test_striping_throughput(struct tap *t)
{
	uint64_t last[2] = { 0, 0 };
	const uint32_t dies[2] = { 0, 1 };

	for (int v = 0; v < 2; v++) {
		struct geo_tweak tw = { .zone_dies = dies[v], .zone_size = 1024 * KIB };
		struct timing_params p = nand_params(&tw);
		struct timing_model m;
		struct timing_io io = { .op = TIMING_OP_WRITE, .zoned = true, .bytes = 4 * KIB };

		timing_model_init(&m, &p);
		for (unsigned k = 0; k < 64; k++) {
			io.offset = k * 4 * KIB;
			last[v] = timing_deadline(&m, &io, 0);
		}
		timing_model_fini(&m);
	}
	/* 64 units: striped, 16 per die back to back: the last die's first
	 * transfer ends at 20 us, then 16 x 500 = 8020 us; one die: 10 us +
	 * 64 x 500 = 32010 us. */
	tap_result(t, last[0] == US(8020) && last[1] == US(32010),
		   "striping: 64 sequential writes end at %.0f us on 4 dies, %.0f us on 1",
		   (double)last[0] / 1000.0, (double)last[1] / 1000.0);
}

/* ---- fixed model ------------------------------------------------------------------ */

static void test_fixed(struct tap *t)
{
	struct timing_params p = {
		.kind = TIMING_MODEL_FIXED,
		.overhead_ns = US(1),
	};
	struct timing_model m;
	struct timing_io rd = { .op = TIMING_OP_READ, .zoned = true, .bytes = 4 * KIB };
	struct timing_io wr = { .op = TIMING_OP_WRITE, .zoned = true, .bytes = 4 * KIB };
	struct timing_io fl = { .op = TIMING_OP_FLUSH };
	struct timing_io rs = { .op = TIMING_OP_ZONE_RESET };
	uint64_t a, b, c;

	p.lat_ns[TIMING_OP_READ] = US(100);
	p.lat_ns[TIMING_OP_WRITE] = US(20);
	p.lat_ns[TIMING_OP_FLUSH] = US(30);
	p.lat_ns[TIMING_OP_ZONE_RESET] = US(2000);
	timing_model_init(&m, &p);
	a = timing_deadline(&m, &rd, US(5));
	b = timing_deadline(&m, &rd, US(5));
	tap_result(t, a == US(106) && b == US(106),
		   "fixed: per-op latency + overhead, no cap: concurrent reads both at 106 us (%.0f, %.0f)",
		   (double)a / 1000.0, (double)b / 1000.0);
	a = timing_deadline(&m, &wr, 0);
	b = timing_deadline(&m, &rs, US(50));
	c = timing_deadline(&m, &fl, US(50));
	tap_result(t, a == US(21) && b == US(2051) && c == US(81),
		   "fixed: write 21 us, reset 2051 us, flush 81 us");
	timing_model_fini(&m);

	/* 409.6 MB/s: 4 KiB takes 10 us on the bus, commands queue for it */
	p.bandwidth = 409600000;
	timing_model_init(&m, &p);
	a = timing_deadline(&m, &wr, 0);
	b = timing_deadline(&m, &wr, 0);
	c = timing_deadline(&m, &rd, 0);
	tap_result(t, a == US(31) && b == US(41) && c == US(131),
		   "fixed: bandwidth cap serializes transfers (%.0f, %.0f, %.0f us)",
		   (double)a / 1000.0, (double)b / 1000.0, (double)c / 1000.0);
	a = timing_deadline(&m, &fl, 0);
	b = timing_deadline(&m, &wr, US(1000));
	tap_result(t, a == US(31) && b == US(1031),
		   "fixed: commands without data skip the bus; an idle bus starts at now");
	timing_model_fini(&m);
}

static void test_none_and_init(struct tap *t)
{
	struct timing_model m;
	struct timing_io rd = { .op = TIMING_OP_READ, .zoned = true, .bytes = 4 * KIB };
	struct geo_tweak tw = { 0 };
	struct timing_params p = nand_params(&tw);
	bool ok;

	timing_model_init_none(&m);
	ok = timing_deadline(&m, &rd, 12345) == 12345;
	timing_model_fini(&m);
	tap_result(t, ok, "none: completes at now");

	p.nand.channels = 0;
	ok = timing_model_init(&m, &p) == -EINVAL;
	p = nand_params(&tw);
	p.nand.zone_dies = 5;
	ok = ok && timing_model_init(&m, &p) == -EINVAL;
	tap_result(t, ok, "nand: init rejects zero channels and zone_dies > dies");
}

/* ---- Lateness histogram --------------------------------------------------------- */

static void test_lateness(struct tap *t)
{
	struct timing_lateness a, b;
	char buf[1024];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	/* 90 x 300 ns, 9 x 1.5 us, 1 x 30 us */
	for (int i = 0; i < 90; i++)
		timing_lateness_add(&a, TIMING_OP_READ, 300);
	for (int i = 0; i < 9; i++)
		timing_lateness_add(&a, TIMING_OP_READ, 1500);
	timing_lateness_add(&a, TIMING_OP_READ, 30000);
	tap_result(t, timing_lateness_quantile(&a, TIMING_OP_READ, 0.5) == 500 &&
		   timing_lateness_quantile(&a, TIMING_OP_READ, 0.9) == 500 &&
		   timing_lateness_quantile(&a, TIMING_OP_READ, 0.91) == 2000 &&
		   timing_lateness_quantile(&a, TIMING_OP_READ, 0.99) == 2000 &&
		   timing_lateness_quantile(&a, TIMING_OP_READ, 1.0) == 50000,
		   "lateness: quantiles are bucket upper bounds (p50 0.5, p90 0.5, p91 2, p99 2, max 50 us)");
	/* nearest rank: p99.9 of 100 samples is the 100th, not the 99th */
	tap_result(t, timing_lateness_quantile(&a, TIMING_OP_READ, 0.999) == 50000,
		   "lateness: p99.9 of 100 samples is the largest (got %" PRIu64 " ns)",
		   timing_lateness_quantile(&a, TIMING_OP_READ, 0.999));
	tap_result(t, timing_lateness_quantile(&a, TIMING_OP_WRITE, 0.5) == 0,
		   "lateness: an operation without completions reports 0");

	timing_lateness_add(&b, TIMING_OP_READ, 0);
	timing_lateness_add(&b, TIMING_OP_READ, 200000000);	/* 200 ms: open bucket */
	timing_lateness_add(&b, TIMING_OP_WRITE, 20000);	/* exactly 20 us */
	timing_lateness_merge(&a, &b);
	tap_result(t, a.total[TIMING_OP_READ] == 102 && a.max_ns[TIMING_OP_READ] == 200000000 &&
		   a.count[TIMING_OP_READ][0] == 91 &&
		   a.count[TIMING_OP_READ][TIMING_LATE_BUCKETS - 1] == 1 &&
		   a.sum_ns[TIMING_OP_READ] == 90 * 300 + 9 * 1500 + 30000 + 200000000u &&
		   a.total[TIMING_OP_WRITE] == 1,
		   "lateness: merge adds counts and sums, keeps the larger max");
	tap_result(t, timing_lateness_quantile(&a, TIMING_OP_READ, 1.0) == UINT64_MAX,
		   "lateness: the open-ended bucket reports UINT64_MAX");

	timing_lateness_format(&a, buf, sizeof(buf));
	tap_result(t, strstr(buf, "lateness read") && strstr(buf, "n=102") &&
		   strstr(buf, ">=20us=1.961%") && strstr(buf, "lateness write") &&
		   strstr(buf, "n=1 ") && !strstr(buf, "append"),
		   "lateness: report lines per operation with completions");
	/* 20 us late exactly counts as ">= 20 us" */
	tap_result(t, strstr(buf, ">=20us=100.000%") != NULL,
		   "lateness: a completion exactly 20 us late counts as >= 20 us");
	if (t->failed)
		diag("report:\n%s", buf);
}

/* Gaps seen while spinning: the machine's share, on hand-made times (ns). */
static void test_stalls(struct tap *t)
{
	struct timing_lateness a, b;
	const struct timing_stalls *s = &a.stalls;
	char buf[1024];

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	timing_lateness_spin(&a, 1000000);		/* 1 ms of spinning */
	timing_lateness_stall(&a, 100000, 115000);	/* 15 us: not a stall */
	timing_lateness_stall(&a, 200000, 250000);	/* 50 us */
	tap_result(t, s->nr == 1 && s->ns == 50000 && s->over_ns == 30000 &&
		   s->last_from == 200000 && s->last_to == 250000,
		   "stalls: a gap of 20 us or more counts, a 15 us one does not");
	/* due at 210 us, out at 252: the gap alone made it 40 us late */
	timing_lateness_complete(&a, TIMING_OP_WRITE, 210000, 252000);
	/* due at 240 us, out at 265: 25 us late, but 15 us of it after the gap */
	timing_lateness_complete(&a, TIMING_OP_WRITE, 240000, 265000);
	/* due before the gap, out within it: late, not the gap's doing */
	timing_lateness_complete(&a, TIMING_OP_READ, 150000, 230000);
	/* inside the gap but on time enough: not late at all */
	timing_lateness_complete(&a, TIMING_OP_READ, 245000, 251000);
	tap_result(t, s->late_in == 1 && a.total[TIMING_OP_WRITE] == 2 &&
		   a.total[TIMING_OP_READ] == 2 && a.max_ns[TIMING_OP_READ] == 80000,
		   "stalls: only a completion the gap alone made >= 20 us late is the machine's "
		   "(got %" PRIu64 ")", s->late_in);
	timing_lateness_format(&a, buf, sizeof(buf));
	tap_result(t, strstr(buf, "lateness machine spin=1.0ms stalls>=20us=1 stalled=0.05ms "
			     "machine>=20us=3.000% late_in_stall=1/3\n") != NULL,
		   "stalls: the report's machine line (30 us of 1 ms lay >= 20 us into a gap)");

	timing_lateness_spin(&b, 500000);
	timing_lateness_stall(&b, 300000, 400000);
	timing_lateness_merge(&a, &b);
	tap_result(t, s->spin_ns == 1500000 && s->nr == 2 && s->ns == 150000 &&
		   s->over_ns == 110000 && s->late_in == 1,
		   "stalls: merge adds spin time, gaps and their lengths");
	memset(&b, 0, sizeof(b));
	timing_lateness_add(&b, TIMING_OP_READ, 100);
	timing_lateness_format(&b, buf, sizeof(buf));
	tap_result(t, !strstr(buf, "machine"), "stalls: no machine line without spinning");
	if (t->failed)
		diag("report:\n%s", buf);
}

int main(void)
{
	struct tap t = { 0 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_nand_scenarios(&t);
	test_striping_throughput(&t);
	test_fixed(&t);
	test_none_and_init(&t);
	test_lateness(&t);
	test_stalls(&t);
	printf("1..%d\n", t.n);
	return t.failed ? 1 : 0;
}
