/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vhost-user front-end (master) side of the protocol, as described in
 * QEMU's "Vhost-user Protocol" document. Plain C + Linux syscalls; no DPDK.
 */
#ifndef VU_FE_VHOST_USER_MSG_H
#define VU_FE_VHOST_USER_MSG_H

#include <stdbool.h>
#include <stdint.h>

/** Maximum number of file descriptors carried by one message. */
#define VU_MAX_FDS 8
/** Maximum number of memory regions in SET_MEM_TABLE. */
#define VU_MAX_MEM_REGIONS 8

/** Header flags. */
#define VU_FLAG_VERSION 0x1u
#define VU_FLAG_REPLY 0x4u
#define VU_FLAG_NEED_REPLY 0x8u

/** Virtio / vhost feature bits used by the test front-end. */
#define VU_F_MRG_RXBUF 15
#define VU_F_MQ 22
#define VU_F_LOG_ALL 26
#define VU_F_INDIRECT_DESC 28
#define VU_F_EVENT_IDX 29
#define VU_F_PROTOCOL_FEATURES 30
#define VU_F_VERSION_1 32
#define VU_F_RING_PACKED 34

/** vhost-user protocol feature bits. */
#define VU_PF_MQ 0
#define VU_PF_LOG_SHMFD 1
#define VU_PF_REPLY_ACK 3

/** Flag bit in SET_VRING_ADDR: log writes to the used ring. */
#define VU_VRING_F_LOG 0
/** Bit in SET_VRING_KICK/CALL payload: no file descriptor attached. */
#define VU_VRING_NOFD_MASK 0x100u

/** Front-end requests (subset). */
enum vu_request {
	VU_GET_FEATURES = 1,
	VU_SET_FEATURES = 2,
	VU_SET_OWNER = 3,
	VU_SET_MEM_TABLE = 5,
	VU_SET_LOG_BASE = 6,
	VU_SET_VRING_NUM = 8,
	VU_SET_VRING_ADDR = 9,
	VU_SET_VRING_BASE = 10,
	VU_GET_VRING_BASE = 11,
	VU_SET_VRING_KICK = 12,
	VU_SET_VRING_CALL = 13,
	VU_GET_PROTOCOL_FEATURES = 15,
	VU_SET_PROTOCOL_FEATURES = 16,
	VU_GET_QUEUE_NUM = 17,
	VU_SET_VRING_ENABLE = 18,
};

/** One guest memory region as described in SET_MEM_TABLE. */
struct vu_mem_region {
	uint64_t guest_phys_addr;
	uint64_t memory_size;
	uint64_t userspace_addr;
	uint64_t mmap_offset;
};

/** Ring addresses for SET_VRING_ADDR (front-end virtual addresses). */
struct vu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc_user_addr;
	uint64_t used_user_addr;
	uint64_t avail_user_addr;
	uint64_t log_guest_addr;
};

/** What came back for a request (see vu_recv_reply_timeout()). */
enum vu_reply_kind {
	VU_REPLY_ACK,    /**< a reply: zero-size payload or a u64 equal to 0 */
	VU_REPLY_NACK,   /**< a reply whose u64 payload is not 0 */
	VU_REPLY_CLOSED, /**< the back-end closed the connection */
	VU_REPLY_NONE,   /**< nothing within the timeout */
	VU_REPLY_ERROR,  /**< malformed reply or socket error */
};

/** A connection to one vhost-user back-end. */
struct vu_conn {
	int fd;                   /**< connected AF_UNIX stream socket */
	uint64_t protocol_features; /**< negotiated protocol features */
};

/**
 * Connect to a back-end listening on a UNIX socket.
 *
 * @param c          connection to initialise
 * @param path       socket path
 * @param timeout_ms how long to keep retrying while the socket is missing
 * @return 0 on success, negative errno on failure
 */
int vu_connect(struct vu_conn *c, const char *path, int timeout_ms);

/**
 * Close the connection (the back-end sees the front-end going away).
 *
 * @param c connection
 */
void vu_close(struct vu_conn *c);

/**
 * Send a message carrying a 64-bit payload and read the 64-bit reply
 * (GET_FEATURES, GET_PROTOCOL_FEATURES, GET_QUEUE_NUM).
 *
 * @param c   connection
 * @param req request code
 * @param val reply payload
 * @return 0 on success, negative errno on failure
 */
int vu_get_u64(struct vu_conn *c, enum vu_request req, uint64_t *val);

/**
 * Send a message carrying a 64-bit payload (SET_FEATURES,
 * SET_PROTOCOL_FEATURES). Waits for the REPLY_ACK if negotiated.
 *
 * @param c   connection
 * @param req request code
 * @param val payload
 * @return 0 on success, negative errno on failure
 */
int vu_set_u64(struct vu_conn *c, enum vu_request req, uint64_t val);

/**
 * Send SET_OWNER.
 *
 * @param c connection
 * @return 0 on success, negative errno on failure
 */
int vu_set_owner(struct vu_conn *c);

/**
 * Send SET_MEM_TABLE with one file descriptor per region.
 *
 * @param c   connection
 * @param reg regions
 * @param fds one fd per region
 * @param n   number of regions (<= VU_MAX_MEM_REGIONS)
 * @return 0 on success, negative errno on failure
 */
int vu_set_mem_table(struct vu_conn *c, const struct vu_mem_region *reg,
		     const int *fds, unsigned int n);

/**
 * Send SET_LOG_BASE with the shared dirty-log fd. With LOG_SHMFD the
 * back-end always answers with a zero-size reply, which is awaited.
 *
 * @param c      connection
 * @param fd     memfd of the log bitmap
 * @param size   mmap size of the log
 * @param offset mmap offset of the log in fd
 * @return 0 on success, negative errno on failure
 */
int vu_set_log_base(struct vu_conn *c, int fd, uint64_t size,
		    uint64_t offset);

/**
 * Send a vring state message (SET_VRING_NUM, SET_VRING_BASE,
 * SET_VRING_ENABLE).
 *
 * @param c   connection
 * @param req request code
 * @param idx vring index
 * @param num value
 * @return 0 on success, negative errno on failure
 */
int vu_set_vring_state(struct vu_conn *c, enum vu_request req,
		       uint32_t idx, uint32_t num);

/**
 * Send GET_VRING_BASE: stops the ring and returns its last_avail_idx.
 *
 * @param c   connection
 * @param idx vring index
 * @param num returned index
 * @return 0 on success, negative errno on failure
 */
int vu_get_vring_base(struct vu_conn *c, uint32_t idx, uint32_t *num);

/**
 * Send SET_VRING_ADDR.
 *
 * @param c    connection
 * @param addr ring addresses and flags
 * @return 0 on success, negative errno on failure
 */
int vu_set_vring_addr(struct vu_conn *c, const struct vu_vring_addr *addr);

/**
 * Send SET_VRING_KICK or SET_VRING_CALL with an eventfd.
 *
 * @param c   connection
 * @param req VU_SET_VRING_KICK or VU_SET_VRING_CALL
 * @param idx vring index
 * @param fd  eventfd, or -1 to send the "no fd" flag
 * @return 0 on success, negative errno on failure
 */
int vu_set_vring_fd(struct vu_conn *c, enum vu_request req, uint32_t idx,
		    int fd);

/**
 * Tell whether a protocol feature was negotiated.
 *
 * @param c   connection
 * @param bit protocol feature bit
 * @return true if negotiated
 */
bool vu_has_pf(const struct vu_conn *c, unsigned int bit);

/**
 * Send any message as it is given: no check of the request, the
 * payload size against the request, or the fd count (for out-of-order
 * and malformed messages). Does not wait for a reply.
 *
 * @param c       connection
 * @param request request code (need not be in enum vu_request)
 * @param flags   header flags (VU_FLAG_VERSION is not added)
 * @param payload payload bytes, may be NULL when @p size is 0
 * @param size    payload size written in the header and sent
 *                (at most VU_RAW_MAX_PAYLOAD)
 * @param fds     file descriptors to attach (SCM_RIGHTS), may be NULL
 * @param nfds    number of fds (<= VU_MAX_FDS)
 * @return 0 on success, negative errno on failure (-EPIPE when the
 *         back-end has gone)
 */
int vu_send_raw(struct vu_conn *c, uint32_t request, uint32_t flags,
		const void *payload, uint32_t size, const int *fds,
		unsigned int nfds);

/** Largest payload vu_send_raw() sends. */
#define VU_RAW_MAX_PAYLOAD 512

/**
 * Wait up to @p timeout_ms for the reply to @p request. Replies to other
 * requests that arrive first (answers the caller did not wait for) are
 * read and dropped. For a request whose reply carries a value
 * (GET_FEATURES, GET_VRING_BASE...) ACK/NACK only say whether the first
 * 8 payload bytes are zero; the value is in @p val either way.
 *
 * @param c          connection
 * @param request    request code the reply must carry
 * @param timeout_ms how long to wait for each message
 * @param val        if not NULL: first 8 payload bytes (0 if shorter)
 * @return what came back
 */
enum vu_reply_kind vu_recv_reply_timeout(struct vu_conn *c, uint32_t request,
					 int timeout_ms, uint64_t *val);

/**
 * Name of a reply kind ("ack", "nack", "closed", "none", "error").
 *
 * @param k kind
 * @return static string
 */
const char *vu_reply_kind_name(enum vu_reply_kind k);

#endif /* VU_FE_VHOST_USER_MSG_H */
