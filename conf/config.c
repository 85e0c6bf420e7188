/* SPDX-License-Identifier: MIT */
/*
 * znstcpd configuration: the option table, value parsers, the INI file
 * loader (libinih), the command-line parser, cross-field validation, --help
 * and the start-up summary.  Everything a user can set is one row of
 * `options`, so the file and the command line cannot drift apart.
 */
#include "conf/config.h"

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
	OPT_VERBOSE,	/* int; each -v adds one, the file sets a level */
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
};

#define FIELD(m)	.offset = offsetof(struct znst_config, m), \
			.size = sizeof(((struct znst_config *)0)->m)

static const uint64_t lba_size_choices[] = { 512, 4096, 0 };

static const char *const timing_names[] = {
	[ZNST_TIMING_NONE] = "none",
};

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
	{ .name = "reactors", .section = "runtime", .type = OPT_U32,
	  FIELD(reactors), .min = 1, .max = 64, .metavar = "N",
	  .help = "reactor (I/O) threads, 1..64" },
	{ .name = "timing", .section = "runtime", .type = OPT_ENUM,
	  FIELD(timing), .names = timing_names,
	  .nr_names = ARRAY_SIZE(timing_names), .metavar = "MODEL",
	  .help = "latency model: none (complete as fast as RAM allows)" },
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
	       d->type == OPT_VERBOSE;
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

static const char *fmt_num(const struct opt_desc *d, uint64_t v, char buf[24])
{
	if (d->type == OPT_SIZE)
		return fmt_size(v, buf);
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
		snprintf(buf, len, "%s", fmt_num(d, field_get(cfg, d), num));
		break;
	case OPT_NQN:
		snprintf(buf, len, "%s", (const char *)cfg + d->offset);
		break;
	case OPT_LISTEN:
		fmt_listen(cfg->listen_addr, cfg->listen_port, buf, len);
		break;
	case OPT_ENUM: {
		uint64_t v = field_get(cfg, d);

		snprintf(buf, len, "%s",
			 v < d->nr_names && d->names[v] ? d->names[v] : "?");
		break;
	}
	case OPT_CONFIG:
	case OPT_HELP:
	case OPT_VERSION:
		snprintf(buf, len, "-");
		break;
	}
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
		for (size_t i = 0; i < d->nr_names; i++) {
			if (d->names[i] && !strcasecmp(value, d->names[i])) {
				field_set(cfg, d, i);
				return 0;
			}
		}
		errf(err, errlen, "'%s' is not a known %s", value, d->metavar);
		return -EINVAL;
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
		},
		.conv_size = 1024 * SZ_M,
		.mdts = 512 * SZ_K,
		.max_queues = 8,
		.queue_depth = 128,
		.reactors = 1,
		.timing = ZNST_TIMING_NONE,
	};
	/* Parsed, so the header's macro stays the single definition. */
	if (parse_listen(ZNST_DEFAULT_LISTEN, cfg->listen_addr,
			 &cfg->listen_port, NULL, 0))
		abort();
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

static int file_handle(void *user, const char *section, const char *name,
		       const char *value)
{
	struct file_ctx *ctx = user;
	const struct opt_desc *d = opt_lookup(name);
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
		default:
			break;
		}
	}
	if (optind < argc) {
		errf(err, errlen, "%s: unexpected argument", argv[optind]);
		goto out;
	}

	znst_config_defaults(cfg);
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
		} else if (is_setting(d) &&
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

void znst_config_describe(const struct znst_config *cfg, char *buf,
			  size_t len)
{
	const struct znst_zoned_conf *z = &cfg->zoned;
	char listen[ZNST_ADDR_MAX + 16], zoned[160], conv[32];
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

	snprintf(buf, len,
		 "listen %s, nqn %s, lba %u; zoned: %s; conventional: %s; mdts %s, %u queues x %u, %u reactor%s, timing %s, verbose %d",
		 listen, cfg->nqn, cfg->lba_size, zoned, conv,
		 fmt_size(cfg->mdts, e), cfg->max_queues, cfg->queue_depth,
		 cfg->reactors, cfg->reactors == 1 ? "" : "s",
		 cfg->timing < ARRAY_SIZE(timing_names) ?
			 timing_names[cfg->timing] : "?",
		 cfg->verbose);
}
