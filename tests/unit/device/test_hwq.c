/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Queue start checks each ring's whole extent through the DMA map, for
 * the queue's size and EVENT_IDX register (issue #11, defect 1): the
 * datapath then indexes the rings with the size, and touches the event
 * words after the avail and used rings only with EVENT_IDX.
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <linux/virtio_ring.h>

#include "vdpa_relay.h"
#include "ifcvf_sw_hw.h"
#include "test_common.h"

#define M_IOVA	0x10000000ull
#define M_SIZE	(64u << 10)
#define M_END	(M_IOVA + M_SIZE)
#define TXQ	1	/* odd: TX, which does nothing on an empty ring */

static struct ifcsw_hw hw;

/* Program TXQ and try to start it. @return what start returned. */
static int
start(uint16_t size, uint32_t features, uint64_t avail, uint64_t used)
{
	struct ifcsw_hwq *q = &hw.q[TXQ];
	int ret;

	q->regs.desc_iova = M_IOVA;
	q->regs.avail_iova = avail;
	q->regs.used_iova = used;
	q->regs.size = size;
	q->regs.features = features;
	q->regs.last_avail_idx = 0;
	q->regs.last_used_idx = 0;
	ret = ifcsw_hw_queue_start(&hw, TXQ);
	if (ret == 0)
		CHECK_EQ(q->state, IFCSW_HWQ_RUNNING);
	ifcsw_hw_queue_stop(&hw, TXQ, NULL, NULL);
	if (q->state == IFCSW_HWQ_FAULT)
		ifcsw_hw_queue_reset(&hw, TXQ);
	CHECK_EQ(q->state, IFCSW_HWQ_STOPPED);
	return ret;
}

void
test_hwq(void)
{
	struct ifcsw_hw_conf conf = {
		.name = "hwq", .nb_queue_pairs = 1, .loopback = true,
		.cpu = -1,
	};
	const uint64_t avail = M_IOVA + 0x1000;
	const uint64_t used = M_IOVA + 0x2000;
	uint64_t used_end = M_END - vrelay_split_used_len(16, false);
	uint64_t avail_end = M_END - vrelay_split_avail_len(16, false);
	uint8_t *mem = calloc(1, M_SIZE);
	int doorbell = eventfd(0, EFD_NONBLOCK);

	CHECK(mem != NULL && doorbell >= 0);
	CHECK_EQ(ifcsw_hw_init(&hw, &conf), 0);
	CHECK_EQ(ifcsw_dma_map(&hw.dma, M_IOVA, M_SIZE, mem,
			       IFCSW_DMA_READ | IFCSW_DMA_WRITE), 0);
	hw.q[TXQ].regs.doorbell_fd = doorbell;
	hw.q[TXQ].regs.irq_fd = -1;

	CHECK_EQ(start(16, 0, avail, used), 0);
	/* Used ring at the end of the mapping: fits for size 16 only. */
	CHECK_EQ(start(16, 0, avail, used_end), 0);
	CHECK_EQ(start(32768, 0, avail, used_end), -EFAULT);
	/* ... and without its avail_event word only. */
	CHECK_EQ(start(16, IFCSW_HWQ_F_EVENT_IDX, avail, used_end), -EFAULT);
	/* Avail ring likewise, with used_event. */
	CHECK_EQ(start(16, 0, avail_end, used), 0);
	CHECK_EQ(start(16, IFCSW_HWQ_F_EVENT_IDX, avail_end, used), -EFAULT);
	CHECK_EQ(start(16, IFCSW_HWQ_F_EVENT_IDX, avail_end - 2, used), 0);
	/* Descriptor table: 16 * 32768 bytes do not fit in 64 KiB. */
	CHECK_EQ(start(32768, 0, avail, used), -EFAULT);
	CHECK_EQ(start(2048, 0, M_IOVA + 0x8000, M_IOVA + 0x9100), 0);
	CHECK_EQ(start(24, 0, avail, used), -EINVAL);

	ifcsw_hw_fini(&hw);
	close(doorbell);
	free(mem);
}
