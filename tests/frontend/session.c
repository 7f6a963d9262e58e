/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * One front-end session for the robustness tools (see session.h).
 */
#include <errno.h>
#include <string.h>

#include "session.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
#define FEAT(b) (1ull << (b))

uint64_t
fe_sess_features(bool packed)
{
	return FEAT(VU_F_VERSION_1) | FEAT(VU_F_MQ) |
	       FEAT(VU_F_PROTOCOL_FEATURES) | FEAT(VU_F_LOG_ALL) |
	       FEAT(VU_F_MRG_RXBUF) | FEAT(VU_F_EVENT_IDX) |
	       FEAT(VU_F_INDIRECT_DESC) |
	       (packed ? FEAT(VU_F_RING_PACKED) : 0);
}

int
fe_sess_connect(struct fe_sess *s, const char *socket,
		unsigned int region_mb, uint64_t want, int timeout_ms)
{
	uint64_t gpa[2] = { 0, 4 * GIB };
	uint64_t size[2] = { region_mb * MIB, region_mb * MIB };
	int ret;

	memset(s, 0, sizeof(*s));
	s->log.fd = -1;
	s->vd.c.fd = -1;
	ret = gm_create(&s->gm, gpa, size, 2);
	if (ret == 0)
		ret = dl_log_create(&s->log, s->gm.gpa_end);
	if (ret == 0)
		ret = vdev_connect(&s->vd, socket, want, timeout_ms);
	return ret;
}

int
fe_sess_vnet_cfg(struct fe_sess *s, struct vnet_cfg *vc)
{
	int ret;

	vc->mrg = vdev_has(&s->vd, VU_F_MRG_RXBUF);
	vc->version1 = vdev_has(&s->vd, VU_F_VERSION_1);
	vc->event_idx = vdev_has(&s->vd, VU_F_EVENT_IDX);
	vc->packed = vdev_ring_fmt(&s->vd) == VQ_PACKED;
	if (s->vd.queue_num < vc->nqp)
		return -ERANGE;
	ret = vnet_init(&s->vn, &s->gm, vc);
	if (ret < 0)
		return ret;
	s->vn_ready = true;
	s->nvq = vnet_vqs(&s->vn, s->vqs);
	return 0;
}

int
fe_sess_vnet(struct fe_sess *s, unsigned int nqp, uint16_t qsize,
	     uint64_t max_pkts)
{
	struct vnet_cfg vc = {
		.nqp = nqp, .qsize = qsize, .pkt_size = 256, .buf_size = 2048,
		.max_pkts = max_pkts,
	};

	return fe_sess_vnet_cfg(s, &vc);
}

void
fe_sess_close(struct fe_sess *s)
{
	vdev_close(&s->vd);
	if (s->vn_ready)
		vnet_free(&s->vn);
	s->vn_ready = false;
	dl_log_destroy(&s->log);
	gm_destroy(&s->gm);
}

int
fe_sess_traffic(struct fe_sess *s, uint64_t n, int timeout_ms,
		struct vnet_qstats *t)
{
	struct vnet_qstats tot;
	int ret;

	ret = vnet_run(&s->vn, n, timeout_ms);
	if (ret == 0)
		ret = vnet_drain(&s->vn, timeout_ms);
	if (ret < 0)
		return ret;
	vnet_totals(&s->vn, &tot);
	if (t != NULL)
		*t = tot;
	return tot.lost || tot.dup || tot.corrupt || tot.bad ? -EPROTO : 0;
}
