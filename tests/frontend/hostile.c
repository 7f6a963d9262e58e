/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile guest behaviour (see hostile.h). Each corruption is one
 * avail entry published with a release store and a kick, so the device
 * or the relay meets it on its next pass.
 */

#include <errno.h>
#include <string.h>

#include "hostile.h"

static const char *const kind_names[VFH_NKINDS] = {
	[VFH_HEAD_OOB] = "head-oob",
	[VFH_NEXT_OOB] = "next-oob",
	[VFH_LOOP] = "loop",
	[VFH_INDIRECT_LEN] = "indirect-len",
	[VFH_INDIRECT_SELF] = "indirect-self",
	[VFH_BUF_OOB] = "buf-oob",
	[VFH_BUF_GAP] = "buf-gap",
	[VFH_IDX_JUMP] = "idx-jump",
	[VFH_USED_FLAGS] = "used-flags",
};

int
vfh_kind_parse(const char *name)
{
	int k;

	for (k = 0; k < VFH_NKINDS; k++)
		if (strcmp(name, kind_names[k]) == 0)
			return k;
	return -1;
}

const char *
vfh_kind_name(enum vfh_kind k)
{
	return k < VFH_NKINDS ? kind_names[k] : "?";
}

static void
set_desc(struct virtq *vq, uint16_t i, uint64_t addr, uint32_t len,
	 uint16_t flags, uint16_t next)
{
	vq->desc[i] = (struct vring_desc){ .addr = addr, .len = len,
					   .flags = flags, .next = next };
	gm_mark(vq->gm, vq->desc_gpa + i * sizeof(struct vring_desc),
		sizeof(struct vring_desc));
}

/* A small valid buffer in guest RAM, for the parts of a chain that are fine. */
static uint64_t
scratch_buf(struct guest_mem *gm)
{
	static uint64_t gpa;

	if (gpa == 0)
		gpa = gm_alloc(gm, 4096, 4096);
	return gpa;
}

/*
 * A 16-byte indirect table whose only entry is an indirect descriptor
 * pointing at the table itself, in the split or the packed layout.
 * Returns its GPA or 0.
 */
static uint64_t
self_table(struct guest_mem *gm, bool packed)
{
	uint64_t tbl = gm_alloc(gm, 64, 16);
	void *t = tbl ? gm_wptr(gm, tbl, 16) : NULL;

	if (t == NULL)
		return 0;
	if (packed)
		*(struct vring_packed_desc *)t = (struct vring_packed_desc){
			.addr = tbl, .len = 16, .flags = VRING_DESC_F_INDIRECT };
	else
		*(struct vring_desc *)t = (struct vring_desc){
			.addr = tbl, .len = 16, .flags = VRING_DESC_F_INDIRECT };
	return tbl;
}

/* Fill descriptors 0..2 (and maybe a table) for kind; return the head. */
static int
build_chain(struct virtq *vq, struct guest_mem *gm, enum vfh_kind kind)
{
	const struct gm_region *last = &gm->r[gm->nr - 1];
	const struct gm_region *first = &gm->r[0];
	uint64_t buf = scratch_buf(gm), tbl;

	if (buf == 0)
		return -ENOMEM;
	switch (kind) {
	case VFH_HEAD_OOB:
		return vq->size + 3;
	case VFH_NEXT_OOB:
		set_desc(vq, 0, buf, 64, VRING_DESC_F_NEXT, vq->size + 7);
		return 0;
	case VFH_LOOP:
		set_desc(vq, 0, buf, 64, VRING_DESC_F_NEXT, 1);
		set_desc(vq, 1, buf + 64, 64, VRING_DESC_F_NEXT, 0);
		return 0;
	case VFH_INDIRECT_LEN:
		set_desc(vq, 0, buf, 17, VRING_DESC_F_INDIRECT, 0);
		return 0;
	case VFH_INDIRECT_SELF:
		tbl = self_table(gm, false);
		if (tbl == 0)
			return -ENOMEM;
		set_desc(vq, 0, tbl, 16, VRING_DESC_F_INDIRECT, 0);
		return 0;
	case VFH_BUF_OOB:
		/* Between the regions: the hole below high RAM. */
		set_desc(vq, 0, first->gpa + first->size + (1ULL << 30), 256,
			 0, 0);
		return 0;
	case VFH_BUF_GAP:
		/* Starts in the last page of RAM and runs off its end. */
		set_desc(vq, 0, last->gpa + last->size - 512, 4096, 0, 0);
		return 0;
	default:
		set_desc(vq, 0, buf, 64, 0, 0);
		return 0;
	}
}

static void
publish_one(struct virtq *vq, uint16_t head, uint16_t jump)
{
	uint16_t slot = vq->avail_idx & (vq->size - 1);

	vq->avail->ring[slot] = head;
	gm_mark(vq->gm, vq->avail_gpa + 4 + 2 * slot, 2);
	vq->avail_idx += 1 + jump;
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	gm_mark(vq->gm, vq->avail_gpa + 2, 2);
	virtq_notify(vq);
}

/*
 * Packed ring: the hostile buffer goes into the slots at the driver's
 * avail position, every descriptor but the first with its flags, then
 * the first one's flags with a release store (virtio 2.8 "Supplying
 * Buffers to The Device / Updating flags"), as a real driver would: the
 * device meets a well-published but malformed buffer.
 */
static void
packed_post(struct virtq *vq, const struct vring_packed_desc *d,
	    unsigned int n)
{
	uint16_t slot = vq->avail_idx, head = vq->avail_idx, f, hf = 0;
	bool wrap = vq->avail_wrap;
	unsigned int i;

	/* Buffers added before must reach the device first. */
	virtq_publish(vq);
	for (i = 0; i < n; i++) {
		f = d[i].flags | (wrap ? 1u << VRING_PACKED_DESC_F_AVAIL :
				  1u << VRING_PACKED_DESC_F_USED);
		gm_mark(vq->gm, vq->desc_gpa + slot * sizeof(*d), sizeof(*d));
		vq->pdesc[slot].addr = d[i].addr;
		vq->pdesc[slot].len = d[i].len;
		vq->pdesc[slot].id = d[i].id;
		if (i == 0)
			hf = f;	/* the head is made available last */
		else
			vq->pdesc[slot].flags = f;
		if (++slot == vq->size) {
			slot = 0;
			wrap = !wrap;
		}
	}
	__atomic_store_n(&vq->pdesc[head].flags, hf, __ATOMIC_RELEASE);
	vq->avail_idx = slot;
	vq->avail_wrap = wrap;
	vq->num_free -= n;
	virtq_notify(vq);
}

/*
 * Packed counterparts of the split kinds: the same attack where the
 * layout has it (bad buffers, bad indirect tables, a device-owned field
 * scribbled on); a buffer ID out of range for HEAD_OOB; a chain whose
 * NEXT runs into a slot that is not available for NEXT_OOB. A packed
 * chain cannot loop nor the avail index jump (there is none): -ENOTSUP.
 */
static int
packed_corrupt(struct virtq *vq, struct guest_mem *gm, enum vfh_kind kind)
{
	const struct gm_region *last = &gm->r[gm->nr - 1];
	const struct gm_region *first = &gm->r[0];
	struct vring_packed_desc d = { .addr = scratch_buf(gm), .len = 64 };
	uint64_t tbl;

	if (d.addr == 0)
		return -ENOMEM;
	switch (kind) {
	case VFH_HEAD_OOB:
		d.id = vq->size + 3;
		break;
	case VFH_NEXT_OOB:
		d.flags = VRING_DESC_F_NEXT;
		break;
	case VFH_INDIRECT_LEN:
		d.len = 17;
		d.flags = VRING_DESC_F_INDIRECT;
		break;
	case VFH_INDIRECT_SELF:
		tbl = self_table(gm, true);
		if (tbl == 0)
			return -ENOMEM;
		d = (struct vring_packed_desc){ .addr = tbl, .len = 16,
						.flags = VRING_DESC_F_INDIRECT };
		break;
	case VFH_BUF_OOB:
		d.addr = first->gpa + first->size + (1ULL << 30);
		d.len = 256;
		break;
	case VFH_BUF_GAP:
		d.addr = last->gpa + last->size - 512;
		d.len = 4096;
		break;
	case VFH_USED_FLAGS:
		/* The device owns its event suppression area. */
		__atomic_fetch_xor(&vq->dev_evt->flags, 0xffff,
				   __ATOMIC_RELAXED);
		virtq_notify(vq);
		return 0;
	default:
		return -ENOTSUP;
	}
	packed_post(vq, &d, 1);
	return 0;
}

int
vfh_corrupt(struct virtq *vq, struct guest_mem *gm, enum vfh_kind kind)
{
	int head;

	if (vq->packed)
		return packed_corrupt(vq, gm, kind);

	if (kind == VFH_USED_FLAGS) {
		/* The device owns used->flags; flip every bit it could use. */
		__atomic_fetch_xor(&vq->used->flags, 0xffff, __ATOMIC_RELAXED);
		virtq_notify(vq);
		return 0;
	}
	head = build_chain(vq, gm, kind);
	if (head < 0)
		return head;
	publish_one(vq, head, kind == VFH_IDX_JUMP ? vq->size + 5 : 0);
	return 0;
}

int
vfh_replace_log(struct vdev *vd, struct dl_log *log)
{
	struct dl_log nl = { .fd = -1 };
	uint64_t w;
	size_t i;
	int ret;

	ret = dl_log_create(&nl, log->nwords * 64 * 4096);
	if (ret < 0)
		return ret;
	ret = vu_set_log_base(&vd->c, nl.fd, nl.mmap_size, 0);
	if (ret < 0) {
		dl_log_destroy(&nl);
		return ret;
	}
	/*
	 * The back-end acked: it writes only the new log now. Bits that
	 * landed in the old one before are carried over, so a reader of
	 * the new log misses nothing.
	 */
	for (i = 0; i < log->nwords && i < nl.nwords; i++) {
		w = __atomic_exchange_n(&log->words[i], 0, __ATOMIC_ACQ_REL);
		if (w != 0)
			__atomic_fetch_or(&nl.words[i], w, __ATOMIC_RELEASE);
	}
	dl_log_destroy(log);
	*log = nl;
	return 0;
}

const char *
vfh_log_kind_name(enum vfh_log_kind k)
{
	static const char *const n[VFH_LOG_NKINDS] = {
		[VFH_LOG_SIZE0] = "size0", [VFH_LOG_NOFD] = "nofd",
		[VFH_LOG_TWOFDS] = "twofds",
	};

	return (unsigned int)k < VFH_LOG_NKINDS ? n[k] : "?";
}

int
vfh_bad_log_base(struct vdev *vd, const struct dl_log *log,
		 enum vfh_log_kind kind)
{
	struct { uint64_t size, offset; } p = { log->mmap_size, 0 };
	int fds[2] = { log->fd, log->fd };
	unsigned int nfds = 1;
	int ret;

	if (!vu_has_pf(&vd->c, VU_PF_REPLY_ACK))
		return -ENOTSUP;
	if (kind == VFH_LOG_SIZE0)
		p.size = 0;
	else if (kind == VFH_LOG_NOFD)
		nfds = 0;
	else
		nfds = 2;
	ret = vu_send_raw(&vd->c, VU_SET_LOG_BASE,
			  VU_FLAG_VERSION | VU_FLAG_NEED_REPLY, &p, sizeof(p),
			  fds, nfds);
	if (ret < 0)
		return ret;
	switch (vu_recv_reply_timeout(&vd->c, VU_SET_LOG_BASE, 5000, NULL)) {
	case VU_REPLY_NACK:
		return 0;
	case VU_REPLY_ACK:
		return -EPROTO;
	case VU_REPLY_CLOSED:
		return -ECONNRESET;
	case VU_REPLY_NONE:
		return -ETIMEDOUT;
	default:
		return -EIO;
	}
}
