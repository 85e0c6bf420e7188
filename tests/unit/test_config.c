/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for conf/config: sizes, every command-line option, every
 * validation error, the config file (precedence, line numbers in errors),
 * --help/--version.  Cases are tables; output is TAP.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf/config.h"
#include "timing/timing.h"
#include "tests/unit/tap.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define K		(UINT64_C(1) << 10)
#define M		(UINT64_C(1) << 20)
#define G		(UINT64_C(1) << 30)
#define T		(UINT64_C(1) << 40)
#define MAX_ARGS	16
#define MAX_CHECKS	8
#define OUT_MAX		32768

/* A numeric field of struct znst_config and the value it must hold. */
struct field_check {
	const char *what;
	size_t off, size;
	uint64_t val;
};

#define CHK(m, v)	{ #m, offsetof(struct znst_config, m), \
			  sizeof(((struct znst_config *)0)->m), (v) }

/* A string field and its expected content. */
struct str_check {
	const char *what;
	size_t off;
	const char *val;
};

#define STR(m, v)	{ #m, offsetof(struct znst_config, m), (v) }

static uint64_t field_value(const struct znst_config *cfg,
			    const struct field_check *c)
{
	const char *p = (const char *)cfg + c->off;

	if (c->size == 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		return v;
	}
	if (c->size == 2) {
		uint16_t v;

		memcpy(&v, p, 2);
		return v;
	}
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* Empty string when all checks hold, else a description of the first miss. */
static bool check_fields(const struct znst_config *cfg,
			 const struct field_check *chk,
			 const struct str_check *str, char *why, size_t len)
{
	for (int i = 0; chk && i < MAX_CHECKS && chk[i].what; i++) {
		uint64_t v = field_value(cfg, &chk[i]);

		if (v != chk[i].val) {
			snprintf(why, len, "%s = %llu, expected %llu",
				 chk[i].what, (unsigned long long)v,
				 (unsigned long long)chk[i].val);
			return false;
		}
	}
	for (int i = 0; str && i < 2 && str[i].what; i++) {
		const char *v = (const char *)cfg + str[i].off;

		if (strcmp(v, str[i].val)) {
			snprintf(why, len, "%s = '%s', expected '%s'",
				 str[i].what, v, str[i].val);
			return false;
		}
	}
	return true;
}

/*
 * Run znst_config_from_args with argv[0] = "znstcpd" and @args, every
 * "@FILE" replaced by @path; stdout (--help, --version) goes to @out.
 */
static enum znst_cli_result run_cli(struct znst_config *cfg,
				    const char *const *args, const char *path,
				    char *err, size_t errlen, char *out,
				    size_t outlen)
{
	char *argv[MAX_ARGS + 2];
	int argc = 0;
	char tmpl[] = "/tmp/znst_test_out_XXXXXX";
	enum znst_cli_result res;
	int fd, saved;
	ssize_t n;

	argv[argc++] = (char *)"znstcpd";
	for (int i = 0; i < MAX_ARGS && args[i]; i++)
		argv[argc++] = (char *)(strcmp(args[i], "@FILE") ? args[i] : path);
	argv[argc] = NULL;

	fd = mkstemp(tmpl);
	if (fd < 0) {
		perror("mkstemp");
		exit(1);
	}
	unlink(tmpl);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	dup2(fd, STDOUT_FILENO);

	err[0] = '\0';
	res = znst_config_from_args(cfg, argc, argv, err, errlen);

	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	n = pread(fd, out, outlen - 1, 0);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	return res;
}

static const char *res_name(enum znst_cli_result r)
{
	static const char *const names[] = {
		[ZNST_CLI_RUN] = "RUN",
		[ZNST_CLI_EXIT_OK] = "EXIT_OK",
		[ZNST_CLI_ERROR] = "ERROR",
	};

	return (unsigned int)r < ARRAY_SIZE(names) ? names[r] : "?";
}

/* Replace every "@FILE" in @pattern with @path. */
static void expand(const char *pattern, const char *path, char *buf,
		   size_t len)
{
	const char *at = strstr(pattern, "@FILE");

	if (!at)
		snprintf(buf, len, "%s", pattern);
	else
		snprintf(buf, len, "%.*s%s%s", (int)(at - pattern), pattern,
			 path, at + 5);
}

struct cli_case {
	const char *name;
	const char *args[MAX_ARGS];
	enum znst_cli_result res;
	const char *err;	/* substring of the error (ERROR cases) */
	const char *out;	/* substring of stdout, if set */
	struct field_check chk[MAX_CHECKS];
	struct str_check str[2];
};

/* Check one outcome against a case's expectations; prints one TAP line. */
static void judge(struct tap *t, const char *name, enum znst_cli_result res,
		  enum znst_cli_result want, const struct znst_config *cfg,
		  const char *err, const char *want_err, const char *out,
		  const char *want_out, const struct field_check *chk,
		  const struct str_check *str)
{
	char why[512] = "";
	bool ok = res == want;

	if (!ok)
		snprintf(why, sizeof(why), "got %s, expected %s (err '%s')",
			 res_name(res), res_name(want), err);
	if (ok && want == ZNST_CLI_ERROR) {
		if (!err[0] || strchr(err, '\n')) {
			ok = false;
			snprintf(why, sizeof(why), "error '%s' not one line", err);
		} else if (want_err && !strstr(err, want_err)) {
			ok = false;
			snprintf(why, sizeof(why), "error '%s' lacks '%s'", err,
				 want_err);
		}
	}
	if (ok && want_out && !strstr(out, want_out)) {
		ok = false;
		snprintf(why, sizeof(why), "stdout lacks '%s'", want_out);
	}
	if (ok && want == ZNST_CLI_RUN)
		ok = check_fields(cfg, chk, str, why, sizeof(why));
	if (ok && want == ZNST_CLI_ERROR)
		snprintf(why, sizeof(why), "%s", err);
	tap_result(t, ok, "%s%s%s", name, why[0] ? ": " : "", why);
}

static const struct cli_case cli_cases[] = {
	/* Defaults and each option. */
	{ "defaults", { NULL }, ZNST_CLI_RUN,
	  .chk = { CHK(listen_port, 4420), CHK(lba_size, 4096),
		   CHK(zoned.nr_zones, 64), CHK(zoned.zone_size, 64 * M),
		   CHK(zoned.zone_cap, 48 * M), CHK(zoned.max_open, 12),
		   CHK(zoned.max_active, 14), CHK(zoned.zone_append_max, 128 * K) },
	  .str = { STR(listen_addr, "127.0.0.1"), STR(nqn, ZNST_DEFAULT_NQN) } },
	{ "defaults (2)", { NULL }, ZNST_CLI_RUN,
	  .chk = { CHK(conv_size, 1 * G), CHK(mdts, 512 * K),
		   CHK(max_queues, 8), CHK(queue_depth, 128), CHK(reactors, 1),
		   CHK(timing, ZNST_TIMING_NONE), CHK(verbose, 0) } },
	{ "--listen v4:port", { "--listen", "0.0.0.0:4421" }, ZNST_CLI_RUN,
	  .chk = { CHK(listen_port, 4421) }, .str = { STR(listen_addr, "0.0.0.0") } },
	{ "--listen [v6]:port", { "--listen", "[::1]:4430" }, ZNST_CLI_RUN,
	  .chk = { CHK(listen_port, 4430) }, .str = { STR(listen_addr, "::1") } },
	{ "--listen [v6] gets 4420", { "--listen=[::1]" }, ZNST_CLI_RUN,
	  .chk = { CHK(listen_port, 4420) }, .str = { STR(listen_addr, "::1") } },
	{ "--listen host gets 4420", { "--listen", "localhost" }, ZNST_CLI_RUN,
	  .chk = { CHK(listen_port, 4420) }, .str = { STR(listen_addr, "localhost") } },
	{ "--listen bare v6", { "--listen", "::" }, ZNST_CLI_RUN,
	  .chk = { CHK(listen_port, 4420) }, .str = { STR(listen_addr, "::") } },
	{ "--listen v6 with scope", { "--listen", "[fe80::1%eth0]:5000" },
	  ZNST_CLI_RUN, .chk = { CHK(listen_port, 5000) },
	  .str = { STR(listen_addr, "fe80::1%eth0") } },
	{ "--nqn", { "--nqn", "nqn.2014-08.org.example:test-1" }, ZNST_CLI_RUN,
	  .str = { STR(nqn, "nqn.2014-08.org.example:test-1") } },
	{ "--zones/--zone-size/--zone-cap",
	  { "--zones", "64", "--zone-size", "128M", "--zone-cap", "100M" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.nr_zones, 64),
	  CHK(zoned.zone_size, 128 * M), CHK(zoned.zone_cap, 100 * M) } },
	{ "--opt=value form", { "--zone-size=32M", "--zone-cap=32M" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.zone_size, 32 * M),
	  CHK(zoned.zone_cap, 32 * M) } },
	{ "--max-open/--max-active", { "--max-open", "14", "--max-active", "14" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.max_open, 14),
	  CHK(zoned.max_active, 14) } },
	{ "both limits 0 = unlimited", { "--max-open", "0", "--max-active", "0" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.max_open, 0),
	  CHK(zoned.max_active, 0) } },
	{ "--max-open only, active unlimited", { "--max-active", "0", "--max-open", "50" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.max_open, 50) } },
	{ "--lba-size 512", { "--lba-size", "512", "--zone-size", "1M",
	  "--zone-cap", "768K" }, ZNST_CLI_RUN, .chk = { CHK(lba_size, 512),
	  CHK(zoned.zone_size, 1 * M), CHK(zoned.zone_cap, 768 * K) } },
	{ "--conv-size 0", { "--conv-size", "0" }, ZNST_CLI_RUN,
	  .chk = { CHK(conv_size, 0) } },
	/* Optional ZNS features (issue 3): all off by default. */
	{ "ZNS features default off", { NULL }, ZNST_CLI_RUN,
	  .chk = { CHK(zoned.desc_ext_size, 0), CHK(zoned.razb, 0),
		   CHK(zoned.numzrwa, 0), CHK(zoned.rrl, 0), CHK(zoned.frl, 0),
		   CHK(zoned.zfc_delay, 0), CHK(zoned.offline_zones.nr, 0),
		   CHK(cmd_copy, 0) } },
	{ "--desc-ext-size --razb --numzrwa --zrwa-size --zrwa-fg",
	  { "--desc-ext-size", "128", "--razb", "1", "--numzrwa", "4",
	    "--zrwa-size", "64K", "--zrwa-fg", "16K" }, ZNST_CLI_RUN,
	  .chk = { CHK(zoned.desc_ext_size, 128), CHK(zoned.razb, 1),
		   CHK(zoned.numzrwa, 4), CHK(zoned.zrwa_size, 64 * K),
		   CHK(zoned.zrwa_fg, 16 * K) } },
	{ "--rrl --frl --zfc-delay --frl3", { "--rrl", "60", "--frl", "30",
	  "--zfc-delay", "5", "--frl3", "9" }, ZNST_CLI_RUN,
	  .chk = { CHK(zoned.rrl, 60), CHK(zoned.frl, 30),
		   CHK(zoned.zfc_delay, 5), CHK(zoned.frl3, 9) } },
	{ "--offline-zones --read-only-zones", { "--offline-zones", "3,5",
	  "--read-only-zones", "7" }, ZNST_CLI_RUN,
	  .chk = { CHK(zoned.offline_zones.nr, 2), CHK(zoned.offline_zones.idx[0], 3),
		   CHK(zoned.offline_zones.idx[1], 5), CHK(zoned.read_only_zones.nr, 1),
		   CHK(zoned.read_only_zones.idx[0], 7) } },
	{ "--offline-zones none", { "--offline-zones", "3", "--offline-zones", "none" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.offline_zones.nr, 0) } },
	{ "--copy --compare --verify --dsm", { "--copy", "1", "--compare", "1",
	  "--verify", "1", "--dsm", "1" }, ZNST_CLI_RUN,
	  .chk = { CHK(cmd_copy, 1), CHK(cmd_compare, 1), CHK(cmd_verify, 1),
		   CHK(cmd_dsm, 1) } },
	{ "--desc-ext-size not a multiple of 64", { "--desc-ext-size", "100" },
	  ZNST_CLI_ERROR, .err = "--desc-ext-size: 100 is not a multiple of 64" },
	{ "--desc-ext-size above 16320", { "--desc-ext-size", "16384" },
	  ZNST_CLI_ERROR, .err = "--desc-ext-size: 16K is out of range" },
	{ "--numzrwa without --zrwa-size", { "--numzrwa", "2" }, ZNST_CLI_ERROR,
	  .err = "--zrwa-size: 0 must be a non-zero multiple" },
	{ "--zrwa-size not a multiple of --zrwa-fg", { "--numzrwa", "2",
	  "--zrwa-size", "20K", "--zrwa-fg", "8K" }, ZNST_CLI_ERROR,
	  .err = "--zrwa-size: 20K must be a non-zero multiple of --zrwa-fg 8K" },
	{ "--numzrwa above --max-active", { "--numzrwa", "15", "--zrwa-size", "64K" },
	  ZNST_CLI_ERROR, .err = "--numzrwa: 15 is larger than --max-active 14" },
	{ "--razb 2", { "--razb", "2" }, ZNST_CLI_ERROR,
	  .err = "--razb: 2 is out of range 0..1" },
	{ "--offline-zones past the last zone", { "--offline-zones", "64" },
	  ZNST_CLI_ERROR, .err = "--offline-zones: zone 64 does not exist" },
	{ "--offline-zones bad list", { "--offline-zones", "3,,4" },
	  ZNST_CLI_ERROR, .err = "is not a list of zone indices" },
	{ "zone both offline and read-only", { "--offline-zones", "2",
	  "--read-only-zones", "1,2" }, ZNST_CLI_ERROR,
	  .err = "zone 2 is also in --read-only-zones" },
	{ "--zones 0 skips zone checks", { "--zones", "0", "--conv-size", "4G" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.nr_zones, 0), CHK(conv_size, 4 * G) } },
	{ "--mdts/--zone-append-max", { "--mdts", "1M", "--zone-append-max", "1M" },
	  ZNST_CLI_RUN, .chk = { CHK(mdts, 1 * M),
	  CHK(zoned.zone_append_max, 1 * M) } },
	{ "--mdts 8M upper bound", { "--mdts", "8M", "--zone-append-max", "8M" },
	  ZNST_CLI_RUN, .chk = { CHK(mdts, 8 * M) } },
	{ "--mdts 4K lower bound", { "--mdts", "4K", "--zone-append-max", "4K" },
	  ZNST_CLI_RUN, .chk = { CHK(mdts, 4 * K),
	  CHK(zoned.zone_append_max, 4 * K) } },
	{ "queue/reactor upper bounds", { "--max-queues", "128", "--queue-depth",
	  "1024", "--reactors", "64" }, ZNST_CLI_RUN, .chk = {
	  CHK(max_queues, 128), CHK(queue_depth, 1024), CHK(reactors, 64) } },
	{ "queue/reactor lower bounds", { "--max-queues", "1", "--queue-depth",
	  "16", "--reactors", "1" }, ZNST_CLI_RUN, .chk = {
	  CHK(max_queues, 1), CHK(queue_depth, 16), CHK(reactors, 1) } },
	{ "limits", { "--max-connections", "8", "--max-inflight-data", "1M",
	  "--handshake-timeout", "2s", "--pdu-timeout", "500ms", "--kato-min",
	  "2s", "--kato-max", "60s" }, ZNST_CLI_RUN, .chk = {
	  CHK(max_conns, 8), CHK(max_inflight, 1 * M),
	  CHK(handshake_timeout, 2000000000ull), CHK(pdu_timeout, 500000000ull),
	  CHK(kato_min, 2000000000ull), CHK(kato_max, 60000000000ull) } },
	{ "--timing none", { "--timing", "none" }, ZNST_CLI_RUN,
	  .chk = { CHK(timing, ZNST_TIMING_NONE) } },
	{ "-v -v", { "-v", "-v" }, ZNST_CLI_RUN, .chk = { CHK(verbose, 2) } },
	{ "-vv", { "-vv" }, ZNST_CLI_RUN, .chk = { CHK(verbose, 2) } },
	{ "--verbose", { "--verbose" }, ZNST_CLI_RUN, .chk = { CHK(verbose, 1) } },
	{ "later option wins", { "--zones", "100", "--zones", "200" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.nr_zones, 200) } },
	{ "SIZE 1GiB / 1GB", { "--zone-size", "1GiB", "--zone-cap", "1GB" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.zone_size, 1 * G),
	  CHK(zoned.zone_cap, 1 * G) } },
	{ "SIZE in plain bytes", { "--zone-size", "65536", "--zone-cap", "32768" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.zone_size, 64 * K),
	  CHK(zoned.zone_cap, 32 * K) } },

	/* Cross-field validation: each names the option at fault. */
	{ "zone-cap > zone-size", { "--zone-cap", "96M" }, ZNST_CLI_ERROR,
	  .err = "--zone-cap: 96M is larger than --zone-size 64M" },
	{ "zone-size not a power of two", { "--zone-size", "48M", "--zone-cap",
	  "32M" }, ZNST_CLI_ERROR, .err = "--zone-size: 48M is not a power of two" },
	{ "zone-size not a multiple of lba-size", { "--zone-size", "6K",
	  "--zone-cap", "4K" }, ZNST_CLI_ERROR,
	  .err = "--zone-size: 6K is not a multiple of --lba-size 4096" },
	{ "zone-size not pow2 in 512B blocks", { "--lba-size", "512",
	  "--zone-size", "6K", "--zone-cap", "4K" }, ZNST_CLI_ERROR,
	  .err = "--zone-size: 6K is not a power of two in 512-byte blocks" },
	{ "zone-size below 4K", { "--lba-size", "512", "--zone-size", "2K",
	  "--zone-cap", "2K" }, ZNST_CLI_ERROR, .err = "--zone-size: 2K is out of range" },
	{ "zone-cap 0", { "--zone-cap", "0" }, ZNST_CLI_ERROR,
	  .err = "--zone-cap: must not be 0" },
	{ "zone-cap not a multiple of lba-size", { "--zone-cap", "2K" },
	  ZNST_CLI_ERROR, .err = "--zone-cap: 2K is not a multiple of --lba-size 4096" },
	{ "max-open > max-active", { "--max-open", "15" }, ZNST_CLI_ERROR,
	  .err = "--max-open: 15 is larger than --max-active 14" },
	{ "max-open 0 with max-active", { "--max-open", "0" }, ZNST_CLI_ERROR,
	  .err = "--max-open: 0 (unlimited) but --max-active is 14" },
	{ "max-open > zones", { "--zones", "8" }, ZNST_CLI_ERROR,
	  .err = "--max-open: 12 is larger than --zones 8" },
	{ "max-active > zones", { "--zones", "13" }, ZNST_CLI_ERROR,
	  .err = "--max-active: 14 is larger than --zones 13" },
	{ "zones * zone-size > 64T", { "--zones", "4194304" }, ZNST_CLI_ERROR,
	  .err = "--zones: 4194304 zones of --zone-size 64M exceed the 64T limit" },
	{ "zones * zone-size overflows", { "--zones", "4294967295",
	  "--zone-size", "64T", "--zone-cap", "64T" }, ZNST_CLI_ERROR,
	  .err = "--zones: 4294967295 zones" },
	{ "conv-size not a multiple of lba-size", { "--conv-size", "6K" },
	  ZNST_CLI_ERROR, .err = "--conv-size: 6K is not a multiple of --lba-size 4096" },
	{ "conv-size + zoned > 64T", { "--conv-size", "64T" }, ZNST_CLI_ERROR,
	  .err = "--conv-size: 64T plus the zoned namespace exceeds" },
	{ "zone-append-max > mdts", { "--zone-append-max", "1M" },
	  ZNST_CLI_ERROR, .err = "--zone-append-max: 1M is larger than --mdts 512K" },
	{ "max-inflight-data < mdts", { "--max-inflight-data", "256K" },
	  ZNST_CLI_ERROR, .err = "--max-inflight-data: 256K is smaller than --mdts 512K" },
	{ "kato-min > kato-max", { "--kato-min", "10s", "--kato-max", "5s" },
	  ZNST_CLI_ERROR, .err = "--kato-min: larger than --kato-max" },
	{ "max-connections 0", { "--max-connections", "0" }, ZNST_CLI_ERROR,
	  .err = "--max-connections: 0 is out of range 1..65536" },
	{ "no namespace", { "--zones", "0", "--conv-size", "0" }, ZNST_CLI_ERROR,
	  .err = "no namespace configured: --zones and --conv-size are both 0" },

	/* Values rejected when set. */
	{ "mdts below 4K", { "--mdts", "2K" }, ZNST_CLI_ERROR,
	  .err = "--mdts: 2K is out of range 4K..8M" },
	{ "mdts above 8M", { "--mdts", "16M" }, ZNST_CLI_ERROR,
	  .err = "--mdts: 16M is out of range 4K..8M" },
	{ "mdts not a power of two", { "--mdts", "12K" }, ZNST_CLI_ERROR,
	  .err = "--mdts: 12K is not a power of two" },
	{ "zone-append-max not a power of two", { "--zone-append-max", "96K" },
	  ZNST_CLI_ERROR, .err = "--zone-append-max: 96K is not a power of two" },
	{ "lba-size 1024", { "--lba-size", "1024" }, ZNST_CLI_ERROR,
	  .err = "--lba-size: 1024 is not one of 512|4096" },
	{ "max-queues 0", { "--max-queues", "0" }, ZNST_CLI_ERROR,
	  .err = "--max-queues: 0 is out of range 1..128" },
	{ "max-queues 129", { "--max-queues", "129" }, ZNST_CLI_ERROR,
	  .err = "--max-queues: 129 is out of range" },
	{ "queue-depth 8", { "--queue-depth", "8" }, ZNST_CLI_ERROR,
	  .err = "--queue-depth: 8 is out of range 16..1024" },
	{ "queue-depth 2048", { "--queue-depth", "2048" }, ZNST_CLI_ERROR,
	  .err = "--queue-depth: 2048 is out of range" },
	{ "reactors 0", { "--reactors", "0" }, ZNST_CLI_ERROR,
	  .err = "--reactors: 0 is out of range 1..64" },
	{ "reactors 65", { "--reactors", "65" }, ZNST_CLI_ERROR,
	  .err = "--reactors: 65 is out of range" },
	{ "timing unknown", { "--timing", "fast" }, ZNST_CLI_ERROR,
	  .err = "--timing: 'fast' is not a known MODEL" },
	/* the conventional namespace's own model (--conv-timing) */
	{ "conv-timing: shared by default", { NULL }, ZNST_CLI_RUN,
	  .chk = { CHK(conv_timing, ZNST_CONV_TIMING_SHARED),
		   CHK(conv_tm.t_read, 40000), CHK(conv_tm.channels, 8) } },
	{ "--conv-timing fixed with its own latencies",
	  { "--timing", "fixed", "--lat-read", "90us", "--conv-timing", "fixed",
	    "--conv-lat-read", "1ms", "--conv-bandwidth", "100M" }, ZNST_CLI_RUN,
	  .chk = { CHK(timing, ZNST_TIMING_FIXED), CHK(tm.lat_read, 90000),
		   CHK(conv_timing, ZNST_CONV_TIMING_FIXED), CHK(conv_tm.lat_read, 1000000),
		   CHK(conv_tm.bandwidth, 100 * M), CHK(tm.bandwidth, 0) } },
	{ "--conv-profile: timing only, not the geometry",
	  { "--conv-profile", "zn540" }, ZNST_CLI_RUN,
	  .chk = { CHK(conv_timing, ZNST_CONV_TIMING_NAND), CHK(conv_tm.t_read, 57000),
		   CHK(conv_tm.dies, 4), CHK(conv_tm.write_buffer, 32 * M),
		   CHK(timing, ZNST_TIMING_NONE), CHK(zoned.nr_zones, 64),
		   CHK(zoned.zone_size, 64 * M), CHK(tm.t_read, 40000) } },
	{ "--conv-profile first, wherever it stands; --profile apart",
	  { "--conv-t-read", "80us", "--profile", "femu", "--conv-profile", "zn540" },
	  ZNST_CLI_RUN,
	  .chk = { CHK(conv_tm.t_read, 80000), CHK(conv_tm.t_prog, 1748000),
		   CHK(conv_timing, ZNST_CONV_TIMING_NAND), CHK(timing, ZNST_TIMING_NAND),
		   CHK(tm.t_read, 40000), CHK(tm.dies, 8) } },
	{ "--conv-profile none: a model of its own, without delays",
	  { "--profile", "zn540", "--conv-profile", "none" }, ZNST_CLI_RUN,
	  .chk = { CHK(conv_timing, ZNST_CONV_TIMING_NONE), CHK(timing, ZNST_TIMING_NAND) } },
	{ "--conv-timing unknown", { "--conv-timing", "slow" }, ZNST_CLI_ERROR,
	  .err = "--conv-timing: 'slow' is not a known MODEL" },
	{ "--conv-timing without a conventional namespace",
	  { "--conv-size", "0", "--conv-timing", "fixed" }, ZNST_CLI_ERROR,
	  .err = "--conv-timing fixed: there is no conventional namespace (--conv-size 0)" },
	{ "--conv-timing nand checks its own figures",
	  { "--conv-timing", "nand", "--conv-t-erase", "0" }, ZNST_CLI_ERROR,
	  .err = "--conv-timing nand: conv-t-read, conv-t-prog and conv-t-erase must be non-zero" },
	{ "--conv-page-size names itself", { "--conv-timing", "nand", "--conv-page-size", "3K" },
	  ZNST_CLI_ERROR, .err = "--conv-page-size: 3K is not a power of two" },
	{ "--conv-zone-dies over the dies",
	  { "--conv-timing", "nand", "--conv-channels", "2", "--conv-dies", "2",
	    "--conv-zone-dies", "5" }, ZNST_CLI_ERROR,
	  .err = "--conv-zone-dies: 5 is more than --conv-channels x --conv-dies (4)" },
	{ "--conv-lat-read bad time", { "--conv-lat-read", "soon" }, ZNST_CLI_ERROR,
	  .err = "--conv-lat-read: 'soon' is not a time" },
	{ "--conv-channels out of range", { "--conv-channels", "65" }, ZNST_CLI_ERROR,
	  .err = "--conv-channels: 65 is out of range 1..64" },
	{ "nqn without prefix", { "--nqn", "iqn.2024-01.x:y" }, ZNST_CLI_ERROR,
	  .err = "--nqn: 'iqn.2024-01.x:y' does not start with \"nqn.\"" },
	{ "nqn prefix only", { "--nqn", "nqn." }, ZNST_CLI_ERROR,
	  .err = "--nqn: nothing after \"nqn.\"" },
	{ "nqn with a space", { "--nqn", "nqn.2024-01.x:a b" }, ZNST_CLI_ERROR,
	  .err = "--nqn: byte 0x20 at offset 15 is a space" },
	{ "nqn with a control byte", { "--nqn", "nqn.2024-01.x:\x01" },
	  ZNST_CLI_ERROR, .err = "--nqn: byte 0x01 at offset 14" },
	{ "nqn with a non-ASCII byte", { "--nqn", "nqn.2024-01.x:\xc3\xa9" },
	  ZNST_CLI_ERROR, .err = "--nqn: byte 0xc3 at offset 14" },
	{ "listen port too large", { "--listen", "1.2.3.4:99999" },
	  ZNST_CLI_ERROR, .err = "--listen: '1.2.3.4:99999': port must be 1..65535" },
	{ "listen port 0", { "--listen", "1.2.3.4:0" }, ZNST_CLI_ERROR,
	  .err = "--listen: '1.2.3.4:0': port" },
	{ "listen empty port", { "--listen", "1.2.3.4:" }, ZNST_CLI_ERROR,
	  .err = "--listen: '1.2.3.4:': port" },
	{ "listen unclosed [", { "--listen", "[::1" }, ZNST_CLI_ERROR,
	  .err = "--listen: '[::1': missing ']'" },
	{ "listen junk after ]", { "--listen", "[::1]x" }, ZNST_CLI_ERROR,
	  .err = "--listen: '[::1]x'" },
	{ "listen empty host", { "--listen", ":4420" }, ZNST_CLI_ERROR,
	  .err = "--listen: ':4420': empty address" },
	{ "listen [v4]", { "--listen", "[1.2.3.4]:80" }, ZNST_CLI_ERROR,
	  .err = "--listen: '[1.2.3.4]:80': '1.2.3.4' is not an IPv6 address" },
	{ "listen bad host", { "--listen", "bad!host" }, ZNST_CLI_ERROR,
	  .err = "--listen: 'bad!host'" },
	{ "u32 not a number", { "--zones", "abc" }, ZNST_CLI_ERROR,
	  .err = "--zones: 'abc' is not a decimal number" },
	{ "u32 negative", { "--zones", "-1" }, ZNST_CLI_ERROR,
	  .err = "--zones: '-1' is not a decimal number" },
	{ "u32 overflow", { "--zones", "4294967296" }, ZNST_CLI_ERROR,
	  .err = "--zones: '4294967296' is too large" },
	{ "SIZE bad suffix 12Q", { "--zone-size", "12Q" }, ZNST_CLI_ERROR,
	  .err = "--zone-size: '12Q' is not a size" },
	{ "SIZE overflow", { "--zone-size", "99999999999T" }, ZNST_CLI_ERROR,
	  .err = "--zone-size: '99999999999T' is too large" },
	{ "SIZE above 64T", { "--zone-size", "128T" }, ZNST_CLI_ERROR,
	  .err = "--zone-size: 128T is out of range 4K..64T" },

	/* Command-line syntax. */
	{ "unknown long option", { "--frobnicate" }, ZNST_CLI_ERROR,
	  .err = "--frobnicate: unknown option" },
	{ "unknown long option with value", { "--frobnicate=1" },
	  ZNST_CLI_ERROR, .err = "--frobnicate: unknown option" },
	{ "ambiguous abbreviation", { "--zone", "5" }, ZNST_CLI_ERROR,
	  .err = "--zone: unknown option" },
	{ "unknown short option", { "-x" }, ZNST_CLI_ERROR, .err = "-x: unknown option" },
	{ "unknown short option in a group", { "-vx" }, ZNST_CLI_ERROR,
	  .err = "-x: unknown option" },
	{ "missing argument", { "--zones" }, ZNST_CLI_ERROR,
	  .err = "--zones: missing argument" },
	{ "-c missing argument", { "-c" }, ZNST_CLI_ERROR,
	  .err = "--config: missing argument" },
	{ "--help=x", { "--help=1" }, ZNST_CLI_ERROR, .err = "--help: takes no argument" },
	{ "operand", { "-v", "stray" }, ZNST_CLI_ERROR,
	  .err = "stray: unexpected argument" },
	{ "missing config file", { "--zones", "8", "-c", "/nonexistent/znst.conf" },
	  ZNST_CLI_ERROR,
	  .err = "config file /nonexistent/znst.conf: No such file or directory" },
	{ "config file is a directory", { "-c", "/tmp" }, ZNST_CLI_ERROR,
	  .err = "config file /tmp: Is a directory" },
	{ "--config twice", { "-c", "/a", "--config", "/b" }, ZNST_CLI_ERROR,
	  .err = "--config: given more than once" },
	{ "-v after an error parses again", { "-v" }, ZNST_CLI_RUN,
	  .chk = { CHK(verbose, 1) } },

	/* --help / --version. */
	{ "--version", { "--version" }, ZNST_CLI_EXIT_OK, .out = "znstcpd " ZNST_VERSION_STRING "\n" },
	{ "-V", { "-V" }, ZNST_CLI_EXIT_OK, .out = "znstcpd " ZNST_VERSION_STRING },
	{ "--help", { "--help" }, ZNST_CLI_EXIT_OK, .out = "Usage: znstcpd" },
	{ "-h shows zone-size default and key", { "-h" }, ZNST_CLI_EXIT_OK,
	  .out = "default 64M; file: [zoned] zone_size" },
	{ "--help shows listen default", { "--help" }, ZNST_CLI_EXIT_OK,
	  .out = "default 127.0.0.1:4420; file: [target] listen" },
	{ "--help wins over a bad value", { "--zones", "abc", "--help" },
	  ZNST_CLI_EXIT_OK, .out = "Usage:" },
	{ "--help skips the config file", { "-c", "/nonexistent", "--help" },
	  ZNST_CLI_EXIT_OK, .out = "Usage:" },
	{ "unknown option before --help", { "--frob", "--help" },
	  ZNST_CLI_ERROR, .err = "--frob: unknown option" },
};

static void test_cli(struct tap *t)
{
	char err[512], out[OUT_MAX];

	for (size_t i = 0; i < ARRAY_SIZE(cli_cases); i++) {
		const struct cli_case *c = &cli_cases[i];
		struct znst_config cfg;
		enum znst_cli_result res;

		res = run_cli(&cfg, c->args, NULL, err, sizeof(err), out,
			      sizeof(out));
		judge(t, c->name, res, c->res, &cfg, err, c->err, out, c->out,
		      c->chk, c->str);
	}
}

/* --help must list every option, generated from the table. */
static void test_help_complete(struct tap *t)
{
	static const char *const names[] = {
		"-c, --config FILE", "--listen ADDR[:PORT]", "--nqn NQN",
		"--lba-size 512|4096", "--zones N", "--zone-size SIZE",
		"--zone-cap SIZE", "--max-open N", "--max-active N",
		"--zone-append-max SIZE", "--conv-size SIZE", "--mdts SIZE",
		"--max-queues N", "--queue-depth N", "--reactors N",
		"--timing MODEL", "-v, --verbose", "-h, --help",
		"-V, --version",
	};
	const char *const args[] = { "--help", NULL };
	struct znst_config cfg;
	char err[256], out[OUT_MAX];
	const char *missing = NULL;

	run_cli(&cfg, args, NULL, err, sizeof(err), out, sizeof(out));
	for (size_t i = 0; i < ARRAY_SIZE(names) && !missing; i++)
		if (!strstr(out, names[i]))
			missing = names[i];
	tap_result(t, !missing, "--help lists every option%s%s",
		   missing ? ": missing " : "", missing ? missing : "");
}

/* NQN length limits need generated strings. */
static void test_nqn_length(struct tap *t)
{
	char nqn[ZNST_NQN_MAX + 2], err[512], out[OUT_MAX];
	const char *args[] = { "--nqn", nqn, NULL };
	struct znst_config cfg;
	enum znst_cli_result res;

	memset(nqn, 'a', sizeof(nqn) - 1);
	memcpy(nqn, "nqn.", 4);
	nqn[ZNST_NQN_MAX] = '\0';
	res = run_cli(&cfg, args, NULL, err, sizeof(err), out, sizeof(out));
	tap_result(t, res == ZNST_CLI_RUN && strlen(cfg.nqn) == ZNST_NQN_MAX,
		   "223-byte NQN accepted (%s)", err);

	nqn[ZNST_NQN_MAX] = 'a';
	nqn[ZNST_NQN_MAX + 1] = '\0';
	res = run_cli(&cfg, args, NULL, err, sizeof(err), out, sizeof(out));
	tap_result(t, res == ZNST_CLI_ERROR && strstr(err, "--nqn:") &&
		      strstr(err, "224 bytes"),
		   "224-byte NQN rejected: %s", err);
}

struct size_case {
	const char *in;
	int rc;
	uint64_t val;
};

static const struct size_case size_cases[] = {
	{ "0", 0, 0 },
	{ "512", 0, 512 },
	{ "4K", 0, 4 * K },
	{ "4k", 0, 4 * K },
	{ "64M", 0, 64 * M },
	{ "1G", 0, 1 * G },
	{ "1GiB", 0, 1 * G },
	{ "1GB", 0, 1 * G },
	{ "2T", 0, 2 * T },
	{ "512B", 0, 512 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "16777215T", 0, UINT64_C(16777215) << 40 },
	{ "12Q", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "K", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ " 4K", -EINVAL, 0 },
	{ "4 K", -EINVAL, 0 },
	{ "4KK", -EINVAL, 0 },
	{ "4iB", -EINVAL, 0 },
	{ "1.5G", -EINVAL, 0 },
	{ "0x100", -EINVAL, 0 },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "16777216T", -ERANGE, 0 },
	{ "99999999999999999999999K", -ERANGE, 0 },
	{ "99999999999999999999999Q", -EINVAL, 0 },
};

static void test_parse_size(struct tap *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(size_cases); i++) {
		const struct size_case *c = &size_cases[i];
		uint64_t v = 0xdead;
		int rc = znst_parse_size(c->in, &v);

		tap_result(t, rc == c->rc && (rc || v == c->val),
			   "parse_size(\"%s\") = %d, %llu", c->in, rc,
			   (unsigned long long)v);
	}
}

struct set_case {
	const char *name, *value;
	int rc;
	struct field_check chk;
};

static const struct set_case set_cases[] = {
	{ "zone-size", "32M", 0, CHK(zoned.zone_size, 32 * M) },
	{ "zone_size", "16M", 0, CHK(zoned.zone_size, 16 * M) },
	{ "Zone_Append_Max", "64K", 0, CHK(zoned.zone_append_max, 64 * K) },
	{ "verbose", "3", 0, CHK(verbose, 3) },
	{ "verbose", "10", -ERANGE, CHK(verbose, 0) },
	{ "no-such-option", "1", -ENOENT, CHK(verbose, 0) },
	{ "help", "1", -EINVAL, CHK(verbose, 0) },
	{ "config", "/x", -EINVAL, CHK(verbose, 0) },
};

static void test_set(struct tap *t)
{
	for (size_t i = 0; i < ARRAY_SIZE(set_cases); i++) {
		const struct set_case *c = &set_cases[i];
		struct znst_config cfg;
		char err[256] = "";
		int rc;

		znst_config_defaults(&cfg);
		rc = znst_config_set(&cfg, c->name, c->value, err, sizeof(err));
		tap_result(t, rc == c->rc && field_value(&cfg, &c->chk) == c->chk.val &&
			      (rc == 0) == (err[0] == '\0'),
			   "config_set(%s, %s) = %d %s", c->name, c->value, rc,
			   err);
	}
}

struct file_case {
	const char *name;
	const char *content;
	const char *args[8];	/* "@FILE" is the temp file */
	enum znst_cli_result res;
	const char *err;	/* "@FILE" expands here too */
	struct field_check chk[MAX_CHECKS];
	struct str_check str[2];
};

static const char full_file[] =
	"# every key, none at its default\n"
	"; both comment styles\n"
	"[target]\n"
	"listen = [::1]:4500\n"
	"nqn = nqn.2024-01.test:file\n"
	"lba_size = 512\n"
	"\n"
	"[zoned]\n"
	"zones = 32\n"
	"zone-size = 16M\n"
	"zone_cap = 12M\n"
	"max_open = 4\n"
	"max_active = 6\n"
	"zone_append_max = 64K\n"
	"\n"
	"[conventional]\n"
	"conv_size = 256M\n"
	"\n"
	"[limits]\n"
	"mdts = 256K\n"
	"max_queues = 4\n"
	"queue_depth = 64\n"
	"\n"
	"[runtime]\n"
	"reactors = 2\n"
	"timing = none\n"
	"verbose = 1\n";

static const struct file_case file_cases[] = {
	{ "file: zoned keys", full_file, { "-c", "@FILE" }, ZNST_CLI_RUN,
	  .chk = { CHK(zoned.nr_zones, 32), CHK(zoned.zone_size, 16 * M),
	    CHK(zoned.zone_cap, 12 * M), CHK(zoned.max_open, 4),
	    CHK(zoned.max_active, 6), CHK(zoned.zone_append_max, 64 * K),
	    CHK(lba_size, 512), CHK(listen_port, 4500) },
	  .str = { STR(listen_addr, "::1"), STR(nqn, "nqn.2024-01.test:file") } },
	{ "file: other keys", full_file, { "--config", "@FILE" }, ZNST_CLI_RUN,
	  .chk = { CHK(conv_size, 256 * M), CHK(mdts, 256 * K),
	    CHK(max_queues, 4), CHK(queue_depth, 64), CHK(reactors, 2),
	    CHK(timing, ZNST_TIMING_NONE), CHK(verbose, 1) } },
	{ "CLI overrides file, -c given last", full_file,
	  { "--zones", "64", "--reactors", "3", "-v", "-c", "@FILE" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.nr_zones, 64), CHK(reactors, 3),
	    CHK(verbose, 2), CHK(zoned.zone_size, 16 * M), CHK(mdts, 256 * K) } },
	{ "CLI overrides file, -c given first", full_file,
	  { "-c", "@FILE", "--zone-size", "32M", "--nqn", "nqn.2024-01.test:cli" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.zone_size, 32 * M),
	    CHK(zoned.zone_cap, 12 * M) }, .str = { STR(nqn, "nqn.2024-01.test:cli") } },
	{ "empty file keeps defaults", "", { "-c", "@FILE" }, ZNST_CLI_RUN,
	  .chk = { CHK(zoned.nr_zones, 64), CHK(zoned.zone_size, 64 * M) } },
	{ "file: [conventional] takes the timing keys, bare or conv_",
	  "[conventional]\ntiming = fixed\nlat_read = 300us\nconv_lat_write = 20us\n"
	  "profile = none\n[timing]\nlat_read = 5us\n",
	  { "-c", "@FILE" }, ZNST_CLI_RUN,
	  .chk = { CHK(conv_timing, ZNST_CONV_TIMING_NONE), CHK(conv_tm.lat_read, 300000),
		   CHK(conv_tm.lat_write, 20000), CHK(tm.lat_read, 5000),
		   CHK(timing, ZNST_TIMING_NONE) } },
	{ "file: [conventional] nand figures",
	  "[conventional]\nconv_size = 64M\ntiming = nand\nt_read = 70us\nchannels = 2\n",
	  { "-c", "@FILE" }, ZNST_CLI_RUN,
	  .chk = { CHK(conv_timing, ZNST_CONV_TIMING_NAND), CHK(conv_tm.t_read, 70000),
		   CHK(conv_tm.channels, 2), CHK(tm.channels, 8), CHK(conv_size, 64 * M) } },
	{ "file: a conv_ key outside [conventional]",
	  "[timing]\nconv_lat_read = 1us\n", { "-c", "@FILE" }, ZNST_CLI_ERROR,
	  .err = "@FILE:2: unknown key 'conv_lat_read' in [timing] (it belongs in [conventional])" },
	{ "indented keys are not continuations",
	  "[zoned]\n  zones = 128\n\tmax_open = 10\n", { "-c", "@FILE" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.nr_zones, 128),
	    CHK(zoned.max_open, 10) } },
	{ "CRLF line ends", "[zoned]\r\nzones = 100\r\n", { "-c", "@FILE" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.nr_zones, 100) } },
	{ "inline ; comment", "[zoned]\nzones = 64 ; sixty-four\n",
	  { "-c", "@FILE" }, ZNST_CLI_RUN, .chk = { CHK(zoned.nr_zones, 64) } },
	{ "section and key case", "[ZONED]\nZone_Size = 32M\nZONE_CAP = 32M\n", { "-c", "@FILE" },
	  ZNST_CLI_RUN, .chk = { CHK(zoned.zone_size, 32 * M) } },
	{ "unknown key has its line", "[zoned]\nzones = 64\nbogus = 1\n",
	  { "-c", "@FILE" }, ZNST_CLI_ERROR,
	  .err = "@FILE:3: unknown key 'bogus' in [zoned]" },
	{ "unknown section",
	  "[target]\nnqn = nqn.2024-01.x:y\n\n[frob]\nkey = 1\n",
	  { "-c", "@FILE" }, ZNST_CLI_ERROR,
	  .err = "@FILE:5: unknown key 'key' in [frob] (unknown section)" },
	{ "key in the wrong section", "[target]\nzones = 8\n", { "-c", "@FILE" },
	  ZNST_CLI_ERROR,
	  .err = "@FILE:2: unknown key 'zones' in [target] (it belongs in [zoned])" },
	{ "key before any section", "zones = 8\n", { "-c", "@FILE" },
	  ZNST_CLI_ERROR, .err = "@FILE:1: key 'zones' before any [section]" },
	{ "command-line-only key", "[runtime]\nhelp = 1\n", { "-c", "@FILE" },
	  ZNST_CLI_ERROR, .err = "@FILE:2: unknown key 'help' in [runtime]" },
	{ "bad value has its line", "[zoned]\n\n# c\nzone_size = 12Q\n",
	  { "-c", "@FILE" }, ZNST_CLI_ERROR,
	  .err = "@FILE:4: zone_size: '12Q' is not a size" },
	{ "syntax error has its line", "[zoned]\nzones 8\n", { "-c", "@FILE" },
	  ZNST_CLI_ERROR, .err = "@FILE:2: syntax error" },
	{ "first of two errors is reported", "[zoned]\nzones = x\nbogus = 1\n",
	  { "-c", "@FILE" }, ZNST_CLI_ERROR, .err = "@FILE:2: zones:" },
	{ "syntax error before a key error", "[zoned]\nfoo\nbogus = 1\n",
	  { "-c", "@FILE" }, ZNST_CLI_ERROR, .err = "@FILE:2: syntax error" },
	{ "file values are validated", "[zoned]\nzone_cap = 96M\n",
	  { "-c", "@FILE" }, ZNST_CLI_ERROR,
	  .err = "--zone-cap: 96M is larger than --zone-size 64M" },
	{ "CLI fixes an invalid file value", "[zoned]\nzone_cap = 96M\n",
	  { "-c", "@FILE", "--zone-size", "128M" }, ZNST_CLI_RUN,
	  .chk = { CHK(zoned.zone_cap, 96 * M), CHK(zoned.zone_size, 128 * M) } },
	{ "long line is refused, not split",
	  "[target]\n"
	  "nqn = nqn.2024-01.io.example:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
	  { "-c", "@FILE" }, ZNST_CLI_ERROR, .err = "@FILE:2: line longer than" },
};

static int write_temp(const char *content, char path[32])
{
	int fd;
	size_t len = strlen(content);

	snprintf(path, 32, "/tmp/znst_conf_XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	if (write(fd, content, len) != (ssize_t)len) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	close(fd);
	return 0;
}

static void test_files(struct tap *t)
{
	char err[512], out[OUT_MAX], want[512], path[32];

	for (size_t i = 0; i < ARRAY_SIZE(file_cases); i++) {
		const struct file_case *c = &file_cases[i];
		struct znst_config cfg;
		enum znst_cli_result res;

		if (write_temp(c->content, path)) {
			tap_result(t, false, "%s: cannot write temp file", c->name);
			continue;
		}
		res = run_cli(&cfg, c->args, path, err, sizeof(err), out,
			      sizeof(out));
		if (c->err)
			expand(c->err, path, want, sizeof(want));
		judge(t, c->name, res, c->res, &cfg, err, c->err ? want : NULL,
		      out, NULL, c->chk, c->str);
		unlink(path);
	}
}

/* A file with an error changes nothing, even keys before the error. */
static void test_file_atomic(struct tap *t)
{
	struct znst_config cfg;
	char err[256], path[32];
	int rc;

	znst_config_defaults(&cfg);
	if (write_temp("[zoned]\nzones = 32\nbogus = 1\n", path)) {
		tap_result(t, false, "failed file leaves config alone: temp file");
		return;
	}
	rc = znst_config_load_file(&cfg, path, err, sizeof(err));
	unlink(path);
	tap_result(t, rc == -EINVAL && cfg.zoned.nr_zones == 64,
		   "failed file leaves config alone (rc %d, zones %u)", rc,
		   cfg.zoned.nr_zones);
}

/*
 * conf/znstcpd.conf.example must set every key, to the default: load it
 * over a poisoned config and compare summaries.  The path is found from
 * __FILE__, which meson gives relative to the build directory that
 * `meson test` runs in.
 */
static void test_example_file(struct tap *t)
{
	struct znst_config def, cfg;
	char path[512], err[512] = "", a[1024], b[1024];
	const char *slash = strrchr(__FILE__, '/');
	int rc;

	snprintf(path, sizeof(path), "%.*s/../../conf/znstcpd.conf.example",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	if (access(path, R_OK)) {
		tap_result(t, true, "example file matches defaults # SKIP %s not found from here",
			   path);
		return;
	}
	znst_config_defaults(&def);
	memset(&cfg, 0xff, sizeof(cfg));
	cfg.listen_addr[0] = '\0';
	cfg.nqn[0] = '\0';
	/* the conventional namespace's timing keys mirror [timing]'s: the
	 * example shows how [conventional] takes them, not each one again */
	cfg.conv_tm = def.conv_tm;
	rc = znst_config_load_file(&cfg, path, err, sizeof(err));
	if (!rc)
		rc = znst_config_validate(&cfg, err, sizeof(err));
	znst_config_describe(&def, a, sizeof(a));
	znst_config_describe(&cfg, b, sizeof(b));
	tap_result(t, rc == 0 && !strcmp(a, b),
		   "example file sets every key to its default%s%s%s%s", err[0] ? ": " : "", err,
		   strcmp(a, b) ? ": " : "", strcmp(a, b) ? b : "");
}

static void test_defaults_and_describe(struct tap *t)
{
	struct znst_config cfg;
	char err[256] = "", buf[512];
	int rc;

	znst_config_defaults(&cfg);
	rc = znst_config_validate(&cfg, err, sizeof(err));
	tap_result(t, rc == 0, "defaults are valid %s", err);

	znst_config_describe(&cfg, buf, sizeof(buf));
	tap_result(t, strstr(buf, "listen " ZNST_DEFAULT_LISTEN ",") &&
		      strstr(buf, "64 zones x 64M (cap 48M), max open 12, max active 14") &&
		      strstr(buf, "conventional: 1G") && !strchr(buf, '\n') &&
		      !strstr(buf, "zns features"),
		   "describe defaults: %s", buf);

	cfg.zoned.desc_ext_size = 128;
	cfg.zoned.numzrwa = 2;
	cfg.zoned.zrwa_size = 64 * K;
	cfg.zoned.frl = 30;
	cfg.cmd_dsm = 1;
	znst_config_describe(&cfg, buf, sizeof(buf));
	tap_result(t, strstr(buf, "; zns features: zdes 128, zrwa 2 x 64K/4K, frl 30s, dsm") != NULL,
		   "describe names the ZNS features that are on: %s", buf);
	znst_config_defaults(&cfg);

	cfg.zoned.nr_zones = 0;
	cfg.zoned.max_open = 0;
	snprintf(cfg.listen_addr, sizeof(cfg.listen_addr), "::1");
	znst_config_describe(&cfg, buf, sizeof(buf));
	tap_result(t, strstr(buf, "listen [::1]:4420") &&
		      strstr(buf, "zoned: none"),
		   "describe v6, no zones: %s", buf);

	{
		struct timing_params p;
		bool shared;

		znst_config_defaults(&cfg);
		shared = !znst_config_conv_timing_params(&cfg, &p);
		cfg.conv_timing = ZNST_CONV_TIMING_FIXED;
		cfg.conv_tm.lat_read = 90000;
		cfg.conv_tm.lat_reset = 7;	/* no zones there, but kept */
		znst_config_describe(&cfg, buf, sizeof(buf));
		tap_result(t, shared && znst_config_conv_timing_params(&cfg, &p) &&
			      p.kind == TIMING_MODEL_FIXED && p.lat_ns[TIMING_OP_READ] == 90000 &&
			      p.lat_ns[TIMING_OP_ZONE_RESET] == 7 &&
			      strstr(buf, "conventional: 1G (timing fixed);") &&
			      strstr(buf, "timing none,"),
			   "conv timing: params only when not shared, and the summary names it: %s",
			   buf);
	}

	/* validate() also guards fields set without the parsers. */
	znst_config_defaults(&cfg);
	cfg.lba_size = 1000;
	rc = znst_config_validate(&cfg, err, sizeof(err));
	tap_result(t, rc != 0 && strstr(err, "--lba-size"),
		   "validate catches a raw lba_size: %s", err);

	znst_config_defaults(&cfg);
	cfg.nqn[0] = 'x';
	rc = znst_config_validate(&cfg, err, sizeof(err));
	tap_result(t, rc != 0 && strstr(err, "--nqn"),
		   "validate catches a raw nqn: %s", err);
}

int main(void)
{
	struct tap t = { 0 };

	test_parse_size(&t);
	test_set(&t);
	test_defaults_and_describe(&t);
	test_cli(&t);
	test_help_complete(&t);
	test_nqn_length(&t);
	test_files(&t);
	test_file_atomic(&t);
	test_example_file(&t);
	printf("1..%d\n", t.n);
	return t.failed ? 1 : 0;
}
