/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include "device.h"
#include "handover_live.h"
#include "log.h"
#include "region.h"

/*
 * Engines that cannot use process virtual addresses (no RTE_DMA_CAPA_SVA,
 * e.g. ioat or idxd behind an IOMMU) need the memory known to DPDK and
 * mapped in each device's IOMMU domain. The software engine and SVA-capable
 * devices take the virtual address as it is.
 */
static int dma_map(struct region *r)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	int ret;

	if (!device_any_needs_dma_map())
		return 0;
	ret = rte_extmem_register(r->view.va, RTE_ALIGN_CEIL(r->view.len, pg), NULL, 0, pg);
	if (ret < 0)
		return log_error_errno(-rte_errno, "cannot register region with DPDK: %m");
	ret = device_dma_map_all(r->view.va, r->view.iova, RTE_ALIGN_CEIL(r->view.len, pg));
	if (ret < 0) {
		rte_extmem_unregister(r->view.va, RTE_ALIGN_CEIL(r->view.len, pg));
		return ret;
	}
	r->dma_mapped = 1;
	return 0;
}

int region_map(int fd, uint64_t len, struct quota_acct *acct, struct region **ret_region)
{
	struct region *r;
	struct statfs sfs;
	struct stat st;
	void *va;
	int seals;

	if (len == 0)
		return -EINVAL;
	/* F_GET_SEALS fails on anything that is not a memfd (pipe, directory, file). */
	seals = fcntl(fd, F_GET_SEALS);
	if (seals < 0 || !(seals & F_SEAL_SHRINK))
		return -EINVAL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size < len)
		return -EINVAL;
	/* Hugetlbfs (MFD_HUGETLB): no seal that lets us write keeps its owner
	 * from punching a hole that only the shared pool can refill; once the
	 * pool is taken, a copy into the hole is SIGBUS, and DPDK's handler
	 * then waits for the faulting lcore itself: dmad hangs. */
	if (fstatfs(fd, &sfs) < 0 || sfs.f_type == HUGETLBFS_MAGIC)
		return -EINVAL;
	if (rte_eal_iova_mode() != RTE_IOVA_VA)
		return -ENOTSUP;
	/* Before the mmap: its cost is what the limits keep below the kernel's. */
	if (quota_charge(acct, quota_region(len)) < 0)
		return -EDQUOT;

	va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (va == MAP_FAILED) {
		quota_release(acct, quota_region(len));
		return errno == ENOMEM ? -ENOMEM : -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		munmap(va, len);
		quota_release(acct, quota_region(len));
		return -ENOMEM;
	}
	/* Kept so that a restart can hand it on: a mapping cannot give it back. */
	r->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (r->fd < 0) {
		munmap(va, len);
		free(r);
		quota_release(acct, quota_region(len));
		return -ENOMEM;
	}
	r->view.va = va;
	r->view.len = len;
	r->view.iova = (uint64_t)(uintptr_t)va;
	r->acct = acct;
	if (dma_map(r) < 0) {
		close(r->fd);
		munmap(va, len);
		free(r);
		quota_release(acct, quota_region(len));
		return -ENOTSUP;
	}
	*ret_region = r;
	return 0;
}

void region_unmap(struct region *r)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	if (!r)
		return;
	if (r->dma_mapped) {
		device_dma_unmap_all(r->view.va, r->view.iova, RTE_ALIGN_CEIL(r->view.len, pg));
		rte_extmem_unregister(r->view.va, RTE_ALIGN_CEIL(r->view.len, pg));
	}
	munmap(r->view.va, r->view.len);
	handover_live_drop(r->fd);
	close(r->fd);
	quota_release(r->acct, quota_region(r->view.len));
	free(r);
}
