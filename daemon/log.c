/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <systemd/sd-journal.h>

#include "log.h"

int log_max_level = LOG_INFO;
static bool stderr_journal; /* stderr is a stream to the journal */
static bool to_journal;	    /* and the journal's own socket is there: write to it */

/* Where sd_journal_send() writes; without it, it drops entries silently. */
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/*
 * Under systemd stderr is a stream to the journal; writing to the journal
 * directly instead keeps the priority and adds fields. The check is the one
 * systemd documents: JOURNAL_STREAM names stderr's inode. Where only the
 * stream reaches the journal (its socket is not in our mount namespace),
 * lines on stderr carry their priority as journald reads it, "<N>".
 */
void log_init(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
		return;
	stderr_journal =
		(unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
	to_journal = stderr_journal && access(JOURNAL_SOCKET, W_OK) == 0;
}

static const char *const level_names[] = {"emerg",   "alert",  "crit", "err",
					  "warning", "notice", "info", "debug"};

int log_parse_level(const char *s)
{
	for (int i = 0; i < (int)(sizeof(level_names) / sizeof(level_names[0])); i++)
		if (!strcasecmp(s, level_names[i]))
			return i;
	if (!strcasecmp(s, "error"))
		return LOG_ERR;
	return -EINVAL;
}

const char *log_level_name(int level)
{
	if (level < 0 || level >= (int)(sizeof(level_names) / sizeof(level_names[0])))
		return "?";
	return level_names[level];
}

/* An iovec for the "NAME=value" formatted into @buf, cut to fit. */
__attribute__((format(printf, 3, 4))) static struct iovec field(char *buf, size_t size,
								const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return (struct iovec){buf, n < 0 ? 0 : (size_t)n >= size ? size - 1 : (size_t)n};
}

/* One journal entry: the message, its priority, and the fields @about names.
 * Returns 0, or a negative errno when the journal did not take it. */
static int journal_send(int level, const char *msg, const struct log_about *about)
{
	static const char ident[] = "SYSLOG_IDENTIFIER=dmad";
	char m[1100], prio[16], dev[64], pid[32], ev[64];
	struct iovec iov[6];
	int n = 0;

	iov[n++] = field(m, sizeof(m), "MESSAGE=%s", msg);
	iov[n++] = field(prio, sizeof(prio), "PRIORITY=%d", level);
	iov[n++] = (struct iovec){(char *)ident, sizeof(ident) - 1};
	if (about && about->device)
		iov[n++] = field(dev, sizeof(dev), "DMAD_DEVICE=%s", about->device);
	if (about && about->client_pid)
		iov[n++] = field(pid, sizeof(pid), "DMAD_CLIENT_PID=%d", (int)about->client_pid);
	if (about && about->event)
		iov[n++] = field(ev, sizeof(ev), "DMAD_EVENT=%s", about->event);
	return sd_journal_sendv(iov, n);
}

/*
 * On stderr a line carries its severity too: the journal's "<N>" prefix
 * (sd-daemon(3)) when stderr is the journal's stream, a word a person reads
 * otherwise.
 */
static void stderr_line(int level, const char *msg)
{
	if (stderr_journal)
		fprintf(stderr, "<%d>%s\n", level, msg);
	else if (level <= LOG_ERR)
		fprintf(stderr, "dmad: error: %s\n", msg);
	else if (level == LOG_WARNING)
		fprintf(stderr, "dmad: warning: %s\n", msg);
	else
		fprintf(stderr, "dmad: %s\n", msg);
}

static int log_vprintf(int level, int err, const struct log_about *about, const char *fmt,
		       va_list ap)
{
	char buf[1024];

	if (level > log_max_level)
		return err;
	/* %m in fmt means the error passed in, not whatever errno holds now. */
	errno = err < 0 ? -err : err;
	vsnprintf(buf, sizeof(buf), fmt, ap);

	if (!to_journal || journal_send(level, buf, about) < 0)
		stderr_line(level, buf);
	return err;
}

int log_printf(int level, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = log_vprintf(level, err, NULL, fmt, ap);
	va_end(ap);
	return err;
}

int log_about_printf(int level, int err, const struct log_about *about, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	err = log_vprintf(level, err, about, fmt, ap);
	va_end(ap);
	return err;
}
