/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef IFCVF_SW_HW_H
#define IFCVF_SW_HW_H

/**
 * @file
 * The emulated IFC-like virtio-net VF: register model and device thread.
 *
 * Everything the "hardware" knows about a queue is in struct ifcsw_hwq:
 * ring addresses as IOVAs, size, negotiated ring features, the doorbell
 * and interrupt eventfds, and the indices the device keeps. The driver
 * writes registers only while the queue is stopped, then starts it; the
 * device thread owns a running queue. Each queue has a lock that the
 * device thread holds for one burst at a time; the driver stops a queue
 * by taking that lock, so a stop waits at most for the burst in progress
 * (never for the device thread to be scheduled) and leaves exact
 * last_avail/last_used with nothing in flight.
 *
 * The device touches guest memory only through its DMA map and never
 * logs dirty pages, like real hardware.
 *
 * Queue control comes in two kinds (queue_control= devarg). Per queue
 * (IFCSW_QCTL_QUEUE): each queue stops and starts on its own. Whole
 * device (IFCSW_QCTL_DEVICE), like DPDK's IFCVF (ifcvf_stop_hw /
 * ifcvf_start_hw): the VF has one run bit; ifcsw_hw_dev_stop() parks
 * every queue, ifcsw_hw_dev_start() starts the queues of a mask, and
 * queue registers change only while the whole device is stopped.
 */

#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ifcvf_sw_dma.h"

struct vring_desc;
struct vring_avail;
struct vring_used;
struct vring_packed_desc;
struct vring_packed_desc_event;

#define IFCSW_MAX_QUEUE_PAIRS 16
#define IFCSW_MAX_QUEUES (2 * IFCSW_MAX_QUEUE_PAIRS)
#define IFCSW_MAX_RING_SIZE 32768

/** Hardware state of one queue, as its status register shows it. */
enum ifcsw_hwq_state {
	IFCSW_HWQ_STOPPED,	/**< registers may be written */
	IFCSW_HWQ_RUNNING,	/**< device thread processes the rings */
	IFCSW_HWQ_FAULT,	/**< DMA fault or bad ring: stopped until reset */
};

/** How the driver may stop and start queues. */
enum ifcsw_qctl_kind {
	IFCSW_QCTL_QUEUE,	/**< one queue at a time */
	IFCSW_QCTL_DEVICE,	/**< the whole device: one run bit */
};

/** Ring feature bits the queue was programmed with. */
#define IFCSW_HWQ_F_MRG_RXBUF	0x1	/**< VIRTIO_NET_F_MRG_RXBUF */
#define IFCSW_HWQ_F_EVENT_IDX	0x2	/**< VIRTIO_RING_F_EVENT_IDX */
#define IFCSW_HWQ_F_INDIRECT	0x4	/**< VIRTIO_RING_F_INDIRECT_DESC */
#define IFCSW_HWQ_F_HDR_MRG	0x8	/**< 12-byte virtio_net_hdr_mrg_rxbuf */
/**
 * VIRTIO_F_RING_PACKED: desc_iova is the descriptor ring, avail_iova the
 * driver event suppression area, used_iova the device's; indices are
 * ring positions (< size) with the wrap counters beside them.
 */
#define IFCSW_HWQ_F_PACKED	0x10

/** Registers of one queue. Written by the driver while STOPPED. */
struct ifcsw_hwq_regs {
	uint64_t desc_iova;	/**< descriptor table */
	uint64_t avail_iova;	/**< avail ring (driver area) */
	uint64_t used_iova;	/**< used ring (device area) */
	uint16_t size;		/**< ring size: split 2^k, packed 1..32768 */
	uint16_t last_avail_idx; /**< next avail entry to fetch */
	uint16_t last_used_idx;	/**< next used entry to write */
	bool avail_wrap;	/**< packed: driver ring wrap counter */
	bool used_wrap;		/**< packed: device ring wrap counter */
	uint32_t features;	/**< IFCSW_HWQ_F_* */
	int doorbell_fd;	/**< eventfd: driver notifies device */
	int irq_fd;		/**< eventfd: device interrupts driver, -1 none */
};

/** Counters of one queue, written by the device thread only. */
struct ifcsw_hwq_stats {
	uint64_t packets;	/**< packets sent (TX) or received (RX) */
	uint64_t bytes;		/**< payload bytes, without virtio-net header */
	uint64_t descs;		/**< avail entries fetched */
	uint64_t doorbells;	/**< doorbells consumed */
	uint64_t irqs;		/**< interrupts raised */
	uint64_t dma_faults;	/**< accesses refused by the DMA map */
	uint64_t ring_errors;	/**< malformed descriptor chains */
	/** RX: wire packets dropped (too big, or stranded by a fault);
	 * TX: frames over 9728 bytes, completed but not sent. */
	uint64_t drops;
	/** Packed, completion=ooo: used descriptors written at another
	 * position than in-order completion would have put them. */
	uint64_t reordered;
};

struct ifcsw_hw;

/** One hardware queue. Even index: RX, odd index: TX (virtio-net). */
struct ifcsw_hwq {
	struct ifcsw_hw *hw;		/**< owning device */
	uint16_t index;			/**< virtqueue index */
	struct ifcsw_hwq_regs regs;	/**< driver-programmed registers */
	/**
	 * Held by the device thread for a burst (trylock: it never waits
	 * for the driver), and by the driver to start, stop or reset.
	 */
	pthread_mutex_t lock;
	/** Current state; written under lock, read by anyone. */
	enum ifcsw_hwq_state state;
	/**
	 * Atomic: the driver wants this queue's lock to stop it. The device
	 * thread starts no burst on it and, after the burst in progress,
	 * gives the CPU away (it may share it with the driver's thread).
	 */
	bool stop_req;

	/* Device-private, valid while RUNNING (set up at start). */
	union {
		struct vring_desc *desc;	/**< split: table */
		struct vring_packed_desc *pdesc; /**< packed: the ring */
	};
	union {
		struct vring_avail *avail;	/**< split: avail ring */
		/** packed: driver event suppression (driver area) */
		struct vring_packed_desc_event *drv_event;
	};
	union {
		struct vring_used *used;	/**< split: used ring */
		/** packed: device event suppression (device area) */
		struct vring_packed_desc_event *dev_event;
	};
	uint16_t signalled_used;	/**< used idx at the last interrupt */
	bool signalled_used_valid;	/**< signalled_used meaningful */
	/** Wire side: TX puts packets here, RX takes them from here. */
	struct rte_ring *wire;
	/** RX packet taken from the wire but not yet placed (no buffers). */
	struct rte_mbuf *rx_pending;

	struct ifcsw_hwq_stats stats;
};

/** Device-wide settings fixed at probe. */
struct ifcsw_hw_conf {
	const char *name;
	uint16_t nb_queue_pairs;
	bool polling;		/**< spin instead of sleeping on doorbells */
	/**
	 * Poll budget: after its last burst with work the device thread
	 * keeps polling its queues for this long, yielding the CPU between
	 * idle passes, before it asks for doorbells and sleeps (0: sleep at
	 * once). See hw_poll_on().
	 */
	uint32_t poll_us;
	bool loopback;		/**< TX comes back as RX, MACs swapped */
	int cpu;		/**< device thread CPU, -1 any */
	struct rte_mempool *mp;	/**< mbufs for wire packets */
	enum ifcsw_qctl_kind qctl;	/**< queue or whole-device control */
	/**
	 * completion=ooo: packed queues hand each burst's buffers back out
	 * of order (whole packets in reverse); split queues stay in order.
	 */
	bool ooo;
};

/** Device-wide counters of queue control, control threads only. */
struct ifcsw_hw_ctl_stats {
	uint64_t dev_stops;	/**< whole-device stops of a running device */
	uint64_t dev_parked;	/**< running queues those stops parked */
	uint64_t dev_starts;	/**< whole-device starts */
	uint64_t regs_refused;	/**< register writes refused: VF running */
};

struct ifcsw_hw {
	char name[64];
	struct ifcsw_hw_conf conf;
	struct ifcsw_dma_map dma;	/**< the VF's IOMMU view */
	struct ifcsw_hwq q[IFCSW_MAX_QUEUES];
	pthread_t thread;
	char thread_name[16];
	bool thread_running;
	bool quit;			/**< device thread must exit */
	int ctl_fd;			/**< eventfd: wakes the device thread */
	int epfd;			/**< device thread's epoll */
	int ep_fd[IFCSW_MAX_QUEUES];	/**< doorbell registered, under q->lock */
	/** Wire rings: per queue pair, to the wire and from the wire. */
	struct rte_ring *to_wire[IFCSW_MAX_QUEUE_PAIRS];
	struct rte_ring *from_wire[IFCSW_MAX_QUEUE_PAIRS];
	/** IFCSW_QCTL_DEVICE: the run bit. Control threads only. */
	bool dev_running;
	/** Atomic: queues with stop_req set; the device thread yields. */
	uint32_t stop_pending;
	/** conf.poll_us in timer cycles; device thread only. */
	uint64_t poll_cycles;
	/** The device thread's own mbuf cache (ifcvf_sw_dp.c), or NULL. */
	struct rte_mempool_cache *mcache;
	struct ifcsw_hw_ctl_stats ctl_stats;
};

/** Even queues receive, odd ones transmit (virtio-net). */
static inline bool
ifcsw_hwq_is_rx(const struct ifcsw_hwq *q)
{
	return (q->index & 1) == 0;
}

/* ---- device thread (ifcvf_sw_thread.c) ---- */

/** The device thread: pthread entry, started by ifcsw_hw_init(). */
void *ifcsw_hw_thread_main(void *arg);

/* ---- queue control (ifcvf_sw_hw.c) ---- */

/** Create the device and start its thread. @return 0 or -errno. */
int ifcsw_hw_init(struct ifcsw_hw *hw, const struct ifcsw_hw_conf *conf);
/** Stop every queue and the device thread, free everything. */
void ifcsw_hw_fini(struct ifcsw_hw *hw);

/**
 * Write a queue's registers. Refused (-EBUSY, logged and counted in
 * ctl_stats.regs_refused) while the queue runs or, with whole-device
 * control, while the device runs: a driver bug. Control thread.
 */
int ifcsw_hw_queue_regs_write(struct ifcsw_hw *hw, uint16_t qid,
			      const struct ifcsw_hwq_regs *regs);

/**
 * Start the stopped queues of @p qids whose rets[i] is 0, then wake the
 * device thread once. Per-queue control only.
 * @param[in,out] rets  0 to start the queue (its result then), else
 *                      left as is.
 */
void ifcsw_hw_queue_start_many(struct ifcsw_hw *hw, unsigned int n,
			       const uint16_t *qids, int *rets);

/**
 * Start a STOPPED queue with its current registers. Ring addresses are
 * checked against the DMA map; a ring outside it leaves the queue in
 * FAULT. @return 0, -EFAULT, -EINVAL; -EPERM with whole-device control
 * (queues start with the device). Control thread.
 */
int ifcsw_hw_queue_start(struct ifcsw_hw *hw, uint16_t qid);

/**
 * Announce that the queues in @p qmask are about to be stopped: the
 * device thread starts no new burst on them and steps aside (yields)
 * after the burst in progress, so that the stops that follow wait for
 * at most that one burst and not for a scheduler slice of a busy device
 * thread on a shared CPU. ifcsw_hw_queue_stop() announces its own queue
 * and withdraws the request; call ifcsw_hw_stop_cancel() for a queue of
 * @p qmask that is not stopped after all. Control thread.
 */
void ifcsw_hw_stop_request(struct ifcsw_hw *hw, uint32_t qmask);

/** Withdraw the stop request of the queues in @p qmask. Control thread. */
void ifcsw_hw_stop_cancel(struct ifcsw_hw *hw, uint32_t qmask);

/**
 * Stop a queue: waits for the burst in progress, if any, to complete.
 * With whole-device control it only reads the indices of a stopped
 * device (-EPERM while the device runs).
 * @param[out] last_avail, last_used  the queue's indices, or NULL.
 * @return 0 (also for an already stopped or faulted queue). Control thread.
 */
int ifcsw_hw_queue_stop(struct ifcsw_hw *hw, uint16_t qid,
			uint16_t *last_avail, uint16_t *last_used);

/**
 * Drop what the wire delivered to stopped RX queues and was not placed,
 * as a VF reset empties its receive FIFOs: frames meant for a guest that
 * has left must not reach the next one. Control thread.
 */
void ifcsw_hw_rx_flush(struct ifcsw_hw *hw);

/**
 * Whole-device control: clear the run bit, parking every running queue
 * after its burst in progress (exact indices, nothing in flight).
 * Idempotent. @return 0, or -EPERM with per-queue control.
 */
int ifcsw_hw_dev_stop(struct ifcsw_hw *hw);

/**
 * Whole-device control: set the run bit with the queues of @p qmask
 * (bit n: queue n) running; the others stay stopped, a faulted one
 * stays faulted. The device must be stopped (-EBUSY). An empty mask
 * leaves it stopped. @return 0 or the first queue's start error (that
 * queue is not running, the others are). Control thread.
 */
int ifcsw_hw_dev_start(struct ifcsw_hw *hw, uint32_t qmask);

/** Reset a FAULT queue to STOPPED. Control thread. */
void ifcsw_hw_queue_reset(struct ifcsw_hw *hw, uint16_t qid);

/** Wake the device thread (registers or wire changed). */
void ifcsw_hw_wake(struct ifcsw_hw *hw);

/* ---- datapath (ifcvf_sw_dp*.c), device thread only ---- */

/**
 * Transmit: fetch up to budget TX chains, copy each to an mbuf (chained
 * if needed) sent to q->wire, write used entries, interrupt if asked.
 * Caller holds the DMA read lock.
 * @return chains processed (>= 0), or -EFAULT / -EIO after which the
 * caller moves the queue to FAULT.
 */
int ifcsw_dp_tx(struct ifcsw_hwq *q, unsigned int budget);

/**
 * Receive: place up to budget packets from q->wire into guest buffers
 * with the virtio-net header (merging buffers if negotiated).
 * @return packets placed (>= 0), or -EFAULT / -EIO.
 */
int ifcsw_dp_rx(struct ifcsw_hwq *q, unsigned int budget);

/**
 * Before sleeping: ask the driver for a doorbell on the next avail entry
 * (clear VRING_USED_F_NO_NOTIFY or write avail_event), then re-check.
 * @return true if work arrived meanwhile (do not sleep).
 */
bool ifcsw_dp_enable_notify(struct ifcsw_hwq *q);

/** While busy: tell the driver not to ring the doorbell. */
void ifcsw_dp_disable_notify(struct ifcsw_hwq *q);

/** @return true if the queue has avail entries not yet fetched. */
bool ifcsw_dp_has_avail(const struct ifcsw_hwq *q);

/**
 * Make hw->mcache, the device thread's mbuf cache on conf.mp (none
 * without a pool), before the thread starts. @return 0 or -ENOMEM.
 */
int ifcsw_dp_mcache_create(struct ifcsw_hw *hw);

/** Give the cache's mbufs back to the pool and free it; thread joined. */
void ifcsw_dp_mcache_free(struct ifcsw_hw *hw);

#endif /* IFCVF_SW_HW_H */
