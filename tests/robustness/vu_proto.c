/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vu-proto: protocol-level regression scenarios against a running
 * vdpa-lm, driven through the test front-end. Subcommands:
 *
 *   stale-size --socket S [--event-idx-late] [--log-first]
 *       queue 3 (TX of pair 1) gets SET_VRING_NUM 16 and a used ring in
 *       the last bytes of high RAM, SET_VRING_KICK, then SET_VRING_NUM
 *       32768 (the translated ring no longer fits), SET_VRING_CALL,
 *       SET_VRING_ENABLE; then dirty logging is turned on. Variant
 *       --event-idx-late: size stays 16, the used ring fits exactly
 *       without the 2 avail_event bytes, and EVENT_IDX is negotiated only
 *       after the ring was translated. PASS: queue 3's used idx never
 *       moves (the back-end must refuse to run a ring that does not fit
 *       guest memory). The shell checks vdpa-lm is alive and logged it.
 *       --log-first: pair 0 runs and LOG_ALL is on before queue 3 is
 *       set up, so the relay (policy auto) meets the ring at ENABLE.
 *   short-tx-header --socket S [--count N]
 *       N sessions: logging on (relay), 100 good frames, then one TX
 *       chain whose readable part is 8 bytes (< the 12-byte virtio-net
 *       header: the device faults the queue), then GET_VRING_BASE on
 *       every ring. PASS: the TX base is the device's index, between the
 *       used idx seen and the avail idx published.
 *   forged-used-idx --socket S
 *       a 1024-entry RX ring whose used->idx the guest set to the real
 *       value + 1 just before LOG_ALL (a forged in-flight window of a
 *       whole ring), every used entry holding an id no descriptor has.
 *       The shell counts the back-end's warnings.
 *   bad-log-repeat --socket S [--count N]
 *       logging on, then N SET_LOG_BASE messages the back-end rejects
 *       (size 0, no fd, two fds) with traffic between, then a valid
 *       replacement. PASS: every one rejected, the log in use still
 *       gets bits for the traffic after each, traffic intact. The
 *       shell counts vdpa-lm's fds and RSS around it.
 *   switch-fail --socket S
 *       for vdpa-lm run with VRELAY_FAULT_SWITCH=1: traffic, then
 *       SET_FEATURES|LOG_ALL with NEED_REPLY. PASS: the reply is a
 *       non-zero ack or the connection closes, and every page the device
 *       wrote after the reply is in the dirty log.
 *   fuzz --socket S --seed X --messages N [--bad-mmap-offset]
 *       stateful random protocol tester (vu_proto_fuzz.c).
 *
 * One summary line "vu-proto: PASS|FAIL ..." on stdout; exit 0 on PASS.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hostile.h"
#include "pkt.h"
#include "vu_proto.h"

#define TRAFFIC_MS 3000
#define FEAT(b) (1ull << (b))

static int
fail(const char *what, int err)
{
	printf("vu-proto: FAIL %s: %s\n", what,
	       strerror(err < 0 ? -err : err));
	return 1;
}

int
vp_traffic(struct fe_sess *s, uint64_t n)
{
	return fe_sess_traffic(s, n, TRAFFIC_MS, NULL);
}

enum vu_reply_kind
vp_set_features(struct fe_sess *s, uint64_t features)
{
	uint32_t fl = VU_FLAG_VERSION;
	bool ack = vu_has_pf(&s->vd.c, VU_PF_REPLY_ACK);

	if (ack)
		fl |= VU_FLAG_NEED_REPLY;
	if (vu_send_raw(&s->vd.c, VU_SET_FEATURES, fl, &features,
			sizeof(features), NULL, 0) < 0)
		return VU_REPLY_CLOSED;
	return ack ? vu_recv_reply_timeout(&s->vd.c, VU_SET_FEATURES,
					   VP_REPLY_MS, NULL) : VU_REPLY_ACK;
}

/* Open a session with @p nqp pairs started the usual way (vdev_start). */
static int
sess_start(struct fe_sess *s, const struct vp_opts *o, unsigned int nqp,
	   uint16_t qsize, uint64_t pkts)
{
	int ret;

	ret = fe_sess_connect(s, o->socket, o->region_mb,
			      fe_sess_features(false), VP_CONNECT_MS);
	if (ret == 0)
		ret = fe_sess_vnet(s, nqp, qsize, pkts);
	if (ret == 0)
		ret = vdev_start(&s->vd, &s->gm, s->vqs, s->nvq, NULL);
	if (ret == 0)
		vnet_publish(&s->vn);
	return ret;
}

/* ---- stale-size / event-idx-late ------------------------------------- */

/*
 * Outcome of one protocol step of a hostile sequence: a rejection
 * (-EIO, non-zero ack) is an acceptable answer and is counted; a closed
 * connection ends the sequence.
 */
static int
step(int ret, const char *what, unsigned int *rejected)
{
	if (ret == -EIO) {
		printf("vu-proto: %s rejected by the back-end\n", what);
		(*rejected)++;
		return 0;
	}
	if (ret < 0)
		printf("vu-proto: %s: %s\n", what, strerror(-ret));
	return ret;
}

/* Post @p n TX frames on @p vq without reading its used ring's tail. */
static int
post_tx(struct fe_sess *s, struct virtq *vq, unsigned int n, uint64_t seq)
{
	uint32_t hl = s->vn.hdr_len, len = 64;
	struct vq_seg seg;
	unsigned int i;
	uint8_t *p;
	int ret;

	for (i = 0; i < n; i++) {
		seg.gpa = gm_alloc(&s->gm, hl + len, 64);
		seg.len = hl + len;
		seg.write = false;
		p = gm_wptr(&s->gm, seg.gpa, hl + len);
		if (p == NULL)
			return -ENOMEM;
		memset(p, 0, hl);
		pkt_build(p + hl, len, vq->index / 2, seq + i);
		ret = virtq_add(vq, &seg, 1, false, p);
		if (ret < 0)
			return ret;
	}
	/*
	 * Publish and kick unconditionally: virtq_publish() would read
	 * avail_event, which may lie past the end of RAM on this ring.
	 */
	__atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
	gm_mark(&s->gm, vq->avail_gpa + 2, 2);
	virtq_notify(vq);
	return 0;
}

/* Wait a little for @p vq's used idx to move; returns the last value. */
static uint16_t
settle_used(const struct virtq *vq)
{
	uint16_t u = 0;
	unsigned int i;

	for (i = 0; i < 30; i++) {
		usleep(10000);
		u = virtq_used_idx(vq);
		if (u != 0)
			break;
	}
	return u;
}

/* SET_LOG_BASE, then SET_FEATURES | LOG_ALL with NEED_REPLY. */
static int
log_on(struct fe_sess *s, uint64_t f, enum vu_reply_kind *k,
       unsigned int *rej)
{
	int ret;

	ret = step(vu_set_log_base(&s->vd.c, s->log.fd, s->log.mmap_size, 0),
		   "SET_LOG_BASE", rej);
	if (ret < 0)
		return ret;
	*k = vp_set_features(s, f | FEAT(VU_F_LOG_ALL));
	printf("vu-proto: SET_FEATURES|LOG_ALL: %s\n", vu_reply_kind_name(*k));
	if (*k == VU_REPLY_NACK)
		(*rej)++;
	return *k == VU_REPLY_ACK || *k == VU_REPLY_NACK ? 0 : -ECONNRESET;
}

static int
cmd_stale_size(const struct vp_opts *o)
{
	const bool late = o->event_idx_late;
	/* Used ring: 4 + 8 * 16 bytes, plus avail_event with EVENT_IDX. */
	const uint64_t used_len = late ? 132 : 136;
	struct vu_vring_addr a;
	struct gm_region *hi;
	unsigned int rej = 0, i;
	enum vu_reply_kind k = VU_REPLY_NONE;
	uint64_t f0, f;
	uint16_t u1 = 0, u2 = 0;
	struct fe_sess s;
	struct virtq bad;
	int ret;

	memset(&bad, 0, sizeof(bad));
	bad.kickfd = bad.callfd = -1;
	ret = fe_sess_connect(&s, o->socket, o->region_mb,
			      fe_sess_features(false), VP_CONNECT_MS);
	if (ret == 0 && (!vdev_has(&s.vd, VU_F_EVENT_IDX) ||
			 s.vd.queue_num < 2 ||
			 !vu_has_pf(&s.vd.c, VU_PF_REPLY_ACK)))
		ret = -ENOTSUP;
	if (ret == 0)
		ret = fe_sess_vnet(&s, 1, 256, 1000);
	/* Queue 3, desc and avail where the allocator puts them... */
	if (ret == 0)
		ret = virtq_init(&bad, &s.gm, 3, 16, true);
	if (ret < 0)
		return fail("stale-size setup", ret);
	/* ...the used ring in the last bytes of high RAM. */
	hi = &s.gm.r[1];
	bad.used_gpa = hi->gpa + hi->size - used_len;
	bad.used = gm_hva(&s.gm, bad.used_gpa, used_len);
	f = s.vd.features;
	f0 = late ? f & ~FEAT(VU_F_EVENT_IDX) : f;
	a = (struct vu_vring_addr){
		.index = 3, .desc_user_addr = (uintptr_t)bad.desc,
		.used_user_addr = (uintptr_t)bad.used,
		.avail_user_addr = (uintptr_t)bad.avail,
		.log_guest_addr = bad.used_gpa,
	};
	ret = step(vu_set_u64(&s.vd.c, VU_SET_FEATURES, f0), "SET_FEATURES",
		   &rej);
	if (ret == 0)
		ret = step(vdev_set_mem(&s.vd, &s.gm), "SET_MEM_TABLE", &rej);
	/* --log-first: pair 0 runs and the relay is on before queue 3. */
	for (i = 0; i < s.nvq && ret == 0 && o->log_first; i++)
		ret = step(vdev_setup_ring(&s.vd, s.vqs[i], 0), "ring setup",
			   &rej);
	for (i = 0; i < s.nvq && ret == 0 && o->log_first; i++)
		ret = step(vu_set_vring_state(&s.vd.c, VU_SET_VRING_ENABLE,
					      i, 1), "SET_VRING_ENABLE", &rej);
	if (ret == 0 && o->log_first)
		ret = log_on(&s, f, &k, &rej);
	if (ret == 0)
		ret = step(vu_set_vring_state(&s.vd.c, VU_SET_VRING_NUM, 3, 16),
			   "SET_VRING_NUM 16", &rej);
	if (ret == 0)
		ret = step(vu_set_vring_state(&s.vd.c, VU_SET_VRING_BASE, 3, 0),
			   "SET_VRING_BASE", &rej);
	if (ret == 0)
		ret = step(vu_set_vring_addr(&s.vd.c, &a), "SET_VRING_ADDR",
			   &rej);
	if (ret == 0)
		ret = step(vu_set_vring_fd(&s.vd.c, VU_SET_VRING_KICK, 3,
					   bad.kickfd), "SET_VRING_KICK", &rej);
	if (ret == 0 && !late)
		ret = step(vu_set_vring_state(&s.vd.c, VU_SET_VRING_NUM, 3,
					      32768), "SET_VRING_NUM 32768",
			   &rej);
	if (ret == 0)
		ret = step(vu_set_vring_fd(&s.vd.c, VU_SET_VRING_CALL, 3,
					   bad.callfd), "SET_VRING_CALL", &rej);
	/* Otherwise the well-formed pair 0 makes the device ready now. */
	for (i = 0; i < s.nvq && ret == 0 && !o->log_first; i++)
		ret = step(vdev_setup_ring(&s.vd, s.vqs[i], 0), "ring setup",
			   &rej);
	if (ret == 0 && late)
		ret = step(vu_set_u64(&s.vd.c, VU_SET_FEATURES, f),
			   "SET_FEATURES +EVENT_IDX", &rej);
	if (ret == 0)
		ret = step(vu_set_vring_state(&s.vd.c, VU_SET_VRING_ENABLE, 3,
					      1), "SET_VRING_ENABLE 3", &rej);
	for (i = 0; i < s.nvq && ret == 0 && !o->log_first; i++)
		ret = step(vu_set_vring_state(&s.vd.c, VU_SET_VRING_ENABLE,
					      i, 1), "SET_VRING_ENABLE", &rej);
	if (ret == 0) {
		vnet_publish(&s.vn);
		ret = post_tx(&s, &bad, 4, 0);
		u1 = settle_used(&bad);
	}
	/* Dirty logging on: the relay takes the queue (policy auto). */
	if (ret == 0 && !o->log_first)
		ret = log_on(&s, f, &k, &rej);
	if (ret == 0 && (k == VU_REPLY_ACK || k == VU_REPLY_NACK))
		ret = post_tx(&s, &bad, 4, 4);
	if (ret == 0 && (k == VU_REPLY_ACK || k == VU_REPLY_NACK)) {
		u2 = settle_used(&bad);
		/* The rest of the device is not required to work, just seen. */
		printf("vu-proto: pair 0 traffic: %s\n",
		       vp_traffic(&s, 200) == 0 ? "ok" : "failed");
	}
	virtq_free(&bad);
	fe_sess_close(&s);
	if (u1 != 0 || u2 != 0) {
		printf("vu-proto: FAIL %s: queue 3 ran with a ring that does "
		       "not fit guest memory (used idx %u, then %u)\n",
		       late ? "event-idx-late" : "stale-size", u1, u2);
		return 1;
	}
	printf("vu-proto: PASS %s: queue 3 never ran (%u rejections, "
	       "connection %s)\n", late ? "event-idx-late" : "stale-size", rej,
	       ret == 0 ? "open" : "closed");
	return 0;
}

/* ---- short-tx-header --------------------------------------------------- */

static int
short_tx_session(const struct vp_opts *o, unsigned int n)
{
	uint32_t bases[2 * VNET_MAX_QP];
	struct vq_seg seg;
	struct virtq *tx;
	uint16_t used, avail;
	struct fe_sess s;
	uint8_t *p;
	int ret;

	ret = sess_start(&s, o, 1, 256, 1000);
	if (ret == 0)
		ret = vdev_log_start(&s.vd, &s.log, s.vqs, s.nvq);
	if (ret == 0)
		ret = vp_traffic(&s, 100);
	if (ret < 0) {
		fe_sess_close(&s);
		return fail("short-tx-header: session with 100 frames", ret);
	}
	/* Readable part 8 bytes: shorter than the virtio-net header. */
	tx = &s.vn.qp[0].tx;
	seg = (struct vq_seg){ gm_alloc(&s.gm, 64, 64), 8, false };
	p = gm_wptr(&s.gm, seg.gpa, 8);
	if (p == NULL)
		ret = -ENOMEM;
	else
		memset(p, 0, 8);
	if (ret == 0)
		ret = virtq_add(tx, &seg, 1, false, p);
	if (ret < 0) {
		fe_sess_close(&s);
		return fail("short-tx-header: posting the chain", ret);
	}
	virtq_publish(tx);
	virtq_notify(tx);
	usleep(300 * 1000);	/* the device meets it and faults */
	used = virtq_used_idx(tx);
	avail = tx->avail_idx;
	ret = vdev_stop(&s.vd, s.vqs, s.nvq, bases);
	fe_sess_close(&s);
	if (ret < 0)
		return fail("short-tx-header: GET_VRING_BASE", ret);
	/* Device index in [used seen, avail published], modulo 2^16. */
	if ((uint16_t)(bases[1] - used) > (uint16_t)(avail - used)) {
		printf("vu-proto: FAIL short-tx-header session %u: "
		       "GET_VRING_BASE(1) = %u, used idx %u, avail idx %u\n",
		       n, bases[1], used, avail);
		return 1;
	}
	return 0;
}

/* Every session runs even after a failure, so leaks keep adding up. */
static int
cmd_short_tx(const struct vp_opts *o)
{
	unsigned int i, bad = 0;

	for (i = 0; i < o->count; i++)
		bad += short_tx_session(o, i) != 0;
	if (bad != 0) {
		printf("vu-proto: FAIL short-tx-header: %u of %u sessions\n",
		       bad, o->count);
		return 1;
	}
	printf("vu-proto: PASS short-tx-header: %u sessions, faulted TX "
	       "queue stopped at the device's index\n", o->count);
	return 0;
}

/* ---- forged-used-idx --------------------------------------------------- */

static int
cmd_forged_used(const struct vp_opts *o)
{
	struct virtq *rx;
	uint16_t real, i;
	struct fe_sess s;
	uint32_t bases[2 * VNET_MAX_QP];
	int ret, tr;

	ret = sess_start(&s, o, 1, 1024, 10000);
	if (ret == 0)
		ret = vp_traffic(&s, 300);
	if (ret < 0) {
		fe_sess_close(&s);
		return fail("forged-used-idx: clean traffic", ret);
	}
	/* Nothing in flight: the guest forges a ring of used entries. */
	rx = &s.vn.qp[0].rx;
	real = virtq_used_idx(rx);
	/* Every entry of the window: ids no descriptor has. */
	for (i = 0; i < rx->size; i++)
		rx->used->ring[i] = (struct vring_used_elem){
			.id = 0xf0000000u + i, .len = 0xffffffffu };
	__atomic_store_n(&rx->used->idx, (uint16_t)(real + 1),
			 __ATOMIC_RELEASE);
	ret = vdev_log_start(&s.vd, &s.log, s.vqs, s.nvq);
	/* Put it back: the driver would take the forged entry as its own. */
	__atomic_store_n(&rx->used->idx, real, __ATOMIC_RELEASE);
	if (ret < 0) {
		fe_sess_close(&s);
		return fail("forged-used-idx: LOG_ALL", ret);
	}
	tr = vp_traffic(&s, 300);
	printf("vu-proto: traffic after the forged window: %s\n",
	       tr == 0 ? "ok" : strerror(-tr));
	ret = vdev_stop(&s.vd, s.vqs, s.nvq, bases);
	fe_sess_close(&s);
	if (ret < 0)
		return fail("forged-used-idx: GET_VRING_BASE", ret);
	printf("vu-proto: PASS forged-used-idx: used idx %u forged to %u "
	       "before LOG_ALL\n", real, (uint16_t)(real + 1));
	return 0;
}

/* ---- bad-log-repeat ---------------------------------------------------- */

/*
 * Whether the log gets a bit within wait_ms: the frames were only sent,
 * the relay logs what the device writes for them a little later. A log
 * the relay no longer writes stays silent however long we wait.
 */
static bool
log_gets_bits(struct dl_log *log, struct dl_bitmap *bm, unsigned int wait_ms)
{
	unsigned int i;

	for (i = 0; i <= wait_ms; i++) {
		if (dl_log_read_clear(log, bm) != 0)
			return true;
		usleep(1000);
	}
	return false;
}

static int
cmd_bad_log(const struct vp_opts *o)
{
	uint32_t bases[2 * VNET_MAX_QP];
	unsigned int i, silent = 0;
	struct dl_bitmap bm = { 0 };
	struct fe_sess s;
	int ret;

	ret = sess_start(&s, o, 1, 256, (uint64_t)o->count * 8 + 1000);
	if (ret == 0)
		ret = dl_bitmap_init(&bm, s.gm.gpa_end);
	if (ret == 0)
		ret = vdev_log_start(&s.vd, &s.log, s.vqs, s.nvq);
	if (ret == 0)
		ret = vp_traffic(&s, 100);
	for (i = 0; i < o->count && ret == 0; i++) {
		ret = vfh_bad_log_base(&s.vd, &s.log, i % VFH_LOG_NKINDS);
		if (ret < 0)
			printf("vu-proto: bad SET_LOG_BASE %u (%s): %s\n", i,
			       vfh_log_kind_name(i % VFH_LOG_NKINDS),
			       strerror(-ret));
		else
			ret = vnet_run(&s.vn, 8, TRAFFIC_MS);
		/* The log in use must still get the device's writes. */
		if (ret == 0 && !log_gets_bits(&s.log, &bm, 2000))
			silent++;
	}
	if (ret == 0)
		ret = vfh_replace_log(&s.vd, &s.log);
	if (ret == 0)
		ret = vp_traffic(&s, 100);
	if (ret == 0)
		ret = vdev_stop(&s.vd, s.vqs, s.nvq, bases);
	fe_sess_close(&s);
	dl_bitmap_free(&bm);
	if (ret < 0)
		return fail("bad-log-repeat", ret);
	if (silent != 0) {
		printf("vu-proto: FAIL bad-log-repeat: after %u of %u rejected "
		       "SET_LOG_BASE the log in use got no bit for traffic\n",
		       silent, o->count);
		return 1;
	}
	printf("vu-proto: PASS bad-log-repeat: %u bad SET_LOG_BASE rejected, "
	       "then a valid one, traffic intact\n", o->count);
	return 0;
}

/* ---- switch-fail ------------------------------------------------------- */

static void
sf_free(struct dl_bitmap *a, struct dl_bitmap *b, struct dl_bitmap *c)
{
	dl_bitmap_free(a);
	dl_bitmap_free(b);
	dl_bitmap_free(c);
}

static int
cmd_switch_fail(const struct vp_opts *o)
{
	struct dl_bitmap data = { 0 }, ring = { 0 }, logged = { 0 };
	uint64_t unlogged = 0, written = 0;
	enum vu_reply_kind k;
	struct fe_sess s;
	int ret, resumed = 0;

	ret = sess_start(&s, o, 2, 256, 100000);
	if (ret == 0 && !vu_has_pf(&s.vd.c, VU_PF_REPLY_ACK))
		ret = -ENOTSUP;
	if (ret == 0)
		ret = dl_bitmap_init(&data, s.gm.gpa_end);
	if (ret == 0)
		ret = dl_bitmap_init(&ring, s.gm.gpa_end);
	if (ret == 0)
		ret = dl_bitmap_init(&logged, s.gm.gpa_end);
	if (ret == 0)
		ret = vp_traffic(&s, 500);
	if (ret == 0)
		ret = vu_set_log_base(&s.vd.c, s.log.fd, s.log.mmap_size, 0);
	/* Frames in flight both ways while the queues switch. */
	if (ret == 0)
		ret = vnet_run(&s.vn, 128, TRAFFIC_MS);
	if (ret < 0) {
		fe_sess_close(&s);
		sf_free(&data, &ring, &logged);
		return fail("switch-fail setup", ret);
	}
	k = vp_set_features(&s, s.vd.features | FEAT(VU_F_LOG_ALL));
	printf("vu-proto: SET_FEATURES|LOG_ALL: %s\n", vu_reply_kind_name(k));
	if (k == VU_REPLY_ACK || k == VU_REPLY_NACK) {
		/* From the reply on, every device write must be logged. */
		vnet_track_start(&s.vn, &data, &ring);
		vnet_run(&s.vn, 500, 1000);
		vnet_drain(&s.vn, 1000);
		vnet_track_stop(&s.vn);
		dl_log_read_clear(&s.log, &logged);
		dl_bitmap_or(&data, &ring);
		written = dl_bitmap_count(&data);
		unlogged = dl_bitmap_count_andnot(&data, &logged);
	}
	/* Logging off (migration cancelled): held queues run again. */
	if (k == VU_REPLY_NACK) {
		vp_set_features(&s, s.vd.features);
		resumed = vp_traffic(&s, 200);
		printf("vu-proto: after LOG_ALL off: traffic %s\n",
		       resumed == 0 ? "ok" : strerror(-resumed));
	}
	fe_sess_close(&s);
	sf_free(&data, &ring, &logged);
	printf("vu-proto: after the reply: device wrote %" PRIu64
	       " pages, %" PRIu64 " of them unlogged\n", written, unlogged);
	if (k != VU_REPLY_NACK && k != VU_REPLY_CLOSED) {
		printf("vu-proto: FAIL switch-fail: failed switch answered "
		       "'%s'\n", vu_reply_kind_name(k));
		return 1;
	}
	if (unlogged != 0) {
		printf("vu-proto: FAIL switch-fail: %" PRIu64 " pages written "
		       "unlogged while logging was on\n", unlogged);
		return 1;
	}
	if (resumed != 0) {
		printf("vu-proto: FAIL switch-fail: queues did not run again "
		       "once logging was off\n");
		return 1;
	}
	printf("vu-proto: PASS switch-fail: reply %s, no unlogged write\n",
	       vu_reply_kind_name(k));
	return 0;
}

/* ---- main ---------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr,
		"usage: vu-proto stale-size|short-tx-header|forged-used-idx|"
		"bad-log-repeat|switch-fail|fuzz --socket S\n"
		"  [--event-idx-late] [--log-first] [--count N] [--seed X] [--messages N]"
		" [--region-mb M]\n  [--bad-mmap-offset]\n");
}

static int
parse(int argc, char **argv, struct vp_opts *o)
{
	static const struct option lo[] = {
		{ "socket", 1, NULL, 's' }, { "count", 1, NULL, 'c' },
		{ "event-idx-late", 0, NULL, 'e' }, { "seed", 1, NULL, 'S' },
		{ "log-first", 0, NULL, 'L' },
		{ "bad-mmap-offset", 0, NULL, 'B' },
		{ "messages", 1, NULL, 'm' }, { "region-mb", 1, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct vp_opts){ .count = 1, .seed = 1, .messages = 1000,
			       .region_mb = 16 };
	if (argc < 2)
		return -EINVAL;
	o->cmd = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': o->socket = optarg; break;
		case 'c': o->count = atoi(optarg); break;
		case 'e': o->event_idx_late = true; break;
		case 'L': o->log_first = true; break;
		case 'B': o->bad_mmap_offset = true; break;
		case 'S': o->seed = strtoull(optarg, NULL, 0); break;
		case 'm': o->messages = strtoull(optarg, NULL, 0); break;
		case 'r': o->region_mb = atoi(optarg); break;
		default: return -EINVAL;
		}
	}
	if (o->socket == NULL || o->region_mb < 4 || o->region_mb > 1024)
		return -EINVAL;
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const struct vp_opts *o);
	} cmds[] = {
		{ "stale-size", cmd_stale_size },
		{ "short-tx-header", cmd_short_tx },
		{ "forged-used-idx", cmd_forged_used },
		{ "bad-log-repeat", cmd_bad_log },
		{ "switch-fail", cmd_switch_fail },
		{ "fuzz", vp_cmd_fuzz },
	};
	struct vp_opts o;
	unsigned int i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (parse(argc, argv, &o) < 0) {
		usage();
		return 2;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(o.cmd, cmds[i].name) == 0)
			return cmds[i].fn(&o);
	usage();
	return 2;
}
