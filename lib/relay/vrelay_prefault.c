/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Post-copy prefault (issue #17). On the destination of a post-copy
 * migration, guest pages arrive on demand: a CPU access of the backend to
 * a page not yet placed blocks in userfaultfd until QEMU fetches it, but
 * the device's DMA cannot fault. So before the relay forwards an avail
 * chain in the post-copy window, every page the device may touch for it
 * (its buffers, its indirect table) must be present.
 *
 * Presence: mincore() on our mapping of guest memory. For a shared memfd
 * it reports page-cache residency, which is exactly "QEMU placed it" (a
 * page is never populated otherwise: doc/robustness.md, section 7).
 * Pages never leave during post-copy, so a page seen present is cached
 * in a per-region bitmap and never asked about again.
 *
 * A missing page must not stall the engine's other queues: the chain is
 * left unconsumed, the queue waits (one chain per queue at a time), and
 * the device's prefault thread reads one byte of each missing page. The
 * read blocks in userfaultfd until QEMU places the page (our mapping is
 * the one vhost registered, QEMU's fault thread serves it); then the
 * thread marks the pages and kicks the queue through its kick eventfd.
 *
 * Split and packed rings alike. Bounds: a chain has at most
 * VRELAY_MAX_CHAIN_LEN descriptors (the chain walk's bound) and a request keeps at most VRELAY_PF_RANGES missing
 * ranges; a chain with more missing ranges takes more rounds. Pending
 * requests: one per queue, VRELAY_PF_SLOTS per device.
 */

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

#define VRELAY_PF_RANGES 16
#define VRELAY_PF_SLOTS 64
#define VRELAY_PF_VEC 64	/* mincore() pages per call */

struct pf_range {
	uintptr_t start;	/* page aligned hva */
	uint64_t npages;
};

struct pf_slot {
	struct vrelay_queue *owner;	/* NULL: free, or cancelled */
	bool busy;			/* the thread works on it */
	uint32_t n;
	struct pf_range r[VRELAY_PF_RANGES];
};

/*
 * A fetch nobody will serve (the destination QEMU died, the device is
 * closed): the thread's read waits in userfaultfd for good, and vhost
 * unmaps guest memory right after closing the device, so the thread
 * can neither be joined nor left behind. A userfaultfd wait is
 * interruptible: at teardown the thread gets VRELAY_PF_SIGNAL, whose
 * handler leaves the fetch with siglongjmp (armed only around the read
 * of the prefault thread, never elsewhere).
 */
#define VRELAY_PF_SIGNAL (SIGRTMIN + 5)

static __thread sigjmp_buf pf_jmp;
static __thread volatile sig_atomic_t pf_jmp_armed;
static pthread_once_t pf_sig_once = PTHREAD_ONCE_INIT;
static bool pf_sig_ok;	/* our handler is installed */

static void
pf_sig_handler(int sig)
{
	RTE_SET_USED(sig);
	if (pf_jmp_armed) {
		pf_jmp_armed = 0;
		siglongjmp(pf_jmp, 1);
	}
}

/* Install the handler unless the application has the signal already. */
static void
pf_sig_install(void)
{
	struct sigaction sa, old;

	if (sigaction(VRELAY_PF_SIGNAL, NULL, &old) != 0 ||
	    old.sa_handler != SIG_DFL) {
		VRELAY_LOG(WARNING, "signal %d taken: a post-copy fetch that "
			   "is never served blocks the device's teardown",
			   VRELAY_PF_SIGNAL);
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pf_sig_handler;
	sigemptyset(&sa.sa_mask);
	pf_sig_ok = sigaction(VRELAY_PF_SIGNAL, &sa, NULL) == 0;
}

struct vrelay_prefault {
	struct vrelay_device *dev;
	uint64_t *present[VRELAY_MAX_MEM_REGIONS];	/* bit per page */
	uintptr_t base[VRELAY_MAX_MEM_REGIONS];	/* region start, aligned */
	uint64_t npages[VRELAY_MAX_MEM_REGIONS];
	long psz;
	bool active;		/* window open: chains are checked */
	bool skip;		/* VRELAY_POSTCOPY_PREFAULT=0: negative control */

	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool quit;
	struct pf_slot slots[VRELAY_PF_SLOTS];

	struct vrelay_prefault_stats st;	/* atomics */
};

/* Region index and page index of hva, or -1. */
static int
pf_locate(const struct vrelay_prefault *pf, uintptr_t hva, uint64_t *page)
{
	uint32_t i;

	for (i = 0; i < pf->dev->mem.nregions; i++) {
		if (hva >= pf->base[i] &&
		    (hva - pf->base[i]) / pf->psz < pf->npages[i]) {
			*page = (hva - pf->base[i]) / pf->psz;
			return (int)i;
		}
	}
	return -1;
}

static bool
pf_bit(const struct vrelay_prefault *pf, int r, uint64_t page)
{
	return (__atomic_load_n(&pf->present[r][page / 64], __ATOMIC_RELAXED) >>
		(page % 64)) & 1;
}

static void
pf_set_bit(struct vrelay_prefault *pf, int r, uint64_t page)
{
	__atomic_fetch_or(&pf->present[r][page / 64], 1ULL << (page % 64),
			  __ATOMIC_RELAXED);
}

/*
 * Pages of [start, start + npages * psz) not known present: asks mincore
 * about them, caches the present ones. Returns the first missing page's
 * address in *miss and how many pages from there are missing in a row
 * (0: all present).
 */
static uint64_t
pf_scan(struct vrelay_prefault *pf, uintptr_t start, uint64_t npages,
	uintptr_t *miss)
{
	unsigned char vec[VRELAY_PF_VEC];
	uint64_t i, j, n, page, run = 0;
	int r;

	for (i = 0; i < npages; i += n) {
		uintptr_t a = start + i * pf->psz;

		n = RTE_MIN(npages - i, (uint64_t)VRELAY_PF_VEC);
		r = pf_locate(pf, a, &page);
		if (r < 0)
			return 0;	/* not guest memory: the walk refuses it */
		n = RTE_MIN(n, pf->npages[r] - page);
		for (j = 0; j < n && pf_bit(pf, r, page + j); j++)
			;
		if (j == n)
			continue;
		__atomic_fetch_add(&pf->st.mincore_calls, 1, __ATOMIC_RELAXED);
		if (mincore((void *)a, n * pf->psz, vec) != 0)
			memset(vec, 0, sizeof(vec));	/* ask the thread */
		for (j = 0; j < n; j++) {
			if (vec[j] & 1) {
				pf_set_bit(pf, r, page + j);
				if (run != 0)
					return run;
			} else {
				if (run == 0)
					*miss = a + j * pf->psz;
				run++;
			}
		}
	}
	return run;
}

/* Add the missing pages of [hva, hva + len) to the request. */
static void
pf_check_range(struct vrelay_prefault *pf, struct pf_slot *req, uintptr_t hva,
	       uint64_t len)
{
	uintptr_t start = RTE_ALIGN_FLOOR(hva, (uintptr_t)pf->psz);
	uintptr_t end = RTE_ALIGN_CEIL(hva + len, (uintptr_t)pf->psz);
	uint64_t npages = (end - start) / pf->psz, run;
	uintptr_t miss = 0;

	while (npages > 0 && req->n < VRELAY_PF_RANGES) {
		run = pf_scan(pf, start, npages, &miss);
		if (run == 0)
			return;
		req->r[req->n].start = miss;
		req->r[req->n].npages = run;
		req->n++;
		npages -= (miss - start) / pf->psz + run;
		start = miss + run * pf->psz;
	}
}

static void
pf_check_gpa(struct vrelay_prefault *pf, struct pf_slot *req, uint64_t gpa,
	     uint64_t len)
{
	const struct vrelay_mem *mem = &pf->dev->mem;
	uint64_t chunk;
	void *hva;

	/* A buffer may straddle regions: page by page across a border. */
	while (len > 0 && req->n < VRELAY_PF_RANGES) {
		hva = vrelay_mem_translate(mem, gpa, len);
		chunk = len;
		if (hva == NULL) {
			chunk = RTE_MIN(len, pf->psz - (gpa % pf->psz));
			hva = vrelay_mem_translate(mem, gpa, chunk);
			if (hva == NULL)
				return;	/* outside memory: the walk breaks */
		}
		pf_check_range(pf, req, (uintptr_t)hva, chunk);
		gpa += chunk;
		len -= chunk;
	}
}

/*
 * Every page of the split chain at head (buffers and indirect table).
 * The guest's descriptor table itself was prefaulted at attach. The walk
 * is bounded as the relay's (VRELAY_MAX_CHAIN_LEN descriptors); what it
 * finds malformed it leaves to the relay's walk, which breaks the queue.
 * An indirect table is read only once its pages are present.
 */
static void
pf_split_chain(struct vrelay_prefault *pf, struct vrelay_queue *q,
	       uint16_t head, struct pf_slot *req)
{
	const struct vring_desc *table = q->split.gdesc;
	uint32_t n = q->size, i = head, seen;
	struct vring_desc d;
	bool indirect = false;

	for (seen = 0; seen < VRELAY_MAX_CHAIN_LEN && i < n; seen++) {
		memcpy(&d, (const void *)&table[i], sizeof(d));
		pf_check_gpa(pf, req, d.addr, d.len);
		if (req->n != 0)
			return;	/* one round at a time: fetch, then look on */
		if ((d.flags & VRING_DESC_F_INDIRECT) && !indirect) {
			table = vrelay_mem_translate(&pf->dev->mem, d.addr,
						     d.len);
			if (table == NULL || d.len < sizeof(d))
				return;
			n = d.len / sizeof(d);
			i = 0;
			indirect = true;
			continue;
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return;
		i = d.next;
	}
}

/*
 * Every page of the packed chain at the queue's next avail slot: its
 * buffers, its indirect table (present before it is read) and the
 * table's buffers. The ring itself was prefaulted at attach. Bounded by
 * the ring size and VRELAY_MAX_CHAIN_LEN; what is malformed is left to
 * the relay's walk, which breaks the queue.
 */
static void
pf_packed_chain(struct vrelay_prefault *pf, struct vrelay_queue *q,
		struct pf_slot *req)
{
	uint16_t slot = q->packed.last_avail;
	struct vring_packed_desc d, e;
	const struct vring_packed_desc *t;
	uint32_t seen, i, n;

	for (seen = 0; seen < RTE_MIN((uint32_t)q->size,
				      (uint32_t)VRELAY_MAX_CHAIN_LEN);
	     seen++) {
		memcpy(&d, (const void *)&q->packed.gdesc[slot], sizeof(d));
		pf_check_gpa(pf, req, d.addr, d.len);
		if (req->n != 0)
			return;
		if (d.flags & VRING_DESC_F_INDIRECT) {
			t = vrelay_mem_translate(&pf->dev->mem, d.addr, d.len);
			n = RTE_MIN(d.len / sizeof(e),
				    (uint32_t)VRELAY_MAX_CHAIN_LEN);
			for (i = 0; t != NULL && i < n && req->n == 0; i++) {
				memcpy(&e, (const void *)&t[i], sizeof(e));
				pf_check_gpa(pf, req, e.addr, e.len);
			}
			return;	/* an indirect descriptor ends its chain */
		}
		if (!(d.flags & VRING_DESC_F_NEXT))
			return;
		slot = slot + 1 == q->size ? 0 : slot + 1;
	}
}

/* Wake the queue: its kick eventfd, which its engine sleeps on. */
static void
pf_kick(struct vrelay_queue *q)
{
	__atomic_store_n(&q->pf_wait, false, __ATOMIC_RELEASE);
	if (q->guest_kick_fd >= 0)
		vrelay_eventfd_signal(q->guest_kick_fd);
}

/*
 * Read one page in: blocks in userfaultfd until QEMU placed it. abortable
 * (the prefault thread's fetch): teardown may interrupt it (false). Its
 * own frame, so that siglongjmp clobbers no caller's variable.
 */
static __attribute__((noinline)) bool
pf_fetch_page(struct vrelay_prefault *pf, uintptr_t a, bool abortable)
{
	if (abortable) {
		if (sigsetjmp(pf_jmp, 1) != 0)
			return false;
		pf_jmp_armed = 1;
		if (__atomic_load_n(&pf->quit, __ATOMIC_ACQUIRE)) {
			pf_jmp_armed = 0;
			return false;
		}
	}
	(void)*(volatile const uint8_t *)a;
	pf_jmp_armed = 0;
	return true;
}

/* Read the request's pages in; false if interrupted (teardown). */
static bool
pf_touch(struct vrelay_prefault *pf, const struct pf_slot *req,
	 bool abortable)
{
	uint64_t i, page;
	uint32_t k;
	int r;

	for (k = 0; k < req->n; k++) {
		for (i = 0; i < req->r[k].npages; i++) {
			uintptr_t a = req->r[k].start + i * pf->psz;

			if (!pf_fetch_page(pf, a, abortable))
				return false;
			r = pf_locate(pf, a, &page);
			if (r >= 0)
				pf_set_bit(pf, r, page);
			__atomic_fetch_add(&pf->st.pages_fetched, 1,
					   __ATOMIC_RELAXED);
		}
	}
	return true;
}

static void *
pf_main(void *arg)
{
	struct vrelay_prefault *pf = arg;
	struct pf_slot req;
	unsigned int i;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VRELAY_PF_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	pthread_mutex_lock(&pf->lock);
	while (!pf->quit) {
		for (i = 0; i < VRELAY_PF_SLOTS; i++)
			if (pf->slots[i].owner != NULL && !pf->slots[i].busy)
				break;
		if (i == VRELAY_PF_SLOTS) {
			pthread_cond_wait(&pf->cond, &pf->lock);
			continue;
		}
		pf->slots[i].busy = true;
		req = pf->slots[i];
		pthread_mutex_unlock(&pf->lock);
		pf_touch(pf, &req, true);
		pthread_mutex_lock(&pf->lock);
		/* Cancelled meanwhile (the queue is gone): nobody to kick. */
		if (pf->slots[i].owner != NULL)
			pf_kick(pf->slots[i].owner);
		pf->slots[i].owner = NULL;
		pf->slots[i].busy = false;
	}
	pthread_mutex_unlock(&pf->lock);
	return NULL;
}

static bool
pf_enabled_by_env(void)
{
	const char *s = getenv("VRELAY_POSTCOPY_PREFAULT");

	return s == NULL || strcmp(s, "0") != 0;
}

static int
pf_create(struct vrelay_device *dev)
{
	struct vrelay_prefault *pf;
	uint32_t i;
	int ret;

	pf = calloc(1, sizeof(*pf));
	if (pf == NULL)
		return -ENOMEM;
	pf->dev = dev;
	pf->psz = getpagesize();
	pf->skip = !pf_enabled_by_env();
	for (i = 0; i < dev->mem.nregions; i++) {
		const struct vrelay_mem_region *m = &dev->mem.regions[i];
		uintptr_t end = RTE_ALIGN_CEIL(m->hva + m->size,
					       (uintptr_t)pf->psz);

		pf->base[i] = RTE_ALIGN_FLOOR(m->hva, (uintptr_t)pf->psz);
		pf->npages[i] = (end - pf->base[i]) / pf->psz;
		pf->present[i] = calloc((pf->npages[i] + 63) / 64, 8);
		if (pf->present[i] == NULL)
			goto fail;
	}
	pthread_once(&pf_sig_once, pf_sig_install);
	pthread_mutex_init(&pf->lock, NULL);
	pthread_cond_init(&pf->cond, NULL);
	ret = pthread_create(&pf->thread, NULL, pf_main, pf);
	if (ret != 0) {
		pthread_cond_destroy(&pf->cond);
		pthread_mutex_destroy(&pf->lock);
		goto fail;
	}
	dev->pf = pf;
	return 0;
fail:
	for (i = 0; i < dev->mem.nregions; i++)
		free(pf->present[i]);
	free(pf);
	return -ENOMEM;
}

int
vrelay_prefault_enable(struct vrelay_device *dev)
{
	int ret;

	if (dev->pf == NULL) {
		ret = pf_create(dev);
		if (ret < 0)
			return ret;
	}
	if (dev->pf->skip)
		VRELAY_LOG(WARNING, "%s: post-copy window WITHOUT prefault "
			   "(VRELAY_POSTCOPY_PREFAULT=0): the device may DMA to "
			   "pages that have not arrived", dev->name);
	__atomic_store_n(&dev->pf->active, true, __ATOMIC_RELEASE);
	return 0;
}

void
vrelay_prefault_disable(struct vrelay_device *dev)
{
	if (dev->pf != NULL)
		__atomic_store_n(&dev->pf->active, false, __ATOMIC_RELEASE);
}

void
vrelay_prefault_destroy(struct vrelay_device *dev)
{
	struct vrelay_prefault *pf = dev->pf;
	uint32_t i;

	if (pf == NULL)
		return;
	pthread_mutex_lock(&pf->lock);
	__atomic_store_n(&pf->quit, true, __ATOMIC_RELEASE);
	pthread_cond_signal(&pf->cond);
	pthread_mutex_unlock(&pf->lock);
	/* A fetch in progress may never be served: interrupt it. */
	while (pf_sig_ok && pthread_tryjoin_np(pf->thread, NULL) == EBUSY) {
		pthread_kill(pf->thread, VRELAY_PF_SIGNAL);
		usleep(1000);
	}
	if (!pf_sig_ok)
		pthread_join(pf->thread, NULL);
	pthread_cond_destroy(&pf->cond);
	pthread_mutex_destroy(&pf->lock);
	for (i = 0; i < VRELAY_MAX_MEM_REGIONS; i++)
		free(pf->present[i]);
	dev->pf = NULL;
	free(pf);
}

bool
vrelay_prefault_active(const struct vrelay_device *dev)
{
	return dev->pf != NULL &&
	       __atomic_load_n(&dev->pf->active, __ATOMIC_ACQUIRE);
}

int
vrelay_prefault_touch(struct vrelay_device *dev, const void *hva,
		      uint64_t len)
{
	struct vrelay_prefault *pf = dev->pf;
	struct pf_slot req;

	if (pf == NULL || pf->skip || len == 0)
		return 0;
	do {
		req.n = 0;
		pf_check_range(pf, &req, (uintptr_t)hva, len);
		pf_touch(pf, &req, false);	/* control thread: served */
	} while (req.n == VRELAY_PF_RANGES);
	return 0;
}

/* Hand the missing pages of a chain to the thread; the queue waits. */
static int
pf_request(struct vrelay_prefault *pf, struct vrelay_queue *q,
	   struct pf_slot *req)
{
	unsigned int i;

	if (req->n == 0)
		return 0;
	__atomic_fetch_add(&pf->st.chain_waits, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&pf->lock);
	for (i = 0; i < VRELAY_PF_SLOTS; i++)
		if (pf->slots[i].owner == NULL && !pf->slots[i].busy)
			break;
	if (i < VRELAY_PF_SLOTS) {
		req->owner = q;
		req->busy = false;
		pf->slots[i] = *req;
		__atomic_store_n(&q->pf_wait, true, __ATOMIC_RELEASE);
		pthread_cond_signal(&pf->cond);
	}
	/* No free slot: nothing consumed, the next pass asks again. */
	pthread_mutex_unlock(&pf->lock);
	return -EAGAIN;
}

/* The chain at head (split) or at the next avail slot (packed). */
static int
pf_chain(struct vrelay_queue *q, uint16_t head, bool packed)
{
	struct vrelay_prefault *pf = q->dev->pf;
	struct pf_slot req;

	if (pf->skip)
		return 0;
	if (__atomic_load_n(&q->pf_wait, __ATOMIC_ACQUIRE))
		return -EAGAIN;
	req.n = 0;
	if (packed)
		pf_packed_chain(pf, q, &req);
	else
		pf_split_chain(pf, q, head, &req);
	return pf_request(pf, q, &req);
}

int
vrelay_prefault_split_chain(struct vrelay_queue *q, uint16_t head)
{
	return pf_chain(q, head, false);
}

int
vrelay_prefault_packed_chain(struct vrelay_queue *q)
{
	return pf_chain(q, 0, true);
}

void
vrelay_prefault_cancel(struct vrelay_queue *q)
{
	struct vrelay_prefault *pf = q->dev->pf;
	unsigned int i;

	if (pf == NULL)
		return;
	pthread_mutex_lock(&pf->lock);
	for (i = 0; i < VRELAY_PF_SLOTS; i++)
		if (pf->slots[i].owner == q)
			pf->slots[i].owner = NULL;
	pthread_mutex_unlock(&pf->lock);
	q->pf_wait = false;
}

void
vrelay_prefault_get_stats(const struct vrelay_device *dev,
			  struct vrelay_prefault_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (dev->pf == NULL)
		return;
	st->chain_waits = __atomic_load_n(&dev->pf->st.chain_waits,
					  __ATOMIC_RELAXED);
	st->pages_fetched = __atomic_load_n(&dev->pf->st.pages_fetched,
					    __ATOMIC_RELAXED);
	st->mincore_calls = __atomic_load_n(&dev->pf->st.mincore_calls,
					    __ATOMIC_RELAXED);
}
