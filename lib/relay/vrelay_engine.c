/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Relay engine: one thread serving many queues.
 *
 * The queue list is only ever touched by the engine thread; the control
 * thread changes it through a synchronous command (mutex + cond for the
 * reply, an eventfd to wake an epoll sleeper, a flag a poller checks),
 * so the hot path takes no lock and detach knows the engine is done
 * with a queue once the reply arrives.
 */

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sched.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <rte_pause.h>

#include "vrelay_private.h"
#include "vrelay_rtelog.h"

/* Entries per ring operation, so one busy queue cannot starve others. */
#define ENGINE_BUDGET 256
/* Idle polling passes before an adaptive engine goes to sleep. */
#define ENGINE_ADAPTIVE_IDLE 2048
/* Sleep bound when some queue has no fd to wake us. */
#define ENGINE_POLL_ONLY_MS 1
#define ENGINE_EVENTS 64

enum engine_cmd {
	CMD_NONE,
	CMD_ATTACH,
	CMD_DETACH,
	CMD_MODE,
	CMD_STOP,
};

struct vrelay_engine {
	char name[16];
	pthread_t thread;
	clockid_t cpu_clock;
	int cpu;
	int epfd;
	int ctlfd;			/* wakes an epoll sleeper for commands */
	struct vrelay_evsrc ctl_src;
	int mode;			/* enum vrelay_mode, atomic */

	/* Command handshake, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool busy;			/* a control thread owns the slot */
	bool done;			/* engine has replied */
	enum engine_cmd cmd;
	struct vrelay_queue *cmd_q;
	enum vrelay_mode cmd_mode;
	int result;
	uint32_t cmd_pending;		/* atomic: checked by the poll loop */

	/* Engine thread only. */
	bool stop;
	struct vrelay_queue *queues[VRELAY_ENGINE_MAX_QUEUES];
	unsigned int nq;
	unsigned int npoll_only;	/* attached queues lacking an fd */

	/*
	 * Fault injection for the robustness tests: microseconds to sleep
	 * at the start of every pass, from VRELAY_FAULT_DELAY_US when the
	 * engine is created (0: off). It models a relay thread that is
	 * descheduled or starved while the device runs at full speed, so
	 * the tests can show that a slow relay loses no dirty page.
	 */
	unsigned int fault_delay_us;
};

static bool
engine_service(struct vrelay_queue *q)
{
	int a, u;

	if (vrelay_queue_is_broken(q))
		return false;
	a = vrelay_queue_relay_avail(q, ENGINE_BUDGET);
	u = vrelay_queue_relay_used(q, ENGINE_BUDGET);
	return a > 0 || u > 0;
}

/* One pass over every queue; true if any had work. */
static bool
engine_pass(struct vrelay_engine *e)
{
	bool work = false;
	unsigned int i;

	if (e->fault_delay_us != 0 && e->nq != 0)
		usleep(e->fault_delay_us);
	for (i = 0; i < e->nq; i++)
		work |= engine_service(e->queues[i]);
	return work;
}

static void
engine_set_notify_all(struct vrelay_engine *e, bool want)
{
	unsigned int i;

	for (i = 0; i < e->nq; i++)
		if (!vrelay_queue_is_broken(e->queues[i]))
			vrelay_queue_set_notify(e->queues[i], want);
}

static void
engine_epoll_add(struct vrelay_engine *e, struct vrelay_evsrc *src,
		 struct vrelay_queue *q, int fd, int is_irq)
{
	struct epoll_event ev = { .events = EPOLLIN };

	src->q = q;
	src->fd = fd;
	src->is_irq = is_irq;
	ev.data.ptr = src;
	if (fd >= 0 && epoll_ctl(e->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		VRELAY_LOG(ERR, "%s: epoll add fd %d: %s", q->name, fd,
			   strerror(errno));
}

static int
engine_do_attach(struct vrelay_engine *e, struct vrelay_queue *q)
{
	if (e->nq == VRELAY_ENGINE_MAX_QUEUES)
		return -ENOSPC;
	e->queues[e->nq++] = q;
	engine_epoll_add(e, &q->ev_kick, q, q->guest_kick_fd, 0);
	engine_epoll_add(e, &q->ev_irq, q, q->irq_fd, 1);
	if (q->guest_kick_fd < 0 || q->irq_fd < 0)
		e->npoll_only++;
	__atomic_store_n(&q->state, VRELAY_QUEUE_RELAY, __ATOMIC_RELEASE);
	vrelay_queue_set_notify(q, e->mode == VRELAY_MODE_EPOLL);
	return 0;
}

static int
engine_do_detach(struct vrelay_engine *e, struct vrelay_queue *q)
{
	unsigned int i;

	for (i = 0; i < e->nq; i++)
		if (e->queues[i] == q)
			break;
	if (i == e->nq)
		return -ENOENT;
	e->queues[i] = e->queues[--e->nq];
	if (q->guest_kick_fd >= 0)
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, q->guest_kick_fd, NULL);
	if (q->irq_fd >= 0)
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, q->irq_fd, NULL);
	if (q->guest_kick_fd < 0 || q->irq_fd < 0)
		e->npoll_only--;
	/* A broken queue stays broken; a healthy one goes back to idle. */
	if (!vrelay_queue_is_broken(q))
		__atomic_store_n(&q->state, VRELAY_QUEUE_IDLE,
				 __ATOMIC_RELEASE);
	return 0;
}

/* Run a pending control command; called between passes only. */
static void
engine_do_cmd(struct vrelay_engine *e)
{
	struct vrelay_queue *attached = NULL;

	if (!__atomic_load_n(&e->cmd_pending, __ATOMIC_ACQUIRE))
		return;
	vrelay_eventfd_drain(e->ctlfd);
	pthread_mutex_lock(&e->lock);
	switch (e->cmd) {
	case CMD_ATTACH:
		e->result = engine_do_attach(e, e->cmd_q);
		if (e->result == 0)
			attached = e->cmd_q;
		break;
	case CMD_DETACH:
		e->result = engine_do_detach(e, e->cmd_q);
		break;
	case CMD_MODE:
		__atomic_store_n(&e->mode, e->cmd_mode, __ATOMIC_RELEASE);
		engine_set_notify_all(e, e->cmd_mode == VRELAY_MODE_EPOLL);
		e->result = 0;
		break;
	case CMD_STOP:
		e->stop = true;
		e->result = 0;
		break;
	case CMD_NONE:
		break;
	}
	e->cmd = CMD_NONE;
	e->done = true;
	__atomic_store_n(&e->cmd_pending, 0, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	/* Catch up with anything kicked before the switch. */
	if (attached != NULL)
		while (engine_service(attached))
			;
}

/*
 * Arm every queue and sleep until a kick, irq or command. A queue that
 * got work while being armed turns the sleep into a non-blocking check
 * (lost-wakeup avoidance).
 */
static void
engine_sleep(struct vrelay_engine *e)
{
	struct epoll_event ev[ENGINE_EVENTS];
	struct vrelay_evsrc *src;
	int timeout = -1, n, i;
	unsigned int k;

	for (k = 0; k < e->nq; k++)
		if (!vrelay_queue_is_broken(e->queues[k]) &&
		    vrelay_queue_arm(e->queues[k]))
			timeout = 0;
	if (timeout != 0 && e->npoll_only != 0)
		timeout = ENGINE_POLL_ONLY_MS;
	if (timeout != 0 && __atomic_load_n(&e->cmd_pending, __ATOMIC_ACQUIRE))
		timeout = 0;
	n = epoll_wait(e->epfd, ev, ENGINE_EVENTS, timeout);
	for (i = 0; i < n; i++) {
		src = ev[i].data.ptr;
		if (src == &e->ctl_src)
			continue;	/* handled by engine_do_cmd() */
		if (!vrelay_eventfd_drain(src->fd))
			continue;
		if (src->is_irq)
			src->q->stats.device_irqs++;
		else
			src->q->stats.guest_kicks++;
	}
}

static void
engine_run_epoll(struct vrelay_engine *e)
{
	engine_sleep(e);
	while (engine_pass(e))
		;
}

static void
engine_run_adaptive(struct vrelay_engine *e, unsigned int *idle)
{
	if (engine_pass(e)) {
		*idle = 0;
		return;
	}
	if (++*idle < ENGINE_ADAPTIVE_IDLE)
		return;
	engine_sleep(e);
	/* Polling again: notifications would only cost the peers. */
	engine_set_notify_all(e, false);
	*idle = 0;
}

static void *
engine_main(void *arg)
{
	struct vrelay_engine *e = arg;
	unsigned int idle = 0;

	while (!e->stop) {
		switch (__atomic_load_n(&e->mode, __ATOMIC_RELAXED)) {
		case VRELAY_MODE_EPOLL:
			engine_run_epoll(e);
			break;
		case VRELAY_MODE_POLL:
			engine_pass(e);
			break;
		case VRELAY_MODE_ADAPTIVE:
			engine_run_adaptive(e, &idle);
			break;
		}
		engine_do_cmd(e);
	}
	return NULL;
}

/* Post a command and wait for the engine's reply. */
static int
engine_call(struct vrelay_engine *e, enum engine_cmd cmd,
	    struct vrelay_queue *q, enum vrelay_mode mode)
{
	int ret;

	pthread_mutex_lock(&e->lock);
	while (e->busy)
		pthread_cond_wait(&e->cond, &e->lock);
	e->busy = true;
	e->done = false;
	e->cmd = cmd;
	e->cmd_q = q;
	e->cmd_mode = mode;
	__atomic_store_n(&e->cmd_pending, 1, __ATOMIC_RELEASE);
	vrelay_eventfd_signal(e->ctlfd);
	while (!e->done)
		pthread_cond_wait(&e->cond, &e->lock);
	ret = e->result;
	e->busy = false;
	pthread_cond_broadcast(&e->cond);
	pthread_mutex_unlock(&e->lock);
	return ret;
}

static int
engine_start_thread(struct vrelay_engine *e)
{
	cpu_set_t set;
	int ret;

	ret = pthread_create(&e->thread, NULL, engine_main, e);
	if (ret != 0)
		return ret;
	pthread_setname_np(e->thread, e->name);
	if (pthread_getcpuclockid(e->thread, &e->cpu_clock) != 0)
		e->cpu_clock = (clockid_t)-1;
	if (e->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(e->cpu, &set);
		ret = pthread_setaffinity_np(e->thread, sizeof(set), &set);
		if (ret != 0)
			VRELAY_LOG(WARNING, "%s: cannot pin to cpu %d: %s",
				   e->name, e->cpu, strerror(ret));
	}
	return 0;
}

/* VRELAY_FAULT_DELAY_US, read once per engine; see fault_delay_us. */
static unsigned int
engine_fault_delay(void)
{
	const char *v = getenv("VRELAY_FAULT_DELAY_US");
	unsigned long us;
	char *end;

	if (v == NULL || *v == '\0')
		return 0;
	errno = 0;
	us = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || us > 1000000) {
		VRELAY_LOG(WARNING, "ignoring VRELAY_FAULT_DELAY_US=%s", v);
		return 0;
	}
	VRELAY_LOG(WARNING, "fault injection: %lu us delay per relay pass",
		   us);
	return us;
}

struct vrelay_engine *
vrelay_engine_create(const char *name, enum vrelay_mode mode, int cpu)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct vrelay_engine *e;
	int err = ENOMEM;

	if (name == NULL || mode > VRELAY_MODE_ADAPTIVE ||
	    cpu >= CPU_SETSIZE) {
		errno = EINVAL;
		return NULL;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		goto fail_alloc;
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->mode = mode;
	e->cpu = cpu;
	e->fault_delay_us = engine_fault_delay();
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->cond, NULL);
	e->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (e->epfd < 0)
		goto fail_epoll;
	e->ctlfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->ctlfd < 0)
		goto fail_ctlfd;
	e->ctl_src.fd = e->ctlfd;
	ev.data.ptr = &e->ctl_src;
	if (epoll_ctl(e->epfd, EPOLL_CTL_ADD, e->ctlfd, &ev) != 0)
		goto fail_ctl_add;
	err = engine_start_thread(e);
	if (err != 0)
		goto fail_thread;
	VRELAY_LOG(INFO, "%s: engine started, mode %s, cpu %d", e->name,
		   vrelay_mode_to_str(mode), cpu);
	return e;

fail_thread:
fail_ctl_add:
	err = err == ENOMEM ? errno : err;
	close(e->ctlfd);
fail_ctlfd:
	close(e->epfd);
fail_epoll:
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
fail_alloc:
	errno = err;
	return NULL;
}

int
vrelay_engine_set_mode(struct vrelay_engine *e, enum vrelay_mode mode)
{
	if (e == NULL || mode > VRELAY_MODE_ADAPTIVE)
		return -EINVAL;
	return engine_call(e, CMD_MODE, NULL, mode);
}

enum vrelay_mode
vrelay_engine_mode(const struct vrelay_engine *e)
{
	return __atomic_load_n(&e->mode, __ATOMIC_ACQUIRE);
}

int
vrelay_engine_attach(struct vrelay_engine *e, struct vrelay_queue *q)
{
	int ret;

	if (e == NULL || q == NULL)
		return -EINVAL;
	if (pthread_equal(pthread_self(), e->thread))
		return -EDEADLK;
	if (q->engine != NULL)
		return -EBUSY;
	if (vrelay_queue_is_broken(q))
		return -EIO;
	ret = engine_call(e, CMD_ATTACH, q, 0);
	if (ret == 0)
		q->engine = e;
	return ret;
}

int
vrelay_engine_detach(struct vrelay_engine *e, struct vrelay_queue *q)
{
	int ret;

	if (e == NULL || q == NULL || q->engine != e)
		return -ENOENT;
	ret = engine_call(e, CMD_DETACH, q, 0);
	if (ret == 0)
		q->engine = NULL;
	return ret;
}

uint64_t
vrelay_engine_cpu_ns(const struct vrelay_engine *e)
{
	struct timespec ts;

	if (e->cpu_clock == (clockid_t)-1 ||
	    clock_gettime(e->cpu_clock, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void
vrelay_engine_destroy(struct vrelay_engine *e)
{
	if (e == NULL)
		return;
	engine_call(e, CMD_STOP, NULL, 0);
	pthread_join(e->thread, NULL);
	if (e->nq != 0)
		VRELAY_LOG(ERR, "%s: destroyed with %u queues attached",
			   e->name, e->nq);
	close(e->ctlfd);
	close(e->epfd);
	pthread_cond_destroy(&e->cond);
	pthread_mutex_destroy(&e->lock);
	free(e);
}
