/* SPDX-License-Identifier: MIT */
/*
 * The handover state a new dmad reads at start is refused whole when it is
 * damaged: cut short at every length, of another version, with an id, a
 * record or an fd out of range, or with an fd that is not of its kind (a
 * pipe for a region, an unsealed or misnamed memfd for a ring, a listening
 * socket for a client, a closed fd). A well-formed one with real fds of
 * each kind passes: the checks are not simply refusing everything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dmad_ring.h"
#include "handover_state.h"
#include "tap.h"

struct fds {
	int listen, client, peer, region, ring, doorbell;
};

static int memfd(const char *name, off_t size, int seals)
{
	int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0 || ftruncate(fd, size) < 0 || (seals && fcntl(fd, F_ADD_SEALS, seals) < 0))
		tap_bail("memfd: %s", strerror(errno));
	return fd;
}

static int ring_memfd(const char *name, int seals)
{
	return memfd(name, dmad_proto_ring_size(DMAD_PROTO_SQ_ENTRIES, DMAD_PROTO_ERR_ENTRIES),
		     seals);
}

#define RING_SEALS (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

static void open_fds(struct fds *f)
{
	struct sockaddr sa = {.sa_family = AF_UNIX};
	int sp[2];

	f->listen = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (f->listen < 0 || bind(f->listen, &sa, sizeof(sa_family_t)) < 0 ||
	    listen(f->listen, 1) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
		tap_bail("sockets: %s", strerror(errno));
	f->client = sp[0];
	f->peer = sp[1];
	f->region = memfd("region", 8192, F_SEAL_SHRINK);
	f->ring = ring_memfd("dmad-ring", RING_SEALS);
	f->doorbell = eventfd(0, EFD_CLOEXEC);
}

/*
 * One client with a region and a channel, one device: fds 0 listen,
 * 1 client, 2 region, 3 ring, 4 doorbell.
 */
static void *good_state(const struct fds *f, size_t *ret_len)
{
	size_t len = handover_state_size(1, 1, 1, 1, 5);
	struct handover_view v;
	void *buf = calloc(1, len);

	handover_state_init(buf, 1, 1, 1, 1, 5, &v);
	((struct handover_hdr *)v.h)->listen_fd = 0;
	*(struct handover_client *)v.clients =
		(struct handover_client){.id = 7, .sock = 1, .next_chan_id = 1, .name = "copier"};
	*(struct handover_region *)v.regions =
		(struct handover_region){.client = 0, .id = 0, .len = 8192, .fd = 2};
	*(struct handover_chan *)v.chans = (struct handover_chan){
		.client = 0, .id = 1, .caps = DMAD_PROTO_CAP_COPY, .ring = 3, .doorbell = 4};
	*(struct handover_device *)v.devices =
		(struct handover_device){.name = "dma_skeleton0", .copybreak = 4096};
	struct handover_fd *t = (struct handover_fd *)v.fds;
	t[0] = (struct handover_fd){HANDOVER_FD_LISTEN, f->listen};
	t[1] = (struct handover_fd){HANDOVER_FD_CLIENT, f->client};
	t[2] = (struct handover_fd){HANDOVER_FD_REGION, f->region};
	t[3] = (struct handover_fd){HANDOVER_FD_RING, f->ring};
	t[4] = (struct handover_fd){HANDOVER_FD_DOORBELL, f->doorbell};
	*ret_len = len;
	return buf;
}

/* Entry @i of the fd table of good_state()'s @buf. */
static struct handover_fd *fd_entry(uint8_t *buf, uint32_t i)
{
	struct handover_view v;

	handover_state_init(buf, 1, 1, 1, 1, 5, &v);
	return (struct handover_fd *)&v.fds[i];
}

static int parse(void *buf, size_t len, const char **why)
{
	struct handover_view v;

	*why = NULL;
	return handover_state_parse(buf, len, &v, why);
}

/* Parses, but one fd is not of its kind. */
static bool fds_refused(void *buf, size_t len, uint32_t want_index)
{
	struct handover_view v;
	const char *why = NULL;
	uint32_t at = UINT32_MAX;

	if (handover_state_parse(buf, len, &v, &why) < 0) {
		tap_diag("parse refused it first: %s", why);
		return false;
	}
	if (handover_state_check_fds(&v, &why, &at) != -EBADF)
		return false;
	tap_diag("refused: %s (entry %u)", why, at);
	return at == want_index;
}

/* A fresh good state with @edit applied, refused by the parse? */
#define PARSE_REFUSED(f, edit)                                           \
	({                                                               \
		size_t len_;                                             \
		uint8_t *b_ = good_state(f, &len_);                      \
		struct handover_view v_;                                 \
		const char *why_;                                        \
		handover_state_parse(b_, len_, &v_, &why_);              \
		{                                                        \
			struct handover_hdr *h = (void *)v_.h;           \
			struct handover_client *cl = (void *)v_.clients; \
			struct handover_region *rg = (void *)v_.regions; \
			struct handover_chan *ch = (void *)v_.chans;     \
			struct handover_device *dv = (void *)v_.devices; \
			struct handover_fd *fd = (void *)v_.fds;         \
			(void)h, (void)cl, (void)rg, (void)ch, (void)dv; \
			(void)fd;                                        \
			edit;                                            \
		}                                                        \
		int r_ = parse(b_, len_, &why_);                         \
		if (r_ < 0)                                              \
			tap_diag("refused: %s", why_);                   \
		free(b_);                                                \
		r_ == -EINVAL;                                           \
	})

int main(void)
{
	struct fds f;
	const char *why;
	size_t len, cut;
	uint8_t *buf;
	struct handover_view v;
	uint32_t at;
	int pipefd[2], other;

	tap_plan(26);
	open_fds(&f);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		tap_bail("pipe: %s", strerror(errno));

	buf = good_state(&f, &len);
	tap_ok(handover_state_parse(buf, len, &v, &why) == 0 &&
		       handover_state_check_fds(&v, &why, &at) == 0,
	       "a well-formed state with real fds of each kind is accepted");

	for (cut = 0; cut < len; cut++)
		if (parse(buf, cut, &why) != -EINVAL)
			break;
	tap_ok(cut == len, "cut short at every length from 0 to %zu: refused", len - 1);
	free(buf);

	buf = good_state(&f, &len);
	((struct handover_hdr *)buf)->version = HANDOVER_VERSION + 1;
	at = (uint32_t)parse(buf, len, &why);
	tap_ok((int)at == -EPROTONOSUPPORT, "another version: refused (%s)", why);
	((struct handover_hdr *)buf)->version = HANDOVER_VERSION;
	((struct handover_hdr *)buf)->magic ^= 1;
	at = (uint32_t)parse(buf, len, &why);
	tap_ok((int)at == -EINVAL, "a bad magic: refused (%s)", why);
	free(buf);

	tap_ok(PARSE_REFUSED(&f, h->chan_size = 104), "a record size of another layout: refused");
	tap_ok(PARSE_REFUSED(&f, h->nchans = 2), "counts that do not add up: refused");
	tap_ok(PARSE_REFUSED(&f, rg->id = HANDOVER_MAX_REGION_ID + 1),
	       "a region id past 16 bits: refused");
	tap_ok(PARSE_REFUSED(&f, rg->client = 1), "a region of a client out of range: refused");
	tap_ok(PARSE_REFUSED(&f, rg->flags = HANDOVER_REGION_RETIRED << 1),
	       "a region flag this version does not know: refused");
	tap_ok(PARSE_REFUSED(&f, ch->ring = 5),
	       "a channel naming an fd entry out of range: refused");
	tap_ok(PARSE_REFUSED(&f, ch->id = 2), "a channel id past its client's last: refused");
	tap_ok(PARSE_REFUSED(&f, cl->id = 0), "client id 0: refused");
	tap_ok(PARSE_REFUSED(&f, memset(cl->name, 'x', sizeof(cl->name))),
	       "a client name without its NUL: refused");
	tap_ok(PARSE_REFUSED(&f, ch->doorbell = 3), "a ring's fd entry used twice: refused");
	tap_ok(PARSE_REFUSED(&f, fd[3].kind = HANDOVER_FD_REGION),
	       "a ring's entry of the region kind: refused");
	tap_ok(PARSE_REFUSED(&f, fd[4].fd = fd[3].fd), "the same fd number twice: refused");
	tap_ok(PARSE_REFUSED(&f, fd[1].fd = 1), "stdout as a client's socket: refused");
	tap_ok(PARSE_REFUSED(&f, dv->copybreak = HANDOVER_MAX_COPYBREAK + 1),
	       "a device copybreak past what calibration finds: refused");
	tap_ok(PARSE_REFUSED(&f, dv->name[0] = '\0'), "a device without a name: refused");
	tap_ok(PARSE_REFUSED(&f, h->device_size = 48), "a device record of another size: refused");

	/* Well-formed records, fds that are not what the table says. */
	buf = good_state(&f, &len);
	fd_entry(buf, 2)->fd = pipefd[0];
	tap_ok(fds_refused(buf, len, 2), "a pipe as a region's memfd: refused");
	free(buf);

	buf = good_state(&f, &len);
	other = memfd("region", 8192, 0);
	fd_entry(buf, 2)->fd = other;
	tap_ok(fds_refused(buf, len, 2), "an unsealed memfd as a region: refused");
	close(other);
	free(buf);

	buf = good_state(&f, &len);
	other = ring_memfd("not-a-ring", RING_SEALS);
	fd_entry(buf, 3)->fd = other;
	tap_ok(fds_refused(buf, len, 3), "a sealed memfd of another name as a ring: refused");
	close(other);
	free(buf);

	buf = good_state(&f, &len);
	other = ring_memfd("dmad-ring", 0);
	fd_entry(buf, 3)->fd = other;
	tap_ok(fds_refused(buf, len, 3), "an unsealed dmad-ring memfd as a ring: refused");
	close(other);
	free(buf);

	buf = good_state(&f, &len);
	other = dup(f.listen);
	fd_entry(buf, 1)->fd = other;
	tap_ok(fds_refused(buf, len, 1), "a listening socket as a client's: refused");
	close(other);
	free(buf);

	buf = good_state(&f, &len);
	other = dup(f.doorbell);
	close(other);
	fd_entry(buf, 4)->fd = other;
	tap_ok(fds_refused(buf, len, 4), "a closed fd as a doorbell: refused");
	free(buf);

	return tap_done();
}
