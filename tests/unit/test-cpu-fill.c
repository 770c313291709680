/* SPDX-License-Identifier: MIT */
/*
 * engine_cpu_fill() does every fill the worker does itself: dmad's CPU
 * engine's, and those of engines without a fill capability (dma_skeleton).
 * A fill may be 4 GiB - 1 bytes long, and near that a loop bound written
 * as a sum wraps: the fill then writes past its end and never returns,
 * holding the worker, and every channel it serves, for good. Checked at
 * the longest lengths, each ending right before a guard page: the fill
 * returns, every byte is the pattern's, and the guard is untouched. The
 * destination is 4 GiB of anonymous memory in huge pages (touched for the
 * test's few seconds, then unmapped): fast to fault in, as a small buffer
 * mapped 4096 times over is not.
 */
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine.h"
#include "tap.h"

#define SPAN	 (4ull << 30)
#define BLOCK	 (1u << 20) /* compared a block at a time; a multiple of 8 */
#define GUARD	 0xa5
#define PAGE	 4096u
#define PATTERN	 0x0807060504030201ull
#define FILL_MAX (60 * 1000) /* ms: 4 GiB of stores, far more than they take */

static uint8_t *base, *guard;
static uint8_t want[BLOCK];

struct fill {
	uint8_t *dst;
	uint32_t len;
	bool done;
};

static void *fill_main(void *arg)
{
	struct fill *f = arg;

	engine_cpu_fill(f->dst, PATTERN, f->len);
	__atomic_store_n(&f->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/* Has @f returned within FILL_MAX ms? */
static bool returns(const struct fill *f)
{
	for (int ms = 0; ms < FILL_MAX; ms += 10) {
		if (__atomic_load_n(&f->done, __ATOMIC_ACQUIRE))
			return true;
		usleep(10000);
	}
	return false;
}

/* Offset of the first byte of the fill at @start that is not the pattern's, or SPAN. */
static uint64_t first_wrong(uint64_t start)
{
	/* Span byte j holds pattern byte (j - start) % 8; BLOCK keeps the phase. */
	for (uint32_t k = 0; k < BLOCK; k++)
		want[k] = (uint8_t)(PATTERN >> (8 * ((k - start) % 8)));
	for (uint64_t j = start; j < BLOCK; j++)
		if (base[j] != want[j])
			return j;
	for (uint64_t j = BLOCK; j < SPAN; j += BLOCK)
		if (memcmp(base + j, want, BLOCK))
			return j;
	return SPAN;
}

/* A fill of @len bytes ending exactly at the guard page, in a thread: a
 * fill that never returns cannot be stopped, so the test ends after it. */
static void check(uint32_t len)
{
	uint64_t start = SPAN - len, wrong;
	struct fill f = {.dst = base + start, .len = len};
	uint32_t g;
	pthread_t t;
	bool ended;

	memset(guard, GUARD, PAGE);
	if (pthread_create(&t, NULL, fill_main, &f))
		tap_bail("pthread_create");
	ended = returns(&f);
	ok(ended, "a fill of %#x bytes returns", len);
	wrong = first_wrong(start);
	ok(wrong == SPAN, "every byte is the pattern's (first wrong: %llu)",
	   (unsigned long long)wrong);
	for (g = 0; g < PAGE && guard[g] == GUARD;)
		g++;
	ok(g == PAGE, "nothing past its end is written (first guard byte changed: %u)", g);
	if (!ended)
		tap_bail("the fill still runs");
	pthread_join(t, NULL);
}

int main(void)
{
	base = mmap(NULL, SPAN + PAGE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		tap_bail("cannot map 4 GiB");
	madvise(base, SPAN, MADV_HUGEPAGE);
	guard = base + SPAN;

	check(UINT32_MAX);     /* the longest a descriptor says: ends mid-word */
	check(UINT32_MAX - 7); /* a whole number of words */

	munmap(base, SPAN + PAGE);
	return tap_done();
}
