/* SPDX-License-Identifier: MIT */
/*
 * Settings that change without a restart: the log level, the copybreak new
 * channels get, the device watchdog and the default drain bound. Each comes
 * from, in rising precedence, the built-in default, the config file
 * (dmad --config FILE) and the command line. SIGHUP, which is what
 * `systemctl reload dmad` sends, re-reads the file.
 */
#ifndef DMAD_RELOAD_H
#define DMAD_RELOAD_H

#include <stdint.h>

/* Settings given on the command line, which the file does not override. */
enum {
	RELOAD_LOG_LEVEL = 1 << 0,
	RELOAD_COPYBREAK = 1 << 1,
	RELOAD_WATCHDOG = 1 << 2,
	RELOAD_DRAIN_TIMEOUT = 1 << 3,
};

/*
 * reload_init() - take the current settings as the start-up values, read
 * @path (NULL: no config file) and apply it over them, except for the
 * settings in @pinned. The copybreak waits for reload_copybreak_start().
 * A missing file is an empty one. Returns 0, or -EINVAL after logging
 * where the file is wrong, or the -errno of reading it.
 */
int reload_init(const char *path, unsigned pinned);

/*
 * reload_copybreak_start() - the calibration is done: take dmad.copybreak
 * as the start-up copybreak and apply the file's over it.
 */
void reload_copybreak_start(void);

/*
 * reload() - SIGHUP: RELOADING=1, re-read the file, apply it, READY=1.
 * A file that no longer names a setting puts it back to its start-up value;
 * a file that does not parse changes nothing. Control thread.
 */
void reload(void);

/* config_parse_u32() - a whole decimal number in [@min, @max] ("0100" is 100). -EINVAL. */
int config_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *ret);

#endif /* DMAD_RELOAD_H */
