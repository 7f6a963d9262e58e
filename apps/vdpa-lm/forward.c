/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Forwarding between each device's wire port and the uplink port, as a
 * NIC's wire would carry it: every wire RX queue goes to uplink TX queue
 * 0, and uplink RX queue 0 comes in on wire TX queue 0 (the device's
 * first RX queue). Runs on a worker lcore when EAL gave one, else on a
 * plain thread; it naps when idle so that an idle host stays idle.
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "ifcvf_sw_api.h"
#include "vdpa_lm.h"

#define FWD_BURST 32
#define FWD_IDLE_SPINS 1024
#define FWD_NAP_US 200

static struct rte_mempool *fwd_pool;
static unsigned int fwd_lcore = RTE_MAX_LCORE;
static pthread_t fwd_thread;
static bool fwd_thread_running;
static volatile bool fwd_quit;

static int
port_setup(uint16_t port, uint16_t nb_queues)
{
	struct rte_eth_conf conf;
	uint16_t q;
	int ret;

	memset(&conf, 0, sizeof(conf));
	ret = rte_eth_dev_configure(port, nb_queues, nb_queues, &conf);
	for (q = 0; ret == 0 && q < nb_queues; q++) {
		ret = rte_eth_rx_queue_setup(port, q, 512,
					     rte_eth_dev_socket_id(port),
					     NULL, fwd_pool);
		if (ret == 0)
			ret = rte_eth_tx_queue_setup(port, q, 512,
					rte_eth_dev_socket_id(port), NULL);
	}
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret == 0)
		rte_eth_promiscuous_enable(port);
	if (ret != 0)
		LM_LOG(ERR, "cannot start port %u: %s", port, strerror(-ret));
	return ret;
}

static void
fwd_move(uint16_t from, uint16_t fq, uint16_t to, uint16_t tq,
	 unsigned int *work)
{
	struct rte_mbuf *pkts[FWD_BURST];
	uint16_t n, sent;

	n = rte_eth_rx_burst(from, fq, pkts, FWD_BURST);
	if (n == 0)
		return;
	sent = rte_eth_tx_burst(to, tq, pkts, n);
	/* A full uplink drops, as a wire would. */
	rte_pktmbuf_free_bulk(&pkts[sent], n - sent);
	*work += n;
}

static int
fwd_main(void *arg)
{
	struct vdpa_lm *lm = arg;
	unsigned int idle = 0;

	while (!fwd_quit) {
		unsigned int i, work = 0;

		for (i = 0; i < lm->nb_ports; i++) {
			struct vdpa_lm_port *p = &lm->ports[i];
			uint16_t q;

			if (!p->has_uplink)
				continue;
			for (q = 0; q < lm->queues; q++)
				fwd_move(p->wire_port, q, p->uplink_port, 0,
					 &work);
			fwd_move(p->uplink_port, 0, p->wire_port, 0, &work);
		}
		if (work != 0)
			idle = 0;
		else if (++idle > FWD_IDLE_SPINS)
			usleep(FWD_NAP_US);
	}
	return 0;
}

static void *
fwd_thread_main(void *arg)
{
	fwd_main(arg);
	return NULL;
}

int
vdpa_lm_forward_start(struct vdpa_lm *lm)
{
	bool any = false, uplink_started = false;
	unsigned int i;

	for (i = 0; i < lm->nb_ports; i++)
		any |= lm->ports[i].has_uplink;
	if (!any)
		return 0;
	fwd_pool = rte_pktmbuf_pool_create("lm_fwd", 8192, 256, 0,
					   RTE_MBUF_DEFAULT_BUF_SIZE,
					   rte_socket_id());
	if (fwd_pool == NULL) {
		LM_LOG(ERR, "cannot create the forwarding mbuf pool");
		return -ENOMEM;
	}
	for (i = 0; i < lm->nb_ports; i++) {
		struct vdpa_lm_port *p = &lm->ports[i];

		if (!p->has_uplink)
			continue;
		if (port_setup(p->wire_port, lm->queues) != 0)
			return -EIO;
		if (!uplink_started) {
			if (port_setup(p->uplink_port, 1) != 0)
				return -EIO;
			uplink_started = true;
		}
	}
	fwd_quit = false;
	fwd_lcore = rte_get_next_lcore(-1, 1, 0);
	if (fwd_lcore < RTE_MAX_LCORE)
		return rte_eal_remote_launch(fwd_main, lm, fwd_lcore);
	if (pthread_create(&fwd_thread, NULL, fwd_thread_main, lm) != 0)
		return -EAGAIN;
	fwd_thread_running = true;
	return 0;
}

void
vdpa_lm_forward_stop(struct vdpa_lm *lm)
{
	unsigned int i;

	fwd_quit = true;
	if (fwd_lcore < RTE_MAX_LCORE)
		rte_eal_wait_lcore(fwd_lcore);
	if (fwd_thread_running)
		pthread_join(fwd_thread, NULL);
	fwd_thread_running = false;
	fwd_lcore = RTE_MAX_LCORE;
	for (i = 0; i < lm->nb_ports; i++) {
		if (!lm->ports[i].has_uplink)
			continue;
		rte_eth_dev_stop(lm->ports[i].wire_port);
		rte_eth_dev_stop(lm->ports[i].uplink_port);
	}
}
