/* SPDX-License-Identifier: MIT */
/* A FUSE server that holds dmad's FLUSHes (fuseheld.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuseheld.h"
#include "tap.h"

#define HELD_MAX 64

static struct {
	int fd; /* /dev/fuse */
	char dir[64];
	pid_t dmad; /* FLUSHes from its threads are held */
	pthread_mutex_t lock;
	uint64_t held[HELD_MAX]; /* their request ids, to answer at the end */
	unsigned nheld;
} fs = {.fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

static void answer(uint64_t unique, int error, const void *body, size_t len)
{
	struct fuse_out_header h = {
		.len = (uint32_t)(sizeof(h) + len), .error = error, .unique = unique};
	uint8_t buf[256];

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), body, len);
	(void)!write(fs.fd, buf, sizeof(h) + len);
}

static struct fuse_attr attr(uint64_t ino)
{
	return (struct fuse_attr){
		.ino = ino,
		.size = ino == FUSE_ROOT_ID ? 0 : 4096,
		.mode = ino == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0600,
		.nlink = 1,
		.blksize = 4096,
	};
}

/* Is thread @tid one of dmad's? */
static bool from_dmad(uint32_t tid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%u", (int)fs.dmad, tid);
	return fs.dmad > 0 && access(path, F_OK) == 0;
}

/* One file, "f", that any flush from dmad gets stuck on. */
static void *serve(void *arg)
{
	static uint8_t buf[1 << 17];
	ssize_t n;

	(void)arg;
	while ((n = read(fs.fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)) {
		const struct fuse_in_header *in = (const void *)buf;

		if (n < (ssize_t)sizeof(*in))
			continue;
		switch (in->opcode) {
		case FUSE_INIT: {
			struct fuse_init_out o = {.major = FUSE_KERNEL_VERSION,
						  .minor = FUSE_KERNEL_MINOR_VERSION,
						  .max_write = 4096,
						  .time_gran = 1};

			answer(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_LOOKUP: {
			struct fuse_entry_out o = {.nodeid = 2, .attr = attr(2)};

			answer(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_GETATTR: {
			struct fuse_attr_out o = {.attr = attr(in->nodeid)};

			answer(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_OPEN: {
			struct fuse_open_out o = {.fh = 1};

			answer(in->unique, 0, &o, sizeof(o));
			break;
		}
		case FUSE_FLUSH:
			pthread_mutex_lock(&fs.lock);
			if (from_dmad(in->pid) && fs.nheld < HELD_MAX) {
				fs.held[fs.nheld++] = in->unique;
				pthread_mutex_unlock(&fs.lock);
				break;
			}
			pthread_mutex_unlock(&fs.lock);
			answer(in->unique, 0, NULL, 0);
			break;
		case FUSE_FORGET:
		case FUSE_BATCH_FORGET:
		case FUSE_INTERRUPT:
			break; /* no answer to these */
		default:
			answer(in->unique, -ENOSYS, NULL, 0);
		}
	}
	return NULL;
}

/* dmad must be able to exit: answer what was held, and hold no more. */
void fuseheld_release(void)
{
	pthread_mutex_lock(&fs.lock);
	fs.dmad = 0;
	for (unsigned i = 0; i < fs.nheld; i++)
		answer(fs.held[i], 0, NULL, 0);
	fs.nheld = 0;
	pthread_mutex_unlock(&fs.lock);
}

unsigned fuseheld_count(void)
{
	unsigned n;

	pthread_mutex_lock(&fs.lock);
	n = fs.nheld;
	pthread_mutex_unlock(&fs.lock);
	return n;
}

/* Registered after the harness's exit handler, so it runs first. */
static void cleanup(void)
{
	fuseheld_release();
	umount2(fs.dir, MNT_DETACH);
	rmdir(fs.dir);
}

void fuseheld_mount(void)
{
	char opts[96];
	pthread_t t;

	fs.fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	snprintf(fs.dir, sizeof(fs.dir), "/tmp/dmad-fuse.XXXXXX");
	if (fs.fd < 0 || !mkdtemp(fs.dir))
		tap_skip_all("no /dev/fuse here: %s", strerror(errno));
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fs.fd);
	if (mount("dmad-test", fs.dir, "fuse", MS_NOSUID | MS_NODEV, opts) < 0) {
		rmdir(fs.dir);
		tap_skip_all("cannot mount a FUSE file system here: %s", strerror(errno));
	}
	atexit(cleanup);
	if (pthread_create(&t, NULL, serve, NULL) != 0)
		tap_bail("FUSE server thread");
	pthread_detach(t);
}

const char *fuseheld_dir(void)
{
	return fs.dir;
}

void fuseheld_hold_from(pid_t pid)
{
	pthread_mutex_lock(&fs.lock);
	fs.dmad = pid;
	pthread_mutex_unlock(&fs.lock);
}
