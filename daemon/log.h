/* SPDX-License-Identifier: MIT */
/* Logging: the journal with structured fields under systemd, stderr otherwise. */
#ifndef DMAD_LOG_H
#define DMAD_LOG_H

#include <sys/types.h>
#include <syslog.h>

extern int log_max_level;

void log_init(void);
int log_parse_level(const char *s);
/* "err" ... "debug" for LOG_ERR ... LOG_DEBUG; "?" outside 0..7. */
const char *log_level_name(int level);
/* Returns @err, so that `return log_error_errno(r, ...)` logs and fails in one step. */
int log_printf(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * What a message is about, sent as journal fields so that an operator can
 * select on them (journalctl -u dmad DMAD_EVENT=reload). NULL or 0 leaves a
 * field out; on stderr the message alone is printed.
 */
struct log_about {
	const char *device; /* DMAD_DEVICE= */
	pid_t client_pid;   /* DMAD_CLIENT_PID= */
	const char *event;  /* DMAD_EVENT= */
};

/* log_printf() with journal fields from @about. Returns @err. */
int log_about_printf(int level, int err, const struct log_about *about, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define log_error(...)	 log_printf(LOG_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_printf(LOG_WARNING, 0, __VA_ARGS__)
#define log_notice(...)	 log_printf(LOG_NOTICE, 0, __VA_ARGS__)
#define log_info(...)	 log_printf(LOG_INFO, 0, __VA_ARGS__)
#define log_debug(...)                                         \
	do {                                                   \
		if (log_max_level >= LOG_DEBUG)                \
			log_printf(LOG_DEBUG, 0, __VA_ARGS__); \
	} while (0)

/* Log with "%m" meaning strerror(-r), and return r: return log_error_errno(r, "…: %m"). */
#define log_error_errno(r, ...)	  log_printf(LOG_ERR, (r), __VA_ARGS__)
#define log_warning_errno(r, ...) log_printf(LOG_WARNING, (r), __VA_ARGS__)

#endif /* DMAD_LOG_H */
