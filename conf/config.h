/* SPDX-License-Identifier: MIT */
/*
 * znstcpd configuration: the settings a user controls, their embedded
 * defaults, the INI config-file parser and the command-line parser.
 *
 * One option table drives both the config file and the command line, so a
 * setting has the same name and the same validation in both places:
 * "--zone-size 64M" on the command line is "zone_size = 64M" in section
 * [zoned] of the file.  The command line overrides the file.
 */
#ifndef ZNST_CONF_CONFIG_H
#define ZNST_CONF_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ZNST_NQN_MAX		223	/* NVMe base 2.0 4.5: NQN is at most 223 bytes */
#define ZNST_ADDR_MAX		64
#define ZNST_DEFAULT_NQN	"nqn.2024-11.io.znstcp:zns"
#define ZNST_DEFAULT_LISTEN	"127.0.0.1:4420"
#define ZNST_VERSION_STRING	"0.1.0"

enum znst_timing_kind {
	ZNST_TIMING_NONE = 0,
	ZNST_TIMING_FIXED,
	ZNST_TIMING_NAND,
};

/*
 * The conventional namespace's latency model (--conv-timing).  shared, the
 * default: its commands go through the zoned namespace's model, one device
 * whose dies both namespaces occupy.  The others give it a model of its
 * own, set by the --conv-* timing options ([conventional] in the file).
 */
enum znst_conv_timing {
	ZNST_CONV_TIMING_SHARED = 0,
	ZNST_CONV_TIMING_NONE,
	ZNST_CONV_TIMING_FIXED,
	ZNST_CONV_TIMING_NAND,
};

/* What a zone reset does with the zone's memory (--reset-pages). */
enum znst_reset_pages {
	ZNST_RESET_LAZY = 0,	/* kept for the next writes until memory is short */
	ZNST_RESET_FREE,	/* freed at once: resident memory drops */
};

/* Named device profiles: one option sets geometry and timing together. */
enum znst_profile {
	ZNST_PROFILE_NONE = 0,
	ZNST_PROFILE_ZN540,		/* WD Ultrastar DC ZN540-like */
	ZNST_PROFILE_SMALL_ZONE,	/* small zones, hundreds active */
	ZNST_PROFILE_FEMU,		/* FEMU's default NAND figures */
};

/* Latency model settings (timing/timing.h); times in ns, rates in B/s. */
struct znst_timing_conf {
	uint32_t profile;		/* enum znst_profile, for the log */
	uint64_t overhead;		/* controller time on every command */
	/* fixed model */
	uint64_t lat_read, lat_write, lat_append, lat_flush;
	uint64_t lat_zone, lat_reset, lat_finish;
	uint64_t bandwidth;		/* 0: no cap */
	/* nand model */
	uint32_t channels, dies, planes;
	uint64_t page_size, block_size;
	uint64_t t_read, t_prog, t_erase;
	uint64_t channel_bw;
	uint32_t zone_dies;		/* 0: all dies */
	uint64_t write_buffer;		/* 0: none */
	uint64_t append_time;		/* Zone Append engine time per command */
	/* reactor: spin this long before a deadline instead of sleeping */
	uint64_t spin;
};

/* Zone indices given at start-up (--offline-zones 3,5). */
#define ZNST_ZONE_LIST_MAX	64
struct znst_zone_list {
	uint32_t nr;
	uint32_t idx[ZNST_ZONE_LIST_MAX];
};

struct znst_zoned_conf {
	uint32_t nr_zones;	/* 0: no zoned namespace */
	uint64_t zone_size;	/* bytes, power of two in blocks */
	uint64_t zone_cap;	/* bytes, <= zone_size, multiple of lba_size */
	uint32_t max_open;	/* 0: no limit */
	uint32_t max_active;	/* 0: no limit */
	uint64_t zone_append_max; /* bytes; ZASL is derived from it */
	uint64_t prefault;	/* bytes kept resident ahead of a write pointer */
	uint32_t reset_pages;	/* enum znst_reset_pages */
	/* optional ZNS features: all 0 (off) by default */
	uint64_t desc_ext_size;	/* bytes, multiple of 64 (ZDES) */
	uint32_t razb;		/* 1: reads may cross zone boundaries */
	uint32_t numzrwa;	/* ZRWA resources; 0: no ZRWA */
	uint64_t zrwa_size;	/* bytes (ZRWAS) */
	uint64_t zrwa_fg;	/* bytes (ZRWAFG) */
	uint32_t rrl, frl;	/* seconds: Reset / Finish Recommended Limit */
	uint32_t rrl1, rrl2, rrl3, frl1, frl2, frl3;	/* reported only */
	uint32_t zfc_delay;	/* seconds after FZR until the controller finishes */
	struct znst_zone_list offline_zones;
	struct znst_zone_list read_only_zones;
};

struct znst_config {
	char listen_addr[ZNST_ADDR_MAX];	/* IPv4/IPv6 literal or host name */
	uint16_t listen_port;
	char nqn[ZNST_NQN_MAX + 1];
	uint32_t lba_size;		/* 512 or 4096, both namespaces */
	struct znst_zoned_conf zoned;
	uint64_t conv_size;		/* bytes; 0: no regular namespace */
	uint64_t mdts;			/* max data transfer size, bytes */
	uint32_t max_queues;		/* I/O queues per controller */
	uint32_t queue_depth;		/* max entries per queue (MQES + 1) */
	uint32_t reactors;		/* reactor threads */
	/* what one peer may hold (hostile or broken hosts) */
	uint32_t max_conns;		/* TCP connections, all reactors */
	uint64_t max_inflight;		/* data buffer bytes per connection */
	uint64_t handshake_timeout;	/* ns from accept to a live queue */
	uint64_t pdu_timeout;		/* ns from a PDU's first byte to its last */
	uint64_t kato_min, kato_max;	/* ns; KATO is clamped into them */
	/* optional NVM commands, 0: off */
	uint32_t cmd_copy, cmd_compare, cmd_verify, cmd_dsm;
	enum znst_timing_kind timing;	/* the zoned namespace's model */
	struct znst_timing_conf tm;
	uint32_t conv_timing;		/* enum znst_conv_timing */
	struct znst_timing_conf conv_tm;	/* its own model's settings */
	int verbose;
};

/* Fill @cfg with the embedded default (documented in README.md). */
void znst_config_defaults(struct znst_config *cfg);

/*
 * Parse a size with optional K/M/G/T suffix (powers of 1024; an optional
 * trailing "B" or "iB" is accepted).  Returns 0 or -EINVAL / -ERANGE.
 */
int znst_parse_size(const char *s, uint64_t *out);

/*
 * Apply one setting by its long option name ("zone-size"; '_' and '-' are
 * equivalent).  On error returns -errno and writes a one-line reason (no
 * trailing newline, without the option name) into @err.
 */
int znst_config_set(struct znst_config *cfg, const char *name,
		    const char *value, char *err, size_t errlen);

/* Load an INI file over @cfg.  On error: -errno and a one-line message. */
int znst_config_load_file(struct znst_config *cfg, const char *path,
			  char *err, size_t errlen);

/* Cross-field checks (cap <= size, open <= active, ...). */
int znst_config_validate(const struct znst_config *cfg, char *err,
			 size_t errlen);

enum znst_cli_result {
	ZNST_CLI_RUN = 0,	/* start the daemon */
	ZNST_CLI_EXIT_OK,	/* --help / --version printed */
	ZNST_CLI_ERROR,		/* message in err */
};

/*
 * Parse argv: defaults, then the -c/--config file (wherever it appears),
 * then every other option in order, then validation.  --help and --version
 * print to stdout.
 */
enum znst_cli_result znst_config_from_args(struct znst_config *cfg, int argc,
					   char **argv, char *err,
					   size_t errlen);

struct timing_params;
/* The latency model's parameters (timing/timing.h) this configuration
 * asks for: one mapping, for the daemon and the benchmark alike.  This one
 * is the zoned namespace's (and the conventional one's when shared). */
void znst_config_timing_params(const struct znst_config *cfg,
			       struct timing_params *p);
/* The conventional namespace's own model: false when it shares the zoned
 * namespace's (--conv-timing shared), and @p is left alone. */
bool znst_config_conv_timing_params(const struct znst_config *cfg,
				    struct timing_params *p);

/* Human-readable one-paragraph summary, for the start-up log. */
void znst_config_describe(const struct znst_config *cfg, char *buf,
			  size_t len);

#endif
