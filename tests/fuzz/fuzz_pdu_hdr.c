/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the NVMe/TCP common header check (proto/nvme_tcp.c)
 * against every negotiated state, and the header digest check.  Input:
 * byte 0 = limits (bit 0 expect ICReq, bit 1 header digest, bit 2 data
 * digest), then the header bytes.  Whatever is accepted must describe a
 * PDU the receiver can hold: header within its 256-byte buffer and at
 * least the common header, data within the negotiated maximum.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/nvme_tcp_pdu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[256] __attribute__((aligned(8)));
	struct nvme_tcp_rx_limits lim;
	struct nvme_tcp_shape shape;
	struct nvme_tcp_err err;
	const struct nvme_tcp_hdr *h = (const void *)hdr;

	if (size < 1 + sizeof(struct nvme_tcp_hdr))
		return 0;
	lim = (struct nvme_tcp_rx_limits){
		.expect_icreq = data[0] & 1,
		.hdgst = data[0] & 2,
		.ddgst = data[0] & 4,
		.max_inline = 8192,
		.maxh2cdata = 128 * 1024,
	};
	memset(hdr, 0, sizeof(hdr));
	memcpy(hdr, data + 1, size - 1 < sizeof(hdr) ? size - 1 : sizeof(hdr));
	if (nvme_tcp_check_hdr(h, &lim, &shape, &err) == 0) {
		uint32_t max = h->type == NVME_TCP_CMD ? lim.max_inline : lim.maxh2cdata;

		if (shape.hdr_len < sizeof(*h) || shape.hdr_len > sizeof(hdr) ||
		    shape.hdr_len < h->hlen)
			abort();
		if (shape.data_len && shape.data_len > max)
			abort();
		if (shape.hdr_len + shape.data_len > le32_to_cpu(h->plen))
			abort();
		if (lim.hdgst && h->type != NVME_TCP_ICREQ && h->type != NVME_TCP_H2C_TERM &&
		    shape.hdr_len < (uint32_t)h->hlen + 4)
			abort();
		if (shape.hdr_len <= sizeof(hdr) - 4 && h->hlen)
			(void)nvme_tcp_hdgst_ok(hdr, h->hlen);
	} else if (!err.why || err.fes < NVME_TCP_FES_INVALID_PDU_HDR ||
		   err.fes > NVME_TCP_FES_UNSUPPORTED_PARAM) {
		abort();
	}
	return 0;
}
