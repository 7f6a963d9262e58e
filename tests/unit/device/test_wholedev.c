/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * A whole-device VF (IFCSW_QCTL_DEVICE, issue #12): one run bit for all
 * queues, as DPDK's IFCVF has. A device stop parks every queue at exact
 * indices (each TX chain fetched is completed and on the wire, nothing
 * moves afterwards), register writes while the device runs are refused
 * and counted, per-queue start/stop are refused, and a device start runs
 * only the queues of its mask. A stop announced for a queue
 * (ifcsw_hw_stop_request(), issue #18) keeps the device thread off that
 * queue, and only that one, until the stop or a cancel withdraws it.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ifcvf_sw_hw.h"
#include "split_drv.h"
#include "test_common.h"

#define W_IOVA	0x40000000ull
#define W_SIZE	(1u << 20)
#define W_RING	256
#define W_NQ	4		/* two queue pairs: RX 0, 2; TX 1, 3 */
#define W_FRAME	(12 + 60)	/* virtio_net_hdr_mrg_rxbuf + frame */

struct wq {
	struct split_drv r;	/* the guest driver of the queue */
	uint64_t buf_iova;	/* W_RING frames */
	uint16_t avail_idx;	/* chains posted so far */
	int doorbell;
};

static struct ifcsw_hw hw;
static uint8_t *wmem;
static struct wq wq[W_NQ];
static struct vq_drv_flat wflat;	/* the guest's view of wmem */

/* Lay out queue qid's rings and buffers in its 256 KiB of memory. */
static void
wq_regs(uint16_t qid, struct ifcsw_hwq_regs *r)
{
	uint64_t base = W_IOVA + (uint64_t)qid * (W_SIZE / W_NQ);
	struct wq *w = &wq[qid];

	memset(r, 0, sizeof(*r));
	r->desc_iova = base;
	r->avail_iova = base + 16 * W_RING;
	r->used_iova = base + 0x2000;
	r->size = W_RING;
	r->features = IFCSW_HWQ_F_HDR_MRG;
	r->doorbell_fd = w->doorbell;
	r->irq_fd = -1;
	/* Binding writes nothing: a second call for the same queue is safe. */
	CHECK(split_drv_init(&w->r, W_RING, r->desc_iova, r->avail_iova,
			     r->used_iova, vq_drv_xlate_flat,
			     &wflat) == 0);
	w->buf_iova = base + 0x8000;
}

/* Make n TX chains (or RX buffers) available and ring the doorbell. */
static void
wq_post(uint16_t qid, unsigned int n)
{
	struct wq *w = &wq[qid];
	bool rx = (qid & 1) == 0;
	uint16_t heads[W_RING];
	uint64_t one = 1;
	unsigned int i;

	CHECK(n <= W_RING);
	/* Head == slot; all n published at once, as the device runs. */
	for (i = 0; i < n && i < W_RING; i++) {
		uint16_t id = (uint16_t)(w->avail_idx + i) % W_RING;
		struct vq_drv_seg seg = { w->buf_iova + id * 128,
			rx ? 128 : W_FRAME, rx ? VRING_DESC_F_WRITE : 0 };

		split_drv_write_chain(w->r.desc, W_RING, id, &seg, 1);
		heads[i] = id;
	}
	split_drv_publish_n(&w->r, heads, i);
	w->avail_idx += i;
	if (write(w->doorbell, &one, sizeof(one)) != sizeof(one))
		CHECK(0);
}

static uint16_t
wq_used(uint16_t qid)
{
	return split_drv_used_idx(&wq[qid].r);
}

/* Wait up to 2 s for TX queue qid to complete up to idx. */
static bool
wq_wait_used(uint16_t qid, uint16_t idx)
{
	struct timespec ts = { 0, 1000000 };
	int i;

	for (i = 0; i < 2000; i++) {
		if (wq_used(qid) == idx)
			return true;
		nanosleep(&ts, NULL);
	}
	return false;
}

static unsigned int
wire_take(uint16_t qp)
{
	void *m;
	unsigned int n = 0;

	while (rte_ring_dequeue(hw.to_wire[qp], &m) == 0) {
		rte_pktmbuf_free(m);
		n++;
	}
	return n;
}

/*
 * Every queue parked, with exact indices: a TX queue completed (and put
 * on the wire) each chain it fetched, and its guest-visible used index
 * is the register's. With still, no queue moved since la0.
 */
static void
check_parked(const uint16_t la0[W_NQ], bool still)
{
	uint16_t qid, la, lu;

	for (qid = 0; qid < W_NQ; qid++) {
		CHECK_EQ(hw.q[qid].state, IFCSW_HWQ_STOPPED);
		CHECK_EQ(ifcsw_hw_queue_stop(&hw, qid, &la, &lu), 0);
		CHECK_EQ(la, lu);
		CHECK_EQ(wq_used(qid), lu);
		if (still)
			CHECK_EQ(lu, la0[qid]);
		if (qid & 1)
			CHECK_EQ(wire_take(qid / 2), (uint16_t)(lu - la0[qid]));
	}
}

static void
whole_stop_start(void)
{
	struct ifcsw_hwq_regs r, before;
	uint16_t la0[W_NQ] = { 0 }, qid, la, lu;
	struct timespec ts = { 0, 20000000 };

	CHECK_EQ(ifcsw_hw_queue_start(&hw, 1), -EPERM);
	CHECK_EQ(ifcsw_hw_dev_start(&hw, 0xf), 0);
	for (qid = 0; qid < W_NQ; qid++)
		CHECK_EQ(hw.q[qid].state, IFCSW_HWQ_RUNNING);
	CHECK_EQ(hw.ctl_stats.dev_starts, 1);
	CHECK_EQ(ifcsw_hw_dev_start(&hw, 0xf), -EBUSY);

	/* Running: registers and per-queue control are the device's. */
	before = hw.q[3].regs;
	wq_regs(3, &r);
	r.last_avail_idx = 77;
	CHECK_EQ(ifcsw_hw_queue_regs_write(&hw, 3, &r), -EBUSY);
	CHECK_EQ(hw.ctl_stats.regs_refused, 1);
	CHECK_EQ(hw.q[3].regs.last_avail_idx, before.last_avail_idx);
	CHECK_EQ(ifcsw_hw_queue_stop(&hw, 3, &la, &lu), -EPERM);
	CHECK_EQ(hw.q[3].state, IFCSW_HWQ_RUNNING);

	/* Stop with TX in full swing: wherever it was, it is exact. */
	wq_post(1, 200);
	wq_post(3, 200);
	CHECK_EQ(ifcsw_hw_dev_stop(&hw), 0);
	CHECK_EQ(hw.ctl_stats.dev_stops, 1);
	CHECK_EQ(hw.ctl_stats.dev_parked, W_NQ);
	check_parked(la0, false);
	for (qid = 0; qid < W_NQ; qid++)
		la0[qid] = hw.q[qid].regs.last_used_idx;
	/* Parked: doorbells and time move nothing. */
	wq_post(1, 10);
	wq_post(3, 10);
	nanosleep(&ts, NULL);
	check_parked(la0, true);
	CHECK_EQ(ifcsw_hw_dev_stop(&hw), 0);	/* idempotent */
	CHECK_EQ(hw.ctl_stats.dev_stops, 1);

	/* Stopped: registers may change. */
	r = hw.q[0].regs;
	CHECK_EQ(ifcsw_hw_queue_regs_write(&hw, 0, &r), 0);
	CHECK_EQ(hw.ctl_stats.regs_refused, 1);

	/* Only the runnable queues start: 1 runs dry, 3 stays parked. */
	CHECK_EQ(ifcsw_hw_dev_start(&hw, 1u << 1), 0);
	CHECK_EQ(hw.q[1].state, IFCSW_HWQ_RUNNING);
	CHECK_EQ(hw.q[0].state, IFCSW_HWQ_STOPPED);
	CHECK_EQ(hw.q[2].state, IFCSW_HWQ_STOPPED);
	CHECK_EQ(hw.q[3].state, IFCSW_HWQ_STOPPED);
	CHECK(wq_wait_used(1, wq[1].avail_idx));
	CHECK_EQ(hw.q[3].regs.last_used_idx, la0[3]);
	CHECK_EQ(ifcsw_hw_dev_stop(&hw), 0);
	CHECK_EQ(hw.ctl_stats.dev_stops, 2);
	CHECK_EQ(hw.ctl_stats.dev_parked, W_NQ + 1);
	CHECK_EQ(hw.ctl_stats.dev_starts, 2);
	/* An empty mask leaves the device stopped. */
	CHECK_EQ(ifcsw_hw_dev_start(&hw, 0), 0);
	CHECK(!hw.dev_running);
	wire_take(0);
	wire_take(1);
}

/*
 * A queue whose stop is announced gets no new burst (its doorbell and
 * avail entries wait), the others run on; a cancel gives it back, and
 * a device stop withdraws every request it covered.
 */
static void
stop_request(void)
{
	struct timespec ts = { 0, 20000000 };
	uint16_t u1;

	wire_take(0);
	wire_take(1);
	CHECK_EQ(ifcsw_hw_dev_start(&hw, (1u << 1) | (1u << 3)), 0);
	CHECK(wq_wait_used(1, wq[1].avail_idx));
	CHECK(wq_wait_used(3, wq[3].avail_idx));
	u1 = wq_used(1);
	ifcsw_hw_stop_request(&hw, 1u << 1);
	CHECK_EQ(hw.stop_pending, 1);
	wq_post(1, 10);
	wq_post(3, 10);
	CHECK(wq_wait_used(3, wq[3].avail_idx));
	nanosleep(&ts, NULL);
	CHECK_EQ(wq_used(1), u1);
	CHECK_EQ(hw.q[1].state, IFCSW_HWQ_RUNNING);
	ifcsw_hw_stop_cancel(&hw, 1u << 1);
	CHECK_EQ(hw.stop_pending, 0);
	CHECK(wq_wait_used(1, wq[1].avail_idx));

	/* The stop announces all queues and leaves no request behind. */
	ifcsw_hw_stop_request(&hw, 1u << 3);
	CHECK_EQ(ifcsw_hw_dev_stop(&hw), 0);
	CHECK_EQ(hw.stop_pending, 0);
	CHECK(!hw.q[1].stop_req && !hw.q[3].stop_req);
	wire_take(0);
	wire_take(1);
}

void
test_wholedev(void)
{
	struct ifcsw_hw_conf conf = {
		.name = "wholedev", .nb_queue_pairs = 2, .cpu = -1,
		.qctl = IFCSW_QCTL_DEVICE,
	};
	struct ifcsw_hwq_regs r;
	uint16_t qid;

	wmem = calloc(1, W_SIZE);
	wflat = (struct vq_drv_flat){ W_IOVA, W_SIZE, wmem };
	conf.mp = rte_pktmbuf_pool_create("wd_mp", 1023, 0, 0,
					  RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	CHECK(wmem != NULL && conf.mp != NULL);
	if (wmem == NULL || conf.mp == NULL)
		return;
	CHECK_EQ(ifcsw_hw_init(&hw, &conf), 0);
	CHECK_EQ(ifcsw_dma_map(&hw.dma, W_IOVA, W_SIZE, wmem,
			       IFCSW_DMA_READ | IFCSW_DMA_WRITE), 0);
	for (qid = 0; qid < W_NQ; qid++) {
		wq[qid].doorbell = eventfd(0, EFD_NONBLOCK);
		wq_regs(qid, &r);
		CHECK_EQ(ifcsw_hw_queue_regs_write(&hw, qid, &r), 0);
	}
	/* RX buffers, which no wire frame will fill (no loopback). */
	wq_post(0, 16);
	wq_post(2, 16);
	whole_stop_start();
	stop_request();
	ifcsw_hw_fini(&hw);
	for (qid = 0; qid < W_NQ; qid++)
		close(wq[qid].doorbell);
	rte_mempool_free(conf.mp);
	free(wmem);
}
