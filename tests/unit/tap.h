/* SPDX-License-Identifier: MIT */
/*
 * The TAP output every unit test program prints: "ok N - name" or
 * "not ok N - name", "# ..." diagnostics, and the plan line at the end
 * (tap_plan()).  Header-only: each test is one program.
 */
#ifndef ZNST_TESTS_TAP_H
#define ZNST_TESTS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

struct tap {
	int n;
	int failed;
};

/* One result line; returns @ok so a caller can stop on failure. */
__attribute__((format(printf, 3, 4), unused))
static bool tap_result(struct tap *t, bool ok, const char *fmt, ...)
{
	va_list ap;

	t->n++;
	if (!ok)
		t->failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", t->n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	/* a crash after this line must not lose it */
	fflush(stdout);
	return ok;
}

__attribute__((format(printf, 1, 2), unused))
static void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

#endif
