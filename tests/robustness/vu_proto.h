/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vu-proto: vhost-user protocol regression scenarios (vu_proto.c) and a
 * stateful random protocol tester (vu_proto_fuzz.c) against a running
 * vdpa-lm. Shared session helpers.
 */
#ifndef VU_PROTO_H
#define VU_PROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "dirty_log.h"
#include "guest_mem.h"
#include "vhost_dev.h"
#include "vnet.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
/** How long a scenario waits for a reply before calling it lost. */
#define VP_REPLY_MS 5000

/** Options common to every subcommand. */
struct vp_opts {
	const char *cmd;
	const char *socket;
	unsigned int count;    /**< sessions (or repetitions) */
	bool event_idx_late;   /**< stale-size: the event-idx-late variant */
	bool log_first;        /**< stale-size: LOG_ALL before queue 3 */
	uint64_t seed;         /**< fuzz: PRNG seed */
	uint64_t messages;     /**< fuzz: messages to send */
	bool bad_mmap_offset;  /**< fuzz: regions mapped beyond their file */
	unsigned int region_mb; /**< size of each of the 2 RAM regions */
};

/** One front-end session: guest RAM, connection, driver and log. */
struct vp_sess {
	struct guest_mem gm;
	struct vdev vd;
	struct vnet vn;
	struct dl_log log;
	struct virtq *vqs[2 * VNET_MAX_QP];
	unsigned int nvq;
	bool vn_ready;         /**< vnet_init() done (vnet_free() needed) */
};

/**
 * Create guest RAM (2 regions: GPA 0 and 4 GiB) and connect with every
 * feature the test front-end drives, negotiated (LOG_ALL offered only).
 *
 * @param s         session (zeroed here)
 * @param socket    vhost-user socket
 * @param region_mb size of each region in MiB
 * @return 0 or negative errno
 */
int vp_connect(struct vp_sess *s, const char *socket, unsigned int region_mb);

/**
 * Set up the virtio-net driver (not yet started at the device).
 *
 * @param s     connected session
 * @param nqp   queue pairs
 * @param qsize ring size
 * @param pkts  frames per queue pair over the session
 * @return 0 or negative errno
 */
int vp_vnet(struct vp_sess *s, unsigned int nqp, uint16_t qsize,
	    uint64_t pkts);

/**
 * Close the connection and free everything (abrupt, as a dying QEMU).
 *
 * @param s session
 */
void vp_close(struct vp_sess *s);

/**
 * Send @p n verified frames per queue pair and wait for them all.
 *
 * @param s session (started)
 * @param n frames
 * @return 0, or negative errno (-EPROTO: lost/corrupt frames)
 */
int vp_traffic(struct vp_sess *s, uint64_t n);

/**
 * SET_FEATURES with NEED_REPLY, whatever was negotiated, and the reply.
 *
 * @param s        session
 * @param features feature bits to send
 * @return reply kind (VU_REPLY_ACK when REPLY_ACK is not negotiated and
 *         the message was sent)
 */
enum vu_reply_kind vp_set_features(struct vp_sess *s, uint64_t features);

/**
 * The stateful random protocol tester (vu_proto_fuzz.c).
 *
 * @param o options (socket, seed, messages, region_mb)
 * @return process exit status
 */
int vp_cmd_fuzz(const struct vp_opts *o);

#endif /* VU_PROTO_H */
