/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vu_guest: a traffic checker that plays the guest side of a vhost-user
 * device through DPDK's unmodified virtio-user PMD.
 *
 * The device under test is expected to loop every frame back on the queue
 * pair it was sent on, with source and destination MAC swapped. Each frame
 * carries (queue, sequence) and a payload derived from them, so the checker
 * can tell lost, duplicated, misrouted and corrupted frames apart.
 *
 * Constraints (see also README-ish notes in test_virtio_user.sh):
 *  - frames larger than one mbuf are sent as multi-segment chains and need
 *    RTE_ETH_TX_OFFLOAD_MULTI_SEGS (virtio always offers it);
 *  - receiving them needs either mrg_rxbuf=1 (virtio then offers Rx
 *    scatter) or, without it, a mbuf data room large enough for the whole
 *    frame; the latter is chosen automatically;
 *  - at most --window frames, and at most --ring Rx descriptors' worth of
 *    frames, are in flight per queue, so a loss-free device never has to
 *    drop for lack of guest Rx buffers.
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define VUG_MAX_SIZES		16
#define VUG_MAX_QUEUES		16
#define VUG_MIN_FRAME		60
#define VUG_MAX_FRAME		9000
#define VUG_BURST		32
#define VUG_MAGIC		0x76754731u	/* "vuG1" */
#define VUG_ETHERTYPE		0x88b5		/* IEEE local experimental */
/* virtio-net header that shares a guest Rx buffer with the frame */
#define VUG_VNET_HDR		12
/* VLAN tag virtio adds to its max frame length computation */
#define VUG_VLAN_LEN		4

static const struct rte_ether_addr vug_mac_guest = {
	.addr_bytes = { 0x02, 0, 0, 0, 0, 0x01 } };
static const struct rte_ether_addr vug_mac_peer = {
	.addr_bytes = { 0x02, 0, 0, 0, 0, 0x02 } };

/* Test header right after the Ethernet header. */
struct vug_hdr {
	uint32_t magic;
	uint16_t queue;
	uint16_t len;		/* whole frame length */
	uint64_t seq;
	uint64_t check;		/* catches corruption of the fields above */
} __rte_packed;

#define VUG_PAYLOAD_OFF	(RTE_ETHER_HDR_LEN + sizeof(struct vug_hdr))

struct vug_opts {
	uint64_t packets;
	uint16_t sizes[VUG_MAX_SIZES];
	unsigned int nb_sizes;
	uint16_t queues;
	unsigned int timeout_s;
	unsigned int idle_ms;
	unsigned int window;
	unsigned int ring;
	bool expect_loss;
};

struct vug_queue {
	uint64_t to_send;	/* frames this queue must send */
	uint64_t next_seq;	/* next sequence number to build */
	uint64_t sent;		/* accepted by rte_eth_tx_burst */
	uint64_t received;	/* unique, valid frames that came back */
	uint64_t rx_other;	/* any frame polled on this queue */
	uint64_t dup;
	uint64_t corrupt;
	uint64_t misrouted;
	uint64_t *seen;		/* bitmap over sequence numbers */
	unsigned int in_flight_units;
	struct rte_mbuf *pending[VUG_BURST];
	unsigned int nb_pending;
	unsigned int pending_units;
};

struct vug_ctx {
	struct vug_opts opt;
	uint16_t port;
	bool port_found;
	struct rte_mempool *pool;
	uint16_t seg_room;	/* usable data bytes per mbuf */
	unsigned int units[VUG_MAX_SIZES];	/* Rx descriptors per size */
	unsigned int unit_cap;	/* Rx descriptors we may keep busy */
	struct vug_queue q[VUG_MAX_QUEUES];
	uint8_t frame[VUG_MAX_FRAME];	/* scratch for build and verify */
};

static volatile bool vug_stop;

static void
vug_on_signal(int sig)
{
	RTE_SET_USED(sig);
	vug_stop = true;
}

static void
vug_usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [--packets N] [--sizes A,B,..]\n"
	       "    [--queues Q] [--timeout S] [--idle-timeout MS] [--window W]\n"
	       "    [--ring R] [--expect-loss]\n"
	       "  --packets N       frames to send in total (default 10000)\n"
	       "  --sizes LIST      frame sizes w/o CRC, %u..%u (default 64)\n"
	       "  --queues Q        queue pairs to use (default 1)\n"
	       "  --timeout S       overall time limit (default 20)\n"
	       "  --idle-timeout MS give up when nothing returns for MS (2000)\n"
	       "  --window W        max frames in flight per queue (256)\n"
	       "  --ring R          Rx descriptors per queue; must not exceed\n"
	       "                    virtio-user queue_size (default 256)\n"
	       "  --expect-loss     loss alone does not fail the run\n",
	       prog, VUG_MIN_FRAME, VUG_MAX_FRAME);
}

static int
vug_parse_sizes(struct vug_opts *o, const char *arg)
{
	char *copy = strdup(arg);
	char *save = NULL;
	char *tok;

	if (copy == NULL)
		return -1;
	o->nb_sizes = 0;
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned long v = strtoul(tok, NULL, 0);

		if (o->nb_sizes == VUG_MAX_SIZES ||
		    v < VUG_MIN_FRAME || v > VUG_MAX_FRAME) {
			free(copy);
			return -1;
		}
		o->sizes[o->nb_sizes++] = (uint16_t)v;
	}
	free(copy);
	return o->nb_sizes > 0 ? 0 : -1;
}

static int
vug_parse_args(struct vug_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "packets", required_argument, NULL, 'p' },
		{ "sizes", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "timeout", required_argument, NULL, 't' },
		{ "idle-timeout", required_argument, NULL, 'i' },
		{ "window", required_argument, NULL, 'w' },
		{ "ring", required_argument, NULL, 'r' },
		{ "expect-loss", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct vug_opts){ .packets = 10000, .sizes = { 64 },
		.nb_sizes = 1, .queues = 1, .timeout_s = 20, .idle_ms = 2000,
		.window = 256, .ring = 256 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->packets = strtoull(optarg, NULL, 0);
			break;
		case 's':
			if (vug_parse_sizes(o, optarg) < 0)
				return -1;
			break;
		case 'q':
			o->queues = (uint16_t)strtoul(optarg, NULL, 0);
			break;
		case 't':
			o->timeout_s = strtoul(optarg, NULL, 0);
			break;
		case 'i':
			o->idle_ms = strtoul(optarg, NULL, 0);
			break;
		case 'w':
			o->window = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			o->ring = strtoul(optarg, NULL, 0);
			break;
		case 'e':
			o->expect_loss = true;
			break;
		default:
			return -1;
		}
	}
	if (optind != argc || o->queues == 0 || o->queues > VUG_MAX_QUEUES ||
	    o->window == 0 || o->ring < 2 * VUG_BURST || o->timeout_s == 0)
		return -1;
	return 0;
}

static uint64_t
vug_mix(uint64_t x)
{
	/* splitmix64 finaliser: cheap, and every input bit matters */
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t
vug_hdr_check(const struct vug_hdr *h)
{
	return vug_mix(((uint64_t)h->magic << 32 | (uint64_t)h->queue << 16 |
			h->len) ^ vug_mix(h->seq));
}

static uint16_t
vug_size_of(const struct vug_ctx *ctx, uint64_t seq)
{
	return ctx->opt.sizes[seq % ctx->opt.nb_sizes];
}

static unsigned int
vug_units_of(const struct vug_ctx *ctx, uint64_t seq)
{
	return ctx->units[seq % ctx->opt.nb_sizes];
}

/* Payload bytes depend on queue, seq and offset: any shift, swap between
 * frames or bit flip changes them.
 */
static void
vug_fill_payload(uint8_t *buf, uint16_t len, uint16_t queue, uint64_t seq)
{
	uint64_t seed = vug_mix(((uint64_t)queue << 48) ^ seq);
	uint16_t i;

	for (i = VUG_PAYLOAD_OFF; i < len; i++)
		buf[i] = (uint8_t)((seed >> ((i & 7) * 8)) + (i >> 3));
}

static void
vug_build_frame(uint8_t *buf, uint16_t len, uint16_t queue, uint64_t seq)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)buf;
	struct vug_hdr h = { .magic = VUG_MAGIC, .queue = queue, .len = len,
			     .seq = seq };

	rte_ether_addr_copy(&vug_mac_peer, &eth->dst_addr);
	rte_ether_addr_copy(&vug_mac_guest, &eth->src_addr);
	eth->ether_type = rte_cpu_to_be_16(VUG_ETHERTYPE);
	h.check = vug_hdr_check(&h);
	memcpy(buf + RTE_ETHER_HDR_LEN, &h, sizeof(h));
	vug_fill_payload(buf, len, queue, seq);
}

/* Copy a linear frame into a (possibly chained) mbuf. */
static struct rte_mbuf *
vug_frame_to_mbuf(struct vug_ctx *ctx, const uint8_t *buf, uint16_t len)
{
	struct rte_mbuf *head = NULL, *last = NULL;
	uint16_t off = 0;

	while (off < len) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(ctx->pool);
		uint16_t chunk = RTE_MIN((uint16_t)(len - off), ctx->seg_room);

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		memcpy(rte_pktmbuf_mtod(m, void *), buf + off, chunk);
		m->data_len = chunk;
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
		}
		head->pkt_len = off + chunk;
		last = m;
		off += chunk;
	}
	return head;
}

/* Frames that are fully verified are counted against the queue that sent
 * them, which frees window space there even when they were misrouted.
 */
static void
vug_verify(struct vug_ctx *ctx, uint16_t rxq, struct rte_mbuf *m)
{
	struct vug_queue *rq = &ctx->q[rxq];
	const struct rte_ether_hdr *eth;
	const struct vug_hdr *h;
	struct vug_queue *sq;
	uint32_t len = m->pkt_len;
	const uint8_t *p;

	rq->rx_other++;
	if (len < VUG_PAYLOAD_OFF || len > VUG_MAX_FRAME)
		goto corrupt;
	p = rte_pktmbuf_read(m, 0, len, ctx->frame);
	if (p == NULL)
		goto corrupt;
	eth = (const struct rte_ether_hdr *)p;
	h = (const struct vug_hdr *)(p + RTE_ETHER_HDR_LEN);
	/* the device swaps MACs: our source comes back as destination */
	if (!rte_is_same_ether_addr(&eth->dst_addr, &vug_mac_guest) ||
	    !rte_is_same_ether_addr(&eth->src_addr, &vug_mac_peer) ||
	    eth->ether_type != rte_cpu_to_be_16(VUG_ETHERTYPE) ||
	    h->magic != VUG_MAGIC || h->check != vug_hdr_check(h) ||
	    h->queue >= ctx->opt.queues || h->len != len)
		goto corrupt;
	sq = &ctx->q[h->queue];
	if (h->seq >= sq->sent || vug_size_of(ctx, h->seq) != len)
		goto corrupt;
	/* rebuild the expected payload in place of what we compare against */
	{
		uint64_t seed = vug_mix(((uint64_t)h->queue << 48) ^ h->seq);
		uint32_t i;

		for (i = VUG_PAYLOAD_OFF; i < len; i++)
			if (p[i] != (uint8_t)((seed >> ((i & 7) * 8)) + (i >> 3)))
				goto corrupt;
	}
	if (sq->seen[h->seq / 64] & (1ull << (h->seq % 64))) {
		rq->dup++;
		return;
	}
	sq->seen[h->seq / 64] |= 1ull << (h->seq % 64);
	sq->received++;
	sq->in_flight_units -= RTE_MIN(sq->in_flight_units,
				       vug_units_of(ctx, h->seq));
	if (h->queue != rxq)
		rq->misrouted++;
	return;
corrupt:
	rq->corrupt++;
}

static unsigned int
vug_poll_rx(struct vug_ctx *ctx, uint16_t qid)
{
	struct rte_mbuf *pkts[VUG_BURST];
	uint16_t n, i;

	n = rte_eth_rx_burst(ctx->port, qid, pkts, VUG_BURST);
	for (i = 0; i < n; i++) {
		vug_verify(ctx, qid, pkts[i]);
		rte_pktmbuf_free(pkts[i]);
	}
	return n;
}

/* Top up the pending burst while the window allows it. */
static void
vug_fill_pending(struct vug_ctx *ctx, uint16_t qid)
{
	struct vug_queue *q = &ctx->q[qid];

	while (q->nb_pending < VUG_BURST && q->next_seq < q->to_send) {
		uint64_t seq = q->next_seq;
		uint16_t len = vug_size_of(ctx, seq);
		unsigned int units = vug_units_of(ctx, seq);
		uint64_t in_flight = q->sent + q->nb_pending - q->received;
		struct rte_mbuf *m;

		if (in_flight >= ctx->opt.window ||
		    q->in_flight_units + q->pending_units + units > ctx->unit_cap)
			break;
		vug_build_frame(ctx->frame, len, qid, seq);
		m = vug_frame_to_mbuf(ctx, ctx->frame, len);
		if (m == NULL)
			break;	/* pool drained for now; retry later */
		q->pending[q->nb_pending++] = m;
		q->pending_units += units;
		q->next_seq++;
	}
}

static unsigned int
vug_push_tx(struct vug_ctx *ctx, uint16_t qid)
{
	struct vug_queue *q = &ctx->q[qid];
	uint16_t n, i;

	vug_fill_pending(ctx, qid);
	if (q->nb_pending == 0)
		return 0;
	n = rte_eth_tx_burst(ctx->port, qid, q->pending, q->nb_pending);
	for (i = 0; i < n; i++) {
		unsigned int u = vug_units_of(ctx, q->sent + i);

		q->in_flight_units += u;
		q->pending_units -= u;
	}
	q->sent += n;
	/* keep the rest, in order, for the next round: the ring was full */
	memmove(q->pending, q->pending + n,
		(q->nb_pending - n) * sizeof(q->pending[0]));
	q->nb_pending -= n;
	return n;
}

static bool
vug_all_done(const struct vug_ctx *ctx)
{
	uint16_t i;

	for (i = 0; i < ctx->opt.queues; i++) {
		const struct vug_queue *q = &ctx->q[i];

		if (q->sent < q->to_send || q->received < q->sent)
			return false;
	}
	return true;
}

static const char *
vug_run(struct vug_ctx *ctx)
{
	uint64_t hz = rte_get_timer_hz();
	uint64_t start = rte_get_timer_cycles();
	uint64_t deadline = start + hz * ctx->opt.timeout_s;
	uint64_t idle_limit = hz * ctx->opt.idle_ms / 1000;
	uint64_t last_rx = start;

	while (!vug_all_done(ctx)) {
		uint64_t now = rte_get_timer_cycles();
		unsigned int got = 0;
		uint16_t i;

		if (vug_stop)
			return "signal";
		if (now > deadline)
			return "timeout";
		for (i = 0; i < ctx->opt.queues; i++) {
			got += vug_poll_rx(ctx, i);
			vug_push_tx(ctx, i);
		}
		if (got != 0)
			last_rx = now;
		else if (now - last_rx > idle_limit)
			return "idle";
	}
	return "done";
}

static int
vug_setup_queues(struct vug_ctx *ctx)
{
	uint16_t i;
	int ret;

	for (i = 0; i < ctx->opt.queues; i++) {
		ret = rte_eth_rx_queue_setup(ctx->port, i, ctx->opt.ring,
				rte_eth_dev_socket_id(ctx->port), NULL,
				ctx->pool);
		if (ret < 0)
			return ret;
		ret = rte_eth_tx_queue_setup(ctx->port, i, ctx->opt.ring,
				rte_eth_dev_socket_id(ctx->port), NULL);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static uint16_t
vug_max_size(const struct vug_opts *o)
{
	uint16_t max = 0;
	unsigned int i;

	for (i = 0; i < o->nb_sizes; i++)
		max = RTE_MAX(max, o->sizes[i]);
	return max;
}

/* Pick mbuf size and offloads so that the largest frame can be both sent
 * and received, then configure the port.
 */
static int
vug_setup_port(struct vug_ctx *ctx)
{
	struct rte_eth_conf conf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t max_frame = vug_max_size(&ctx->opt);
	uint32_t data_room = RTE_MBUF_DEFAULT_BUF_SIZE;
	uint32_t need, nb_mbufs, segs_max;
	unsigned int i;
	int ret;

	ret = rte_eth_dev_info_get(ctx->port, &info);
	if (ret < 0)
		return ret;
	if (ctx->opt.queues > info.max_rx_queues ||
	    ctx->opt.queues > info.max_tx_queues) {
		fprintf(stderr, "port offers %u/%u queues, %u requested\n",
			info.max_rx_queues, info.max_tx_queues,
			ctx->opt.queues);
		return -EINVAL;
	}
	if (max_frame > RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN)
		conf.rxmode.mtu = max_frame - RTE_ETHER_HDR_LEN;
	/* what virtio compares against an Rx buffer: frame + VLAN + vnet hdr */
	need = max_frame + VUG_VLAN_LEN + VUG_VNET_HDR;
	if (need > data_room - RTE_PKTMBUF_HEADROOM) {
		if (info.rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER)
			conf.rxmode.offloads |= RTE_ETH_RX_OFFLOAD_SCATTER;
		else	/* no mergeable buffers: one buffer must hold it all */
			data_room = RTE_PKTMBUF_HEADROOM + need;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	else if (need > data_room - RTE_PKTMBUF_HEADROOM)
		data_room = RTE_PKTMBUF_HEADROOM + need;
	ctx->seg_room = data_room - RTE_PKTMBUF_HEADROOM;

	/* Worst case each frame needs one guest Rx buffer per seg_room bytes
	 * (mergeable buffers); without mrg_rxbuf this over-estimates, which
	 * only narrows the window.
	 */
	for (i = 0; i < ctx->opt.nb_sizes; i++)
		ctx->units[i] = (ctx->opt.sizes[i] + VUG_VNET_HDR +
				 ctx->seg_room - 1) / ctx->seg_room;
	ctx->unit_cap = ctx->opt.ring - VUG_BURST;
	segs_max = (max_frame + ctx->seg_room - 1) / ctx->seg_room;
	/* Rx rings full, Tx rings full of chains, pending bursts, slack */
	nb_mbufs = ctx->opt.queues * (2 * ctx->opt.ring +
			(ctx->opt.ring + 2 * VUG_BURST) * segs_max) + 1024;
	ctx->pool = rte_pktmbuf_pool_create("vug_pool", nb_mbufs, 256, 0,
			data_room, rte_socket_id());
	if (ctx->pool == NULL) {
		fprintf(stderr, "mbuf pool (%u x %u B): %s\n", nb_mbufs,
			data_room, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	ret = rte_eth_dev_configure(ctx->port, ctx->opt.queues,
				    ctx->opt.queues, &conf);
	if (ret < 0)
		return ret;
	return vug_setup_queues(ctx);
}

static int
vug_wait_link(uint16_t port, unsigned int ms)
{
	struct rte_eth_link link;

	while (ms-- > 0 && !vug_stop) {
		if (rte_eth_link_get_nowait(port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_UP)
			return 0;
		rte_delay_ms(1);
	}
	return -ETIMEDOUT;
}

static int
vug_alloc_state(struct vug_ctx *ctx)
{
	uint16_t i;

	for (i = 0; i < ctx->opt.queues; i++) {
		struct vug_queue *q = &ctx->q[i];

		q->to_send = ctx->opt.packets / ctx->opt.queues +
			(i < ctx->opt.packets % ctx->opt.queues);
		q->seen = calloc(q->to_send / 64 + 1, sizeof(uint64_t));
		if (q->seen == NULL)
			return -ENOMEM;
	}
	return 0;
}

static void
vug_free_state(struct vug_ctx *ctx)
{
	uint16_t i;

	for (i = 0; i < VUG_MAX_QUEUES; i++) {
		struct vug_queue *q = &ctx->q[i];

		rte_pktmbuf_free_bulk(q->pending, q->nb_pending);
		q->nb_pending = 0;
		free(q->seen);
		q->seen = NULL;
	}
}

/*
 * The traffic window in CLOCK_MONOTONIC seconds, for benchmarks that
 * measure other processes' CPU time over exactly that window.
 */
static double vug_mono_start, vug_mono_end;

static double
vug_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One line, valid JSON, so scripts can grep or parse it. */
static bool
vug_report(const struct vug_ctx *ctx, const char *why, double elapsed)
{
	uint64_t sent = 0, rcvd = 0, dup = 0, bad = 0, mis = 0;
	uint64_t lost;
	bool pass;
	uint16_t i;

	for (i = 0; i < ctx->opt.queues; i++) {
		sent += ctx->q[i].sent;
		rcvd += ctx->q[i].received;
		dup += ctx->q[i].dup;
		bad += ctx->q[i].corrupt;
		mis += ctx->q[i].misrouted;
	}
	lost = sent - rcvd;
	pass = dup == 0 && bad == 0 && mis == 0 && sent > 0 &&
		(ctx->opt.expect_loss ||
		 (lost == 0 && sent == ctx->opt.packets));
	printf("{\"result\":\"%s\",\"end\":\"%s\",\"sent\":%" PRIu64
	       ",\"received\":%" PRIu64 ",\"lost\":%" PRIu64
	       ",\"dup\":%" PRIu64 ",\"corrupt\":%" PRIu64
	       ",\"misrouted\":%" PRIu64 ",\"queues\":[",
	       pass ? "PASS" : "FAIL", why, sent, rcvd, lost, dup, bad, mis);
	for (i = 0; i < ctx->opt.queues; i++)
		printf("%s{\"q\":%u,\"sent\":%" PRIu64 ",\"received\":%" PRIu64
		       ",\"rx_polled\":%" PRIu64 "}", i ? "," : "", i,
		       ctx->q[i].sent, ctx->q[i].received,
		       ctx->q[i].rx_other);
	printf("],\"elapsed_s\":%.3f,\"pps\":%.0f,\"mono_start\":%.6f,"
	       "\"mono_end\":%.6f}\n", elapsed,
	       elapsed > 0 ? rcvd / elapsed : 0.0, vug_mono_start,
	       vug_mono_end);
	fflush(stdout);
	return pass;
}

static int
vug_find_port(uint16_t *port)
{
	uint16_t pid;

	if (rte_eth_dev_count_avail() != 1) {
		fprintf(stderr, "need exactly one port (a virtio-user vdev), have %u\n",
			rte_eth_dev_count_avail());
		return -ENODEV;
	}
	RTE_ETH_FOREACH_DEV(pid) {
		*port = pid;
		return 0;
	}
	return -ENODEV;
}

static int
vug_main(struct vug_ctx *ctx)
{
	uint64_t t0;
	const char *why;
	int ret;

	ret = vug_find_port(&ctx->port);
	ctx->port_found = ret == 0;
	if (ret == 0)
		ret = vug_alloc_state(ctx);
	if (ret == 0)
		ret = vug_setup_port(ctx);
	if (ret < 0) {
		fprintf(stderr, "port setup failed: %s\n", strerror(-ret));
		return ret;
	}
	ret = rte_eth_dev_start(ctx->port);
	if (ret < 0) {
		fprintf(stderr, "port start failed: %s\n", strerror(-ret));
		return ret;
	}
	/* not every backend filters MACs, but do not depend on it */
	rte_eth_promiscuous_enable(ctx->port);
	if (vug_wait_link(ctx->port, 5000) < 0) {
		fprintf(stderr, "link did not come up\n");
		ret = -ETIMEDOUT;
	} else {
		t0 = rte_get_timer_cycles();
		vug_mono_start = vug_mono();
		why = vug_run(ctx);
		vug_mono_end = vug_mono();
		ret = vug_report(ctx, why, (double)(rte_get_timer_cycles() - t0) /
				 rte_get_timer_hz()) ? 0 : -EIO;
	}
	rte_eth_dev_stop(ctx->port);
	return ret;
}

int
main(int argc, char **argv)
{
	struct vug_ctx *ctx;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "EAL init failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	argc -= ret;
	argv += ret;
	signal(SIGINT, vug_on_signal);
	signal(SIGTERM, vug_on_signal);

	/* the scratch frame is large; keep it off the stack */
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL || vug_parse_args(&ctx->opt, argc, argv) < 0) {
		vug_usage(argv[0]);
		free(ctx);
		rte_eal_cleanup();
		return 2;
	}
	ret = vug_main(ctx);
	vug_free_state(ctx);
	if (ctx->port_found)
		rte_eth_dev_close(ctx->port);
	rte_mempool_free(ctx->pool);
	free(ctx);
	rte_eal_cleanup();
	return ret == 0 ? 0 : 1;
}
