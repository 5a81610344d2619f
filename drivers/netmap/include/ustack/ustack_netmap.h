/*
 * The netmap driver: a stack on the rings of a netmap port (netmap(4),
 * API 14).  One ring pair of a port is one interface of a stack; several
 * ring pairs of one descriptor ("netmap:em0" binds all NIC rings) may be
 * interfaces of one stack only (they share the descriptor's syncs); for one
 * stack per ring on several threads, open one port per ring ("netmap:em0-0",
 * "netmap:em0-1").
 *
 * Port names, as netmap's own tools take them:
 *   netmap:IF        all NIC ring pairs of interface IF (NR_REG_ALL_NIC)
 *   netmap:IF-N      NIC ring pair N only (NR_REG_ONE_NIC)
 *   netmap:IF^       the host rings (NR_REG_SW): frames to/from IF's kernel stack
 *   netmap:IF*       NIC and host rings (NR_REG_NIC_SW)
 *   netmap:X{N       end 0 of netmap pipe N of X ("master"); netmap:X}N the other end
 *   vale0:P          port P of the VALE switch vale0 (created on first use)
 *
 * Every system call the driver makes (open, close, ioctl, mmap, munmap,
 * poll) goes through struct ust_netmap_sys, libc by default, so a test can
 * put a user-space emulator of the kernel side under it (tests/netmap_emu).
 */
#ifndef USTACK_NETMAP_H
#define USTACK_NETMAP_H

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_driver.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pollfd;

/* The system calls of the driver, with libc's meaning and return values
 * (-1 and errno on failure).  ctx is passed through. */
struct ust_netmap_sys {
	void *ctx;
	int (*open)(void *ctx, const char *path, int flags);
	int (*close)(void *ctx, int fd);
	int (*ioctl)(void *ctx, int fd, unsigned long request, void *arg);
	void *(*mmap)(void *ctx, void *addr, size_t len, int prot, int flags, int fd, int64_t off);
	int (*munmap)(void *ctx, void *addr, size_t len);
	int (*poll)(void *ctx, struct pollfd *fds, unsigned long nfds, int timeout_ms);
};

/* libc's calls (the default). */
UST_API const struct ust_netmap_sys *ust_netmap_libc(void);

struct ust_netmap_config {
	const char *port;                 /* "netmap:em0-1", "netmap:pipe{0", "vale0:p1" (above) */
	const char *device;               /* the control device, NULL: "/dev/netmap" */
	uint32_t slots;                   /* ring size asked for (nr_tx/rx_slots), 0: the port's */
	uint32_t extra_bufs;              /* spare buffers asked for (nr_extra_bufs) for
	                       * zero-copy receive, default 1024; the kernel may
	                       * give fewer, and with 0 the driver copies */
	uint8_t zero_copy;                /* default 1: lend rx buffers to the stack, swapping
	                       * a spare into the slot (NS_BUF_CHANGED); 0 copies */
	uint32_t lend_min_free;           /* copy instead of lending below this many spares,
	                         * default 64 (an application that does not read
	                         * must not stall receive) */
	uint32_t mtu;                     /* 0: 1500 */
	uint8_t mac[6];                   /* all zero: the interface's (SIOCGIFHWADDR) where
	                       * it has one, else a locally administered address
	                       * derived from the port name */
	uint32_t caps_mask;               /* UST_IFCAP_* the driver may offer; NIC ports offer
	                       * none (real netmap NIC ports have no offloads) */
	const struct ust_netmap_sys *sys; /* NULL: ust_netmap_libc() */
};

struct ust_netmap_stats {
	uint64_t rx_frames, rx_bytes; /* frames handed to stacks */
	uint64_t rx_lent;             /* frames whose buffer was lent (zero copy) */
	uint64_t rx_copied;           /* frames copied */
	uint64_t rx_frags;            /* frames that arrived as NS_MOREFRAG chains */
	uint64_t rx_dropped;          /* bad chains, frames over the MTU, no mbuf */
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_frags;       /* frames sent as NS_MOREFRAG chains */
	uint64_t tx_full;        /* tx ring full: frame left with the stack */
	uint64_t txsync, rxsync; /* NIOCTXSYNC / NIOCRXSYNC calls */
	uint64_t spare_bufs;     /* spare buffers held now */
	uint64_t lent_now;       /* buffers lent to stacks now */
};

struct ust_netmap_port;

UST_API void ust_netmap_config_init(struct ust_netmap_config *cfg);
/* Opens the control device, registers the port (NIOCCTRL,
 * NETMAP_REQ_REGISTER) and maps its memory.  0 or -UST_E*: EINVAL (bad
 * name), ENODEV (no such port), ENOMEM, or the errno of the failing call. */
UST_API int ust_netmap_open(const struct ust_netmap_config *cfg, struct ust_netmap_port **out);
/* Ring pairs bound by the port (host rings count after the NIC rings). */
UST_API unsigned ust_netmap_rings(const struct ust_netmap_port *p);
/* Ring pair `ring` of the port as interface `name` of st. */
UST_API int ust_netmap_attach(struct ust_stack *st, struct ust_netmap_port *p, unsigned ring,
    const char *name, struct ust_if **ifp);
/* The descriptor, readable when a bound rx ring has frames (poll(2) loops). */
UST_API int ust_netmap_fd(const struct ust_netmap_port *p);
UST_API void ust_netmap_get_stats(const struct ust_netmap_port *p, struct ust_netmap_stats *out);
/* Detaches the interfaces still on the port (their stacks must still
 * exist), unmaps and closes.  Buffers still lent to stacks keep the mapping
 * alive until the last one comes back. */
UST_API void ust_netmap_close(struct ust_netmap_port *p);
/* The driver's ops and the softc of ring pair `ring` (NULL: none), for
 * wrapping it (the fault driver). */
UST_API const struct ust_driver_ops *ust_netmap_ops(void);
UST_API void *ust_netmap_softc(struct ust_netmap_port *p, unsigned ring);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_NETMAP_H */
