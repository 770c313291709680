/* SPDX-License-Identifier: MIT */
/*
 * A client's default share from its systemd unit (DMAD_UNIT_SHARE in the
 * config file), over its uid's (--user-share), under a weight set for the
 * client itself (dmactl set), and back to its uid's when a reload drops
 * the unit's setting. The client runs in a real cgroup named like a unit,
 * which libsystemd resolves from /proc/PID/cgroup as it does under systemd;
 * where this test may not make one (not root, no cgroup2 mount, or a
 * libsystemd that does not read it) that part is skipped. A config file
 * with a bad DMAD_UNIT_SHARE is refused at start either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-login.h>

#include "harness.h"
#include "jsonread.h"
#include "rawproto.h"
#include "stream.h"

static char cg_root[256], cg_home[1400], cg_unit[512], unit[64];

static bool write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC | O_CREAT, 0644);
	bool ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);

	if (fd >= 0)
		close(fd);
	return ok;
}

/* The cgroup2 mount (/sys/fs/cgroup, or .../unified on a hybrid system)
 * and this process's cgroup in it. */
static bool find_cgroup(void)
{
	char line[1024], mnt[256], type[64];
	bool found = false;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && !found && fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - ");

		if (dash && sscanf(dash, " - %63s", type) == 1 && !strcmp(type, "cgroup2") &&
		    sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1) {
			snprintf(cg_root, sizeof(cg_root), "%s", mnt);
			found = true;
		}
	}
	if (f)
		fclose(f);
	f = fopen("/proc/self/cgroup", "re");
	while (found && f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(cg_home, sizeof(cg_home), "%s%s", cg_root, line + 3);
		}
	if (f)
		fclose(f);
	return found && *cg_home;
}

static bool move_self(const char *cg)
{
	char path[1500], pid[16];

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	return write_file(path, pid);
}

static void leave_unit(void)
{
	if (*cg_unit && move_self(cg_home))
		rmdir(cg_unit);
}

/* Put this process in a cgroup named @unit, and check libsystemd sees it there. */
static bool enter_unit(void)
{
	char *seen = NULL;
	bool same;

	if (geteuid() != 0 || !find_cgroup())
		return false;
	snprintf(cg_unit, sizeof(cg_unit), "%s/%s", cg_root, unit);
	if (mkdir(cg_unit, 0755) < 0 || !move_self(cg_unit)) {
		rmdir(cg_unit);
		*cg_unit = '\0';
		return false;
	}
	atexit(leave_unit);
	same = sd_pid_get_unit(getpid(), &seen) >= 0 && !strcmp(seen, unit);
	free(seen);
	return same;
}

/* From SHARES over @fd: client @id's weight, its unit ("" none) and the
 * unit record's weight and rate. False when @id is not listed. */
struct seen {
	uint32_t weight, unit_weight;
	uint64_t unit_rate;
	char unit[DMAD_PROTO_UNIT_MAX];
};

static bool shares_of(int fd, uint32_t id, struct seen *ret)
{
	static struct raw_msg m;
	const struct dmad_proto_shares *h = (const void *)m.body;
	const struct dmad_proto_share_client *c = (const void *)(h + 1);
	const struct dmad_proto_share_uid *u;
	const struct dmad_proto_share_unit *n;

	*ret = (struct seen){0};
	if (raw_request(fd, DMAD_PROTO_SHARES, NULL, 0, NULL, 0, &m) != 0 ||
	    m.body_len < sizeof(*h) ||
	    m.body_len != sizeof(*h) + h->nclient * sizeof(*c) + h->nuid * sizeof(*u) +
				  h->nunit * sizeof(*n))
		return false;
	u = (const void *)(c + h->nclient);
	n = (const void *)(u + h->nuid);
	for (uint32_t i = 0; i < h->nclient; i++) {
		if (c[i].client_id != id)
			continue;
		ret->weight = c[i].weight;
		if (c[i].unit && c[i].unit <= h->nunit) {
			const struct dmad_proto_share_unit *r = &n[c[i].unit - 1];

			snprintf(ret->unit, sizeof(ret->unit), "%.*s", (int)sizeof(r->name) - 1,
				 r->name);
			ret->unit_weight = r->weight;
			ret->unit_rate = r->rate;
		}
		return true;
	}
	return false;
}

/* Wait (a reload is asynchronous) until client @id's weight is @want. */
static uint32_t weight_becomes(int fd, uint32_t id, uint32_t want)
{
	int64_t end = harness_now_ms() + 15000;
	struct seen s;

	do {
		if (shares_of(fd, id, &s) && s.weight == want)
			break;
		usleep(20000);
	} while (harness_now_ms() < end);
	return s.weight;
}

static int connect_as(const char *socket, const char *name)
{
	int fd = raw_connect(socket);

	if (fd < 0 || raw_hello(fd, name) != 0)
		tap_bail("connect %s to %s", name, socket);
	return fd;
}

static uint32_t id_of(const char *socket, const char *name)
{
	long id = sharing_client_id(socket, name);

	if (id <= 0)
		tap_bail("no client %s", name);
	return (uint32_t)id;
}

static void refused_at_start(const char *dir, const char *value)
{
	char conf[128], text[512], out[4096], sock[128];
	char *argv[] = {(char *)harness_env("DMAD_BIN"),
			(char *)"--socket",
			sock,
			(char *)"--config",
			conf,
			NULL};

	snprintf(conf, sizeof(conf), "%s/bad.conf", dir);
	snprintf(sock, sizeof(sock), "%s/never.sock", dir);
	snprintf(text, sizeof(text), "DMAD_UNIT_SHARE=\"%s\"\n", value);
	if (!write_file(conf, text))
		tap_bail("write %s", conf);
	ok(harness_run(argv, out, sizeof(out), 60000) == 1,
	   "DMAD_UNIT_SHARE=\"%s\": dmad refuses to start", value);
}

int main(void)
{
	char dir[] = "/tmp/dmad-unit-share-XXXXXX", conf[128], text[512], sid[16], out[8192];
	struct harness_dmad *d;
	uint32_t a_id, b_id, c_id;
	int a, b, c;
	struct seen s;
	bool r;

	harness_watchdog(150);
	if (!mkdtemp(dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	refused_at_start(dir, "backup.service");
	refused_at_start(dir, "backup.service:weight=0");
	refused_at_start(dir, "backup.service:weight=10001");
	refused_at_start(dir, "backup.service:colour=5");
	refused_at_start(dir, "not a unit:weight=5");
	refused_at_start(dir, ":weight=5");
	refused_at_start(dir, "nodot:weight=5");

	snprintf(unit, sizeof(unit), "dmad-unit-share-%d.service", (int)getpid());
	snprintf(conf, sizeof(conf), "%s/dmad.conf", dir);
	snprintf(text, sizeof(text),
		 "# a unit's default share\nDMAD_UNIT_SHARE=\"other.service:weight=7 "
		 "%s:weight=300,rate=1G\"\n",
		 unit);
	if (!write_file(conf, text))
		tap_bail("write %s", conf);
	d = harness_dmad_start("--config", conf, "--user-share", "0:weight=200", NULL);

	/* A connects before this process enters the unit: its uid's default. */
	a = connect_as(d->socket, "outside");
	a_id = id_of(d->socket, "outside");
	r = shares_of(a, a_id, &s);
	ok(r && s.weight == 200 && strcmp(s.unit, unit),
	   "a client outside the unit: its uid's weight, 200 (%u, unit '%s')", s.weight, s.unit);

	if (!enter_unit()) {
		tap_skip("no cgroup named like a unit that libsystemd resolves here (needs root "
			 "and a cgroup2 mount)");
		close(a);
		harness_dmad_finish(d);
		return tap_done();
	}
	b = connect_as(d->socket, "in-unit-b");
	c = connect_as(d->socket, "in-unit-c");
	b_id = id_of(d->socket, "in-unit-b");
	c_id = id_of(d->socket, "in-unit-c");
	r = shares_of(a, b_id, &s);
	ok(r && s.weight == 300 && !strcmp(s.unit, unit) && s.unit_weight == 300 &&
		   s.unit_rate == (UINT64_C(1) << 30),
	   "a client in %s: the unit's weight 300 over its uid's (%u), the unit and its "
	   "default shown (%s, %u, %llu)",
	   unit, s.weight, s.unit, s.unit_weight, (unsigned long long)s.unit_rate);

	snprintf(sid, sizeof(sid), "%u", b_id);
	r = sharing_set(d->socket, sid, "weight", "50") == 0 && shares_of(a, b_id, &s);
	ok(r && s.weight == 50, "dmactl set on the client wins over its unit (%u)", s.weight);
	{
		char *argv[] = {(char *)harness_env("DMACTL_BIN"), (char *)"--socket", d->socket,
				(char *)"status", NULL};

		ok(harness_run(argv, out, sizeof(out), 15000) == 0 && strstr(out, unit),
		   "dmactl status names the client's unit");
	}

	/* The file no longer names the unit: back to the uid's default. */
	if (!write_file(conf, "DMAD_UNIT_SHARE=\"other.service:weight=7\"\n") ||
	    kill(d->pid, SIGHUP) < 0)
		tap_bail("rewrite %s and reload", conf);
	ok(weight_becomes(a, c_id, 200) == 200, "reload without the unit: its uid's weight again");
	r = shares_of(a, b_id, &s);
	ok(r && s.weight == 50, "a weight set for the client stays (%u)", s.weight);
	snprintf(text, sizeof(text), "DMAD_UNIT_SHARE=%s:weight=400\n", unit);
	if (!write_file(conf, text) || kill(d->pid, SIGHUP) < 0)
		tap_bail("rewrite %s and reload", conf);
	ok(weight_becomes(a, c_id, 400) == 400, "reload with weight 400 for the unit: 400");
	if (!write_file(conf, "DMAD_UNIT_SHARE=\"bad unit\"\n") || kill(d->pid, SIGHUP) < 0)
		tap_bail("rewrite %s and reload", conf);
	usleep(300000);
	r = harness_dmad_alive(d) && shares_of(a, c_id, &s);
	ok(r && s.weight == 400, "a reload with a bad DMAD_UNIT_SHARE changes nothing (%u)",
	   s.weight);
	close(a);
	close(b);
	close(c);
	leave_unit();
	harness_dmad_finish(d);
	return tap_done();
}
