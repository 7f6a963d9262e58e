/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vu-proto fuzz: a stateful random vhost-user protocol tester.
 *
 * Sessions start either well-formed (vdev_start, verified traffic) or
 * bare (negotiation only); then random messages follow, well-formed and
 * malformed: ring sizes 0/1/3/16/256/32768/65535, ring addresses valid,
 * at a region's end, outside guest memory or unaligned, feature sets with
 * and without EVENT_IDX/INDIRECT/MRG_RXBUF and LOG_ALL, SET_LOG_BASE
 * valid or rejected (size 0, no fd), kick/call with or without an fd,
 * enable/disable, GET_VRING_BASE, SET_VRING_BASE, SET_MEM_TABLE changes,
 * disconnects (--bad-mmap-offset adds a region whose mmap_offset lies
 * beyond the end of its file); verified traffic runs between them while the session's
 * rings are still the driver's own. Every reply is awaited with a poll
 * timeout; when the back-end closes the connection a new session
 * starts. The sequence of choices depends only on the seed (the
 * back-end's answers decide where sessions end).
 *
 * Verdict: FAIL if a reply the back-end owed never came (a hang) or a
 * connection could not be made; otherwise PASS with a summary. Whether
 * vdpa-lm survived, leaked, or still migrates cleanly is for the shell.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vu_proto.h"

#define FZ_REPLY_MS 3000
#define FZ_TRAFFIC_MS 300
#define FEAT(b) (1ull << (b))

/** Tester state. */
struct fz {
	const struct vp_opts *o;
	uint64_t rng;
	struct fe_sess s;
	bool open;          /**< a session is connected */
	bool clean;         /**< rings are still the driver's: verify traffic */
	bool logging;       /**< LOG_ALL last sent on */
	uint64_t sent, sessions, closed, hangs, acks, nacks;
	uint64_t traffic_runs, traffic_failed;
};

/* xorshift64*: deterministic per seed. */
static uint64_t
rnd(struct fz *f)
{
	f->rng ^= f->rng >> 12;
	f->rng ^= f->rng << 25;
	f->rng ^= f->rng >> 27;
	return f->rng * 2685821657736338717ull;
}

static unsigned int
pick(struct fz *f, unsigned int n)
{
	return (unsigned int)((rnd(f) >> 33) % n);
}

static void
sess_end(struct fz *f)
{
	if (f->open)
		fe_sess_close(&f->s);
	f->open = false;
	f->clean = false;
}

/* Connect; a well-formed start with traffic, or only negotiation. */
static int
sess_begin(struct fz *f)
{
	static const uint16_t qsizes[] = { 64, 256 };
	int ret;

	ret = fe_sess_connect(&f->s, f->o->socket, f->o->region_mb,
			      fe_sess_features(false), VP_CONNECT_MS);
	f->open = true;
	if (ret == 0)
		ret = fe_sess_vnet(&f->s, 2, qsizes[pick(f, 2)], 1u << 20);
	if (ret < 0) {
		printf("vu-proto: fuzz: cannot open a session: %s\n",
		       strerror(-ret));
		sess_end(f);
		return ret;
	}
	f->sessions++;
	f->sent += 6;	/* negotiation messages */
	f->logging = false;
	f->clean = false;
	if (pick(f, 4) != 0) {
		ret = vdev_start(&f->s.vd, &f->s.gm, f->s.vqs, f->s.nvq, NULL);
		f->sent += 2 + 6 * f->s.nvq;
		if (ret == 0) {
			vnet_publish(&f->s.vn);
			f->clean = true;
		}
	}
	return 0;
}

/* The back-end closed the connection (or broke the stream): start over. */
static int
reconnect(struct fz *f)
{
	f->closed++;
	sess_end(f);
	return sess_begin(f);
}

/*
 * Send one message. NEED_REPLY is asked for at random when REPLY_ACK is
 * negotiated; @p has_reply says the request is answered anyway. The
 * answer, if any, is awaited and counted.
 */
static int
fz_msg(struct fz *f, uint32_t req, const void *p, uint32_t size,
       const int *fds, unsigned int nfds, bool has_reply)
{
	bool ack = vu_has_pf(&f->s.vd.c, VU_PF_REPLY_ACK) && pick(f, 2);
	uint32_t fl = VU_FLAG_VERSION | (ack ? VU_FLAG_NEED_REPLY : 0);
	enum vu_reply_kind k;

	f->sent++;
	if (vu_send_raw(&f->s.vd.c, req, fl, p, size, fds, nfds) < 0)
		return reconnect(f);
	if (!ack && !has_reply)
		return 0;
	k = vu_recv_reply_timeout(&f->s.vd.c, req, FZ_REPLY_MS, NULL);
	switch (k) {
	case VU_REPLY_ACK:
		f->acks++;
		return 0;
	case VU_REPLY_NACK:
		f->nacks++;
		return 0;
	case VU_REPLY_NONE:
		f->hangs++;
		printf("vu-proto: fuzz: no reply to request %u after %d ms "
		       "(message %" PRIu64 ")\n", req, FZ_REPLY_MS, f->sent);
		/* fall through */
	default:
		return reconnect(f);
	}
}

/* A ring index: mostly the device's four, sometimes beyond. */
static uint32_t
ring_idx(struct fz *f)
{
	static const uint32_t odd[] = { 4, 7, 255, 256, 1000 };

	return pick(f, 10) ? pick(f, 4) : odd[pick(f, 5)];
}

static struct virtq *
ring_of(struct fz *f, uint32_t idx)
{
	return idx < f->s.nvq ? f->s.vqs[idx] : f->s.vqs[0];
}

static int
act_num(struct fz *f)
{
	static const uint32_t sizes[] = { 0, 1, 3, 16, 256, 32768, 65535 };
	uint32_t st[2] = { ring_idx(f), 0 };

	st[1] = pick(f, 4) ? sizes[pick(f, 7)] : ring_of(f, st[0])->size;
	f->clean = false;
	return fz_msg(f, VU_SET_VRING_NUM, st, sizeof(st), NULL, 0, false);
}

/* One ring address: valid, at a region's end, outside RAM, unaligned. */
static uint64_t
addr_kind(struct fz *f, uintptr_t valid)
{
	const struct gm_region *r = &f->s.gm.r[pick(f, 2)];

	switch (pick(f, 5)) {
	case 0: return (uintptr_t)r->hva + r->size - 16;
	case 1: return (uintptr_t)r->hva + r->size + (1u << 20);
	case 2: return valid + 1 + pick(f, 7);
	case 3: return rnd(f);
	default: return valid;
	}
}

static int
act_addr(struct fz *f)
{
	struct vu_vring_addr a = { .index = ring_idx(f) };
	const struct virtq *vq = ring_of(f, a.index);

	a.desc_user_addr = (uintptr_t)vq->desc;
	a.avail_user_addr = (uintptr_t)vq->avail;
	a.used_user_addr = (uintptr_t)vq->used;
	a.log_guest_addr = vq->used_gpa;
	if (pick(f, 4)) {
		switch (pick(f, 3)) {
		case 0: a.desc_user_addr = addr_kind(f, a.desc_user_addr); break;
		case 1: a.avail_user_addr = addr_kind(f, a.avail_user_addr); break;
		default: a.used_user_addr = addr_kind(f, a.used_user_addr); break;
		}
	}
	a.flags = f->logging ? 1u << VU_VRING_F_LOG : 0;
	if (pick(f, 8) == 0)
		a.log_guest_addr = rnd(f);
	f->clean = false;
	return fz_msg(f, VU_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, false);
}

static int
act_features(struct fz *f)
{
	static const unsigned int opt[] = { VU_F_EVENT_IDX,
		VU_F_INDIRECT_DESC, VU_F_MRG_RXBUF };
	uint64_t v = f->s.vd.features;
	unsigned int i;

	if (pick(f, 3) == 0) {
		for (i = 0; i < 3; i++)
			if (pick(f, 2))
				v ^= FEAT(opt[i]) & f->s.vd.offered;
		f->clean = false;
	}
	if (pick(f, 16) == 0)
		v |= FEAT(40 + pick(f, 20));	/* never offered */
	f->logging = pick(f, 2);
	if (f->logging)
		v |= FEAT(VU_F_LOG_ALL);
	return fz_msg(f, VU_SET_FEATURES, &v, sizeof(v), NULL, 0, false);
}

static int
act_log_base(struct fz *f)
{
	uint64_t p[2] = { f->s.log.mmap_size, 0 };
	int fd = f->s.log.fd;

	switch (pick(f, 3)) {
	case 0:	/* valid: answered with a zero-size reply */
		f->sent++;
		if (vu_set_log_base(&f->s.vd.c, fd, p[0], 0) < 0)
			return reconnect(f);
		f->acks++;
		return 0;
	case 1:
		p[0] = 0;
		return fz_msg(f, VU_SET_LOG_BASE, p, sizeof(p), &fd, 1, false);
	default:
		return fz_msg(f, VU_SET_LOG_BASE, p, sizeof(p), NULL, 0, false);
	}
}

static int
act_fd(struct fz *f)
{
	uint32_t req = pick(f, 2) ? VU_SET_VRING_KICK : VU_SET_VRING_CALL;
	uint64_t v = ring_idx(f);
	const struct virtq *vq = ring_of(f, (uint32_t)v);
	int fd = req == VU_SET_VRING_KICK ? vq->kickfd : vq->callfd;

	f->clean = false;
	if (pick(f, 3) == 0)
		return fz_msg(f, req, &v, sizeof(v), &fd, 1, false);
	if (pick(f, 2)) {
		v |= VU_VRING_NOFD_MASK;
		return fz_msg(f, req, &v, sizeof(v), NULL, 0, false);
	}
	return fz_msg(f, req, &v, sizeof(v), &fd, 1, false);
}

static int
act_state(struct fz *f, uint32_t req)
{
	uint32_t st[2] = { ring_idx(f), pick(f, 2) };

	if (req == VU_SET_VRING_BASE)
		st[1] = pick(f, 2) ? (uint32_t)rnd(f) & 0xffff : 0;
	if (req != VU_SET_VRING_ENABLE || st[1] == 0)
		f->clean = false;
	return fz_msg(f, req, st, sizeof(st), NULL, 0,
		      req == VU_GET_VRING_BASE);
}

static int
act_mem(struct fz *f)
{
	struct {
		uint32_t n, pad;
		struct vu_mem_region r[2];
	} t = { .n = 2 };
	int fds[2];
	unsigned int i;

	for (i = 0; i < 2; i++) {
		t.r[i] = (struct vu_mem_region){ f->s.gm.r[i].gpa,
			f->s.gm.r[i].size, (uintptr_t)f->s.gm.r[i].hva, 0 };
		fds[i] = f->s.gm.r[i].fd;
	}
	switch (pick(f, 5)) {
	case 0: t.n = 1; break;				/* high RAM gone */
	case 1: t.r[1].guest_phys_addr = 8 * GIB; break;	/* moved */
	case 2:
		/*
		 * Beyond the end of the file (--bad-mmap-offset): the
		 * mapping succeeds and the first access gets SIGBUS.
		 * Otherwise a legal shifted window of the same file.
		 */
		if (f->o->bad_mmap_offset) {
			t.r[0].mmap_offset = 1ull << 40;
		} else {
			t.r[0].mmap_offset = 4096;
			t.r[0].memory_size -= 4096;
		}
		break;
	case 3: t.n = 0; break;
	default: break;					/* the same */
	}
	f->clean = false;
	return fz_msg(f, VU_SET_MEM_TABLE, &t, 8 + t.n * sizeof(t.r[0]), fds,
		      t.n, false);
}

static int
act_traffic(struct fz *f)
{
	struct vnet_qstats t;

	if (!f->clean) {
		/* Rings are no longer ours alone: just take what comes. */
		vnet_publish(&f->s.vn);
		return 0;
	}
	f->traffic_runs++;
	vnet_totals(&f->s.vn, &t);
	if (vnet_run(&f->s.vn, 32, FZ_TRAFFIC_MS) < 0 ||
	    vnet_drain(&f->s.vn, FZ_TRAFFIC_MS) < 0) {
		f->traffic_failed++;
		f->clean = false;
		return 0;
	}
	vnet_totals(&f->s.vn, &t);
	if (t.lost || t.dup || t.corrupt || t.bad) {
		f->traffic_failed++;
		f->clean = false;
	}
	return 0;
}

static int
act_get(struct fz *f)
{
	static const uint32_t req[] = { VU_GET_FEATURES,
		VU_GET_PROTOCOL_FEATURES, VU_GET_QUEUE_NUM };

	return fz_msg(f, req[pick(f, 3)], NULL, 0, NULL, 0, true);
}

/* One random step. */
static int
fz_step(struct fz *f)
{
	switch (pick(f, 16)) {
	case 0: return act_num(f);
	case 1: return act_addr(f);
	case 2: return act_features(f);
	case 3: return act_log_base(f);
	case 4: return act_fd(f);
	case 5: return act_state(f, VU_SET_VRING_ENABLE);
	case 6: return act_state(f, VU_GET_VRING_BASE);
	case 7: return act_state(f, VU_SET_VRING_BASE);
	case 8: return pick(f, 3) ? act_traffic(f) : act_mem(f);
	case 9:	/* disconnect */
		sess_end(f);
		return sess_begin(f);
	case 10: return act_get(f);
	default: return act_traffic(f);
	}
}

int
vp_cmd_fuzz(const struct vp_opts *o)
{
	struct fz f = { .o = o, .rng = o->seed * 0x9e3779b97f4a7c15ull + 1 };
	int ret;

	ret = sess_begin(&f);
	while (ret == 0 && f.sent < o->messages)
		ret = fz_step(&f);
	sess_end(&f);
	printf("vu-proto: fuzz seed %" PRIu64 ": %" PRIu64 " messages, %"
	       PRIu64 " sessions, %" PRIu64 " closed by the back-end, %"
	       PRIu64 " acks, %" PRIu64 " nacks, %" PRIu64 " unanswered, "
	       "traffic %" PRIu64 " runs (%" PRIu64 " failed)\n", o->seed,
	       f.sent, f.sessions, f.closed, f.acks, f.nacks, f.hangs,
	       f.traffic_runs, f.traffic_failed);
	if (ret < 0 || f.hangs != 0) {
		printf("vu-proto: FAIL fuzz: %s\n", ret < 0 ?
		       "cannot connect" : "replies never came");
		return 1;
	}
	printf("vu-proto: PASS fuzz %" PRIu64 " messages\n", f.sent);
	return 0;
}
