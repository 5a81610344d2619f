/*
 * ustack_driver.h - for driver authors: the operations a driver provides
 * and the mbuf calls it uses to hand frames to and take frames from a stack.
 *
 * A driver instance is one interface.  The stack calls rx_burst and
 * tx_burst from ust_stack_poll() on its own thread; a driver that talks to
 * another thread (pipe in threaded mode, a NIC) does its own hand-off.
 */
#ifndef USTACK_DRIVER_H
#define USTACK_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Offload capabilities (FreeBSD IFCAP_* meanings). */
#define UST_IFCAP_RXCSUM 0x0001u /* driver verifies IPv4/TCP/UDP checksums */
#define UST_IFCAP_TXCSUM 0x0002u /* driver fills checksums marked in csum_flags */
#define UST_IFCAP_TSO4 0x0004u   /* driver segments large TCP/IPv4 packets */
#define UST_IFCAP_LRO 0x0008u    /* driver may hand up coalesced TCP segments */
#define UST_IFCAP_JUMBO_MTU 0x0010u

/* Per-packet offload flags (FreeBSD CSUM_* meanings). */
#define UST_CSUM_IP 0x0001u       /* tx: fill the IPv4 header checksum */
#define UST_CSUM_TCP 0x0002u      /* tx: fill the TCP checksum */
#define UST_CSUM_UDP 0x0004u      /* tx: fill the UDP checksum */
#define UST_CSUM_TSO 0x0008u      /* tx: segment at tso_segsz */
#define UST_CSUM_L3_VALID 0x0100u /* rx: IPv4 header checksum verified */
#define UST_CSUM_L4_VALID 0x0200u /* rx: TCP/UDP checksum verified */

struct ust_driver_ops {
	const char *name;
	/* Receives up to max frames.  Each frame is an mbuf the driver made
	 * with ust_mbuf_alloc()/ust_mbuf_from_buf() on ifp; ownership passes
	 * to the stack.  Returns the number stored in pkts (0..max). */
	int (*rx_burst)(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max);
	/* Offers n frames; returns how many the driver took (0..n).  Taken
	 * frames belong to the driver, which frees them with ust_mbuf_free()
	 * when done; the rest stay with the stack and are offered again. */
	int (*tx_burst)(void *softc, struct ust_mbuf **pkts, int n);
	void (*get_mac)(void *softc, uint8_t mac[6]);
	uint32_t (*get_mtu)(void *softc);
	/* Optional (NULL: 0): UST_IFCAP_* bits. */
	uint32_t (*get_caps)(void *softc);
	/* Optional (NULL: -1): a descriptor that becomes readable when
	 * rx_burst has work, for applications that sleep in poll(2). */
	int (*get_fd)(void *softc);
	/* Optional (NULL: none): the earliest absolute time, on the stack's
	 * clock, at which rx_burst will have a frame it holds back now;
	 * UINT64_MAX for none. */
	uint64_t (*next_deadline)(void *softc);
	/* Optional: the interface is going away (detach or stack destroy).
	 * The driver frees every mbuf of this stack it still holds. */
	void (*detach)(void *softc);
};

/* A new packet with room for len bytes of contiguous data (pktlen = len),
 * taken from ifp's stack zones (a cluster or jumbo cluster as needed; data
 * starts at the buffer, headers are read without alignment assumptions);
 * the receive interface is set to ifp.  NULL
 * when len exceeds the largest cluster or the zones are exhausted (counted
 * as the interface's iqdrops by the caller's drop). */
UST_API struct ust_mbuf *ust_mbuf_alloc(struct ust_if *ifp, size_t len);
/* A new packet holding a copy of len bytes, chained across clusters when
 * needed.  NULL when out of buffers. */
UST_API struct ust_mbuf *ust_mbuf_from_buf(struct ust_if *ifp, const void *data, size_t len);
/* Frees a whole packet (chain). */
UST_API void ust_mbuf_free(struct ust_mbuf *m);
/* Contiguous data of the first buffer of m and its length; walk a chain
 * with ust_mbuf_next(). */
UST_API void *ust_mbuf_data(struct ust_mbuf *m);
UST_API size_t ust_mbuf_len(const struct ust_mbuf *m);
UST_API struct ust_mbuf *ust_mbuf_next(const struct ust_mbuf *m);
/* Offload metadata of a packet. */
UST_API uint32_t ust_mbuf_csum_flags(const struct ust_mbuf *m);
UST_API void ust_mbuf_set_csum_flags(struct ust_mbuf *m, uint32_t flags);
UST_API uint32_t ust_mbuf_tso_segsz(const struct ust_mbuf *m);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_DRIVER_H */
