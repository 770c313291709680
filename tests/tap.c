/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

static unsigned int planned, run, failed;

/*
 * One TAP line. Text that carries newlines of its own (a daemon's reply, a
 * notify message) continues on "# " lines, so the harness never sees a line
 * that is not TAP.
 */
static void vline(const char *prefix, const char *fmt, va_list ap)
{
	char buf[4096];
	const char *p = buf;

	/* vsnprintf, not vprintf: the text is split at its newlines below. */
	if (vsnprintf(buf, sizeof(buf), fmt ? fmt : "", ap) < 0)
		buf[0] = '\0';
	fputs(prefix, stdout);
	for (const char *nl; (nl = strchr(p, '\n')); p = nl + 1)
		printf("%.*s\n# ", (int)(nl - p), p);
	printf("%s\n", p);
	fflush(stdout);
}

void tap_plan(unsigned int n)
{
	planned = n;
	printf("1..%u\n", n);
	fflush(stdout);
}

bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	run++;
	if (!cond)
		failed++;
	printf("%sok %u - ", cond ? "" : "not ", run);
	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
	return cond;
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("# ", fmt, ap);
	va_end(ap);
}

void tap_skip(const char *fmt, ...)
{
	va_list ap;

	printf("ok %u # SKIP ", ++run);
	va_start(ap, fmt);
	vline("", fmt, ap);
	va_end(ap);
}

void tap_skip_all(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("1..0 # SKIP ", fmt, ap);
	va_end(ap);
	exit(77);
}

void tap_bail(const char *fmt, ...)
{
	va_list ap;

	failed++;
	va_start(ap, fmt);
	vline("Bail out! ", fmt, ap);
	va_end(ap);
	exit(1);
}

unsigned int tap_failed(void)
{
	return failed;
}

int tap_done(void)
{
	if (!planned) {
		printf("1..%u\n", run);
	} else if (run != planned) {
		printf("# planned %u checks, ran %u\n", planned, run);
		failed++;
	}
	fflush(stdout);
	return failed || !run ? 1 : 0;
}
