/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright(c) 2026 The vdpa-relay authors
 */

/*
 * A stand-in for another vDPA driver: built only from the installed
 * header and pkg-config file, it creates a relay device and an engine,
 * and checks the mode helpers round-trip.
 */

#include <stdio.h>

#include <vdpa_relay.h>

int
main(void)
{
	struct vrelay_mem mem = { .nregions = 0 };
	struct vrelay_device *dev;
	struct vrelay_engine *e;
	enum vrelay_mode m;

	dev = vrelay_device_create("consumer", &mem);
	e = vrelay_engine_create("consumer", VRELAY_MODE_EPOLL, -1);
	if (dev == NULL || e == NULL ||
	    vrelay_mode_from_str("poll", &m) != 0 || m != VRELAY_MODE_POLL) {
		fprintf(stderr, "consumer: relay library unusable\n");
		return 1;
	}
	vrelay_engine_destroy(e);
	vrelay_device_destroy(dev);
	printf("consumer: ok\n");
	return 0;
}
