/*
 * ustack_afxdp.h - a stack on a Linux network interface through AF_XDP
 * sockets: the kernel's own bypass path.
 *
 * A port binds one AF_XDP socket per rx/tx queue of an interface, each with
 * its own UMEM (frames in memory shared with the kernel) and its fill,
 * completion, rx and tx rings; each queue is one interface of one stack.
 * A six-instruction XDP program (bpf_redirect_map into an XSKMAP by
 * rx_queue_index) sends the interface's frames to the sockets.  It is
 * loaded with the raw bpf(2) syscall and attached with BPF_LINK_CREATE:
 * no libbpf, libxdp, clang or bpffs, and the link (so the program) goes
 * away with the process, also after SIGKILL.
 *
 * Receive lends UMEM frames to the stack (ust_mbuf_attach_ext: no copy;
 * the frame goes back to the fill ring when the stack frees the mbuf),
 * copying instead when few frames are free.  Frames longer than a UMEM
 * frame travel as multi-buffer descriptor chains (XDP_USE_SG) both ways.
 * Transmit copies the stack's chain into UMEM frames (the kernel may only
 * read UMEM) and asks for the TCP/UDP checksum through tx metadata
 * (XDP_TXMD_FLAGS_CHECKSUM) when the kernel accepts it, else computes it
 * in software.  No TSO (the stack segments) and no rx checksum metadata.
 *
 * Built on Linux when the system headers have <linux/if_xdp.h>
 * (USTACK_WITH_AFXDP AUTO, the default; ON requires it; OFF leaves it out).
 * Without it these functions do not exist; ustack.afxdp in Python reports
 * why.  Needs CAP_NET_ADMIN and CAP_BPF (or root).
 */
#ifndef USTACK_AFXDP_H
#define USTACK_AFXDP_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_driver.h>

#ifdef __cplusplus
extern "C" {
#endif

/* XDP attach modes (ust_afxdp_config.mode, ust_afxdp_info.mode). */
#define UST_AFXDP_MODE_AUTO 0    /* native, else generic */
#define UST_AFXDP_MODE_NATIVE 1  /* the driver's XDP hook (XDP_FLAGS_DRV_MODE) */
#define UST_AFXDP_MODE_GENERIC 2 /* the skb path (XDP_FLAGS_SKB_MODE) */

struct ust_afxdp_config {
	const char *ifname;     /* the interface, e.g. "veth0" */
	uint16_t queues;        /* queues 0..queues-1, one socket each; default 1 */
	uint8_t mode;           /* UST_AFXDP_MODE_*, default AUTO */
	int8_t zero_copy;       /* -1 (default): try XDP_ZEROCOPY, fall back to
	                       * XDP_COPY; 0: copy mode; 1: zero copy or fail */
	uint32_t frame_size;    /* UMEM frame size, 2048 or 4096 (default) */
	uint32_t frames;        /* UMEM frames per queue, default 4096 (a power
	                       * of two; half for rx/fill, half for tx) */
	uint8_t multi_buffer;   /* default 1: XDP_USE_SG, frames longer than a
	                       * UMEM frame both ways (falls back to 0 when the
	                       * kernel refuses) */
	uint8_t tx_csum;        /* default 1: checksum offload through tx metadata
	                       * where the kernel accepts it */
	uint8_t lend;           /* default 1: lend rx frames to the stack; 0 copies
	                       * (so ASan sees every byte the stack reads) */
	uint32_t lend_min_free; /* copy instead of lending while fewer rx frames
	                         * than this are free, default a quarter of them */
	uint32_t mtu;           /* 0: the interface's MTU */
	uint32_t caps_mask;     /* UST_IFCAP_* the driver may offer, default all */
};

/* What a port got from the kernel. */
struct ust_afxdp_info {
	uint8_t mode;         /* UST_AFXDP_MODE_NATIVE or _GENERIC */
	uint8_t zero_copy;    /* 1: bound with XDP_ZEROCOPY */
	uint8_t multi_buffer; /* 1: bound with XDP_USE_SG */
	uint8_t tx_csum;      /* 1: tx checksums through tx metadata */
	uint16_t queues;
	uint32_t frame_size, frames, mtu;
	int ifindex;
};

struct ust_afxdp_stats {
	uint64_t rx_frames, rx_bytes; /* frames handed to stacks */
	uint64_t rx_lent;             /* frames lent (zero copy) */
	uint64_t rx_copied;           /* frames copied */
	uint64_t rx_frags;            /* frames that came as descriptor chains */
	uint64_t rx_dropped;   /* the kernel's (XDP_STATISTICS): no room in rx ring or UMEM */
	uint64_t rx_invalid;   /* the kernel's: invalid rx descriptors */
	uint64_t rx_ring_full; /* the kernel's: rx ring full */
	uint64_t fill_empty;   /* the kernel's: fill ring empty */
	uint64_t rx_bad;       /* dropped by the driver: bad chains, no mbuf */
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_frags;        /* frames sent as descriptor chains */
	uint64_t tx_full;         /* no tx frame or ring slot: left with the stack */
	uint64_t tx_invalid;      /* the kernel's: invalid tx descriptors */
	uint64_t tx_ring_empty;   /* the kernel's: tx ring empty at a kick */
	uint64_t comp_empty;      /* completion ring empty when tx needed frames */
	uint64_t tx_csum_offload; /* checksums left to the kernel (tx metadata) */
	uint64_t tx_sw_csum;      /* checksums computed by the driver */
	uint64_t tx_kicks;        /* sendto() wake-ups */
	uint64_t lent_now;        /* rx frames lent to stacks now */
	uint64_t fill_now;        /* frames on the fill ring now */
	uint64_t rx_free_now;     /* rx frames with the driver, to refill */
	uint64_t tx_free_now;     /* tx frames free */
	uint64_t tx_pending_now;  /* tx frames on the tx ring or awaiting completion */
	uint64_t tx_dropped;      /* frames the driver could not send (more
	                           * descriptors than a chain may have, a header
	                           * too short for the checksum asked): freed */
};

struct ust_afxdp_port;

UST_API void ust_afxdp_config_init(struct ust_afxdp_config *cfg);
/* Creates the sockets and UMEMs, loads and attaches the XDP program.
 * 0 or -UST_E*: ENODEV (no such interface), EINVAL (bad config, more
 * queues than the interface has), EPERM (no privilege), ENOMEM,
 * EOPNOTSUPP (zero_copy 1 where the device cannot), EBUSY (another
 * program or socket holds the interface/queue after the retries), or the
 * errno of the failing call. */
UST_API int ust_afxdp_open(const struct ust_afxdp_config *cfg, struct ust_afxdp_port **out);
UST_API void ust_afxdp_info(const struct ust_afxdp_port *p, struct ust_afxdp_info *out);
/* Queue `queue` of the port as interface `name` of st. */
UST_API int ust_afxdp_attach(struct ust_stack *st, struct ust_afxdp_port *p, uint16_t queue,
    const char *name, struct ust_if **ifp);
/* The socket of a queue, readable when its rx ring has frames. */
UST_API int ust_afxdp_fd(const struct ust_afxdp_port *p, uint16_t queue);
/* Sums over the port's queues (queue UINT16_MAX), or one queue's.  The
 * counters are the queues' own, read as they are: while a queue's stack
 * polls on a thread of its own (a group), read that queue's under its
 * stack's lock (ust_stack_lock), or all of them with every stack locked. */
UST_API void ust_afxdp_get_stats(struct ust_afxdp_port *p, uint16_t queue,
    struct ust_afxdp_stats *out);
/* Detaches the interfaces still on the port (their stacks must still
 * exist), detaches the XDP program and closes the sockets.  Frames still
 * lent to stacks keep their UMEM until the last one comes back. */
UST_API void ust_afxdp_close(struct ust_afxdp_port *p);
/* The driver's ops and the softc of queue `queue` (NULL: none), for
 * ust_if_attach() directly (the fault driver, Stack.add_interface). */
UST_API const struct ust_driver_ops *ust_afxdp_ops(void);
UST_API void *ust_afxdp_softc(struct ust_afxdp_port *p, uint16_t queue);

/* Raw frame rate without a stack (the benchmark's ceiling), on a queue
 * not attached to a stack: for duration_ns, frame != NULL sends copies
 * of frame (len bytes, at most a UMEM frame) as fast as the rings take
 * them and returns the number the kernel completed; frame == NULL
 * receives and recycles and returns the number received.  -UST_E* on
 * error (EBUSY: the queue is attached). */
UST_API int64_t ust_afxdp_raw_pump(struct ust_afxdp_port *p, uint16_t queue, const void *frame,
    size_t len, uint64_t duration_ns);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_AFXDP_H */
