/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Minimal virtio-net driver (polling) for loopback tests. The ring
 * layout (split or packed) is the virtqueue's business: this file only
 * uses the virtq.h API.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pkt.h"
#include "vnet.h"

#define NET_HDR_LEGACY 10u
#define NET_HDR_MRG 12u
#define NUM_BUFFERS_OFF 10u

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Lay out one RX buffer: chunks of buf_size, split for indirect use. */
static int
rxbuf_alloc(struct vnet *vn, struct vnet_rxbuf *b)
{
	const struct vnet_cfg *c = &vn->cfg;
	uint32_t need = c->mrg ? c->buf_size : vn->hdr_len + c->pkt_size;
	unsigned int i, n = (need + c->buf_size - 1) / c->buf_size;
	uint64_t gpa = 0;

	if (n > VQ_MAX_SEGS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		gpa = gm_alloc(vn->gm, c->buf_size, 64);
		if (gpa == 0)
			return -ENOMEM;
		b->seg[i] = (struct vq_seg){ gpa, c->buf_size, true };
	}
	b->nseg = n;
	if (c->indirect && n == 1) {
		/* Header and data in separate descriptors of one table. */
		b->seg[1] = (struct vq_seg){ gpa + vn->hdr_len,
					     c->buf_size - vn->hdr_len, true };
		b->seg[0].len = vn->hdr_len;
		b->nseg = 2;
	}
	return 0;
}

static int
qp_alloc_rx(struct vnet *vn, struct vnet_qp *q)
{
	unsigned int i, descs;
	int ret;

	q->rxb = calloc(vn->cfg.qsize, sizeof(*q->rxb));
	if (q->rxb == NULL)
		return -ENOMEM;
	ret = rxbuf_alloc(vn, &q->rxb[0]);
	if (ret < 0)
		return ret;
	descs = vn->cfg.indirect ? 1 : q->rxb[0].nseg;
	q->nrxb = vn->cfg.qsize / descs;
	for (i = 1; i < q->nrxb; i++) {
		ret = rxbuf_alloc(vn, &q->rxb[i]);
		if (ret < 0)
			return ret;
	}
	for (i = 0; i < q->nrxb; i++) {
		ret = virtq_add(&q->rx, q->rxb[i].seg, q->rxb[i].nseg,
				vn->cfg.indirect, &q->rxb[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
qp_alloc_tx(struct vnet *vn, struct vnet_qp *q)
{
	unsigned int i;

	q->ntx = vn->cfg.qsize;
	q->tx_gpa = calloc(q->ntx, sizeof(*q->tx_gpa));
	q->tx_free = calloc(q->ntx, sizeof(*q->tx_free));
	if (q->tx_gpa == NULL || q->tx_free == NULL)
		return -ENOMEM;
	for (i = 0; i < q->ntx; i++) {
		q->tx_gpa[i] = gm_alloc(vn->gm, vn->hdr_len + vn->cfg.pkt_size,
					64);
		if (q->tx_gpa[i] == 0)
			return -ENOMEM;
		q->tx_free[i] = i;
	}
	q->ntx_free = q->ntx;
	return 0;
}

static int
qp_init(struct vnet *vn, unsigned int i)
{
	struct vnet_qp *q = &vn->qp[i];
	enum virtq_fmt fmt = vn->cfg.packed ? VQ_PACKED : VQ_SPLIT;
	int ret;

	q->qid = i;
	ret = virtq_init_fmt(&q->rx, vn->gm, 2 * i, vn->cfg.qsize,
			     vn->cfg.event_idx, fmt);
	if (ret == 0)
		ret = virtq_init_fmt(&q->tx, vn->gm, 2 * i + 1, vn->cfg.qsize,
				     vn->cfg.event_idx, fmt);
	if (ret < 0)
		return ret;
	q->seen = calloc(vn->cfg.max_pkts / 8 + 1, 1);
	q->scratch = malloc(vn->hdr_len + vn->cfg.pkt_size);
	if (q->seen == NULL || q->scratch == NULL)
		return -ENOMEM;
	ret = qp_alloc_rx(vn, q);
	if (ret == 0)
		ret = qp_alloc_tx(vn, q);
	return ret;
}

int
vnet_init(struct vnet *vn, struct guest_mem *gm, const struct vnet_cfg *cfg)
{
	unsigned int i;
	int ret;

	memset(vn, 0, sizeof(*vn));
	vn->cfg = *cfg;
	vn->gm = gm;
	vn->hdr_len = cfg->version1 || cfg->mrg ? NET_HDR_MRG : NET_HDR_LEGACY;
	if (cfg->nqp == 0 || cfg->nqp > VNET_MAX_QP ||
	    cfg->pkt_size < PKT_MIN_LEN || cfg->buf_size < 64 ||
	    cfg->buf_size <= vn->hdr_len || cfg->max_pkts == 0)
		return -EINVAL;
	vn->bufs_per_pkt = cfg->mrg ? (vn->hdr_len + cfg->pkt_size +
				       cfg->buf_size - 1) / cfg->buf_size : 1;
	for (i = 0; i < cfg->nqp; i++) {
		ret = qp_init(vn, i);
		if (ret < 0)
			return ret;
	}
	if (vn->qp[0].nrxb < vn->bufs_per_pkt + 1)
		return -EINVAL;
	return 0;
}

void
vnet_free(struct vnet *vn)
{
	unsigned int i;

	for (i = 0; i < vn->cfg.nqp; i++) {
		struct vnet_qp *q = &vn->qp[i];

		virtq_free(&q->rx);
		virtq_free(&q->tx);
		free(q->rxb);
		free(q->tx_gpa);
		free(q->tx_free);
		free(q->seen);
		free(q->scratch);
	}
	memset(vn, 0, sizeof(*vn));
}

int
vnet_rebind(struct vnet *vn, struct guest_mem *gm)
{
	unsigned int i;
	int ret = 0;

	vn->gm = gm;
	for (i = 0; i < vn->cfg.nqp && ret == 0; i++) {
		ret = virtq_rebind(&vn->qp[i].rx, gm);
		if (ret == 0)
			ret = virtq_rebind(&vn->qp[i].tx, gm);
	}
	return ret;
}

unsigned int
vnet_vqs(struct vnet *vn, struct virtq **out)
{
	unsigned int i;

	for (i = 0; i < vn->cfg.nqp; i++) {
		out[2 * i] = &vn->qp[i].rx;
		out[2 * i + 1] = &vn->qp[i].tx;
	}
	return 2 * vn->cfg.nqp;
}

void
vnet_publish(struct vnet *vn)
{
	unsigned int i;

	for (i = 0; i < vn->cfg.nqp; i++) {
		virtq_publish(&vn->qp[i].rx);
		virtq_publish(&vn->qp[i].tx);
	}
}

/* Record the pages covered by the first @len bytes of buffer @b. */
static void
mark_buf(const struct vnet_rxbuf *b, uint32_t len, struct dl_bitmap *bm)
{
	unsigned int i;
	uint32_t l;

	for (i = 0; i < b->nseg && len > 0; i++) {
		l = len < b->seg[i].len ? len : b->seg[i].len;
		dl_bitmap_set_range(bm, b->seg[i].gpa, l);
		len -= l;
	}
}

static void
track_rx(struct vnet *vn, struct vnet_qp *q, const struct vq_used *u)
{
	if (q->rx_skip > 0) {
		q->rx_skip--;
		return;
	}
	if (vn->trk_data == NULL)
		return;
	mark_buf(u->token, u->len, vn->trk_data);
	virtq_mark_used_write(&q->rx, u->slot, vn->trk_ring);
}

static void
track_tx(struct vnet *vn, struct vnet_qp *q, const struct vq_used *u)
{
	if (q->tx_skip > 0) {
		q->tx_skip--;
		return;
	}
	if (vn->trk_ring != NULL)
		virtq_mark_used_write(&q->tx, u->slot, vn->trk_ring);
}

static int
gather(struct vnet *vn, struct vnet_qp *q, const struct vnet_rxbuf *b,
       uint32_t len)
{
	uint32_t cap = vn->hdr_len + vn->cfg.pkt_size, l;
	unsigned int i;
	void *src;

	if (q->asm_len + len > cap)
		return -EMSGSIZE;
	for (i = 0; i < b->nseg && len > 0; i++) {
		l = len < b->seg[i].len ? len : b->seg[i].len;
		src = gm_hva(vn->gm, b->seg[i].gpa, l);
		memcpy(q->scratch + q->asm_len, src, l);
		q->asm_len += l;
		len -= l;
	}
	return len == 0 ? 0 : -EMSGSIZE;
}

static void
verify(struct vnet *vn, struct vnet_qp *q)
{
	uint64_t seq = 0;
	enum pkt_verdict v;

	v = pkt_check(q->scratch + vn->hdr_len, q->asm_len - vn->hdr_len,
		      vn->cfg.pkt_size, q->qid, &seq);
	if (v == PKT_OK && seq >= q->st.sent)
		v = PKT_BAD_HDR;
	if (v == PKT_BAD_HDR) {
		q->st.bad++;
	} else if (v == PKT_CORRUPT) {
		q->st.corrupt++;
	} else if (q->seen[seq / 8] & (1u << (seq % 8))) {
		q->st.dup++;
	} else {
		q->seen[seq / 8] |= 1u << (seq % 8);
		q->st.rx++;
	}
}

/* First buffer of a frame: how many buffers make it up. */
static uint16_t
frame_buffers(struct vnet *vn, const uint8_t *hdr)
{
	uint16_t nb;

	if (!vn->cfg.mrg)
		return 1;
	memcpy(&nb, hdr + NUM_BUFFERS_OFF, sizeof(nb));
	return nb;
}

static void
rx_elem(struct vnet *vn, struct vnet_qp *q, const struct vq_used *u)
{
	if (gather(vn, q, u->token, u->len) < 0) {
		q->st.bad++;
		q->asm_len = 0;
		q->asm_left = 0;
		return;
	}
	if (q->asm_left == 0) {
		q->asm_left = q->asm_len >= vn->hdr_len ?
			      frame_buffers(vn, q->scratch) : 0;
		if (q->asm_left == 0) {
			q->st.bad++;
			q->asm_len = 0;
			return;
		}
	}
	if (--q->asm_left > 0)
		return;
	verify(vn, q);
	q->asm_len = 0;
}

static int
poll_rx(struct vnet *vn, struct vnet_qp *q)
{
	struct vnet_rxbuf *b;
	struct vq_used u;
	int n = 0, ret;

	while ((ret = virtq_get_used(&q->rx, &u)) > 0) {
		b = u.token;
		track_rx(vn, q, &u);
		rx_elem(vn, q, &u);
		ret = virtq_add(&q->rx, b->seg, b->nseg, vn->cfg.indirect, b);
		if (ret < 0)
			return ret;
		n++;
	}
	virtq_publish(&q->rx);
	return ret < 0 ? ret : n;
}

static int
poll_tx(struct vnet *vn, struct vnet_qp *q)
{
	struct vq_used u;
	int n = 0, ret;

	while ((ret = virtq_get_used(&q->tx, &u)) > 0) {
		track_tx(vn, q, &u);
		q->tx_free[q->ntx_free++] = (uint64_t *)u.token - q->tx_gpa;
		n++;
	}
	return ret < 0 ? ret : n;
}

int
vnet_poll(struct vnet *vn)
{
	unsigned int i;
	int n = 0, ret;

	for (i = 0; i < vn->cfg.nqp; i++) {
		ret = poll_tx(vn, &vn->qp[i]);
		if (ret < 0)
			return ret;
		n += ret;
		ret = poll_rx(vn, &vn->qp[i]);
		if (ret < 0)
			return ret;
		n += ret;
	}
	return n;
}

static uint64_t
returned(const struct vnet_qp *q)
{
	return q->st.rx + q->st.dup + q->st.corrupt + q->st.bad;
}

static uint64_t
inflight(const struct vnet_qp *q)
{
	uint64_t r = returned(q);

	return q->st.sent > r ? q->st.sent - r : 0;
}

/* Never send more than the posted RX buffers can absorb. */
static bool
can_send(const struct vnet *vn, const struct vnet_qp *q)
{
	return q->ntx_free > 0 && q->tx.num_free > 0 &&
	       q->st.sent < vn->cfg.max_pkts &&
	       (vn->cfg.window == 0 || inflight(q) < vn->cfg.window) &&
	       (inflight(q) + 1) * vn->bufs_per_pkt <= q->nrxb;
}

static int
send_one(struct vnet *vn, struct vnet_qp *q)
{
	uint32_t hl = vn->hdr_len, len = vn->cfg.pkt_size;
	uint16_t slot = q->tx_free[--q->ntx_free];
	uint64_t gpa = q->tx_gpa[slot];
	uint8_t *p = gm_wptr(vn->gm, gpa, hl + len);
	struct vq_seg s[2] = {
		{ gpa, hl + len, false },
		{ gpa + hl, len, false },
	};

	memset(p, 0, hl);
	pkt_build(p + hl, len, q->qid, q->st.sent);
	if (vn->cfg.indirect)
		s[0].len = hl;
	q->st.sent++;
	return virtq_add(&q->tx, s, vn->cfg.indirect ? 2 : 1,
			 vn->cfg.indirect, &q->tx_gpa[slot]);
}

/* Send on every queue until @target frames; returns frames sent. */
static int
send_some(struct vnet *vn, const uint64_t *target)
{
	unsigned int i;
	int n = 0, ret;

	for (i = 0; i < vn->cfg.nqp; i++) {
		struct vnet_qp *q = &vn->qp[i];

		while (q->st.sent < target[i] && can_send(vn, q)) {
			ret = send_one(vn, q);
			if (ret < 0)
				return ret;
			n++;
		}
		virtq_publish(&q->tx);
	}
	return n;
}

int
vnet_run(struct vnet *vn, uint64_t n, int timeout_ms)
{
	uint64_t target[VNET_MAX_QP], last = now_ms();
	unsigned int i, done;
	int ret;

	for (i = 0; i < vn->cfg.nqp; i++) {
		target[i] = vn->qp[i].st.sent + n;
		if (target[i] > vn->cfg.max_pkts)
			target[i] = vn->cfg.max_pkts;
	}
	for (;;) {
		ret = vnet_poll(vn);
		if (ret > 0)
			last = now_ms();
		if (ret >= 0)
			ret = send_some(vn, target);
		if (ret < 0)
			return ret;
		if (ret > 0)
			last = now_ms();
		for (i = 0, done = 0; i < vn->cfg.nqp; i++)
			done += vn->qp[i].st.sent >= target[i];
		if (done == vn->cfg.nqp)
			return 0;
		if (now_ms() - last > (uint64_t)timeout_ms)
			return -ETIMEDOUT;
	}
}

int
vnet_drain(struct vnet *vn, int timeout_ms)
{
	uint64_t last = now_ms(), left;
	unsigned int i;
	int ret;

	for (;;) {
		ret = vnet_poll(vn);
		if (ret < 0)
			return ret;
		if (ret > 0)
			last = now_ms();
		for (i = 0, left = 0; i < vn->cfg.nqp; i++)
			left += inflight(&vn->qp[i]);
		if (left == 0)
			return 0;
		if (now_ms() - last > (uint64_t)timeout_ms)
			return -ETIMEDOUT;
	}
}

/* Complete frames sitting in the RX used ring, not yet consumed. */
static uint64_t
rx_pending_frames(struct vnet *vn, struct vnet_qp *q)
{
	uint16_t k, n = virtq_pending(&q->rx), left = q->asm_left;
	const struct vnet_rxbuf *b;
	struct vq_used u;
	uint64_t frames = 0;
	const uint8_t *h;

	for (k = 0; k < n; k++) {
		if (virtq_peek_used(&q->rx, k, &u) <= 0)
			break;
		if (left == 0) {
			b = u.token;
			h = gm_hva(vn->gm, b->seg[0].gpa, vn->hdr_len);
			left = frame_buffers(vn, h);
			if (left == 0)
				left = 1;
		}
		if (--left == 0)
			frames++;
	}
	return frames;
}

static bool
qp_quiet(struct vnet *vn, struct vnet_qp *q)
{
	return returned(q) + rx_pending_frames(vn, q) >= q->st.sent &&
	       q->ntx - q->ntx_free == virtq_pending(&q->tx);
}

int
vnet_quiesce(struct vnet *vn, int timeout_ms)
{
	uint64_t start = now_ms();
	unsigned int i, quiet;

	for (;;) {
		for (i = 0, quiet = 0; i < vn->cfg.nqp; i++)
			quiet += qp_quiet(vn, &vn->qp[i]);
		if (quiet == vn->cfg.nqp)
			return 0;
		if (now_ms() - start > (uint64_t)timeout_ms)
			return -ETIMEDOUT;
	}
}

void
vnet_track_start(struct vnet *vn, struct dl_bitmap *data,
		 struct dl_bitmap *ring)
{
	unsigned int i;

	for (i = 0; i < vn->cfg.nqp; i++) {
		vn->qp[i].rx_skip = virtq_pending(&vn->qp[i].rx);
		vn->qp[i].tx_skip = virtq_pending(&vn->qp[i].tx);
	}
	vn->trk_data = data;
	vn->trk_ring = ring;
}

static void
track_pending(struct vnet *vn, struct virtq *vq, uint16_t skip, bool rx)
{
	uint16_t k, n = virtq_pending(vq);
	struct vq_used u;

	for (k = skip; k < n; k++) {
		if (virtq_peek_used(vq, k, &u) <= 0)
			break;
		if (rx)
			mark_buf(u.token, u.len, vn->trk_data);
		virtq_mark_used_write(vq, u.slot, vn->trk_ring);
	}
}

void
vnet_track_stop(struct vnet *vn)
{
	unsigned int i;

	if (vn->trk_data == NULL)
		return;
	for (i = 0; i < vn->cfg.nqp; i++) {
		track_pending(vn, &vn->qp[i].rx, vn->qp[i].rx_skip, true);
		track_pending(vn, &vn->qp[i].tx, vn->qp[i].tx_skip, false);
		vn->qp[i].rx_skip = vn->qp[i].tx_skip = 0;
	}
	vn->trk_data = NULL;
	vn->trk_ring = NULL;
}

void
vnet_totals(struct vnet *vn, struct vnet_qstats *tot)
{
	unsigned int i;

	memset(tot, 0, sizeof(*tot));
	for (i = 0; i < vn->cfg.nqp; i++) {
		struct vnet_qstats *s = &vn->qp[i].st;

		s->lost = s->sent > s->rx ? s->sent - s->rx : 0;
		tot->sent += s->sent;
		tot->rx += s->rx;
		tot->dup += s->dup;
		tot->corrupt += s->corrupt;
		tot->bad += s->bad;
		tot->lost += s->lost;
	}
}
