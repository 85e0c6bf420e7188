/* SPDX-License-Identifier: MIT */
/*
 * znstcpd configuration: the option table, value parsers, the INI file
 * loader (libinih), the command-line parser, cross-field validation, --help
 * and the start-up summary.  Everything a user can set is one row of
 * `options`, so the file and the command line cannot drift apart.
 */
#include "conf/config.h"
#include "timing/timing.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))

#define SZ_K			(UINT64_C(1) << 10)
#define SZ_M			(UINT64_C(1) << 20)
#define SZ_T			(UINT64_C(1) << 40)

#define NVME_TCP_PORT		4420	/* IANA port for NVMe/TCP */
/* A RAM-backed device larger than this is a typo, not a plan. */
#define TOTAL_SIZE_MAX		(64 * SZ_T)
#define VERBOSE_MAX		9
#define MSG_MAX			320

_Static_assert(sizeof(enum znst_timing_kind) == sizeof(uint32_t),
	       "enum options are stored as uint32_t");

enum opt_type {
	OPT_SIZE,	/* uint64_t bytes with K/M/G/T suffix */
	OPT_U32,	/* uint32_t, decimal */
	OPT_NQN,	/* char[ZNST_NQN_MAX + 1] */
	OPT_LISTEN,	/* ADDR[:PORT] into listen_addr and listen_port */
	OPT_ENUM,	/* one of .names, stored as its index (uint32_t) */
	OPT_NSEC,	/* uint64_t ns; "40us", "1.75ms", "2s", plain = ns */
	OPT_PROFILE,	/* applies a device profile (geometry + timing) */
	OPT_VERBOSE,	/* int; each -v adds one, the file sets a level */
	OPT_ZLIST,	/* struct znst_zone_list: "3,5,7" or "none" */
	OPT_CONFIG,	/* command line only: file loaded before the rest */
	OPT_HELP,	/* command line only */
	OPT_VERSION,	/* command line only */
};

struct opt_desc {
	const char *name;	/* long option; file key with '-' or '_' */
	char short_name;	/* 0: none */
	const char *section;	/* INI section; NULL: command line only */
	enum opt_type type;
	size_t offset;		/* into struct znst_config */
	size_t size;		/* of that field */
	uint64_t min, max;	/* numeric types, inclusive */
	bool pow2;		/* numeric value must be a power of two */
	const uint64_t *choices; /* if set: the only values, 0-terminated */
	const char *const *names; /* OPT_ENUM, indexed by value */
	size_t nr_names;
	const char *metavar;
	const char *help;
	bool brief;		/* not listed one by one in --help */
};

#define FIELD(m)	.offset = offsetof(struct znst_config, m), \
			.size = sizeof(((struct znst_config *)0)->m)

static const uint64_t lba_size_choices[] = { 512, 4096, 0 };

static const char *const timing_names[] = {
	[ZNST_TIMING_NONE] = "none",
	[ZNST_TIMING_FIXED] = "fixed",
	[ZNST_TIMING_NAND] = "nand",
};

static const char *const conv_timing_names[] = {
	[ZNST_CONV_TIMING_SHARED] = "shared",
	[ZNST_CONV_TIMING_NONE] = "none",
	[ZNST_CONV_TIMING_FIXED] = "fixed",
	[ZNST_CONV_TIMING_NAND] = "nand",
};

static const char *const reset_pages_names[] = {
	[ZNST_RESET_LAZY] = "lazy",
	[ZNST_RESET_FREE] = "free",
};

static const char *const profile_names[] = {
	[ZNST_PROFILE_NONE] = "none",
	[ZNST_PROFILE_ZN540] = "zn540",
	[ZNST_PROFILE_SMALL_ZONE] = "small-zone",
	[ZNST_PROFILE_FEMU] = "femu",
};

#define SZ_G			(UINT64_C(1) << 30)
#define US			UINT64_C(1000)
#define MS			UINT64_C(1000000)
#define TIME_MAX		(UINT64_C(60) * 1000 * MS)	/* a minute */

/*
 * The latency model's settings, listed once and expanded twice: for the
 * zoned namespace ("--t-read", [timing] t_read) and, with a "conv-" prefix,
 * for the conventional namespace's own model ("--conv-t-read",
 * [conventional] t_read or conv_t_read).  X(type, name, member, min, max,
 * metavar, help).
 */
#define TIMING_SETTINGS(X) \
	X(OPT_NSEC, "overhead", overhead, 0, TIME_MAX, "TIME", \
	  "controller time added to every command") \
	X(OPT_NSEC, "lat-read", lat_read, 0, TIME_MAX, "TIME", "fixed model: read latency") \
	X(OPT_NSEC, "lat-write", lat_write, 0, TIME_MAX, "TIME", "fixed model: write latency") \
	X(OPT_NSEC, "lat-append", lat_append, 0, TIME_MAX, "TIME", \
	  "fixed model: zone append latency") \
	X(OPT_NSEC, "lat-flush", lat_flush, 0, TIME_MAX, "TIME", "fixed model: flush latency") \
	X(OPT_NSEC, "lat-zone", lat_zone, 0, TIME_MAX, "TIME", \
	  "fixed model: zone open/close latency") \
	X(OPT_NSEC, "lat-reset", lat_reset, 0, TIME_MAX, "TIME", "fixed model: zone reset latency") \
	X(OPT_NSEC, "lat-finish", lat_finish, 0, TIME_MAX, "TIME", \
	  "fixed model: zone finish latency") \
	X(OPT_SIZE, "bandwidth", bandwidth, 0, 1024 * SZ_G, "SIZE", \
	  "fixed model: data bandwidth cap in bytes/s; 0: none") \
	X(OPT_U32, "channels", channels, 1, 64, "N", "nand: channels") \
	X(OPT_U32, "dies", dies, 1, 64, "N", "nand: dies (LUNs) per channel") \
	X(OPT_U32, "planes", planes, 1, 16, "N", \
	  "nand: planes per die (a program or erase covers all)") \
	X(OPT_SIZE, "page-size", page_size, 512, 1 * SZ_M, "SIZE", "nand: page size per plane") \
	X(OPT_SIZE, "block-size", block_size, 4 * SZ_K, 4 * SZ_G, "SIZE", \
	  "nand: erase block size per plane") \
	X(OPT_NSEC, "t-read", t_read, 0, TIME_MAX, "TIME", "nand: page read time (tR)") \
	X(OPT_NSEC, "t-prog", t_prog, 0, TIME_MAX, "TIME", "nand: page program time (tPROG)") \
	X(OPT_NSEC, "t-erase", t_erase, 0, TIME_MAX, "TIME", "nand: block erase time (tBERS)") \
	X(OPT_SIZE, "channel-bw", channel_bw, SZ_M, 1024 * SZ_G, "SIZE", \
	  "nand: transfer rate per channel, bytes/s") \
	X(OPT_U32, "zone-dies", zone_dies, 0, 4096, "N", \
	  "nand: dies a zone is striped over; 0: all") \
	X(OPT_SIZE, "write-buffer", write_buffer, 0, 64 * SZ_G, "SIZE", \
	  "nand: write buffer that completes writes early and drains to NAND; 0: none") \
	X(OPT_NSEC, "append-time", append_time, 0, TIME_MAX, "TIME", \
	  "nand: Zone Append engine time per command (caps append IOPS)")

#define TM_OPT(ty, n, m, lo, hi, mv, h) \
	{ .name = n, .section = "timing", .type = ty, FIELD(tm.m), .min = lo, \
	  .max = hi, .metavar = mv, .help = h },
#define CONV_TM_OPT(ty, n, m, lo, hi, mv, h) \
	{ .name = "conv-" n, .section = "conventional", .type = ty, FIELD(conv_tm.m), \
	  .min = lo, .max = hi, .metavar = mv, .help = h, .brief = true },

static const struct opt_desc options[] = {
	{ .name = "config", .short_name = 'c', .type = OPT_CONFIG,
	  .metavar = "FILE",
	  .help = "load settings from INI FILE first; other options override it" },
	{ .name = "listen", .section = "target", .type = OPT_LISTEN,
	  FIELD(listen_addr), .metavar = "ADDR[:PORT]",
	  .help = "address to listen on; [v6addr]:port for IPv6, port 4420 if omitted" },
	{ .name = "nqn", .section = "target", .type = OPT_NQN, FIELD(nqn),
	  .metavar = "NQN",
	  .help = "subsystem NQN: \"nqn.\"..., printable ASCII, no spaces, <= 223 bytes" },
	{ .name = "lba-size", .section = "target", .type = OPT_U32,
	  FIELD(lba_size), .min = 512, .max = 4096,
	  .choices = lba_size_choices, .metavar = "512|4096",
	  .help = "logical block size of both namespaces, bytes" },
	{ .name = "zones", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.nr_zones), .max = UINT32_MAX, .metavar = "N",
	  .help = "number of zones; 0: no zoned namespace" },
	{ .name = "zone-size", .section = "zoned", .type = OPT_SIZE,
	  FIELD(zoned.zone_size), .min = 4 * SZ_K, .max = TOTAL_SIZE_MAX,
	  .metavar = "SIZE",
	  .help = "zone size, a power of two in logical blocks" },
	{ .name = "zone-cap", .section = "zoned", .type = OPT_SIZE,
	  FIELD(zoned.zone_cap), .max = TOTAL_SIZE_MAX, .metavar = "SIZE",
	  .help = "writable capacity of each zone, <= zone-size" },
	{ .name = "max-open", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.max_open), .max = UINT32_MAX, .metavar = "N",
	  .help = "max open zones, <= max-active; 0: unlimited" },
	{ .name = "max-active", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.max_active), .max = UINT32_MAX, .metavar = "N",
	  .help = "max active (open + closed) zones; 0: unlimited" },
	{ .name = "zone-append-max", .section = "zoned", .type = OPT_SIZE,
	  FIELD(zoned.zone_append_max), .min = 4 * SZ_K, .max = 8 * SZ_M,
	  .pow2 = true, .metavar = "SIZE",
	  .help = "largest Zone Append (ZASL), a power of two, <= mdts" },
	{ .name = "zone-prefault", .section = "zoned", .type = OPT_SIZE,
	  FIELD(zoned.prefault), .max = SZ_G, .metavar = "SIZE",
	  .help = "memory populated ahead of each write pointer, off the I/O path; 0: off" },
	{ .name = "reset-pages", .section = "zoned", .type = OPT_ENUM,
	  FIELD(zoned.reset_pages), .names = reset_pages_names,
	  .nr_names = ARRAY_SIZE(reset_pages_names), .metavar = "lazy|free",
	  .help = "a zone reset leaves its memory for the kernel to take when short and the next writes to reuse (lazy), or frees it at once (free)" },
	{ .name = "desc-ext-size", .section = "zoned", .type = OPT_SIZE,
	  FIELD(zoned.desc_ext_size), .max = 255 * 64, .metavar = "SIZE",
	  .help = "zone descriptor extension (ZDES), a multiple of 64; 0: none" },
	{ .name = "razb", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.razb), .max = 1, .metavar = "0|1",
	  .help = "1: reads may cross zone boundaries (OZCS RAZB)" },
	{ .name = "numzrwa", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.numzrwa), .max = UINT32_MAX, .metavar = "N",
	  .help = "zone random write area resources, <= max-active; 0: no ZRWA" },
	{ .name = "zrwa-size", .section = "zoned", .type = OPT_SIZE,
	  FIELD(zoned.zrwa_size), .max = TOTAL_SIZE_MAX, .metavar = "SIZE",
	  .help = "ZRWA size (ZRWAS), a multiple of zrwa-fg, <= zone-cap" },
	{ .name = "zrwa-fg", .section = "zoned", .type = OPT_SIZE,
	  FIELD(zoned.zrwa_fg), .max = TOTAL_SIZE_MAX, .metavar = "SIZE",
	  .help = "ZRWA flush granularity (ZRWAFG); 0: one logical block" },
	{ .name = "rrl", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.rrl), .max = UINT32_MAX, .metavar = "SECONDS",
	  .help = "Reset Recommended Limit: RZR set this long after Full; 0: never" },
	{ .name = "frl", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.frl), .max = UINT32_MAX, .metavar = "SECONDS",
	  .help = "Finish Recommended Limit: FZR set this long after a zone turns active; 0: never" },
	{ .name = "zfc-delay", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.zfc_delay), .max = UINT32_MAX, .metavar = "SECONDS",
	  .help = "controller finishes a zone (ZFC) this long after FZR; 0: never" },
	{ .name = "rrl1", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.rrl1), .max = UINT32_MAX, .metavar = "SECONDS",
	  .help = "RRL1, reported in Identify only" },
	{ .name = "rrl2", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.rrl2), .max = UINT32_MAX, .metavar = "SECONDS",
	  .help = "RRL2, reported in Identify only" },
	{ .name = "rrl3", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.rrl3), .max = UINT32_MAX, .metavar = "SECONDS",
	  .help = "RRL3, reported in Identify only" },
	{ .name = "frl1", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.frl1), .max = UINT32_MAX, .metavar = "SECONDS",
	  .help = "FRL1, reported in Identify only" },
	{ .name = "frl2", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.frl2), .max = UINT32_MAX, .metavar = "SECONDS",
	  .help = "FRL2, reported in Identify only" },
	{ .name = "frl3", .section = "zoned", .type = OPT_U32,
	  FIELD(zoned.frl3), .max = UINT32_MAX, .metavar = "SECONDS",
	  .help = "FRL3, reported in Identify only" },
	{ .name = "offline-zones", .section = "zoned", .type = OPT_ZLIST,
	  FIELD(zoned.offline_zones), .metavar = "I,J,...",
	  .help = "zone indices that start offline; none: no zone" },
	{ .name = "read-only-zones", .section = "zoned", .type = OPT_ZLIST,
	  FIELD(zoned.read_only_zones), .metavar = "I,J,...",
	  .help = "zone indices that start read-only; none: no zone" },
	{ .name = "copy", .section = "commands", .type = OPT_U32,
	  FIELD(cmd_copy), .max = 1, .metavar = "0|1",
	  .help = "1: Copy (format 0, into a zone at its write pointer)" },
	{ .name = "compare", .section = "commands", .type = OPT_U32,
	  FIELD(cmd_compare), .max = 1, .metavar = "0|1",
	  .help = "1: Compare" },
	{ .name = "verify", .section = "commands", .type = OPT_U32,
	  FIELD(cmd_verify), .max = 1, .metavar = "0|1",
	  .help = "1: Verify" },
	{ .name = "dsm", .section = "commands", .type = OPT_U32,
	  FIELD(cmd_dsm), .max = 1, .metavar = "0|1",
	  .help = "1: Dataset Management (deallocate on the regular namespace)" },
	{ .name = "conv-size", .section = "conventional", .type = OPT_SIZE,
	  FIELD(conv_size), .max = TOTAL_SIZE_MAX, .metavar = "SIZE",
	  .help = "size of the conventional namespace; 0: none" },
	{ .name = "mdts", .section = "limits", .type = OPT_SIZE, FIELD(mdts),
	  .min = 4 * SZ_K, .max = 8 * SZ_M, .pow2 = true, .metavar = "SIZE",
	  .help = "maximum data transfer size, a power of two, 4K..8M" },
	{ .name = "max-queues", .section = "limits", .type = OPT_U32,
	  FIELD(max_queues), .min = 1, .max = 128, .metavar = "N",
	  .help = "I/O queues per controller, 1..128" },
	{ .name = "queue-depth", .section = "limits", .type = OPT_U32,
	  FIELD(queue_depth), .min = 16, .max = 1024, .metavar = "N",
	  .help = "entries per I/O queue, 16..1024" },
	{ .name = "max-connections", .section = "limits", .type = OPT_U32,
	  FIELD(max_conns), .min = 1, .max = 65536, .metavar = "N",
	  .help = "TCP connections at once, all queues of all hosts; more are closed at accept" },
	{ .name = "max-inflight-data", .section = "limits", .type = OPT_SIZE,
	  FIELD(max_inflight), .min = 4 * SZ_K, .max = 64 * SZ_G, .metavar = "SIZE",
	  .help = "data buffers one connection may hold, >= mdts; commands beyond wait" },
	{ .name = "handshake-timeout", .section = "limits", .type = OPT_NSEC,
	  FIELD(handshake_timeout), .min = MS, .max = 3600 * 1000 * MS, .metavar = "TIME",
	  .help = "time from accept to a completed ICReq and Connect" },
	{ .name = "pdu-timeout", .section = "limits", .type = OPT_NSEC,
	  FIELD(pdu_timeout), .min = MS, .max = 3600 * 1000 * MS, .metavar = "TIME",
	  .help = "time to finish a PDU once its first byte arrived" },
	{ .name = "kato-min", .section = "limits", .type = OPT_NSEC,
	  FIELD(kato_min), .min = MS, .max = 24 * 3600 * 1000 * MS, .metavar = "TIME",
	  .help = "shortest keep alive timeout; a shorter KATO is raised to it" },
	{ .name = "kato-max", .section = "limits", .type = OPT_NSEC,
	  FIELD(kato_max), .min = MS, .max = 24 * 3600 * 1000 * MS, .metavar = "TIME",
	  .help = "longest keep alive timeout; a longer KATO, or 0 (none), is lowered to it" },
	{ .name = "reactors", .section = "runtime", .type = OPT_U32,
	  FIELD(reactors), .min = 1, .max = 64, .metavar = "N",
	  .help = "reactor (I/O) threads, 1..64" },
	{ .name = "timing", .section = "runtime", .type = OPT_ENUM,
	  FIELD(timing), .names = timing_names,
	  .nr_names = ARRAY_SIZE(timing_names), .metavar = "MODEL",
	  .help = "latency model: none (as fast as RAM), fixed (per-operation latency), nand (channels x dies)" },
	{ .name = "profile", .section = "timing", .type = OPT_PROFILE,
	  FIELD(tm.profile), .names = profile_names,
	  .nr_names = ARRAY_SIZE(profile_names), .metavar = "NAME",
	  .help = "device profile: zn540, small-zone, femu (geometry + nand timing); later options override it" },
	TIMING_SETTINGS(TM_OPT)
	{ .name = "spin", .section = "timing", .type = OPT_NSEC, FIELD(tm.spin),
	  .max = TIME_MAX, .metavar = "TIME",
	  .help = "reactor: busy-wait this long before a deadline instead of sleeping" },
	{ .name = "conv-timing", .section = "conventional", .type = OPT_ENUM,
	  FIELD(conv_timing), .names = conv_timing_names,
	  .nr_names = ARRAY_SIZE(conv_timing_names), .metavar = "MODEL",
	  .help = "conventional namespace's model: shared (the zoned one's, one device), "
		  "or a model of its own: none, fixed, nand, set by --conv-profile and "
		  "--conv-OPTION for every timing OPTION above (--conv-lat-read 90us)" },
	{ .name = "conv-profile", .section = "conventional", .type = OPT_PROFILE,
	  FIELD(conv_tm.profile), .names = profile_names,
	  .nr_names = ARRAY_SIZE(profile_names), .metavar = "NAME",
	  .help = "conventional namespace's own model from a profile's timing (not its geometry); "
		  "the other --conv-* options override it, wherever it stands" },
	TIMING_SETTINGS(CONV_TM_OPT)
	{ .name = "verbose", .short_name = 'v', .section = "runtime",
	  .type = OPT_VERBOSE, FIELD(verbose), .max = VERBOSE_MAX,
	  .help = "more log output, repeatable (the file takes a level, 0..9)" },
	{ .name = "help", .short_name = 'h', .type = OPT_HELP,
	  .help = "print this help and exit" },
	{ .name = "version", .short_name = 'V', .type = OPT_VERSION,
	  .help = "print the version and exit" },
};

/* getopt_long values for options without a short form. */
#define LONG_ONLY_BASE		256

__attribute__((format(printf, 3, 4)))
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static bool is_setting(const struct opt_desc *d)
{
	return d->section != NULL;
}

static bool is_numeric(const struct opt_desc *d)
{
	return d->type == OPT_SIZE || d->type == OPT_U32 ||
	       d->type == OPT_VERBOSE || d->type == OPT_NSEC;
}

/* Long names compare with '_' == '-' and ignoring case (file keys). */
static bool name_eq(const char *key, const char *name)
{
	for (; *key && *name; key++, name++) {
		char c = *key == '_' ? '-' : *key;

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != *name)
			return false;
	}
	return *key == *name;
}

static const struct opt_desc *opt_lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (name_eq(name, options[i].name))
			return &options[i];
	return NULL;
}

static bool section_known(const char *section)
{
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (options[i].section &&
		    !strcasecmp(options[i].section, section))
			return true;
	return false;
}

static uint64_t field_get(const struct znst_config *cfg,
			  const struct opt_desc *d)
{
	const char *p = (const char *)cfg + d->offset;

	if (d->size == sizeof(uint64_t)) {
		uint64_t v;

		memcpy(&v, p, sizeof(v));
		return v;
	} else {
		uint32_t v;

		memcpy(&v, p, sizeof(v));
		return v;
	}
}

static void field_set(struct znst_config *cfg, const struct opt_desc *d,
		      uint64_t v)
{
	char *p = (char *)cfg + d->offset;

	if (d->size == sizeof(uint64_t)) {
		memcpy(p, &v, sizeof(v));
	} else {
		uint32_t v32 = (uint32_t)v;

		memcpy(p, &v32, sizeof(v32));
	}
}

/* "64M", "1536K", "4097": the largest unit that divides exactly. */
static const char *fmt_size(uint64_t v, char buf[24])
{
	static const char units[] = "KMGT";
	int u = -1;

	while (v && u < 3 && !(v & 1023)) {
		v >>= 10;
		u++;
	}
	if (u < 0)
		snprintf(buf, 24, "%llu", (unsigned long long)v);
	else
		snprintf(buf, 24, "%llu%c", (unsigned long long)v, units[u]);
	return buf;
}

/* "40us", "1.75ms", "0": the largest unit that keeps it short. */
static const char *fmt_nsec(uint64_t v, char buf[24])
{
	if (v >= MS && v % (MS / 100) == 0)
		snprintf(buf, 24, "%g" "ms", (double)v / (double)MS);
	else if (v >= US && v % 10 == 0)
		snprintf(buf, 24, "%g" "us", (double)v / (double)US);
	else
		snprintf(buf, 24, "%llu%s", (unsigned long long)v, v ? "ns" : "");
	return buf;
}

static const char *fmt_num(const struct opt_desc *d, uint64_t v, char buf[24])
{
	if (d->type == OPT_SIZE)
		return fmt_size(v, buf);
	if (d->type == OPT_NSEC)
		return fmt_nsec(v, buf);
	snprintf(buf, 24, "%llu", (unsigned long long)v);
	return buf;
}

static void fmt_listen(const char *addr, uint16_t port, char *buf, size_t len)
{
	/* A literal IPv6 address needs brackets to be told from the port. */
	if (strchr(addr, ':'))
		snprintf(buf, len, "[%s]:%u", addr, port);
	else
		snprintf(buf, len, "%s:%u", addr, port);
}

/* The current value of a setting as the user would type it. */
static void fmt_value(const struct znst_config *cfg, const struct opt_desc *d,
		      char *buf, size_t len)
{
	char num[24];

	switch (d->type) {
	case OPT_SIZE:
	case OPT_U32:
	case OPT_VERBOSE:
	case OPT_NSEC:
		snprintf(buf, len, "%s", fmt_num(d, field_get(cfg, d), num));
		break;
	case OPT_NQN:
		snprintf(buf, len, "%s", (const char *)cfg + d->offset);
		break;
	case OPT_LISTEN:
		fmt_listen(cfg->listen_addr, cfg->listen_port, buf, len);
		break;
	case OPT_ENUM:
	case OPT_PROFILE: {
		uint64_t v = field_get(cfg, d);

		snprintf(buf, len, "%s",
			 v < d->nr_names && d->names[v] ? d->names[v] : "?");
		break;
	}
	case OPT_ZLIST: {
		const struct znst_zone_list *l = (const void *)((const char *)cfg + d->offset);
		size_t n = 0;

		snprintf(buf, len, "none");
		for (uint32_t i = 0; i < l->nr && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%u",
					      i ? "," : "", l->idx[i]);
		break;
	}
	case OPT_CONFIG:
	case OPT_HELP:
	case OPT_VERSION:
		snprintf(buf, len, "-");
		break;
	}
}

static int parse_u32(const char *s, uint64_t *out);

/* "3,5,7" (zone indices) or "none" / "" */
static int parse_zone_list(const char *s, struct znst_zone_list *out,
			   char *err, size_t errlen)
{
	struct znst_zone_list l = { 0 };
	const char *p = s;

	if (!strcasecmp(s, "none") || !*s) {
		*out = l;
		return 0;
	}
	for (;;) {
		char num[16];
		size_t n = strcspn(p, ",");
		uint64_t v;

		if (!n || n >= sizeof(num)) {
			errf(err, errlen, "'%s' is not a list of zone indices", s);
			return -EINVAL;
		}
		memcpy(num, p, n);
		num[n] = '\0';
		if (parse_u32(num, &v)) {
			errf(err, errlen, "'%s': '%s' is not a zone index", s, num);
			return -EINVAL;
		}
		if (l.nr == ZNST_ZONE_LIST_MAX) {
			errf(err, errlen, "more than %d zones", ZNST_ZONE_LIST_MAX);
			return -ERANGE;
		}
		l.idx[l.nr++] = (uint32_t)v;
		if (!p[n])
			break;
		p += n + 1;
	}
	*out = l;
	return 0;
}

int znst_parse_size(const char *s, uint64_t *out)
{
	const char *p = s;
	uint64_t v = 0;
	bool overflow = false;
	unsigned int shift = 0;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_add_overflow(v, (uint64_t)(*p - '0'), &v))
			overflow = true;
	}
	switch (*p) {
	case 'k': case 'K': shift = 10; p++; break;
	case 'm': case 'M': shift = 20; p++; break;
	case 'g': case 'G': shift = 30; p++; break;
	case 't': case 'T': shift = 40; p++; break;
	default: break;
	}
	if (shift && (p[0] == 'i' || p[0] == 'I') && (p[1] == 'b' || p[1] == 'B'))
		p += 2;
	else if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return -EINVAL;
	if (overflow || v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = v << shift;
	return 0;
}

static int parse_u32(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX) {
			while (*s >= '0' && *s <= '9')
				s++;
			return *s ? -EINVAL : -ERANGE;
		}
	}
	if (*s)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "40us", "1.748ms", "2s", "500ns", "1500" (ns). */
static int parse_nsec(const char *s, uint64_t *out)
{
	static const struct { const char *sfx; double mul; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "", 1 },
	};
	char *end;
	double v;

	if ((*s < '0' || *s > '9') && *s != '.')
		return -EINVAL;
	v = strtod(s, &end);
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (!strcasecmp(end, units[i].sfx)) {
			v *= units[i].mul;
			if (v > (double)UINT64_MAX / 2)
				return -ERANGE;
			*out = (uint64_t)(v + 0.5);
			return 0;
		}
	}
	return -EINVAL;
}

static void profile_apply(struct znst_config *cfg, enum znst_profile p);
static void conv_profile_apply(struct znst_config *cfg, enum znst_profile p);
static bool is_conv_profile(const struct opt_desc *d);

/* Range, power-of-two and choice checks shared by set and validate. */
static int check_num(const struct opt_desc *d, uint64_t v, char *err,
		     size_t errlen)
{
	char a[24], b[24], c[24];

	if (d->choices) {
		bool found = false;

		for (const uint64_t *ch = d->choices; *ch; ch++)
			found |= *ch == v;
		if (!found) {
			errf(err, errlen, "%s is not one of %s",
			     fmt_num(d, v, a), d->metavar);
			return -EINVAL;
		}
	}
	if (v < d->min || v > d->max) {
		errf(err, errlen, "%s is out of range %s..%s",
		     fmt_num(d, v, a), fmt_num(d, d->min, b),
		     fmt_num(d, d->max, c));
		return -ERANGE;
	}
	if (d->pow2 && (v & (v - 1))) {
		errf(err, errlen, "%s is not a power of two", fmt_num(d, v, a));
		return -EINVAL;
	}
	return 0;
}

static int check_nqn(const char *s, char *err, size_t errlen)
{
	size_t len = strlen(s);

	if (strncmp(s, "nqn.", 4)) {
		errf(err, errlen, "'%s' does not start with \"nqn.\"", s);
		return -EINVAL;
	}
	if (len == 4) {
		errf(err, errlen, "nothing after \"nqn.\"");
		return -EINVAL;
	}
	if (len > ZNST_NQN_MAX) {
		errf(err, errlen, "NQN is %zu bytes, at most %d allowed", len,
		     ZNST_NQN_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		/* No spaces or controls: the NQN is echoed into logs and
		 * compared byte-wise with the one hosts send in Connect.
		 * The byte is not echoed, it may be a control character. */
		if (c < 0x21 || c > 0x7e) {
			errf(err, errlen,
			     "byte 0x%02x at offset %zu is a space or not printable ASCII",
			     c, i);
			return -EINVAL;
		}
	}
	return 0;
}

static bool is_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

/*
 * "host", "host:port", "[v6]", "[v6]:port"; a bare IPv6 literal ("::1",
 * more than one colon) is taken whole, with the default port.
 */
static int parse_listen(const char *s, char addr[ZNST_ADDR_MAX],
			uint16_t *port, char *err, size_t errlen)
{
	const char *host = s, *host_end, *port_s = NULL;
	bool v6 = false;
	size_t len;

	if (*s == '[') {
		host = s + 1;
		host_end = strchr(host, ']');
		if (!host_end) {
			errf(err, errlen, "'%s': missing ']'", s);
			return -EINVAL;
		}
		if (host_end[1] == ':') {
			port_s = host_end + 2;
		} else if (host_end[1]) {
			errf(err, errlen, "'%s': expected ':PORT' after ']'", s);
			return -EINVAL;
		}
		v6 = true;
	} else {
		const char *colon = strchr(s, ':');

		if (colon && strchr(colon + 1, ':')) {
			host_end = s + strlen(s);
			v6 = true;
		} else if (colon) {
			host_end = colon;
			port_s = colon + 1;
		} else {
			host_end = s + strlen(s);
		}
	}

	len = (size_t)(host_end - host);
	if (!len) {
		errf(err, errlen, "'%s': empty address", s);
		return -EINVAL;
	}
	if (len >= ZNST_ADDR_MAX) {
		errf(err, errlen, "'%s': address longer than %d bytes", s,
		     ZNST_ADDR_MAX - 1);
		return -EINVAL;
	}

	char tmp[ZNST_ADDR_MAX];

	memcpy(tmp, host, len);
	tmp[len] = '\0';
	if (v6) {
		char bare[ZNST_ADDR_MAX];
		struct in6_addr in6;

		/* inet_pton() rejects a scope ("fe80::1%eth0"); the listener
		 * resolves it later with getaddrinfo(). */
		memcpy(bare, tmp, len + 1);
		bare[strcspn(bare, "%")] = '\0';
		if (inet_pton(AF_INET6, bare, &in6) != 1) {
			errf(err, errlen, "'%s': '%s' is not an IPv6 address",
			     s, tmp);
			return -EINVAL;
		}
	} else {
		for (size_t i = 0; i < len; i++) {
			if (!is_host_char(tmp[i])) {
				errf(err, errlen,
				     "'%s': '%s' is not a host name or IPv4 address",
				     s, tmp);
				return -EINVAL;
			}
		}
	}

	uint64_t p = NVME_TCP_PORT;

	if (port_s && (parse_u32(port_s, &p) || p < 1 || p > 65535)) {
		errf(err, errlen, "'%s': port must be 1..65535", s);
		return -EINVAL;
	}
	memcpy(addr, tmp, len + 1);
	*port = (uint16_t)p;
	return 0;
}

static int opt_apply(struct znst_config *cfg, const struct opt_desc *d,
		     const char *value, char *err, size_t errlen)
{
	uint64_t v = 0;
	int rc;

	switch (d->type) {
	case OPT_SIZE:
		rc = znst_parse_size(value, &v);
		if (rc == -ERANGE) {
			errf(err, errlen, "'%s' is too large", value);
			return rc;
		}
		if (rc) {
			errf(err, errlen,
			     "'%s' is not a size (bytes, or with K/M/G/T suffix)",
			     value);
			return rc;
		}
		break;
	case OPT_U32:
	case OPT_VERBOSE:
		rc = parse_u32(value, &v);
		if (rc == -ERANGE) {
			errf(err, errlen, "'%s' is too large", value);
			return rc;
		}
		if (rc) {
			errf(err, errlen, "'%s' is not a decimal number", value);
			return rc;
		}
		break;
	case OPT_NQN:
		rc = check_nqn(value, err, errlen);
		if (rc)
			return rc;
		memcpy((char *)cfg + d->offset, value, strlen(value) + 1);
		return 0;
	case OPT_LISTEN:
		return parse_listen(value, cfg->listen_addr, &cfg->listen_port,
				    err, errlen);
	case OPT_ENUM:
	case OPT_PROFILE:
		for (size_t i = 0; i < d->nr_names; i++) {
			if (d->names[i] && !strcasecmp(value, d->names[i])) {
				if (is_conv_profile(d))
					conv_profile_apply(cfg, (enum znst_profile)i);
				else if (d->type == OPT_PROFILE)
					profile_apply(cfg, (enum znst_profile)i);
				else
					field_set(cfg, d, i);
				return 0;
			}
		}
		errf(err, errlen, "'%s' is not a known %s", value, d->metavar);
		return -EINVAL;
	case OPT_NSEC:
		rc = parse_nsec(value, &v);
		if (rc) {
			errf(err, errlen, "'%s' is not a time (ns, us, ms or s)", value);
			return rc;
		}
		break;
	case OPT_ZLIST:
		return parse_zone_list(value, (void *)((char *)cfg + d->offset),
				       err, errlen);
	case OPT_CONFIG:
	case OPT_HELP:
	case OPT_VERSION:
		errf(err, errlen, "command-line only, not a setting");
		return -EINVAL;
	}

	rc = check_num(d, v, err, errlen);
	if (rc)
		return rc;
	field_set(cfg, d, v);
	return 0;
}

void znst_config_defaults(struct znst_config *cfg)
{
	*cfg = (struct znst_config){
		.nqn = ZNST_DEFAULT_NQN,
		.lba_size = 4096,
		.zoned = {
			.nr_zones = 64,
			.zone_size = 64 * SZ_M,
			.zone_cap = 48 * SZ_M,
			/* open < active, so implicitly opening a zone can
			 * need an implicit close first (ZNS 2.1.1.4.1) */
			.max_open = 12,
			.max_active = 14,
			.zone_append_max = 128 * SZ_K,
			.prefault = 8 * SZ_M,
		},
		.conv_size = 1024 * SZ_M,
		.mdts = 512 * SZ_K,
		.max_queues = 8,
		.queue_depth = 128,
		.reactors = 1,
		.max_conns = 1024,
		.max_inflight = 32 * SZ_M,
		.handshake_timeout = 10 * 1000 * MS,
		.pdu_timeout = 10 * 1000 * MS,
		.kato_min = 1000 * MS,
		.kato_max = 3600 * 1000 * MS,
		.timing = ZNST_TIMING_NONE,
		.tm = {
			/* nand defaults: FEMU's figures, used when --timing nand
			 * is chosen without a profile */
			.channels = 8, .dies = 8, .planes = 1,
			.page_size = 4 * SZ_K, .block_size = 1 * SZ_M,
			.t_read = 40 * US, .t_prog = 200 * US, .t_erase = 2 * MS,
			.channel_bw = 800 * SZ_M,
			.spin = 20 * US,
		},
	};
	/* a model of its own starts from the same figures */
	cfg->conv_tm = cfg->tm;
	/* Parsed, so the header's macro stays the single definition. */
	if (parse_listen(ZNST_DEFAULT_LISTEN, cfg->listen_addr,
			 &cfg->listen_port, NULL, 0))
		abort();
}

/*
 * Device profiles.  Figures for the ZN540-like profile come from public
 * measurements of the WD Ultrastar DC ZN540: 2 GiB zones with 1077 MiB
 * capacity, 14 open/active zones, 4K write ~11 us (buffered), 4K random
 * read ~73 us at QD1, ~1.2 GB/s sequential write whatever the number of
 * open zones (zones striped over all dies), appends saturating near 132K
 * IOPS.  Derivation: 32 dies x 64 KiB program unit / 1.2 GB/s = 1.75 ms
 * tPROG; 11 us overhead + 57 us tR + 4 KiB at 800 MB/s = 73 us; 1 s /
 * 132K = 7.58 us per append.
 *
 * Each profile but none runs the nand model with .tm (the configured spin
 * kept).  Its geometry applies to the zoned namespace only, where
 * nr_zones is set; FEMU keeps the configured zones, capacity = size.
 */
static const struct {
	struct znst_timing_conf tm;
	uint32_t lba_size, nr_zones, max_open, max_active;
	uint64_t zone_size, zone_cap;
	bool cap_is_size;
} profiles[] = {
	[ZNST_PROFILE_ZN540] = {
		.tm = { .overhead = 11 * US,
			.channels = 8, .dies = 4, .planes = 4,
			.page_size = 16 * SZ_K, .block_size = 16 * SZ_M,
			.t_read = 57 * US, .t_prog = 1748 * US, .t_erase = 3 * MS,
			.channel_bw = 800 * SZ_M, .zone_dies = 0,
			.write_buffer = 32 * SZ_M, .append_time = 7576 },
		.lba_size = 4096, .nr_zones = 32, .max_open = 14, .max_active = 14,
		.zone_size = 2 * SZ_G, .zone_cap = 1077 * SZ_M,
	},
	[ZNST_PROFILE_SMALL_ZONE] = {
		.tm = { .overhead = 8 * US,
			.channels = 8, .dies = 8, .planes = 2,
			.page_size = 16 * SZ_K, .block_size = 24 * SZ_M,
			.t_read = 60 * US, .t_prog = 1500 * US, .t_erase = 3500 * US,
			.channel_bw = 800 * SZ_M, .zone_dies = 2,
			.write_buffer = 4 * SZ_M },
		.lba_size = 4096, .nr_zones = 512, .max_open = 256, .max_active = 256,
		.zone_size = 128 * SZ_M, .zone_cap = 96 * SZ_M,
	},
	[ZNST_PROFILE_FEMU] = {
		.tm = { .channels = 8, .dies = 8, .planes = 1,
			.page_size = 4 * SZ_K, .block_size = 1 * SZ_M,
			.t_read = 40 * US, .t_prog = 200 * US, .t_erase = 2 * MS,
			/* FEMU's channel transfer time defaults to 0 */
			.channel_bw = 1024 * SZ_G },
		.cap_is_size = true,
	},
};

/* A profile's timing settings into @t (its spin kept): the model it runs. */
static enum znst_timing_kind profile_timing(enum znst_profile p, struct znst_timing_conf *t)
{
	uint64_t spin = t->spin;

	t->profile = p;
	if (p == ZNST_PROFILE_NONE || p >= ARRAY_SIZE(profiles))
		return ZNST_TIMING_NONE;
	*t = profiles[p].tm;
	t->profile = p;
	t->spin = spin;
	return ZNST_TIMING_NAND;
}

static void profile_apply(struct znst_config *cfg, enum znst_profile p)
{
	cfg->timing = profile_timing(p, &cfg->tm);
	if (p == ZNST_PROFILE_NONE || p >= ARRAY_SIZE(profiles))
		return;
	if (profiles[p].nr_zones) {
		cfg->lba_size = profiles[p].lba_size;
		cfg->zoned.nr_zones = profiles[p].nr_zones;
		cfg->zoned.zone_size = profiles[p].zone_size;
		cfg->zoned.zone_cap = profiles[p].zone_cap;
		cfg->zoned.max_open = profiles[p].max_open;
		cfg->zoned.max_active = profiles[p].max_active;
	}
	if (profiles[p].cap_is_size)
		cfg->zoned.zone_cap = cfg->zoned.zone_size;
}

/* --conv-profile: the conventional namespace's own model, timing only. */
static void conv_profile_apply(struct znst_config *cfg, enum znst_profile p)
{
	cfg->conv_timing = profile_timing(p, &cfg->conv_tm) == ZNST_TIMING_NAND ?
			   ZNST_CONV_TIMING_NAND : ZNST_CONV_TIMING_NONE;
}

static bool is_conv_profile(const struct opt_desc *d)
{
	return d->type == OPT_PROFILE &&
	       d->offset == offsetof(struct znst_config, conv_tm.profile);
}

int znst_config_set(struct znst_config *cfg, const char *name,
		    const char *value, char *err, size_t errlen)
{
	const struct opt_desc *d = opt_lookup(name);

	if (!d) {
		errf(err, errlen, "unknown option");
		return -ENOENT;
	}
	return opt_apply(cfg, d, value, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Config file */

struct file_ctx {
	struct znst_config *cfg;
	FILE *f;
	int lineno;		/* lines handed to inih so far */
	int err_line;		/* first error found by us, 0: none */
	int read_errno;
	char msg[MSG_MAX];
};

/*
 * fgets() for inih that counts lines (the Debian libinih is built without
 * INI_HANDLER_LINENO), refuses lines longer than inih's buffer instead of
 * letting it split them, and strips leading blanks so an indented line is
 * never taken as a continuation of the previous value (multi-line values).
 */
static char *file_read_line(char *str, int num, void *stream)
{
	struct file_ctx *ctx = stream;
	size_t len, skip;

	if (ctx->err_line || ctx->read_errno)
		return NULL;
	if (!fgets(str, num, ctx->f)) {
		if (ferror(ctx->f))
			ctx->read_errno = errno ? errno : EIO;
		return NULL;
	}
	ctx->lineno++;
	len = strlen(str);
	if (len && str[len - 1] != '\n') {
		int c = getc(ctx->f);

		if (c != EOF) {
			ctx->err_line = ctx->lineno;
			snprintf(ctx->msg, sizeof(ctx->msg),
				 "line longer than %d characters", num - 2);
			return NULL;
		}
	}
	skip = strspn(str, " \t");
	memmove(str, str + skip, len - skip + 1);
	return str;
}

/* In [conventional], "t_read" is --conv-t-read ("conv_t_read" works too). */
static const struct opt_desc *conv_key_lookup(const char *section, const char *name)
{
	char conv[64];

	if (!strcasecmp(section, "conventional") &&
	    (size_t)snprintf(conv, sizeof(conv), "conv-%s", name) < sizeof(conv)) {
		const struct opt_desc *d = opt_lookup(conv);

		if (d)
			return d;
	}
	return opt_lookup(name);
}

static int file_handle(void *user, const char *section, const char *name,
		       const char *value)
{
	struct file_ctx *ctx = user;
	const struct opt_desc *d = conv_key_lookup(section, name);
	/* Command-line-only options have no home section: unknown in files. */
	const char *home = d ? d->section : NULL;
	char why[MSG_MAX - 64];

	if (ctx->err_line)
		return 0;
	if (!*section && home) {
		snprintf(ctx->msg, sizeof(ctx->msg),
			 "key '%s' before any [section] (it belongs in [%s])",
			 name, home);
		goto fail;
	}
	if (!home || strcasecmp(section, home)) {
		if (home)
			snprintf(ctx->msg, sizeof(ctx->msg),
				 "unknown key '%s' in [%s] (it belongs in [%s])",
				 name, section, home);
		else if (!section_known(section))
			snprintf(ctx->msg, sizeof(ctx->msg),
				 "unknown key '%s' in [%s] (unknown section)",
				 name, section);
		else
			snprintf(ctx->msg, sizeof(ctx->msg),
				 "unknown key '%s' in [%s]", name, section);
		goto fail;
	}
	if (opt_apply(ctx->cfg, d, value, why, sizeof(why))) {
		snprintf(ctx->msg, sizeof(ctx->msg), "%s: %s", name, why);
		goto fail;
	}
	return 1;
fail:
	/* inih is told too (return 0), but it goes on reading; the reader
	 * stops it at the next line. */
	ctx->err_line = ctx->lineno;
	return 0;
}

int znst_config_load_file(struct znst_config *cfg, const char *path,
			  char *err, size_t errlen)
{
	/* Applied to a copy: a file with an error changes nothing. */
	struct znst_config tmp = *cfg;
	struct file_ctx ctx = { .cfg = &tmp };
	char ebuf[64];
	int ret, rc = 0;

	ctx.f = fopen(path, "re");
	if (!ctx.f) {
		rc = -errno;
		errf(err, errlen, "config file %s: %s", path,
		     strerror_r(-rc, ebuf, sizeof(ebuf)));
		return rc;
	}
	ret = ini_parse_stream(file_read_line, &ctx, file_handle, &ctx);
	fclose(ctx.f);

	if (ctx.read_errno) {
		rc = -ctx.read_errno;
		errf(err, errlen, "config file %s: %s", path,
		     strerror_r(ctx.read_errno, ebuf, sizeof(ebuf)));
	} else if (ret > 0 && ret != ctx.err_line) {
		/* inih's own complaint came first; it counts lines as we do. */
		rc = -EINVAL;
		errf(err, errlen,
		     "%s:%d: syntax error (expected [section] or key = value)",
		     path, ret);
	} else if (ctx.err_line) {
		rc = -EINVAL;
		errf(err, errlen, "%s:%d: %s", path, ctx.err_line, ctx.msg);
	} else if (ret < 0) {
		rc = -ENOMEM;
		errf(err, errlen, "config file %s: %s", path,
		     strerror_r(ENOMEM, ebuf, sizeof(ebuf)));
	}
	if (!rc)
		*cfg = tmp;
	return rc;
}

/* ------------------------------------------------------------------ */
/* Validation */

/* A nand model's settings; @pfx names the options ("conv-"), @model the
 * option that chose the model. */
static int validate_nand(const struct znst_timing_conf *t, const char *pfx,
			 const char *model, char *err, size_t errlen)
{
	char a[24], b[24];

	if (t->page_size & (t->page_size - 1)) {
		errf(err, errlen, "--%spage-size: %s is not a power of two", pfx,
		     fmt_size(t->page_size, a));
		return -EINVAL;
	}
	if (t->block_size % t->page_size) {
		errf(err, errlen, "--%sblock-size: %s is not a multiple of --%spage-size %s",
		     pfx, fmt_size(t->block_size, a), pfx, fmt_size(t->page_size, b));
		return -EINVAL;
	}
	if (t->zone_dies > t->channels * t->dies) {
		errf(err, errlen, "--%szone-dies: %u is more than --%schannels x --%sdies (%u)",
		     pfx, t->zone_dies, pfx, pfx, t->channels * t->dies);
		return -EINVAL;
	}
	if (!t->t_read || !t->t_prog || !t->t_erase) {
		errf(err, errlen, "%s nand: %st-read, %st-prog and %st-erase must be non-zero",
		     model, pfx, pfx, pfx);
		return -EINVAL;
	}
	return 0;
}

/* The optional ZNS features (ZDES, ZRWA, start-up zone states). */
static int validate_zns_features(const struct znst_config *cfg, char *err,
				 size_t errlen)
{
	const struct znst_zoned_conf *z = &cfg->zoned;
	uint64_t fg = z->zrwa_fg ? z->zrwa_fg : cfg->lba_size;
	char a[24], b[24];

	if (z->desc_ext_size % 64) {
		errf(err, errlen, "--desc-ext-size: %s is not a multiple of 64",
		     fmt_size(z->desc_ext_size, a));
		return -EINVAL;
	}
	if (z->numzrwa) {
		if (!z->zrwa_size || z->zrwa_size % cfg->lba_size ||
		    fg % cfg->lba_size || z->zrwa_size % fg) {
			errf(err, errlen,
			     "--zrwa-size: %s must be a non-zero multiple of --zrwa-fg %s and --lba-size %u",
			     fmt_size(z->zrwa_size, a), fmt_size(fg, b),
			     cfg->lba_size);
			return -EINVAL;
		}
		if (z->zrwa_size > z->zone_cap || z->zrwa_size / cfg->lba_size > 0xffff ||
		    fg / cfg->lba_size > 0xffff) {
			errf(err, errlen,
			     "--zrwa-size: %s is larger than --zone-cap or 65535 blocks",
			     fmt_size(z->zrwa_size, a));
			return -EINVAL;
		}
		if (z->max_active && z->numzrwa > z->max_active) {
			errf(err, errlen, "--numzrwa: %u is larger than --max-active %u",
			     z->numzrwa, z->max_active);
			return -EINVAL;
		}
	}
	for (int k = 0; k < 2; k++) {
		const struct znst_zone_list *l = k ? &z->read_only_zones : &z->offline_zones;

		for (uint32_t i = 0; i < l->nr; i++) {
			if (l->idx[i] >= z->nr_zones) {
				errf(err, errlen, "--%s: zone %u does not exist (--zones %u)",
				     k ? "read-only-zones" : "offline-zones",
				     l->idx[i], z->nr_zones);
				return -EINVAL;
			}
			for (uint32_t j = 0; !k && j < z->read_only_zones.nr; j++) {
				if (z->read_only_zones.idx[j] == l->idx[i]) {
					errf(err, errlen,
					     "--offline-zones: zone %u is also in --read-only-zones",
					     l->idx[i]);
					return -EINVAL;
				}
			}
		}
	}
	return 0;
}

int znst_config_validate(const struct znst_config *cfg, char *err,
			 size_t errlen)
{
	const struct znst_zoned_conf *z = &cfg->zoned;
	char a[24], b[24], why[MSG_MAX];
	uint64_t zoned_bytes = 0;
	int rc;

	/* Fields may have been set directly, not through the parsers. */
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		const struct opt_desc *d = &options[i];

		if (!is_setting(d) || !is_numeric(d))
			continue;
		rc = check_num(d, field_get(cfg, d), why, sizeof(why));
		if (rc) {
			errf(err, errlen, "--%s: %s", d->name, why);
			return rc;
		}
	}
	if (cfg->max_inflight < cfg->mdts) {
		errf(err, errlen, "--max-inflight-data: %s is smaller than --mdts %s",
		     fmt_size(cfg->max_inflight, a), fmt_size(cfg->mdts, b));
		return -EINVAL;
	}
	if (cfg->kato_min > cfg->kato_max) {
		errf(err, errlen, "--kato-min: larger than --kato-max");
		return -EINVAL;
	}
	if (check_nqn(cfg->nqn, why, sizeof(why))) {
		errf(err, errlen, "--nqn: %s", why);
		return -EINVAL;
	}
	if (!cfg->listen_addr[0] || !cfg->listen_port) {
		errf(err, errlen, "--listen: no address or port");
		return -EINVAL;
	}
	if (cfg->timing >= ARRAY_SIZE(timing_names)) {
		errf(err, errlen, "--timing: unknown model %u",
		     (unsigned int)cfg->timing);
		return -EINVAL;
	}
	if (cfg->timing == ZNST_TIMING_NAND &&
	    validate_nand(&cfg->tm, "", "--timing", err, errlen))
		return -EINVAL;
	if (cfg->conv_timing >= ARRAY_SIZE(conv_timing_names)) {
		errf(err, errlen, "--conv-timing: unknown model %u",
		     (unsigned int)cfg->conv_timing);
		return -EINVAL;
	}
	if (cfg->conv_timing != ZNST_CONV_TIMING_SHARED && !cfg->conv_size) {
		errf(err, errlen, "--conv-timing %s: there is no conventional namespace "
		     "(--conv-size 0)", conv_timing_names[cfg->conv_timing]);
		return -EINVAL;
	}
	if (cfg->conv_timing == ZNST_CONV_TIMING_NAND &&
	    validate_nand(&cfg->conv_tm, "conv-", "--conv-timing", err, errlen))
		return -EINVAL;

	if (!z->nr_zones && !cfg->conv_size) {
		errf(err, errlen,
		     "no namespace configured: --zones and --conv-size are both 0");
		return -EINVAL;
	}

	if (z->nr_zones) {
		if (z->zone_size % cfg->lba_size) {
			errf(err, errlen,
			     "--zone-size: %s is not a multiple of --lba-size %u",
			     fmt_size(z->zone_size, a), cfg->lba_size);
			return -EINVAL;
		}
		/* ZNS: zone start LBAs are computed with shifts by hosts
		 * (Linux requires a power-of-two zone size in blocks). */
		uint64_t blocks = z->zone_size / cfg->lba_size;

		if (blocks & (blocks - 1)) {
			errf(err, errlen,
			     "--zone-size: %s is not a power of two in %u-byte blocks",
			     fmt_size(z->zone_size, a), cfg->lba_size);
			return -EINVAL;
		}
		if (!z->zone_cap) {
			errf(err, errlen, "--zone-cap: must not be 0 with --zones %u",
			     z->nr_zones);
			return -EINVAL;
		}
		if (z->zone_cap % cfg->lba_size) {
			errf(err, errlen,
			     "--zone-cap: %s is not a multiple of --lba-size %u",
			     fmt_size(z->zone_cap, a), cfg->lba_size);
			return -EINVAL;
		}
		if (z->zone_cap > z->zone_size) {
			errf(err, errlen,
			     "--zone-cap: %s is larger than --zone-size %s",
			     fmt_size(z->zone_cap, a), fmt_size(z->zone_size, b));
			return -EINVAL;
		}
		if (__builtin_mul_overflow((uint64_t)z->nr_zones, z->zone_size,
					   &zoned_bytes) ||
		    zoned_bytes > TOTAL_SIZE_MAX) {
			errf(err, errlen,
			     "--zones: %u zones of --zone-size %s exceed the %s limit",
			     z->nr_zones, fmt_size(z->zone_size, a),
			     fmt_size(TOTAL_SIZE_MAX, b));
			return -ERANGE;
		}
		if (z->max_active && !z->max_open) {
			errf(err, errlen,
			     "--max-open: 0 (unlimited) but --max-active is %u; set --max-open <= --max-active",
			     z->max_active);
			return -EINVAL;
		}
		if (z->max_active && z->max_open > z->max_active) {
			errf(err, errlen,
			     "--max-open: %u is larger than --max-active %u",
			     z->max_open, z->max_active);
			return -EINVAL;
		}
		if (z->max_open > z->nr_zones) {
			errf(err, errlen, "--max-open: %u is larger than --zones %u",
			     z->max_open, z->nr_zones);
			return -EINVAL;
		}
		if (z->max_active > z->nr_zones) {
			errf(err, errlen,
			     "--max-active: %u is larger than --zones %u",
			     z->max_active, z->nr_zones);
			return -EINVAL;
		}
		if (z->zone_append_max > cfg->mdts) {
			errf(err, errlen,
			     "--zone-append-max: %s is larger than --mdts %s",
			     fmt_size(z->zone_append_max, a),
			     fmt_size(cfg->mdts, b));
			return -EINVAL;
		}
		rc = validate_zns_features(cfg, err, errlen);
		if (rc)
			return rc;
	}

	if (cfg->conv_size % cfg->lba_size) {
		errf(err, errlen,
		     "--conv-size: %s is not a multiple of --lba-size %u",
		     fmt_size(cfg->conv_size, a), cfg->lba_size);
		return -EINVAL;
	}
	if (zoned_bytes + cfg->conv_size > TOTAL_SIZE_MAX) {
		errf(err, errlen,
		     "--conv-size: %s plus the zoned namespace exceeds the %s limit",
		     fmt_size(cfg->conv_size, a), fmt_size(TOTAL_SIZE_MAX, b));
		return -ERANGE;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Command line */

static void print_usage(FILE *out)
{
	struct znst_config def;
	char left[48], val[ZNST_NQN_MAX + 16];

	znst_config_defaults(&def);
	fputs("Usage: znstcpd [OPTION]...\n"
	      "Serve a RAM-backed NVMe Zoned Namespace SSD over NVMe/TCP.\n"
	      "SIZE takes a K/M/G/T suffix (powers of 1024, optional B or iB).\n\n",
	      out);
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		const struct opt_desc *d = &options[i];
		bool arg = d->metavar && d->type != OPT_VERBOSE;

		if (d->brief)
			continue;
		snprintf(left, sizeof(left), "%c%c%c --%s%s%s",
			 d->short_name ? '-' : ' ',
			 d->short_name ? d->short_name : ' ',
			 d->short_name ? ',' : ' ', d->name, arg ? " " : "",
			 arg ? d->metavar : "");
		fprintf(out, "  %-28s %s\n", left, d->help);
		if (is_setting(d)) {
			fmt_value(&def, d, val, sizeof(val));
			fprintf(out, "  %-28s default %s; file: [%s] ", "", val,
				d->section);
			for (const char *p = d->name; *p; p++)
				fputc(*p == '-' ? '_' : *p, out);
			fputc('\n', out);
		}
	}
	fputs("\nThe command line overrides the config file, which overrides the defaults.\n",
	      out);
}

static const struct opt_desc *opt_by_getopt_val(int c)
{
	if (c >= LONG_ONLY_BASE && c < LONG_ONLY_BASE + (int)ARRAY_SIZE(options))
		return &options[c - LONG_ONLY_BASE];
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (c > 0 && options[i].short_name == c)
			return &options[i];
	return NULL;
}

static void getopt_error(int c, char **argv, char *err, size_t errlen)
{
	const struct opt_desc *d = opt_by_getopt_val(optopt);
	const char *arg = argv[optind - 1];

	if (c == ':' && d) {
		errf(err, errlen, "--%s: missing argument", d->name);
	} else if (d) {
		/* Only "--help=x" style gets here with a known option. */
		errf(err, errlen, "--%s: takes no argument", d->name);
	} else if (optopt) {
		errf(err, errlen, "-%c: unknown option", optopt);
	} else {
		int len = (int)strcspn(arg, "=");

		errf(err, errlen, "%.*s: unknown option", len, arg);
	}
}

enum znst_cli_result znst_config_from_args(struct znst_config *cfg, int argc,
					   char **argv, char *err,
					   size_t errlen)
{
	struct option longopts[ARRAY_SIZE(options) + 1];
	/* "+:" then up to two characters per option, then NUL */
	char shortopts[2 + 2 * ARRAY_SIZE(options) + 1];
	char *sp = shortopts;
	const char *config_path = NULL;
	/* --profile and --conv-profile */
	const char *profile_arg[2] = { NULL, NULL };
	const struct opt_desc *profile_desc[2] = { NULL, NULL };
	enum znst_cli_result res = ZNST_CLI_ERROR;
	char why[MSG_MAX];
	int saved_opterr = opterr;
	int c;

	/* '+': stop at the first operand rather than permuting argv;
	 * ':': report a missing argument as ':' so it gets its own message. */
	*sp++ = '+';
	*sp++ = ':';
	for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
		const struct opt_desc *d = &options[i];
		int has_arg = d->metavar && d->type != OPT_VERBOSE ?
			      required_argument : no_argument;

		longopts[i] = (struct option){
			.name = d->name,
			.has_arg = has_arg,
			.val = d->short_name ? d->short_name :
			       LONG_ONLY_BASE + (int)i,
		};
		if (d->short_name) {
			*sp++ = d->short_name;
			if (has_arg == required_argument)
				*sp++ = ':';
		}
	}
	longopts[ARRAY_SIZE(options)] = (struct option){ 0 };
	*sp = '\0';

	/* getopt keeps its position in libc globals; optind = 0 makes glibc
	 * start over completely, so this can run more than once. */
	opterr = 0;

	/* Pass 1: syntax, --help/--version, and where the config file is. */
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct opt_desc *d = c == '?' || c == ':' ? NULL :
					   opt_by_getopt_val(c);

		if (!d) {
			getopt_error(c, argv, err, errlen);
			goto out;
		}
		switch (d->type) {
		case OPT_HELP:
			print_usage(stdout);
			res = ZNST_CLI_EXIT_OK;
			goto out;
		case OPT_VERSION:
			printf("znstcpd %s\n", ZNST_VERSION_STRING);
			res = ZNST_CLI_EXIT_OK;
			goto out;
		case OPT_CONFIG:
			if (config_path) {
				errf(err, errlen, "--config: given more than once");
				goto out;
			}
			config_path = optarg;
			break;
		case OPT_PROFILE:
			profile_arg[is_conv_profile(d)] = optarg;
			profile_desc[is_conv_profile(d)] = d;
			break;
		default:
			break;
		}
	}
	if (optind < argc) {
		errf(err, errlen, "%s: unexpected argument", argv[optind]);
		goto out;
	}

	znst_config_defaults(cfg);
	/* A profile is a starting point: the file and every other option
	 * override it, wherever --profile appears. */
	for (int i = 0; i < 2; i++) {
		if (profile_arg[i] &&
		    opt_apply(cfg, profile_desc[i], profile_arg[i], why, sizeof(why))) {
			errf(err, errlen, "--%s: %s", profile_desc[i]->name, why);
			goto out;
		}
	}
	if (config_path && znst_config_load_file(cfg, config_path, err, errlen))
		goto out;

	/* Pass 2: settings in command-line order, over the file. */
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct opt_desc *d = opt_by_getopt_val(c);

		if (!d) {
			getopt_error(c, argv, err, errlen);
			goto out;
		}
		if (d->type == OPT_VERBOSE) {
			if (cfg->verbose < VERBOSE_MAX)
				cfg->verbose++;
		} else if (is_setting(d) && d->type != OPT_PROFILE &&
			   opt_apply(cfg, d, optarg, why, sizeof(why))) {
			errf(err, errlen, "--%s: %s", d->name, why);
			goto out;
		}
	}

	if (znst_config_validate(cfg, err, errlen))
		goto out;
	res = ZNST_CLI_RUN;
out:
	opterr = saved_opterr;
	return res;
}

/* "; zns features: zdes 64, razb, ..." after the summary, only for the
 * optional features that are on (README "ZNS features"). */
static void describe_features(const struct znst_config *cfg, char *buf,
			      size_t len)
{
	const struct znst_zoned_conf *z = &cfg->zoned;
	size_t n = strlen(buf);
	const char *sep = "; zns features: ";
	char a[24], b[24];

#define FEAT(...) do {							\
		if (n < len)						\
			n += (size_t)snprintf(buf + n, len - n, "%s", sep); \
		if (n < len)						\
			n += (size_t)snprintf(buf + n, len - n, __VA_ARGS__); \
		sep = ", ";						\
	} while (0)
	if (z->nr_zones && z->desc_ext_size)
		FEAT("zdes %s", fmt_size(z->desc_ext_size, a));
	if (z->nr_zones && z->razb)
		FEAT("razb");
	if (z->nr_zones && z->numzrwa)
		FEAT("zrwa %u x %s/%s", z->numzrwa, fmt_size(z->zrwa_size, a),
		     fmt_size(z->zrwa_fg ? z->zrwa_fg : cfg->lba_size, b));
	if (z->nr_zones && z->rrl)
		FEAT("rrl %us", z->rrl);
	if (z->nr_zones && z->frl)
		FEAT("frl %us", z->frl);
	if (z->nr_zones && z->zfc_delay)
		FEAT("zfc %us", z->zfc_delay);
	if (z->nr_zones && z->offline_zones.nr)
		FEAT("%u offline", z->offline_zones.nr);
	if (z->nr_zones && z->read_only_zones.nr)
		FEAT("%u read-only", z->read_only_zones.nr);
	if (cfg->cmd_copy)
		FEAT("copy");
	if (cfg->cmd_compare)
		FEAT("compare");
	if (cfg->cmd_verify)
		FEAT("verify");
	if (cfg->cmd_dsm)
		FEAT("dsm");
#undef FEAT
}

void znst_config_describe(const struct znst_config *cfg, char *buf,
			  size_t len)
{
	const struct znst_zoned_conf *z = &cfg->zoned;
	char listen[ZNST_ADDR_MAX + 16], zoned[160], conv[32], conv_desc[56];
	char a[24], b[24], c[24], d[24], e[24];

	fmt_listen(cfg->listen_addr, cfg->listen_port, listen, sizeof(listen));
	if (z->nr_zones) {
		char open[16], active[16];

		snprintf(open, sizeof(open), "%u", z->max_open);
		snprintf(active, sizeof(active), "%u", z->max_active);
		snprintf(zoned, sizeof(zoned),
			 "%u zones x %s (cap %s), max open %s, max active %s, zone append max %s",
			 z->nr_zones, fmt_size(z->zone_size, a),
			 fmt_size(z->zone_cap, b),
			 z->max_open ? open : "unlimited",
			 z->max_active ? active : "unlimited",
			 fmt_size(z->zone_append_max, c));
	} else {
		snprintf(zoned, sizeof(zoned), "none");
	}
	if (cfg->conv_size)
		snprintf(conv, sizeof(conv), "%s", fmt_size(cfg->conv_size, d));
	else
		snprintf(conv, sizeof(conv), "none");
	if (cfg->conv_size && cfg->conv_timing != ZNST_CONV_TIMING_SHARED &&
	    cfg->conv_timing < ARRAY_SIZE(conv_timing_names))
		snprintf(conv_desc, sizeof(conv_desc), "%s (timing %s)", conv,
			 conv_timing_names[cfg->conv_timing]);
	else
		snprintf(conv_desc, sizeof(conv_desc), "%s", conv);

	snprintf(buf, len,
		 "listen %s, nqn %s, lba %u; zoned: %s; conventional: %s; mdts %s, %u queues x %u, %u reactor%s, timing %s, verbose %d",
		 listen, cfg->nqn, cfg->lba_size, zoned, conv_desc,
		 fmt_size(cfg->mdts, e), cfg->max_queues, cfg->queue_depth,
		 cfg->reactors, cfg->reactors == 1 ? "" : "s",
		 cfg->timing < ARRAY_SIZE(timing_names) ?
			 timing_names[cfg->timing] : "?",
		 cfg->verbose);
	describe_features(cfg, buf, len);
}

static void timing_params_of(const struct znst_config *cfg, enum timing_model_kind kind,
			     const struct znst_timing_conf *t, struct timing_params *p)
{
	*p = (struct timing_params){
		.kind = kind,
		.overhead_ns = t->overhead,
		.bandwidth = t->bandwidth,
		.nand = {
			.channels = t->channels, .dies = t->dies,
			.planes = t->planes, .page_size = (uint32_t)t->page_size,
			.block_size = t->block_size, .t_read = t->t_read,
			.t_prog = t->t_prog, .t_erase = t->t_erase,
			.chan_bw = t->channel_bw, .zone_dies = t->zone_dies,
			.wbuf = t->write_buffer, .append_ns = t->append_time,
		},
		.nr_zones = cfg->zoned.nr_zones,
		.zone_size = cfg->zoned.zone_size,
		.zone_cap = cfg->zoned.zone_cap,
	};
	p->lat_ns[TIMING_OP_READ] = t->lat_read;
	p->lat_ns[TIMING_OP_WRITE] = t->lat_write;
	p->lat_ns[TIMING_OP_WRITE_ZEROES] = t->lat_write;
	p->lat_ns[TIMING_OP_APPEND] = t->lat_append;
	p->lat_ns[TIMING_OP_FLUSH] = t->lat_flush;
	p->lat_ns[TIMING_OP_ZONE_OPEN] = t->lat_zone;
	p->lat_ns[TIMING_OP_ZONE_CLOSE] = t->lat_zone;
	p->lat_ns[TIMING_OP_ZONE_OTHER] = t->lat_zone;
	p->lat_ns[TIMING_OP_ZONE_RESET] = t->lat_reset;
	p->lat_ns[TIMING_OP_ZONE_FINISH] = t->lat_finish;
}

void znst_config_timing_params(const struct znst_config *cfg,
			       struct timing_params *p)
{
	timing_params_of(cfg, cfg->timing == ZNST_TIMING_NAND ? TIMING_MODEL_NAND :
			 cfg->timing == ZNST_TIMING_FIXED ? TIMING_MODEL_FIXED :
			 TIMING_MODEL_NONE, &cfg->tm, p);
}

bool znst_config_conv_timing_params(const struct znst_config *cfg,
				    struct timing_params *p)
{
	if (cfg->conv_timing == ZNST_CONV_TIMING_SHARED)
		return false;
	timing_params_of(cfg, cfg->conv_timing == ZNST_CONV_TIMING_NAND ? TIMING_MODEL_NAND :
			 cfg->conv_timing == ZNST_CONV_TIMING_FIXED ? TIMING_MODEL_FIXED :
			 TIMING_MODEL_NONE, &cfg->conv_tm, p);
	return true;
}
