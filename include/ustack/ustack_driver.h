/*
 * ustack_driver.h - for driver authors: the operations a driver provides
 * and the mbuf calls it uses to hand frames to and take frames from a stack.
 * drivers/README.md is the guide (layout of a driver folder, registration,
 * the conformance suite); this header is the contract.
 *
 * A driver instance is one interface.  The stack calls rx_burst and
 * tx_burst from ust_stack_poll() on its own thread; a driver that talks to
 * another thread (pipe in threaded mode, a NIC) does its own hand-off.
 * Every ust_mbuf_* call below is made on the stack's thread (inside an op,
 * or holding ust_stack_lock()): mbufs come from the stack's zones, which
 * are not thread-safe.
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
#define UST_IFCAP_TXCSUM_IPV6 0x0020u /* driver fills TCP/UDP checksums of IPv6 packets */
#define UST_IFCAP_TSO6 0x0040u        /* driver segments large TCP/IPv6 packets */

/* Counters a device keeps itself (get_counter; FreeBSD IFCOUNTER_*). */
#define UST_IFCOUNTER_IERRORS 1 /* frames the device received and rejected */
#define UST_IFCOUNTER_IQDROPS 2 /* frames the device dropped: no descriptor or buffer */
#define UST_IFCOUNTER_OERRORS 3 /* frames the device failed to send */

/* Per-packet offload flags (FreeBSD CSUM_* meanings). */
#define UST_CSUM_IP 0x0001u       /* tx: fill the IPv4 header checksum */
#define UST_CSUM_TCP 0x0002u      /* tx: fill the TCP checksum */
#define UST_CSUM_UDP 0x0004u      /* tx: fill the UDP checksum */
#define UST_CSUM_TSO 0x0008u      /* tx: segment at tso_segsz */
#define UST_CSUM_IP6_UDP 0x0010u  /* tx: fill the UDP checksum of an IPv6 packet */
#define UST_CSUM_IP6_TCP 0x0020u  /* tx: fill the TCP checksum of an IPv6 packet */
#define UST_CSUM_IP6_TSO 0x0040u  /* tx: segment a TCP/IPv6 packet at tso_segsz */
#define UST_CSUM_L3_VALID 0x0100u /* rx: IPv4 header checksum verified */
#define UST_CSUM_L4_VALID 0x0200u /* rx: TCP/UDP checksum verified */

/*
 * The offload contract.
 *
 * Transmit.  A frame the stack hands to tx_burst is Ethernet II (14 bytes,
 * no VLAN tag), then IPv4 (ip_hl * 4 bytes), then the transport header.
 * The stack asks for work only of an interface whose caps allow it:
 *  - UST_CSUM_IP (only with UST_IFCAP_TXCSUM): the IPv4 header checksum
 *    field is zero; the driver computes it over ip_hl * 4 bytes.
 *  - UST_CSUM_TCP / UST_CSUM_UDP (only with UST_IFCAP_TXCSUM): the
 *    checksum field, csum_data (16 for TCP, 6 for UDP) bytes into the
 *    transport header, holds the folded one's-complement sum of the
 *    pseudo header (RFC 9293 3.1, RFC 768) including the transport length,
 *    not complemented.  The driver sums from the transport header to the
 *    end of the IP datagram (field included), complements the result and
 *    stores it (UDP: 0 goes as 0xffff).  This is "checksum start/offset"
 *    in Linux virtio-net terms.
 *  - UST_CSUM_TSO (only with UST_IFCAP_TSO4 and TXCSUM; always with
 *    UST_CSUM_IP | UST_CSUM_TCP): a TCP/IPv4 packet of up to the
 *    interface's TSO maximum (65535 bytes of IP datagram) and more than the
 *    MTU, DF as TCP chose, never an IP option, never SYN.  tso_segsz is
 *    the payload per segment (the MSS less the TCP options every segment
 *    carries); the TCP checksum field holds the pseudo-header sum WITHOUT
 *    the length (as FreeBSD's NICs expect: each segment adds its own).
 *    The driver sends ceil(payload / tso_segsz) segments with the same
 *    headers except: IPv4 total length, IP ID + i for segment i, header
 *    checksum; TCP sequence number + i * tso_segsz; CWR only on the
 *    first, FIN and PSH only on the last; a full TCP checksum each.
 *    ust_mbuf_tso_segment() does exactly that in software.
 *  A driver that receives a flag it cannot honour in hardware calls
 *  ust_mbuf_csum_fill() (checksums) or ust_mbuf_tso_segment() (TSO).
 *  IPv6 (ethertype 0x86dd) has flags of its own (FreeBSD's CSUM_IP6_*),
 *  never mixed with the IPv4 ones above: a driver that does not announce
 *  the IPv6 caps never sees them, and every checksum of an IPv6 packet is
 *  then complete when it reaches the driver.  The IPv6 header (40 bytes)
 *  is followed directly by the transport header (the stack never asks for
 *  offload on a packet with extension headers or a fragment), so the
 *  transport starts at byte 54 of the frame; IPv6 has no header checksum.
 *  - UST_CSUM_IP6_TCP / UST_CSUM_IP6_UDP (only with
 *    UST_IFCAP_TXCSUM_IPV6): as UST_CSUM_TCP / UST_CSUM_UDP, the field
 *    csum_data bytes into the transport header holding the folded sum of
 *    the IPv6 pseudo header (RFC 8200 8.1: addresses, upper-layer length,
 *    next header), not complemented.  UDP: a computed 0 goes as 0xffff.
 *  - UST_CSUM_IP6_TSO (only with UST_IFCAP_TSO6 and TXCSUM_IPV6; always
 *    with UST_CSUM_IP6_TCP): as UST_CSUM_TSO for a TCP/IPv6 packet of up
 *    to the interface's TSO maximum counted over the whole IPv6 packet
 *    (header included, so at most 65535 bytes), more than the MTU, never
 *    SYN; the TCP checksum field holds the pseudo-header sum WITHOUT the
 *    length.  Each segment differs only
 *    by its payload length, TCP sequence number, CWR/FIN/PSH as above and
 *    a full TCP checksum (IPv6 has no ID and no header checksum: nothing
 *    of IPv4's UST_CSUM_IP is ever written into an IPv6 header).
 *  ust_mbuf_csum_fill() and ust_mbuf_tso_segment() take these flags too.
 *
 * Receive.  A driver may mark a frame UST_CSUM_L3_VALID and/or
 * UST_CSUM_L4_VALID when its hardware (or the host, for a TAP) vouches for
 * the checksums; the stack then skips its own check.  With UST_IFCAP_LRO a
 * driver may hand up one TCP/IPv4 segment made of several (up to 65535
 * bytes of IP datagram, longer than the MTU); the stack takes it as one
 * segment.  Frames longer than the MTU are accepted from any interface.
 * For an IPv6 packet the stack ignores UST_CSUM_L3_VALID (IPv6 has no
 * header checksum) and honours UST_CSUM_L4_VALID as for IPv4; with
 * UST_IFCAP_LRO the coalesced segment may be TCP/IPv6 too (payload length
 * up to 65535, no extension headers).
 */

/*
 * Zero-copy receive.  A driver whose frames already sit in its own memory
 * (a DMA ring, netmap slots, DPDK rte_mbufs) lends the buffer with
 * ust_mbuf_attach_ext() instead of copying it.  The stack reads the lent
 * bytes and never writes them (the mbuf is read-only: a path that must
 * write, such as an ICMP echo reply or IP reassembly, writes into new
 * buffers).  The buffer may be referenced by several mbufs at once (TCP
 * keeps received data in the socket buffer until the application reads
 * it, and m_copym shares rather than copies); the stack counts the
 * references and calls free_fn(arg, buf) exactly once, when the last one
 * goes, on the stack's thread: inside ust_stack_poll(), a socket call
 * (recv, close), ust_mbuf_free(), ust_if_detach() or at the latest
 * ust_stack_destroy().  That may be after the interface was detached, so
 * the buffer and whatever free_fn uses must outlive every lent frame: a
 * driver counts what it has lent and frees its pool only when the count
 * is back to zero.  Lent buffers can stay in socket buffers for as long
 * as an application does not read: a driver with a fixed pool copies
 * (ust_mbuf_from_buf) instead of lending once its free buffers run low,
 * so that receive never stalls.
 *
 * Gather transmit.  A frame handed to tx_burst is a chain: the stack
 * never flattens it on the way out.  TCP sends a header mbuf followed by
 * the socket buffer's clusters, shared by reference with the send buffer
 * for retransmission; IP fragments are a header plus a reference into the
 * datagram.  The first buffer holds at least the 14-byte Ethernet header
 * (headers beyond it are contiguous in practice for TCP and UDP, but a
 * driver must not rely on that: ust_mbuf_copydata() reads across buffers).
 * ust_mbuf_sglist() lists the buffers (address, length) for a gather DMA
 * or writev(2); every one of them is read-only to the driver, which may
 * keep the frame (and so the buffers) until its hardware is done with it
 * and then ust_mbuf_free() it on the stack's thread, the next tx_burst or
 * rx_burst being the usual place to reap completions.  A driver that
 * needs to write into a frame (a software offload) uses
 * ust_mbuf_csum_fill() / ust_mbuf_tso_segment(), which copy what is
 * shared, or ust_mbuf_dup() for a private writable copy.
 *
 * Back-pressure.  tx_burst may take fewer frames than offered (its ring is
 * full); the stack keeps the rest at the head of the interface's queue, in
 * order, and offers them again at its next poll, reporting "now" from
 * ust_stack_next_deadline() meanwhile.  Frames the interface queue cannot
 * hold (ust_stack_config.ifq_maxlen) are dropped and counted as oqdrops;
 * TCP recovers them as losses.  A driver never drops a frame for lack of
 * room when it can refuse it instead.
 */

struct ust_driver_ops {
	const char *name;
	/* Receives up to max frames.  Each frame is an mbuf the driver made
	 * with ust_mbuf_alloc(), ust_mbuf_from_buf() or ust_mbuf_attach_ext()
	 * on ifp; ownership passes to the stack.  Returns the number stored in
	 * pkts (0..max).  Called at every ust_stack_poll(), with or without
	 * work, so a driver may also reap its transmit completions here. */
	int (*rx_burst)(void *softc, struct ust_if *ifp, struct ust_mbuf **pkts, int max);
	/* Offers n frames (chains: see "Gather transmit"); returns how many
	 * the driver took, the first ones (0..n).  Taken frames belong to the
	 * driver, which frees them with ust_mbuf_free() on the stack's thread
	 * when done (at once for a copy, after DMA completion for zero-copy);
	 * the rest stay with the stack and are offered again. */
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
	 * The driver frees every mbuf of this stack it still holds (frames
	 * taken by tx_burst, frames received but not yet handed up); the
	 * stack's zones must be back where they were without it.  Buffers it
	 * lent with ust_mbuf_attach_ext() may still be referenced after
	 * detach (see "Zero-copy receive"). */
	void (*detach)(void *softc);
	/* Optional (NULL: 65535): the largest IP datagram the driver takes
	 * with UST_CSUM_TSO (FreeBSD if_hw_tsomax). */
	uint32_t (*get_tso_max)(void *softc);
	/* Optional (NULL: 0): a count the device kept and the stack never saw
	 * (FreeBSD's if_get_counter), for `which` UST_IFCOUNTER_*: frames a
	 * NIC dropped before any descriptor reached the driver.
	 * ust_if_get_stats() adds it to the stack's own count. */
	uint64_t (*get_counter)(void *softc, int which);
	/* Optional (NULL: the driver passes every frame up, multicast
	 * included, and the stack filters): the link-layer multicast groups
	 * the stack wants, called whenever that list changes (FreeBSD's
	 * SIOCADDMULTI/SIOCDELMULTI).  macs holds n group addresses (n may be
	 * 0); allmulti nonzero asks for every multicast frame.  A driver whose
	 * hardware filters multicast programs its filter from it; one that
	 * cannot hold n entries opens to all multicast (the stack still
	 * filters).  The array is only lent for the call. */
	void (*set_multicast)(void *softc, const uint8_t (*macs)[6], unsigned n, int allmulti);
};

/* A new packet with room for len bytes of contiguous data (pktlen = len),
 * taken from ifp's stack zones (a cluster or jumbo cluster as needed; data
 * starts at the buffer, headers are read without alignment assumptions);
 * the receive interface is set to ifp.  NULL
 * when len exceeds the largest cluster or the zones are exhausted (counted
 * as the interface's iqdrops by the caller's drop). */
UST_API struct ust_mbuf *ust_mbuf_alloc(struct ust_if *ifp, size_t len);
/* Shortens the packet m to its first len bytes (a driver that received
 * into a ust_mbuf_alloc() buffer of the largest frame's size: readv).
 * Returns 0, or -1 when len exceeds the packet's length. */
UST_API int ust_mbuf_trim(struct ust_mbuf *m, size_t len);
/* A new packet holding a copy of len bytes, chained across clusters when
 * needed.  NULL when out of buffers. */
UST_API struct ust_mbuf *ust_mbuf_from_buf(struct ust_if *ifp, const void *data, size_t len);
/*
 * Zero-copy receive (see the contract above): a new packet whose len bytes
 * of data are at buf + off inside the driver's buffer buf of size bytes;
 * no byte is copied.  The receive interface is set to ifp.  The stack
 * calls free_fn(arg, buf) exactly once, when the last mbuf referring to
 * the buffer is freed.  NULL when buf or free_fn is NULL, off + len
 * exceeds size, or the stack has no mbufs (two are taken: the packet and
 * the holder of the reference count, both from the mbuf zone and so shown
 * in its statistics; counted as the interface's iqdrops); free_fn is then
 * never called and the buffer stays the driver's.  FreeBSD's m_extadd().
 */
typedef void (*ust_mbuf_ext_free_fn)(void *arg, void *buf);
UST_API struct ust_mbuf *ust_mbuf_attach_ext(struct ust_if *ifp, void *buf, size_t size, size_t off,
    size_t len, ust_mbuf_ext_free_fn free_fn, void *arg);
/*
 * Zero-copy between two stacks (the pipe's lending): a driver that carries
 * a frame from one stack (the sender) to another (the receiver) on another
 * thread may hand the receiver the sender's buffers instead of a copy.
 *
 * On the sender's thread: ust_mbuf_keep(m) keeps m's stack's packet
 * memory (its mbuf and cluster zones) alive, even past ust_stack_destroy,
 * until the matching ust_mbuf_unkeep(), which may run on any thread (the
 * last one after the stack was destroyed frees the zones there).  NULL
 * when that stack has a quarter or less of its mbufs, clusters or memory
 * left: copy instead (the receiver may pin lent buffers for as long as its
 * application does not read).  The frame m itself stays the sender's: it
 * is freed with ust_mbuf_free() on the sender's thread only, once the
 * receiver has let go (a driver hands it back through a ring).
 *
 * On the receiver's thread: ust_mbuf_attach_ref() makes one packet mbuf
 * of ifp's stack whose len bytes at buf + off (inside the buffer buf of
 * size bytes) are lent, read-only, not copied; ust_mbuf_cat() chains it
 * after a header the driver copied (ust_mbuf_from_buf), which stays
 * writable.  The reference count is the driver's *cnt (plain, touched on
 * the receiver's thread only): each mbuf referring to the buffer adds one
 * (several buffers may share one counter), and free_fn(arg, buf) runs once
 * when it drops to zero, as for ust_mbuf_attach_ext().  A driver that
 * holds a reference of its own while it builds the chain (*cnt = 1, then
 * --*cnt and free_fn itself at zero) gets free_fn exactly once whatever
 * fails.  NULL (free_fn not called for it, *cnt unchanged) when buf,
 * cnt or free_fn is NULL, off + len exceeds size, or there is no mbuf
 * (counted as the interface's iqdrops).  One mbuf per buffer, from the
 * mbuf zone.
 */
struct ust_mbuf_keep;
UST_API struct ust_mbuf_keep *ust_mbuf_keep(const struct ust_mbuf *m);
UST_API void ust_mbuf_unkeep(struct ust_mbuf_keep *k);
UST_API struct ust_mbuf *ust_mbuf_attach_ref(struct ust_if *ifp, const void *buf, size_t size,
    size_t off, size_t len, uint32_t *cnt, ust_mbuf_ext_free_fn free_fn, void *arg);
/* Appends the packet n to the packet m (n's packet header is dropped, m's
 * length grows by n's); consumes n.  Small unshared data may be copied
 * into m's last buffer; lent buffers are linked. */
UST_API void ust_mbuf_cat(struct ust_mbuf *m, struct ust_mbuf *n);
/* Frees a whole packet (chain).  NULL is fine. */
UST_API void ust_mbuf_free(struct ust_mbuf *m);
/* Contiguous data of the first buffer of m and its length; walk a chain
 * with ust_mbuf_next(). */
UST_API void *ust_mbuf_data(struct ust_mbuf *m);
UST_API size_t ust_mbuf_len(const struct ust_mbuf *m);
UST_API struct ust_mbuf *ust_mbuf_next(const struct ust_mbuf *m);
/* Gather transmit (see the contract above): the non-empty buffers of the
 * packet m, in order, as (address, length) pairs in v[0..max-1].  Returns
 * the number of such buffers, which may exceed max: only the first max
 * are stored then, and a driver with fewer descriptors than that copies
 * the frame (ust_mbuf_copydata()) instead.  The bytes are read-only and
 * stay valid until the driver frees m. */
UST_API int ust_mbuf_sglist(const struct ust_mbuf *m, struct ust_iovec *v, int max);
/* A deep copy of the packet m (header and offload metadata included) in
 * new, writable buffers of m's stack, NULL when out of buffers; m is not
 * consumed.  For a driver that must change a frame it was given. */
UST_API struct ust_mbuf *ust_mbuf_dup(const struct ust_mbuf *m);
/* 1 when every byte of m may be written in place (no buffer shared or
 * lent), else 0. */
UST_API int ust_mbuf_writable(const struct ust_mbuf *m);
/* Offload metadata of a packet. */
UST_API uint32_t ust_mbuf_csum_flags(const struct ust_mbuf *m);
UST_API void ust_mbuf_set_csum_flags(struct ust_mbuf *m, uint32_t flags);
UST_API uint32_t ust_mbuf_tso_segsz(const struct ust_mbuf *m);
/* The RSS hash a device computed for a received frame and its UST_RSS_*
 * type (ustack_group.h; FreeBSD's m_pkthdr.flowid and M_HASHTYPE).  A
 * group of stacks steers by it instead of hashing the frame again, so a
 * driver gives only a Toeplitz hash over the standard inputs under the
 * group's key (ust_rss_hash_frame computes exactly that). */
UST_API void ust_mbuf_set_rss(struct ust_mbuf *m, uint32_t hash, int type);
UST_API int ust_mbuf_rss(const struct ust_mbuf *m, uint32_t *hash);
/* Software offload for drivers (the contract above).  ust_mbuf_csum_fill()
 * fills the checksums a frame's UST_CSUM_IP/TCP/UDP (IPv4) or
 * UST_CSUM_IP6_TCP/UDP (IPv6) flags ask for and clears those flags: 0, or
 * -UST_EINVAL (not such a frame, or a TSO one), -UST_ENOBUFS.
 * ust_mbuf_tso_segment() cuts a UST_CSUM_TSO (TCP/IPv4) or
 * UST_CSUM_IP6_TSO (TCP/IPv6) frame into at most max complete frames with
 * every checksum filled, stored in segs, and frees m: returns their
 * number, or -UST_EINVAL (not such a frame), -UST_E2BIG (more than max
 * needed), -UST_ENOBUFS, m untouched. */
UST_API int ust_mbuf_csum_fill(struct ust_mbuf *m);
UST_API int ust_mbuf_tso_segment(struct ust_mbuf *m, struct ust_mbuf **segs, int max);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_DRIVER_H */
