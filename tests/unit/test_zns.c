/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for zns/: the zone state machine, resource accounting, zoned
 * I/O, Zone Append under concurrency, report zones and lazy memory use.
 * Expected values come from the NVMe ZNS Command Set 1.1 specification,
 * written here as tables.  TAP output, the plan printed last.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/nvme.h"
#include "proto/zns.h"
#include "zns/zns.h"
#include "tests/unit/tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define DNR(sc)	((nvme_status)((sc) | NVME_STATUS_DNR))

static const char *status_name(nvme_status st)
{
	switch (st & ~NVME_STATUS_DNR) {
	case NVME_SC_SUCCESS:			return "Success";
	case NVME_SC_INVALID_FIELD:		return "Invalid Field";
	case NVME_SC_LBA_RANGE:			return "LBA Out of Range";
	case NVME_SC_ZONE_BOUNDARY:		return "Zone Boundary Error";
	case NVME_SC_ZONE_FULL:			return "Zone Is Full";
	case NVME_SC_ZONE_READ_ONLY:		return "Zone Is Read Only";
	case NVME_SC_ZONE_OFFLINE:		return "Zone Is Offline";
	case NVME_SC_ZONE_INVALID_WRITE:	return "Zone Invalid Write";
	case NVME_SC_ZONE_TOO_MANY_ACTIVE:	return "Too Many Active Zones";
	case NVME_SC_ZONE_TOO_MANY_OPEN:	return "Too Many Open Zones";
	case NVME_SC_ZONE_INVALID_TRANSITION:	return "Invalid Zone State Transition";
	default:				return "?";
	}
}

/* Test-side names, independent of zns_state_name(). */
static const char *const state_names[ZNS_ZS_NR] = {
	[ZNS_ZS_EMPTY]		= "empty",
	[ZNS_ZS_IMP_OPEN]	= "imp_open",
	[ZNS_ZS_EXP_OPEN]	= "exp_open",
	[ZNS_ZS_CLOSED]		= "closed",
	[ZNS_ZS_FULL]		= "full",
	[ZNS_ZS_READ_ONLY]	= "read_only",
	[ZNS_ZS_OFFLINE]	= "offline",
};

static const char *const action_names[ZNS_ACT_NR] = {
	[ZNS_ACT_OPEN]		= "open",
	[ZNS_ACT_CLOSE]		= "close",
	[ZNS_ACT_FINISH]	= "finish",
	[ZNS_ACT_RESET]		= "reset",
	[ZNS_ACT_OFFLINE]	= "offline",
	[ZNS_ACT_WRITE]		= "write",
};

/* ZNS 1.1 Figure 37: Zone State field values (descriptor byte 1, 7:4). */
static const uint8_t wire_state[ZNS_ZS_NR] = {
	[ZNS_ZS_EMPTY]		= 0x1,
	[ZNS_ZS_IMP_OPEN]	= 0x2,
	[ZNS_ZS_EXP_OPEN]	= 0x3,
	[ZNS_ZS_CLOSED]		= 0x4,
	[ZNS_ZS_READ_ONLY]	= 0xd,
	[ZNS_ZS_FULL]		= 0xe,
	[ZNS_ZS_OFFLINE]	= 0xf,
};

/* ZNS 1.1 Figure 4: open zones hold an Open and an Active Resource,
 * closed zones an Active Resource only. */
static bool is_open(enum zns_state s)
{
	return s == ZNS_ZS_IMP_OPEN || s == ZNS_ZS_EXP_OPEN;
}

static bool is_active(enum zns_state s)
{
	return is_open(s) || s == ZNS_ZS_CLOSED;
}

/* Write pointer valid (Figure 4) */
static bool wp_valid(enum zns_state s)
{
	return s == ZNS_ZS_EMPTY || is_active(s);
}

/* ---- Helpers ------------------------------------------------------------ */

static int ns_make(struct zns_ns *ns, uint32_t nr_zones, uint64_t zone_size,
		   uint64_t zone_cap, uint32_t lba_shift, uint32_t max_open,
		   uint32_t max_active)
{
	const struct zns_params p = {
		.nr_zones = nr_zones,
		.zone_size = zone_size,
		.zone_cap = zone_cap,
		.lba_shift = lba_shift,
		.max_open = max_open,
		.max_active = max_active,
	};

	return zns_ns_init(ns, &p);
}

static uint64_t zslba_of(const struct zns_ns *ns, uint32_t idx)
{
	return (uint64_t)idx * ns->p.zone_size;
}

static struct zns_zone zone_snap(struct zns_ns *ns, uint32_t idx)
{
	struct zns_zone z;

	zns_zone_get(ns, idx, &z);
	return z;
}

static enum zns_state zstate(struct zns_ns *ns, uint32_t idx)
{
	return zone_snap(ns, idx).state;
}

/* One block of @fill, big enough for either LBA size. */
struct blk {
	uint8_t b[4096];
};

static void blk_fill(struct blk *b, uint8_t v)
{
	memset(b->b, v, sizeof(b->b));
}

/* Write @nlb blocks of byte @v at the zone's write pointer. */
static nvme_status write_at_wp(struct zns_ns *ns, uint32_t idx, uint32_t nlb,
			       uint8_t v)
{
	size_t len = (size_t)nlb << ns->p.lba_shift;
	uint8_t *buf = malloc(len);
	nvme_status st;

	if (!buf)
		return 0xffff;
	memset(buf, v, len);
	st = zns_write(ns, zone_snap(ns, idx).wp, nlb, buf);
	free(buf);
	return st;
}

static nvme_status mgmt(struct zns_ns *ns, uint32_t idx, enum zns_action act)
{
	return zns_mgmt_send(ns, zslba_of(ns, idx), act, false);
}

/*
 * Bring zone @idx from Empty to @st with the public API only: writes and
 * management actions, force_state for Read Only and Offline (no command
 * reaches those).  Open, closed, full and read-only zones get one block
 * written first so the write pointer is off the zone start.
 */
static nvme_status zone_setup(struct zns_ns *ns, uint32_t idx,
			      enum zns_state st)
{
	nvme_status s = NVME_SC_SUCCESS;

	if (st == ZNS_ZS_EMPTY)
		return s;
	if (st == ZNS_ZS_OFFLINE)
		return zns_zone_force_state(ns, idx, ZNS_ZS_OFFLINE);
	s = write_at_wp(ns, idx, 1, 0x5a);
	if (s)
		return s;
	switch (st) {
	case ZNS_ZS_EXP_OPEN:
		return mgmt(ns, idx, ZNS_ACT_OPEN);
	case ZNS_ZS_CLOSED:
		return mgmt(ns, idx, ZNS_ACT_CLOSE);
	case ZNS_ZS_FULL:
		return mgmt(ns, idx, ZNS_ACT_FINISH);
	case ZNS_ZS_READ_ONLY:
		return zns_zone_force_state(ns, idx, ZNS_ZS_READ_ONLY);
	default:
		return s;
	}
}

static bool counters_are(struct zns_ns *ns, uint32_t open, uint32_t active)
{
	struct zns_counters c;

	zns_counters_get(ns, &c);
	if (c.nr_open == open && c.nr_active == active)
		return true;
	diag("counters: open %" PRIu32 " active %" PRIu32
	     ", expected open %" PRIu32 " active %" PRIu32,
	     c.nr_open, c.nr_active, open, active);
	return false;
}

static bool status_is(nvme_status got, nvme_status want)
{
	if (got == want)
		return true;
	diag("status 0x%04x (%s%s), expected 0x%04x (%s%s)",
	     got, status_name(got), got & NVME_STATUS_DNR ? ", DNR" : "",
	     want, status_name(want), want & NVME_STATUS_DNR ? ", DNR" : "");
	return false;
}

static bool state_is(struct zns_ns *ns, uint32_t idx, enum zns_state want)
{
	enum zns_state got = zstate(ns, idx);

	if (got == want)
		return true;
	diag("zone %" PRIu32 " is %s, expected %s", idx,
	     got < ZNS_ZS_NR ? state_names[got] : "?", state_names[want]);
	return false;
}

static bool wp_is(struct zns_ns *ns, uint32_t idx, uint64_t want)
{
	uint64_t got = zone_snap(ns, idx).wp;

	if (got == want)
		return true;
	diag("zone %" PRIu32 " wp %" PRIu64 ", expected %" PRIu64,
	     idx, got, want);
	return false;
}

/* ---- 1. Transition table ------------------------------------------------ */

enum wp_expect {
	WP_SAME,	/* unchanged */
	WP_ZSLBA,	/* reset: ZNS 1.1 3.4.3.1.4 */
	WP_CAP_END,	/* finish: zslba + zcap (this model's choice) */
	WP_PLUS_ONE,	/* one block written */
	WP_NONE,	/* not valid in the resulting state (Figure 4) */
};

struct transition_case {
	enum zns_action	act;
	enum zns_state	from;
	nvme_status	status;
	enum zns_state	to;
	enum wp_expect	wp;
};

#define GOES(a, f, t, w)	{ .act = (a), .from = (f), .to = (t), .wp = (w) }
#define REFUSED(a, f, sc)	{ .act = (a), .from = (f), .to = (f), \
				  .status = DNR(sc), .wp = WP_SAME }
#define IZST	NVME_SC_ZONE_INVALID_TRANSITION

/* ZNS 1.1 3.4.3.1.1-5 (Zone Send Actions), 2.1.1.2.1.1 and 2.1.1.3
 * (writes). */
static const struct transition_case transitions[] = {
	/* 3.4.3.1.3 Open Zone */
	GOES(ZNS_ACT_OPEN, ZNS_ZS_EMPTY, ZNS_ZS_EXP_OPEN, WP_SAME),
	GOES(ZNS_ACT_OPEN, ZNS_ZS_IMP_OPEN, ZNS_ZS_EXP_OPEN, WP_SAME),
	GOES(ZNS_ACT_OPEN, ZNS_ZS_EXP_OPEN, ZNS_ZS_EXP_OPEN, WP_SAME),
	GOES(ZNS_ACT_OPEN, ZNS_ZS_CLOSED, ZNS_ZS_EXP_OPEN, WP_SAME),
	REFUSED(ZNS_ACT_OPEN, ZNS_ZS_FULL, IZST),
	REFUSED(ZNS_ACT_OPEN, ZNS_ZS_READ_ONLY, IZST),
	REFUSED(ZNS_ACT_OPEN, ZNS_ZS_OFFLINE, IZST),
	/* 3.4.3.1.1 Close Zone */
	REFUSED(ZNS_ACT_CLOSE, ZNS_ZS_EMPTY, IZST),
	GOES(ZNS_ACT_CLOSE, ZNS_ZS_IMP_OPEN, ZNS_ZS_CLOSED, WP_SAME),
	GOES(ZNS_ACT_CLOSE, ZNS_ZS_EXP_OPEN, ZNS_ZS_CLOSED, WP_SAME),
	GOES(ZNS_ACT_CLOSE, ZNS_ZS_CLOSED, ZNS_ZS_CLOSED, WP_SAME),
	REFUSED(ZNS_ACT_CLOSE, ZNS_ZS_FULL, IZST),
	REFUSED(ZNS_ACT_CLOSE, ZNS_ZS_READ_ONLY, IZST),
	REFUSED(ZNS_ACT_CLOSE, ZNS_ZS_OFFLINE, IZST),
	/* 3.4.3.1.2 Finish Zone */
	GOES(ZNS_ACT_FINISH, ZNS_ZS_EMPTY, ZNS_ZS_FULL, WP_CAP_END),
	GOES(ZNS_ACT_FINISH, ZNS_ZS_IMP_OPEN, ZNS_ZS_FULL, WP_CAP_END),
	GOES(ZNS_ACT_FINISH, ZNS_ZS_EXP_OPEN, ZNS_ZS_FULL, WP_CAP_END),
	GOES(ZNS_ACT_FINISH, ZNS_ZS_CLOSED, ZNS_ZS_FULL, WP_CAP_END),
	GOES(ZNS_ACT_FINISH, ZNS_ZS_FULL, ZNS_ZS_FULL, WP_CAP_END),
	REFUSED(ZNS_ACT_FINISH, ZNS_ZS_READ_ONLY, IZST),
	REFUSED(ZNS_ACT_FINISH, ZNS_ZS_OFFLINE, IZST),
	/* 3.4.3.1.4 Reset Zone */
	GOES(ZNS_ACT_RESET, ZNS_ZS_EMPTY, ZNS_ZS_EMPTY, WP_ZSLBA),
	GOES(ZNS_ACT_RESET, ZNS_ZS_IMP_OPEN, ZNS_ZS_EMPTY, WP_ZSLBA),
	GOES(ZNS_ACT_RESET, ZNS_ZS_EXP_OPEN, ZNS_ZS_EMPTY, WP_ZSLBA),
	GOES(ZNS_ACT_RESET, ZNS_ZS_CLOSED, ZNS_ZS_EMPTY, WP_ZSLBA),
	GOES(ZNS_ACT_RESET, ZNS_ZS_FULL, ZNS_ZS_EMPTY, WP_ZSLBA),
	REFUSED(ZNS_ACT_RESET, ZNS_ZS_READ_ONLY, IZST),
	REFUSED(ZNS_ACT_RESET, ZNS_ZS_OFFLINE, IZST),
	/* 3.4.3.1.5 Offline Zone */
	REFUSED(ZNS_ACT_OFFLINE, ZNS_ZS_EMPTY, IZST),
	REFUSED(ZNS_ACT_OFFLINE, ZNS_ZS_IMP_OPEN, IZST),
	REFUSED(ZNS_ACT_OFFLINE, ZNS_ZS_EXP_OPEN, IZST),
	REFUSED(ZNS_ACT_OFFLINE, ZNS_ZS_CLOSED, IZST),
	REFUSED(ZNS_ACT_OFFLINE, ZNS_ZS_FULL, IZST),
	GOES(ZNS_ACT_OFFLINE, ZNS_ZS_READ_ONLY, ZNS_ZS_OFFLINE, WP_NONE),
	GOES(ZNS_ACT_OFFLINE, ZNS_ZS_OFFLINE, ZNS_ZS_OFFLINE, WP_NONE),
	/* 2.1.1.3.1/2.1.1.3.4 (implicit open) and 2.1.1.2.1.1 (refusals) */
	GOES(ZNS_ACT_WRITE, ZNS_ZS_EMPTY, ZNS_ZS_IMP_OPEN, WP_PLUS_ONE),
	GOES(ZNS_ACT_WRITE, ZNS_ZS_IMP_OPEN, ZNS_ZS_IMP_OPEN, WP_PLUS_ONE),
	GOES(ZNS_ACT_WRITE, ZNS_ZS_EXP_OPEN, ZNS_ZS_EXP_OPEN, WP_PLUS_ONE),
	GOES(ZNS_ACT_WRITE, ZNS_ZS_CLOSED, ZNS_ZS_IMP_OPEN, WP_PLUS_ONE),
	REFUSED(ZNS_ACT_WRITE, ZNS_ZS_FULL, NVME_SC_ZONE_FULL),
	REFUSED(ZNS_ACT_WRITE, ZNS_ZS_READ_ONLY, NVME_SC_ZONE_READ_ONLY),
	REFUSED(ZNS_ACT_WRITE, ZNS_ZS_OFFLINE, NVME_SC_ZONE_OFFLINE),
};

static void test_transitions(struct tap *t)
{
	/* zone size 64, capacity 48: finish must land on the capacity */
	const uint32_t nr = 8, zi = 3;

	for (size_t i = 0; i < ARRAY_SIZE(transitions); i++) {
		const struct transition_case *c = &transitions[i];
		struct zns_zone before, after;
		struct zns_ns ns;
		nvme_status st, setup;
		uint64_t want_wp = 0;
		bool ok = true;
		struct blk b;

		if (ns_make(&ns, nr, 64, 48, 9, 0, 0)) {
			tap_result(t, false, "%s from %s: namespace init",
				   action_names[c->act], state_names[c->from]);
			continue;
		}
		setup = zone_setup(&ns, zi, c->from);
		before = zone_snap(&ns, zi);
		if (setup || before.state != c->from) {
			diag("setup to %s: status 0x%04x, state %s",
			     state_names[c->from], setup,
			     state_names[before.state]);
			ok = false;
		}

		if (c->act == ZNS_ACT_WRITE) {
			blk_fill(&b, 0xc3);
			st = zns_write(&ns, wp_valid(c->from) ? before.wp :
				       before.zslba, 1, b.b);
		} else {
			st = mgmt(&ns, zi, c->act);
		}
		after = zone_snap(&ns, zi);

		ok &= status_is(st, c->status);
		ok &= state_is(&ns, zi, c->to);
		switch (c->wp) {
		case WP_SAME:	  want_wp = before.wp; break;
		case WP_ZSLBA:	  want_wp = before.zslba; break;
		case WP_CAP_END:  want_wp = before.zslba + 48; break;
		case WP_PLUS_ONE: want_wp = before.wp + 1; break;
		case WP_NONE:	  break;
		}
		if (c->wp != WP_NONE)
			ok &= wp_is(&ns, zi, want_wp);
		ok &= after.zslba == zslba_of(&ns, zi);
		ok &= counters_are(&ns, is_open(c->to), is_active(c->to));
		for (uint32_t z = 0; z < nr; z++) {
			if (z != zi && zstate(&ns, z) != ZNS_ZS_EMPTY) {
				diag("zone %" PRIu32 " changed too", z);
				ok = false;
			}
		}
		if (c->status)
			tap_result(t, ok, "%s from %s -> %s (0x%04x, DNR)",
				   action_names[c->act], state_names[c->from],
				   status_name(c->status), c->status);
		else
			tap_result(t, ok, "%s from %s -> %s",
				   action_names[c->act], state_names[c->from],
				   state_names[c->to]);
		zns_ns_fini(&ns);
	}
}

/* ---- 2. Status codes ---------------------------------------------------- */

static void test_status_codes(struct tap *t)
{
	struct zns_ns ns;
	struct blk b[4];
	uint64_t alba = 0;
	nvme_status st;
	bool ok;

	memset(b, 0x77, sizeof(b));

	/* Zone capacity == zone size: only the zone end limits a write. */
	if (ns_make(&ns, 4, 64, 64, 9, 0, 0) == 0) {
		ok = status_is(write_at_wp(&ns, 1, 62, 1), NVME_SC_SUCCESS);
		st = zns_write(&ns, zslba_of(&ns, 1) + 62, 4, b);
		ok &= status_is(st, DNR(NVME_SC_ZONE_BOUNDARY));
		ok &= wp_is(&ns, 1, zslba_of(&ns, 1) + 62);
		ok &= state_is(&ns, 1, ZNS_ZS_IMP_OPEN);
		ok &= state_is(&ns, 2, ZNS_ZS_EMPTY);
		tap_result(t, ok, "write at wp crossing the zone end -> Zone Boundary Error, nothing changed");

		st = zns_read(&ns, zslba_of(&ns, 2) - 2, 4, b);
		tap_result(t, status_is(st, DNR(NVME_SC_ZONE_BOUNDARY)),
			   "read crossing a zone boundary (RAZB 0) -> Zone Boundary Error");

		st = zns_write(&ns, zns_nsze(&ns), 1, b);
		tap_result(t, status_is(st, DNR(NVME_SC_LBA_RANGE)),
			   "write with slba == nsze -> LBA Out of Range (0x80)");
		st = zns_write(&ns, zns_nsze(&ns) + 1000, 1, b);
		tap_result(t, status_is(st, DNR(NVME_SC_LBA_RANGE)),
			   "write with slba beyond the namespace -> LBA Out of Range");
		st = zns_read(&ns, zns_nsze(&ns), 1, b);
		tap_result(t, status_is(st, DNR(NVME_SC_LBA_RANGE)),
			   "read with slba == nsze -> LBA Out of Range");
		st = zns_read(&ns, zns_nsze(&ns) - 1, 2, b);
		tap_result(t, status_is(st, DNR(NVME_SC_LBA_RANGE)),
			   "read running past the namespace end -> LBA Out of Range");
		zns_ns_fini(&ns);
	}

	/* Zone capacity 48 of 64 */
	if (ns_make(&ns, 4, 64, 48, 9, 0, 0) == 0) {
		ok = status_is(write_at_wp(&ns, 0, 46, 1), NVME_SC_SUCCESS);
		st = zns_write(&ns, 46, 4, b);
		ok &= status_is(st, DNR(NVME_SC_ZONE_BOUNDARY));
		ok &= wp_is(&ns, 0, 46) && state_is(&ns, 0, ZNS_ZS_IMP_OPEN);
		tap_result(t, ok, "write at wp past the zone capacity -> Zone Boundary Error, nothing changed");

		st = zns_append(&ns, 0, 4, b, &alba);
		ok = status_is(st, DNR(NVME_SC_ZONE_BOUNDARY)) && wp_is(&ns, 0, 46);
		tap_result(t, ok, "append past the zone capacity -> Zone Boundary Error");

		ok = status_is(zns_write(&ns, 46, 2, b), NVME_SC_SUCCESS) &&
		     state_is(&ns, 0, ZNS_ZS_FULL) && counters_are(&ns, 0, 0);
		tap_result(t, ok, "write reaching the capacity -> full, resources released");

		st = zns_write(&ns, 0, 1, b);
		tap_result(t, status_is(st, DNR(NVME_SC_ZONE_FULL)),
			   "write to a full zone -> Zone Is Full");
		st = zns_append(&ns, 0, 1, b, &alba);
		tap_result(t, status_is(st, DNR(NVME_SC_ZONE_FULL)),
			   "append to a full zone -> Zone Is Full");

		ok = status_is(write_at_wp(&ns, 1, 3, 1), NVME_SC_SUCCESS);
		st = zns_write(&ns, zslba_of(&ns, 1) + 4, 1, b);
		ok &= status_is(st, DNR(NVME_SC_ZONE_INVALID_WRITE));
		st = zns_write(&ns, zslba_of(&ns, 1) + 2, 1, b);
		ok &= status_is(st, DNR(NVME_SC_ZONE_INVALID_WRITE));
		ok &= wp_is(&ns, 1, zslba_of(&ns, 1) + 3);
		tap_result(t, ok, "write after / before the wp of an open zone -> Zone Invalid Write");

		st = zns_write(&ns, zslba_of(&ns, 2) + 1, 1, b);
		ok = status_is(st, DNR(NVME_SC_ZONE_INVALID_WRITE)) &&
		     state_is(&ns, 2, ZNS_ZS_EMPTY) && counters_are(&ns, 1, 1);
		tap_result(t, ok, "write off the wp of an empty zone -> Zone Invalid Write, zone stays empty");

		st = zns_append(&ns, zslba_of(&ns, 2) + 1, 1, b, &alba);
		tap_result(t, status_is(st, DNR(NVME_SC_INVALID_FIELD)),
			   "append with slba not a zone start -> Invalid Field (0x02)");
		st = zns_mgmt_send(&ns, zslba_of(&ns, 2) + 1, ZNS_ACT_OPEN, false);
		ok = status_is(st, DNR(NVME_SC_INVALID_FIELD)) &&
		     state_is(&ns, 2, ZNS_ZS_EMPTY);
		tap_result(t, ok, "zone management send with slba not a zone start -> Invalid Field");

		st = mgmt(&ns, 3, ZNS_ACT_CLOSE);
		tap_result(t, status_is(st, DNR(NVME_SC_ZONE_INVALID_TRANSITION)),
			   "close an empty zone -> Invalid Zone State Transition");
		zns_ns_fini(&ns);
	}

	/* Read only and offline zones */
	if (ns_make(&ns, 4, 64, 64, 9, 0, 0) == 0) {
		struct blk rb;

		blk_fill(&b[0], 0x42);
		ok = status_is(zns_write(&ns, 0, 1, b[0].b), NVME_SC_SUCCESS);
		ok &= status_is(zns_zone_force_state(&ns, 0, ZNS_ZS_READ_ONLY),
				NVME_SC_SUCCESS);
		ok &= counters_are(&ns, 0, 0);
		st = zns_write(&ns, 1, 1, b);
		ok &= status_is(st, DNR(NVME_SC_ZONE_READ_ONLY));
		tap_result(t, ok, "write to a read only zone -> Zone Is Read Only");
		st = zns_append(&ns, 0, 1, b, &alba);
		tap_result(t, status_is(st, DNR(NVME_SC_ZONE_READ_ONLY)),
			   "append to a read only zone -> Zone Is Read Only");
		memset(&rb, 0, sizeof(rb));
		st = zns_read(&ns, 0, 1, rb.b);
		ok = status_is(st, NVME_SC_SUCCESS) &&
		     memcmp(rb.b, b[0].b, 512) == 0;
		tap_result(t, ok, "read from a read only zone succeeds with the data written before");

		ok = status_is(zns_zone_force_state(&ns, 1, ZNS_ZS_OFFLINE),
			       NVME_SC_SUCCESS);
		st = zns_write(&ns, zslba_of(&ns, 1), 1, b);
		ok &= status_is(st, DNR(NVME_SC_ZONE_OFFLINE));
		tap_result(t, ok, "write to an offline zone -> Zone Is Offline");
		st = zns_read(&ns, zslba_of(&ns, 1), 1, rb.b);
		tap_result(t, status_is(st, DNR(NVME_SC_ZONE_OFFLINE)),
			   "read from an offline zone -> Zone Is Offline");
		st = zns_append(&ns, zslba_of(&ns, 1), 1, b, &alba);
		tap_result(t, status_is(st, DNR(NVME_SC_ZONE_OFFLINE)),
			   "append to an offline zone -> Zone Is Offline");
		zns_ns_fini(&ns);
	}

	/* Too Many Active Zones: MAR 3 > MOR 2, three zones closed */
	if (ns_make(&ns, 8, 64, 64, 9, 2, 3) == 0) {
		ok = true;
		for (uint32_t z = 0; z < 3; z++)
			ok &= zone_setup(&ns, z, ZNS_ZS_CLOSED) == 0;
		ok &= counters_are(&ns, 0, 3);
		st = zns_write(&ns, zslba_of(&ns, 3), 1, b);
		ok &= status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_ACTIVE));
		ok &= state_is(&ns, 3, ZNS_ZS_EMPTY) && wp_is(&ns, 3, zslba_of(&ns, 3));
		ok &= counters_are(&ns, 0, 3);
		tap_result(t, ok, "write to an empty zone with all active resources used -> Too Many Active Zones");
		st = zns_append(&ns, zslba_of(&ns, 3), 1, b, &alba);
		ok = status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_ACTIVE)) &&
		     state_is(&ns, 3, ZNS_ZS_EMPTY);
		tap_result(t, ok, "append to an empty zone with all active resources used -> Too Many Active Zones");
		st = mgmt(&ns, 3, ZNS_ACT_OPEN);
		ok = status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_ACTIVE)) &&
		     state_is(&ns, 3, ZNS_ZS_EMPTY) && counters_are(&ns, 0, 3);
		tap_result(t, ok, "open an empty zone with all active resources used -> Too Many Active Zones");
		/* 2.1.1.4.1 g): Empty -> Full uses no resource */
		st = mgmt(&ns, 3, ZNS_ACT_FINISH);
		ok = status_is(st, NVME_SC_SUCCESS) && state_is(&ns, 3, ZNS_ZS_FULL) &&
		     counters_are(&ns, 0, 3);
		tap_result(t, ok, "finish an empty zone with all active resources used -> full (needs no resource)");
		/* a closed zone already holds its active resource */
		st = zns_write(&ns, zone_snap(&ns, 0).wp, 1, b);
		ok = status_is(st, NVME_SC_SUCCESS) &&
		     state_is(&ns, 0, ZNS_ZS_IMP_OPEN) && counters_are(&ns, 1, 3);
		tap_result(t, ok, "write to a closed zone with all active resources used -> imp_open");
		zns_ns_fini(&ns);
	}

	/* Too Many Open Zones: MOR 2 < MAR 4, both open resources explicit */
	if (ns_make(&ns, 8, 64, 64, 9, 2, 4) == 0) {
		ok = zone_setup(&ns, 0, ZNS_ZS_EXP_OPEN) == 0;
		ok &= mgmt(&ns, 1, ZNS_ACT_OPEN) == 0;
		ok &= counters_are(&ns, 2, 2);
		st = mgmt(&ns, 2, ZNS_ACT_OPEN);
		ok &= status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_OPEN));
		ok &= state_is(&ns, 2, ZNS_ZS_EMPTY) && counters_are(&ns, 2, 2);
		tap_result(t, ok, "open beyond max_open, no implicitly opened zone -> Too Many Open Zones");
		st = zns_write(&ns, zslba_of(&ns, 2), 1, b);
		ok = status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_OPEN)) &&
		     state_is(&ns, 2, ZNS_ZS_EMPTY) && wp_is(&ns, 2, zslba_of(&ns, 2));
		tap_result(t, ok, "write to an empty zone, open resources all explicit -> Too Many Open Zones");
		st = zns_append(&ns, zslba_of(&ns, 2), 1, b, &alba);
		tap_result(t, status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_OPEN)),
			   "append to an empty zone, open resources all explicit -> Too Many Open Zones");
		/* a closed zone too needs an open resource to be written */
		ok = status_is(mgmt(&ns, 1, ZNS_ACT_CLOSE), NVME_SC_SUCCESS);
		ok &= status_is(mgmt(&ns, 2, ZNS_ACT_OPEN), NVME_SC_SUCCESS);
		st = zns_write(&ns, zslba_of(&ns, 1), 1, b);
		ok &= status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_OPEN));
		ok &= state_is(&ns, 1, ZNS_ZS_CLOSED) && counters_are(&ns, 2, 3);
		tap_result(t, ok, "write to a closed zone, open resources all explicit -> Too Many Open Zones");
		st = mgmt(&ns, 1, ZNS_ACT_OPEN);
		ok = status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_OPEN)) &&
		     state_is(&ns, 1, ZNS_ZS_CLOSED);
		tap_result(t, ok, "open a closed zone, open resources all explicit -> Too Many Open Zones");
		zns_ns_fini(&ns);
	}

	/* MAR == MOR: 2.1.1.4.1 b), the missing resource is reported as
	 * Active even though the open limit is reached too. */
	if (ns_make(&ns, 8, 64, 64, 9, 2, 2) == 0) {
		ok = zone_setup(&ns, 0, ZNS_ZS_IMP_OPEN) == 0;
		ok &= zone_setup(&ns, 1, ZNS_ZS_EXP_OPEN) == 0;
		st = zns_write(&ns, zslba_of(&ns, 2), 1, b);
		ok &= status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_ACTIVE));
		ok &= state_is(&ns, 0, ZNS_ZS_IMP_OPEN) && state_is(&ns, 2, ZNS_ZS_EMPTY);
		tap_result(t, ok, "max_open == max_active, both used: write to an empty zone -> Too Many Active Zones, no implicit close");
		zns_ns_fini(&ns);
	}
}

/* ---- 3. Implicit close -------------------------------------------------- */

static void test_implicit_close(struct tap *t)
{
	struct zns_counters c;
	struct zns_ns ns;
	struct blk b;
	nvme_status st;
	bool ok;

	blk_fill(&b, 0x11);
	/* ZNS 1.1 2.1.1.4.1: the controller may close an implicitly opened
	 * zone to open another; this model closes the least recently
	 * written one. */
	if (ns_make(&ns, 8, 64, 64, 9, 2, 4) == 0) {
		ok = write_at_wp(&ns, 0, 1, 1) == 0;	/* t1 */
		ok &= write_at_wp(&ns, 1, 1, 1) == 0;	/* t2 */
		ok &= write_at_wp(&ns, 1, 1, 1) == 0;	/* t3: zone 0 is LRU */
		ok &= counters_are(&ns, 2, 2);
		st = zns_write(&ns, zslba_of(&ns, 2), 1, b.b);
		ok &= status_is(st, NVME_SC_SUCCESS);
		ok &= state_is(&ns, 0, ZNS_ZS_CLOSED) && wp_is(&ns, 0, 1);
		ok &= state_is(&ns, 1, ZNS_ZS_IMP_OPEN);
		ok &= state_is(&ns, 2, ZNS_ZS_IMP_OPEN);
		ok &= counters_are(&ns, 2, 3);
		zns_counters_get(&ns, &c);
		ok &= c.nr_imp_closed == 1;
		tap_result(t, ok, "write to an empty zone at max_open: least recently written imp_open zone closed");

		/* Writing the closed zone again closes the next LRU (zone 1) */
		st = zns_write(&ns, 1, 1, b.b);
		ok = status_is(st, NVME_SC_SUCCESS);
		ok &= state_is(&ns, 0, ZNS_ZS_IMP_OPEN) && wp_is(&ns, 0, 2);
		ok &= state_is(&ns, 1, ZNS_ZS_CLOSED);
		ok &= state_is(&ns, 2, ZNS_ZS_IMP_OPEN);
		ok &= counters_are(&ns, 2, 3);
		zns_counters_get(&ns, &c);
		ok &= c.nr_imp_closed == 2;
		tap_result(t, ok, "write to a closed zone at max_open: LRU imp_open zone closed, written zone imp_open");

		/* An explicit open may also take an implicitly opened zone's place */
		st = mgmt(&ns, 3, ZNS_ACT_OPEN);
		ok = status_is(st, NVME_SC_SUCCESS);
		ok &= state_is(&ns, 3, ZNS_ZS_EXP_OPEN);
		ok &= state_is(&ns, 2, ZNS_ZS_CLOSED);	/* t4 < zone 0's t5 */
		ok &= state_is(&ns, 0, ZNS_ZS_IMP_OPEN);
		ok &= counters_are(&ns, 2, 4);
		tap_result(t, ok, "explicit open at max_open closes the LRU imp_open zone");
		zns_ns_fini(&ns);
	}

	/* One explicit and one implicit: only the implicit one may go. */
	if (ns_make(&ns, 8, 64, 64, 9, 2, 4) == 0) {
		ok = zone_setup(&ns, 0, ZNS_ZS_EXP_OPEN) == 0;	/* oldest write */
		ok &= write_at_wp(&ns, 1, 1, 1) == 0;
		st = zns_write(&ns, zslba_of(&ns, 2), 1, b.b);
		ok &= status_is(st, NVME_SC_SUCCESS);
		ok &= state_is(&ns, 0, ZNS_ZS_EXP_OPEN);
		ok &= state_is(&ns, 1, ZNS_ZS_CLOSED);
		ok &= state_is(&ns, 2, ZNS_ZS_IMP_OPEN);
		ok &= counters_are(&ns, 2, 3);
		tap_result(t, ok, "explicitly opened zones are never closed implicitly, even when least recently written");
		zns_ns_fini(&ns);
	}

	if (ns_make(&ns, 8, 64, 64, 9, 2, 4) == 0) {
		ok = mgmt(&ns, 0, ZNS_ACT_OPEN) == 0;
		ok &= mgmt(&ns, 1, ZNS_ACT_OPEN) == 0;
		st = zns_write(&ns, zslba_of(&ns, 2), 1, b.b);
		ok &= status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_OPEN));
		ok &= state_is(&ns, 0, ZNS_ZS_EXP_OPEN) && state_is(&ns, 1, ZNS_ZS_EXP_OPEN);
		ok &= state_is(&ns, 2, ZNS_ZS_EMPTY) && counters_are(&ns, 2, 2);
		zns_counters_get(&ns, &c);
		ok &= c.nr_imp_closed == 0;
		tap_result(t, ok, "all open resources explicitly opened: write to an empty zone -> Too Many Open Zones");
		zns_ns_fini(&ns);
	}
}

/* ---- 4. Select All ------------------------------------------------------ */

/* The mix every Select All case starts from: one zone per state, plus a
 * second closed zone. */
static const enum zns_state select_all_mix[8] = {
	ZNS_ZS_EMPTY, ZNS_ZS_IMP_OPEN, ZNS_ZS_EXP_OPEN, ZNS_ZS_CLOSED,
	ZNS_ZS_FULL, ZNS_ZS_READ_ONLY, ZNS_ZS_OFFLINE, ZNS_ZS_CLOSED,
};

struct select_all_case {
	enum zns_action	act;
	enum zns_state	after[8];
	uint32_t	nr_open, nr_active;
};

/* ZNS 1.1 3.4.3.1.1-5, "If the Select All bit is set to '1'" paragraphs */
static const struct select_all_case select_all_cases[] = {
	{ .act = ZNS_ACT_OPEN,		/* closed only */
	  .after = { ZNS_ZS_EMPTY, ZNS_ZS_IMP_OPEN, ZNS_ZS_EXP_OPEN,
		     ZNS_ZS_EXP_OPEN, ZNS_ZS_FULL, ZNS_ZS_READ_ONLY,
		     ZNS_ZS_OFFLINE, ZNS_ZS_EXP_OPEN },
	  .nr_open = 4, .nr_active = 4 },
	{ .act = ZNS_ACT_CLOSE,		/* imp_open, exp_open */
	  .after = { ZNS_ZS_EMPTY, ZNS_ZS_CLOSED, ZNS_ZS_CLOSED,
		     ZNS_ZS_CLOSED, ZNS_ZS_FULL, ZNS_ZS_READ_ONLY,
		     ZNS_ZS_OFFLINE, ZNS_ZS_CLOSED },
	  .nr_open = 0, .nr_active = 4 },
	{ .act = ZNS_ACT_FINISH,	/* imp_open, exp_open, closed */
	  .after = { ZNS_ZS_EMPTY, ZNS_ZS_FULL, ZNS_ZS_FULL,
		     ZNS_ZS_FULL, ZNS_ZS_FULL, ZNS_ZS_READ_ONLY,
		     ZNS_ZS_OFFLINE, ZNS_ZS_FULL },
	  .nr_open = 0, .nr_active = 0 },
	{ .act = ZNS_ACT_RESET,		/* imp_open, exp_open, closed, full */
	  .after = { ZNS_ZS_EMPTY, ZNS_ZS_EMPTY, ZNS_ZS_EMPTY,
		     ZNS_ZS_EMPTY, ZNS_ZS_EMPTY, ZNS_ZS_READ_ONLY,
		     ZNS_ZS_OFFLINE, ZNS_ZS_EMPTY },
	  .nr_open = 0, .nr_active = 0 },
	{ .act = ZNS_ACT_OFFLINE,	/* read only */
	  .after = { ZNS_ZS_EMPTY, ZNS_ZS_IMP_OPEN, ZNS_ZS_EXP_OPEN,
		     ZNS_ZS_CLOSED, ZNS_ZS_FULL, ZNS_ZS_OFFLINE,
		     ZNS_ZS_OFFLINE, ZNS_ZS_CLOSED },
	  .nr_open = 2, .nr_active = 4 },
};

static bool setup_mix(struct zns_ns *ns, const enum zns_state *mix,
		      uint32_t nr)
{
	bool ok = true;

	for (uint32_t z = 0; z < nr; z++) {
		if (zone_setup(ns, z, mix[z]) || zstate(ns, z) != mix[z]) {
			diag("setup of zone %" PRIu32 " to %s failed", z,
			     state_names[mix[z]]);
			ok = false;
		}
	}
	return ok;
}

static void test_select_all(struct tap *t)
{
	struct zns_ns ns;
	nvme_status st;
	bool ok;

	for (size_t i = 0; i < ARRAY_SIZE(select_all_cases); i++) {
		const struct select_all_case *c = &select_all_cases[i];

		if (ns_make(&ns, 8, 64, 48, 9, 0, 0)) {
			tap_result(t, false, "select all %s: init", action_names[c->act]);
			continue;
		}
		ok = setup_mix(&ns, select_all_mix, 8);
		ok &= counters_are(&ns, 2, 4);
		st = zns_mgmt_send(&ns, 12345 /* ignored */, c->act, true);
		ok &= status_is(st, NVME_SC_SUCCESS);
		for (uint32_t z = 0; z < 8; z++) {
			ok &= state_is(&ns, z, c->after[z]);
			if (c->after[z] == ZNS_ZS_EMPTY)
				ok &= wp_is(&ns, z, zslba_of(&ns, z));
			if (c->after[z] == ZNS_ZS_FULL)
				ok &= wp_is(&ns, z, zslba_of(&ns, z) + 48);
		}
		ok &= counters_are(&ns, c->nr_open, c->nr_active);
		tap_result(t, ok, "select all %s: only the zones in the listed states change, counters %"
			   PRIu32 " open / %" PRIu32 " active",
			   action_names[c->act], c->nr_open, c->nr_active);
		zns_ns_fini(&ns);
	}

	/* Open All that does not fit: aborted, no transition (3.4.3.1.3) */
	if (ns_make(&ns, 8, 64, 64, 9, 2, 4) == 0) {
		ok = zone_setup(&ns, 0, ZNS_ZS_EXP_OPEN) == 0;
		ok &= zone_setup(&ns, 1, ZNS_ZS_CLOSED) == 0;
		ok &= zone_setup(&ns, 2, ZNS_ZS_CLOSED) == 0;
		st = zns_mgmt_send(&ns, 0, ZNS_ACT_OPEN, true);
		ok &= status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_OPEN));
		ok &= state_is(&ns, 0, ZNS_ZS_EXP_OPEN);
		ok &= state_is(&ns, 1, ZNS_ZS_CLOSED) && state_is(&ns, 2, ZNS_ZS_CLOSED);
		ok &= counters_are(&ns, 1, 3);
		tap_result(t, ok, "select all open beyond max_open -> Too Many Open Zones, no zone changed");
		zns_ns_fini(&ns);
	}

	/*
	 * Open All where the closed zones fit once implicitly opened zones
	 * are closed (2.1.1.4.1): the zones closed at the start get opened,
	 * an implicitly closed zone is not part of the command.
	 */
	if (ns_make(&ns, 8, 64, 64, 9, 2, 4) == 0) {
		ok = zone_setup(&ns, 0, ZNS_ZS_CLOSED) == 0;
		ok &= write_at_wp(&ns, 1, 1, 1) == 0;	/* LRU */
		ok &= write_at_wp(&ns, 2, 1, 1) == 0;
		ok &= counters_are(&ns, 2, 3);
		st = zns_mgmt_send(&ns, 0, ZNS_ACT_OPEN, true);
		ok &= status_is(st, NVME_SC_SUCCESS);
		ok &= state_is(&ns, 0, ZNS_ZS_EXP_OPEN);
		tap_result(t, ok, "select all open at max_open with imp_open zones to close -> success, the closed zone exp_open");
		ok = state_is(&ns, 1, ZNS_ZS_CLOSED);
		ok &= state_is(&ns, 2, ZNS_ZS_IMP_OPEN);
		ok &= counters_are(&ns, 2, 3);
		tap_result(t, ok, "select all open: only zones closed at the start are opened (LRU imp_open closed, other left imp_open)");
		zns_ns_fini(&ns);
	}
}

/* ---- 5. Zone Append ----------------------------------------------------- */

#define APP_THREADS	4
#define APP_PER_THREAD	200

struct append_rec {
	uint64_t	alba;
	uint32_t	nlb;
	nvme_status	st;
};

struct append_ctx {
	struct zns_ns		*ns;
	pthread_barrier_t	*start;
	uint32_t		tid;
	struct append_rec	rec[APP_PER_THREAD];
};

static uint32_t append_nlb(uint32_t tid, uint32_t i)
{
	return 1 + (tid * 7 + i * 13 + i / 3) % 4;
}

/* Every 8-byte word of an append names the append and its own offset. */
static void append_pattern(uint64_t *w, size_t words, uint32_t tid, uint32_t i)
{
	for (size_t k = 0; k < words; k++)
		w[k] = (uint64_t)(tid + 1) << 56 | (uint64_t)i << 32 | k;
}

static void *append_thread(void *arg)
{
	struct append_ctx *ctx = arg;
	uint64_t buf[4 * 512 / 8];

	pthread_barrier_wait(ctx->start);
	for (uint32_t i = 0; i < APP_PER_THREAD; i++) {
		struct append_rec *r = &ctx->rec[i];

		r->nlb = append_nlb(ctx->tid, i);
		append_pattern(buf, (size_t)r->nlb * 512 / 8, ctx->tid, i);
		r->alba = UINT64_MAX;
		r->st = zns_append(ctx->ns, 0, r->nlb, buf, &r->alba);
	}
	return NULL;
}

struct span {
	uint64_t	alba;
	uint32_t	nlb, tid, i;
};

static int span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;

	return x->alba < y->alba ? -1 : x->alba > y->alba;
}

static void test_append(struct tap *t)
{
	struct append_ctx ctx[APP_THREADS];
	struct span spans[APP_THREADS * APP_PER_THREAD];
	pthread_t th[APP_THREADS];
	pthread_barrier_t start;
	uint64_t total = 0, alba = 0, expect;
	uint64_t buf[4 * 512 / 8], want[4 * 512 / 8];
	struct zns_ns ns;
	size_t n = 0;
	int bad_st = 0, bad_data = 0, bad_layout = 0;
	bool ok;

	/* Single appends: the LBA used is the write pointer. */
	if (ns_make(&ns, 4, 64, 64, 9, 0, 0) == 0) {
		struct blk b;

		blk_fill(&b, 0x99);
		ok = status_is(zns_append(&ns, zslba_of(&ns, 2), 3, b.b, &alba),
			       NVME_SC_SUCCESS) && alba == zslba_of(&ns, 2);
		ok &= state_is(&ns, 2, ZNS_ZS_IMP_OPEN);
		ok &= status_is(zns_append(&ns, zslba_of(&ns, 2), 2, b.b, &alba),
				NVME_SC_SUCCESS) && alba == zslba_of(&ns, 2) + 3;
		ok &= wp_is(&ns, 2, zslba_of(&ns, 2) + 5);
		ok &= status_is(zns_write(&ns, zslba_of(&ns, 2) + 5, 1, b.b),
				NVME_SC_SUCCESS);
		ok &= status_is(zns_append(&ns, zslba_of(&ns, 2), 1, b.b, &alba),
				NVME_SC_SUCCESS) && alba == zslba_of(&ns, 2) + 6;
		tap_result(t, ok, "append returns the write pointer (zslba, +3, then after a write +6)");
		zns_ns_fini(&ns);
	}

	for (uint32_t tid = 0; tid < APP_THREADS; tid++)
		for (uint32_t i = 0; i < APP_PER_THREAD; i++)
			total += append_nlb(tid, i);
	/* Capacity exactly what the appends need: the zone must end full. */
	if (ns_make(&ns, 2, 4096, total, 9, 0, 0)) {
		tap_result(t, false, "concurrent appends: init");
		return;
	}
	pthread_barrier_init(&start, NULL, APP_THREADS);
	for (uint32_t tid = 0; tid < APP_THREADS; tid++) {
		ctx[tid].ns = &ns;
		ctx[tid].start = &start;
		ctx[tid].tid = tid;
		pthread_create(&th[tid], NULL, append_thread, &ctx[tid]);
	}
	for (uint32_t tid = 0; tid < APP_THREADS; tid++)
		pthread_join(th[tid], NULL);
	pthread_barrier_destroy(&start);

	for (uint32_t tid = 0; tid < APP_THREADS; tid++) {
		for (uint32_t i = 0; i < APP_PER_THREAD; i++) {
			const struct append_rec *r = &ctx[tid].rec[i];

			if (r->st) {
				bad_st++;
				continue;
			}
			spans[n++] = (struct span){ r->alba, r->nlb, tid, i };
		}
	}
	tap_result(t, bad_st == 0, "%d x %d concurrent appends of 1..4 blocks all succeed (%d failed)",
		   APP_THREADS, APP_PER_THREAD, bad_st);

	qsort(spans, n, sizeof(spans[0]), span_cmp);
	expect = 0;
	for (size_t k = 0; k < n; k++) {
		if (spans[k].alba != expect) {
			if (bad_layout++ < 3)
				diag("append at %" PRIu64 ", expected %" PRIu64,
				     spans[k].alba, expect);
		}
		expect = spans[k].alba + spans[k].nlb;
	}
	ok = bad_layout == 0 && expect == total;
	tap_result(t, ok, "appends land at distinct LBAs tiling [zslba, zslba+%" PRIu64
		   ") with no gap or overlap", total);
	ok = state_is(&ns, 0, ZNS_ZS_FULL) && counters_are(&ns, 0, 0) &&
	     status_is(zns_append(&ns, 0, 1, buf, &alba), DNR(NVME_SC_ZONE_FULL));
	tap_result(t, ok, "the zone is full after appends totalling its capacity; one more -> Zone Is Full");

	for (size_t k = 0; k < n; k++) {
		size_t words = (size_t)spans[k].nlb * 512 / 8;

		append_pattern(want, words, spans[k].tid, spans[k].i);
		if (zns_read(&ns, spans[k].alba, spans[k].nlb, buf) ||
		    memcmp(buf, want, words * 8) != 0) {
			if (bad_data++ < 3)
				diag("data of append %" PRIu32 "/%" PRIu32
				     " at %" PRIu64 " differs", spans[k].tid,
				     spans[k].i, spans[k].alba);
		}
	}
	tap_result(t, bad_data == 0 && n > 0,
		   "every append's data reads back whole at its assigned LBA (%d torn)",
		   bad_data);
	zns_ns_fini(&ns);
}

/* ---- 6. Report zones ---------------------------------------------------- */

static const enum zns_state report_mix[8] = {
	ZNS_ZS_EMPTY, ZNS_ZS_IMP_OPEN, ZNS_ZS_EXP_OPEN, ZNS_ZS_CLOSED,
	ZNS_ZS_FULL, ZNS_ZS_READ_ONLY, ZNS_ZS_OFFLINE, ZNS_ZS_EMPTY,
};

/* ZRASF 1h..7h (Figure 34) -> state */
static const enum zns_state zrasf_state[8] = {
	[NVME_ZRASF_EMPTY]	= ZNS_ZS_EMPTY,
	[NVME_ZRASF_IMP_OPEN]	= ZNS_ZS_IMP_OPEN,
	[NVME_ZRASF_EXP_OPEN]	= ZNS_ZS_EXP_OPEN,
	[NVME_ZRASF_CLOSED]	= ZNS_ZS_CLOSED,
	[NVME_ZRASF_FULL]	= ZNS_ZS_FULL,
	[NVME_ZRASF_READ_ONLY]	= ZNS_ZS_READ_ONLY,
	[NVME_ZRASF_OFFLINE]	= ZNS_ZS_OFFLINE,
};

struct report_buf {
	struct nvme_zone_report_hdr	hdr;
	struct nvme_zone_desc		d[16];
};

static uint64_t report_wp(uint64_t zslba, enum zns_state s)
{
	switch (s) {
	case ZNS_ZS_EMPTY:	return zslba;
	case ZNS_ZS_FULL:	return zslba + 48;
	default:		return zslba + 1;
	}
}

/* Bytes [@from, @len) of @r zeroed by the report, [@len, end) untouched
 * (still 0xee); then the tail is cleared for report_matches(). */
static bool report_tail_ok(struct report_buf *r, size_t from, size_t len)
{
	uint8_t *p = (uint8_t *)r;
	bool ok = true;

	for (size_t i = from; i < len; i++)
		ok &= p[i] == 0;
	for (size_t i = len; i < sizeof(*r); i++)
		ok &= p[i] == 0xee;
	if (!ok)
		diag("report buffer tail: not zeroed up to %zu or written past it",
		     len);
	memset(p + from, 0, sizeof(*r) - from);
	return ok;
}

/* Check the report in @r against the zones of @mix from @first on that
 * match @filter; @ndesc descriptors are expected in the buffer. */
static bool report_matches(struct zns_ns *ns, const struct report_buf *r,
			   uint8_t filter, uint32_t first, uint64_t nrz,
			   size_t ndesc)
{
	bool ok = true;
	size_t k = 0;

	if (le64_to_cpu(r->hdr.nr_zones) != nrz) {
		diag("NRZ %" PRIu64 ", expected %" PRIu64,
		     (uint64_t)le64_to_cpu(r->hdr.nr_zones), nrz);
		ok = false;
	}
	for (uint32_t z = first; z < 8 && k < ndesc; z++) {
		const struct nvme_zone_desc *d = &r->d[k];
		enum zns_state s = report_mix[z];
		uint64_t zslba = zslba_of(ns, z);

		if (filter && zrasf_state[filter] != s)
			continue;
		if (d->zt != NVME_ZONE_TYPE_SEQWRITE_REQ ||
		    d->zs != (uint8_t)(wire_state[s] << 4) || d->za != 0 ||
		    le64_to_cpu(d->zcap) != 48 ||
		    le64_to_cpu(d->zslba) != zslba) {
			diag("descriptor %zu: zt %u zs 0x%02x za 0x%02x zcap %"
			     PRIu64 " zslba %" PRIu64 ", expected zone %" PRIu32
			     " (%s, zs 0x%02x)", k, d->zt, d->zs, d->za,
			     (uint64_t)le64_to_cpu(d->zcap),
			     (uint64_t)le64_to_cpu(d->zslba), z, state_names[s],
			     wire_state[s] << 4);
			ok = false;
		}
		/* WP only where valid (Figure 4), and for full zones this
		 * model's zslba + zcap.  Set-up wrote one block to every zone
		 * that is not empty. */
		if ((wp_valid(s) || s == ZNS_ZS_FULL) &&
		    le64_to_cpu(d->wp) != report_wp(zslba, s)) {
			diag("descriptor %zu wp %" PRIu64 ", expected %" PRIu64,
			     k, (uint64_t)le64_to_cpu(d->wp),
			     report_wp(zslba, s));
			ok = false;
		}
		k++;
	}
	if (k != ndesc) {
		diag("%zu descriptors checked, expected %zu", k, ndesc);
		ok = false;
	}
	/* Nothing past the descriptors reported */
	for (size_t j = ndesc; j < ARRAY_SIZE(r->d); j++) {
		const uint8_t *p = (const uint8_t *)&r->d[j];

		for (size_t q = 0; q < sizeof(r->d[j]); q++)
			if (p[q]) {
				diag("bytes after the last descriptor not zero");
				return false;
			}
	}
	return ok;
}

static void test_report(struct tap *t)
{
	struct report_buf r;
	struct zns_ns ns;
	nvme_status st;
	bool ok;

	if (ns_make(&ns, 8, 64, 48, 9, 0, 0)) {
		tap_result(t, false, "report: init");
		return;
	}
	ok = setup_mix(&ns, report_mix, 8);
	tap_result(t, ok, "report: zones set up as empty, imp_open, exp_open, closed, full, read_only, offline, empty");
	/* ZNS 1.1 Figure 37 wire codes of the model's states */
	ok = true;
	for (int s = 0; s < ZNS_ZS_NR; s++)
		ok &= zns_state_to_wire((enum zns_state)s) == wire_state[s];
	tap_result(t, ok, "state wire codes 1h 2h 3h 4h Eh Dh Fh");

	for (uint8_t f = 0; f <= 7; f++) {
		uint64_t match = 0;

		for (uint32_t z = 0; z < 8; z++)
			match += !f || zrasf_state[f] == report_mix[z];
		memset(&r, 0xee, sizeof(r));
		st = zns_report(&ns, 0, f, false, false, &r, sizeof(r));
		ok = status_is(st, NVME_SC_SUCCESS) &&
		     report_matches(&ns, &r, f, 0, match, match);
		tap_result(t, ok, "report filter %u (%s) from slba 0: NRZ %" PRIu64
			   ", descriptors in zslba order", f,
			   f ? state_names[zrasf_state[f]] : "all", match);
	}

	/* 3.4.2.1.1 a): from the zone holding SLBA, mid zone */
	memset(&r, 0xee, sizeof(r));
	st = zns_report(&ns, zslba_of(&ns, 3) + 5, NVME_ZRASF_ALL, false, false, &r, sizeof(r));
	ok = status_is(st, NVME_SC_SUCCESS) && report_matches(&ns, &r, 0, 3, 5, 5);
	tap_result(t, ok, "report all from a mid-zone slba in zone 3: zones 3..7, NRZ 5");
	st = zns_report(&ns, zslba_of(&ns, 3) + 5, NVME_ZRASF_EMPTY, false, false, &r, sizeof(r));
	ok = status_is(st, NVME_SC_SUCCESS) && report_matches(&ns, &r, 1, 3, 1, 1);
	tap_result(t, ok, "report empty from zone 3: only zone 7 (zone 0 is below), NRZ 1");

	/* Small buffer: header + 3 descriptors + 40 bytes */
	memset(&r, 0xee, sizeof(r));
	st = zns_report(&ns, 0, NVME_ZRASF_ALL, false, false, &r, 64 + 3 * 64 + 40);
	ok = status_is(st, NVME_SC_SUCCESS);
	ok &= report_tail_ok(&r, 64 + 3 * 64, 64 + 3 * 64 + 40);
	ok &= report_matches(&ns, &r, 0, 0, 8, 3);
	tap_result(t, ok, "report all, partial 0, room for 3.6: 3 descriptors, NRZ 8 (all matching), rest zeroed, nothing written past the buffer");

	memset(&r, 0xee, sizeof(r));
	st = zns_report(&ns, 0, NVME_ZRASF_ALL, true, false, &r, 64 + 3 * 64 + 40);
	ok = status_is(st, NVME_SC_SUCCESS);
	ok &= report_tail_ok(&r, 64 + 3 * 64, 64 + 3 * 64 + 40);
	ok &= report_matches(&ns, &r, 0, 0, 3, 3);
	tap_result(t, ok, "report all, partial 1, room for 3.6: NRZ 3 (descriptors returned)");

	memset(&r, 0xee, sizeof(r));
	st = zns_report(&ns, 0, NVME_ZRASF_ALL, true, false, &r, sizeof(r));
	ok = status_is(st, NVME_SC_SUCCESS) && report_matches(&ns, &r, 0, 0, 8, 8);
	tap_result(t, ok, "report all, partial 1, room for all: NRZ 8");

	memset(&r, 0xee, sizeof(r));
	st = zns_report(&ns, zslba_of(&ns, 1), NVME_ZRASF_EMPTY, true, false, &r,
			64 + 64);
	ok = status_is(st, NVME_SC_SUCCESS);
	ok &= report_tail_ok(&r, 128, 128);
	ok &= report_matches(&ns, &r, 1, 1, 1, 1);
	tap_result(t, ok, "report empty from zone 1, partial 1, room for 1: zone 7, NRZ 1");

	st = zns_report(&ns, 0, NVME_ZRASF_ALL, true, false, &r, 64);
	ok = status_is(st, NVME_SC_SUCCESS) && le64_to_cpu(r.hdr.nr_zones) == 0;
	st = zns_report(&ns, 0, NVME_ZRASF_ALL, false, false, &r, 64);
	ok &= status_is(st, NVME_SC_SUCCESS) && le64_to_cpu(r.hdr.nr_zones) == 8;
	tap_result(t, ok, "report into a header-only buffer: NRZ 0 with partial, 8 without");
	zns_ns_fini(&ns);
}

/* ---- 7. Data ------------------------------------------------------------ */

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

static void test_data(struct tap *t)
{
	uint8_t wbuf[8 * 512], rbuf[8 * 512];
	struct zns_ns ns;
	bool ok;

	if (ns_make(&ns, 4, 64, 48, 9, 0, 0)) {
		tap_result(t, false, "data: init");
		return;
	}
	for (size_t i = 0; i < sizeof(wbuf); i++)
		wbuf[i] = (uint8_t)(i * 31 + 7);
	ok = status_is(zns_write(&ns, 64, 8, wbuf), NVME_SC_SUCCESS);
	memset(rbuf, 0, sizeof(rbuf));
	ok &= status_is(zns_read(&ns, 64, 8, rbuf), NVME_SC_SUCCESS);
	ok &= memcmp(wbuf, rbuf, sizeof(rbuf)) == 0;
	memset(rbuf, 0, sizeof(rbuf));
	ok &= status_is(zns_read(&ns, 67, 2, rbuf), NVME_SC_SUCCESS);
	ok &= memcmp(wbuf + 3 * 512, rbuf, 2 * 512) == 0;
	tap_result(t, ok, "write 8 blocks, read back whole and a middle part");

	memset(rbuf, 0xff, sizeof(rbuf));
	ok = status_is(zns_read(&ns, 72, 8, rbuf), NVME_SC_SUCCESS) &&
	     all_bytes(rbuf, sizeof(rbuf), 0);
	tap_result(t, ok, "blocks above the write pointer read as zeroes");

	ok = status_is(mgmt(&ns, 1, ZNS_ACT_RESET), NVME_SC_SUCCESS);
	memset(rbuf, 0xff, sizeof(rbuf));
	ok &= status_is(zns_read(&ns, 64, 8, rbuf), NVME_SC_SUCCESS);
	ok &= all_bytes(rbuf, sizeof(rbuf), 0);
	ok &= wp_is(&ns, 1, 64) && state_is(&ns, 1, ZNS_ZS_EMPTY);
	tap_result(t, ok, "reset zone, then its blocks read as zeroes and wp == zslba");

	ok = status_is(zns_write(&ns, 64, 3, wbuf), NVME_SC_SUCCESS);
	ok &= status_is(mgmt(&ns, 1, ZNS_ACT_FINISH), NVME_SC_SUCCESS);
	ok &= state_is(&ns, 1, ZNS_ZS_FULL) && wp_is(&ns, 1, 64 + 48);
	memset(rbuf, 0, sizeof(rbuf));
	ok &= status_is(zns_read(&ns, 64, 3, rbuf), NVME_SC_SUCCESS);
	ok &= memcmp(wbuf, rbuf, 3 * 512) == 0;
	tap_result(t, ok, "finish a written zone: full, wp == zslba + zcap, data still readable");

	/* Write Zeroes: data NULL.  Sub-page ranges (512-byte blocks) so
	 * the neighbours of the zeroed range must survive. */
	memset(wbuf, 0xab, sizeof(wbuf));
	ok = status_is(zns_write(&ns, 128, 3, wbuf), NVME_SC_SUCCESS);
	ok &= status_is(zns_write(&ns, 131, 2, NULL), NVME_SC_SUCCESS);
	ok &= wp_is(&ns, 2, 133) && state_is(&ns, 2, ZNS_ZS_IMP_OPEN);
	ok &= status_is(zns_write(&ns, 133, 3, wbuf), NVME_SC_SUCCESS);
	memset(rbuf, 0x55, sizeof(rbuf));
	ok &= status_is(zns_read(&ns, 128, 8, rbuf), NVME_SC_SUCCESS);
	ok &= all_bytes(rbuf, 3 * 512, 0xab);
	ok &= all_bytes(rbuf + 3 * 512, 2 * 512, 0);
	ok &= all_bytes(rbuf + 5 * 512, 3 * 512, 0xab);
	tap_result(t, ok, "write zeroes (data NULL) reads zeroes, advances wp, leaves neighbours intact");

	ok = status_is(zns_write(&ns, 136, 40, NULL), NVME_SC_SUCCESS);
	ok &= state_is(&ns, 2, ZNS_ZS_FULL) && counters_are(&ns, 0, 0);
	tap_result(t, ok, "write zeroes up to the zone capacity -> full");
	zns_ns_fini(&ns);
}

/* ---- 8. Lazy memory ----------------------------------------------------- */

/* The "FIELD: N kB" line of a /proc/self file, in bytes, or -1. */
static long long proc_bytes(const char *file, const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long long kb = -1;
	FILE *f = fopen(file, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, n) && line[n] == ':' &&
		    sscanf(line + n + 1, "%lld kB", &kb) == 1)
			break;
	fclose(f);
	return kb < 0 ? -1 : kb * 1024;
}

static long long rss_anon(void)
{
	return proc_bytes("/proc/self/status", "RssAnon");
}

static long long lazy_free(void)
{
	return proc_bytes("/proc/self/smaps_rollup", "LazyFree");
}

/* Memory of zones 10..13 (64 MiB written) after a reset, in each mode. */
static void test_memory_mode(struct tap *t, bool frees)
{
	const uint64_t mib = 1u << 20, written = 64 * mib;
	const uint32_t chunk_lbas = 256;		/* 1 MiB of 4 KiB blocks */
	const char *mode = frees ? "free" : "lazy";
	long long pre, base, grown, freed, lazy0;
	struct zns_ns ns;
	uint8_t *buf, *back;
	bool ok = true;

	buf = malloc(mib);
	back = malloc(mib);
	if (buf)
		memset(buf, 0x3c, mib);
	pre = rss_anon();
	if (!buf || !back || ns_make(&ns, 64, 4096, 4096, 12, 0, 0)) {
		tap_result(t, false, "memory (%s): init (64 zones x 16 MiB, 4 KiB blocks)", mode);
		free(buf);
		free(back);
		return;
	}
	ns.p.reset_frees = frees;
	base = rss_anon();
	if (base < 0 || pre < 0 || (!frees && lazy_free() < 0)) {
		tap_result(t, true, "memory (%s) # SKIP no RssAnon or LazyFree in /proc", mode);
		zns_ns_fini(&ns);
		free(buf);
		free(back);
		return;
	}
	tap_result(t, base - pre < (long long)mib,
		   "memory (%s): a 1 GiB namespace costs no resident memory up front (+%lld KiB)",
		   mode, (base - pre) / 1024);

	/* Zones 10..13 filled: 64 MiB */
	for (uint64_t off = 0; off < written / mib; off++) {
		uint64_t lba = 10 * 4096 + off * chunk_lbas;

		ok &= zns_write(&ns, lba, chunk_lbas, buf) == NVME_SC_SUCCESS;
	}
	grown = rss_anon() - base;
	ok &= grown >= (long long)(written * 8 / 10) &&
	      grown <= (long long)(written * 12 / 10 + 8 * mib);
	tap_result(t, ok, "memory (%s): writing 64 MiB grows RssAnon by about that (%lld KiB)",
		   mode, grown / 1024);

	ok = true;
	lazy0 = lazy_free();
	for (uint32_t z = 10; z < 14; z++)
		ok &= mgmt(&ns, z, ZNS_ACT_RESET) == NVME_SC_SUCCESS;
	if (frees) {
		freed = base + grown - rss_anon();
		ok &= freed >= (long long)(written * 8 / 10);
		tap_result(t, ok, "memory (free): resetting the zones frees >= 80%% at once (%lld KiB of %llu)",
			   freed / 1024, (unsigned long long)(written / 1024));
	} else {
		freed = lazy_free() - lazy0;
		ok &= freed >= (long long)(written * 8 / 10);
		tap_result(t, ok, "memory (lazy): resetting the zones leaves >= 80%% to the kernel (LazyFree +%lld KiB of %llu)",
			   freed / 1024, (unsigned long long)(written / 1024));
	}

	/* Whatever the store still holds, a reset zone reads as zeroes,
	 * and a rewrite reads back as written up to its end only. */
	ok = zns_read(&ns, 11 * 4096, chunk_lbas, back) == NVME_SC_SUCCESS;
	for (uint64_t i = 0; ok && i < mib; i++)
		ok = back[i] == 0;
	tap_result(t, ok, "memory (%s): a reset zone reads as zeroes", mode);
	memset(buf, 0x5a, mib);
	ok = zns_write(&ns, 11 * 4096, 3, buf) == NVME_SC_SUCCESS;
	ok &= zns_read(&ns, 11 * 4096, chunk_lbas, back) == NVME_SC_SUCCESS;
	for (uint64_t i = 0; ok && i < mib; i++)
		ok = back[i] == (i < 3 * 4096 ? 0x5a : 0);
	ok &= zns_compare(&ns, 11 * 4096 + 3, 5, NULL) == NVME_SC_SUCCESS;
	tap_result(t, ok, "memory (%s): 3 blocks rewritten read back, the rest of the old data as zeroes", mode);
	zns_ns_fini(&ns);
	free(buf);
	free(back);
}

/* zns_prefault_hint: the window ahead of the write pointer, by hand. */
static void test_prefault_hint(struct tap *t)
{
	struct zns_ns ns;
	uint64_t off = 0, len = 0;
	uint8_t blk[4096] = { 0 };
	bool ok;

	/* 16 MiB zones of 4 KiB blocks, capacity 12 MiB, window 1 MiB */
	if (ns_make(&ns, 4, 4096, 3072, 12, 0, 0)) {
		tap_result(t, false, "prefault: init");
		return;
	}
	ok = !zns_prefault_hint(&ns, 4096, &off, &len);
	tap_result(t, ok, "prefault: off (window 0) gives no hint");
	ns.p.prefault = 256;
	ok = !zns_prefault_hint(&ns, 4096, &off, &len);
	tap_result(t, ok, "prefault: an empty zone gives no hint before its first write");
	ok = zns_write(&ns, 4096, 1, blk) == NVME_SC_SUCCESS;
	ok &= zns_prefault_hint(&ns, 4096, &off, &len);
	ok &= off == 4097ull * 4096 && len == 512ull * 4096;
	tap_result(t, ok, "prefault: first write asks for [WP, WP + 2 windows) (off %llu len %llu)",
		   (unsigned long long)off, (unsigned long long)len);
	ok = !zns_prefault_hint(&ns, 4096, &off, &len);
	tap_result(t, ok, "prefault: asked once, not again while a window is ahead");
	/* advance the WP to 4096 + 300: 212 blocks left ahead < 256 */
	for (int i = 1; i < 300; i++)
		ok &= zns_write(&ns, 4096 + (uint64_t)i, 1, blk) == NVME_SC_SUCCESS;
	ok &= zns_prefault_hint(&ns, 4096, &off, &len);
	ok &= off == (4096ull + 513) * 4096 && len == (300ull + 512 - 513) * 4096;
	tap_result(t, ok, "prefault: short of a window again, asks from where it stopped to WP + 2 windows");
	/* near the capacity the range stops at the capacity */
	ok = zns_mgmt_send(&ns, 4096, ZNS_ACT_FINISH, false) == NVME_SC_SUCCESS;
	ok &= !zns_prefault_hint(&ns, 4096, &off, &len);
	tap_result(t, ok, "prefault: a full zone gives no hint");
	ok = zns_mgmt_send(&ns, 4096, ZNS_ACT_RESET, false) == NVME_SC_SUCCESS;
	for (uint64_t i = 0; i < 3000; i++)
		ok &= zns_write(&ns, 4096 + i, 1, blk) == NVME_SC_SUCCESS;
	ok &= zns_prefault_hint(&ns, 4096, &off, &len);
	ok &= off == (4096ull + 3000) * 4096 && len == 72ull * 4096;
	tap_result(t, ok, "prefault: after a reset it starts over, and stops at the zone capacity (len %llu)",
		   (unsigned long long)len);
	zns_ns_fini(&ns);
}

/* zns_read_ref: the store's bytes only where a copy would read the same */
static void test_read_ref(struct tap *t)
{
	struct zns_ns ns;
	const void *ref = NULL;
	uint8_t blk[3 * 4096];
	bool ok;

	memset(blk, 0x77, sizeof(blk));
	if (ns_make(&ns, 4, 4096, 4096, 12, 0, 0)) {
		tap_result(t, false, "read_ref: init");
		return;
	}
	ok = zns_write(&ns, 4096, 3, blk) == NVME_SC_SUCCESS;
	ok &= zns_read_ref(&ns, 4096, 3, &ref) == NVME_SC_SUCCESS && ref &&
	      !memcmp(ref, blk, sizeof(blk));
	tap_result(t, ok, "read_ref: written blocks come straight from the store");
	ok = zns_read_ref(&ns, 4097, 3, &ref) == NVME_SC_SUCCESS && !ref;
	tap_result(t, ok, "read_ref: a range reaching past the written data needs a copy");
	ok = zns_read_ref(&ns, 4095, 2, &ref) == (NVME_SC_ZONE_BOUNDARY | NVME_STATUS_DNR) &&
	     !ref;
	tap_result(t, ok, "read_ref: across a zone boundary: the status a copy would get");
	ok = zns_read_ref(&ns, 4 * 4096, 1, &ref) == (NVME_SC_LBA_RANGE | NVME_STATUS_DNR) &&
	     !ref;
	tap_result(t, ok, "read_ref: past the namespace: LBA Out of Range");
	ok = mgmt(&ns, 1, ZNS_ACT_RESET) == NVME_SC_SUCCESS;
	ok &= zns_read_ref(&ns, 4096, 1, &ref) == NVME_SC_SUCCESS && !ref;
	tap_result(t, ok, "read_ref: after a reset the zone needs a copy (zeroes)");
	ok = zns_zone_force_state(&ns, 2, ZNS_ZS_OFFLINE) == NVME_SC_SUCCESS;
	ok &= zns_read_ref(&ns, 2 * 4096, 1, &ref) == (NVME_SC_ZONE_OFFLINE | NVME_STATUS_DNR) &&
	      !ref;
	tap_result(t, ok, "read_ref: an offline zone: Zone Is Offline");
	zns_ns_fini(&ns);
}

static void test_memory(struct tap *t)
{
	test_memory_mode(t, true);
	test_memory_mode(t, false);
	test_prefault_hint(t);
	test_read_ref(t);
}

/* ---- 9. Geometry -------------------------------------------------------- */

struct geometry_case {
	const char		*name;
	struct zns_params	p;
	int			ret;
};

static const struct geometry_case geometries[] = {
	{ "valid: 8 zones x 64, cap 48, 512 B, 2/4 resources",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 48, .lba_shift = 9,
	    .max_open = 2, .max_active = 4 }, 0 },
	{ "valid: 4 KiB blocks, no resource limits",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 64, .lba_shift = 12 }, 0 },
	{ "valid: max_open == max_active",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 64, .lba_shift = 12,
	    .max_open = 3, .max_active = 3 }, 0 },
	{ "valid: max_open limited, max_active unlimited",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 64, .lba_shift = 12,
	    .max_open = 3 }, 0 },
	{ "zone capacity above zone size",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 65, .lba_shift = 9 },
	  -EINVAL },
	{ "zone capacity 0",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 0, .lba_shift = 9 },
	  -EINVAL },
	{ "zone size not a power of two",
	  { .nr_zones = 8, .zone_size = 96, .zone_cap = 64, .lba_shift = 9 },
	  -EINVAL },
	{ "zone size 0",
	  { .nr_zones = 8, .zone_size = 0, .zone_cap = 0, .lba_shift = 9 },
	  -EINVAL },
	{ "no zones",
	  { .nr_zones = 0, .zone_size = 64, .zone_cap = 64, .lba_shift = 9 },
	  -EINVAL },
	{ "max_open above max_active (ZNS 1.1 2.1.1.4: MOR <= MAR)",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 64, .lba_shift = 9,
	    .max_open = 5, .max_active = 4 }, -EINVAL },
	{ "max_open unlimited with max_active limited",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 64, .lba_shift = 9,
	    .max_open = 0, .max_active = 4 }, -EINVAL },
	{ "lba_shift 10",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 64, .lba_shift = 10 },
	  -EINVAL },
	{ "lba_shift 0",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 64, .lba_shift = 0 },
	  -EINVAL },
	{ "lba_shift 13",
	  { .nr_zones = 8, .zone_size = 64, .zone_cap = 64, .lba_shift = 13 },
	  -EINVAL },
};

static void test_geometry(struct tap *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(geometries); i++) {
		const struct geometry_case *g = &geometries[i];
		struct zns_ns ns;
		int ret = zns_ns_init(&ns, &g->p);
		bool ok = ret == g->ret;

		if (ret == 0) {
			ok &= zns_nsze(&ns) == g->p.nr_zones * g->p.zone_size;
			ok &= counters_are(&ns, 0, 0);
			for (uint32_t z = 0; z < g->p.nr_zones; z++) {
				struct zns_zone zz = zone_snap(&ns, z);

				ok &= zz.state == ZNS_ZS_EMPTY &&
				      zz.zslba == z * g->p.zone_size &&
				      zz.wp == zz.zslba;
			}
		}
		zns_ns_fini(&ns);
		tap_result(t, ok, "init %s -> %s (got %d)", g->name,
			   g->ret ? "-EINVAL" : "0, all zones empty", ret);
	}
}

/* ---- 10. Optional features: ZDES, ZRWA, RAZB, timers, changed zones ---- */

static int ns_make_p(struct zns_ns *ns, struct zns_params p)
{
	if (!p.zone_size)
		p.zone_size = 64;
	if (!p.zone_cap)
		p.zone_cap = 48;
	p.lba_shift = 12;
	return zns_ns_init(ns, &p);
}

static bool attrs_are(struct zns_ns *ns, uint32_t idx, uint8_t want)
{
	uint8_t got = zone_snap(ns, idx).attrs;

	if (got == want)
		return true;
	diag("zone %" PRIu32 " attrs 0x%02x, expected 0x%02x", idx, got, want);
	return false;
}

/* ZNS 1.1 3.4.3.1.6: Set Zone Descriptor Extension, per starting state. */
static const struct {
	enum zns_state	from;
	nvme_status	st;
	enum zns_state	to;
} desc_ext_cases[] = {
	{ ZNS_ZS_EMPTY,     NVME_SC_SUCCESS,				ZNS_ZS_CLOSED },
	{ ZNS_ZS_IMP_OPEN,  DNR(NVME_SC_ZONE_INVALID_TRANSITION),	ZNS_ZS_IMP_OPEN },
	{ ZNS_ZS_EXP_OPEN,  DNR(NVME_SC_ZONE_INVALID_TRANSITION),	ZNS_ZS_EXP_OPEN },
	{ ZNS_ZS_CLOSED,    DNR(NVME_SC_ZONE_INVALID_TRANSITION),	ZNS_ZS_CLOSED },
	{ ZNS_ZS_FULL,      DNR(NVME_SC_ZONE_INVALID_TRANSITION),	ZNS_ZS_FULL },
	{ ZNS_ZS_READ_ONLY, DNR(NVME_SC_ZONE_INVALID_TRANSITION),	ZNS_ZS_READ_ONLY },
	{ ZNS_ZS_OFFLINE,   DNR(NVME_SC_ZONE_INVALID_TRANSITION),	ZNS_ZS_OFFLINE },
};

static void test_desc_ext(struct tap *t)
{
	enum { ZDES = 2, ENTRY = 64 + ZDES * 64 };
	struct zns_ns ns;
	uint8_t ext[ZDES * 64], buf[64 + 8 * ENTRY];
	nvme_status st;
	bool ok;

	for (size_t i = 0; i < sizeof(ext); i++)
		ext[i] = (uint8_t)(i * 7 + 1);
	for (size_t i = 0; i < ARRAY_SIZE(desc_ext_cases); i++) {
		if (ns_make_p(&ns, (struct zns_params){ .nr_zones = 4, .zdes = ZDES })) {
			tap_result(t, false, "desc ext: init");
			return;
		}
		zone_setup(&ns, 1, desc_ext_cases[i].from);
		st = zns_set_desc_ext(&ns, zslba_of(&ns, 1), ext, false);
		ok = status_is(st, desc_ext_cases[i].st) &&
		     state_is(&ns, 1, desc_ext_cases[i].to);
		if (!st)
			ok &= attrs_are(&ns, 1, NVME_ZA_ZDEV) && counters_are(&ns, 0, 1);
		tap_result(t, ok, "set descriptor extension, zone %s",
			   state_names[desc_ext_cases[i].from]);
		zns_ns_fini(&ns);
	}

	ns_make_p(&ns, (struct zns_params){ .nr_zones = 4, .zdes = ZDES,
					     .max_open = 1, .max_active = 1 });
	zns_set_desc_ext(&ns, 0, ext, false);
	st = zns_report(&ns, 0, NVME_ZRASF_ALL, false, true, buf, sizeof(buf));
	ok = status_is(st, NVME_SC_SUCCESS) && le64_to_cpu(*(le64 *)buf) == 4 &&
	     buf[64 + 2] == NVME_ZA_ZDEV && !memcmp(buf + 128, ext, sizeof(ext)) &&
	     le64_to_cpu(((struct nvme_zone_desc *)(buf + 64 + ENTRY))->zslba) ==
		zslba_of(&ns, 1);
	tap_result(t, ok, "extended report: ZDEV, the extension after its descriptor, %d-byte entries",
		   ENTRY);
	st = zns_set_desc_ext(&ns, zslba_of(&ns, 2), ext, false);
	tap_result(t, status_is(st, DNR(NVME_SC_ZONE_TOO_MANY_ACTIVE)),
		   "extension needs an active resource");
	st = mgmt(&ns, 0, ZNS_ACT_RESET);
	zns_report(&ns, 0, NVME_ZRASF_ALL, false, true, buf, sizeof(buf));
	ok = status_is(st, NVME_SC_SUCCESS) && attrs_are(&ns, 0, 0) &&
	     state_is(&ns, 0, ZNS_ZS_EMPTY) && buf[128] == 0 && buf[128 + 127] == 0;
	tap_result(t, ok, "reset clears ZDEV and the extension data");
	st = zns_set_desc_ext(&ns, zslba_of(&ns, 1) + 1, ext, false);
	tap_result(t, status_is(st, DNR(NVME_SC_INVALID_FIELD)),
		   "extension SLBA not a zone start");
	zns_ns_fini(&ns);

	ns_make_p(&ns, (struct zns_params){ .nr_zones = 4 });
	ok = status_is(zns_set_desc_ext(&ns, 0, ext, false), DNR(NVME_SC_INVALID_FIELD)) &&
	     status_is(zns_report(&ns, 0, 0, false, true, buf, sizeof(buf)),
		       DNR(NVME_SC_INVALID_FIELD));
	tap_result(t, ok, "no ZDES: set extension and extended report are invalid fields");
	zns_ns_fini(&ns);
}

/*
 * ZRWA window walk (ZNS 1.1 2.1.3): ZRWAS 16, ZRWAFG 4, capacity 48.
 * Offsets are relative to the zone start; wp is the expected WP after.
 */
enum zrwa_op { ZW_WRITE, ZW_FLUSH, ZW_APPEND };
static const struct {
	enum zrwa_op	op;
	uint32_t	off;		/* write: first LBA; flush: last LBA */
	uint32_t	nlb;
	nvme_status	st;
	uint32_t	wp;
	const char	*what;
} zrwa_steps[] = {
	{ ZW_WRITE,  0,  4, 0, 0,   "write at the WP stays in the window" },
	{ ZW_WRITE,  8,  8, 0, 0,   "write up to the window's end" },
	{ ZW_WRITE, 12,  8, 0, 4,   "write 4 past the window: implicit flush of one granule" },
	{ ZW_WRITE,  2,  1, DNR(NVME_SC_ZONE_INVALID_WRITE), 4, "write below the WP" },
	{ ZW_WRITE, 35,  2, DNR(NVME_SC_ZONE_INVALID_WRITE), 4, "write past the flush region" },
	{ ZW_WRITE, 24, 11, 0, 20,  "implicit flush rounds up to granules" },
	{ ZW_FLUSH, 25,  0, DNR(NVME_SC_INVALID_FIELD), 20, "flush of 6 blocks: not a granule" },
	{ ZW_FLUSH, 27,  0, 0, 28,  "explicit flush of 8 blocks" },
	{ ZW_FLUSH, 44,  0, DNR(NVME_SC_ZONE_BOUNDARY), 28, "flush past the window" },
	{ ZW_FLUSH, 19,  0, DNR(NVME_SC_ZONE_BOUNDARY), 28, "flush below the WP" },
	{ ZW_APPEND, 0,  1, DNR(NVME_SC_ZONE_INVALID_OP), 28, "Zone Append to a ZRWA zone" },
	{ ZW_WRITE, 44,  4, 0, 32,  "write to the capacity's end" },
	{ ZW_FLUSH, 47,  0, 0, 48,  "flush to the capacity's end: Full" },
};

static void test_zrwa(struct tap *t)
{
	struct zns_params p = { .nr_zones = 8, .numzrwa = 2, .zrwas = 16,
				.zrwafg = 4, .max_open = 4, .max_active = 4 };
	struct zns_ns ns;
	struct blk b[16];
	uint64_t alba;
	nvme_status st;
	bool ok;

	if (ns_make_p(&ns, p)) {
		tap_result(t, false, "zrwa: init");
		return;
	}
	for (int i = 0; i < 16; i++)
		blk_fill(&b[i], (uint8_t)(0x40 + i));
	st = zns_open_zrwa(&ns, zslba_of(&ns, 1));
	ok = status_is(st, NVME_SC_SUCCESS) && state_is(&ns, 1, ZNS_ZS_EXP_OPEN) &&
	     attrs_are(&ns, 1, NVME_ZA_ZRWAV);
	tap_result(t, ok, "open with ZRWA allocation: explicitly opened, ZRWAV");
	for (size_t i = 0; i < ARRAY_SIZE(zrwa_steps); i++) {
		uint64_t lba = zslba_of(&ns, 1) + zrwa_steps[i].off;

		switch (zrwa_steps[i].op) {
		case ZW_WRITE:
			st = zns_write(&ns, lba, zrwa_steps[i].nlb, b);
			break;
		case ZW_FLUSH:
			st = zns_zrwa_flush(&ns, lba);
			break;
		case ZW_APPEND:
			st = zns_append(&ns, zslba_of(&ns, 1), 1, b, &alba);
			break;
		}
		ok = status_is(st, zrwa_steps[i].st) &&
		     wp_is(&ns, 1, zrwa_steps[i].wp >= 48 ? zslba_of(&ns, 1) + 48 :
			   zslba_of(&ns, 1) + zrwa_steps[i].wp);
		tap_result(t, ok, "ZRWA: %s", zrwa_steps[i].what);
	}
	ok = state_is(&ns, 1, ZNS_ZS_FULL) && attrs_are(&ns, 1, 0) &&
	     counters_are(&ns, 0, 0) && ns.zrwa_free == 2;
	tap_result(t, ok, "a full zone gives its ZRWA back");

	ok = status_is(zns_open_zrwa(&ns, zslba_of(&ns, 2)), NVME_SC_SUCCESS) &&
	     status_is(zns_open_zrwa(&ns, zslba_of(&ns, 3)), NVME_SC_SUCCESS) &&
	     status_is(zns_open_zrwa(&ns, zslba_of(&ns, 4)),
		       DNR(NVME_SC_ZONE_ZRWA_UNAVAIL)) &&
	     state_is(&ns, 4, ZNS_ZS_EMPTY);
	tap_result(t, ok, "ZRWA Resources Unavailable once NUMZRWA are in use");
	ok = status_is(mgmt(&ns, 2, ZNS_ACT_CLOSE), NVME_SC_SUCCESS) &&
	     attrs_are(&ns, 2, NVME_ZA_ZRWAV) &&
	     status_is(zns_write(&ns, zslba_of(&ns, 2) + 5, 1, b), NVME_SC_SUCCESS) &&
	     state_is(&ns, 2, ZNS_ZS_IMP_OPEN);
	tap_result(t, ok, "a closed zone keeps its ZRWA; a write in it reopens it");
	ok = status_is(mgmt(&ns, 2, ZNS_ACT_RESET), NVME_SC_SUCCESS) &&
	     attrs_are(&ns, 2, 0) &&
	     status_is(zns_open_zrwa(&ns, zslba_of(&ns, 4)), NVME_SC_SUCCESS);
	tap_result(t, ok, "reset frees the ZRWA for another zone");
	ok = status_is(zns_write(&ns, zslba_of(&ns, 5), 1, b), NVME_SC_SUCCESS) &&
	     status_is(mgmt(&ns, 3, ZNS_ACT_FINISH), NVME_SC_SUCCESS) &&
	     status_is(zns_open_zrwa(&ns, zslba_of(&ns, 5)),
		       DNR(NVME_SC_ZONE_ZRWA_UNAVAIL));
	tap_result(t, ok, "a ZRWA must start on a flush granule");
	ok = status_is(zns_open_zrwa(&ns, zslba_of(&ns, 3)),
		       DNR(NVME_SC_ZONE_INVALID_TRANSITION)) &&
	     status_is(zns_zrwa_flush(&ns, zslba_of(&ns, 6)), DNR(NVME_SC_INVALID_FIELD));
	tap_result(t, ok, "no ZRWA for a full zone; flush of a zone without one");
	zns_ns_fini(&ns);

	{
		uint8_t ext[64] = { 1 };

		p.zdes = 1;
		ns_make_p(&ns, p);
		ok = status_is(zns_set_desc_ext(&ns, 0, ext, true), NVME_SC_SUCCESS) &&
		     state_is(&ns, 0, ZNS_ZS_CLOSED) &&
		     attrs_are(&ns, 0, NVME_ZA_ZDEV | NVME_ZA_ZRWAV) &&
		     status_is(zns_write(&ns, 8, 1, b), NVME_SC_SUCCESS) &&
		     wp_is(&ns, 0, 0) &&
		     status_is(zns_set_desc_ext(&ns, zslba_of(&ns, 1), ext, true),
			       NVME_SC_SUCCESS) &&
		     status_is(zns_set_desc_ext(&ns, zslba_of(&ns, 2), ext, true),
			       DNR(NVME_SC_ZONE_ZRWA_UNAVAIL)) &&
		     state_is(&ns, 2, ZNS_ZS_EMPTY);
		tap_result(t, ok, "Set Zone Descriptor Extension with ZRWAA allocates a ZRWA");
		zns_ns_fini(&ns);
	}

	ns_make_p(&ns, (struct zns_params){ .nr_zones = 2 });
	ok = status_is(zns_open_zrwa(&ns, 0), DNR(NVME_SC_INVALID_FIELD)) &&
	     status_is(zns_zrwa_flush(&ns, 0), DNR(NVME_SC_INVALID_FIELD));
	tap_result(t, ok, "no ZRWA support: open with ZRWA and flush are invalid fields");
	zns_ns_fini(&ns);
}

/* Reads across zone boundaries (RAZB), Compare and Verify. */
static void test_razb_compare(struct tap *t)
{
	struct zns_ns ns;
	struct blk b[4], r[4];
	bool ok;

	for (int razb = 0; razb < 2; razb++) {
		ns_make_p(&ns, (struct zns_params){ .nr_zones = 4, .razb = razb });
		ok = status_is(zns_read(&ns, 62, 4, r), razb ? NVME_SC_SUCCESS :
			       DNR(NVME_SC_ZONE_BOUNDARY));
		zns_zone_force_state(&ns, 2, ZNS_ZS_OFFLINE);
		ok &= status_is(zns_read(&ns, 126, 4, r), razb ?
				DNR(NVME_SC_ZONE_OFFLINE) : DNR(NVME_SC_ZONE_BOUNDARY));
		tap_result(t, ok, "read across a zone boundary, RAZB %d", razb);
		zns_ns_fini(&ns);
	}
	ns_make_p(&ns, (struct zns_params){ .nr_zones = 4 });
	for (int i = 0; i < 4; i++)
		blk_fill(&b[i], (uint8_t)(0x10 + i));
	zns_write(&ns, 0, 4, b);
	ok = status_is(zns_compare(&ns, 0, 4, b), NVME_SC_SUCCESS);
	b[3].b[4095] ^= 1;
	ok &= status_is(zns_compare(&ns, 0, 4, b), DNR(NVME_SC_COMPARE_FAILED)) &&
	      status_is(zns_compare(&ns, 0, 4, NULL), NVME_SC_SUCCESS) &&
	      status_is(zns_compare(&ns, 4 * 64, 1, NULL), DNR(NVME_SC_LBA_RANGE));
	tap_result(t, ok, "compare equal / different, verify, verify out of range");
	zns_ns_fini(&ns);
}

/*
 * RRL / FRL / ZFC with a fake clock (ZNS 1.1 5.2.2): RRL 10, FRL 20, ZFC 5
 * time units.  Zone 0 is written (active), zone 1 finished (Full), zone 2
 * left empty.  Each step ticks to @now; then the zones' attributes.
 */
static const struct {
	uint64_t	now;
	uint32_t	added;
	uint8_t		za0, za1;
	enum zns_state	zs0;
	const char	*what;
} timer_steps[] = {
	{ 1009, 0, 0,			0,		ZNS_ZS_IMP_OPEN, "before RRL" },
	{ 1010, 1, 0,			NVME_ZA_RZR,	ZNS_ZS_IMP_OPEN, "RRL passed: RZR on the full zone" },
	{ 1019, 0, 0,			NVME_ZA_RZR,	ZNS_ZS_IMP_OPEN, "before FRL" },
	{ 1020, 1, NVME_ZA_FZR,		NVME_ZA_RZR,	ZNS_ZS_IMP_OPEN, "FRL passed: FZR on the active zone" },
	{ 1024, 0, NVME_ZA_FZR,		NVME_ZA_RZR,	ZNS_ZS_IMP_OPEN, "before the controller finish" },
	{ 1025, 0, NVME_ZA_ZFC,		NVME_ZA_RZR,	ZNS_ZS_FULL,	 "finished by the controller: Full, ZFC" },
};

static void test_timers(struct tap *t)
{
	struct zns_params p = { .nr_zones = 4, .rrl_ns = 10, .frl_ns = 20, .zfc_ns = 5 };
	struct nvme_zns_changed_zone_log log;
	struct zns_ns ns;
	bool ok;

	if (ns_make_p(&ns, p)) {
		tap_result(t, false, "timers: init");
		return;
	}
	tap_result(t, zns_tick(&ns, 1000) == 0, "first tick starts the clocks");
	write_at_wp(&ns, 0, 1, 1);
	mgmt(&ns, 1, ZNS_ACT_FINISH);
	for (size_t i = 0; i < ARRAY_SIZE(timer_steps); i++) {
		uint32_t added = zns_tick(&ns, timer_steps[i].now);

		ok = added == timer_steps[i].added &&
		     attrs_are(&ns, 0, timer_steps[i].za0) &&
		     attrs_are(&ns, 1, timer_steps[i].za1) &&
		     state_is(&ns, 0, timer_steps[i].zs0) && attrs_are(&ns, 2, 0);
		if (added != timer_steps[i].added)
			diag("%u zones added to the list, expected %u", added,
			     timer_steps[i].added);
		tap_result(t, ok, "t=%" PRIu64 ": %s", timer_steps[i].now,
			   timer_steps[i].what);
	}
	zns_changed_log(&ns, &log, false);
	ok = le16_to_cpu(log.nrzid) == 2 && le64_to_cpu(log.zid[0]) == zslba_of(&ns, 1) &&
	     le64_to_cpu(log.zid[1]) == zslba_of(&ns, 0);
	tap_result(t, ok, "changed zone list names zones 1 and 0 once each");
	zns_changed_log(&ns, &log, true);
	zns_changed_log(&ns, &log, false);
	tap_result(t, le16_to_cpu(log.nrzid) == 0, "reading with RAE cleared empties the list");
	ok = status_is(mgmt(&ns, 1, ZNS_ACT_RESET), NVME_SC_SUCCESS) && attrs_are(&ns, 1, 0) &&
	     zns_tick(&ns, 2000) == 1 && attrs_are(&ns, 0, NVME_ZA_ZFC | NVME_ZA_RZR) &&
	     attrs_are(&ns, 1, 0);
	tap_result(t, ok, "reset clears RZR; a zone the controller finished gets RZR, an empty one nothing");
	/* close does not restart FRL: the zone stays active */
	write_at_wp(&ns, 2, 1, 2);
	zns_tick(&ns, 2010);
	mgmt(&ns, 2, ZNS_ACT_CLOSE);
	ok = zns_tick(&ns, 2020) == 1 && attrs_are(&ns, 2, NVME_ZA_FZR) &&
	     status_is(mgmt(&ns, 2, ZNS_ACT_FINISH), NVME_SC_SUCCESS) &&
	     attrs_are(&ns, 2, 0);
	tap_result(t, ok, "FRL counts from becoming active across a close; finish clears FZR");
	zns_ns_fini(&ns);
}

/* ZNS 1.1 5.3.1: 511 identifiers fit; more reads as FFFFh. */
static const struct {
	uint32_t	changed;
	uint16_t	nrzid;
} overflow_cases[] = {
	{ 1, 1 }, { 511, 511 }, { 512, 0xffff }, { 600, 0xffff },
};

static void test_changed_overflow(struct tap *t)
{
	static struct nvme_zns_changed_zone_log log;

	for (size_t i = 0; i < ARRAY_SIZE(overflow_cases); i++) {
		struct zns_params p = { .nr_zones = 600, .zone_size = 1, .zone_cap = 1,
					.rrl_ns = 1 };
		struct zns_ns ns;
		struct blk b;
		uint32_t added;
		bool ok;

		if (ns_make_p(&ns, p)) {
			tap_result(t, false, "overflow: init");
			return;
		}
		blk_fill(&b, 1);
		zns_tick(&ns, 100);
		for (uint32_t z = 0; z < overflow_cases[i].changed; z++)
			zns_write(&ns, z, 1, &b);	/* one block: Full */
		added = zns_tick(&ns, 101);
		zns_changed_log(&ns, &log, true);
		ok = added == overflow_cases[i].changed &&
		     le16_to_cpu(log.nrzid) == overflow_cases[i].nrzid &&
		     (overflow_cases[i].nrzid == 0xffff ||
		      le64_to_cpu(log.zid[overflow_cases[i].nrzid - 1]) ==
			(uint64_t)overflow_cases[i].nrzid - 1);
		zns_changed_log(&ns, &log, false);
		ok &= log.nrzid == 0;
		tap_result(t, ok, "%u changed zones: NRZID 0x%x, cleared after reading",
			   overflow_cases[i].changed, overflow_cases[i].nrzid);
		zns_ns_fini(&ns);
	}
}

int main(void)
{
	struct tap t = { 0 };

	setvbuf(stdout, NULL, _IOLBF, 0);
	test_geometry(&t);
	test_transitions(&t);
	test_status_codes(&t);
	test_implicit_close(&t);
	test_select_all(&t);
	test_append(&t);
	test_report(&t);
	test_data(&t);
	test_memory(&t);
	test_desc_ext(&t);
	test_zrwa(&t);
	test_razb_compare(&t);
	test_timers(&t);
	test_changed_overflow(&t);
	printf("1..%d\n", t.n);
	return t.failed ? 1 : 0;
}
