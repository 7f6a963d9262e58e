/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef IFCVF_SW_DP_H
#define IFCVF_SW_DP_H

/*
 * What the split and packed datapaths of the emulated VF share
 * (ifcvf_sw_dp.c): the virtio-net header, gathering a TX chain into an
 * mbuf, filling RX buffers from one, the RX burst loop, and interrupts.
 * The formats differ only in how descriptors are found and completed:
 * each gives a walker that hands out the segments of one chain.
 *
 * Device thread only, with the DMA read lock held. Not installed.
 */

#include <stdbool.h>
#include <stdint.h>
#include <errno.h>

#include <linux/virtio_net.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

#include "ifcvf_sw_hw.h"

/* Chains per internal batch: bounds the stack arrays. */
#define DP_BURST 32u
/* Largest frame the VF sends or receives (jumbo). */
#define DP_MAX_PKT 9728
/* Offset of num_buffers in struct virtio_net_hdr_mrg_rxbuf. */
#define DP_NUM_BUFFERS_OFF 10
/* Indirect table indices are 16 bit: a longer walk must be a loop. */
#define DP_MAX_INDIRECT 65536u

/* One descriptor of a chain, as a walker hands it out. */
struct dp_seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/*
 * A ring format's chain walker: 1 and *seg for the next descriptor, 0 at
 * the chain's end, or -EIO / -EFAULT (already counted).
 */
typedef int (*dp_walk_next_t)(struct ifcsw_hwq *q, void *walk,
			      struct dp_seg *seg);

static inline uint16_t
dp_hdr_len(const struct ifcsw_hwq *q)
{
	/* MRG_RXBUF implies the 12-byte header even if HDR_MRG was missed. */
	if (q->regs.features & (IFCSW_HWQ_F_HDR_MRG | IFCSW_HWQ_F_MRG_RXBUF))
		return sizeof(struct virtio_net_hdr_mrg_rxbuf);
	return sizeof(struct virtio_net_hdr);
}

static inline int
dp_ring_error(struct ifcsw_hwq *q)
{
	q->stats.ring_errors++;
	return -EIO;
}

static inline int
dp_dma_fault(struct ifcsw_hwq *q)
{
	q->stats.dma_faults++;
	return -EFAULT;
}

/* Driver's "interrupt me" test for EVENT_IDX: event in [old, new). */
static inline bool
dp_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* Raise the queue's interrupt (the suppression check is the caller's). */
void dp_irq(struct ifcsw_hwq *q);

/*
 * Copy one TX chain, walked by next/walk, into *out (NULL: nothing to
 * send, the chain is still done). -ENOBUFS: no mbuf, the chain is not
 * consumed, retry later.
 */
int dp_tx_chain(struct ifcsw_hwq *q, dp_walk_next_t next, void *walk,
		struct rte_mbuf **out);

/* Hand a batch of TX packets to the wire and count them. */
void dp_tx_send(struct ifcsw_hwq *q, struct rte_mbuf **pkts,
		unsigned int nb_pkts);

/* Where the num_buffers bytes of the first buffer's header went. */
struct dp_nbuf_pos {
	uint64_t addr[2];
	unsigned int found;
};

/* One RX packet being placed: header first, then the mbuf segments. */
struct dp_rx_pkt {
	struct virtio_net_hdr_mrg_rxbuf hdr;
	const uint8_t *ptr;		/* next byte to place */
	uint32_t left;			/* bytes left at ptr */
	const struct rte_mbuf *next;	/* next mbuf segment */
	uint32_t placed;		/* bytes placed so far */
	uint32_t total;			/* header + packet */
	bool mrg;			/* buffers may be merged */
	struct dp_nbuf_pos pos;
};

/* Start placing m (again: a retry rewrites the same bytes). */
void dp_rx_pkt_init(struct ifcsw_hwq *q, struct dp_rx_pkt *p,
		    const struct rte_mbuf *m);

/*
 * Fill the writable descriptors of one chain, walked by next/walk, up to
 * the packet's end; *used_len gets the bytes written. 0 or -errno.
 */
int dp_rx_fill_chain(struct ifcsw_hwq *q, dp_walk_next_t next, void *walk,
		     struct dp_rx_pkt *p, uint32_t *used_len);

/* Write num_buffers = nb into the first buffer's header. 0 or -errno. */
int dp_rx_patch_nbuf(struct ifcsw_hwq *q, const struct dp_rx_pkt *p,
		     uint16_t nb);

/* A ring format's side of the RX burst loop (dp_rx_loop()). */
struct dp_rx_ring {
	/* Packets that surely fit in the buffers offered now (0: none). */
	unsigned int (*room)(struct ifcsw_hwq *q, void *ctx);
	/*
	 * Place one packet: the buffers it used (> 0), 0 if the driver has
	 * not offered enough yet, -E2BIG to drop it, or -EIO / -EFAULT.
	 */
	int (*place)(struct ifcsw_hwq *q, const struct rte_mbuf *m,
		     void *ctx);
};

/*
 * Move up to budget packets from the wire into the ring.
 * @return packets placed, or -EIO / -EFAULT (the queue faults).
 */
int dp_rx_loop(struct ifcsw_hwq *q, unsigned int budget,
	       const struct dp_rx_ring *ring, void *ctx);

/* ---- split rings (ifcvf_sw_dp_split.c) ---- */
int dp_split_tx(struct ifcsw_hwq *q, unsigned int budget);
int dp_split_rx(struct ifcsw_hwq *q, unsigned int budget);
bool dp_split_has_avail(const struct ifcsw_hwq *q);
void dp_split_notify_on(struct ifcsw_hwq *q);
void dp_split_notify_off(struct ifcsw_hwq *q);

/* ---- packed rings (ifcvf_sw_dp_packed.c) ---- */
int dp_packed_tx(struct ifcsw_hwq *q, unsigned int budget);
int dp_packed_rx(struct ifcsw_hwq *q, unsigned int budget);
bool dp_packed_has_avail(const struct ifcsw_hwq *q);
void dp_packed_notify_on(struct ifcsw_hwq *q);
void dp_packed_notify_off(struct ifcsw_hwq *q);

#endif /* IFCVF_SW_DP_H */
