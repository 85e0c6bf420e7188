/* SPDX-License-Identifier: MIT */
/*
 * CRC32C (Castagnoli), the NVMe/TCP header and data digest
 * (NVMe TCP transport 1.0, 3.6.1).  Uses the SSE4.2 crc32 instruction when
 * the CPU has it (__builtin_cpu_supports, cached by the compiler runtime),
 * a slicing-by-8 table otherwise.  No I/O, no allocation.
 */
#ifndef ZNST_PROTO_CRC32C_H
#define ZNST_PROTO_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/*
 * Continue a CRC32C over @len bytes.  Start with crc = 0 (the function
 * applies the ~0 pre- and post-conditioning itself), so
 * znst_crc32c(0, "123456789", 9) == 0xE3069283 and
 * znst_crc32c(znst_crc32c(0, a, n), b, m) == CRC of a||b.
 */
uint32_t znst_crc32c(uint32_t crc, const void *buf, size_t len);

/* Same result, table-only implementation (for tests and non-x86). */
uint32_t znst_crc32c_sw(uint32_t crc, const void *buf, size_t len);

/* 1 when the hardware path is in use. */
int znst_crc32c_hw_available(void);

#endif
