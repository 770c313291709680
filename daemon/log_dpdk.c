/* SPDX-License-Identifier: MIT */
/*
 * DPDK 22.11 formats each message with vfprintf() into the stream
 * rte_openlog_stream() names (its default writes to stdout and syslog,
 * past dmad's logger). That stream is a fopencookie() here, line-buffered,
 * whose write hands each line to log_printf() at the level of the message
 * being written: rte_log_cur_msg_loglevel() is per thread, and the write
 * runs inside the rte_log() call that set it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_log.h>

#include "log.h"
#include "log_dpdk.h"

static __thread char *capture;
static __thread size_t capture_size;

/* RTE_LOG_EMERG 1 ... RTE_LOG_DEBUG 8 to syslog's LOG_EMERG 0 ... LOG_DEBUG 7. */
static int syslog_level(void)
{
	int l = rte_log_cur_msg_loglevel();

	if (l < (int)RTE_LOG_EMERG || l > (int)RTE_LOG_DEBUG)
		return LOG_INFO; /* not set: written outside rte_log() */
	return l - (int)RTE_LOG_EMERG;
}

static ssize_t dpdk_write(void *cookie, const char *buf, size_t size)
{
	const char *p = buf, *end = buf + size;
	int level = syslog_level();

	(void)cookie;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int n = (int)((nl ? nl : end) - p);

		if (n > 0) {
			log_printf(level, 0, "%.*s", n, p);
			if (capture && !capture[0] && level <= LOG_ERR)
				snprintf(capture, capture_size, "%.*s", n, p);
		}
		p += n + (nl != NULL);
	}
	return (ssize_t)size;
}

int log_dpdk_init(void)
{
	static const cookie_io_functions_t io = {.write = dpdk_write};
	FILE *f = fopencookie(NULL, "w", io);

	if (!f)
		return -ENOMEM;
	/* One write per line, on the thread that logs it, under its level. */
	setvbuf(f, NULL, _IOLBF, 0);
	return rte_openlog_stream(f) < 0 ? -EINVAL : 0;
}

void log_dpdk_capture(char *buf, size_t size)
{
	capture = buf;
	capture_size = size;
	if (buf && size)
		buf[0] = '\0';
}
