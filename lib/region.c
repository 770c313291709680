/* SPDX-License-Identifier: MIT */
/*
 * Regions: the only memory a descriptor may name. The table is an array
 * sorted by address, so the submit path finds the region holding a pointer
 * with a binary search (after its one-entry cache misses) and turns the
 * pointer into {region id, offset}. Changing it is slow path (realloc).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "internal.h"

/* Index of the first region starting above @addr. */
static size_t region_upper(const struct dmac_client *c, uintptr_t addr)
{
	size_t lo = 0, hi = c->nregions;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c->regions[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct dmac_region *__dmac_region_lookup(const struct dmac_client *c, uintptr_t addr,
					       size_t len)
{
	size_t i = region_upper(c, addr);
	const struct dmac_region *r;

	if (i == 0)
		return NULL;
	r = &c->regions[i - 1];
	if (addr - r->addr >= r->len || len > r->len - (addr - r->addr))
		return NULL;
	return r;
}

/* Check [addr, addr+len) overlaps no region, and make room for one more. */
static int region_reserve(struct dmac_client *c, uintptr_t addr, size_t len)
{
	size_t i = region_upper(c, addr);
	struct dmac_region *t;
	size_t cap;

	if (addr + len < addr)
		return -EINVAL;
	/* A lookup assumes one region at most holds any address. */
	if (i > 0 && c->regions[i - 1].addr + c->regions[i - 1].len > addr)
		return -EINVAL;
	if (i < c->nregions && c->regions[i].addr < addr + len)
		return -EINVAL;
	if (c->nregions < c->regions_cap)
		return 0;

	cap = c->regions_cap ? 2 * c->regions_cap : 16;
	t = reallocarray(c->regions, cap, sizeof(*t));
	if (!t)
		return -ENOMEM;
	c->regions = t;
	c->regions_cap = cap;
	return 0;
}

static void region_insert(struct dmac_client *c, const struct dmac_region *r)
{
	size_t i = region_upper(c, r->addr);

	memmove(&c->regions[i + 1], &c->regions[i], (c->nregions - i) * sizeof(*r));
	c->regions[i] = *r;
	c->nregions++;
	c->region_gen++;
}

static void region_remove(struct dmac_client *c, size_t i)
{
	struct dmac_region *r = &c->regions[i];

	if (r->owned)
		munmap((void *)r->addr, r->len);
	memmove(r, r + 1, (c->nregions - i - 1) * sizeof(*r));
	c->nregions--;
	c->region_gen++;
}

static int region_add(struct dmac_client *c, int fd, void *addr, size_t len, bool owned)
{
	struct dmad_proto_region_reg_req req = {.len = len};
	struct dmad_proto_region_reg_rep rep;
	struct dmac_region r = {.addr = (uintptr_t)addr, .len = len, .owned = owned};
	int ret;

	/* Room first: once the daemon holds the region, recording it cannot fail. */
	ret = region_reserve(c, r.addr, len);
	if (ret < 0)
		return ret;
	ret = __dmac_request(c, DMAD_PROTO_REGION_REG, &req, sizeof(req), fd, &rep, sizeof(rep),
			     NULL, 0);
	if (ret < 0)
		return ret;
	if (rep.region_id > UINT16_MAX) {
		struct dmad_proto_region_unreg_req unreg = {.region_id = rep.region_id};

		__dmac_request(c, DMAD_PROTO_REGION_UNREG, &unreg, sizeof(unreg), -1, NULL, 0, NULL,
			       0);
		return -EPROTO;
	}
	r.id = (uint16_t)rep.region_id;
	region_insert(c, &r);
	return 0;
}

DMAC_EXPORT void *dmac_region_alloc(struct dmac_client *c, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *addr = MAP_FAILED;
	int fd, r;

	if (len == 0 || len > SIZE_MAX - page) {
		errno = EINVAL;
		return NULL;
	}
	len = (len + page - 1) & ~(page - 1);
	if (__dmac_client_dead(c)) {
		errno = ENODEV;
		return NULL;
	}

	fd = memfd_create("dmac-region", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return NULL;
	/* Sealed so that neither side can shrink it under the other's mapping. */
	if (ftruncate(fd, (off_t)len) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		r = -errno;
		goto fail;
	}
	addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (addr == MAP_FAILED) {
		r = -errno;
		goto fail;
	}
	/* The daemon maps its own view; this fd is not needed past the request. */
	r = region_add(c, fd, addr, len, true);
	if (r < 0)
		goto fail;
	close(fd);
	return addr;
fail:
	if (addr != MAP_FAILED)
		munmap(addr, len);
	close(fd);
	errno = -r;
	return NULL;
}

DMAC_EXPORT int dmac_region_register(struct dmac_client *c, int memfd, void *addr, size_t len)
{
	if (memfd < 0 || !addr || len == 0)
		return -EINVAL;
	return region_add(c, memfd, addr, len, false);
}

DMAC_EXPORT int dmac_region_free(struct dmac_client *c, void *addr)
{
	size_t i = region_upper(c, (uintptr_t)addr);
	struct dmad_proto_region_unreg_req req;
	int r;

	if (i == 0 || c->regions[i - 1].addr != (uintptr_t)addr)
		return -EINVAL;
	/*
	 * What was queued before the free was queued for this region: publish
	 * it first, so that the daemon, which keeps the region (and its id)
	 * until every channel has taken what was published when it is told,
	 * resolves those descriptors to it and never to a later region.
	 */
	for (struct dmac_chan *ch = c->chans; ch; ch = ch->next)
		dmac_issue_pending(ch);
	req = (struct dmad_proto_region_unreg_req){.region_id = c->regions[i - 1].id};
	r = __dmac_request(c, DMAD_PROTO_REGION_UNREG, &req, sizeof(req), -1, NULL, 0, NULL, 0);
	/* With the daemon gone the region is of no more use: forget it too. */
	if (r < 0 && r != -ENODEV)
		return r;
	region_remove(c, i - 1);
	return r;
}

void __dmac_regions_free(struct dmac_client *c)
{
	while (c->nregions > 0)
		region_remove(c, c->nregions - 1);
	free(c->regions);
	c->regions = NULL;
	c->regions_cap = 0;
}
