/*
 * fuzz_rig.h - the stack the fuzz harnesses shoot at: one stack on a
 * virtual clock behind an in-harness driver (198.18.0.2/24, a static ARP
 * entry for the peer 198.18.0.1), holding a TCP listener on port 8080, an
 * established connection 198.18.0.1:40000 -> 8080 (SACK, window scaling
 * and timestamps negotiated, 8 KB of our data in flight) and a UDP socket
 * on port 5353, and a socket of ours in SYN_SENT towards the peer's port 80.
 * With IPv6 in the library it also has 2001:2::2/64 (no DAD) and its
 * link-local address, a static neighbour entry for the peer 2001:2::1 and
 * an IPv6 TCP listener on port 8080 and UDP socket on 5353 (v6only), so
 * that the IPv6 seeds reach TCP and UDP over IPv6.
 * Frames come from tests/lib (tl_frame.h: byte by byte, a reference RFC
 * 1071 checksum independent of the stack's codecs), the driver is the
 * loop driver (test_loopdrv.h).
 *
 * Call order: fz_rig_init() -> fz_rig_frame() / fz_rig_advance() ... ->
 * fz_rig_fini().  The corpus generator uses the same rig to learn the
 * established connection's sequence numbers.
 */
#ifndef FUZZ_RIG_H
#define FUZZ_RIG_H

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>
#include <ustack/ustack_osal.h>

#include <stddef.h>
#include <stdint.h>

#include "test_loopdrv.h"
#include "tl_frame.h"

#define FZ_OURS 0xc6120002u /* 198.18.0.2 */
#define FZ_PEER 0xc6120001u /* 198.18.0.1 */
#define FZ_OURS6 "2001:2::2"
#define FZ_PEER6 "2001:2::1"
#define FZ_LPORT 8080  /* the listener and the established connection */
#define FZ_PPORT 40000 /* the peer's port of the established connection */
#define FZ_UPORT 5353  /* the UDP socket */
#define FZ_CPORT 80    /* the peer's port our connecting socket aims at */
#define FZ_PEER_ISS 0x10000000u
#define FZ_PEER_TS 0x01000000u
#define FZ_FRAME_MAX 2048
#define FZ_INFLIGHT 8192 /* bytes we send on the established connection at setup */

extern const uint8_t fz_mac_ours[6];
extern const uint8_t fz_mac_peer[6];

struct fz_rig {
	struct ust_vclock *vc;
	struct ust_stack *st;
	struct ust_if *ifp;
	struct ust_socket *lso, *so, *uso, *cso;
	struct ust_socket *lso6, *uso6; /* NULL without IPv6 in the library */
	uint32_t iss;                   /* our ISN on the established connection */
	uint32_t rcv_nxt;               /* the peer's next sequence number (absolute) */
	uint32_t snd_una;               /* our first unacknowledged byte (absolute) */
	uint32_t ts_recent;             /* the last TSval we sent */
	uint32_t c_iss;                 /* the connecting socket's ISN */
	uint16_t c_port;                /* and its local port */
	struct loopdrv drv;             /* last (fz_rig_init clears what precedes it); keeps what
			     * is sent during setup only */
};

/* Builds the rig; 0, or -1 (reason on stderr). */
int fz_rig_init(struct fz_rig *r);
/* Closes the sockets, lets every timer run out and destroys the stack:
 * 0, or -1 when a zone item was still in use then (a leak; on stderr). */
int fz_rig_fini(struct fz_rig *r);
/* Feeds one frame (csum: UST_CSUM_L3_VALID|L4_VALID to skip the checksum
 * checks, as an offloading NIC would) and polls until idle. */
void fz_rig_frame(struct fz_rig *r, const uint8_t *f, size_t len, uint32_t csum);
/* Runs timers for dt_ns of virtual time, stopping at every deadline. */
void fz_rig_advance(struct fz_rig *r, uint64_t dt_ns);
/* Drains the sockets' receive buffers (what an application would do). */
void fz_rig_drain(struct fz_rig *r);

/* Frames from the peer to us (tl_frame.h builds them); each returns the
 * frame length. */
/* Ethernet + IPv4 + TCP from the peer to us. */
size_t fz_tcp(uint8_t *f, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
    uint16_t win, const uint8_t *opt, size_t optlen, const void *data, size_t dlen);
/* Ethernet + IPv4 + UDP from the peer to us. */
size_t fz_udp(uint8_t *f, uint16_t sport, uint16_t dport, const void *data, size_t dlen);
/* Ethernet + IPv4 + an ICMP message (type, code, 4 bytes rest, body). */
size_t fz_icmp(uint8_t *f, uint8_t type, uint8_t code, uint32_t rest, const void *body,
    size_t blen);

#endif /* FUZZ_RIG_H */
