/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/* The fake queue-control device of the switchover tests (fake_qctl.h). */

#include <errno.h>
#include <stdio.h>

#include "fake_qctl.h"

/* A broken protocol is counted, not asserted: the test decides. */
#define EXPECT(f, c) do { \
	if (!(c)) { \
		fprintf(stderr, "%s:%d: fake device: %s\n", __FILE__, \
			__LINE__, #c); \
		(f)->violations++; \
	} \
} while (0)

static struct fake_q *
fq(struct fake_qctl *f, uint16_t qid)
{
	EXPECT(f, qid < FAKE_QCTL_MAX_Q);
	return &f->q[qid % FAKE_QCTL_MAX_Q];
}

static int
op_suspend(void *ctx, uint16_t qid, struct vrelay_qstate *st)
{
	struct fake_qctl *f = ctx;
	struct fake_q *q = fq(f, qid);

	if (f->on_suspend != NULL)
		f->on_suspend(f, qid);
	q->stopped = true;
	*st = (struct vrelay_qstate){ .avail_idx = q->last_avail,
				      .used_idx = q->last_used };
	return q->fault ? -EIO : 0;
}

static int
op_program_relay(void *ctx, uint16_t qid, const struct vrelay_mring_info *m,
		 int doorbell_fd, int irq_fd)
{
	struct fake_qctl *f = ctx;
	struct fake_q *q = fq(f, qid);

	EXPECT(f, q->stopped && doorbell_fd >= 0 && irq_fd >= 0);
	if (q->fail_program_relay)
		return -EIO;
	q->relay = true;
	q->m = m;
	q->irq_fd = irq_fd;
	return 0;
}

static int
op_program_direct(void *ctx, uint16_t qid)
{
	struct fake_qctl *f = ctx;
	struct fake_q *q = fq(f, qid);

	EXPECT(f, q->stopped);
	q->relay = false;
	q->m = NULL;
	q->direct_programs++;
	return 0;
}

static int
op_resume(void *ctx, uint16_t qid, const struct vrelay_qstate *st)
{
	struct fake_qctl *f = ctx;
	struct fake_q *q = fq(f, qid);

	EXPECT(f, q->stopped);
	EXPECT(f, st->avail_idx == q->last_avail &&
	       st->used_idx == q->last_used);
	EXPECT(f, !st->avail_wrap && !st->used_wrap);
	if (q->fail_resume)
		return -EPERM;
	q->stopped = false;
	q->resumes++;
	return 0;
}

static void
op_suspend_many(void *ctx, unsigned int n, const uint16_t *qids,
		struct vrelay_qstate *states, int *rets)
{
	unsigned int i;

	((struct fake_qctl *)ctx)->suspend_many_calls++;
	for (i = 0; i < n; i++)
		rets[i] = op_suspend(ctx, qids[i], &states[i]);
}

static void
op_resume_many(void *ctx, unsigned int n, const uint16_t *qids,
	       const struct vrelay_qstate *states, int *rets)
{
	unsigned int i;

	((struct fake_qctl *)ctx)->resume_many_calls++;
	for (i = 0; i < n; i++)
		rets[i] = op_resume(ctx, qids[i], &states[i]);
}

const struct vrelay_qctl_ops fake_qctl_ops = {
	.suspend = op_suspend,
	.program_relay = op_program_relay,
	.program_direct = op_program_direct,
	.resume = op_resume,
};

const struct vrelay_qctl_ops fake_qctl_ops_batch = {
	.suspend = op_suspend,
	.program_relay = op_program_relay,
	.program_direct = op_program_direct,
	.resume = op_resume,
	.suspend_many = op_suspend_many,
	.resume_many = op_resume_many,
};
