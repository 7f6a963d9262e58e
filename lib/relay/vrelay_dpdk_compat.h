/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef VRELAY_DPDK_COMPAT_H
#define VRELAY_DPDK_COMPAT_H

/**
 * @file
 * The one place that knows which DPDK it is built against: Debian 12's
 * 22.11 LTS or Debian 13's 24.11 LTS. The rest of the tree is written
 * against 24.11's API; what 22.11 lacks is defined here from what it has.
 * Not installed: private to this source tree (the public headers need
 * none of it).
 *
 * What differs between 22.11 and 24.11 and what this tree does about it
 * (found by building and running the suites against both):
 *
 *  - vDPA driver SDK (vdpa_driver.h, bus_vdev_driver.h, dev_driver.h,
 *    bus_driver.h): struct rte_vdpa_dev_ops, struct rte_vdpa_device,
 *    struct rte_vdev_device and rte_vdpa_register_device() are the same;
 *    only the extern "C" blocks moved. rte_vdpa_relay_vring_used() is
 *    gone from 24.11 (this tree never used it). Nothing to do.
 *  - vhost flags: RTE_VHOST_USER_ASYNC_CONNECT is new in 24.11 and
 *    VHOST_USER_PROTOCOL_F_SLAVE_REQ/_SLAVE_SEND_FD became _BACKEND_*;
 *    this tree uses RTE_VHOST_USER_CLIENT and its own protocol bit
 *    numbers only. The 24.11 names are defined below for 22.11.
 *  - vhost-user message handling: since 23.03, vhost panics
 *    (vq_assert_lock) when a frontend sends SET_VRING_KICK while the
 *    vDPA device is configured, because it does not take the queues'
 *    access locks then; the same for a SET_MEM_TABLE that changes the
 *    table. See VRELAY_VHOST_LATE_KICK_PANICS: the relay refuses both.
 *  - telemetry: rte_tel_data_add_dict_u64() is deprecated in 24.11 (and
 *    gone after it) for rte_tel_data_add_dict_uint(), which 22.11 lacks.
 *  - log: 24.11's RTE_LOG() users move to RTE_LOG_LINE() (which 22.11
 *    lacks, and which prefixes the log type's name). This tree logs
 *    through rte_log() with dynamic log types and its own prefixes
 *    (IFCSW_LOG, VRELAY_LOG, LM_LOG), the same in both. Nothing to do.
 *  - kvargs: 24.11 parses a key without "=value" and rte_kvargs_process()
 *    then fails (rte_kvargs_process_opt() would pass value NULL); 22.11
 *    fails the parse. Either way a handler never sees value NULL, so the
 *    devarg handlers need nothing.
 *  - bus/vdev: RTE_PMD_REGISTER_VDEV and struct rte_vdev_driver are the
 *    same. Nothing to do.
 */

#include <stdint.h>

#include <rte_version.h>

#define VRELAY_DPDK_AT_LEAST(y, m) \
	(RTE_VERSION >= RTE_VERSION_NUM(y, m, 0, 0))

/* --- vhost ------------------------------------------------------------- */

/*
 * 1 when vhost asserts its virtqueue access locks (23.03 on): with the
 * vDPA device configured vhost does not take them, so a late
 * SET_VRING_KICK (a queue set up after the device was configured) or a
 * SET_MEM_TABLE that changes the table aborts the whole process. The
 * relay then refuses such a message before vhost handles it.
 */
#define VRELAY_VHOST_LATE_KICK_PANICS VRELAY_DPDK_AT_LEAST(23, 3)

/*
 * Where a vhost-user message handed to rte_vhost_user_extern_ops keeps
 * its file descriptors (vhost's struct vhu_msg_context: VhostUserMsg,
 * int fds[8], int fd_num): the same in 22.11 and 24.11 (measured with
 * each version's vhost_user.h). A refused message's fds are closed there.
 */
#define VRELAY_VHOST_MSG_FDS	644
#define VRELAY_VHOST_MSG_FD_NUM	676

#if !VRELAY_DPDK_AT_LEAST(23, 3)
#ifndef VHOST_USER_PROTOCOL_F_BACKEND_REQ
#define VHOST_USER_PROTOCOL_F_BACKEND_REQ 5
#endif
#ifndef VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD
#define VHOST_USER_PROTOCOL_F_BACKEND_SEND_FD 10
#endif
#endif

/* --- telemetry ------------------------------------------------------- */

#if !VRELAY_DPDK_AT_LEAST(23, 3)
#define rte_tel_data_add_dict_uint rte_tel_data_add_dict_u64
#endif

#endif /* VRELAY_DPDK_COMPAT_H */
