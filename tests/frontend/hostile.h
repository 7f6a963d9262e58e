/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hostile guest behaviour for robustness tests: rings the virtio spec
 * forbids, written while the device (or the relay) is serving them, and
 * a dirty log replaced under a running relay.
 */

#ifndef VU_FE_HOSTILE_H
#define VU_FE_HOSTILE_H

#include <stdint.h>

#include "dirty_log.h"
#include "guest_mem.h"
#include "vhost_dev.h"
#include "virtq.h"

/** Ways of breaking one virtqueue. */
enum vfh_kind {
	VFH_HEAD_OOB,		/**< avail entry names a descriptor >= size */
	VFH_NEXT_OOB,		/**< chain's next >= size */
	VFH_LOOP,		/**< two descriptors chained to each other */
	VFH_INDIRECT_LEN,	/**< indirect table length not 16*n */
	VFH_INDIRECT_SELF,	/**< indirect table holding itself */
	VFH_BUF_OOB,		/**< buffer in no region at all */
	VFH_BUF_GAP,		/**< buffer running off a region's end */
	VFH_IDX_JUMP,		/**< avail idx moved by more than the ring */
	VFH_USED_FLAGS,		/**< guest scribbles on used flags (legal-ish) */
	VFH_NKINDS,
};

/**
 * Parse a kind name (head-oob, next-oob, loop, indirect-len,
 * indirect-self, buf-oob, buf-gap, idx-jump, used-flags).
 *
 * @return kind, or -1
 */
int vfh_kind_parse(const char *name);

/** Name of a kind. */
const char *vfh_kind_name(enum vfh_kind k);

/**
 * Make one hostile avail entry on @p vq (an idle queue: every
 * descriptor free) and notify the device. Clobbers descriptors 0..2 and
 * the driver's shadow state: the queue must not be used again. On a
 * packed queue the buffer is written at the driver's avail position
 * (HEAD_OOB: buffer ID >= size; NEXT_OOB: NEXT into a slot that is not
 * available; USED_FLAGS: the device event suppression area); LOOP and
 * IDX_JUMP have no packed form and return -ENOTSUP.
 *
 * @param vq   virtqueue
 * @param gm   its guest memory (for indirect tables, region ends)
 * @param kind what to break
 * @return 0 or negative errno
 */
int vfh_corrupt(struct virtq *vq, struct guest_mem *gm, enum vfh_kind kind);

/**
 * Replace the dirty log while logging is on: a fresh log is sent with
 * SET_LOG_BASE, then every bit left in the old one is moved into it (as
 * a hypervisor would before dropping the old bitmap) and the old one is
 * destroyed. On success *log is the new log.
 *
 * @param vd  session (logging on)
 * @param log current log, replaced
 * @return 0 or negative errno (the old log is kept)
 */
int vfh_replace_log(struct vdev *vd, struct dl_log *log);

/** SET_LOG_BASE messages DPDK 22.11's handler rejects. */
enum vfh_log_kind {
	VFH_LOG_SIZE0,		/**< mmap_size 0 (fails the overflow check) */
	VFH_LOG_NOFD,		/**< no file descriptor attached */
	VFH_LOG_TWOFDS,		/**< two file descriptors */
	VFH_LOG_NKINDS,
};

/** Name of a log kind ("size0", "nofd", "twofds"). */
const char *vfh_log_kind_name(enum vfh_log_kind k);

/**
 * Send a SET_LOG_BASE the back-end must reject, with NEED_REPLY (which
 * keeps the connection open on failure), and read the answer. The log
 * in use is not changed: the back-end must keep writing it.
 *
 * @param vd   session (REPLY_ACK and LOG_SHMFD negotiated)
 * @param log  current log (its fd is attached where the kind has fds)
 * @param kind what is wrong with the message
 * @return 0 when it was rejected (non-zero ack), -EPROTO when it was
 *         acked with 0, -ECONNRESET when the back-end closed the
 *         connection, -ETIMEDOUT without an answer, -ENOTSUP without
 *         REPLY_ACK
 */
int vfh_bad_log_base(struct vdev *vd, const struct dl_log *log,
		     enum vfh_log_kind kind);

#endif /* VU_FE_HOSTILE_H */
