/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * A fake queue-control device for the switchover unit tests
 * (test_relay_switch, test_relay_switch_batch): the register state the
 * relay's queue control drives (stopped or running, on the guest's or
 * the mediated rings, indices), failures to inject per queue, and the
 * protocol checked: a queue is programmed and resumed only while
 * stopped, and resumed at the indices its suspend reported. Split
 * rings only (no wrap counters).
 */

#ifndef TEST_FAKE_QCTL_H
#define TEST_FAKE_QCTL_H

#include <stdbool.h>
#include <stdint.h>

#include "vdpa_relay_vhost.h"

#define FAKE_QCTL_MAX_Q 8

/** One device queue. */
struct fake_q {
	bool relay;		/**< on the mediated rings */
	bool stopped;
	const struct vrelay_mring_info *m;	/**< while relayed */
	int irq_fd;		/**< the relay's, while relayed */
	uint16_t last_avail, last_used;
	int resumes, direct_programs;
	/* Injected failures. */
	int fail_program_relay;	/**< program_relay returns -EIO */
	int fail_resume;	/**< resume returns -EPERM */
	int fault;		/**< suspend reports a faulted queue (-EIO) */
};

/** The device; pass it (or a struct starting with it) as the ops' ctx. */
struct fake_qctl {
	struct fake_q q[FAKE_QCTL_MAX_Q];
	int suspend_many_calls, resume_many_calls;
	/** Protocol violations seen (printed); a test expects 0. */
	int violations;
	/**
	 * Called by suspend before the queue stops, e.g. to complete what
	 * the device fetched; NULL: nothing.
	 */
	void (*on_suspend)(struct fake_qctl *f, uint16_t qid);
};

/** suspend, program_relay, program_direct, resume. */
extern const struct vrelay_qctl_ops fake_qctl_ops;
/** The same, with the batch ops suspend_many and resume_many. */
extern const struct vrelay_qctl_ops fake_qctl_ops_batch;

#endif /* TEST_FAKE_QCTL_H */
