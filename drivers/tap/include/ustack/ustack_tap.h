/*
 * ustack_tap.h - a stack on a TAP device: the host kernel on the other side.
 *
 * Linux: /dev/net/tun with IFF_TAP | IFF_NO_PI, non-blocking, frames read
 * and written in bursts; with offload (the default) also IFF_VNET_HDR and
 * TUNSETOFFLOAD(TUN_F_CSUM | TUN_F_TSO4): the interface offers RXCSUM,
 * TXCSUM, TSO4 and LRO, TCP sends 64 KB segments the kernel cuts or takes
 * whole, and the kernel hands up GSO frames larger than the MTU (details in
 * drivers/tap/tap.c).  FreeBSD: the /dev/tap cloning device, without
 * offload and with the kernel's choice of name (compiled there; not built
 * or tested in this tree's CI).  The kernel's side is an Ethernet interface of the
 * given name in the network namespace of the process that opens it; it
 * disappears when ust_tap_close() closes the descriptor.  Needs
 * CAP_NET_ADMIN.  Elsewhere ust_tap_open() returns -UST_EOPNOTSUPP.
 *
 * Queues (Linux, many cores): with queues = n > 1 the device is opened n
 * times with IFF_MULTI_QUEUE, each descriptor one queue with its own
 * offload setup, buffer and counters; ust_tap_queue_softc(t, i) is queue
 * i's softc (one interface of one stack: stack i of a group,
 * ust_group_if_attach with ust_tap_ops() and the n softcs), polled by its
 * own thread.  Without the steering program (below), the kernel picks
 * the queue of a frame it sends by its own flow hash (not Toeplitz: a group re-steers in software), except that a
 * flow whose frames we wrote on queue i recently goes to queue i (tun's
 * automatic flow steering, a table entry per flow that expires after a
 * few seconds).  Every queue reports the same MAC and MTU.  FreeBSD:
 * queues > 1 is -UST_EOPNOTSUPP.
 *
 * RSS steering (Linux, queues > 1, rss_steer 1: the default): the device
 * gets a steering eBPF program (TUNSETSTEERINGEBPF, generated from the
 * Toeplitz key at open: drivers/tap/tap_steer.c) that sends every frame
 * to queue ust_rss_queue(ust_rss_hash_frame(key, frame), queues) - the
 * stack of a group that owns its flow, so that nothing is re-steered in
 * software, a connection's handshake included, and tun's flow learning
 * is off.  The key must be the group's (ust_group_config.rss_key; both
 * default to ust_rss_default_key()).  Loading needs CAP_BPF or
 * CAP_SYS_ADMIN and Linux 4.16; when the kernel refuses, the device keeps
 * the kernel's spreading, ust_tap_open() still succeeds, a line goes to
 * stderr (once per process) and ust_tap_rss_steering() says why.
 */
#ifndef USTACK_TAP_H
#define USTACK_TAP_H

#include <stdint.h>

#include <ustack/ustack_driver.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ust_tap_config {
	char name[16];   /* kernel interface name; "" lets the kernel pick (tapN) */
	uint8_t mac[6];  /* ustack's MAC on the link */
	uint8_t mac_set; /* 0: a random locally administered unicast MAC */
	uint32_t mtu;    /* default 1500; also set on the kernel's side */
	uint8_t offload; /* default 1: vnet header, checksum offload, TSO/GSO (Linux) */
	uint32_t queues; /* default 1; more: IFF_MULTI_QUEUE, one descriptor per queue */
	/* queues > 1 (Linux): 1 (default) installs the steering program
	 * (above), 0 leaves the kernel's own spreading. */
	uint8_t rss_steer;
	/* The program's Toeplitz key: rss_key when rss_key_set, else
	 * ust_rss_default_key().  It must equal the key of the group whose
	 * stacks own the queues. */
	uint8_t rss_key_set;
	uint8_t rss_key[40]; /* UST_RSS_KEYLEN */
	/* How frames cross the descriptor (Linux; UST_TAP_IO_*): VEC (0, the
	 * default) reads into an mbuf taken first and writes a packet's
	 * buffers as they are (readv/writev, no copy in user space; a GSO
	 * frame larger than a cluster is still copied); COPY goes through
	 * the queue's buffer (read/write and one memcpy each way). */
	uint8_t io;
};

#define UST_TAP_IO_VEC 0
#define UST_TAP_IO_COPY 1

#define UST_TAP_QUEUES_MAX 64

struct ust_tap_stats {
	uint64_t rx_frames; /* read from the device and handed to the stack */
	uint64_t rx_bytes;
	uint64_t rx_nombuf; /* read but dropped: the stack had no mbuf */
	uint64_t tx_frames; /* written to the device */
	uint64_t tx_bytes;
	uint64_t tx_errors; /* write failed (not EAGAIN) or frame over MTU: dropped */
	uint64_t tx_full;   /* the device's queue was full: left with the stack */
	uint64_t tx_tso;    /* frames written as one GSO (TSO) frame for the kernel to cut */
	uint64_t tx_csum;   /* frames written with NEEDS_CSUM (checksum left to the kernel) */
	uint64_t rx_gso;    /* frames read as one GSO/GRO frame (may exceed the MTU) */
	uint64_t rx_csum;   /* frames read with checksums vouched for by the kernel */
};

struct ust_tap;

UST_API void ust_tap_config_init(struct ust_tap_config *cfg);
/* 0, or -UST_E*: EPERM (no CAP_NET_ADMIN), ENOENT (no /dev/net/tun),
 * EBUSY (name in use), EINVAL (bad config), ENOMEM, EOPNOTSUPP. */
UST_API int ust_tap_open(const struct ust_tap_config *cfg, struct ust_tap **out);
/* Close only after the interface is detached from its stack. */
UST_API void ust_tap_close(struct ust_tap *t);
UST_API const struct ust_driver_ops *ust_tap_ops(void);
/* The softc to pass to ust_if_attach() with ust_tap_ops(): queue 0. */
UST_API void *ust_tap_softc(struct ust_tap *t);
/* The number of queues, and queue i's softc and descriptor (NULL and -1
 * when i is out of range). */
UST_API unsigned ust_tap_queues(const struct ust_tap *t);
UST_API void *ust_tap_queue_softc(struct ust_tap *t, unsigned i);
UST_API int ust_tap_queue_fd(const struct ust_tap *t, unsigned i);
/* The steering program: 1 installed, 0 not asked for (rss_steer 0 or
 * one queue), or why the kernel refused it: -UST_EPERM (no CAP_BPF /
 * CAP_SYS_ADMIN), -UST_EOPNOTSUPP (a kernel without bpf(2) or
 * TUNSETSTEERINGEBPF), another -UST_E*. */
UST_API int ust_tap_rss_steering(const struct ust_tap *t);
/* The kernel's name of the interface (as the kernel chose it). */
UST_API const char *ust_tap_name(const struct ust_tap *t);
/* The device's descriptor (queue 0's), readable when frames wait (for
 * poll/select). */
UST_API int ust_tap_fd(const struct ust_tap *t);
/* The counters summed over every queue; callable from any thread (each
 * counter exact, the set not one snapshot while queues run). */
UST_API void ust_tap_get_stats(const struct ust_tap *t, struct ust_tap_stats *out);
/* Queue i's counters; -UST_EINVAL when i is out of range. */
UST_API int ust_tap_get_queue_stats(const struct ust_tap *t, unsigned i, struct ust_tap_stats *out);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_TAP_H */
