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

#include "session.h"

#define MIB (1ull << 20)
#define GIB (1ull << 30)
/** How long a scenario waits for a reply before calling it lost. */
#define VP_REPLY_MS 5000
/** How long a session tries to connect. */
#define VP_CONNECT_MS 5000

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

/**
 * Send @p n verified frames per queue pair and wait for them all.
 *
 * @param s session (started)
 * @param n frames
 * @return 0, or negative errno (-EPROTO: lost/corrupt frames)
 */
int vp_traffic(struct fe_sess *s, uint64_t n);

/**
 * SET_FEATURES with NEED_REPLY, whatever was negotiated, and the reply.
 *
 * @param s        session
 * @param features feature bits to send
 * @return reply kind (VU_REPLY_ACK when REPLY_ACK is not negotiated and
 *         the message was sent)
 */
enum vu_reply_kind vp_set_features(struct fe_sess *s, uint64_t features);

/**
 * The stateful random protocol tester (vu_proto_fuzz.c).
 *
 * @param o options (socket, seed, messages, region_mb)
 * @return process exit status
 */
int vp_cmd_fuzz(const struct vp_opts *o);

#endif /* VU_PROTO_H */
