/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The dirty log the relay writes, and how it survives the frontend
 * replacing it.
 *
 * vhost maps the log and unmaps the old one inside its SET_LOG_BASE
 * handler, behind our back. We keep a mapping of our own (mremap of the
 * shared mapping), and around SET_LOG_BASE the relay logs into the
 * current log *and* a private mirror of it:
 *  - the handler succeeds: vhost has already replied, so the frontend
 *    may have read the old log for the last time; the post hook points
 *    the relay at the new log and ORs the mirror into it;
 *  - the handler fails (size 0, mmap failure, wrong fd count, ...): vhost
 *    keeps the old log and runs no post hook. The old log got every bit
 *    all along, so nothing is lost, not even for a moment; the next
 *    message's pre hook (or the device's teardown) drops the mirror.
 * A failed SET_LOG_BASE therefore changes nothing.
 *
 * Fail closed: if the private bitmap cannot be allocated the message is
 * refused; if the new log cannot be mapped every queue is held stopped
 * (the relay would otherwise write guest memory unlogged) and the
 * message fails.
 */

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_vhost.h>

#include "vrelay_dpdk_compat.h"
#include "vrelay_vhost_private.h"
#include "vrelay_rtelog.h"

/* vhost-user request codes (vhost-user specification). */
#define VRELAY_VHOST_USER_SET_LOG_BASE 6
#define VRELAY_VHOST_USER_SET_VRING_KICK 12

/* Give ourselves a mapping of the log that vhost cannot unmap. */
static void *
log_dup_map(uint64_t base, uint64_t size, void **map, uint64_t *map_len)
{
	uint64_t start = RTE_ALIGN_FLOOR(base, (uint64_t)getpagesize());
	uint64_t len = size + (base - start);
	void *dup;

	dup = mremap((void *)(uintptr_t)start, 0, len, MREMAP_MAYMOVE);
	if (dup == MAP_FAILED)
		return NULL;
	*map = dup;
	*map_len = len;
	return (uint8_t *)dup + (base - start);
}

/* The bitmap in our own mapping, or NULL. */
static uint8_t *
log_bitmap(const struct vrelay_vhost *v)
{
	if (v->log_map == NULL)
		return NULL;
	return (uint8_t *)v->log_map + (v->log_map_size - v->log_size);
}

int
vrelay_vlog_setup(struct vrelay_vhost *v)
{
	uint64_t base = 0, size = 0, map_len = 0;
	void *old_map = v->log_map, *map = NULL;
	uint64_t old_len = v->log_map_size;
	void *log = NULL;
	int ret = 0;

	if (v->rdev == NULL)
		return -EINVAL;
	if (rte_vhost_get_log_base(v->vid, &base, &size) == 0 &&
	    base != 0 && size != 0) {
		log = log_dup_map(base, size, &map, &map_len);
		if (log == NULL) {
			ret = -errno;
			VRELAY_LOG(ERR, "%s: cannot map the dirty log: %s",
				   v->name, strerror(errno));
			size = 0;
		}
	} else {
		ret = -ENOENT;
		size = 0;
	}
	vrelay_device_set_log(v->rdev, log, size);
	v->log_map = map;
	v->log_map_size = map_len;
	v->log_size = size;
	if (old_map != NULL)
		munmap(old_map, old_len);
	return ret;
}

/* The mirror inside its allocation: the same words as the log. */
static uint8_t *
log_mirror(const struct vrelay_vhost *v)
{
	return v->log_tmp + ((uintptr_t)log_bitmap(v) & 7);
}

/* OR the mirror into the (new) log, then drop it. */
static void
log_merge_mirror(struct vrelay_vhost *v, const uint8_t *mirror)
{
	uint8_t *dst = log_bitmap(v);
	uint64_t i, n;

	if (dst != NULL) {
		n = RTE_MIN(v->log_size, v->log_tmp_size);
		for (i = 0; i < n; i++)
			if (mirror[i] != 0)
				__atomic_fetch_or(&dst[i], mirror[i],
						  __ATOMIC_RELAXED);
	}
	free(v->log_tmp);
	v->log_tmp = NULL;
	v->log_tmp_size = 0;
}

/*
 * A SET_LOG_BASE mirrored the log and no post hook followed: vhost
 * failed the message and kept the old log, which has every bit. Stop
 * mirroring.
 */
static void
log_unmirror_after_failure(struct vrelay_vhost *v)
{
	if (v->log_tmp == NULL)
		return;
	vrelay_device_set_log(v->rdev, log_bitmap(v), v->log_size);
	free(v->log_tmp);
	v->log_tmp = NULL;
	v->log_tmp_size = 0;
	VRELAY_LOG(WARNING, "%s: SET_LOG_BASE failed; the previous log stays "
		   "in use", v->name);
}

void
vrelay_vlog_release(struct vrelay_vhost *v)
{
	if (v->rdev != NULL)
		vrelay_device_set_log(v->rdev, NULL, 0);
	if (v->log_map != NULL)
		munmap(v->log_map, v->log_map_size);
	v->log_map = NULL;
	v->log_map_size = 0;
	v->log_size = 0;
	free(v->log_tmp);
	v->log_tmp = NULL;
	v->log_tmp_size = 0;
}

/* The request code is the first field of every message. */
static uint32_t
msg_request(const void *msg)
{
	uint32_t request;

	memcpy(&request, msg, sizeof(request));
	return request;
}

/*
 * Messages that vhost >= 23.03 handles without the queues' access locks
 * once the vDPA device is configured, and then aborts the whole process
 * on (VRELAY_VHOST_LATE_KICK_PANICS): a SET_VRING_KICK (a queue set up
 * late) and a SET_MEM_TABLE that changes the table. Fail them instead;
 * the frontend gets a NACK or loses the connection, as for any refused
 * message. The payload follows request, flags and size (3 x u32).
 */
#define VRELAY_VHOST_USER_SET_MEM_TABLE 5
#define VRELAY_MSG_PAYLOAD 12

static bool
mem_table_changes(int vid, const void *msg)
{
	const char *p = (const char *)msg + VRELAY_MSG_PAYLOAD;
	struct rte_vhost_memory *mem = NULL;
	uint32_t n, i;
	bool changed;

	if (rte_vhost_get_mem_table(vid, &mem) != 0 || mem == NULL)
		return false;	/* no table yet: vhost takes the new one */
	memcpy(&n, p, sizeof(n));
	changed = n != mem->nregions;
	for (i = 0; !changed && i < n; i++) {
		uint64_t r[3];	/* guest_phys_addr, memory_size, userspace_addr */

		memcpy(r, p + 8 + i * 32, sizeof(r));
		changed = r[0] != mem->regions[i].guest_phys_addr ||
			  r[1] != mem->regions[i].size ||
			  r[2] != mem->regions[i].guest_user_addr;
	}
	free(mem);
	return changed;
}

/*
 * vhost does not close the file descriptors of a message its pre-handler
 * failed: close them here (struct vhu_msg_context: the message, then
 * int fds[8] and int fd_num; VRELAY_VHOST_MSG_FDS).
 */
static void
msg_close_fds(void *msg)
{
	int fds[8], n, i;

	memcpy(&n, (char *)msg + VRELAY_VHOST_MSG_FD_NUM, sizeof(n));
	if (n <= 0 || n > 8)
		return;
	memcpy(fds, (char *)msg + VRELAY_VHOST_MSG_FDS, n * sizeof(int));
	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	n = 0;
	memcpy((char *)msg + VRELAY_VHOST_MSG_FD_NUM, &n, sizeof(n));
}

static enum rte_vhost_msg_result
unlocked_msg_refuse(struct vrelay_vhost *v, int vid, void *msg)
{
	uint32_t req = msg_request(msg);
	uint64_t payload;

	if (!VRELAY_VHOST_LATE_KICK_PANICS || v->state == VRELAY_DSTATE_IDLE)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	if (req == VRELAY_VHOST_USER_SET_VRING_KICK) {
		memcpy(&payload, (const char *)msg + VRELAY_MSG_PAYLOAD,
		       sizeof(payload));
		VRELAY_LOG(ERR, "%s: queue %u: SET_VRING_KICK while the device "
			   "is configured refused (this DPDK's vhost cannot "
			   "take it)", v->name, (unsigned int)(payload & 0xff));
		msg_close_fds(msg);
		return RTE_VHOST_MSG_RESULT_ERR;
	}
	if (req == VRELAY_VHOST_USER_SET_MEM_TABLE &&
	    mem_table_changes(vid, msg)) {
		VRELAY_LOG(ERR, "%s: SET_MEM_TABLE changing the table while the "
			   "device is configured refused (this DPDK's vhost "
			   "cannot take it)", v->name);
		msg_close_fds(msg);
		return RTE_VHOST_MSG_RESULT_ERR;
	}
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

/* Mirror the log into a private bitmap while vhost swaps it. */
static enum rte_vhost_msg_result
log_mirror_start(struct vrelay_vhost *v)
{
	if (v->state != VRELAY_DSTATE_RELAY || v->log_size == 0)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	/* 8 bytes more, to give the mirror the log's alignment modulo 8. */
	v->log_tmp = calloc(1, v->log_size + 8);
	if (v->log_tmp == NULL) {
		/* Bits written meanwhile could be lost: refuse the change. */
		VRELAY_LOG(ERR, "%s: no memory to mirror the log while it is "
			   "replaced; SET_LOG_BASE refused", v->name);
		return RTE_VHOST_MSG_RESULT_ERR;
	}
	v->log_tmp_size = v->log_size;
	vrelay_device_set_log_mirrored(v->rdev, log_bitmap(v),
				       v->log_size, log_mirror(v));
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

/* Take the new log and merge what was logged during the swap. */
static enum rte_vhost_msg_result
log_take_new(struct vrelay_vhost *v)
{
	uint8_t *mirror;

	if (v->state != VRELAY_DSTATE_RELAY)
		return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
	/* Where the mirror sits depends on the old log: find it first. */
	mirror = v->log_tmp != NULL ? log_mirror(v) : NULL;
	if (vrelay_vlog_setup(v) < 0 && vrelay_vhost_logging(v) &&
	    v->policy != VRELAY_POLICY_OFF) {
		/* No log to write into: the relay must not run. */
		vrelay_ctl_hold_all(v);
		v->relay_error = -ENOENT;
	}
	if (mirror != NULL)
		log_merge_mirror(v, mirror);
	VRELAY_LOG(INFO, "%s: dirty log replaced while relaying", v->name);
	return RTE_VHOST_MSG_RESULT_NOT_HANDLED;
}

/*
 * Post-copy (issue #17; doc/design.md, "Post-copy"). On the destination
 * QEMU sends POSTCOPY_LISTEN before the device starts and POSTCOPY_END
 * once every page has arrived. In between the controller is in its
 * post-copy window: every queue runs through the relay (from its first
 * frame, as with VHOST_F_LOG_ALL), which prefaults each chain, and the
 * device is told that pages may be absent.
 */
#define VRELAY_VHOST_USER_POSTCOPY_LISTEN 29
#define VRELAY_VHOST_USER_POSTCOPY_END 30

int
vrelay_vhost_postcopy_open(struct vrelay_vhost *v)
{
	int ret;

	ret = vrelay_prefault_enable(v->rdev);
	if (ret < 0) {
		VRELAY_LOG(ERR, "%s: post-copy prefault unavailable (%s): "
			   "queues held", v->name, strerror(-ret));
		return ret;
	}
	if (v->ops->set_postcopy != NULL)
		v->ops->set_postcopy(v->ctx, true);
	return 0;
}

static void
postcopy_listen(struct vrelay_vhost *v)
{
	v->postcopy = true;
	VRELAY_LOG(INFO, "%s: post-copy window opens: queues relayed and "
		   "prefaulted", v->name);
	if (v->state == VRELAY_DSTATE_IDLE || v->rdev == NULL)
		return;	/* dev_conf opens it (the usual order) */
	if (vrelay_vhost_postcopy_open(v) < 0) {
		vrelay_ctl_hold_all(v);
		v->relay_error = -ENOMEM;
		return;
	}
	if (v->state == VRELAY_DSTATE_DIRECT && vrelay_ctl_start(v) < 0)
		v->relay_error = -EIO;
}

static void
postcopy_end(struct vrelay_vhost *v)
{
	struct vrelay_prefault_stats st = { 0 };

	if (!v->postcopy)
		return;
	v->postcopy = false;
	if (v->rdev != NULL) {
		vrelay_prefault_disable(v->rdev);
		vrelay_prefault_get_stats(v->rdev, &st);
	}
	if (v->ops->set_postcopy != NULL)
		v->ops->set_postcopy(v->ctx, false);
	VRELAY_LOG(INFO, "%s: post-copy window closes: %" PRIu64 " chains "
		   "waited for %" PRIu64 " pages", v->name, st.chain_waits,
		   st.pages_fetched);
	/* Every page has arrived: back to direct I/O unless logging. */
	if (!vrelay_vhost_wants_relay(v) && v->state == VRELAY_DSTATE_RELAY &&
	    vrelay_ctl_stop(v) < 0)
		v->relay_error = -EIO;
}

static enum rte_vhost_msg_result
relay_pre_msg(int vid, void *msg)
{
	struct vrelay_vhost *v = vrelay_vhost_find_vid(vid);
	enum rte_vhost_msg_result res = RTE_VHOST_MSG_RESULT_NOT_HANDLED;

	if (v == NULL)
		return res;
	pthread_mutex_lock(&v->lock);
	log_unmirror_after_failure(v);
	if (msg_request(msg) == VRELAY_VHOST_USER_SET_LOG_BASE)
		res = log_mirror_start(v);
	else if (msg_request(msg) == VRELAY_VHOST_USER_POSTCOPY_LISTEN)
		postcopy_listen(v);
	else if (msg_request(msg) == VRELAY_VHOST_USER_POSTCOPY_END)
		postcopy_end(v);
	else
		res = unlocked_msg_refuse(v, vid, msg);
	pthread_mutex_unlock(&v->lock);
	return res;
}

/*
 * After vhost handled a message: take a new log, and fail the message if
 * handling it made a queue switch to the relay fail (vhost ignores the
 * vDPA ops' return values), so the failure reaches the frontend: a
 * non-zero REPLY_ACK, or the connection closed if no reply was asked for.
 */
static enum rte_vhost_msg_result
relay_post_msg(int vid, void *msg)
{
	struct vrelay_vhost *v = vrelay_vhost_find_vid(vid);
	enum rte_vhost_msg_result res = RTE_VHOST_MSG_RESULT_NOT_HANDLED;

	if (v == NULL)
		return res;
	pthread_mutex_lock(&v->lock);
	if (msg_request(msg) == VRELAY_VHOST_USER_SET_LOG_BASE)
		res = log_take_new(v);
	if (v->relay_error != 0) {
		VRELAY_LOG(ERR, "%s: vhost-user request %u failed: a queue "
			   "could not be relayed (%s)", v->name,
			   msg_request(msg), strerror(-v->relay_error));
		v->relay_error = 0;
		res = RTE_VHOST_MSG_RESULT_ERR;
	}
	pthread_mutex_unlock(&v->lock);
	return res;
}

static const struct rte_vhost_user_extern_ops relay_msg_hooks = {
	.pre_msg_handle = relay_pre_msg,
	.post_msg_handle = relay_post_msg,
};

int
vrelay_vlog_register_hooks(struct vrelay_vhost *v)
{
	if (rte_vhost_extern_callback_register(v->vid, &relay_msg_hooks,
					       v) < 0) {
		VRELAY_LOG(WARNING, "%s: cannot watch SET_LOG_BASE; replacing "
			   "the log while relaying is unsafe", v->name);
		return -EINVAL;
	}
	return 0;
}
