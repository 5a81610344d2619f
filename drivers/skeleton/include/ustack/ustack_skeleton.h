/*
 * ustack_skeleton.h - the skeleton driver: two Ethernet ends joined by a
 * pair of rings in memory, written as the template for a new driver (copy
 * drivers/skeleton/, rename, replace the rings by your hardware; see
 * drivers/README.md).
 *
 * It does what a NIC driver does, with memory standing in for the wire:
 * each direction has a pool of fixed buffers (the "DMA buffers") and a
 * ring of filled ones.  tx_burst gathers each frame from its mbuf chain
 * into a free buffer of the peer (ust_mbuf_sglist; no flattening) and
 * refuses frames when no buffer is free (back-pressure); rx_burst lends
 * the filled buffers to the stack without copying (ust_mbuf_attach_ext)
 * and gets each back through the free callback, copying instead when its
 * pool runs low; checksum and TSO offloads it advertises are done in
 * software (ust_mbuf_csum_fill, ust_mbuf_tso_segment), as a driver does
 * for what its hardware cannot.
 *
 * Both ends are polled from one thread (two stacks in one loop); there is
 * no locking.
 */
#ifndef USTACK_SKELETON_H
#define USTACK_SKELETON_H

#include <stdint.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_skeleton_config {
	uint32_t mtu;   /* default 1500 */
	uint32_t nbufs; /* buffers per direction (the ring size), default 256 */
	/* UST_IFCAP_TXCSUM and/or UST_IFCAP_TSO4 (TSO4 needs TXCSUM), and
	 * for IPv6 UST_IFCAP_TXCSUM_IPV6 / UST_IFCAP_TSO6 (TSO6 needs
	 * TXCSUM_IPV6), both ends advertise and do in software; default 0.
	 * Anything else: -UST_EINVAL. */
	uint32_t caps;
	/* 1 (default): received frames are lent to the stack (zero copy);
	 * 0: copied into the stack's clusters. */
	uint32_t lend;
	/* Copy instead of lending while fewer buffers than this are free
	 * (default nbufs / 4), so that frames sitting unread in socket
	 * buffers never starve the ring. */
	uint32_t lend_min_free;
	uint8_t mac[2][6]; /* default 02:00:00:00:01:01 and :02 */
};

/* Per end. */
struct ust_skeleton_stats {
	uint64_t tx_frames; /* frames put on the ring to the peer */
	uint64_t tx_full;   /* frames refused: no free buffer (back-pressure) */
	uint64_t tx_errors; /* frames dropped: too long, or software offload failed */
	uint64_t rx_frames; /* frames handed to the stack */
	uint64_t rx_lent;   /* of which lent (zero copy) */
	uint64_t rx_nombuf; /* frames dropped: the stack had no mbuf */
	uint64_t lent_now;  /* buffers of this end's receive pool the stack holds */
};

struct ust_skeleton;

UST_API void ust_skeleton_config_init(struct ust_skeleton_config *cfg);
/* 0, or -UST_EINVAL, -UST_ENOMEM. */
UST_API int ust_skeleton_create(const struct ust_skeleton_config *cfg, struct ust_skeleton **out);
/* Call after both ends are detached.  Buffers still lent (received data a
 * stack keeps in a socket buffer) stay valid: the memory goes when the
 * last one comes back. */
UST_API void ust_skeleton_destroy(struct ust_skeleton *sk);
UST_API const struct ust_driver_ops *ust_skeleton_ops(void);
/* The softc of end 0 or 1 for ust_if_attach(); NULL for another side. */
UST_API void *ust_skeleton_end(struct ust_skeleton *sk, int side);
UST_API void ust_skeleton_get_stats(const struct ust_skeleton *sk, int side,
    struct ust_skeleton_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_SKELETON_H */
