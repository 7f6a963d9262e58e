/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_relay_cycle: the relay's whole per-packet cycle in one thread,
 * on prepared rings, as ns and instructions per packet (issue 14).
 *
 * One queue pair (RX qid 0, TX qid 1), split or packed, in flat guest
 * memory with a dirty log. Each round:
 *
 *   guest  (untimed): makes B TX frames (64 B + virtio-net header, one
 *          readable buffer each) and B RX buffers (2 KiB, writable)
 *          available, and takes the used entries the relay published;
 *   relay  (timed):   one engine pass over both queues,
 *          vrelay_engine_pass_queues(), the very function the engine
 *          thread runs: the avail side (chain checks, forward) of this
 *          round's entries and the used side (checks, logging by used
 *          length, copy, used ring logged) of the last round's, with
 *          the notifications the engine makes (suppression updates,
 *          peer checks, eventfd writes when a peer asks);
 *   device (untimed): fetches from the mediated rings, reads each TX
 *          frame and writes it into an RX buffer (loopback), completes
 *          both in order.
 *
 * A packet is one frame through the relay both ways: one TX entry and
 * one RX entry, each forwarded and completed. The timed pass is what a
 * busy engine does per round; the engine's sleep and wake-up (epoll,
 * eventfd reads) are not in it: bench_lm.sh measures the threads'
 * CPU time for that.
 *
 * Peers: "quiet" is the busy steady state of the bench_lm harness (the
 * device asks for no doorbell while it runs, the guest polls and asks
 * for no interrupt); "notify" has both ask for every notification, so
 * every pass rings the doorbells and interrupts the guest (the eventfd
 * writes are then in the timed pass).
 *
 * ns: TSC cycles around each pass, converted with a TSC rate calibrated
 * against CLOCK_MONOTONIC over the run; median of blocks. Instructions:
 * run under callgrind with --toggle-collect=vrelay_engine_pass_queues
 * (bench_relay_cycle.sh), totals divided by the packets printed.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <linux/virtio_ring.h>

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#define HAVE_RDTSC 1
#endif

#include "vdpa_relay.h"
#include "vrelay_private.h"

#include "packed_drv.h"
#include "split_drv.h"

#define C_RING		256
#define C_MEM		(16ULL << 20)
#define C_HDR		12
#define C_RXBUF		2048
#define C_MAX_BURST	64
#define C_BLOCKS	31

/* Guest physical layout. */
#define C_RX_DESC	0x10000ULL
#define C_RX_DRV	0x11000ULL
#define C_RX_DEV	0x12000ULL
#define C_TX_DESC	0x20000ULL
#define C_TX_DRV	0x21000ULL
#define C_TX_DEV	0x22000ULL
#define C_RX_BUF	0x100000ULL
#define C_TX_BUF	0x300000ULL

struct c_opts {
	bool packed;
	bool notify;		/* peers ask for every notification */
	bool want_notify;	/* the queues' engine policy while busy */
	bool event_idx;
	bool json;
	unsigned int burst;
	unsigned int rounds;	/* per block */
	unsigned int blocks;
	unsigned int pkt;
};

struct c_side {				/* one queue */
	struct vrelay_queue *q;
	struct split_drv sd;		/* guest, split */
	struct packed_drv pd;		/* guest, packed */
	struct packed_dev pv;		/* device, packed (mediated ring) */
	struct vring_avail *mavail;	/* device, split (mediated rings) */
	struct vring_used *mused;
	uint16_t dev_avail, dev_used;	/* device, split shadow indices */
	uint16_t guest_used;		/* guest, split: used consumed */
	int kick, call, doorbell, irq;
};

struct c_ctx {
	struct c_opts o;
	uint8_t *mem;
	struct vq_drv_flat flat;
	struct vrelay_mem mt;
	struct vrelay_device *dev;
	uint8_t *log;
	uint64_t log_size;
	struct c_side rx, tx;
	uint64_t round;
	uint8_t frame[C_HDR + 9000];
};

static void
usage(const char *prog)
{
	fprintf(stderr,
		"Usage: %s [--packed] [--notify] [--want-notify] [--event-idx]\n"
		"    [--burst N] [--rounds N] [--blocks N] [--pkt BYTES] [--json]"
		" [--quick]\n"
		"  --packed       packed rings (default split)\n"
		"  --notify       device and guest ask for every notification\n"
		"  --want-notify  queues keep notifications on while busy (the\n"
		"                 epoll engine before issue 14)\n"
		"  --burst        frames per round, <= %d (default 32)\n"
		"  --rounds       rounds per timed block (default 2000)\n"
		"  --blocks       blocks, median reported (default 15)\n",
		prog, C_MAX_BURST);
}

static int
parse(struct c_opts *o, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "packed", no_argument, NULL, 'p' },
		{ "notify", no_argument, NULL, 'n' },
		{ "want-notify", no_argument, NULL, 'w' },
		{ "event-idx", no_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "quick", no_argument, NULL, 'q' },
		{ "burst", required_argument, NULL, 'b' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "blocks", required_argument, NULL, 'k' },
		{ "pkt", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	bool quick = false;
	int c;

	*o = (struct c_opts){ .burst = 32, .rounds = 2000, .blocks = 15,
			      .pkt = 64 };
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'p': o->packed = true; break;
		case 'n': o->notify = true; break;
		case 'w': o->want_notify = true; break;
		case 'e': o->event_idx = true; break;
		case 'j': o->json = true; break;
		case 'q': quick = true; break;
		case 'b': o->burst = strtoul(optarg, NULL, 0); break;
		case 'r': o->rounds = strtoul(optarg, NULL, 0); break;
		case 'k': o->blocks = strtoul(optarg, NULL, 0); break;
		case 's': o->pkt = strtoul(optarg, NULL, 0); break;
		default: return -1;
		}
	}
	if (quick) {
		o->rounds = o->rounds < 200 ? o->rounds : 200;
		o->blocks = o->blocks < 3 ? o->blocks : 3;
	}
	if (o->burst == 0 || o->burst > C_MAX_BURST || o->rounds == 0 ||
	    o->blocks == 0 || o->blocks > C_BLOCKS || o->pkt == 0 ||
	    o->pkt + C_HDR > C_RXBUF)
		return -1;
	return 0;
}

static int
efd(void)
{
	return eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

static struct vrelay_queue *
make_queue(struct c_ctx *c, struct c_side *s, uint16_t qid, uint64_t desc,
	   uint64_t drv, uint64_t dev)
{
	struct vrelay_queue_conf qc = {
		.name = qid == 0 ? "rx0" : "tx0", .qid = qid, .size = C_RING,
		.format = c->o.packed ? VRELAY_RING_PACKED : VRELAY_RING_SPLIT,
		.desc = c->mem + desc, .driver_area = c->mem + drv,
		.device_area = c->mem + dev, .device_area_gpa = dev,
		.desc_gpa = desc, .event_idx = c->o.event_idx,
		.device_read_only = qid == 1,
	};
	struct vrelay_queue *q;

	s->kick = efd();
	s->call = efd();
	s->doorbell = efd();
	s->irq = efd();
	qc.guest_kick_fd = s->kick;
	qc.guest_call_fd = s->call;
	qc.device_doorbell_fd = s->doorbell;
	qc.device_irq_fd = s->irq;
	if (c->o.packed) {
		if (packed_drv_init(&s->pd, C_RING, desc, drv, dev,
				    vq_drv_xlate_flat, &c->flat) != 0)
			return NULL;
		packed_drv_reset(&s->pd, (struct packed_pos){ 0, true });
		qc.state = (struct vrelay_qstate){ 0, 0, true, true };
	} else {
		if (split_drv_init(&s->sd, C_RING, desc, drv, dev,
				   vq_drv_xlate_flat, &c->flat) != 0)
			return NULL;
		split_drv_clear(&s->sd);
	}
	q = vrelay_queue_create(c->dev, &qc);
	if (q == NULL)
		return NULL;
	/* The engine's policy while it is busy (see vrelay_engine.c). */
	vrelay_queue_set_notify(q, c->o.want_notify);
	s->q = q;
	if (c->o.packed) {
		const struct vrelay_mring_info *m = vrelay_queue_mring(q);

		packed_dev_init(&s->pv, C_RING, m->desc, m->driver_area,
				m->device_area, vq_drv_xlate_flat, &c->flat,
				(struct packed_pos){ 0, true },
				(struct packed_pos){ 0, true });
		/* Doorbells: the device's event area; interrupts: guest's. */
		packed_event_set(s->pv.device, c->o.notify ?
				 VRING_PACKED_EVENT_FLAG_ENABLE :
				 VRING_PACKED_EVENT_FLAG_DISABLE, s->pv.avail);
		packed_drv_set_driver_event(&s->pd, c->o.notify ?
				 VRING_PACKED_EVENT_FLAG_ENABLE :
				 VRING_PACKED_EVENT_FLAG_DISABLE, s->pd.used);
	} else {
		const struct vrelay_mring_info *m = vrelay_queue_mring(q);

		s->mavail = m->driver_area;
		s->mused = m->device_area;
		s->mused->flags = c->o.notify ? 0 : VRING_USED_F_NO_NOTIFY;
		s->sd.avail->flags = c->o.notify ? 0 :
			VRING_AVAIL_F_NO_INTERRUPT;
	}
	return q;
}

static int
setup(struct c_ctx *c)
{
	c->mem = mmap(NULL, C_MEM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (c->mem == MAP_FAILED)
		return -ENOMEM;
	c->flat = (struct vq_drv_flat){ 0, C_MEM, c->mem };
	c->mt.nregions = 1;
	c->mt.regions[0] = (struct vrelay_mem_region){ 0, C_MEM,
		(uint64_t)(uintptr_t)c->mem };
	c->dev = vrelay_device_create("cycle", &c->mt);
	if (c->dev == NULL)
		return -errno;
	c->log_size = C_MEM / 4096 / 8;
	c->log = aligned_alloc(64, c->log_size);
	if (c->log == NULL)
		return -ENOMEM;
	memset(c->log, 0, c->log_size);
	if (vrelay_device_set_log(c->dev, c->log, c->log_size) != 0)
		return -EIO;
	if (make_queue(c, &c->rx, 0, C_RX_DESC, C_RX_DRV, C_RX_DEV) == NULL ||
	    make_queue(c, &c->tx, 1, C_TX_DESC, C_TX_DRV, C_TX_DEV) == NULL) {
		fprintf(stderr, "queue: %s\n", strerror(errno));
		return -EIO;
	}
	memset(c->frame, 0xab, sizeof(c->frame));
	return 0;
}

/* ---- guest ------------------------------------------------------------ */

/* Buffer ids of round r: four rounds' sets, never one still in flight. */
static uint16_t
round_id(const struct c_ctx *c, uint64_t r, unsigned int i)
{
	return (uint16_t)(((r % 4) * c->o.burst + i) % C_RING);
}

static void
guest_split(struct c_ctx *c, struct c_side *s, bool rx)
{
	uint16_t heads[C_MAX_BURST];
	struct vq_drv_seg seg;
	unsigned int i;

	for (i = 0; i < c->o.burst; i++) {
		uint16_t id = round_id(c, c->round, i);

		seg = rx ? (struct vq_drv_seg){ C_RX_BUF + id * C_RXBUF,
						C_RXBUF, VRING_DESC_F_WRITE } :
			   (struct vq_drv_seg){ C_TX_BUF + id * C_RXBUF,
						C_HDR + c->o.pkt, 0 };
		split_drv_write_chain(s->sd.desc, C_RING, id, &seg, 1);
		heads[i] = id;
	}
	split_drv_publish_n(&s->sd, heads, c->o.burst);
	/* Take what the relay published. */
	s->sd.used_seen = split_drv_used_idx(&s->sd);
}

static int
guest_packed(struct c_ctx *c, struct c_side *s, bool rx)
{
	struct vq_drv_seg seg;
	uint32_t len;
	unsigned int i;
	uint16_t id;
	int r;

	while ((r = packed_drv_get_used(&s->pd, &id, &len)) == 1)
		;
	if (r < 0)
		return -EIO;
	for (i = 0; i < c->o.burst; i++) {
		id = round_id(c, c->round, i);
		seg = rx ? (struct vq_drv_seg){ C_RX_BUF + id * C_RXBUF,
						C_RXBUF, VRING_DESC_F_WRITE } :
			   (struct vq_drv_seg){ C_TX_BUF + id * C_RXBUF,
						C_HDR + c->o.pkt, 0 };
		packed_drv_add(&s->pd, &seg, 1, id);
	}
	return 0;
}

/* ---- device ----------------------------------------------------------- */

static int
device_split(struct c_ctx *c)
{
	struct c_side *rx = &c->rx, *tx = &c->tx;
	uint16_t n_tx, n_rx, n, i;
	const uint32_t len = C_HDR + c->o.pkt;

	n_tx = __atomic_load_n(&tx->mavail->idx, __ATOMIC_ACQUIRE) -
		tx->dev_avail;
	n_rx = __atomic_load_n(&rx->mavail->idx, __ATOMIC_ACQUIRE) -
		rx->dev_avail;
	n = n_tx < n_rx ? n_tx : n_rx;
	for (i = 0; i < n; i++) {
		uint16_t th = tx->mavail->ring[(tx->dev_avail + i) %
					       C_RING];
		uint16_t rh = rx->mavail->ring[(rx->dev_avail + i) %
					       C_RING];
		const struct vring_desc *td = &tx->sd.desc[th];
		const struct vring_desc *rd = &rx->sd.desc[rh];

		/* Loopback: the TX frame into the RX buffer. */
		memcpy(c->frame, c->mem + td->addr, td->len);
		memcpy(c->mem + rd->addr, c->frame, len);
		tx->mused->ring[(tx->dev_used + i) % C_RING] =
			(struct vring_used_elem){ th, 0 };
		rx->mused->ring[(rx->dev_used + i) % C_RING] =
			(struct vring_used_elem){ rh, len };
	}
	tx->dev_avail += n;
	rx->dev_avail += n;
	tx->dev_used += n;
	rx->dev_used += n;
	__atomic_store_n(&tx->mused->idx, tx->dev_used, __ATOMIC_RELEASE);
	__atomic_store_n(&rx->mused->idx, rx->dev_used, __ATOMIC_RELEASE);
	return n == c->o.burst ? 0 : -EIO;
}

static int
device_packed(struct c_ctx *c)
{
	struct packed_dev_chain tch, rch;
	const uint32_t len = C_HDR + c->o.pkt;
	unsigned int i;

	for (i = 0; i < c->o.burst; i++) {
		if (packed_dev_fetch(&c->tx.pv, &tch) != 1 ||
		    packed_dev_fetch(&c->rx.pv, &rch) != 1)
			return -EIO;
		memcpy(c->frame, c->mem + tch.seg[0].gpa, tch.seg[0].len);
		packed_dev_fill(&c->rx.pv, &rch, len, 0xab);
		packed_dev_complete(&c->tx.pv, tch.id, 0, tch.ndesc);
		packed_dev_complete(&c->rx.pv, rch.id, len, rch.ndesc);
	}
	return 0;
}

/* ---- rounds ----------------------------------------------------------- */

static inline uint64_t
tsc(void)
{
#ifdef HAVE_RDTSC
	return __rdtsc();
#else
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
#endif
}

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* One round; @return TSC ticks of the relay pass, 0 on error. */
static uint64_t
one_round(struct c_ctx *c)
{
	struct vrelay_queue *qs[2] = { c->rx.q, c->tx.q };
	uint64_t t0, t1;

	if (c->o.packed) {
		if (guest_packed(c, &c->tx, false) != 0 ||
		    guest_packed(c, &c->rx, true) != 0)
			return 0;
	} else {
		guest_split(c, &c->tx, false);
		guest_split(c, &c->rx, true);
	}
	t0 = tsc();
	vrelay_engine_pass_queues(qs, 2);
	t1 = tsc();
	if (vrelay_queue_state(c->rx.q) == VRELAY_QUEUE_BROKEN ||
	    vrelay_queue_state(c->tx.q) == VRELAY_QUEUE_BROKEN)
		return 0;
	if ((c->o.packed ? device_packed(c) : device_split(c)) != 0)
		return 0;
	c->round++;
	return t1 - t0 ? t1 - t0 : 1;
}

static int
dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static struct c_ctx ctx;
	struct c_ctx *c = &ctx;
	double per[C_BLOCKS], ticks_ns;
	uint64_t ticks_all = 0, tsc0, ns0, t, pk;
	struct vrelay_queue_stats srx, stx;
	unsigned int b, r;

	if (parse(&c->o, argc, argv) != 0) {
		usage(argv[0]);
		return 2;
	}
	if (setup(c) != 0) {
		fprintf(stderr, "setup failed\n");
		return 1;
	}
	/* Warm up: fill the pipeline, fault the pages in. */
	for (r = 0; r < 64; r++)
		if (one_round(c) == 0)
			goto broken;
	tsc0 = tsc();
	ns0 = mono_ns();
	for (b = 0; b < c->o.blocks; b++) {
		uint64_t sum = 0;

		for (r = 0; r < c->o.rounds; r++) {
			t = one_round(c);
			if (t == 0)
				goto broken;
			sum += t;
		}
		ticks_all += sum;
		per[b] = (double)sum / ((double)c->o.rounds * c->o.burst);
	}
	/* TSC ticks per ns over the whole run. */
	ticks_ns = (double)(tsc() - tsc0) / (double)(mono_ns() - ns0);
	qsort(per, c->o.blocks, sizeof(per[0]), dcmp);
	vrelay_queue_get_stats(c->rx.q, &srx);
	vrelay_queue_get_stats(c->tx.q, &stx);
	pk = (uint64_t)c->o.blocks * c->o.rounds * c->o.burst;
	if (c->o.json)
		printf("{\"bench\":\"relay_cycle\",\"format\":\"%s\","
		       "\"peers\":\"%s\",\"want_notify\":%d,\"event_idx\":%d,"
		       "\"pkt\":%u,\"burst\":%u,\"packets\":%" PRIu64 ","
		       "\"warmup_packets\":%u,"
		       "\"ns_per_pkt\":%.2f,\"ns_per_pkt_mean\":%.2f,"
		       "\"mpps_per_core\":%.2f,"
		       "\"doorbells_per_pkt\":%.4f,\"calls_per_pkt\":%.4f,"
		       "\"pages_per_pkt\":%.3f}\n",
		       c->o.packed ? "packed" : "split",
		       c->o.notify ? "notify" : "quiet", c->o.want_notify,
		       c->o.event_idx, c->o.pkt, c->o.burst, pk,
		       64 * c->o.burst,
		       per[c->o.blocks / 2] / ticks_ns,
		       (double)ticks_all / ticks_ns / (double)pk,
		       1e3 / (per[c->o.blocks / 2] / ticks_ns),
		       (double)(srx.device_kicks + stx.device_kicks) /
		       (pk + 64 * c->o.burst),
		       (double)(srx.guest_calls + stx.guest_calls) /
		       (pk + 64 * c->o.burst),
		       (double)(srx.pages_logged + stx.pages_logged) /
		       (pk + 64 * c->o.burst));
	else
		printf("%s, peers %s: %.1f ns/packet (median of %u blocks), "
		       "%.1f Mpps per core\n", c->o.packed ? "packed" : "split",
		       c->o.notify ? "notify" : "quiet",
		       per[c->o.blocks / 2] / ticks_ns, c->o.blocks,
		       1e3 / (per[c->o.blocks / 2] / ticks_ns));
	return 0;

broken:
	fprintf(stderr, "relay cycle failed at round %" PRIu64 "\n", c->round);
	return 1;
}
