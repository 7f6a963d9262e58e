/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef VRELAY_VHOST_PRIVATE_H
#define VRELAY_VHOST_PRIVATE_H

/*
 * Internals of the relay controller (vdpa_relay_vhost.h), shared by
 * vrelay_vhost.c (vhost entry points, rings), vrelay_ctl.c (queue modes,
 * switches, engines) and vrelay_vlog.c (the dirty log and vhost-user
 * message hooks). Every field is protected by the controller's lock.
 */

#include <pthread.h>
#include <sys/queue.h>

#include <rte_vhost.h>

#include "vdpa_relay_vhost.h"
#include "vrelay_private.h"

#ifndef VHOST_F_LOG_ALL
#define VHOST_F_LOG_ALL 26
#endif

/* One virtqueue of a controlled device. */
struct vrelay_vq {
	enum vrelay_qmode mode;		/* changed by vrelay_vq_set_mode() */
	bool enabled;			/* SET_VRING_ENABLE state */
	struct rte_vhost_vring vring;	/* host view: rings, fds, size */
	struct vrelay_vhost_ring ring;	/* what the driver was given */
	uint64_t log_guest_addr;	/* device area address in the log */
	/* The device's used index when the relay was asked for. */
	uint16_t used_idx_at_log_on;
	/*
	 * The device queue was started on the guest's rings (vrelay_vq_run()
	 * or a switch back to direct I/O) and has not left DIRECT since:
	 * it may have completed buffers there. Cleared by
	 * vrelay_vq_set_mode() and by a new program_guest.
	 */
	bool direct_run;
	struct vrelay_queue *relay;	/* while mode is RELAY */
	struct vrelay_switch_stats sw;
	struct vrelay_queue_stats relay_total;	/* ended relay periods */
};

struct vrelay_vhost {
	TAILQ_ENTRY(vrelay_vhost) next;
	char name[VRELAY_NAME_LEN];
	pthread_mutex_t lock;
	const struct vrelay_vhost_ops *ops;
	void *ctx;
	uint16_t max_queues;

	enum vrelay_dstate state;	/* changed by vrelay_dev_set_state() */
	enum vrelay_policy policy;
	enum vrelay_mode mode;
	int relay_cpu;
	int vid;			/* -1: none */
	uint64_t features;		/* negotiated */
	uint16_t nb_vqs;		/* virtqueues vhost has, capped */
	struct vrelay_mem mem;		/* guest memory table */
	struct vrelay_device *rdev;	/* memory + dirty log, for queues */
	struct vrelay_engine *engine;	/* held while relaying */

	/* The dirty log: our own mapping, and its mirror during a swap. */
	void *log_map;
	uint64_t log_map_size;
	uint64_t log_size;		/* bitmap bytes, 0: none */
	uint8_t *log_tmp;		/* mirror allocation, or NULL */
	uint64_t log_tmp_size;

	/*
	 * A switch to the relay failed (negative errno) and the frontend
	 * has not been told yet: the vhost-user message being handled
	 * fails with it (vrelay_vlog.c).
	 */
	int relay_error;
	/*
	 * Post-copy window, from POSTCOPY_LISTEN to POSTCOPY_END
	 * (vrelay_vlog.c): every queue relayed, chains prefaulted.
	 */
	bool postcopy;
	bool connected;		/* vrelay_vhost_connect(): hooks from the start */
	/* Prefault counters of the relay devices destroyed so far. */
	uint64_t pf_waits;
	uint64_t pf_pages;
	uint64_t switches;
	uint64_t last_switch_ns;	/* worst queue of the last switch */
	uint64_t last_total_ns;		/* first queue stopped to last resumed */
	struct vrelay_vq *vq;		/* max_queues entries */
};

/* vrelay_vhost.c */
bool vrelay_vhost_logging(const struct vrelay_vhost *v);
bool vrelay_vhost_wants_relay(const struct vrelay_vhost *v);
struct vrelay_vhost *vrelay_vhost_find_vid(int vid);
/* Call fn with every controller's name, in creation order. */
void vrelay_vhost_each_name(void (*fn)(const char *name, void *arg),
			    void *arg);

/* vrelay_ctl.c: queue modes, switches and engines; lock held. */
int vrelay_dev_set_state(struct vrelay_vhost *v, enum vrelay_dstate to);
int vrelay_vq_set_mode(struct vrelay_vhost *v, uint16_t qid,
		       enum vrelay_qmode to);
int vrelay_vq_run(struct vrelay_vhost *v, uint16_t qid);
int vrelay_vq_hold(struct vrelay_vhost *v, uint16_t qid);
int vrelay_ctl_queue_start(struct vrelay_vhost *v, uint16_t qid);
int vrelay_ctl_queue_stop(struct vrelay_vhost *v, uint16_t qid, bool resume,
			  struct vrelay_qstate *state);
int vrelay_ctl_start(struct vrelay_vhost *v);
int vrelay_ctl_stop(struct vrelay_vhost *v);
void vrelay_ctl_hold_all(struct vrelay_vhost *v);
void vrelay_ctl_release(struct vrelay_vhost *v);
int vrelay_ctl_set_mode(struct vrelay_vhost *v, enum vrelay_mode mode);
void vrelay_ctl_qstats(const struct vrelay_vq *vq,
		       struct vrelay_queue_stats *s);

/* vrelay_vlog.c: the dirty log and vhost-user message hooks. */
int vrelay_vhost_postcopy_open(struct vrelay_vhost *v);
int vrelay_vlog_setup(struct vrelay_vhost *v);
void vrelay_vlog_release(struct vrelay_vhost *v);
int vrelay_vlog_register_hooks(struct vrelay_vhost *v);

#endif /* VRELAY_VHOST_PRIVATE_H */
