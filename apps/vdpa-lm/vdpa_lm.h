/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef VDPA_LM_H
#define VDPA_LM_H

/**
 * @file
 * vdpa-lm: the sample application operators run on each host. It owns the
 * vhost-user sockets a hypervisor connects to and the ifcvf_sw devices
 * behind them, forwards each device's wire side to an uplink port, and
 * lets the operator watch and steer the relay.
 */

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <rte_log.h>

#include "vdpa_relay_vhost.h"

#define VDPA_LM_MAX_DEVICES 16

extern int vdpa_lm_logtype;
#define LM_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, vdpa_lm_logtype, "vdpa-lm: " fmt "\n", \
		##__VA_ARGS__)

/** One vhost-user socket and the device behind it. */
struct vdpa_lm_port {
	char socket[256];	/**< vhost-user socket path */
	char device[64];	/**< ifcvf_sw device name */
	bool registered;	/**< socket registered with vhost */
	bool has_uplink;	/**< wire side forwarded to uplink_port */
	uint16_t wire_port;	/**< device's wire ethdev port */
	uint16_t uplink_port;	/**< where the wire side goes */
};

/** Application options and state. */
struct vdpa_lm {
	struct vdpa_lm_port ports[VDPA_LM_MAX_DEVICES];
	unsigned int nb_ports;
	bool client;		/**< connect to the sockets (reconnecting) */
	bool packed;		/**< offer packed virtqueues */
	bool no_mrg_rxbuf;	/**< do not offer mergeable rx buffers */
	bool postcopy;		/**< offer post-copy (vhost-user PAGEFAULT) */
	uint16_t queues;	/**< queue pairs per device */
	char relay_mode[16];	/**< epoll | poll | auto */
	char relay_policy[8];	/**< auto | on | off */
	char uplink[64];	/**< "loopback" or an ethdev name */
	int relay_cpu;		/**< -1: any */
	int hw_cpu;		/**< -1: any */
	int hw_poll_us;		/**< devarg poll_us, -1: the driver's default */
	bool interactive;
	bool demo;
	unsigned int stats_period; /**< seconds between status lines, 0 off */
	/** Testing: flip every device between relay and direct this often. */
	unsigned int relay_cycle_ms;
	volatile bool quit;	/**< SIGINT/SIGTERM or `quit` */
};

/** Monotonic time in microseconds (status timing, demo timestamps). */
static inline uint64_t
vdpa_lm_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

/* main.c */
int vdpa_lm_create(struct vdpa_lm *lm, const char *socket,
		   const char *device);
void vdpa_lm_print_status(struct vdpa_lm *lm);

/*
 * devstats.c: a device as vdpa-lm shows it, from the relay controller
 * (by device name) and DPDK's vDPA statistics.
 */
struct lm_queue {
	struct vrelay_vhost_qinfo qi;	/**< mode, relay and switch counters */
	/* The device's own counters (rte_vdpa_get_stats by name). */
	uint64_t packets, bytes, drops, dma_faults, ring_errors, doorbells;
};
/** @return 0, or -ENODEV if no controller has that name. */
int lm_dev_info(const char *dev, struct vrelay_vhost_info *info);
/** @return 0, -ENODEV, or -EINVAL past the device's last queue. */
int lm_queue_get(const char *dev, uint16_t q, struct lm_queue *lq);
int lm_set_policy(const char *dev, enum vrelay_policy p);
int lm_set_mode(const char *dev, const char *mode);

/*
 * miginfo.c: what decides migration compatibility of a socket, for
 * telemetry (/vdpa_lm/migration_info) and the CLI.
 */
struct lm_mig_info {
	const char *model;	/**< guest-visible device: "virtio-net" */
	unsigned int version;	/**< VRELAY_MIGRATION_VERSION */
	uint64_t features;	/**< virtio features offered on the socket */
	bool packed;		/**< packed rings offered (split always) */
	uint32_t queue_pairs;	/**< queue pairs offered */
	uint16_t max_mtu;	/**< largest MTU a frontend may set, 0 none */
	uint16_t guest_mtu;	/**< MTU the frontend set, 0 none */
	uint16_t guest_queue_pairs; /**< queue pairs the frontend set up */
	/** Whether the relay can log; what the guest negotiated. */
	struct vrelay_vhost_mig_info relay;
};
/** A served port by socket path or device name (NULL/"": the only one). */
const struct vdpa_lm_port *lm_port_find(struct vdpa_lm *lm, const char *name);
/** @return 0, or -ENODEV if the socket or its device is gone. */
int lm_mig_info(const struct vdpa_lm_port *p, struct lm_mig_info *m);
/** Register /vdpa_lm/migration_info for @p lm's ports. */
void vdpa_lm_miginfo_init(struct vdpa_lm *lm);

/* forward.c: wire <-> uplink forwarding on a worker lcore or thread. */
int vdpa_lm_forward_start(struct vdpa_lm *lm);
void vdpa_lm_forward_stop(struct vdpa_lm *lm);

/* cli.c: interactive commands. Returns when the user quits. */
void vdpa_lm_cli_run(struct vdpa_lm *lm);

/* demo.c: self-contained migration demo. @return process exit code. */
int vdpa_lm_demo_run(struct vdpa_lm *lm);

#endif /* VDPA_LM_H */
