/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_relay_used: per-entry cost of relaying used entries back to the
 * guest with dirty logging, vdpa-relay (vrelay_queue_relay_used) against
 * DPDK's software-assisted vDPA helper (rte_vdpa_relay_vring_used).
 *
 * DPDK's helper needs a live vhost device, so the program registers a
 * vhost-user server socket in-process and connects the project's test
 * front-end (tests/frontend) to it: memfd guest memory, two rings, then
 * dirty logging (SET_LOG_BASE, LOG_ALL). Both relays then work on the
 * same mapping of the same guest rings and the same log:
 *
 *  ours: the guest makes N chains available, the relay forwards them
 *        (not timed), the "device" writes N used entries to the mediated
 *        used ring, then vrelay_queue_relay_used() is timed;
 *  dpdk: the same N used entries are written to a mediated vring at the
 *        same ring slots, rte_vdpa_relay_vring_used() is timed, then the
 *        guest used index is put back.
 *  packed: ours on a packed ring (virtio 1.1, 2.8) in the same guest
 *        memory and log: the guest makes the same N chains available
 *        (packed_drv), the relay forwards them, a fake device completes
 *        them on the mediated ring (not timed), then
 *        vrelay_queue_relay_used() is timed. DPDK's helper has no packed
 *        counterpart (it returns -1 for a packed ring).
 *
 * The log is cleared before every call and its set bits are counted
 * after it: pages logged per packet. Repetitions alternate ours/dpdk
 * blocks; the median block is reported.
 *
 * Under callgrind (--impl ours|dpdk, --toggle-collect=<relay function>)
 * the program dumps the counters after each scenario, so instructions
 * per entry come from the dump totals divided by the entries printed.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_vhost.h>
#include <vdpa_driver.h>

#ifdef HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_DUMP_STATS_AT(s) do { } while (0)
#define CALLGRIND_ZERO_STATS do { } while (0)
#endif

#include "vdpa_relay.h"
#include "vrelay_private.h"

#include "dirty_log.h"
#include "guest_mem.h"
#include "packed_drv.h"
#include "split_drv.h"
#include "vhost_dev.h"
#include "virtq.h"

#define BR_RING		256
#define BR_MEM		(64ULL << 20)
#define BR_VNET_HDR	12
#define BR_MAX_CHAIN	4
#define BR_MAX_BURST	64
#define BR_BLOCKS	16

enum br_impl { BR_OURS, BR_DPDK, BR_PACKED, BR_NIMPL };
static const char *const br_impl_name[BR_NIMPL] = { "ours", "dpdk",
						    "packed" };

struct br_opts {
	bool quick;
	bool json;
	int impl;		/* -1: both */
	unsigned int rounds;	/* calls per block */
	unsigned int blocks;	/* alternating blocks per implementation */
	unsigned int burst;	/* entries per call */
};

struct br_scen {
	uint32_t pkt;
	uint32_t buf;
};

static const struct br_scen br_scens[] = {
	{ 64, 4096 }, { 1500, 4096 }, { 9000, 4096 },
	{ 64, 65536 }, { 1500, 65536 }, { 9000, 65536 },
};

/* Everything both relays share. */
struct br_ctx {
	struct br_opts o;
	char dir[64];
	char sock[96];
	struct guest_mem gm;
	struct virtq vq[2];
	struct vdev vd;
	struct dl_log log;
	struct split_drv drv;		/* the guest side of ring 0 */
	int vid;
	struct rte_vhost_vring vr;	/* DPDK's mapping of ring 0 */
	uint8_t *log_base;		/* DPDK's mapping of the log */
	uint64_t log_size;
	uint64_t buf_gpa;		/* pool of buffers, 64 KiB aligned */
	int doorbell;			/* our queue's device doorbell */
	struct vrelay_device *rdev;
	struct vrelay_mem rmem;		/* its table: the back-end's mapping */
	struct vrelay_queue *rq;
	struct vring sv;		/* DPDK's mediated vring */
	struct packed_drv pdrv;		/* the guest side of the packed ring */
	struct packed_dev pdev;		/* the device, on its mediated ring */
	struct vrelay_queue *pq;	/* our packed queue */
	/* Each chain's buffers, for the packed ring. */
	struct vq_drv_seg seg[BR_MAX_BURST][BR_MAX_CHAIN];
	unsigned int nseg;
	uint16_t heads[BR_MAX_BURST];
	uint32_t len;
};

/* Per implementation and scenario. */
struct br_result {
	double ns_entry[BR_BLOCKS];
	unsigned int nblocks;
	uint64_t entries;
	uint64_t pages;
};

static volatile int br_vid = -1;

static int
br_new_device(int vid)
{
	br_vid = vid;
	return 0;
}

static void
br_destroy_device(int vid)
{
	RTE_SET_USED(vid);
}

static const struct rte_vhost_device_ops br_vhost_ops = {
	.new_device = br_new_device,
	.destroy_device = br_destroy_device,
};

static void
br_usage(const char *prog)
{
	fprintf(stderr,
		"Usage: %s [EAL options] -- [--quick] [--json]\n"
		"    [--impl both|ours|dpdk|packed] [--rounds N] [--blocks N]\n"
		"    [--burst N]\n"
		"  --impl    run one implementation only (for callgrind)\n"
		"  --rounds  relay calls per timed block (default 2000)\n"
		"  --blocks  alternating blocks per implementation (8)\n"
		"  --burst   used entries per relay call, <= 64 (default 32)\n",
		prog);
}

static int
br_parse(struct br_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "impl", required_argument, NULL, 'i' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "blocks", required_argument, NULL, 'b' },
		{ "burst", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct br_opts){ .impl = -1, .rounds = 2000, .blocks = 8,
			       .burst = 32 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'q':
			o->quick = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'i':
			if (strcmp(optarg, "ours") == 0)
				o->impl = BR_OURS;
			else if (strcmp(optarg, "dpdk") == 0)
				o->impl = BR_DPDK;
			else if (strcmp(optarg, "packed") == 0)
				o->impl = BR_PACKED;
			else if (strcmp(optarg, "both") != 0)
				return -1;
			break;
		case 'r':
			o->rounds = strtoul(optarg, NULL, 0);
			break;
		case 'b':
			o->blocks = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			o->burst = strtoul(optarg, NULL, 0);
			break;
		default:
			return -1;
		}
	}
	if (o->quick) {
		o->rounds = RTE_MIN(o->rounds, 200u);
		o->blocks = RTE_MIN(o->blocks, 2u);
	}
	if (o->burst == 0 || o->burst > BR_MAX_BURST || o->rounds == 0 ||
	    o->blocks == 0 || o->blocks > BR_BLOCKS)
		return -1;
	return 0;
}

/* ---- vhost device: DPDK back-end + test front-end, one process ---- */

static int
br_vhost_server(struct br_ctx *c)
{
	snprintf(c->dir, sizeof(c->dir), "/tmp/bench-relay-used.XXXXXX");
	if (mkdtemp(c->dir) == NULL)
		return -errno;
	snprintf(c->sock, sizeof(c->sock), "%s/vhost.sock", c->dir);
	if (rte_vhost_driver_register(c->sock, 0) != 0)
		return -EIO;
	if (rte_vhost_driver_callback_register(c->sock, &br_vhost_ops) != 0)
		return -EIO;
	if (rte_vhost_driver_start(c->sock) != 0)
		return -EIO;
	return 0;
}

static int
br_frontend(struct br_ctx *c)
{
	const uint64_t gpa = 0, size = BR_MEM;
	struct virtq *vqs[2] = { &c->vq[0], &c->vq[1] };
	uint64_t want = 1ULL << 32;	/* VIRTIO_F_VERSION_1 only */
	int ret, i;

	ret = gm_create(&c->gm, &gpa, &size, 1);
	for (i = 0; i < 2 && ret == 0; i++)
		ret = virtq_init(&c->vq[i], &c->gm, i, BR_RING, false);
	if (ret == 0)
		ret = vdev_connect(&c->vd, c->sock, want, 5000);
	if (ret == 0)
		ret = vdev_start(&c->vd, &c->gm, vqs, 2, NULL);
	if (ret == 0)
		ret = dl_log_create(&c->log, c->gm.gpa_end);
	if (ret == 0)
		ret = vdev_log_start(&c->vd, &c->log, vqs, 2);
	return ret;
}

/* Wait until the back-end runs the device with a log. */
static int
br_vhost_ready(struct br_ctx *c)
{
	uint64_t features = 0, base = 0;
	int i;

	for (i = 0; i < 500; i++) {
		c->vid = br_vid;
		if (c->vid >= 0 &&
		    rte_vhost_get_negotiated_features(c->vid, &features) == 0 &&
		    (features & (1ULL << VHOST_F_LOG_ALL)) &&
		    rte_vhost_get_log_base(c->vid, &base, &c->log_size) == 0 &&
		    base != 0)
			break;
		usleep(10000);
	}
	if (i == 500)
		return -ETIMEDOUT;
	c->log_base = (uint8_t *)(uintptr_t)base;
	if (rte_vhost_get_vhost_vring(c->vid, 0, &c->vr) != 0 ||
	    c->vr.size != BR_RING) {
		fprintf(stderr, "vhost ring 0 not usable\n");
		return -EIO;
	}
	return 0;
}

/* ---- both relays' state -------------------------------------------- */

/* split_drv translation: the front-end's mapping of guest memory. */
static void *
br_xlate(void *gm, uint64_t gpa, uint64_t len)
{
	return gm_hva(gm, gpa, len);
}

static int
br_relay_create(struct br_ctx *c)
{
	struct rte_vhost_memory *m = NULL;
	struct vrelay_mem mem = { 0 };
	struct vrelay_queue_conf qc = { 0 };
	uint32_t i;

	if (rte_vhost_get_mem_table(c->vid, &m) != 0)
		return -EIO;
	mem.nregions = RTE_MIN(m->nregions, (uint32_t)VRELAY_MAX_MEM_REGIONS);
	for (i = 0; i < mem.nregions; i++) {
		mem.regions[i].gpa = m->regions[i].guest_phys_addr;
		mem.regions[i].size = m->regions[i].size;
		mem.regions[i].hva = m->regions[i].host_user_addr;
	}
	free(m);
	c->rmem = mem;
	c->rdev = vrelay_device_create("bench", &mem);
	if (c->rdev == NULL ||
	    vrelay_device_set_log(c->rdev, c->log_base, c->log_size) != 0) {
		fprintf(stderr, "relay device: %s\n", strerror(errno));
		return -EIO;
	}
	qc.name = "rx0";
	qc.qid = 0;
	qc.size = BR_RING;
	qc.format = VRELAY_RING_SPLIT;
	qc.desc = c->vr.desc;
	qc.driver_area = c->vr.avail;
	qc.device_area = c->vr.used;
	qc.device_area_gpa = c->vq[0].used_gpa;
	qc.guest_kick_fd = -1;
	qc.guest_call_fd = -1;
	/* Required; never rung: the "device" asks for no kicks below. */
	c->doorbell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	qc.device_doorbell_fd = c->doorbell;
	qc.device_irq_fd = -1;
	qc.state.avail_idx = c->vr.avail->idx;
	qc.state.used_idx = c->vr.used->idx;
	qc.log_from_used_idx = qc.state.used_idx;
	c->rq = vrelay_queue_create(c->rdev, &qc);
	if (c->rq == NULL) {
		fprintf(stderr, "relay queue: %s\n", strerror(errno));
		return -EIO;
	}
	/* A polling engine: no guest kicks, no device interrupts. */
	vrelay_queue_set_notify(c->rq, false);
	c->rq->split.mused->flags = VRING_USED_F_NO_NOTIFY;
	return 0;
}

/* DPDK's mediated vring: its own avail (for used_event) and used. */
static int
br_dpdk_vring(struct br_ctx *c)
{
	c->sv.num = BR_RING;
	c->sv.desc = (struct vring_desc *)c->vr.desc;
	c->sv.avail = aligned_alloc(4096, 4096);
	c->sv.used = aligned_alloc(4096, 4096);
	if (c->sv.avail == NULL || c->sv.used == NULL)
		return -ENOMEM;
	memset(c->sv.avail, 0, 4096);
	memset(c->sv.used, 0, 4096);
	return 0;
}

/*
 * Chains for one scenario: chain i holds k descriptors of one buffer
 * each, enough for the frame and the virtio-net header.
 */
static void
br_chains(struct br_ctx *c, const struct br_scen *s)
{
	uint32_t need = s->pkt + BR_VNET_HDR;
	uint32_t k = (need + s->buf - 1) / s->buf;
	struct vq_drv_seg seg[BR_MAX_CHAIN];
	uint64_t gpa = c->buf_gpa;
	uint16_t i, j;

	for (i = 0; i < c->o.burst; i++) {
		for (j = 0; j < k; j++) {
			seg[j] = (struct vq_drv_seg){ gpa, s->buf,
							 VRING_DESC_F_WRITE };
			gpa += s->buf;
		}
		/* The packed ring takes the same buffers. */
		memcpy(c->seg[i], seg, sizeof(seg));
		c->heads[i] = i * k;
		split_drv_write_chain(c->drv.desc, BR_RING, c->heads[i], seg,
				      k);
	}
	c->len = need;
	c->nseg = k;
}

static uint64_t
br_log_count(const struct br_ctx *c)
{
	const uint64_t *w = (const uint64_t *)c->log_base;
	uint64_t i, n = 0;

	for (i = 0; i < c->log_size / 8; i++)
		n += __builtin_popcountll(w[i]);
	return n;
}

static void
br_fill_used(struct br_ctx *c, struct vring_used *u, uint16_t start)
{
	uint16_t i;

	for (i = 0; i < c->o.burst; i++) {
		u->ring[(uint16_t)(start + i) & (BR_RING - 1)].id = c->heads[i];
		u->ring[(uint16_t)(start + i) & (BR_RING - 1)].len = c->len;
	}
	__atomic_store_n(&u->idx, (uint16_t)(start + c->o.burst),
			 __ATOMIC_RELEASE);
}

/* One timed call of our relay; returns TSC cycles or 0 on error. */
static uint64_t
br_round_ours(struct br_ctx *c, uint64_t *pages)
{
	struct vrelay_queue *q = c->rq;
	uint64_t t0, t1;
	int n;

	/* The relay took every chain last round: avail idx == last_avail. */
	split_drv_publish_n(&c->drv, c->heads, c->o.burst);
	if (vrelay_queue_relay_avail(q, c->o.burst) != (int)c->o.burst)
		return 0;
	br_fill_used(c, q->split.mused, q->split.last_used);
	memset(c->log_base, 0, c->log_size);
	t0 = rte_rdtsc_precise();
	n = vrelay_queue_relay_used(q, c->o.burst);
	t1 = rte_rdtsc_precise();
	if (n != (int)c->o.burst)
		return 0;
	*pages += br_log_count(c);
	return t1 - t0;
}

/* One timed call of DPDK's helper at the same ring slots. */
static uint64_t
br_round_dpdk(struct br_ctx *c, uint64_t *pages)
{
	struct vring_used *gu = c->vr.used;
	uint16_t u = gu->idx;
	uint64_t t0, t1;
	int n;

	c->sv.used->flags = gu->flags;
	br_fill_used(c, c->sv.used, u);
	memset(c->log_base, 0, c->log_size);
	t0 = rte_rdtsc_precise();
	n = rte_vdpa_relay_vring_used(c->vid, 0, &c->sv);
	t1 = rte_rdtsc_precise();
	/* Guest state as it was: our relay continues from here. */
	gu->idx = u;
	if (n != (int)c->o.burst)
		return 0;
	*pages += br_log_count(c);
	return t1 - t0;
}

/*
 * One timed call of ours on the packed ring: the same burst of chains
 * (each with the scenario's buffers) made available, forwarded and
 * completed in order, untimed; then the used relay is timed.
 */
static uint64_t
br_round_packed(struct br_ctx *c, uint64_t *pages)
{
	struct packed_dev_chain ch;
	uint64_t t0, t1;
	uint32_t len;
	uint16_t i, id;
	int n;

	for (i = 0; i < c->o.burst; i++)
		packed_drv_add(&c->pdrv, c->seg[i], c->nseg, i);
	if (vrelay_queue_relay_avail(c->pq, c->o.burst) != (int)c->o.burst)
		return 0;
	for (i = 0; i < c->o.burst; i++) {
		if (packed_dev_fetch(&c->pdev, &ch) != 1)
			return 0;
		packed_dev_complete(&c->pdev, ch.id, c->len, ch.ndesc);
	}
	memset(c->log_base, 0, c->log_size);
	t0 = rte_rdtsc_precise();
	n = vrelay_queue_relay_used(c->pq, c->o.burst);
	t1 = rte_rdtsc_precise();
	if (n != (int)c->o.burst)
		return 0;
	*pages += br_log_count(c);
	while (packed_drv_get_used(&c->pdrv, &id, &len) == 1)
		;
	return c->pdrv.inflight == 0 ? t1 - t0 : 0;
}

static int
br_block(struct br_ctx *c, int impl, struct br_result *r)
{
	uint64_t cycles = 0, t;
	unsigned int i;

	for (i = 0; i < c->o.rounds; i++) {
		if (impl == BR_OURS)
			t = br_round_ours(c, &r->pages);
		else if (impl == BR_DPDK)
			t = br_round_dpdk(c, &r->pages);
		else
			t = br_round_packed(c, &r->pages);
		if (t == 0)
			return -EIO;
		cycles += t;
	}
	r->entries += (uint64_t)c->o.rounds * c->o.burst;
	r->ns_entry[r->nblocks++] = (double)cycles * 1e9 /
		rte_get_tsc_hz() / ((double)c->o.rounds * c->o.burst);
	return 0;
}

static int
br_dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
br_median(struct br_result *r)
{
	if (r->nblocks == 0)
		return 0;
	qsort(r->ns_entry, r->nblocks, sizeof(double), br_dcmp);
	return r->ns_entry[r->nblocks / 2];
}

/* A/B/A/B blocks; under callgrind, one dump per scenario and impl. */
static int
br_scenario(struct br_ctx *c, const struct br_scen *s,
	    struct br_result r[BR_NIMPL])
{
	char tag[64];
	unsigned int b;
	int i, impl;

	br_chains(c, s);
	memset(r, 0, sizeof(*r) * BR_NIMPL);
	CALLGRIND_ZERO_STATS;
	for (b = 0; b < c->o.blocks; b++) {
		for (i = 0; i < BR_NIMPL; i++) {
			/* A B, then B A: neither always runs first. */
			impl = (b & 1) ? BR_NIMPL - 1 - i : i;
			if (c->o.impl >= 0 && impl != c->o.impl)
				continue;
			if (br_block(c, impl, &r[impl]) != 0)
				return -EIO;
		}
	}
	snprintf(tag, sizeof(tag), "pkt%u-buf%u", s->pkt, s->buf);
	CALLGRIND_DUMP_STATS_AT(tag);
	return 0;
}

static void
br_print(const struct br_ctx *c, const struct br_scen *s,
	 struct br_result r[BR_NIMPL], bool first)
{
	double ns[BR_NIMPL], ppp[BR_NIMPL];
	int i;

	for (i = 0; i < BR_NIMPL; i++) {
		ns[i] = br_median(&r[i]);
		ppp[i] = r[i].entries ? (double)r[i].pages / r[i].entries : 0;
	}
	if (!c->o.json) {
		printf("pkt %5u buf %6u: ours %7.1f ns/entry %6.2f pages/pkt"
		       " | dpdk %7.1f ns/entry %6.2f pages/pkt"
		       " | packed %7.1f ns/entry %6.2f pages/pkt\n",
		       s->pkt, s->buf, ns[BR_OURS], ppp[BR_OURS],
		       ns[BR_DPDK], ppp[BR_DPDK], ns[BR_PACKED],
		       ppp[BR_PACKED]);
		return;
	}
	printf("%s{\"pkt\":%u,\"buf\":%u", first ? "" : ",", s->pkt, s->buf);
	for (i = 0; i < BR_NIMPL; i++)
		printf(",\"%s\":{\"entries\":%" PRIu64 ",\"ns_per_entry\":%.2f,"
		       "\"pages_per_pkt\":%.3f}", br_impl_name[i],
		       r[i].entries, ns[i], ppp[i]);
	printf("}");
}

/* A guest range as the relay's memory table (the back-end) maps it. */
static void *
br_backend_hva(const struct br_ctx *c, uint64_t gpa)
{
	const struct vrelay_mem_region *r;
	uint32_t i;

	for (i = 0; i < c->rmem.nregions; i++) {
		r = &c->rmem.regions[i];
		if (gpa >= r->gpa && gpa - r->gpa < r->size)
			return (void *)(uintptr_t)(r->hva + gpa - r->gpa);
	}
	return NULL;
}

/*
 * A packed ring in the same guest memory, idle at slot 0, and our packed
 * queue on it, with the same log; no notifications either way.
 */
static int
br_packed_create(struct br_ctx *c)
{
	struct vrelay_queue_conf qc = { 0 };
	const struct vrelay_mring_info *m;
	uint64_t desc = gm_alloc(&c->gm, 16 * BR_RING, 4096);
	uint64_t drv = gm_alloc(&c->gm, 4096, 4096);
	uint64_t dev = gm_alloc(&c->gm, 4096, 4096);

	if (desc == 0 || drv == 0 || dev == 0 ||
	    packed_drv_init(&c->pdrv, BR_RING, desc, drv, dev, br_xlate,
			    &c->gm) != 0)
		return -ENOMEM;
	packed_drv_reset(&c->pdrv, (struct packed_pos){ 0, true });
	packed_drv_set_driver_event(&c->pdrv, VRING_PACKED_EVENT_FLAG_DISABLE,
				    c->pdrv.avail);
	qc.name = "rx0p";
	qc.size = BR_RING;
	qc.format = VRELAY_RING_PACKED;
	/* The relay reads the rings through the back-end's mapping. */
	qc.desc = br_backend_hva(c, desc);
	qc.driver_area = br_backend_hva(c, drv);
	qc.device_area = br_backend_hva(c, dev);
	qc.desc_gpa = desc;
	qc.device_area_gpa = dev;
	qc.guest_kick_fd = -1;
	qc.guest_call_fd = -1;
	qc.device_doorbell_fd = c->doorbell;
	qc.device_irq_fd = -1;
	qc.state = (struct vrelay_qstate){ 0, 0, true, true };
	c->pq = vrelay_queue_create(c->rdev, &qc);
	if (c->pq == NULL) {
		fprintf(stderr, "packed relay queue: %s\n", strerror(errno));
		return -EIO;
	}
	vrelay_queue_set_notify(c->pq, false);
	m = vrelay_queue_mring(c->pq);
	packed_dev_init(&c->pdev, BR_RING, m->desc, m->driver_area,
			m->device_area, br_xlate, &c->gm,
			(struct packed_pos){ 0, true },
			(struct packed_pos){ 0, true });
	packed_event_set(c->pdev.device, VRING_PACKED_EVENT_FLAG_DISABLE,
			 c->pdev.avail);
	return 0;
}

static int
br_setup(struct br_ctx *c)
{
	int ret;

	ret = br_vhost_server(c);
	if (ret == 0)
		ret = br_frontend(c);
	if (ret == 0 && split_drv_init(&c->drv, BR_RING, c->vq[0].desc_gpa,
					c->vq[0].avail_gpa, c->vq[0].used_gpa,
					br_xlate, &c->gm) != 0)
		ret = -EFAULT;
	if (ret == 0)
		ret = br_vhost_ready(c);
	if (ret == 0)
		ret = br_relay_create(c);
	if (ret == 0)
		ret = br_dpdk_vring(c);
	if (ret == 0)
		ret = br_packed_create(c);
	if (ret == 0) {
		c->buf_gpa = gm_alloc(&c->gm, BR_MAX_BURST * 65536, 65536);
		if (c->buf_gpa == 0)
			ret = -ENOMEM;
	}
	return ret;
}

static int
br_run(struct br_ctx *c)
{
	struct br_result r[BR_NIMPL];
	unsigned int i;

	if (c->o.json)
		printf("{\"bench\":\"relay_used\",\"burst\":%u,\"rounds\":%u,"
		       "\"blocks\":%u,\"impl\":\"%s\",\"tsc_hz\":%" PRIu64
		       ",\"results\":[", c->o.burst, c->o.rounds, c->o.blocks,
		       c->o.impl < 0 ? "both" : br_impl_name[c->o.impl],
		       rte_get_tsc_hz());
	for (i = 0; i < RTE_DIM(br_scens); i++) {
		if (br_scenario(c, &br_scens[i], r) != 0) {
			fprintf(stderr, "relay failed in pkt %u buf %u\n",
				br_scens[i].pkt, br_scens[i].buf);
			return -EIO;
		}
		br_print(c, &br_scens[i], r, i == 0);
	}
	if (c->o.json)
		printf("]}\n");
	fflush(stdout);
	return 0;
}

static void
br_teardown(struct br_ctx *c)
{
	if (c->rq != NULL)
		vrelay_queue_destroy(c->rq);
	if (c->pq != NULL)
		vrelay_queue_destroy(c->pq);
	packed_drv_fini(&c->pdrv);
	if (c->rdev != NULL)
		vrelay_device_destroy(c->rdev);
	vdev_close(&c->vd);
	rte_vhost_driver_unregister(c->sock);
	unlink(c->sock);
	rmdir(c->dir);
	free(c->sv.avail);
	free(c->sv.used);
	if (c->doorbell > 0)
		close(c->doorbell);
}

int
main(int argc, char **argv)
{
	static struct br_ctx ctx;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	if (br_parse(&ctx.o, argc - ret, argv + ret) != 0) {
		br_usage(argv[0]);
		return 2;
	}
	ret = br_setup(&ctx);
	if (ret != 0)
		fprintf(stderr, "setup failed: %s\n", strerror(-ret));
	else
		ret = br_run(&ctx);
	br_teardown(&ctx);
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
