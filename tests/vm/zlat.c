/* SPDX-License-Identifier: MIT */
/*
 * znst-zlat DEV: measure, from inside the guest, what a zoned block device
 * costs per operation at queue depth 1 (O_DIRECT 4 KiB writes at the write
 * pointer, 4 KiB random reads of written data, zone resets of written and
 * of empty zones) and print one line of means in microseconds:
 *
 *   write_us=... read_us=... reset_us=... reset_empty_us=...
 *
 * The VM suite checks the ordering a latency profile promises (resets cost
 * milliseconds, reads more than buffered writes); absolute figures under
 * software emulation carry the emulator's own per-I/O cost.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/blkzoned.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define BS		4096
#define N_IO		1024
#define N_RESET		8
#define RESET_FILL	(1 << 20)

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int zone_op(int fd, unsigned long op, uint64_t sector, uint64_t nr)
{
	struct blk_zone_range r = { .sector = sector, .nr_sectors = nr };

	return ioctl(fd, op, &r);
}

int main(int argc, char **argv)
{
	double t, w = 0, r = 0, rs = 0, re = 0;
	unsigned int zsect;
	void *buf;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: znst-zlat DEV\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETZONESZ, &zsect) || !zsect) {
		fprintf(stderr, "znst-zlat: %s: not a zoned device (%s)\n", argv[1],
			strerror(errno));
		return 1;
	}
	if (posix_memalign(&buf, BS, RESET_FILL))
		return 1;
	memset(buf, 0x5a, RESET_FILL);

	/* zone 0: sequential 4 KiB writes and random reads of written data */
	if (zone_op(fd, BLKRESETZONE, 0, zsect)) {
		perror("znst-zlat: reset zone 0");
		return 1;
	}
	/* Writes and reads alternate, so a drift in the emulator's own speed
	 * during the run costs both the same. */
	srand(1);
	for (int i = 0; i < N_IO; i++) {
		off_t off = (off_t)(rand() % (i + 1)) * BS;

		t = now_us();
		if (pwrite(fd, buf, BS, (off_t)i * BS) != BS) {
			perror("znst-zlat: write");
			return 1;
		}
		w += now_us() - t;
		t = now_us();
		if (pread(fd, buf, BS, off) != BS) {
			perror("znst-zlat: read");
			return 1;
		}
		r += now_us() - t;
	}
	/* zones 1..N_RESET: fill 1 MiB, then time the reset; then reset the
	 * now empty zone again */
	for (int z = 1; z <= N_RESET; z++) {
		uint64_t s = (uint64_t)z * zsect;

		if (zone_op(fd, BLKRESETZONE, s, zsect) ||
		    pwrite(fd, buf, RESET_FILL, (off_t)(s * 512)) != RESET_FILL) {
			perror("znst-zlat: fill");
			return 1;
		}
		t = now_us();
		if (zone_op(fd, BLKRESETZONE, s, zsect)) {
			perror("znst-zlat: reset");
			return 1;
		}
		rs += now_us() - t;
		t = now_us();
		if (zone_op(fd, BLKRESETZONE, s, zsect)) {
			perror("znst-zlat: reset empty");
			return 1;
		}
		re += now_us() - t;
	}
	zone_op(fd, BLKRESETZONE, 0, zsect);
	printf("write_us=%.0f read_us=%.0f reset_us=%.0f reset_empty_us=%.0f\n",
	       w / N_IO, r / N_IO, rs / N_RESET, re / N_RESET);
	free(buf);
	close(fd);
	return 0;
}
