/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Pre-copy live migration simulator.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostile.h"
#include "migrate.h"

int
mig_init(struct mig_ctx *m, const struct mig_cfg *cfg, struct vdev *vd,
	 struct vnet *vn, struct guest_mem *gm)
{
	uint64_t end = gm->gpa_end;
	int ret;

	memset(m, 0, sizeof(*m));
	m->log.fd = -1;
	m->cfg = *cfg;
	m->vd = vd;
	m->vn = vn;
	m->gm = gm;
	m->nvq = vnet_vqs(vn, m->vqs);
	ret = dl_log_create(&m->log, end);
	if (ret == 0)
		ret = gm_image_create(&m->img, gm);
	if (ret == 0)
		ret = dl_bitmap_init(&m->round, end);
	if (ret == 0)
		ret = dl_bitmap_init(&m->logged, end);
	if (ret == 0)
		ret = dl_bitmap_init(&m->trk_data, end);
	if (ret == 0)
		ret = dl_bitmap_init(&m->trk_ring, end);
	return ret;
}

void
mig_free(struct mig_ctx *m)
{
	dl_log_destroy(&m->log);
	gm_image_free(&m->img);
	dl_bitmap_free(&m->round);
	dl_bitmap_free(&m->logged);
	dl_bitmap_free(&m->trk_data);
	dl_bitmap_free(&m->trk_ring);
}

static int
log_on(struct mig_ctx *m)
{
	memset(m->log.words, 0, m->log.nwords * 8);
	dl_bitmap_clear(&m->logged);
	dl_bitmap_clear(&m->trk_data);
	dl_bitmap_clear(&m->trk_ring);
	if (!m->cfg.no_log) {
		int ret = vdev_log_start(m->vd, &m->log, m->vqs, m->nvq);

		if (ret < 0)
			return ret;
	}
	/* LOG_ALL is acked: from here every device write must be logged. */
	vnet_track_start(m->vn, &m->trk_data, &m->trk_ring);
	return 0;
}

/* One dirty pass: read+clear both logs, copy the union. */
static uint64_t
sync_dirty(struct mig_ctx *m, uint64_t *dev, uint64_t *drv)
{
	struct dl_bitmap *dd = &m->gm->drv_dirty;
	uint64_t n;

	dl_bitmap_clear(&m->round);
	*dev = dl_log_read_clear(&m->log, &m->round);
	dl_bitmap_or(&m->logged, &m->round);
	*drv = dl_bitmap_count(dd);
	dl_bitmap_or(&m->round, dd);
	dl_bitmap_clear(dd);
	n = gm_image_copy_pages(&m->img, m->gm, &m->round);
	return n;
}

/* Rejected log replacements, with traffic between them. */
static int
bad_log_bases(struct mig_ctx *m)
{
	int k, ret;

	for (k = 0; k < VFH_LOG_NKINDS; k++) {
		ret = vfh_bad_log_base(m->vd, &m->log, k);
		if (ret < 0) {
			printf("  bad SET_LOG_BASE (%s): %s\n",
			       vfh_log_kind_name(k), strerror(-ret));
			return ret;
		}
		ret = vnet_run(m->vn, m->cfg.pkts_per_round / 4 + 1,
			       m->cfg.timeout_ms);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int
dirty_rounds(struct mig_ctx *m, struct mig_result *res)
{
	uint64_t dev, drv, n;
	unsigned int r;
	int ret;

	dl_bitmap_clear(&m->gm->drv_dirty);
	n = gm_image_copy_all(&m->img, m->gm);
	res->copied += n;
	printf("  round 0: full copy %" PRIu64 " pages\n", n);
	for (r = 1; r <= m->cfg.rounds; r++) {
		ret = vnet_run(m->vn, m->cfg.pkts_per_round,
			       m->cfg.timeout_ms);
		if (ret < 0)
			return ret;
		if (r == m->cfg.bad_log_round && !m->cfg.no_log) {
			ret = bad_log_bases(m);
			if (ret < 0)
				return ret;
			printf("  round %u: %d bad SET_LOG_BASE rejected\n", r,
			       VFH_LOG_NKINDS);
		}
		if (r == m->cfg.replace_log_round && !m->cfg.no_log) {
			ret = vfh_replace_log(m->vd, &m->log);
			if (ret < 0)
				return ret;
			printf("  round %u: dirty log replaced\n", r);
		}
		n = sync_dirty(m, &dev, &drv);
		res->copied += n;
		printf("  round %u: device-logged %" PRIu64
		       " driver-dirty %" PRIu64 " copied %" PRIu64 " pages\n",
		       r, dev, drv, n);
	}
	return 0;
}

/*
 * After quiesce the device has used everything it took, so its
 * last_avail (GET_VRING_BASE) must equal the used position the driver
 * sees in the ring. Both sides speak the vhost encoding: split, a free
 * running index; packed, slot | wrap counter << 15 (virtq_used_idx()).
 */
static void
check_indices(struct mig_ctx *m, struct mig_result *res)
{
	unsigned int i;
	uint16_t used;

	for (i = 0; i < m->nvq; i++) {
		used = virtq_used_idx(m->vqs[i]);
		if (used == (uint16_t)m->bases[i])
			continue;
		res->idx_bad++;
		printf("  vring %u: used idx %u != returned base %u\n",
		       m->vqs[i]->index, used, m->bases[i]);
	}
}

static void
precision(struct mig_ctx *m, struct mig_result *res)
{
	struct dl_bitmap *w = &m->trk_data;

	res->logged = dl_bitmap_count(&m->logged);
	res->wr_data = dl_bitmap_count(&m->trk_data);
	res->wr_ring = dl_bitmap_count(&m->trk_ring);
	dl_bitmap_or(w, &m->trk_ring);
	res->written = dl_bitmap_count(w);
	res->unlogged = dl_bitmap_count_andnot(w, &m->logged);
	if (res->unlogged != 0 && getenv("VUFE_DEBUG") != NULL) {
		uint64_t p, shown = 0;

		for (p = 0; p < w->npages && shown < 16; p++) {
			if (dl_bitmap_test(w, p) && !dl_bitmap_test(&m->logged, p)) {
				printf("  unlogged page 0x%" PRIx64 "%s\n", p << 12,
				       dl_bitmap_test(&m->trk_ring, p) ? " (ring)" : "");
				shown++;
			}
		}
	}
	res->precision = res->written ?
			 (double)res->logged / (double)res->written : 0.0;
}

static int
stop_and_finish(struct mig_ctx *m, struct mig_result *res)
{
	uint64_t dev, drv, n;
	int ret;

	/* vCPU stop: no new buffers; let the device finish what it has. */
	if (vnet_quiesce(m->vn, m->cfg.timeout_ms) < 0)
		res->quiesce_timeout = true;
	ret = vdev_stop(m->vd, m->vqs, m->nvq, m->bases);
	if (ret < 0)
		return ret;
	n = sync_dirty(m, &dev, &drv);
	res->copied += n;
	printf("  final: device-logged %" PRIu64 " driver-dirty %" PRIu64
	       " copied %" PRIu64 " pages\n", dev, drv, n);
	vnet_track_stop(m->vn);
	res->mismatches = gm_image_compare(&m->img, m->gm, NULL);
	check_indices(m, res);
	precision(m, res);
	return 0;
}

int
mig_precopy(struct mig_ctx *m, bool cancel, struct mig_result *res)
{
	uint64_t dev, drv;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = log_on(m);
	if (ret == 0)
		ret = dirty_rounds(m, res);
	if (ret < 0)
		return ret;
	if (!cancel)
		return stop_and_finish(m, res);
	vnet_track_stop(m->vn);
	precision(m, res);
	if (!m->cfg.no_log)
		ret = vdev_log_stop(m->vd, m->vqs, m->nvq);
	sync_dirty(m, &dev, &drv);
	printf("  cancelled: logging off\n");
	return ret;
}

int
mig_dest_start(struct mig_ctx *m, struct vdev *dst, struct guest_mem *dst_gm)
{
	unsigned int i;
	int ret;

	ret = gm_create_from_image(dst_gm, &m->img, m->gm);
	if (ret < 0)
		return ret;
	ret = vnet_rebind(m->vn, dst_gm);
	if (ret < 0)
		return ret;
	ret = vdev_start(dst, dst_gm, m->vqs, m->nvq, m->bases);
	if (ret < 0)
		return ret;
	/* Publish anything pending and kick the new device once. */
	vnet_publish(m->vn);
	for (i = 0; i < m->nvq; i++)
		virtq_notify(m->vqs[i]);
	return 0;
}

void
mig_print(const char *tag, const struct mig_result *r)
{
	printf("%s: copied %" PRIu64 " pages, mismatches %" PRIu64
	       ", ring-index errors %u%s\n", tag, r->copied, r->mismatches,
	       r->idx_bad, r->quiesce_timeout ? ", quiesce TIMEOUT" : "");
	printf("%s: log precision %.3f = logged %" PRIu64
	       " / device-written %" PRIu64 " pages (rx data %" PRIu64
	       " + used rings %" PRIu64 "); written-but-unlogged %" PRIu64
	       "\n", tag, r->precision, r->logged, r->written, r->wr_data,
	       r->wr_ring, r->unlogged);
}
