/* SPDX-License-Identifier: MIT */
/* Latency models and lateness statistics; see timing.h. */
#include "timing/timing.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const timing_op_names[TIMING_OP_NR] = {
	[TIMING_OP_READ]	= "read",
	[TIMING_OP_WRITE]	= "write",
	[TIMING_OP_APPEND]	= "append",
	[TIMING_OP_WRITE_ZEROES] = "write_zeroes",
	[TIMING_OP_FLUSH]	= "flush",
	[TIMING_OP_ZONE_OPEN]	= "zone_open",
	[TIMING_OP_ZONE_CLOSE]	= "zone_close",
	[TIMING_OP_ZONE_FINISH]	= "zone_finish",
	[TIMING_OP_ZONE_RESET]	= "zone_reset",
	[TIMING_OP_ZONE_OTHER]	= "zone_other",
	[TIMING_OP_REPORT]	= "report",
	[TIMING_OP_ADMIN]	= "admin",
};

static const char *const timing_model_names[TIMING_MODEL_NR] = {
	[TIMING_MODEL_NONE]	= "none",
	[TIMING_MODEL_FIXED]	= "fixed",
	[TIMING_MODEL_NAND]	= "nand",
};

const char *timing_op_name(enum timing_op op)
{
	return op < TIMING_OP_NR ? timing_op_names[op] : "?";
}

const char *timing_model_name(enum timing_model_kind kind)
{
	return kind < TIMING_MODEL_NR ? timing_model_names[kind] : "?";
}

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/* Time to move @bytes at @bw bytes per second, in ns (0 for no limit). */
static uint64_t xfer_ns(uint64_t bytes, uint64_t bw)
{
	if (!bw)
		return 0;
	return (uint64_t)(((unsigned __int128)bytes * 1000000000u + bw - 1) / bw);
}

void timing_model_init_none(struct timing_model *m)
{
	memset(m, 0, sizeof(*m));
	m->p.kind = TIMING_MODEL_NONE;
	pthread_mutex_init(&m->lock, NULL);
}

static uint32_t nr_dies(const struct timing_model *m)
{
	return m->p.nand.channels * m->p.nand.dies;
}

static uint64_t unit_bytes(const struct timing_model *m)
{
	return (uint64_t)m->p.nand.page_size * m->p.nand.planes;
}

int timing_model_init(struct timing_model *m, const struct timing_params *p)
{
	const struct timing_nand *n = &p->nand;

	timing_model_init_none(m);
	m->p = *p;
	if (p->kind >= TIMING_MODEL_NR)
		return -EINVAL;
	if (p->kind != TIMING_MODEL_NAND)
		return 0;
	if (!n->channels || !n->dies || !n->planes || !n->page_size ||
	    !n->block_size || !n->chan_bw || n->zone_dies > n->channels * n->dies)
		return -EINVAL;
	if (!m->p.nand.zone_dies)
		m->p.nand.zone_dies = n->channels * n->dies;
	m->die_free = calloc(nr_dies(m), sizeof(*m->die_free));
	m->chan_free = calloc(n->channels, sizeof(*m->chan_free));
	m->zone_fill = calloc(p->nr_zones ? p->nr_zones : 1, sizeof(*m->zone_fill));
	m->zone_partial = calloc(p->nr_zones ? p->nr_zones : 1, sizeof(*m->zone_partial));
	/* one entry per program unit the buffer can hold, plus slack */
	m->wb_cap = (uint32_t)(n->wbuf / unit_bytes(m)) + 64;
	m->wb = calloc(m->wb_cap, sizeof(*m->wb));
	if (!m->die_free || !m->chan_free || !m->zone_fill || !m->zone_partial ||
	    !m->wb) {
		timing_model_fini(m);
		return -ENOMEM;
	}
	return 0;
}

void timing_model_fini(struct timing_model *m)
{
	free(m->die_free);
	free(m->chan_free);
	free(m->zone_fill);
	free(m->zone_partial);
	free(m->wb);
	m->die_free = m->chan_free = m->zone_fill = m->zone_partial = NULL;
	m->wb = NULL;
	pthread_mutex_destroy(&m->lock);
}

/* ---- fixed ------------------------------------------------------------------- */

static uint64_t fixed_deadline(struct timing_model *m, const struct timing_io *io,
			       uint64_t now)
{
	uint64_t done = now;

	if (m->p.bandwidth && io->bytes) {
		uint64_t start = max_u64(now, m->bus_free);

		m->bus_free = start + xfer_ns(io->bytes, m->p.bandwidth);
		done = m->bus_free;
	}
	return done + m->p.lat_ns[io->op] + m->p.overhead_ns;
}

/* ---- nand -------------------------------------------------------------------- */

/* Die of program/read unit @u of zone @zone (or of the regular namespace). */
static uint32_t unit_die(const struct timing_model *m, bool zoned, uint64_t zone,
			 uint64_t u)
{
	uint32_t d = nr_dies(m), z = m->p.nand.zone_dies;

	if (!zoned)
		return (uint32_t)(u % d);
	/* Zones start on consecutive die groups so that zones placed on
	 * fewer dies than the device has spread across all of them. */
	return (uint32_t)((zone * z + u % z) % d);
}

static uint32_t die_chan(const struct timing_model *m, uint32_t die)
{
	return die % m->p.nand.channels;
}

static void wb_release(struct timing_model *m, uint64_t t)
{
	while (m->wb_nr && m->wb[m->wb_head].done <= t) {
		m->wb_used -= m->wb[m->wb_head].bytes;
		m->wb_head = (m->wb_head + 1) % m->wb_cap;
		m->wb_nr--;
	}
}

/* Earliest time >= @now at which @bytes fit in the write buffer. */
static uint64_t wb_space_at(struct timing_model *m, uint64_t now, uint64_t bytes)
{
	uint64_t t = now, used = m->wb_used;
	uint32_t i = m->wb_head;

	if (bytes > m->p.nand.wbuf)
		bytes = m->p.nand.wbuf;
	for (uint32_t k = 0; k < m->wb_nr && used + bytes > m->p.nand.wbuf; k++) {
		t = max_u64(t, m->wb[i].done);
		used -= m->wb[i].bytes;
		i = (i + 1) % m->wb_cap;
	}
	return t;
}

static void wb_push(struct timing_model *m, uint64_t done, uint64_t bytes)
{
	if (m->wb_nr == m->wb_cap) {		/* full ring: merge into the last */
		uint32_t last = (m->wb_head + m->wb_nr - 1) % m->wb_cap;

		m->wb[last].done = max_u64(m->wb[last].done, done);
		m->wb[last].bytes += bytes;
	} else {
		uint32_t slot = (m->wb_head + m->wb_nr) % m->wb_cap;

		m->wb[slot].done = done;
		m->wb[slot].bytes = bytes;
		m->wb_nr++;
	}
	m->wb_used += bytes;
}

/* Program one unit on @die after its data crosses the channel from @ready.
 * @xfer: bytes on the channel (0 for controller-generated padding). */
static uint64_t program_unit(struct timing_model *m, uint32_t die, uint64_t ready,
			     uint64_t xfer)
{
	uint32_t c = die_chan(m, die);
	uint64_t t = ready;

	if (xfer) {
		t = max_u64(t, m->chan_free[c]) + xfer_ns(xfer, m->p.nand.chan_bw);
		m->chan_free[c] = t;
	}
	t = max_u64(t, m->die_free[die]) + m->p.nand.t_prog;
	m->die_free[die] = t;
	m->last_drain = max_u64(m->last_drain, t);
	return t;
}

static uint64_t nand_read(struct timing_model *m, const struct timing_io *io,
			  uint64_t now)
{
	uint64_t page = m->p.nand.page_size, unit = unit_bytes(m);
	uint64_t zone = io->zoned ? io->offset / m->p.zone_size : 0;
	uint64_t base = io->zoned ? zone * m->p.zone_size : 0;
	uint64_t off = io->offset, end = io->offset + io->bytes, done = now;

	/* Each plane page touched costs tR on its die, then its bytes cross
	 * the die's channel; the die stays busy until the data is out. */
	while (off < end) {
		uint64_t pend = (off / page + 1) * page;
		uint64_t n = (pend < end ? pend : end) - off;
		uint32_t die = unit_die(m, io->zoned, zone, (off - base) / unit);
		uint32_t c = die_chan(m, die);
		uint64_t t = max_u64(now, m->die_free[die]) + m->p.nand.t_read;

		t = max_u64(t, m->chan_free[c]) + xfer_ns(n, m->p.nand.chan_bw);
		m->chan_free[c] = t;
		m->die_free[die] = t;
		done = max_u64(done, t);
		off += n;
	}
	return done;
}

/*
 * Writes fill program units (page x planes) per zone; a full unit is sent
 * over its channel and programmed on its die.  With a write buffer the
 * command completes once its data is in the buffer (waiting for room if the
 * buffer is full); without one it completes when its units are programmed,
 * a partial unit being programmed at once (padded).
 */
static uint64_t nand_write(struct timing_model *m, const struct timing_io *io,
			   uint64_t now)
{
	uint64_t unit = unit_bytes(m);
	uint64_t zone = io->zoned ? io->offset / m->p.zone_size : 0;
	uint64_t base = io->zoned ? zone * m->p.zone_size : 0;
	uint64_t *partial = io->zoned ? &m->zone_partial[zone] : &m->conv_partial;
	bool buffered = m->p.nand.wbuf > 0;
	uint64_t ready = now, done = now;
	uint64_t pos = io->offset - base, left = io->bytes;

	if (buffered) {
		wb_release(m, now);
		ready = wb_space_at(m, now, io->bytes);
		wb_release(m, ready);
		done = ready;
	}
	if (io->zoned)
		m->zone_fill[zone] += io->bytes;
	pos -= *partial;	/* the unit being filled started here */
	while (left) {
		uint64_t room = unit - *partial;
		uint64_t n = left < room ? left : room;
		uint32_t die = unit_die(m, io->zoned, zone, pos / unit);

		*partial += n;
		left -= n;
		if (*partial == unit || !buffered) {
			uint64_t t = program_unit(m, die, ready, *partial);

			if (buffered)
				wb_push(m, t, *partial);
			else
				done = max_u64(done, t);
			*partial = 0;
			pos += unit;
		}
	}
	return done;
}

/* Erase the blocks a zone's data occupies on each of its dies. */
static uint64_t nand_reset_zone(struct timing_model *m, uint64_t zone, uint64_t now)
{
	uint64_t fill = m->zone_fill[zone];
	uint32_t z = m->p.nand.zone_dies;
	uint64_t per_die_block = m->p.nand.block_size * m->p.nand.planes;
	uint64_t blocks, done = now;

	if (!fill)
		return now;
	blocks = (fill + (uint64_t)z * per_die_block - 1) / ((uint64_t)z * per_die_block);
	for (uint32_t i = 0; i < z; i++) {
		uint32_t die = unit_die(m, true, zone, i);
		uint64_t t = max_u64(now, m->die_free[die]) + blocks * m->p.nand.t_erase;

		m->die_free[die] = t;
		done = max_u64(done, t);
	}
	m->zone_fill[zone] = 0;
	m->zone_partial[zone] = 0;
	return done;
}

/*
 * Finishing pads the rest of the zone's capacity with programs.  Padding
 * continues at the write pointer: the first pad unit is the one being
 * filled (buffered) or the next one (unbuffered writes programmed theirs
 * padded already), and unit u lands on the die unit_die() gives it, so a
 * short pad touches only the dies after the write pointer and each die
 * pays for exactly the units it holds.
 */
static uint64_t nand_finish_zone(struct timing_model *m, uint64_t zone, uint64_t now)
{
	uint64_t unit = unit_bytes(m), fill = m->zone_fill[zone];
	uint64_t first = m->p.nand.wbuf ? fill / unit : (fill + unit - 1) / unit;
	uint64_t end = (m->p.zone_cap + unit - 1) / unit;
	uint32_t z = m->p.nand.zone_dies;
	uint64_t done = now;

	if (fill >= m->p.zone_cap)
		return now;
	for (uint64_t u = first; u < end && u < first + z; u++) {
		uint32_t die = unit_die(m, true, zone, u);
		/* units first.., one in z of them on this die */
		uint64_t n = (end - u + z - 1) / z;
		uint64_t t = max_u64(now, m->die_free[die]) + n * m->p.nand.t_prog;

		m->die_free[die] = t;
		done = max_u64(done, t);
	}
	m->zone_fill[zone] = m->p.zone_cap;
	m->zone_partial[zone] = 0;
	m->last_drain = max_u64(m->last_drain, done);
	return done;
}

static uint64_t nand_zone_action(struct timing_model *m, const struct timing_io *io,
				 uint64_t now)
{
	uint64_t (*fn)(struct timing_model *, uint64_t, uint64_t) =
		io->op == TIMING_OP_ZONE_RESET ? nand_reset_zone : nand_finish_zone;
	uint64_t done = now;

	if (!m->p.nr_zones || !m->p.zone_size)
		return now;
	if (!io->all)
		return fn(m, io->offset / m->p.zone_size, now);
	for (uint64_t z = 0; z < m->p.nr_zones; z++) {
		/* finish-all touches partly written zones only */
		if (io->op == TIMING_OP_ZONE_FINISH &&
		    (!m->zone_fill[z] || m->zone_fill[z] >= m->p.zone_cap))
			continue;
		done = max_u64(done, fn(m, z, now));
	}
	return done;
}

static uint64_t nand_deadline(struct timing_model *m, const struct timing_io *io,
			      uint64_t now)
{
	uint64_t done = now;

	switch (io->op) {
	case TIMING_OP_READ:
		done = nand_read(m, io, now);
		break;
	case TIMING_OP_APPEND:
		if (m->p.nand.append_ns) {
			m->append_free = max_u64(now, m->append_free) + m->p.nand.append_ns;
			now = m->append_free;
		}
		/* fall through */
	case TIMING_OP_WRITE:
	case TIMING_OP_WRITE_ZEROES:
		done = nand_write(m, io, now);
		break;
	case TIMING_OP_FLUSH:
		/* everything buffered so far reaches NAND */
		done = max_u64(now, m->last_drain);
		break;
	case TIMING_OP_ZONE_RESET:
	case TIMING_OP_ZONE_FINISH:
		done = nand_zone_action(m, io, now);
		break;
	default:
		break;
	}
	return done + m->p.overhead_ns;
}

uint64_t timing_deadline(struct timing_model *m, const struct timing_io *io,
			 uint64_t now)
{
	uint64_t t;

	if (m->p.kind == TIMING_MODEL_NONE || io->op >= TIMING_OP_NR)
		return now;
	pthread_mutex_lock(&m->lock);
	if (m->p.kind == TIMING_MODEL_FIXED)
		t = fixed_deadline(m, io, now);
	else
		t = nand_deadline(m, io, now);
	pthread_mutex_unlock(&m->lock);
	return t;
}

/* ---- Lateness ------------------------------------------------------------------ */

static const uint64_t late_limits[TIMING_LATE_BUCKETS] = {
	500, 1000, 2000, 5000, 10000, 20000, 50000, 100000,
	1000000, 10000000, 100000000, UINT64_MAX,
};

uint64_t timing_lateness_bucket_limit(unsigned bucket)
{
	return bucket < TIMING_LATE_BUCKETS ? late_limits[bucket] : UINT64_MAX;
}

void timing_lateness_add(struct timing_lateness *l, enum timing_op op,
			 uint64_t late_ns)
{
	unsigned b = 0;

	if (op >= TIMING_OP_NR)
		return;
	/* bucket b holds late_limits[b - 1] <= late < late_limits[b] */
	while (b < TIMING_LATE_BUCKETS - 1 && late_ns >= late_limits[b])
		b++;
	l->count[op][b]++;
	l->total[op]++;
	l->sum_ns[op] += late_ns;
	if (late_ns > l->max_ns[op])
		l->max_ns[op] = late_ns;
}

void timing_lateness_complete(struct timing_lateness *l, enum timing_op op,
			      uint64_t deadline, uint64_t now)
{
	const struct timing_stalls *s = &l->stalls;
	uint64_t late = now > deadline ? now - deadline : 0;

	timing_lateness_add(l, op, late);
	if (late >= TIMING_LATE_NS && deadline >= s->last_from &&
	    deadline + TIMING_LATE_NS <= s->last_to)
		l->stalls.late_in++;
}

void timing_lateness_spin(struct timing_lateness *l, uint64_t spin_ns)
{
	l->stalls.spin_ns += spin_ns;
}

void timing_lateness_stall(struct timing_lateness *l, uint64_t from, uint64_t to)
{
	struct timing_stalls *s = &l->stalls;

	if (to < from || to - from < TIMING_LATE_NS)
		return;
	s->nr++;
	s->ns += to - from;
	s->over_ns += to - from - TIMING_LATE_NS;
	s->last_from = from;
	s->last_to = to;
}

void timing_lateness_merge(struct timing_lateness *into,
			   const struct timing_lateness *from)
{
	into->stalls.spin_ns += from->stalls.spin_ns;
	into->stalls.nr += from->stalls.nr;
	into->stalls.ns += from->stalls.ns;
	into->stalls.over_ns += from->stalls.over_ns;
	into->stalls.late_in += from->stalls.late_in;
	for (unsigned op = 0; op < TIMING_OP_NR; op++) {
		for (unsigned b = 0; b < TIMING_LATE_BUCKETS; b++)
			into->count[op][b] += from->count[op][b];
		into->total[op] += from->total[op];
		into->sum_ns[op] += from->sum_ns[op];
		if (from->max_ns[op] > into->max_ns[op])
			into->max_ns[op] = from->max_ns[op];
	}
}

uint64_t timing_lateness_quantile(const struct timing_lateness *l,
				  enum timing_op op, double q)
{
	uint64_t need, seen = 0;
	double rank;

	if (op >= TIMING_OP_NR || !l->total[op])
		return 0;
	/* nearest rank: the ceil(q x n)-th smallest; the epsilon keeps
	 * 0.9 x 100 from becoming 91 through rounding */
	rank = q * (double)l->total[op] - 1e-9;
	need = (uint64_t)rank;
	if ((double)need < rank)
		need++;
	if (need < 1)
		need = 1;
	for (unsigned b = 0; b < TIMING_LATE_BUCKETS; b++) {
		seen += l->count[op][b];
		if (seen >= need)
			return late_limits[b];
	}
	return UINT64_MAX;
}

/* A bucket's upper bound, or the largest lateness seen if that is less
 * (the last bucket has no bound). */
static double late_q_us(const struct timing_lateness *l, enum timing_op op, double q)
{
	uint64_t v = timing_lateness_quantile(l, op, q);

	return (double)(v < l->max_ns[op] ? v : l->max_ns[op]) / 1000.0;
}

/*
 * machine>=20us: the share of spinning time that lay 20 us or more into a
 * gap, i.e. how often a deadline falling at a random instant would have
 * come 20 us late on this CPU whatever the daemon did.  late_in_stall: the
 * late completions (all operations) that such a gap alone made late.
 */
static void format_stalls(const struct timing_lateness *l, char *buf,
			  unsigned long len, size_t used)
{
	const struct timing_stalls *s = &l->stalls;
	uint64_t late = 0;

	if (!s->spin_ns || used >= len)
		return;
	for (unsigned op = 0; op < TIMING_OP_NR; op++)
		for (unsigned b = 1; b < TIMING_LATE_BUCKETS; b++)
			if (late_limits[b - 1] >= TIMING_LATE_NS)
				late += l->count[op][b];
	snprintf(buf + used, len - used,
		 "lateness machine spin=%.1fms stalls>=20us=%llu stalled=%.2fms machine>=20us=%.3f%% late_in_stall=%llu/%llu\n",
		 (double)s->spin_ns / 1e6, (unsigned long long)s->nr, (double)s->ns / 1e6,
		 100.0 * (double)s->over_ns / (double)s->spin_ns,
		 (unsigned long long)s->late_in, (unsigned long long)late);
}

void timing_lateness_format(const struct timing_lateness *l, char *buf,
			    unsigned long len)
{
	size_t used = 0;

	buf[0] = 0;
	for (unsigned op = 0; op < TIMING_OP_NR && used < len; op++) {
		uint64_t late20 = 0;
		int n;

		if (!l->total[op])
			continue;
		for (unsigned b = 1; b < TIMING_LATE_BUCKETS; b++)
			if (late_limits[b - 1] >= TIMING_LATE_NS)
				late20 += l->count[op][b];
		n = snprintf(buf + used, len - used,
			     "lateness %-12s n=%llu mean=%.2fus p50<=%.1fus p99<=%.1fus p99.9<=%.1fus max=%.1fus >=20us=%.3f%%\n",
			     timing_op_names[op], (unsigned long long)l->total[op],
			     (double)l->sum_ns[op] / (double)l->total[op] / 1000.0,
			     late_q_us(l, op, 0.5), late_q_us(l, op, 0.99),
			     late_q_us(l, op, 0.999),
			     (double)l->max_ns[op] / 1000.0,
			     100.0 * (double)late20 / (double)l->total[op]);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	format_stalls(l, buf, len, used);
}
