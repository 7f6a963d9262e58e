/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Relay engine: one thread serving many queues.
 *
 * Notifications (issue 14): a polling engine (adaptive, poll) wants none
 * while it makes passes. Every queue it serves has guest kicks and device
 * interrupts suppressed (the mediated rings' and the guest's flags or
 * event indices), so a busy relay is not woken per device burst nor per
 * guest burst: it finds the work on its next pass. Only before sleeping
 * does it arm them, and then it re-checks every ring (vrelay_queue_arm()),
 * so an entry published while it was deciding to sleep is never missed.
 * The peers do the same on their side, so a busy device gets no doorbell
 * per forwarded burst. The epoll engine keeps them armed through its
 * passes, as it always did: a notification that arrives during a pass
 * turns its next sleep into a re-check, which is what keeps it going
 * under load (measured: quiet passes made it sleep and wake once per
 * round, 0.41 -> 0.27 of direct I/O with 4 queue pairs at 64 B, for no
 * CPU saved; doc/performance.md).
 *
 * The engine thread holds the queue list lock for one pass at a time; a
 * control thread that attaches, detaches or changes the mode takes the
 * lock itself (announcing itself in ctl_waiting, so that a polling
 * engine steps aside between passes) and edits the list directly. It
 * never waits for the engine thread to be scheduled, which would make a
 * switchover as long as a scheduler slice on a busy host; and when
 * detach returns, the engine is not in a pass and will not see the
 * queue again.
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
/*
 * Adaptive engine: after its last pass with work it keeps polling for
 * this long, giving the CPU away (sched_yield) between idle passes so a
 * device or guest sharing the CPU runs first, then arms and sleeps. Its
 * cost: at most this much CPU per wake-up of an engine that then finds
 * no more work (1 % of a core at 1000 isolated wake-ups a second), none
 * when idle, none under load (every pass finds work); and traffic whose
 * gaps are all shorter than the budget keeps it polling, as a poll
 * engine that yields. About what a sleep and a wake-up cost: measured
 * (doc/performance.md), 10 us relays 64 B traffic as cheaply as 50 us
 * and 1500 B traffic at half the CPU. VRELAY_ADAPTIVE_POLL_US (0 to
 * 10000), read when the engine is created, overrides it.
 */
#define ENGINE_ADAPTIVE_POLL_US 10
#define ENGINE_ADAPTIVE_POLL_US_MAX 10000
/* Sleep bound when some queue has no fd to wake us. */
#define ENGINE_POLL_ONLY_MS 1
#define ENGINE_EVENTS 64
/* Initial size of the attached-queue array; it doubles as needed. */
#define ENGINE_QUEUES_MIN 16

struct vrelay_engine {
	char name[16];
	pthread_t thread;
	clockid_t cpu_clock;
	int cpu;
	int epfd;
	int ctlfd;			/* wakes an epoll sleeper for commands */
	struct vrelay_evsrc ctl_src;
	int mode;			/* enum vrelay_mode, atomic */

	/*
	 * Queue list lock: the engine holds it during a pass, a control
	 * thread while it changes the list or the mode.
	 */
	pthread_mutex_t lock;
	uint32_t ctl_waiting;		/* atomic: control threads wanting lock */

	/* Under lock. */
	bool stop;
	/*
	 * Attached queues. The array grows (doubling) under the lock; no
	 * fixed capacity, so a busy host never meets a limit that would
	 * leave a queue unrelayed while its frontend logs.
	 */
	struct vrelay_queue **queues;
	unsigned int nq;
	unsigned int cap;
	unsigned int npoll_only;	/* attached queues lacking an fd */

	/*
	 * Fault injection for the robustness tests: microseconds to sleep
	 * at the start of every pass, from VRELAY_FAULT_DELAY_US when the
	 * engine is created (0: off). It models a relay thread that is
	 * descheduled or starved while the device runs at full speed, so
	 * the tests can show that a slow relay loses no dirty page.
	 */
	unsigned int fault_delay_us;

	/* Adaptive: poll budget after the last work, ns. */
	uint64_t poll_ns;
};

/* Engine thread: take the list for a pass, stepping aside for control. */
static void
engine_lock(struct vrelay_engine *e)
{
	while (__atomic_load_n(&e->ctl_waiting, __ATOMIC_ACQUIRE))
		sched_yield();
	pthread_mutex_lock(&e->lock);
}

static void
engine_unlock(struct vrelay_engine *e)
{
	pthread_mutex_unlock(&e->lock);
}

/* Control thread: take the list away from the engine between passes. */
static void
ctl_lock(struct vrelay_engine *e)
{
	__atomic_fetch_add(&e->ctl_waiting, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_lock(&e->lock);
}

/* Give the list back, and wake a sleeping engine so it re-arms. */
static void
ctl_unlock(struct vrelay_engine *e)
{
	pthread_mutex_unlock(&e->lock);
	__atomic_fetch_sub(&e->ctl_waiting, 1, __ATOMIC_ACQ_REL);
	vrelay_eventfd_signal(e->ctlfd);
}

/* Is this event source still one of ours? Called with the lock held. */
static bool
engine_owns(const struct vrelay_engine *e, const struct vrelay_evsrc *src)
{
	unsigned int i;

	for (i = 0; i < e->nq; i++)
		if (&e->queues[i]->ev_kick == src ||
		    &e->queues[i]->ev_irq == src)
			return true;
	return false;
}

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

/*
 * One pass over the queues, as the engine thread makes it (the caller
 * holds whatever protects the list). Internal: the cycle benchmark
 * (tests/bench/bench_relay_cycle.c) times exactly this.
 */
bool
vrelay_engine_pass_queues(struct vrelay_queue *const *qs, unsigned int n)
{
	bool work = false;
	unsigned int i;

	/* Doorbells and guest interrupts: one per queue, after the pass. */
	for (i = 0; i < n; i++) {
		qs[i]->defer_notify = true;
		work |= engine_service(qs[i]);
	}
	for (i = 0; i < n; i++)
		vrelay_queue_notify_flush(qs[i]);
	return work;
}

/* One pass over every queue; true if any had work. */
static bool
engine_pass(struct vrelay_engine *e)
{
	bool work;

	/* Outside the list lock: a slow relay, not a slow switchover. */
	if (e->fault_delay_us != 0)
		usleep(e->fault_delay_us);
	engine_lock(e);
	work = vrelay_engine_pass_queues(e->queues, e->nq);
	engine_unlock(e);
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

/*
 * Awake: suppress every queue's notifications for the passes to come.
 * Nothing is lost: the engine arms and re-checks before it sleeps again.
 */
static void
engine_quiet(struct vrelay_engine *e)
{
	engine_lock(e);
	engine_set_notify_all(e, false);
	engine_unlock(e);
}

static uint64_t
engine_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
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

/* Make room for one more queue. Called with the lock held. */
static int
engine_grow(struct vrelay_engine *e)
{
	struct vrelay_queue **nqs;
	unsigned int cap;

	if (e->nq < e->cap)
		return 0;
	cap = e->cap == 0 ? ENGINE_QUEUES_MIN : 2 * e->cap;
	nqs = realloc(e->queues, cap * sizeof(*nqs));
	if (nqs == NULL)
		return -ENOMEM;
	e->queues = nqs;
	e->cap = cap;
	return 0;
}

static int
engine_do_attach(struct vrelay_engine *e, struct vrelay_queue *q)
{
	int ret;

	ret = engine_grow(e);
	if (ret != 0)
		return ret;
	e->queues[e->nq++] = q;
	engine_epoll_add(e, &q->ev_kick, q, q->guest_kick_fd, 0);
	engine_epoll_add(e, &q->ev_irq, q, q->irq_fd, 1);
	if (q->guest_kick_fd < 0 || q->irq_fd < 0)
		e->npoll_only++;
	__atomic_store_n(&q->state, VRELAY_QUEUE_RELAY, __ATOMIC_RELEASE);
	/*
	 * Epoll: armed, as its passes run. Polling modes: quiet for
	 * attach's pass and the engine's; the engine arms it before it
	 * sleeps (ctl_unlock wakes a sleeping engine to do so).
	 */
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

	engine_lock(e);
	for (k = 0; k < e->nq; k++)
		if (!vrelay_queue_is_broken(e->queues[k]) &&
		    vrelay_queue_arm(e->queues[k]))
			timeout = 0;
	if (timeout != 0 && e->npoll_only != 0)
		timeout = ENGINE_POLL_ONLY_MS;
	engine_unlock(e);
	n = epoll_wait(e->epfd, ev, ENGINE_EVENTS, timeout);
	engine_lock(e);
	for (i = 0; i < n; i++) {
		src = ev[i].data.ptr;
		if (src == &e->ctl_src) {
			vrelay_eventfd_drain(e->ctlfd);
			continue;
		}
		/* Detached while we slept: its fds may be closed already. */
		if (!engine_owns(e, src) || !vrelay_eventfd_drain(src->fd))
			continue;
		if (src->is_irq)
			src->q->stats.device_irqs++;
		else
			src->q->stats.guest_kicks++;
	}
	engine_unlock(e);
}

/* Sleep until kicked, then pass until idle; notifications stay armed. */
static void
engine_run_epoll(struct vrelay_engine *e)
{
	engine_sleep(e);
	while (engine_pass(e))
		;
}

/*
 * Poll mode spins over its queues, giving the CPU away (sched_yield)
 * after a pass that found nothing: alone on its core that is one cheap
 * system call, and a device or guest thread sharing the CPU runs at once
 * instead of at the end of the engine's slice (which took ~3 ms a round
 * once the emulated device polled rather than slept: issue 14). With no
 * queue attached there is nothing to spin for, so it sleeps until a
 * command (attach, mode, stop) wakes it. A queue attached meanwhile was
 * armed by the sleep: disarm it, as a polling engine wants no
 * notifications.
 */
static void
engine_run_poll(struct vrelay_engine *e)
{
	if (engine_pass(e))
		return;
	if (__atomic_load_n(&e->nq, __ATOMIC_RELAXED) != 0) {
		sched_yield();
		return;
	}
	engine_sleep(e);
	engine_quiet(e);
}

/*
 * Adaptive: pass while there is work; then poll on for
 * e->poll_ns, yielding the CPU between passes; then arm,
 * re-check and sleep (engine_sleep), and after a wake-up poll again with
 * notifications off. *last: when the last pass had work (0: not polling).
 */
static void
engine_run_adaptive(struct vrelay_engine *e, uint64_t *last)
{
	uint64_t now;

	if (engine_pass(e)) {
		*last = 0;
		return;
	}
	now = engine_now_ns();
	if (*last == 0)
		*last = now;
	if (now - *last < e->poll_ns) {
		sched_yield();
		return;
	}
	engine_sleep(e);
	engine_quiet(e);
	*last = 0;
}

static void *
engine_main(void *arg)
{
	struct vrelay_engine *e = arg;
	uint64_t last = 0;

	while (!__atomic_load_n(&e->stop, __ATOMIC_ACQUIRE)) {
		switch (__atomic_load_n(&e->mode, __ATOMIC_RELAXED)) {
		case VRELAY_MODE_EPOLL:
			engine_run_epoll(e);
			break;
		case VRELAY_MODE_POLL:
			engine_run_poll(e);
			break;
		case VRELAY_MODE_ADAPTIVE:
			engine_run_adaptive(e, &last);
			break;
		}
	}
	return NULL;
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

/* VRELAY_ADAPTIVE_POLL_US, read once per engine; see poll_ns. */
static uint64_t
engine_poll_budget_ns(void)
{
	const char *v = getenv("VRELAY_ADAPTIVE_POLL_US");
	unsigned long us;
	char *end;

	if (v == NULL || *v == '\0')
		return ENGINE_ADAPTIVE_POLL_US * 1000ULL;
	errno = 0;
	us = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || us > ENGINE_ADAPTIVE_POLL_US_MAX) {
		VRELAY_LOG(WARNING, "ignoring VRELAY_ADAPTIVE_POLL_US=%s", v);
		return ENGINE_ADAPTIVE_POLL_US * 1000ULL;
	}
	return us * 1000ULL;
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
	e->poll_ns = engine_poll_budget_ns();
	pthread_mutex_init(&e->lock, NULL);
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
	ctl_lock(e);
	__atomic_store_n(&e->mode, mode, __ATOMIC_RELEASE);
	/* Epoll passes armed; polling modes quiet, arming before sleeping. */
	engine_set_notify_all(e, mode == VRELAY_MODE_EPOLL);
	ctl_unlock(e);
	return 0;
}

enum vrelay_mode
vrelay_engine_mode(const struct vrelay_engine *e)
{
	return __atomic_load_n(&e->mode, __ATOMIC_ACQUIRE);
}

/* One queue: the batch functions below with a batch of one. */
int
vrelay_engine_attach(struct vrelay_engine *e, struct vrelay_queue *q)
{
	int ret;

	if (q == NULL)
		return -EINVAL;
	return vrelay_engine_attach_many(e, &q, 1, &ret);
}

int
vrelay_engine_detach(struct vrelay_engine *e, struct vrelay_queue *q)
{
	int ret;

	if (e == NULL || q == NULL)
		return -ENOENT;
	return vrelay_engine_detach_many(e, &q, 1, &ret);
}

/*
 * Batch attach and detach (issue #18): as vrelay_engine_attach() and
 * vrelay_engine_detach() for each queue, under one take of the list, so
 * a device's queues switch with one list update and one wait for the
 * engine's pass in progress. rets[i] is what the single call would have
 * returned for qs[i]; NULL entries are skipped (rets[i] = 0).
 * @return 0, or the first failure. Thread context: control thread.
 */
int
vrelay_engine_attach_many(struct vrelay_engine *e, struct vrelay_queue **qs,
			  unsigned int n, int *rets)
{
	unsigned int i;
	int first = 0;

	if (e == NULL || qs == NULL || rets == NULL)
		return -EINVAL;
	if (pthread_equal(pthread_self(), e->thread))
		return -EDEADLK;
	ctl_lock(e);
	for (i = 0; i < n; i++) {
		struct vrelay_queue *q = qs[i];

		rets[i] = 0;
		if (q == NULL)
			continue;
		if (q->engine != NULL)
			rets[i] = -EBUSY;
		else if (vrelay_queue_is_broken(q))
			rets[i] = -EIO;
		else
			rets[i] = engine_do_attach(e, q);
		if (rets[i] == 0)
			q->engine = e;
		else if (first == 0)
			first = rets[i];
	}
	/* Catch up with anything kicked before the switch, now. */
	for (i = 0; i < n; i++)
		if (qs[i] != NULL && rets[i] == 0)
			while (vrelay_engine_pass_queues(&qs[i], 1))
				;
	ctl_unlock(e);
	return first;
}

int
vrelay_engine_detach_many(struct vrelay_engine *e, struct vrelay_queue **qs,
			  unsigned int n, int *rets)
{
	unsigned int i;
	int first = 0;

	if (e == NULL || qs == NULL || rets == NULL)
		return -EINVAL;
	ctl_lock(e);
	for (i = 0; i < n; i++) {
		struct vrelay_queue *q = qs[i];

		rets[i] = 0;
		if (q == NULL)
			continue;
		rets[i] = q->engine == e ? engine_do_detach(e, q) : -ENOENT;
		if (rets[i] == 0)
			q->engine = NULL;
		else if (first == 0)
			first = rets[i];
	}
	ctl_unlock(e);
	return first;
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
	ctl_lock(e);
	__atomic_store_n(&e->stop, true, __ATOMIC_RELEASE);
	ctl_unlock(e);
	pthread_join(e->thread, NULL);
	if (e->nq != 0)
		VRELAY_LOG(ERR, "%s: destroyed with %u queues attached",
			   e->name, e->nq);
	close(e->ctlfd);
	close(e->epfd);
	pthread_mutex_destroy(&e->lock);
	free(e->queues);
	free(e);
}
