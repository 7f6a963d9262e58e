/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef VRELAY_PRIVATE_H
#define VRELAY_PRIVATE_H

/*
 * Internal structures of the relay library. Nothing here is ABI: the
 * public header only exposes opaque pointers.
 *
 * Rings are accessed in host byte order: virtio 1.x rings are little
 * endian and the library only targets little-endian hosts (x86, arm64).
 */

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include "vdpa_relay.h"

/* Used entries logged and published together. */
#define VRELAY_BURST 64

/* Scratch GPA ranges for one used burst (see vrelay_split_used.c). */
#define VRELAY_RANGES_CAP (2 * VRELAY_MAX_CHAIN_LEN + 8)

/*
 * Descriptors one in-flight window walk may visit (vrelay_split_used.c):
 * what a genuine window of ordinary chains (four descriptors on average)
 * over a whole ring costs, plus one longest chain. Beyond it the window is not
 * attributed entry by entry but logged as all of guest memory.
 */
#define VRELAY_WINDOW_DESC_BUDGET(size) \
	(4u * (uint32_t)(size) + VRELAY_MAX_CHAIN_LEN)

/* A span of guest physical memory. */
struct vrelay_range {
	uint64_t gpa;
	uint64_t len;
};

/*
 * One installed dirty log. Immutable once published, so a relay thread
 * holding the pointer sees a coherent base/size pair; freed only after
 * the swap in vrelay_device_set_log() has waited for every reader.
 */
struct vrelay_log_desc {
	uint8_t *base;
	uint64_t size;
	/* NULL, or size bytes congruent to base modulo 8: same bits. */
	uint8_t *mirror;
};

struct vrelay_device {
	char name[VRELAY_NAME_LEN];
	struct vrelay_mem mem;		/* guest memory table (copy) */
	/* Current log or NULL. Written by set_log, read by relay threads. */
	struct vrelay_log_desc *log;
	/*
	 * Log quiescence: relay threads inside a logging section are
	 * counted in log_readers; set_log raises log_swapping so that no
	 * new reader enters, swaps the pointer, then waits for the count
	 * to drop to zero. See vrelay_log.c.
	 */
	uint32_t log_readers;
	uint32_t log_swapping;
	pthread_mutex_t log_lock;	/* serialises set_log callers */
	uint64_t log_errors;		/* pages beyond the log, skipped */
	uint32_t nqueues;		/* live queues, for destroy checks */
	/* Post-copy prefault (vrelay_prefault.c), or NULL. */
	struct vrelay_prefault *pf;
};

/* What the relay knows about one descriptor chain it forwarded. */
/* Writable segments remembered per slot; longer chains are re-walked. */
#define VRELAY_SLOT_SEGS 4

struct vrelay_slot {
	/*
	 * The chain's writable buffers as checked when it was forwarded,
	 * so that the used side logs without walking the chain again.
	 * nseg > VRELAY_SLOT_SEGS: too many to keep inline. Split walks
	 * the chain again at used time (the guest's table is stable while
	 * the chain is in flight); packed cannot (its slots are reused
	 * out of order) and keeps them all in its queue's overflow pool
	 * (vrelay_packed_ovf.c) instead.
	 */
	uint64_t seg_gpa[VRELAY_SLOT_SEGS];
	uint32_t seg_len[VRELAY_SLOT_SEGS];
	uint32_t wlen;		/* writable bytes of the chain when checked */
	uint16_t ndesc;		/* packed: ring descriptors the chain takes */
	uint16_t nseg;		/* writable buffers in the chain */
	uint8_t inflight;	/* forwarded to the device, not yet used */
	uint8_t log_all;	/* packed: segments not kept; log all memory */
	/* packed, nseg > inline, !log_all: its pool entries, linked */
	uint32_t ovf_head;
	uint32_t ovf_last;
};

struct vrelay_engine;
struct vrelay_queue;

/* A packed used descriptor read from the mediated ring, to publish. */
struct vrelay_packed_used {
	uint16_t pos;		/* its slot, in both rings */
	uint16_t id;
	uint32_t len;
	uint16_t flags;
	uint16_t ndesc;		/* descriptors its chain took */
};

/*
 * The ring format seam: what a relayed queue does differently for each
 * enum vrelay_ring_format, one small function an operation. The queue
 * (vrelay_queue.c) dispatches through it; everything else - the memory
 * map, the dirty log, the engines, the switchover and the controller -
 * never looks inside a ring. Called from the control thread while the
 * queue is not attached, or from the engine that owns it, as the public
 * function that dispatches to it says.
 */
struct vrelay_ring_ops {
	const char *name;		/* for log lines: "split" */
	/*
	 * Check the conf's rings with the size and features the queue
	 * will use: valid size, alignment, every area (and the device
	 * area's log address) whole inside guest memory. Nothing indexes
	 * a ring before this. @return 0, -EINVAL or -EFAULT, logged.
	 */
	int (*check_geometry)(const struct vrelay_device *dev,
			      const struct vrelay_queue_conf *c);
	/* Map the mediated rings and fill q->mring. @return 0, -ENOMEM. */
	int (*alloc_mrings)(struct vrelay_queue *q);
	void (*free_mrings)(struct vrelay_queue *q);
	/*
	 * Take the guest's rings from the conf and start the shadow and
	 * mediated rings at the device's state (index invariant).
	 */
	void (*init)(struct vrelay_queue *q, const struct vrelay_queue_conf *c);
	/* Record the chains the device fetched before the switch. */
	int (*seed_inflight)(struct vrelay_queue *q);
	/* Log the in-flight window the conf describes. */
	int (*log_window)(struct vrelay_queue *q,
			  const struct vrelay_queue_conf *c);
	/* Forward up to budget guest avail entries; queue not broken. */
	int (*relay_avail)(struct vrelay_queue *q, unsigned int budget);
	/* Relay up to budget used entries; force_call interrupts anyway. */
	int (*relay_used)(struct vrelay_queue *q, unsigned int budget,
			  bool force_call);
	/* Ask for (or suppress) guest kicks and device interrupts. */
	void (*set_notify)(struct vrelay_queue *q, bool want);
	/* Enable notifications; true if work arrived meanwhile. */
	bool (*arm)(struct vrelay_queue *q);
	/* The shadow state: next avail entry to forward, used to relay. */
	void (*get_state)(const struct vrelay_queue *q,
			  struct vrelay_qstate *s);
};

/* vrelay_split.c, vrelay_packed.c */
extern const struct vrelay_ring_ops vrelay_split_ops;
extern const struct vrelay_ring_ops vrelay_packed_ops;

/* epoll cookie: which queue, and which of its fds fired. */
struct vrelay_evsrc {
	struct vrelay_queue *q;
	int fd;
	int is_irq;		/* device irq fd (else guest kick fd) */
};

struct vrelay_queue {
	char name[VRELAY_NAME_LEN];	/* "<dev>/<qname>" for log lines */
	struct vrelay_device *dev;	/* memory table and dirty log */
	const struct vrelay_ring_ops *ops;	/* the ring format's code */
	uint16_t qid;			/* virtqueue index */
	uint16_t size;			/* ring size */
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC */
	bool device_read_only;		/* the device never writes buffers */
	uint64_t device_area_gpa;	/* guest device area, for the log */
	struct vrelay_mring_info mring;	/* mediated rings' mapping */

	/* Ring state of the queue's format: q->ops says which. */
	union {
	/* Split ring state (vrelay_split*.c). */
	struct {
		uint16_t mask;		/* size - 1: slot from an index */
		/* Guest rings, as the guest driver laid them out. */
		struct vring_desc *gdesc;	/* read: chains walked here */
		struct vring_avail *gavail;	/* read: heads to forward */
		struct vring_used *gused;	/* written: relayed back */
		/* Mediated rings: the device's view of avail and used. */
		struct vring_avail *mavail;	/* written by us */
		struct vring_used *mused;	/* written by the device */
		/*
		 * Shadow indices. last_avail is the next guest avail
		 * index to check and forward; it always equals
		 * mavail->idx. last_used is the next mediated used index
		 * to relay; it always equals gused->idx.
		 */
		uint16_t last_avail;
		uint16_t last_used;
	} split;
	/* Packed ring state (vrelay_packed*.c). */
	struct {
		/* Guest ring: avail chains read, used descriptors written. */
		struct vring_packed_desc *gdesc;
		/* Guest event areas: the driver's read, the device's ours. */
		struct vring_packed_desc_event *gdriver;
		struct vring_packed_desc_event *gdevice;
		/* Mediated ring, slot for slot the guest's. */
		struct vring_packed_desc *mdesc;
		struct vring_packed_desc_event *mdriver; /* ours */
		struct vring_packed_desc_event *mdevice; /* the device's */
		uint64_t desc_gpa;	/* guest ring, for the log */
		/*
		 * Shadow positions and wrap counters: next guest slot to
		 * check and forward, next mediated slot to relay back.
		 */
		uint16_t last_avail;
		uint16_t last_used;
		bool avail_wrap;
		bool used_wrap;
		/* Ring descriptors forwarded and not yet used: <= size. */
		uint16_t inflight_desc;
		/*
		 * Overflow pool (vrelay_packed_ovf.c): the writable buffers
		 * of chains longer than a slot keeps, ovf_cap entries linked
		 * by ovf_next; ovf_segs of them in use.
		 */
		struct vrelay_range *ovf_seg;
		uint32_t *ovf_next;
		uint32_t ovf_cap;
		uint32_t ovf_free;	/* free list head */
		uint32_t ovf_segs;
		bool ovf_warned;	/* the budget ran out once already */
		/* Scratch: one chain's writable buffers being checked. */
		struct vrelay_range *chain;
		/*
		 * Used descriptors of the pass in progress, published
		 * together at its end (vrelay_packed_used.c): size entries.
		 */
		struct vrelay_packed_used *pend;
		uint16_t npend;
	} packed;
	};

	uint16_t inflight;		/* heads forwarded and not yet used */

	/*
	 * Per head id: the chain forwarded under that id. A used entry is
	 * accepted only for an in-flight id and a len within the chain's
	 * writable length: the device is trusted with DMA, not with the
	 * log bounds.
	 */
	struct vrelay_slot *slots;

	/* Scratch for the GPA ranges of one used burst. */
	struct vrelay_range *ranges;
	uint32_t nranges;

	/*
	 * Notification policy set by the engine: true when the engine
	 * sleeps on fds and so wants guest kicks and device interrupts.
	 */
	bool want_notify;
	/*
	 * Inside an engine pass: doorbells and guest interrupts the relay
	 * paths decide on are noted in notify_pending and sent once, at
	 * the end of the pass (vrelay_queue_notify_flush()).
	 */
	bool defer_notify;
	uint8_t notify_pending;		/* VRELAY_PENDING_* */

	int state;			/* enum vrelay_queue_state, atomic */

	/* Fds: borrowed from the conf, or owned (switch helper). */
	int guest_kick_fd;
	int guest_call_fd;
	int doorbell_fd;
	int irq_fd;
	bool own_fds;			/* close doorbell_fd/irq_fd on destroy */

	/* Engine bookkeeping; touched by control thread under handshake. */
	struct vrelay_engine *engine;	/* owner when attached, else NULL */
	struct vrelay_evsrc ev_kick;	/* epoll cookies for its fds */
	struct vrelay_evsrc ev_irq;

	struct vrelay_queue_stats stats;
	/*
	 * Post-copy: a chain of this queue waits for its pages
	 * (vrelay_prefault.c); avail is not consumed until the prefault
	 * thread clears it.
	 */
	bool pf_wait;
	/* Descriptors the last in-flight window walk visited (for tests). */
	uint32_t window_descs;
};

/* vrelay_prefault.c: post-copy prefault, per device. */
struct vrelay_prefault_stats {
	uint64_t chain_waits;	/* chains held back for missing pages */
	uint64_t pages_fetched;	/* pages read in (userfaultfd served) */
	uint64_t mincore_calls;
};

/* Open the post-copy window: create the prefault thread if needed. */
int vrelay_prefault_enable(struct vrelay_device *dev);
/* Close the window (chains are no longer checked). */
void vrelay_prefault_disable(struct vrelay_device *dev);
/* Stop the thread and free; no queue of dev may be attached. */
void vrelay_prefault_destroy(struct vrelay_device *dev);
bool vrelay_prefault_active(const struct vrelay_device *dev);
/* The data path's test: one load outside post-copy. */
static inline bool
vrelay_prefault_window(const struct vrelay_device *dev)
{
	return __builtin_expect(__atomic_load_n(&dev->pf, __ATOMIC_ACQUIRE) !=
				NULL, 0) && vrelay_prefault_active(dev);
}
/* Control thread: make [hva, hva + len) present, blocking. */
int vrelay_prefault_touch(struct vrelay_device *dev, const void *hva,
			  uint64_t len);
/*
 * Engine: 0 if every page of the split chain at head is present, else
 * -EAGAIN (the chain is fetched in the background, the queue kicked).
 */
int vrelay_prefault_split_chain(struct vrelay_queue *q, uint16_t head);
/* The same for the packed chain at the queue's next avail slot. */
int vrelay_prefault_packed_chain(struct vrelay_queue *q);
/* The queue goes away: forget its request. */
void vrelay_prefault_cancel(struct vrelay_queue *q);
void vrelay_prefault_get_stats(const struct vrelay_device *dev,
			       struct vrelay_prefault_stats *st);

/* vrelay_mem.c */
bool vrelay_mem_contains(const struct vrelay_mem *mem, uint64_t gpa,
			 uint64_t len);
void *vrelay_mem_translate(const struct vrelay_mem *mem, uint64_t gpa,
			   uint64_t len);
bool vrelay_mem_contains_hva(const struct vrelay_mem *mem, uint64_t hva,
			     uint64_t len);

/*
 * vrelay_mem_contains() for the per-buffer checks of the data path: a
 * buffer almost always lies in one region, found here inline; one that
 * does not (it may straddle adjacent regions) takes the general walk.
 */
static inline bool
vrelay_mem_contains_fast(const struct vrelay_mem *mem, uint64_t gpa,
			 uint64_t len)
{
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		const struct vrelay_mem_region *r = &mem->regions[i];

		/* Subtractions only: a region may end at 2^64. */
		if (gpa >= r->gpa && gpa - r->gpa < r->size &&
		    len <= r->size - (gpa - r->gpa))
			return true;
	}
	return vrelay_mem_contains(mem, gpa, len);
}

/* vrelay_queue.c: one descriptor's checks, whatever the format. */
typedef int (*vrelay_wdesc_fn)(void *arg, uint64_t gpa, uint32_t len);

/* What a chain walk has seen so far (vrelay_chain_buffer()). */
struct vrelay_chain_acc {
	bool seen_write;	/* a writable buffer came already */
	uint64_t wlen;		/* writable bytes so far */
};

const char *vrelay_chain_buffer(struct vrelay_queue *q,
				struct vrelay_chain_acc *acc, uint64_t addr,
				uint32_t len, bool writable,
				vrelay_wdesc_fn fn, void *arg);

/* vrelay_split_chain.c */
int vrelay_split_chain_walk(struct vrelay_queue *q, uint16_t head,
			    uint64_t *wlen, vrelay_wdesc_fn fn, void *arg,
			    const char **reason);
int vrelay_split_chain_walk_budget(struct vrelay_queue *q, uint16_t head,
				   uint32_t *budget, uint64_t *wlen,
				   vrelay_wdesc_fn fn, void *arg,
				   const char **reason);

/* vrelay_split_avail.c */
int vrelay_split_seed_inflight(struct vrelay_queue *q);
int vrelay_split_relay_avail(struct vrelay_queue *q, unsigned int budget);

/* vrelay_split_used.c */
int vrelay_split_relay_used(struct vrelay_queue *q, unsigned int budget,
			    bool force_call);
int vrelay_split_log_window(struct vrelay_queue *q,
			    const struct vrelay_queue_conf *c);

/* vrelay_packed_avail.c */
int vrelay_packed_seed_inflight(struct vrelay_queue *q);
int vrelay_packed_relay_avail(struct vrelay_queue *q, unsigned int budget);

/* vrelay_packed_ovf.c */
int vrelay_packed_ovf_alloc(struct vrelay_queue *q);
void vrelay_packed_ovf_free(struct vrelay_queue *q);
void vrelay_packed_ovf_store(struct vrelay_queue *q, struct vrelay_slot *s,
			     const struct vrelay_range *c, uint16_t n);
void vrelay_packed_ovf_collect(struct vrelay_queue *q,
			       const struct vrelay_slot *s, uint32_t len);
void vrelay_packed_ovf_release(struct vrelay_queue *q, struct vrelay_slot *s);

/* vrelay_packed_used.c */
int vrelay_packed_relay_used(struct vrelay_queue *q, unsigned int budget,
			     bool force_call);
int vrelay_packed_log_window(struct vrelay_queue *q,
			     const struct vrelay_queue_conf *c);

/* vrelay_packed.c */
void vrelay_packed_notify_apply(struct vrelay_queue *q);
void vrelay_packed_notify_peer(struct vrelay_queue *q, bool to_guest,
			       uint16_t old, bool old_wrap, bool force);

/* vrelay_split.c */
void vrelay_split_notify_apply(struct vrelay_queue *q);
void vrelay_split_notify_peer(struct vrelay_queue *q, bool to_guest,
			      uint16_t old, bool force);

/* vrelay_engine.c: one engine pass over qs; true if any had work. */
bool vrelay_engine_pass_queues(struct vrelay_queue *const *qs,
			       unsigned int n);

/* vrelay_log.c */
uint64_t vrelay_log_ranges(struct vrelay_device *dev,
			   struct vrelay_range *r, uint32_t n);
/*
 * Log every page of guest memory, for writes that cannot be attributed.
 * scratch: room for VRELAY_MAX_MEM_REGIONS ranges (q->ranges has more:
 * VRELAY_RANGES_CAP). @return pages logged.
 */
uint64_t vrelay_log_all_memory(struct vrelay_device *dev,
			       struct vrelay_range *scratch);
/* Log and reset the count of pages that fell beyond the log. */
void vrelay_log_report_errors(struct vrelay_device *dev);
/*
 * Comparisons the page sort of vrelay_log_ranges() made in this thread,
 * ever: tests prove the sort's bound by counting work, not time.
 */
extern __thread uint64_t vrelay_log_sort_compares;

/* vrelay_queue.c: format-free; dispatches through q->ops. */
int vrelay_queue_break(struct vrelay_queue *q, const char *reason);
int vrelay_slot_record_seg(void *arg, uint64_t gpa, uint32_t len);
struct vrelay_queue *vrelay_queue_create_owned(struct vrelay_device *dev,
		const struct vrelay_queue_conf *conf, bool own_fds);
/* create_owned in two: what needs no device state, then the rest. */
struct vrelay_queue *vrelay_queue_prepare(struct vrelay_device *dev,
		const struct vrelay_queue_conf *conf, bool own_fds);
void vrelay_queue_start_at(struct vrelay_queue *q,
			   const struct vrelay_queue_conf *conf);

/* vrelay_engine.c: attach / detach several queues under one list take. */
int vrelay_engine_attach_many(struct vrelay_engine *e,
			      struct vrelay_queue **qs, unsigned int n,
			      int *rets);
int vrelay_engine_detach_many(struct vrelay_engine *e,
			      struct vrelay_queue **qs, unsigned int n,
			      int *rets);
bool vrelay_queue_arm(struct vrelay_queue *q);
#define VRELAY_PENDING_CALL 1		/* interrupt the guest */
#define VRELAY_PENDING_KICK 2		/* ring the device's doorbell */
void vrelay_queue_notify(struct vrelay_queue *q, bool to_guest);
void vrelay_queue_notify_flush(struct vrelay_queue *q);
void vrelay_queue_set_notify(struct vrelay_queue *q, bool want);
void vrelay_queue_get_qstate(const struct vrelay_queue *q,
			     struct vrelay_qstate *s);
void vrelay_eventfd_signal(int fd);
bool vrelay_eventfd_drain(int fd);

/* Split ring fields past the entries (EVENT_IDX). */
static inline uint16_t *
vrelay_used_event(struct vring_avail *avail, uint16_t size)
{
	return &avail->ring[size];
}

static inline uint16_t *
vrelay_avail_event(struct vring_used *used, uint16_t size)
{
	return (uint16_t *)&used->ring[size];
}

/*
 * Packed descriptor flags (virtio 1.1, "Driver and Device Ring Wrap
 * Counters"): available to a device
 * whose avail wrap counter is wrap when AVAIL == wrap and USED != wrap;
 * used, for a driver whose used wrap counter is wrap, when both equal it.
 */
static inline bool
vrelay_packed_desc_avail(uint16_t flags, bool wrap)
{
	bool avail = (flags & (1u << VRING_PACKED_DESC_F_AVAIL)) != 0;
	bool used = (flags & (1u << VRING_PACKED_DESC_F_USED)) != 0;

	return avail == wrap && used != wrap;
}

static inline bool
vrelay_packed_desc_used(uint16_t flags, bool wrap)
{
	bool avail = (flags & (1u << VRING_PACKED_DESC_F_AVAIL)) != 0;
	bool used = (flags & (1u << VRING_PACKED_DESC_F_USED)) != 0;

	return avail == wrap && used == wrap;
}

/* The position n descriptors (n <= size) after pos, and its lap's wrap. */
static inline void
vrelay_packed_advance(uint16_t size, uint16_t *pos, bool *wrap, uint16_t n)
{
	uint32_t p = (uint32_t)*pos + n;

	if (p >= size) {
		p -= size;
		*wrap = !*wrap;
	}
	*pos = (uint16_t)p;
}

static inline uint16_t
vrelay_load16(const volatile uint16_t *p)
{
	return *p;
}

static inline int
vrelay_queue_is_broken(const struct vrelay_queue *q)
{
	return __atomic_load_n(&q->state, __ATOMIC_RELAXED) ==
		VRELAY_QUEUE_BROKEN;
}

/*
 * The calling thread's scheduler slice made short (100 us) for the
 * duration of a switch, so that it is not kept waiting for a CPU behind
 * the device and relay threads it shares one with (vrelay_urgent.c).
 * VRELAY_SWITCH_URGENT=0 turns it off, =N makes it N us.
 */
struct vrelay_urgent {
	bool active;
	uint64_t saved_slice_ns;
};

/** Shorten this thread's slice; a no-op where the kernel cannot. */
void vrelay_urgent_enter(struct vrelay_urgent *u);
/** Give this thread its slice back. */
void vrelay_urgent_leave(struct vrelay_urgent *u);
/**
 * The calling thread's fair-class slice (sched_attr.sched_runtime), in
 * ns. @return 0, -ENOTSUP if the thread is not SCHED_OTHER, or -errno.
 */
int vrelay_sched_slice_get(uint64_t *ns);
/** Set it. @return 0, -ENOTSUP if not SCHED_OTHER, or -errno. */
int vrelay_sched_slice_set(uint64_t ns);

#endif /* VRELAY_PRIVATE_H */
