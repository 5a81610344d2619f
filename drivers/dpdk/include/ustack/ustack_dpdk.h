/*
 * ustack_dpdk.h - a stack on a DPDK ethdev port: kernel bypass.
 *
 * One process initialises DPDK's EAL once (ust_dpdk_eal_init, with the
 * user's EAL arguments; DPDK allows one rte_eal_init per process), then
 * opens ports: any ethdev, a PCI NIC bound to vfio-pci or a virtual device
 * (net_tap, net_memif, net_ring, net_af_packet; ust_dpdk_vdev_create).  A
 * port is configured with N rx/tx queue pairs; each pair is attached to one
 * stack as one interface (ust_dpdk_attach), so N stacks on N threads can
 * share a port without locks.
 *
 * Receive lends the rte_mbuf's data to the stack (ust_mbuf_attach_ext: no
 * copy; the rte_mbuf goes back to its pool when the stack frees the
 * mbuf); transmit hands the stack's segments to the port without
 * flattening (multi-segment rte_mbufs, or external buffers referencing the
 * stack's clusters).  The stack's checksum and TSO requests map to the
 * port's tx offloads, the port's rx checksum flags to UST_CSUM_*_VALID;
 * what the port lacks is done in software.
 *
 * Built when CMake finds libdpdk through pkg-config (USTACK_WITH_DPDK
 * AUTO, the default; ON requires it; OFF leaves it out).  Without it these
 * functions do not exist; ustack.dpdk in Python reports why.
 */
#ifndef USTACK_DPDK_H
#define USTACK_DPDK_H

#include <stdint.h>

#include <ustack/ustack_driver.h>

#ifdef __cplusplus
extern "C" {
#endif

/* EAL, once per process.  args is a whitespace-separated EAL command line
 * without the program name, e.g. "--no-huge -m 256 --no-shconf --no-pci
 * --vdev=net_tap0,iface=dtap0".  0; -UST_EALREADY when the EAL was already
 * initialised (by an earlier call or by the application itself: the port
 * functions then work on that EAL); -UST_EINVAL for a malformed line;
 * -UST_EIO when rte_eal_init failed (the log says why). */
UST_API int ust_dpdk_eal_init(const char *args);
/* 1 once the EAL is up in this process. */
UST_API int ust_dpdk_eal_ready(void);

/* Creates a virtual device after EAL init ("net_tap0", "iface=dtap0") and
 * returns its port id.  0 or -UST_E* (ENODEV: unknown driver, EEXIST). */
UST_API int ust_dpdk_vdev_create(const char *name, const char *args, uint16_t *port_id);
/* Two net_ring ports joined back to back in this process (what a sends b
 * receives), nb_queues queue pairs each over rings of ring_size frames
 * (0: 1024; exact, so a full ring refuses): the in-process link of the
 * tests and benchmarks.  name (at most 16 bytes) names the rings and the
 * ports ("<name>_a", "<name>_b").  0 or -UST_E* (EEXIST: name in use). */
UST_API int ust_dpdk_ring_pair(const char *name, uint16_t nb_queues, uint32_t ring_size,
    uint16_t *port_a, uint16_t *port_b);
/* The port id of a device by its DPDK name ("net_tap0", "0000:03:00.0"). */
UST_API int ust_dpdk_port_by_name(const char *name, uint16_t *port_id);

struct ust_dpdk_port_config {
	uint16_t port_id;
	uint16_t nb_queues; /* rx/tx queue pairs, default 1 */
	uint16_t nb_rxd;    /* rx descriptors per queue, default 1024 */
	uint16_t nb_txd;    /* tx descriptors per queue, default 1024 */
	uint32_t nb_mbufs;  /* rte_mbufs in each of the port's rx and tx pools,
	                     * default 4095 per queue (about 10 MB each) */
	uint32_t mtu;       /* 0: the port's current MTU */
	uint8_t promisc;    /* default 0 */
	uint8_t zero_copy;  /* default 1: lend rx data to the stack; 0 copies
	                      * (so ASan sees every byte the stack reads) */
	uint32_t caps_mask; /* UST_IFCAP_* the driver may offer, default all;
	                      * clear bits to force software fallbacks */
};

struct ust_dpdk_stats {
	uint64_t ipackets, ibytes, imissed, ierrors, rx_nombuf; /* the port's (rte_eth_stats) */
	uint64_t opackets, obytes, oerrors;
	uint64_t rx_lent;     /* frames whose data was lent to a stack */
	uint64_t rx_copied;   /* frames copied (zero_copy 0, or no ext mbuf) */
	uint64_t tx_full;     /* tx ring full: left with the stack */
	uint64_t tx_sw_csum;  /* checksums the driver computed for want of offload */
	uint64_t tx_tso;      /* TSO frames handed to the port */
	uint64_t rx_lent_now; /* received buffers lent to stacks right now */
	uint64_t tx_copied;   /* frames flattened into a copy (see dpdk.c) */
};

struct ust_dpdk_port;

UST_API void ust_dpdk_port_config_init(struct ust_dpdk_port_config *cfg);
/* Configures and starts the port.  0 or -UST_E*: ENODEV (no such port),
 * EINVAL (more queues than the port has), ENOMEM (pool), EIO (DPDK). */
UST_API int ust_dpdk_port_open(const struct ust_dpdk_port_config *cfg, struct ust_dpdk_port **out);
/* Detaches the interfaces still on the port (their stacks must still
 * exist), then stops and closes it.  Received buffers lent to stacks keep
 * the port's mempools until the stacks let go of them. */
UST_API void ust_dpdk_port_close(struct ust_dpdk_port *p);
/* Queue pair `queue` of the port as interface `name` of st. */
UST_API int ust_dpdk_attach(struct ust_stack *st, struct ust_dpdk_port *p, uint16_t queue,
    const char *name, struct ust_if **ifp);
/* The driver's ops and the softc of queue pair `queue` (NULL for no such
 * queue), for ust_if_attach() directly: to wrap a queue in another driver
 * (ustack_fault.h), from Python's Stack.add_interface, and in the
 * conformance suite.  ust_dpdk_attach() is ust_if_attach() with these. */
UST_API const struct ust_driver_ops *ust_dpdk_ops(void);
UST_API void *ust_dpdk_softc(struct ust_dpdk_port *p, uint16_t queue);
UST_API void ust_dpdk_get_stats(struct ust_dpdk_port *p, struct ust_dpdk_stats *out);
/* Link state: 1 up, 0 down; speed in Mbit/s (0 unknown). */
UST_API int ust_dpdk_link(struct ust_dpdk_port *p, uint32_t *speed_mbps);

#ifdef __cplusplus
}
#endif
#endif /* USTACK_DPDK_H */
