/* SPDX-License-Identifier: MIT */
/*
 * Latency model interface.  Every completed command asks the namespace's
 * model when it may complete; the reactor holds the completion until then.
 * A model is a pure function of (operation, geometry, now) plus its own
 * state, so it is testable with a fake clock.  Only "none" exists yet: it
 * completes at once.
 */
#ifndef ZNST_TIMING_TIMING_H
#define ZNST_TIMING_TIMING_H

#include <stdint.h>

enum timing_op {
	TIMING_OP_READ,
	TIMING_OP_WRITE,
	TIMING_OP_APPEND,
	TIMING_OP_WRITE_ZEROES,
	TIMING_OP_FLUSH,
	TIMING_OP_ZONE_OPEN,
	TIMING_OP_ZONE_CLOSE,
	TIMING_OP_ZONE_FINISH,
	TIMING_OP_ZONE_RESET,
	TIMING_OP_ZONE_OTHER,
	TIMING_OP_REPORT,
	TIMING_OP_ADMIN,
	TIMING_OP_NR,
};

enum timing_model_kind {
	TIMING_MODEL_NONE,
};

struct timing_io {
	enum timing_op	op;
	uint64_t	slba;
	uint32_t	nlb;
	uint32_t	bytes;
};

struct timing_model {
	enum timing_model_kind kind;
};

void timing_model_init_none(struct timing_model *m);

/* Absolute completion time (ns, same clock as @now) of one command. */
uint64_t timing_deadline(struct timing_model *m, const struct timing_io *io,
			 uint64_t now);

const char *timing_op_name(enum timing_op op);

#endif
