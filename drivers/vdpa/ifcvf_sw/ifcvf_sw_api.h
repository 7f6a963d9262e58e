/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

#ifndef IFCVF_SW_API_H
#define IFCVF_SW_API_H

/**
 * @file
 * What an application needs from the ifcvf_sw vDPA driver beyond DPDK's
 * vDPA API and the relay controller (vdpa_relay_vhost.h, which serves
 * the relay policy, engine, migration state and counters of any device
 * by name): the VF's wire side. Devices are named by their vdev name
 * ("ifcvf_sw0").
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Devarg poll_us: after its last burst with work, the device thread
 * polls this many microseconds before it sleeps. Default and bound.
 */
#define IFCSW_POLL_US_DEFAULT 20
#define IFCSW_POLL_US_MAX 10000

/**
 * Get the ethdev port id of the device's wire side.
 * @return 0, -ENODEV, -ENOENT (loopback device: no port).
 * Thread context: any control thread.
 */
int ifcsw_wire_port_get(const char *dev_name, uint16_t *port_id);

#ifdef __cplusplus
}
#endif

#endif /* IFCVF_SW_API_H */
