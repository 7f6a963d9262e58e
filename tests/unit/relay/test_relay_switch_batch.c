/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * Batch switchover (issue #18) with a fake device of NQ queues: every
 * queue relayed and back at exact indices; a queue whose step fails
 * (program, resume, a faulted suspend, the injected eventfd failure) is
 * left stopped on the guest's rings or broken with exact indices, never
 * resumed in direct I/O, while the others of the batch are relayed;
 * the device's batch ops are used when it has them (one suspend and one
 * resume call for the whole batch); nothing leaks.
 */


#include "fake_qctl.h"
#include "test_common.h"

#define SZ 64
#define NQ 4
/* Queue i's rings: 16 KiB apart below the buffers, in region 0. */
#define RING_GPA(i)	(0x20000ULL + (i) * 0x4000ULL)

static char names[NQ][8];
static int kick_fds[NQ];	/* the guest's, one per queue */

/* Queue i: its own split rings, at indices 5 * i + 3 (nothing in flight). */
static void
setup(struct tctx *t, struct fake_qctl *d, struct vrelay_queue_conf *c)
{
	unsigned int i;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < NQ; i++) {
		uint64_t g = RING_GPA(i);
		struct vring_avail *a = t_hva(t, g + 0x1000);
		struct vring_used *u = t_hva(t, g + 0x2000);
		uint16_t idx = (uint16_t)(5 * i + 3);

		memset(t_hva(t, g), 0, 0x4000);
		a->idx = idx;
		u->idx = idx;
		d->q[i].last_avail = idx;
		d->q[i].last_used = idx;
		snprintf(names[i], sizeof(names[i]), "q%u", i);
		c[i] = (struct vrelay_queue_conf){
			.name = names[i], .qid = i, .size = SZ,
			.format = VRELAY_RING_SPLIT, .desc = t_hva(t, g),
			.driver_area = a, .device_area = u,
			.device_area_gpa = g + 0x2000,
			.guest_kick_fd = kick_fds[i],
			.guest_call_fd = t->call_fd,
			.device_doorbell_fd = -1, .device_irq_fd = -1,
			.log_from_used_idx = idx,
			.device_read_only = (i & 1) != 0,
		};
	}
}

/* Back to direct: every relayed queue runs on the guest's rings again. */
static void
back_to_direct(struct vrelay_engine *e, struct fake_qctl *d,
	       const struct vrelay_qctl_ops *ops, struct vrelay_queue **qs)
{
	struct vrelay_switch_report reps[NQ];
	struct vrelay_queue *rq[NQ];
	unsigned int i, n = 0;
	uint16_t qid[NQ];

	for (i = 0; i < NQ; i++)
		if (qs[i] != NULL) {
			qid[n] = i;
			rq[n++] = qs[i];
		}
	CHECK(vrelay_switch_batch_to_direct(e, n, rq, ops, d, true, reps) ==
	      0);
	for (i = 0; i < n; i++) {
		struct fake_q *q = &d->q[qid[i]];

		CHECK(reps[i].devq == VRELAY_DEVQ_RUNNING);
		CHECK(reps[i].state.avail_idx == q->last_avail &&
		      reps[i].state.used_idx == q->last_used);
		CHECK(!q->relay && !q->stopped);
	}
}

static void
run(struct vrelay_engine *e, struct tctx *t,
    const struct vrelay_qctl_ops *ops)
{
	struct vrelay_queue_conf c[NQ];
	struct vrelay_switch_report reps[NQ];
	struct vrelay_queue *qs[NQ];
	struct fake_qctl d;
	int fds = t_count_fds();
	unsigned int i;

	/* All relayed at their indices, each resumed once. */
	setup(t, &d, c);
	CHECK(vrelay_switch_batch_to_relay(e, t->dev, NQ, c, ops, &d, qs,
					   reps) == 0);
	for (i = 0; i < NQ; i++) {
		CHECK(qs[i] != NULL && reps[i].devq == VRELAY_DEVQ_RUNNING);
		CHECK(reps[i].state.avail_idx == d.q[i].last_avail &&
		      reps[i].state.used_idx == d.q[i].last_used);
		CHECK(d.q[i].relay && !d.q[i].stopped && d.q[i].resumes == 1);
		CHECK(vrelay_queue_state(qs[i]) == VRELAY_QUEUE_RELAY);
	}
	if (ops->suspend_many != NULL)
		CHECK(d.suspend_many_calls == 1 && d.resume_many_calls == 1);
	back_to_direct(e, &d, ops, qs);
	if (ops->suspend_many != NULL)
		CHECK(d.suspend_many_calls == 2 && d.resume_many_calls == 2);
	CHECK(t_count_fds() == fds);

	/*
	 * One queue fails at each step: program (1), resume refused (2),
	 * suspend faulted (3). Each is left stopped on the guest's rings
	 * (broken for the fault) at exact indices and never resumed; queue
	 * 0 is relayed all the same.
	 */
	setup(t, &d, c);
	d.q[1].fail_program_relay = 1;
	d.q[2].fail_resume = 1;
	d.q[3].fault = 1;
	CHECK(vrelay_switch_batch_to_relay(e, t->dev, NQ, c, ops, &d, qs,
					   reps) < 0);
	CHECK(qs[0] != NULL && reps[0].devq == VRELAY_DEVQ_RUNNING);
	CHECK(d.q[0].relay && !d.q[0].stopped);
	for (i = 1; i < NQ; i++) {
		CHECK(qs[i] == NULL);
		CHECK(reps[i].devq == (i == 3 ? VRELAY_DEVQ_BROKEN :
				       VRELAY_DEVQ_STOPPED));
		CHECK(reps[i].state.avail_idx == d.q[i].last_avail &&
		      reps[i].state.used_idx == d.q[i].last_used);
		CHECK(d.q[i].stopped && !d.q[i].relay && d.q[i].resumes == 0);
	}
	/* Programmed back onto the guest's rings where it was programmed. */
	CHECK(d.q[1].direct_programs == 1 && d.q[2].direct_programs == 1);
	back_to_direct(e, &d, ops, qs);
	CHECK(t_count_fds() == fds);
	CHECK(d.violations == 0);
}

int
main(void)
{
	struct vrelay_queue_conf c[NQ];
	struct vrelay_switch_report reps[NQ];
	struct vrelay_queue *qs[NQ];
	struct vrelay_engine *e;
	struct fake_qctl d;
	struct tctx t;
	unsigned int i;

	t_init(&t, SZ);
	for (i = 0; i < NQ; i++) {
		kick_fds[i] = eventfd(0, EFD_NONBLOCK);
		CHECK(kick_fds[i] >= 0);
	}
	CHECK(vrelay_device_set_log(t.dev, t.log, T_LOG_SIZE) == 0);
	e = vrelay_engine_create("tbatch", VRELAY_MODE_EPOLL, -1);
	CHECK(e != NULL);

	run(e, &t, &fake_qctl_ops);
	run(e, &t, &fake_qctl_ops_batch);

	/* Invalid arguments: nothing stopped, nothing valid reported. */
	setup(&t, &d, c);
	CHECK(vrelay_switch_batch_to_relay(e, t.dev, NQ, c, NULL, &d, qs,
					   reps) == -EINVAL);
	for (i = 0; i < NQ; i++)
		CHECK(reps[i].devq == VRELAY_DEVQ_UNKNOWN && !d.q[i].stopped);

	vrelay_engine_destroy(e);
	for (i = 0; i < NQ; i++)
		close(kick_fds[i]);
	t_fini(&t);
	printf("test_relay_switch_batch: OK\n");
	return 0;
}
