/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user device session (front-end side).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "vhost_dev.h"

#define WANT_PF ((1ull << VU_PF_MQ) | (1ull << VU_PF_LOG_SHMFD) | \
		 (1ull << VU_PF_REPLY_ACK))

bool
vdev_has(const struct vdev *vd, unsigned int bit)
{
	return (vd->features >> bit) & 1;
}

static int
negotiate_protocol(struct vdev *vd)
{
	uint64_t pf;
	int ret;

	ret = vu_get_u64(&vd->c, VU_GET_PROTOCOL_FEATURES, &pf);
	if (ret < 0)
		return ret;
	pf &= WANT_PF;
	ret = vu_set_u64(&vd->c, VU_SET_PROTOCOL_FEATURES, pf);
	if (ret < 0)
		return ret;
	/* Only from now on may replies be requested. */
	vd->c.protocol_features = pf;
	if (!(pf & (1ull << VU_PF_LOG_SHMFD)))
		fprintf(stderr, "vdev: back-end lacks LOG_SHMFD\n");
	return 0;
}

int
vdev_connect(struct vdev *vd, const char *path, uint64_t want,
	     int timeout_ms)
{
	int ret;

	memset(vd, 0, sizeof(*vd));
	vd->queue_num = 1;
	ret = vu_connect(&vd->c, path, timeout_ms);
	if (ret < 0)
		return ret;
	ret = vu_get_u64(&vd->c, VU_GET_FEATURES, &vd->offered);
	if (ret < 0)
		return ret;
	vd->features = vd->offered & want & ~(1ull << VU_F_LOG_ALL);
	if (vd->offered & (1ull << VU_F_PROTOCOL_FEATURES)) {
		vd->features |= 1ull << VU_F_PROTOCOL_FEATURES;
		ret = negotiate_protocol(vd);
		if (ret < 0)
			return ret;
	}
	if (vu_has_pf(&vd->c, VU_PF_MQ)) {
		ret = vu_get_u64(&vd->c, VU_GET_QUEUE_NUM, &vd->queue_num);
		if (ret < 0)
			return ret;
	}
	return vu_set_owner(&vd->c);
}

void
vdev_close(struct vdev *vd)
{
	vu_close(&vd->c);
}

static int
set_addr(struct vdev *vd, const struct virtq *vq, bool log)
{
	struct vq_ring_addr r;
	struct vu_vring_addr a;

	/*
	 * Packed (DPDK translate_ring_addresses()): desc is the descriptor
	 * ring, avail the driver event suppression area, used the device
	 * event suppression area, and used descriptors are logged at
	 * log_guest_addr + slot * 16, so the log base is the descriptor ring.
	 */
	virtq_ring_addr(vq, &r);
	a = (struct vu_vring_addr){
		.index = vq->index,
		.flags = log ? 1u << VU_VRING_F_LOG : 0,
		.desc_user_addr = (uintptr_t)r.desc,
		.used_user_addr = (uintptr_t)r.device,
		.avail_user_addr = (uintptr_t)r.driver,
		.log_guest_addr = r.log_gpa,
	};
	return vu_set_vring_addr(&vd->c, &a);
}

int
vdev_set_mem(struct vdev *vd, const struct guest_mem *gm)
{
	struct vu_mem_region r[GM_MAX_REGIONS];
	int fds[GM_MAX_REGIONS];
	unsigned int i;

	for (i = 0; i < gm->nr; i++) {
		r[i].guest_phys_addr = gm->r[i].gpa;
		r[i].memory_size = gm->r[i].size;
		r[i].userspace_addr = (uintptr_t)gm->r[i].hva;
		r[i].mmap_offset = 0;
		fds[i] = gm->r[i].fd;
	}
	return vu_set_mem_table(&vd->c, r, fds, gm->nr);
}

enum virtq_fmt
vdev_ring_fmt(const struct vdev *vd)
{
	return vdev_has(vd, VU_F_RING_PACKED) ? VQ_PACKED : VQ_SPLIT;
}

int
vdev_setup_ring(struct vdev *vd, const struct virtq *vq, uint32_t base)
{
	int ret;

	/* The device reads whichever layout VIRTIO_F_RING_PACKED says. */
	if (vq->packed != (vdev_ring_fmt(vd) == VQ_PACKED))
		return -EPROTO;
	ret = vu_set_vring_state(&vd->c, VU_SET_VRING_NUM, vq->index,
				 vq->size);
	if (ret == 0)
		ret = vu_set_vring_state(&vd->c, VU_SET_VRING_BASE, vq->index,
					 base);
	if (ret == 0)
		ret = set_addr(vd, vq, vd->logging);
	if (ret == 0)
		ret = vu_set_vring_fd(&vd->c, VU_SET_VRING_KICK, vq->index,
				      vq->kickfd);
	if (ret == 0)
		ret = vu_set_vring_fd(&vd->c, VU_SET_VRING_CALL, vq->index,
				      vq->callfd);
	return ret;
}

int
vdev_start(struct vdev *vd, const struct guest_mem *gm, struct virtq **vqs,
	   unsigned int n, const uint32_t *bases)
{
	unsigned int i;
	int ret;

	if (n > 2 * vd->queue_num)
		return -ERANGE;
	ret = vu_set_u64(&vd->c, VU_SET_FEATURES, vd->features);
	if (ret == 0)
		ret = vdev_set_mem(vd, gm);
	for (i = 0; i < n && ret == 0; i++)
		ret = vdev_setup_ring(vd, vqs[i], bases ? bases[i] :
				      virtq_initial_base(vqs[i]));
	if (!vdev_has(vd, VU_F_PROTOCOL_FEATURES))
		return ret;
	/* Rings start disabled when PROTOCOL_FEATURES is negotiated. */
	for (i = 0; i < n && ret == 0; i++)
		ret = vu_set_vring_state(&vd->c, VU_SET_VRING_ENABLE,
					 vqs[i]->index, 1);
	return ret;
}

static int
set_log_features(struct vdev *vd, struct virtq **vqs, unsigned int n,
		 bool on)
{
	uint64_t f = vd->features | (on ? 1ull << VU_F_LOG_ALL : 0);
	unsigned int i;
	int ret;

	ret = vu_set_u64(&vd->c, VU_SET_FEATURES, f);
	for (i = 0; i < n && ret == 0; i++)
		ret = set_addr(vd, vqs[i], on);
	if (ret == 0)
		vd->logging = on;
	return ret;
}

int
vdev_log_start(struct vdev *vd, const struct dl_log *log, struct virtq **vqs,
	       unsigned int n)
{
	int ret;

	if (!(vd->offered & (1ull << VU_F_LOG_ALL)))
		return -ENOTSUP;
	ret = vu_set_log_base(&vd->c, log->fd, log->mmap_size, 0);
	if (ret < 0)
		return ret;
	return set_log_features(vd, vqs, n, true);
}

int
vdev_log_stop(struct vdev *vd, struct virtq **vqs, unsigned int n)
{
	return set_log_features(vd, vqs, n, false);
}

int
vdev_stop(struct vdev *vd, struct virtq **vqs, unsigned int n,
	  uint32_t *bases)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n && ret == 0; i++)
		ret = vu_get_vring_base(&vd->c, vqs[i]->index, &bases[i]);
	return ret;
}
