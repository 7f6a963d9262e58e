/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef VDPA_RELAY_H
#define VDPA_RELAY_H

/**
 * @file
 * vdpa-relay: a device-independent, zero-copy software relay that makes a
 * vDPA device live-migratable.
 *
 * A vDPA device DMAs straight into guest memory and keeps no dirty log.
 * While the hypervisor logs dirty pages, the driver points each device
 * queue at a pair of *mediated* rings (avail and used) owned by this
 * library, and a relay thread:
 *  - checks each descriptor chain the guest makes available and copies
 *    the avail entry to the mediated avail ring (the device keeps reading
 *    the guest's own descriptor table: no address translation, no copy);
 *  - copies each used entry the device writes to the mediated used ring
 *    back to the guest's used ring, after logging the pages the device
 *    wrote for it (bounded by the used length) and the used ring itself.
 *
 * Index invariant: the mediated rings use the guest's indices. The entry
 * the guest placed at avail index i is at mediated avail index i, and the
 * device's used index i is the guest's used index i. Switching back to
 * direct I/O therefore only needs the device's own queue state (struct
 * vrelay_qstate: its next avail and used positions).
 *
 * A packed ring (virtio 1.1, 2.7) has no separate avail and used rings:
 * the device writes used descriptors into the descriptor ring itself.
 * The device then runs on a mediated descriptor ring that mirrors the
 * guest's slot for slot: each checked guest descriptor is copied to the
 * same position with the same buffer id (addresses untouched, still zero
 * copy), and each used descriptor the device writes is copied back to
 * the same position of the guest's ring, id and len first, flags last.
 * Positions and wrap counters are the guest's, so the invariant holds.
 *
 * Objects:
 *  - struct vrelay_device: one vhost device (connection): its guest memory
 *    table and dirty log, shared by its queues.
 *  - struct vrelay_queue: one relayed virtqueue and its mediated rings.
 *  - struct vrelay_engine: one relay thread serving any number of queues
 *    of any number of devices, event-driven (epoll), polling, or adaptive.
 *  - vrelay_switch_to_relay() / vrelay_switch_to_direct(): the switchover
 *    protocol, driven through a small set of device queue-control ops.
 *
 * The ring format is a parameter (enum vrelay_ring_format) of the queue,
 * of the queue state the switchover passes around, and of the rings the
 * controller hands a driver. Split and packed virtqueues are relayed.
 *
 * Errors are negative errno values. -EAGAIN means "full, retry later";
 * -EIO means the queue is broken (the guest misbehaved) and stays broken
 * until it is destroyed.
 */

#include <stdbool.h>
#include <stdint.h>
#include <linux/virtio_ring.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Dirty log granularity used by vhost-user: one bit per 4 KiB page. */
#define VRELAY_LOG_PAGE_SHIFT 12
#define VRELAY_LOG_PAGE_SIZE (1ULL << VRELAY_LOG_PAGE_SHIFT)

/** Most guest memory regions a device may have (vhost-user allows 8..). */
#define VRELAY_MAX_MEM_REGIONS 64

/** Longest descriptor chain accepted, direct or indirect. */
#define VRELAY_MAX_CHAIN_LEN 1024

/** Length of a queue's name, for logs and stats. */
#define VRELAY_NAME_LEN 64

/** Virtqueue layouts (virtio 1.1, 2.6 split and 2.7 packed). */
enum vrelay_ring_format {
	VRELAY_RING_SPLIT,	/**< descriptor table, avail and used rings */
	VRELAY_RING_PACKED,	/**< one descriptor ring, two event areas */
	VRELAY_RING_FORMAT_COUNT,
};

/**
 * Where a device queue is: the next avail entry it fetches and the next
 * used entry it writes. What the switchover reads at suspend and hands
 * back at resume, whatever the ring format.
 *
 * Split: avail_idx / used_idx are the free-running 16-bit indices
 * (last_avail_idx, used->idx); the wrap flags are unused and 0.
 * Packed: avail_idx / used_idx are ring positions (< size) and
 * avail_wrap / used_wrap the driver's and device's ring wrap counters.
 * DPDK's rte_vhost_get/set_vring_base() carry a packed state as
 * (wrap << 15) | idx: see vrelay_qstate_from_base() and
 * vrelay_qstate_to_base().
 */
struct vrelay_qstate {
	uint16_t avail_idx;	/**< next avail entry the device fetches */
	uint16_t used_idx;	/**< next used entry the device writes */
	bool avail_wrap;	/**< packed: driver ring wrap counter */
	bool used_wrap;		/**< packed: device ring wrap counter */
};

/** Bit of a vhost vring base that holds a packed ring's wrap counter. */
#define VRELAY_PACKED_WRAP_SHIFT 15

/**
 * Decode a vhost vring base pair (rte_vhost_get_vring_base()).
 * @param format  the queue's ring format.
 * @param last_avail, last_used  as vhost reports them.
 * @param[out] s  the queue state; for split the wrap flags are 0.
 */
static inline void
vrelay_qstate_from_base(enum vrelay_ring_format format, uint16_t last_avail,
			uint16_t last_used, struct vrelay_qstate *s)
{
	const uint16_t idx = (1u << VRELAY_PACKED_WRAP_SHIFT) - 1;

	if (format != VRELAY_RING_PACKED) {
		*s = (struct vrelay_qstate){ last_avail, last_used, false,
					     false };
		return;
	}
	s->avail_idx = last_avail & idx;
	s->used_idx = last_used & idx;
	s->avail_wrap = (last_avail >> VRELAY_PACKED_WRAP_SHIFT) != 0;
	s->used_wrap = (last_used >> VRELAY_PACKED_WRAP_SHIFT) != 0;
}

/**
 * Encode a queue state as a vhost vring base pair
 * (rte_vhost_set_vring_base()): the inverse of vrelay_qstate_from_base().
 */
static inline void
vrelay_qstate_to_base(enum vrelay_ring_format format,
		      const struct vrelay_qstate *s, uint16_t *last_avail,
		      uint16_t *last_used)
{
	if (format != VRELAY_RING_PACKED) {
		*last_avail = s->avail_idx;
		*last_used = s->used_idx;
		return;
	}
	*last_avail = (uint16_t)(s->avail_idx |
		((unsigned int)s->avail_wrap << VRELAY_PACKED_WRAP_SHIFT));
	*last_used = (uint16_t)(s->used_idx |
		((unsigned int)s->used_wrap << VRELAY_PACKED_WRAP_SHIFT));
}

/** @return true if both states are the same position. */
static inline bool
vrelay_qstate_equal(const struct vrelay_qstate *a,
		    const struct vrelay_qstate *b)
{
	return a->avail_idx == b->avail_idx && a->used_idx == b->used_idx &&
		a->avail_wrap == b->avail_wrap && a->used_wrap == b->used_wrap;
}

/** Largest split virtqueue size virtio allows (2^15). */
#define VRELAY_MAX_RING_SIZE 32768

/*
 * Extent of a split virtqueue's rings (virtio 1.1, 2.6), in bytes. Whoever
 * indexes a ring with its size must first check that this whole extent
 * lies in guest memory, with the size and features it will use: an
 * address checked for an earlier size (SET_VRING_NUM may follow
 * SET_VRING_ADDR) or without the event word (EVENT_IDX negotiated later)
 * lets the guest point the host past the end of its memory.
 */

/** @return true if size is a valid split ring size: 2^k, 1..32768. */
static inline bool
vrelay_split_size_valid(uint32_t size)
{
	return size != 0 && (size & (size - 1)) == 0 &&
		size <= VRELAY_MAX_RING_SIZE;
}

/** @return bytes of the descriptor table: desc[size]. */
static inline uint64_t
vrelay_split_desc_len(uint32_t size)
{
	return sizeof(struct vring_desc) * (uint64_t)size;
}

/**
 * @return bytes of the avail ring: flags, idx, ring[size], and with
 * VIRTIO_RING_F_EVENT_IDX the used_event word after the ring.
 */
static inline uint64_t
vrelay_split_avail_len(uint32_t size, bool event_idx)
{
	return 2 * sizeof(uint16_t) + sizeof(uint16_t) * (uint64_t)size +
		(event_idx ? sizeof(uint16_t) : 0);
}

/**
 * @return bytes of the used ring: flags, idx, ring[size], and with
 * VIRTIO_RING_F_EVENT_IDX the avail_event word after the ring.
 */
static inline uint64_t
vrelay_split_used_len(uint32_t size, bool event_idx)
{
	return 2 * sizeof(uint16_t) +
		sizeof(struct vring_used_elem) * (uint64_t)size +
		(event_idx ? sizeof(uint16_t) : 0);
}

/**
 * @return true if the rings have the alignment the virtio spec requires
 * of a split virtqueue (2.6: descriptor table 16, avail ring 2, used
 * ring 4 bytes). Check guest physical and host addresses alike: the
 * device and the relay both read the rings as naturally aligned fields.
 */
static inline bool
vrelay_split_rings_aligned(uint64_t desc, uint64_t avail, uint64_t used)
{
	return (desc & 15) == 0 && (avail & 1) == 0 && (used & 3) == 0;
}

/*
 * Extent of a packed virtqueue's rings (virtio 1.1, 2.7): one descriptor
 * ring of size 16-byte descriptors, written by both sides, and two
 * 4-byte event suppression areas (driver's, device's).
 */

/** @return true if size is a valid packed ring size: 1..32768. */
static inline bool
vrelay_packed_size_valid(uint32_t size)
{
	/* Positions are 15 bit: bit 15 of an index carries the wrap. */
	return size != 0 && size <= VRELAY_MAX_RING_SIZE;
}

/** @return bytes of the packed descriptor ring. */
static inline uint64_t
vrelay_packed_desc_len(uint32_t size)
{
	return 16 * (uint64_t)size;
}

/** Bytes of a packed ring's event suppression area (off_wrap, flags). */
#define VRELAY_PACKED_EVENT_LEN 4

/**
 * @return true if the rings have the alignment virtio requires of a
 * packed virtqueue (2.7: descriptor ring 16, event areas 4 bytes).
 */
static inline bool
vrelay_packed_rings_aligned(uint64_t desc, uint64_t driver_area,
			    uint64_t device_area)
{
	return (desc & 15) == 0 && (driver_area & 3) == 0 &&
		(device_area & 3) == 0;
}

/** One guest memory region, as the vhost memory table describes it. */
struct vrelay_mem_region {
	uint64_t gpa;	/**< guest physical address of the first byte */
	uint64_t size;	/**< length in bytes */
	uint64_t hva;	/**< where this process has it mapped */
};

/** A guest memory table. Regions must not overlap. */
struct vrelay_mem {
	uint32_t nregions;
	struct vrelay_mem_region regions[VRELAY_MAX_MEM_REGIONS];
};

/** State of a relayed queue. */
enum vrelay_queue_state {
	VRELAY_QUEUE_IDLE,	/**< created, not attached to an engine */
	VRELAY_QUEUE_RELAY,	/**< attached: entries are being relayed */
	VRELAY_QUEUE_BROKEN,	/**< guest misbehaved: relaying stopped */
};

/** Relay engine kinds. */
enum vrelay_mode {
	VRELAY_MODE_EPOLL,	/**< sleep on guest kicks and device irqs */
	VRELAY_MODE_POLL,	/**< spin over attached queues; sleep while none */
	VRELAY_MODE_ADAPTIVE,	/**< poll under load, sleep when idle */
};

/** Per-queue counters. All monotonic since the queue was created. */
struct vrelay_queue_stats {
	uint64_t avail_relayed;	/**< avail entries forwarded to the device */
	uint64_t used_relayed;	/**< used entries copied back to the guest */
	uint64_t pages_logged;	/**< dirty-log bits set (buffers + used ring) */
	uint64_t log_bursts;	/**< used bursts logged (used ring logged once each) */
	uint64_t guest_kicks;	/**< guest kicks consumed */
	uint64_t device_irqs;	/**< device interrupts consumed */
	uint64_t guest_calls;	/**< interrupts raised to the guest */
	uint64_t device_kicks;	/**< doorbells rung on the device */
	uint64_t broken;	/**< times the queue was marked broken (0 or 1) */
	uint64_t inflight_logged; /**< used entries logged from the switchover window */
	/**
	 * Switchover windows whose used entries could not be attributed
	 * (a chain no longer walks, a len exceeds its chain, the window is
	 * longer than the ring or its descriptor budget ran out), so all
	 * of guest memory was logged instead (0 or 1 a queue).
	 */
	uint64_t window_log_all;
};

struct vrelay_device;
struct vrelay_queue;
struct vrelay_engine;

/* ------------------------------------------------------------------ */
/* Devices                                                             */
/* ------------------------------------------------------------------ */

/**
 * Create a relay device: the guest memory table and dirty log shared by
 * the queues of one vhost connection.
 *
 * @param name  for log lines; copied.
 * @param mem   guest memory table; copied.
 * @return the device, or NULL with errno set (EINVAL, ENOMEM).
 *
 * Ownership: the caller owns the device and frees it with
 * vrelay_device_destroy() after destroying all its queues.
 * Thread context: any control thread.
 */
struct vrelay_device *vrelay_device_create(const char *name,
					   const struct vrelay_mem *mem);

/**
 * Set or replace the dirty log (vhost-user SET_LOG_BASE).
 *
 * The log is a bitmap, bit n covering guest physical page n (4 KiB).
 * Pages beyond the log are not logged and are counted as errors.
 *
 * @param dev   the device.
 * @param base  start of the bitmap as mapped in this process, or NULL to
 *              stop logging.
 * @param size  bitmap length in bytes.
 * @return 0, or -EINVAL.
 *
 * Ownership: the caller keeps the mapping; it must stay valid until a
 * later call replaces it *and* that call has returned.
 * Thread context: control thread. The call waits until no engine is
 * writing to the old log, so the old mapping may be unmapped as soon as
 * it returns; no bit is lost across the swap.
 */
int vrelay_device_set_log(struct vrelay_device *dev, void *base,
			  uint64_t size);

/**
 * Set the dirty log with a mirror: every bit the relay sets in the log
 * is set at the same offset in @p mirror too.
 *
 * Meant for the time a frontend replaces the log (SET_LOG_BASE): keep
 * logging into the current log, which stays right if the replacement
 * fails, and gather the same bits in a private mirror, to be merged into
 * the new log if it succeeds (the frontend may read the old log for the
 * last time before the driver has installed the new one).
 *
 * @param dev     the device.
 * @param base    the log, as for vrelay_device_set_log(); not NULL.
 * @param size    bitmap length in bytes.
 * @param mirror  @p size bytes, with the same alignment modulo 8 as
 *                @p base (so the same 64-bit words), or NULL for none.
 * @return 0, or -EINVAL.
 *
 * Ownership: the caller keeps both; they must stay valid until a later
 * call replaces them and has returned.
 * Thread context: control thread; waits as vrelay_device_set_log().
 */
int vrelay_device_set_log_mirrored(struct vrelay_device *dev, void *base,
				   uint64_t size, uint8_t *mirror);

/**
 * Destroy a device. All its queues must have been destroyed.
 * Thread context: control thread.
 */
void vrelay_device_destroy(struct vrelay_device *dev);

/* ------------------------------------------------------------------ */
/* Queues                                                              */
/* ------------------------------------------------------------------ */

/** What a queue relays between. */
struct vrelay_queue_conf {
	const char *name;		/**< for log lines; copied */
	uint16_t qid;			/**< virtqueue index (even RX, odd TX) */
	uint16_t size;			/**< ring size, a power of two */
	/** Ring layout. */
	enum vrelay_ring_format format;
	/**
	 * The guest's ring areas (virtio 1.1 names), mapped in this
	 * process. Split: descriptor table, driver area = avail ring,
	 * device area = used ring. Packed: descriptor ring and the driver
	 * and device event suppression areas. Each must lie whole
	 * (vrelay_split_*_len() with this size and event_idx) inside one
	 * region of the device's memory table, by host address.
	 */
	void *desc;
	void *driver_area;
	void *device_area;
	/**
	 * Guest physical address of the device area, for logging the
	 * relay's writes to it; its whole extent is guest memory.
	 */
	uint64_t device_area_gpa;
	/**
	 * Packed: guest physical address of the descriptor ring, for
	 * logging the used descriptors the relay writes into it; its whole
	 * extent is guest memory. Unused for split (the relay never writes
	 * a split descriptor table).
	 */
	uint64_t desc_gpa;
	bool event_idx;			/**< VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;			/**< VIRTIO_RING_F_INDIRECT_DESC negotiated */
	/**
	 * The device only reads this queue's buffers (a virtio-net TX
	 * queue). Packed: WRITE flags inside its indirect tables are
	 * ignored, as devices ignore them (DPDK's virtio PMD leaves WRITE
	 * set on its TX indirect entries); nothing in them is writable, so
	 * a used length must be 0.
	 */
	bool device_read_only;
	int guest_kick_fd;		/**< eventfd the guest kicks; -1: poll only */
	int guest_call_fd;		/**< eventfd to interrupt the guest; -1: none */
	int device_doorbell_fd;		/**< eventfd that wakes the device */
	int device_irq_fd;		/**< eventfd the device signals; -1: poll only */
	/**
	 * The device queue's state at the moment it was suspended: the
	 * next avail entry it will fetch, the next used entry it writes.
	 */
	struct vrelay_qstate state;
	/**
	 * In-flight window: the device's used index when logging was
	 * turned on. Used entries [log_from_used_idx, state.used_idx) were
	 * written by the device in direct I/O after logging started; they
	 * are logged when the queue is created. Equal to state.used_idx
	 * for none. Split only for now (a packed window would also need
	 * the wrap counter).
	 * The entries and their chains are guest-writable: a window that
	 * cannot be attributed (see window_log_all in the stats) or that
	 * would take more than 4 * size + VRELAY_MAX_CHAIN_LEN descriptor
	 * reads is logged as all of guest memory instead.
	 */
	uint16_t log_from_used_idx;
	/**
	 * Packed only (log_from_used_idx is unused there): the device may
	 * have completed buffers in direct I/O since logging began. A
	 * packed used descriptor overwrites the chain it completes and the
	 * guest may reuse the slots at once, so such a window cannot be
	 * attributed: when set, all of guest memory is logged at create
	 * (once per switch; the frontend's first pass copies all of it
	 * anyway). Set it whenever the queue ran on the guest's rings while
	 * the frontend logged.
	 */
	bool log_window_all;
};

/**
 * Where a queue's mediated ring areas live, so the driver can map them
 * into the device's IOVA space (virtio 1.1 names, as in struct
 * vrelay_queue_conf). Every area is page aligned and page sized.
 *
 * Split: no mediated descriptor table (desc NULL: the device keeps the
 * guest's), driver area = mediated avail ring, device area = mediated
 * used ring. Packed: a mediated descriptor ring, which the device reads
 * and writes (used descriptors are written in place: map it read-write),
 * and its two event suppression areas (driver area read-only, device
 * area read-write). Descriptor addresses in a mediated packed ring are
 * the guest's own (zero copy): the device keeps reaching buffers and
 * indirect tables by guest physical address.
 */
struct vrelay_mring_info {
	enum vrelay_ring_format format;	/**< the queue's ring format */
	void *desc;		/**< descriptor ring (read-write), or NULL */
	uint64_t desc_len;	/**< its bytes, 0 if none */
	void *driver_area;	/**< the device reads it: map read-only */
	uint64_t driver_len;	/**< its bytes */
	void *device_area;	/**< the device writes it: map read-write */
	uint64_t device_len;	/**< its bytes */
};

/**
 * Create a relayed queue and its mediated rings.
 *
 * The mediated avail ring starts at conf->state.avail_idx and the
 * mediated used ring at conf->state.used_idx (index invariant above).
 * Entries of the in-flight window (conf->log_from_used_idx, or for a
 * packed ring conf->log_window_all) are logged here if the device has a
 * log.
 *
 * @param dev   owning device; must outlive the queue.
 * @param conf  copied; fds are borrowed and must stay open until destroy.
 * @return the queue in state VRELAY_QUEUE_IDLE, or NULL with errno set:
 * EINVAL (bad conf; a split size not a power of two in 1..32768, a
 * packed size not in 1..32768), EFAULT (a ring, or the device area's or
 * a packed descriptor ring's log address, not wholly inside guest memory;
 * checked before any ring is touched), ENOMEM.
 * Thread context: control thread.
 */
struct vrelay_queue *vrelay_queue_create(struct vrelay_device *dev,
					 const struct vrelay_queue_conf *conf);

/**
 * Get the mediated rings' location.
 * @return a pointer valid for the queue's lifetime.
 */
const struct vrelay_mring_info *vrelay_queue_mring(const struct vrelay_queue *q);

/**
 * Forward new guest avail entries to the mediated avail ring, checking
 * each chain (ids in range, bounded length, no loop, indirect tables valid,
 * every buffer inside guest memory), and ring the device's doorbell if it
 * asked for notifications.
 *
 * @param q       the queue.
 * @param budget  most entries to forward.
 * @return entries forwarded (>= 0), or -EIO if the queue is (now) broken.
 * Thread context: the engine owning q, or the control thread while q is
 * not attached.
 */
int vrelay_queue_relay_avail(struct vrelay_queue *q, unsigned int budget);

/**
 * Copy new used entries from the mediated used ring to the guest's,
 * logging the pages the device wrote for them first (batched: one atomic
 * OR per bitmap word), then publish the guest used index, then log the
 * guest used ring pages (once per burst, after writing them: a dirty bit
 * must be set after the write it stands for), and interrupt the guest if
 * it asked for it.
 *
 * A packed queue relays every used descriptor that is ready (at most the
 * ring size), budget only deciding whether to run (0: nothing), and
 * publishes them to the guest together: stopping between the buffers of
 * a multi-buffer packet (mergeable RX) would show the guest its first
 * buffer without the rest.
 *
 * @return entries relayed (>= 0), or -EIO if the queue is (now) broken.
 * Thread context: as vrelay_queue_relay_avail().
 */
int vrelay_queue_relay_used(struct vrelay_queue *q, unsigned int budget);

/**
 * Relay every used entry the device has written so far (no budget) and
 * interrupt the guest if anything was relayed. Used before switching back
 * to direct I/O and at device stop, after the device queue is suspended.
 *
 * @return entries relayed, or -EIO.
 * Thread context: control thread, queue not attached.
 */
int vrelay_queue_flush(struct vrelay_queue *q);

/** @return the queue's state. Any thread. */
enum vrelay_queue_state vrelay_queue_state(const struct vrelay_queue *q);

/**
 * Read the queue's counters (a consistent-enough snapshot, any thread).
 */
void vrelay_queue_get_stats(const struct vrelay_queue *q,
			    struct vrelay_queue_stats *stats);

/**
 * Destroy a queue and free its mediated rings. The queue must not be
 * attached, and the device must no longer access the mediated rings.
 * Thread context: control thread.
 */
void vrelay_queue_destroy(struct vrelay_queue *q);

/* ------------------------------------------------------------------ */
/* Engines                                                             */
/* ------------------------------------------------------------------ */

/**
 * Start a relay thread.
 *
 * @param name  thread name (pthread_setname_np, 15 chars used).
 * @param mode  initial mode.
 * @param cpu   CPU to pin the thread to, or -1 for no pinning.
 * @return the engine, or NULL with errno set.
 * Ownership: caller; stop it with vrelay_engine_destroy().
 * Thread context: control thread.
 */
struct vrelay_engine *vrelay_engine_create(const char *name,
					   enum vrelay_mode mode, int cpu);

/**
 * Change an engine's mode while it runs. Thread context: control thread.
 * @return 0 or -EINVAL.
 */
int vrelay_engine_set_mode(struct vrelay_engine *e, enum vrelay_mode mode);

/** @return the engine's current mode. */
enum vrelay_mode vrelay_engine_mode(const struct vrelay_engine *e);

/**
 * Hand a queue to the engine. The queue is put on the engine's list
 * between two of its passes, and one full pass over the queue is run
 * before returning (in the calling thread, holding the engine's list
 * lock), so nothing kicked before the switch is missed. The call waits
 * at most for the engine's pass in progress, never for the engine thread
 * to be scheduled.
 *
 * @return 0, -EBUSY (already attached), -ENOMEM, or -EIO (queue broken).
 * An engine has no fixed capacity: it serves any number of queues.
 * Thread context: control thread; not the engine's own thread.
 */
int vrelay_engine_attach(struct vrelay_engine *e, struct vrelay_queue *q);

/**
 * Take a queue back from its engine. When this returns, the engine no
 * longer touches the queue (it waited at most for the pass in progress).
 * Used entries not yet relayed remain in the mediated used ring (see
 * vrelay_queue_flush()).
 * @return 0 or -ENOENT. Thread context: control thread.
 */
int vrelay_engine_detach(struct vrelay_engine *e, struct vrelay_queue *q);

/**
 * CPU time the engine thread has used, in nanoseconds (for stats).
 */
uint64_t vrelay_engine_cpu_ns(const struct vrelay_engine *e);

/**
 * Stop the engine thread. No queue may be attached.
 * Thread context: control thread.
 */
void vrelay_engine_destroy(struct vrelay_engine *e);


/* ------------------------------------------------------------------ */
/* Switchover                                                          */
/* ------------------------------------------------------------------ */

/**
 * Queue control a device offers the switchover protocol. Every op works on
 * one queue of the device and returns 0 or a negative errno. They are
 * called from the control thread only.
 */
struct vrelay_qctl_ops {
	/**
	 * Stop the queue: fetch no more avail entries, complete those in
	 * flight (their used entries written, interrupt raised), then report
	 * in @p state the next avail entry the device would fetch and the
	 * next used entry it would write (with the wrap counters for a
	 * packed ring). Must be idempotent on a stopped queue.
	 * Returns 0, or -EIO if the queue had faulted: it is stopped all the
	 * same and the state is where it stopped. Any other error means
	 * the queue could not be stopped and may still run.
	 */
	int (*suspend)(void *ctx, uint16_t qid, struct vrelay_qstate *state);
	/**
	 * Point the stopped queue at the mediated rings (mapping them into
	 * the device's address space as struct vrelay_mring_info says:
	 * driver area read-only, device area and a packed descriptor ring
	 * read-write), keep reaching buffers (and a split queue's
	 * descriptor table) by guest address, and use doorbell_fd / irq_fd
	 * in place of the guest's kick and call fds.
	 */
	int (*program_relay)(void *ctx, uint16_t qid,
			     const struct vrelay_mring_info *mring,
			     int doorbell_fd, int irq_fd);
	/**
	 * Point the stopped queue back at the guest's own rings and fds, and
	 * unmap the mediated rings.
	 */
	int (*program_direct)(void *ctx, uint16_t qid);
	/**
	 * Restart the stopped queue at @p state. A device should refuse
	 * (-EPERM) to run a queue on the guest's own rings while the
	 * frontend logs dirty pages: it would write guest memory unlogged.
	 */
	int (*resume)(void *ctx, uint16_t qid,
		      const struct vrelay_qstate *state);
	/**
	 * Optional (NULL: suspend is called per queue). Suspend n queues
	 * at once: the same as suspend(ctx, qids[i], &states[i]) for each,
	 * rets[i] its result, but a device that stops all its queues
	 * together (a whole-device VF) may stop and restart once.
	 */
	void (*suspend_many)(void *ctx, unsigned int n, const uint16_t *qids,
			     struct vrelay_qstate *states, int *rets);
	/**
	 * Optional (NULL: resume is called per queue). Resume n stopped
	 * queues at once: the same as resume(ctx, qids[i], &states[i]) for
	 * each, rets[i] its result (the fail-closed refusal included), but
	 * a whole-device VF may start once.
	 */
	void (*resume_many)(void *ctx, unsigned int n, const uint16_t *qids,
			    const struct vrelay_qstate *states, int *rets);
};

/** Where a switch left the device queue. */
enum vrelay_devq_state {
	/** Running: on the relay after vrelay_switch_to_relay(), on the
	 *  guest's rings after vrelay_switch_to_direct(). */
	VRELAY_DEVQ_RUNNING,
	/** Stopped at the reported indices and programmed onto the guest's
	 *  rings. It may be resumed in direct I/O only once the frontend no
	 *  longer logs dirty pages (fail closed); until then it stays
	 *  stopped. */
	VRELAY_DEVQ_STOPPED,
	/** Stopped at the reported indices and must not be resumed before
	 *  the frontend resets the queue: the device faulted, the guest
	 *  broke a ring rule, or the device could not be reprogrammed. */
	VRELAY_DEVQ_BROKEN,
	/** suspend failed: the device may still be running where it was.
	 *  The indices are not valid. */
	VRELAY_DEVQ_UNKNOWN,
};

/** What a switch did, valid after any return of the switch functions. */
struct vrelay_switch_report {
	enum vrelay_devq_state devq;	/**< where the device queue is */
	/** The device queue's state at suspend (valid unless devq is
	 *  UNKNOWN): the next avail entry it fetches, the next used entry
	 *  it writes. */
	struct vrelay_qstate state;
	uint64_t unavailable_ns;	/**< from suspend to resume or failure */
};

/**
 * Switch one device queue from direct I/O to the relay:
 * suspend -> create the relayed queue at the device's indices (logging the
 * in-flight window) -> program the device onto the mediated rings ->
 * attach to the engine -> resume.
 *
 * Fail closed: this is called because the frontend logs dirty pages, so
 * on failure the device queue is never resumed in direct I/O. It is left
 * stopped on the guest's rings (rep->devq VRELAY_DEVQ_STOPPED) or broken
 * (VRELAY_DEVQ_BROKEN), at the indices in @p rep, and the caller reports
 * the failure to the frontend.
 *
 * Fault injection for tests: with VRELAY_FAULT_SWITCH=N in the
 * environment (read once), every N-th call fails after the suspend as if
 * the process had run out of file descriptors (-EMFILE).
 *
 * @param e       engine that will relay the queue.
 * @param dev     relay device of the queue.
 * @param conf    queue configuration; state is ignored (taken from the
 *                device's suspend). The doorbell and irq
 *                fds are ignored too: the queue creates and owns its own.
 * @param ops     device queue control; ctx is passed back to it.
 * @param[out] qp the relayed queue (owned by the caller), NULL on failure.
 * @param[out] rep where the device queue is; may be NULL.
 * @return 0 or a negative errno. Thread context: control thread.
 */
int vrelay_switch_to_relay(struct vrelay_engine *e, struct vrelay_device *dev,
			   const struct vrelay_queue_conf *conf,
			   const struct vrelay_qctl_ops *ops, void *ctx,
			   struct vrelay_queue **qp,
			   struct vrelay_switch_report *rep);

/**
 * Switch one relayed queue back to direct I/O:
 * detach from the engine -> suspend the device queue -> flush every used
 * entry still in the mediated ring (logged if a log is set) -> program
 * the device back onto the guest's rings -> resume at the same indices
 * -> destroy the relayed queue.
 *
 * A queue the relay marked broken, or whose device queue faulted
 * (suspend returned -EIO), is not resumed: rep->devq is
 * VRELAY_DEVQ_BROKEN and the call returns -EIO, with exact indices.
 *
 * @param resume  false to leave the device queue stopped (device stop at
 *                the end of migration); the indices are still reported.
 * @param[out] rep where the device queue is, and its indices; may be NULL.
 * @return 0 or a negative errno. The relayed queue is destroyed in all
 * cases but two: if suspend fails with anything but -EIO, or
 * program_direct fails, the device may still use the mediated rings, so
 * they (and the queue) are deliberately leaked rather than freed under
 * the device. Invalid arguments change nothing.
 * Thread context: control thread.
 */
int vrelay_switch_to_direct(struct vrelay_engine *e, struct vrelay_queue *q,
			    const struct vrelay_qctl_ops *ops, void *ctx,
			    bool resume, struct vrelay_switch_report *rep);

/**
 * Switch n device queues to the relay as one batch (issue #18):
 * prepare every relayed queue (mediated rings, eventfds) while the
 * device still runs -> suspend all (ops->suspend_many if given) -> create
 * each at its device's state (logging its in-flight window) -> program
 * all onto the mediated rings -> attach all to the engine under one list
 * update -> resume all (ops->resume_many if given).
 *
 * Per queue, exactly vrelay_switch_to_relay()'s contract: fail closed
 * (a queue that cannot be relayed is left stopped on the guest's rings,
 * or broken, never resumed in direct I/O), qs[i] and reps[i] as its qp
 * and rep. One queue's failure does not stop the others' switch.
 * reps[i].unavailable_ns is measured from the start of the batch's
 * suspend to the queue's resume (an upper bound for that queue). The
 * VRELAY_FAULT_SWITCH injection applies per queue as in the single call.
 *
 * @return 0 if every queue is relayed, else the first failure.
 * Thread context: control thread.
 */
int vrelay_switch_batch_to_relay(struct vrelay_engine *e,
				 struct vrelay_device *dev, unsigned int n,
				 const struct vrelay_queue_conf *confs,
				 const struct vrelay_qctl_ops *ops, void *ctx,
				 struct vrelay_queue **qs,
				 struct vrelay_switch_report *reps);

/**
 * Switch n relayed queues back to direct I/O as one batch: detach all
 * from their engine under one list update -> suspend all -> flush each
 * -> program all onto the guest's rings -> resume all (if @p resume) ->
 * destroy. Per queue, exactly vrelay_switch_to_direct()'s contract
 * (qs[i] is destroyed or deliberately leaked as there; reps[i] as rep).
 * @return 0, or the first failure. Thread context: control thread.
 */
int vrelay_switch_batch_to_direct(struct vrelay_engine *e, unsigned int n,
				  struct vrelay_queue **qs,
				  const struct vrelay_qctl_ops *ops, void *ctx,
				  bool resume,
				  struct vrelay_switch_report *reps);

/** Parse "epoll", "poll" or "auto"/"adaptive". @return 0 or -EINVAL. */
int vrelay_mode_from_str(const char *s, enum vrelay_mode *mode);
/** @return the mode's name. */
const char *vrelay_mode_to_str(enum vrelay_mode mode);

#ifdef __cplusplus
}
#endif

#endif /* VDPA_RELAY_H */
