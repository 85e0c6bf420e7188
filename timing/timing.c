/* SPDX-License-Identifier: MIT */
/* Latency models; see timing.h. */
#include "timing/timing.h"

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

void timing_model_init_none(struct timing_model *m)
{
	m->kind = TIMING_MODEL_NONE;
}

uint64_t timing_deadline(struct timing_model *m, const struct timing_io *io,
			 uint64_t now)
{
	switch (m->kind) {
	case TIMING_MODEL_NONE:
	default:
		(void)io;
		return now;
	}
}

const char *timing_op_name(enum timing_op op)
{
	return op < TIMING_OP_NR ? timing_op_names[op] : "?";
}
