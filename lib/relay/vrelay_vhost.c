/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * The relay controller's vhost side: one controller per vDPA device,
 * found by name (control API) or vhost id (message hooks); the four
 * entry points a driver calls from its vDPA ops; and the guest's rings,
 * read from vhost and checked before any queue starts.
 *
 * vhost checked a ring's extent only for the size it had when it
 * translated the ring addresses; a later SET_VRING_NUM, or EVENT_IDX
 * (a word after the avail and used rings), may have grown it past guest
 * memory. So every ring is checked here, whole, with the size and
 * features the queue starts with, and again by the relay when a queue
 * switches (vrelay_queue_create()).
 */

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "vrelay_vhost_private.h"
#include "vrelay_rtelog.h"

static TAILQ_HEAD(, vrelay_vhost) controllers =
	TAILQ_HEAD_INITIALIZER(controllers);
static pthread_mutex_t controllers_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- names ------------------------------------------------------------- */

static const char *const policy_names[VRELAY_POLICY_COUNT] = {
	[VRELAY_POLICY_AUTO] = "auto",
	[VRELAY_POLICY_ON] = "on",
	[VRELAY_POLICY_OFF] = "off",
};

static const char *const qmode_names[VRELAY_QMODE_COUNT] = {
	[VRELAY_QMODE_STOPPED] = "stopped",
	[VRELAY_QMODE_DIRECT] = "direct",
	[VRELAY_QMODE_SWITCHING] = "switching",
	[VRELAY_QMODE_RELAY] = "relay",
	[VRELAY_QMODE_BROKEN] = "broken",
	[VRELAY_QMODE_HELD] = "held",
};

static const char *const dstate_names[VRELAY_DSTATE_COUNT] = {
	[VRELAY_DSTATE_IDLE] = "idle",
	[VRELAY_DSTATE_DIRECT] = "direct",
	[VRELAY_DSTATE_SWITCHING] = "switching",
	[VRELAY_DSTATE_RELAY] = "relay",
};

int
vrelay_policy_from_str(const char *s, enum vrelay_policy *p)
{
	unsigned int i;

	for (i = 0; s != NULL && i < VRELAY_POLICY_COUNT; i++)
		if (strcmp(s, policy_names[i]) == 0) {
			*p = i;
			return 0;
		}
	return -EINVAL;
}

const char *
vrelay_policy_to_str(enum vrelay_policy p)
{
	return (unsigned int)p < VRELAY_POLICY_COUNT ? policy_names[p] : "?";
}

const char *
vrelay_qmode_to_str(enum vrelay_qmode m)
{
	return (unsigned int)m < VRELAY_QMODE_COUNT ? qmode_names[m] : "?";
}

const char *
vrelay_dstate_to_str(enum vrelay_dstate s)
{
	return (unsigned int)s < VRELAY_DSTATE_COUNT ? dstate_names[s] : "?";
}

/* ---- registry ------------------------------------------------------------ */

struct vrelay_vhost *
vrelay_vhost_find(const char *name)
{
	struct vrelay_vhost *v, *found = NULL;

	if (name == NULL)
		return NULL;
	pthread_mutex_lock(&controllers_lock);
	TAILQ_FOREACH(v, &controllers, next)
		if (strcmp(v->name, name) == 0) {
			found = v;
			break;
		}
	pthread_mutex_unlock(&controllers_lock);
	return found;
}

struct vrelay_vhost *
vrelay_vhost_find_vid(int vid)
{
	struct vrelay_vhost *v, *found = NULL;

	if (vid < 0)
		return NULL;
	pthread_mutex_lock(&controllers_lock);
	TAILQ_FOREACH(v, &controllers, next)
		if (__atomic_load_n(&v->vid, __ATOMIC_RELAXED) == vid) {
			found = v;
			break;
		}
	pthread_mutex_unlock(&controllers_lock);
	return found;
}

void
vrelay_vhost_each_name(void (*fn)(const char *name, void *arg), void *arg)
{
	struct vrelay_vhost *v;

	pthread_mutex_lock(&controllers_lock);
	TAILQ_FOREACH(v, &controllers, next)
		fn(v->name, arg);
	pthread_mutex_unlock(&controllers_lock);
}

static bool
conf_valid(const struct vrelay_vhost_conf *c)
{
	const struct vrelay_vhost_ops *o = c->ops;

	return c->name != NULL && c->name[0] != '\0' && c->max_queues != 0 &&
		o != NULL && o->program_guest != NULL && o->used_idx != NULL &&
		o->qctl.suspend != NULL && o->qctl.program_relay != NULL &&
		o->qctl.program_direct != NULL && o->qctl.resume != NULL &&
		(unsigned int)c->policy < VRELAY_POLICY_COUNT &&
		c->mode <= VRELAY_MODE_ADAPTIVE;
}

struct vrelay_vhost *
vrelay_vhost_create(const struct vrelay_vhost_conf *conf)
{
	struct vrelay_vhost *v;

	if (conf == NULL || !conf_valid(conf)) {
		errno = EINVAL;
		return NULL;
	}
	if (vrelay_vhost_find(conf->name) != NULL) {
		errno = EEXIST;
		return NULL;
	}
	v = calloc(1, sizeof(*v));
	if (v == NULL)
		goto fail_alloc;
	v->vq = calloc(conf->max_queues, sizeof(*v->vq));
	if (v->vq == NULL)
		goto fail_vq;
	snprintf(v->name, sizeof(v->name), "%s", conf->name);
	pthread_mutex_init(&v->lock, NULL);
	v->ops = conf->ops;
	v->ctx = conf->ctx;
	v->max_queues = conf->max_queues;
	v->policy = conf->policy;
	v->mode = conf->mode;
	v->relay_cpu = conf->relay_cpu;
	v->vid = -1;
	v->state = VRELAY_DSTATE_IDLE;
	pthread_mutex_lock(&controllers_lock);
	TAILQ_INSERT_TAIL(&controllers, v, next);
	pthread_mutex_unlock(&controllers_lock);
	return v;

fail_vq:
	free(v);
fail_alloc:
	errno = ENOMEM;
	return NULL;
}

/* Destroy the relay's device, keeping its post-copy counters. */
static void
rdev_destroy(struct vrelay_vhost *v)
{
	struct vrelay_prefault_stats st;

	vrelay_prefault_get_stats(v->rdev, &st);
	v->pf_waits += st.chain_waits;
	v->pf_pages += st.pages_fetched;
	vrelay_device_destroy(v->rdev);
}

void
vrelay_vhost_destroy(struct vrelay_vhost *v)
{
	if (v == NULL)
		return;
	pthread_mutex_lock(&controllers_lock);
	TAILQ_REMOVE(&controllers, v, next);
	pthread_mutex_unlock(&controllers_lock);
	pthread_mutex_lock(&v->lock);
	if (v->state != VRELAY_DSTATE_IDLE)
		VRELAY_LOG(ERR, "%s: controller destroyed while configured",
			   v->name);
	vrelay_ctl_release(v);
	if (v->rdev != NULL)
		rdev_destroy(v);
	pthread_mutex_unlock(&v->lock);
	pthread_mutex_destroy(&v->lock);
	free(v->vq);
	free(v);
}

/* ---- state --------------------------------------------------------------- */

bool
vrelay_vhost_logging(const struct vrelay_vhost *v)
{
	return (v->features & (1ULL << VHOST_F_LOG_ALL)) != 0;
}

bool
vrelay_vhost_wants_relay(const struct vrelay_vhost *v)
{
	/* Whatever the policy: only the relay prefaults (fail closed). */
	if (v->postcopy)
		return true;
	switch (v->policy) {
	case VRELAY_POLICY_ON:
		return true;
	case VRELAY_POLICY_OFF:
		return false;
	case VRELAY_POLICY_AUTO:
	default:
		return vrelay_vhost_logging(v);
	}
}

/* ---- guest memory and rings ------------------------------------------------ */

static int
mem_load(struct vrelay_vhost *v)
{
	struct rte_vhost_memory *vmem = NULL;
	uint32_t i;

	if (rte_vhost_get_mem_table(v->vid, &vmem) < 0 || vmem == NULL)
		return -EINVAL;
	if (vmem->nregions > VRELAY_MAX_MEM_REGIONS) {
		free(vmem);
		return -E2BIG;
	}
	memset(&v->mem, 0, sizeof(v->mem));
	for (i = 0; i < vmem->nregions; i++) {
		v->mem.regions[i].gpa = vmem->regions[i].guest_phys_addr;
		v->mem.regions[i].size = vmem->regions[i].size;
		v->mem.regions[i].hva = vmem->regions[i].host_user_addr;
	}
	v->mem.nregions = vmem->nregions;
	free(vmem);
	return 0;
}

/*
 * GPA of [p, p + len), which must lie whole in one region: the device
 * reaches a ring through a single DMA mapping (one region each).
 */
static int
hva_range_to_gpa(const struct vrelay_mem *mem, const void *p, uint64_t len,
		 uint64_t *gpa)
{
	uint64_t hva = (uintptr_t)p;
	uint32_t i;

	for (i = 0; i < mem->nregions; i++) {
		const struct vrelay_mem_region *r = &mem->regions[i];

		if (hva >= r->hva && hva - r->hva < r->size &&
		    len <= r->size - (hva - r->hva)) {
			*gpa = r->gpa + (hva - r->hva);
			return 0;
		}
	}
	return -EFAULT;
}

/* The extent of each ring of a queue, for its format, size and features. */
struct vq_geometry {
	uint64_t len[3];	/* descriptors, driver area, device area */
	const char *name[3];
};

static void
vq_geometry(enum vrelay_ring_format format, uint16_t size, bool ev,
	    struct vq_geometry *g)
{
	if (format == VRELAY_RING_PACKED) {
		*g = (struct vq_geometry){
			{ vrelay_packed_desc_len(size),
			  VRELAY_PACKED_EVENT_LEN, VRELAY_PACKED_EVENT_LEN },
			{ "descriptor ring", "driver event area",
			  "device event area" },
		};
		return;
	}
	*g = (struct vq_geometry){
		{ vrelay_split_desc_len(size), vrelay_split_avail_len(size, ev),
		  vrelay_split_used_len(size, ev) },
		{ "descriptor table", "avail ring", "used ring" },
	};
}

static bool
vq_aligned(enum vrelay_ring_format format, uint64_t desc, uint64_t drv,
	   uint64_t dev)
{
	return format == VRELAY_RING_PACKED ?
		vrelay_packed_rings_aligned(desc, drv, dev) :
		vrelay_split_rings_aligned(desc, drv, dev);
}

/*
 * Read a queue's rings from vhost and check their whole extent and
 * alignment with the current size, format and features, split or
 * packed alike.
 */
static int
vq_load(struct vrelay_vhost *v, uint16_t qid)
{
	struct vrelay_vq *vq = &v->vq[qid];
	struct vrelay_vhost_ring *r = &vq->ring;
	bool ev = (v->features & (1ULL << VIRTIO_RING_F_EVENT_IDX)) != 0;
	/* rte_vhost_vring's desc/avail/used alias packed's three areas. */
	const void *hva[3];
	uint64_t *gpa[3] = { &r->desc_gpa, &r->driver_area_gpa,
			     &r->device_area_gpa };
	struct vq_geometry g;
	unsigned int i;
	bool packed;
	uint16_t size;

	packed = (v->features & (1ULL << VIRTIO_F_RING_PACKED)) != 0;
	r->format = packed ? VRELAY_RING_PACKED : VRELAY_RING_SPLIT;
	if (rte_vhost_get_vhost_vring(v->vid, qid, &vq->vring) < 0 ||
	    vq->vring.desc == NULL)
		return -EINVAL;
	size = vq->vring.size;
	if (packed ? !vrelay_packed_size_valid(size) :
		     !vrelay_split_size_valid(size)) {
		VRELAY_LOG(ERR, "%s: queue %u ring size %u is not %s 1..%u",
			   v->name, qid, size,
			   packed ? "in" : "a power of two in",
			   VRELAY_MAX_RING_SIZE);
		return -EINVAL;
	}
	hva[0] = vq->vring.desc;
	hva[1] = vq->vring.avail;
	hva[2] = vq->vring.used;
	vq_geometry(r->format, size, ev, &g);
	for (i = 0; i < RTE_DIM(hva); i++) {
		if (hva_range_to_gpa(&v->mem, hva[i], g.len[i], gpa[i]) < 0) {
			VRELAY_LOG(ERR, "%s: queue %u %s outside guest memory "
				   "(size %u%s)", v->name, qid, g.name[i],
				   size, ev && !packed ?
				   ", with event index" : "");
			return -EFAULT;
		}
		/*
		 * Post-copy: the rings present before the relay or the
		 * device reads them (here, the control thread may block
		 * while QEMU fetches them; the engine must not).
		 */
		if (v->postcopy && v->rdev != NULL)
			vrelay_prefault_touch(v->rdev, hva[i], g.len[i]);
	}
	if (!vq_aligned(r->format, (uintptr_t)hva[0], (uintptr_t)hva[1],
			(uintptr_t)hva[2]) ||
	    !vq_aligned(r->format, r->desc_gpa, r->driver_area_gpa,
			r->device_area_gpa)) {
		VRELAY_LOG(ERR, "%s: queue %u rings not aligned as virtio "
			   "requires", v->name, qid);
		return -EINVAL;
	}
	if (vq->vring.kickfd < 0) {
		VRELAY_LOG(ERR, "%s: queue %u has no kick fd", v->name, qid);
		return -EINVAL;
	}
	r->size = size;
	r->kick_fd = vq->vring.kickfd;
	r->call_fd = vq->vring.callfd >= 0 ? vq->vring.callfd : -1;
	r->features = v->features;
	vq->log_guest_addr = vq->vring.log_guest_addr;
	return 0;
}

/*
 * Program an enabled queue, its rings read and checked, onto the guest's rings at vhost's
 * indices, and run it unless the relay is wanted: then it stays stopped
 * and the switch that follows resumes it on the mediated rings, so the
 * device makes no unlogged write while the frontend logs.
 */
static int
vq_start(struct vrelay_vhost *v, uint16_t qid, bool run)
{
	struct vrelay_vq *vq = &v->vq[qid];
	uint16_t la, lu;
	int ret;

	if (rte_vhost_get_vring_base(v->vid, qid, &la, &lu) < 0)
		return -EINVAL;
	vrelay_qstate_from_base(vq->ring.format, la, lu, &vq->ring.state);
	/* Not run yet: no in-flight window. */
	vq->used_idx_at_log_on = vq->ring.state.used_idx;
	vq->direct_run = false;
	ret = v->ops->program_guest(v->ctx, qid, &vq->ring);
	if (ret < 0)
		return ret;
	ret = vrelay_vq_set_mode(v, qid, VRELAY_QMODE_DIRECT);
	if (ret < 0 || !run)
		return ret;
	ret = vrelay_vq_run(v, qid);
	if (ret < 0)
		vrelay_vq_set_mode(v, qid, VRELAY_QMODE_BROKEN);
	return ret;
}

/*
 * Stop a queue wherever it runs (relayed, direct, held or broken) and
 * hand vhost the device's exact indices, which GET_VRING_BASE returns.
 */
static void
vq_stop(struct vrelay_vhost *v, uint16_t qid)
{
	struct vrelay_vq *vq = &v->vq[qid];
	struct vrelay_qstate st = vq->ring.state;
	uint16_t la, lu;

	if (vq->mode == VRELAY_QMODE_STOPPED)
		return;
	if (vq->relay != NULL)
		vrelay_ctl_queue_stop(v, qid, false, &st);
	else
		v->ops->qctl.suspend(v->ctx, qid, &st);
	if (v->ops->reset != NULL)
		v->ops->reset(v->ctx, qid);
	vq->ring.state = st;
	vrelay_qstate_to_base(vq->ring.format, &st, &la, &lu);
	rte_vhost_set_vring_base(v->vid, qid, la, lu);
	vrelay_vq_set_mode(v, qid, VRELAY_QMODE_STOPPED);
}

/* ---- entry points ------------------------------------------------------------ */

int
vrelay_vhost_connect(struct vrelay_vhost *v, int vid)
{
	int ret;

	if (v == NULL || vid < 0)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	__atomic_store_n(&v->vid, vid, __ATOMIC_RELAXED);
	ret = vrelay_vlog_register_hooks(v);
	v->connected = ret == 0;
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/* vhost-user protocol feature bit: the frontend may post-copy. */
#define VRELAY_PROTOCOL_F_PAGEFAULT 8

/*
 * Post-copy offered on the socket (vhost keeps PAGEFAULT only with
 * RTE_VHOST_USER_POSTCOPY_SUPPORT): then POSTCOPY_LISTEN, which precedes
 * dev_conf, must have been watched (vrelay_vhost_connect()), or the
 * queues could start unprefaulted on a post-copy destination.
 */
static int
postcopy_check(struct vrelay_vhost *v, int vid)
{
	char path[PATH_MAX];
	uint64_t pf = 0;

	if (v->connected ||
	    rte_vhost_get_ifname(vid, path, sizeof(path)) < 0 ||
	    rte_vhost_driver_get_protocol_features(path, &pf) < 0 ||
	    !(pf & (1ULL << VRELAY_PROTOCOL_F_PAGEFAULT)))
		return 0;
	VRELAY_LOG(ERR, "%s: post-copy negotiated but the connection was "
		   "not announced (vrelay_vhost_connect()): refused", v->name);
	return -EPROTO;
}

int
vrelay_vhost_dev_conf(struct vrelay_vhost *v, int vid)
{
	uint16_t qid;
	int ret;

	pthread_mutex_lock(&v->lock);
	__atomic_store_n(&v->vid, vid, __ATOMIC_RELAXED);
	rte_vhost_get_negotiated_features(vid, &v->features);
	v->nb_vqs = RTE_MIN(rte_vhost_get_vring_num(vid), v->max_queues);
	ret = postcopy_check(v, vid);
	if (ret == 0)
		ret = mem_load(v);
	if (ret < 0)
		goto fail_mem;
	if (v->rdev != NULL)
		rdev_destroy(v);
	v->rdev = vrelay_device_create(v->name, &v->mem);
	if (v->rdev == NULL) {
		ret = -errno;
		goto fail_mem;
	}
	if (v->postcopy) {
		ret = vrelay_vhost_postcopy_open(v);
		if (ret < 0)
			goto fail_mem;	/* no queue starts unprefaulted */
	}
	for (qid = 0; qid < v->nb_vqs; qid++) {
		if (vq_load(v, qid) < 0) {
			/* Not set up by the frontend, or bad: stays stopped. */
			v->vq[qid].enabled = false;
			continue;
		}
		if (v->vq[qid].enabled &&
		    vq_start(v, qid, !vrelay_vhost_wants_relay(v)) < 0)
			VRELAY_LOG(ERR, "%s: queue %u failed to start", v->name,
				   qid);
	}
	vrelay_dev_set_state(v, VRELAY_DSTATE_DIRECT);
	vrelay_vlog_register_hooks(v);
	/*
	 * A queue that cannot be relayed is held stopped; vhost runs this
	 * after the message's reply, so the next message reports it.
	 */
	if (vrelay_vhost_wants_relay(v))
		vrelay_ctl_start(v);
	VRELAY_LOG(INFO, "%s: configured vid %d, %u vrings, features 0x%"
		   PRIx64, v->name, vid, v->nb_vqs, v->features);
	pthread_mutex_unlock(&v->lock);
	return 0;

fail_mem:
	VRELAY_LOG(ERR, "%s: dev_conf failed: %s", v->name, strerror(-ret));
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int
vrelay_vhost_dev_close(struct vrelay_vhost *v)
{
	uint16_t qid;

	pthread_mutex_lock(&v->lock);
	for (qid = 0; qid < v->nb_vqs; qid++)
		vq_stop(v, qid);
	vrelay_ctl_release(v);
	if (v->rdev != NULL)
		rdev_destroy(v);
	v->rdev = NULL;
	vrelay_dev_set_state(v, VRELAY_DSTATE_IDLE);
	VRELAY_LOG(INFO, "%s: closed vid %d", v->name, v->vid);
	pthread_mutex_unlock(&v->lock);
	return 0;
}

void
vrelay_vhost_dev_cleanup(struct vrelay_vhost *v)
{
	uint16_t qid;

	pthread_mutex_lock(&v->lock);
	__atomic_store_n(&v->vid, -1, __ATOMIC_RELAXED);
	v->features = 0;
	v->postcopy = false;	/* a new connection is a new migration */
	v->connected = false;
	/*
	 * A relay failure not reported yet belongs to the frontend that is
	 * gone (e.g. a queue held while vhost tore the device down): the
	 * next connection's first message must not be failed for it.
	 */
	v->relay_error = 0;
	for (qid = 0; qid < v->max_queues; qid++)
		v->vq[qid].enabled = false;
	pthread_mutex_unlock(&v->lock);
}

int
vrelay_vhost_set_features(struct vrelay_vhost *v)
{
	uint64_t features;
	int ret = 0;

	if (rte_vhost_get_negotiated_features(v->vid, &features) < 0)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	v->features = features;
	if (v->state == VRELAY_DSTATE_IDLE)
		goto out;	/* not running yet: dev_conf decides */
	/*
	 * Switch before answering the frontend: QEMU waits for the reply to
	 * SET_FEATURES(LOG_ALL) before it copies the first page, so every
	 * device write until then is covered by the first full copy.
	 */
	if (vrelay_vhost_wants_relay(v) && v->state == VRELAY_DSTATE_DIRECT)
		ret = vrelay_ctl_start(v);
	else if (!vrelay_vhost_wants_relay(v) &&
		 v->state == VRELAY_DSTATE_RELAY)
		ret = vrelay_ctl_stop(v);
out:
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int
vrelay_vhost_set_vring_state(struct vrelay_vhost *v, uint16_t qid,
			     bool enable)
{
	struct vrelay_vq *vq;
	int ret = 0;

	if (qid >= v->max_queues)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	vq = &v->vq[qid];
	vq->enabled = enable;
	if (v->state == VRELAY_DSTATE_IDLE)
		goto out;	/* applied at dev_conf */
	if (!enable) {
		vq_stop(v, qid);
		goto out;
	}
	if (vq->mode != VRELAY_QMODE_STOPPED)
		goto out;
	if (qid >= v->nb_vqs)
		v->nb_vqs = qid + 1;
	ret = vq_load(v, qid);
	if (ret == 0)
		ret = vq_start(v, qid, v->state != VRELAY_DSTATE_RELAY);
	if (ret == 0 && v->state == VRELAY_DSTATE_RELAY)
		ret = vrelay_ctl_queue_start(v, qid);
out:
	pthread_mutex_unlock(&v->lock);
	return ret;
}

/* ---- control ------------------------------------------------------------------ */

int
vrelay_vhost_set_policy(struct vrelay_vhost *v, enum vrelay_policy p)
{
	int ret = 0;

	if (v == NULL || (unsigned int)p >= VRELAY_POLICY_COUNT)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	v->policy = p;
	if (vrelay_vhost_wants_relay(v) && v->state == VRELAY_DSTATE_DIRECT)
		ret = vrelay_ctl_start(v);
	else if (!vrelay_vhost_wants_relay(v) &&
		 v->state == VRELAY_DSTATE_RELAY)
		ret = vrelay_ctl_stop(v);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int
vrelay_vhost_set_mode(struct vrelay_vhost *v, enum vrelay_mode mode)
{
	int ret;

	if (v == NULL || mode > VRELAY_MODE_ADAPTIVE)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	ret = vrelay_ctl_set_mode(v, mode);
	pthread_mutex_unlock(&v->lock);
	return ret;
}

int
vrelay_vhost_get_info(struct vrelay_vhost *v, struct vrelay_vhost_info *info)
{
	memset(info, 0, sizeof(*info));
	pthread_mutex_lock(&v->lock);
	info->state = v->state;
	info->policy = v->policy;
	info->mode = v->mode;
	info->logging = vrelay_vhost_logging(v);
	info->vid = v->vid;
	info->nb_queues = v->nb_vqs;
	info->switches = v->switches;
	info->last_switch_ns = v->last_switch_ns;
	info->last_switch_total_ns = v->last_total_ns;
	info->relay_cpu_ns = v->engine != NULL ?
		vrelay_engine_cpu_ns(v->engine) : 0;
	info->postcopy = v->postcopy;
	info->prefault_waits = v->pf_waits;
	info->prefault_pages = v->pf_pages;
	if (v->rdev != NULL) {
		struct vrelay_prefault_stats pst;

		vrelay_prefault_get_stats(v->rdev, &pst);
		info->prefault_waits += pst.chain_waits;
		info->prefault_pages += pst.pages_fetched;
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int
vrelay_vhost_get_mig_info(struct vrelay_vhost *v,
			  struct vrelay_vhost_mig_info *mi)
{
	memset(mi, 0, sizeof(*mi));
	pthread_mutex_lock(&v->lock);
	/*
	 * Only the relay logs what the device writes: with it forced off,
	 * a migration would hand the destination stale guest pages.
	 */
	mi->can_log = v->policy != VRELAY_POLICY_OFF;
	if (!mi->can_log)
		mi->cannot_log_why = "relay policy is off";
	mi->connected = v->vid >= 0 && v->features != 0;
	if (mi->connected) {
		mi->features = v->features;
		mi->nb_queues = v->nb_vqs;
	}
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int
vrelay_vhost_get_qinfo(struct vrelay_vhost *v, uint16_t qid,
		       struct vrelay_vhost_qinfo *info)
{
	struct vrelay_vq *vq;

	if (qid >= v->max_queues)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	/*
	 * vq->relay is freed by a switch back to direct I/O, which runs
	 * under the lock: hold it so the queue cannot go away under us.
	 */
	pthread_mutex_lock(&v->lock);
	vq = &v->vq[qid];
	info->mode = vq->mode;
	/* One answer for "broken": the relay's verdict or the device's. */
	if ((vq->relay != NULL &&
	     vrelay_queue_state(vq->relay) == VRELAY_QUEUE_BROKEN) ||
	    (v->ops->faulted != NULL && v->ops->faulted(v->ctx, qid)))
		info->mode = VRELAY_QMODE_BROKEN;
	info->enabled = vq->enabled;
	vrelay_ctl_qstats(vq, &info->relay);
	info->sw = vq->sw;
	pthread_mutex_unlock(&v->lock);
	return 0;
}

int
vrelay_vhost_reset_qinfo(struct vrelay_vhost *v, uint16_t qid)
{
	if (qid >= v->max_queues)
		return -EINVAL;
	pthread_mutex_lock(&v->lock);
	memset(&v->vq[qid].sw, 0, sizeof(v->vq[qid].sw));
	memset(&v->vq[qid].relay_total, 0, sizeof(v->vq[qid].relay_total));
	pthread_mutex_unlock(&v->lock);
	return 0;
}
