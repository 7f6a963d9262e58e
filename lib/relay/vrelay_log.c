/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Batched dirty logging.
 *
 * A burst of GPA ranges becomes a merged list of page intervals (one
 * pass for a burst in address order; a burst out of order whose pages
 * fall in a few bitmap words is gathered in a small window of words,
 * any other is sorted); the bits are accumulated per 64-bit bitmap word
 * and each word is updated with a single atomic OR (other relay threads and the vhost
 * front-end's own logging share the bitmap). Bytes of the bitmap that
 * are not inside an aligned word of the mapping (unaligned base, size
 * not a multiple of 8) get byte-wide atomic ORs instead.
 *
 * Log swap quiescence: a logging section is bracketed by log_enter() /
 * log_exit(), which count the thread in dev->log_readers. set_log raises
 * dev->log_swapping, waits for the count to drain, swaps the pointer and
 * lowers the flag. Readers arriving during the swap wait for it, so their
 * pages land in the new log; readers already inside finish on the old
 * log before set_log returns. No reader can be stuck behind a swapper
 * for longer than one logging section, and vice versa.
 */

#include <stdlib.h>
#include <sched.h>

#include <rte_pause.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

/* Bits being gathered for one bitmap word (or edge byte). */
struct log_acc {
	const struct vrelay_log_desc *log;
	uintptr_t key;		/* address of the word or byte, 0: none */
	bool word;
	uint64_t mask;
	uint64_t pages;		/* bits set in the log */
	uint64_t skipped;	/* pages beyond the log */
};

static const struct vrelay_log_desc *
log_enter(struct vrelay_device *dev)
{
	for (;;) {
		while (__atomic_load_n(&dev->log_swapping, __ATOMIC_ACQUIRE))
			rte_pause();
		/*
		 * Dekker with set_log: announce ourselves, then look at the
		 * flag; the swapper raises the flag, then counts us. With
		 * both sequentially consistent one always sees the other.
		 */
		__atomic_fetch_add(&dev->log_readers, 1, __ATOMIC_SEQ_CST);
		if (!__atomic_load_n(&dev->log_swapping, __ATOMIC_SEQ_CST))
			break;
		__atomic_fetch_sub(&dev->log_readers, 1, __ATOMIC_RELEASE);
	}
	return __atomic_load_n(&dev->log, __ATOMIC_ACQUIRE);
}

static void
log_exit(struct vrelay_device *dev)
{
	/* Our bitmap writes are done before the swapper sees us leave. */
	__atomic_fetch_sub(&dev->log_readers, 1, __ATOMIC_RELEASE);
}

/* OR the gathered bits into the word or byte at key. */
static void
acc_or(uintptr_t key, bool word, uint64_t mask)
{
	if (word)
		__atomic_fetch_or((uint64_t *)key, mask, __ATOMIC_RELAXED);
	else
		__atomic_fetch_or((uint8_t *)key, (uint8_t)mask,
				  __ATOMIC_RELAXED);
}

static void
acc_flush(struct log_acc *a)
{
	const struct vrelay_log_desc *l = a->log;

	if (a->key == 0)
		return;
	acc_or(a->key, a->word, a->mask);
	/* Same offset, same alignment modulo 8: same kind of access. */
	if (l->mirror != NULL)
		acc_or((uintptr_t)l->mirror + (a->key - (uintptr_t)l->base),
		       a->word, a->mask);
	a->key = 0;
	a->mask = 0;
}

/* The pages of a run that share one bitmap word (or edge byte). */
struct log_run {
	uintptr_t key;		/* address of the word or byte */
	bool word;
	uint64_t mask;		/* their bits in it */
	uint64_t cnt;		/* how many */
};

/* The run of [first, last] (inside the log) in the word of first. */
static void
run_at(const struct vrelay_log_desc *l, uint64_t first, uint64_t last,
       struct log_run *o)
{
	uintptr_t base = (uintptr_t)l->base;
	uintptr_t byte = base + (uintptr_t)(first >> 3);
	uintptr_t word = byte & ~(uintptr_t)7;
	uint64_t bit, room;

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	o->word = word >= base && word + 8 <= base + l->size;
#else
	o->word = false;	/* bit order inside a word would differ */
#endif
	if (o->word) {
		o->key = word;
		bit = (uint64_t)(byte - word) * 8 + (first & 7);
		room = 64 - bit;
	} else {
		o->key = byte;
		bit = first & 7;
		room = 8 - bit;
	}
	o->cnt = last - first < room ? last - first + 1 : room;
	o->mask = o->cnt == 64 ? UINT64_MAX : ((1ULL << o->cnt) - 1) << bit;
}

/*
 * Gather the pages [first, last] that share one bitmap word (or edge
 * byte) with first: a run of pages costs one step a word, not a page.
 * @return the first page not gathered.
 */
static uint64_t
acc_run(struct log_acc *a, uint64_t first, uint64_t last)
{
	struct log_run o;

	run_at(a->log, first, last, &o);
	if (o.key != a->key || o.word != a->word) {
		acc_flush(a);
		a->key = o.key;
		a->word = o.word;
	}
	a->mask |= o.mask;
	a->pages += o.cnt;
	return first + o.cnt;
}

/*
 * The pages of [first, *last] past the end of the log: counted, and
 * *last moved back to the log's last page (past first when the whole
 * interval is beyond it). @return how many.
 */
static uint64_t
clamp_to_log(const struct vrelay_log_desc *l, uint64_t first, uint64_t *last)
{
	uint64_t nbits = l->size * 8, from, past;

	if (*last < nbits)
		return 0;
	from = first > nbits ? first : nbits;
	past = *last - from + 1;
	*last = nbits - 1;	/* size > 0: set_log refuses 0 */
	return past;
}

static void
acc_interval(struct log_acc *a, uint64_t first, uint64_t last)
{
	a->skipped += clamp_to_log(a->log, first, &last);
	/* last < nbits <= 2^64 - 8: first never wraps past it. */
	while (first <= last)
		first = acc_run(a, first, last);
}

/* Bitmap words (or edge bytes) an unsorted burst may touch unsorted. */
#define LOG_WINDOW 4

/*
 * Log an unsorted burst of page intervals r[0..m) whose pages fall in
 * at most LOG_WINDOW bitmap words: gathered word by word in a small
 * window, then one atomic OR a word, without sorting. RX buffers come
 * from a pool of mbufs in no address order, but a word covers 256 KiB
 * of guest memory: a burst seldom spans more. O(m * LOG_WINDOW), and
 * the comparisons are added to *cmps.
 * @return false, having written nothing, if the burst touches more
 * words: the caller sorts it.
 */
static bool
log_window(struct log_acc *a, const struct vrelay_range *r, uint32_t m,
	   uint64_t *cmps)
{
	struct log_run w[LOG_WINDOW], o;
	uint64_t first, last, skipped = 0, pages = 0;
	uint32_t i, k, nw = 0;

	for (i = 0; i < m; i++) {
		first = r[i].gpa;
		last = r[i].len;
		skipped += clamp_to_log(a->log, first, &last);
		while (first <= last) {
			run_at(a->log, first, last, &o);
			for (k = 0; k < nw; k++) {
				(*cmps)++;
				if (w[k].key == o.key && w[k].word == o.word)
					break;
			}
			if (k == nw) {
				if (nw == LOG_WINDOW)
					return false;
				w[nw] = o;
				w[nw++].mask = 0;
			}
			w[k].mask |= o.mask;
			first += o.cnt;
		}
	}
	for (k = 0; k < nw; k++) {
		pages += (uint64_t)__builtin_popcountll(w[k].mask);
		a->key = w[k].key;
		a->word = w[k].word;
		a->mask = w[k].mask;
		acc_flush(a);
	}
	a->pages += pages;
	a->skipped += skipped;
	return true;
}

__thread uint64_t vrelay_log_sort_compares;

/*
 * Sift r[root] down the max-heap r[0..n). At most 2 comparisons a level:
 * 2 * log2(n) in all.
 */
static uint32_t
heap_sift_down(struct vrelay_range *r, uint32_t root, uint32_t n)
{
	struct vrelay_range t = r[root];
	uint32_t child, cmps = 0;

	/* n <= VRELAY_RANGES_CAP: 2 * root + 2 cannot wrap. */
	while ((child = 2 * root + 1) < n) {
		if (child + 1 < n) {
			cmps++;
			if (r[child].gpa < r[child + 1].gpa)
				child++;
		}
		cmps++;
		if (r[child].gpa <= t.gpa)
			break;
		r[root] = r[child];
		root = child;
	}
	r[root] = t;
	return cmps;
}

/*
 * Sort page intervals by first page, in place, without allocating.
 * Bound: n <= VRELAY_RANGES_CAP ranges a burst, at most
 * 2n + 2n * log2(n) comparisons whatever the order: the guest chooses
 * the order of its buffers, and the engine it shares with other guests
 * runs this for every burst (an insertion sort of descending one-byte
 * segments cost n^2 / 2 a burst). A burst in order never gets here
 * (ranges_to_pages() found it out in its one pass). Equal starts may
 * come out in any order: the merge in vrelay_log_ranges() does not care.
 * @return comparisons made.
 */
static uint64_t
pages_sort(struct vrelay_range *r, uint32_t n)
{
	struct vrelay_range t;
	uint64_t cmps = 0;
	uint32_t i;

	/* Heap sort: build a max-heap, then move the max to the end. */
	for (i = n / 2; i-- > 0;)
		cmps += heap_sift_down(r, i, n);
	for (i = n - 1; i > 0; i--) {
		t = r[0];
		r[0] = r[i];
		r[i] = t;
		cmps += heap_sift_down(r, 0, i);
	}
	return cmps;
}

/*
 * Turn byte ranges into page intervals [gpa, len] = [first, last], in
 * place, merging each with the interval before it when it starts inside
 * or right after it and not before its start: a burst in ring order
 * (each chain's buffers ascending, buffers sharing pages) becomes a few
 * intervals in one pass. *in_order: no interval starts before the one
 * it follows (else the caller gathers them in a window or sorts them);
 * *cmps: the comparisons, one a range. Page numbers are at most
 * 2^52 - 1: last + 1 cannot wrap.
 */
static uint32_t
ranges_to_pages(struct vrelay_range *r, uint32_t n, bool *in_order,
		uint64_t *cmps)
{
	uint64_t end, first, last, cf = 0, cl = 0;
	bool sorted = true;
	uint32_t i, m = 0;

	/* [cf, cl]: the interval r[m - 1] being grown, kept out of r. */
	for (i = 0; i < n; i++) {
		if (r[i].len == 0)
			continue;
		end = r[i].gpa + r[i].len - 1;
		if (end < r[i].gpa)
			end = UINT64_MAX;
		first = r[i].gpa >> VRELAY_LOG_PAGE_SHIFT;
		last = end >> VRELAY_LOG_PAGE_SHIFT;
		if (m > 0) {
			if (first >= cf && first <= cl + 1) {
				if (last > cl)
					cl = last;
				continue;
			}
			if (first < cf)
				sorted = false;
			/* m - 1 < i: the ranges still to read are intact. */
			r[m - 1].gpa = cf;
			r[m - 1].len = cl;
		}
		cf = first;
		cl = last;
		m++;
	}
	if (m > 0) {
		r[m - 1].gpa = cf;
		r[m - 1].len = cl;
	}
	*in_order = sorted;
	*cmps = n > 0 ? n - 1 : 0;
	return m;
}

/*
 * Log the pages covered by r[0..n). r is clobbered (sorted, turned into
 * page intervals). Returns the number of bits set in the log.
 */
uint64_t
vrelay_log_ranges(struct vrelay_device *dev, struct vrelay_range *r,
		  uint32_t n)
{
	struct log_acc a = { 0 };
	uint64_t first, last, cmps;
	bool in_order;
	uint32_t i, m;

	m = ranges_to_pages(r, n, &in_order, &cmps);
	if (m == 0)
		return 0;
	a.log = log_enter(dev);
	if (a.log == NULL) {
		log_exit(dev);
		return 0;
	}
	if (!in_order) {
		if (log_window(&a, r, m, &cmps))
			goto out;
		cmps += pages_sort(r, m);
	}
	first = r[0].gpa;
	last = r[0].len;
	for (i = 1; i < m; i++) {
		if (r[i].gpa <= last + 1 && last != UINT64_MAX) {
			if (r[i].len > last)
				last = r[i].len;
			continue;
		}
		if (last == UINT64_MAX)
			break;
		acc_interval(&a, first, last);
		first = r[i].gpa;
		last = r[i].len;
	}
	acc_interval(&a, first, last);
	acc_flush(&a);
out:
	log_exit(dev);
	/* One thread-local add a burst: the count is for tests. */
	vrelay_log_sort_compares += cmps;
	if (a.skipped != 0)
		__atomic_fetch_add(&dev->log_errors, a.skipped,
				   __ATOMIC_RELAXED);
	return a.pages;
}

int
vrelay_device_set_log(struct vrelay_device *dev, void *base, uint64_t size)
{
	if (base == NULL)
		return vrelay_device_set_log_mirrored(dev, NULL, 0, NULL);
	return vrelay_device_set_log_mirrored(dev, base, size, NULL);
}

int
vrelay_device_set_log_mirrored(struct vrelay_device *dev, void *base,
			       uint64_t size, uint8_t *mirror)
{
	struct vrelay_log_desc *nd = NULL, *old;

	if (dev == NULL || (base != NULL && size == 0) ||
	    (base == NULL && (size != 0 || mirror != NULL)) ||
	    (mirror != NULL &&
	     ((uintptr_t)mirror & 7) != ((uintptr_t)base & 7)))
		return -EINVAL;
	if (base != NULL) {
		nd = malloc(sizeof(*nd));
		if (nd == NULL)
			return -ENOMEM;
		nd->base = base;
		nd->size = size;
		nd->mirror = mirror;
	}
	pthread_mutex_lock(&dev->log_lock);
	/* Raise the flag before counting readers: see log_enter(). */
	__atomic_store_n(&dev->log_swapping, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&dev->log_readers, __ATOMIC_SEQ_CST) != 0)
		sched_yield();
	old = dev->log;
	__atomic_store_n(&dev->log, nd, __ATOMIC_RELEASE);
	/* New log visible before readers are let in again. */
	__atomic_store_n(&dev->log_swapping, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&dev->log_lock);
	free(old);
	vrelay_log_report_errors(dev);
	VRELAY_LOG(INFO, "%s: dirty log %s (%" PRIu64 " bytes)%s", dev->name,
		   base != NULL ? "set" : "cleared", size,
		   mirror != NULL ? ", mirrored" : "");
	return 0;
}

/*
 * Say, outside the relay's hot path, how many pages fell beyond the log
 * since the last report: a log smaller than guest memory loses them.
 */
void
vrelay_log_report_errors(struct vrelay_device *dev)
{
	uint64_t n = __atomic_exchange_n(&dev->log_errors, 0,
					 __ATOMIC_RELAXED);

	if (n != 0)
		VRELAY_LOG(ERR, "%s: %" PRIu64 " dirty pages were beyond the "
			   "log and could not be logged", dev->name, n);
}

/*
 * Log every page of guest memory, for writes that cannot be attributed
 * (an in-flight window the guest rewrote, say): a page the device wrote
 * must never go unlogged. The hypervisor then sends all of memory again,
 * which is correct; the cost is one bit a guest page (a bitmap word at a
 * time), whatever the guest wrote. Any ring format: it needs no ring.
 */
uint64_t
vrelay_log_all_memory(struct vrelay_device *dev, struct vrelay_range *scratch)
{
	const struct vrelay_mem *mem = &dev->mem;
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		scratch[i].gpa = mem->regions[i].gpa;
		scratch[i].len = mem->regions[i].size;
	}
	return vrelay_log_ranges(dev, scratch, mem->nregions);
}
