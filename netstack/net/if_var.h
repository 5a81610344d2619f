/*
 * if_var.h - struct ifnet, the stack's side of an interface (FreeBSD
 * net/if_var.h): the driver it wraps, its counters, capture and raw input
 * hooks, and the transmit queue flushed at the end of each poll.
 */
#ifndef _USTACK_NET_IF_VAR_H_
#define _USTACK_NET_IF_VAR_H_

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>
#include <ustack/ustack_driver.h>

struct mbuf;
struct ifnet;

#define IFNAMSIZ 16
#define ETHER_ADDR_LEN 6
#define ETHER_HDR_LEN 14
#define ETHER_VLAN_ENCAP_LEN 4
/* The largest TSO datagram a driver may announce: the 16-bit length field
 * of IPv4 (IP_MAXPACKET) and of IPv6 without jumbograms (RFC 8200 3). */
#define IF_MAXTSO 65535

/*
 * A network layer's receive entry for one ethertype (FreeBSD's netisr
 * handler, called directly): m starts past the Ethernet header, esrc is
 * the frame's source address.  Consumes m.  Each domain lists its own
 * (struct domain's dom_ethertypes); the stack copies them at creation into
 * a small table that ether_input searches, so the link layer names no
 * network protocol.
 */
typedef void ether_input_fn(struct ifnet *ifp, struct mbuf *m, const uint8_t esrc[ETHER_ADDR_LEN]);
struct ether_proto {
	uint16_t ep_type; /* ETHERTYPE_*, at least 0x0600 (IEEE 802.3 3.2.6) */
	ether_input_fn *ep_input;
};
#define ETHER_NPROTO_MAX 8 /* per stack, all domains together */

/* A FIFO of packets through m_nextpkt, with a length bound. */
struct ifqueue {
	struct mbuf *ifq_head;
	struct mbuf *ifq_tail;
	uint32_t ifq_len;
	uint32_t ifq_maxlen;
};

/*
 * Per-family data of an interface (FreeBSD's if_afdata[AF_*]): what a
 * domain's dom_ifattach returned, released by its dom_ifdetach.  Sized for
 * the families ustack has; IF_AFDATA_IDX maps a UST_AF_* to its slot (-1
 * for none).
 */
#define IF_AFDATA_INET 0
#define IF_AFDATA_INET6 1
#define IF_AFDATA_MAX 2
#define IF_AFDATA_IDX(af) \
	((af) == UST_AF_INET ? IF_AFDATA_INET : (af) == UST_AF_INET6 ? IF_AFDATA_INET6 : -1)

/*
 * Link-layer multicast memberships (FreeBSD's if_multiaddrs), reference
 * counted: each network-layer group a family joins holds one reference to
 * its MAC (IPv6's solicited-node groups of several addresses may share
 * one).  A small array, so that a driver's set_multicast gets it as is.
 */
#define IF_MULTI_MAX 16

struct ifnet {
	struct ust_stack *if_stack;
	char if_xname[IFNAMSIZ];
	/* 1..UST_MAX_IFNET, stable for the interface's life (IPv6 scope ids
	 * are indexes); a free index is reused, the lowest first. */
	unsigned if_index;
	const struct ust_driver_ops *if_ops;
	void *if_softc;
	uint8_t if_hwaddr[ETHER_ADDR_LEN];
	uint32_t if_mtu;
	uint32_t if_capabilities;    /* UST_IFCAP_* */
	uint32_t if_hw_tsomax;       /* largest TSO datagram (get_tso_max) */
	struct ust_if_stats if_data; /* counters */
	struct ifqueue if_snd;       /* waiting for tx_burst */
	ust_capture_fn if_bpf;       /* capture tap */
	void *if_bpf_arg;
	ust_if_input_fn if_input_hook;
	void *if_input_hook_arg;
	void *if_afdata[IF_AFDATA_MAX];                  /* per family, from dom_ifattach */
	uint8_t if_mcaddr[IF_MULTI_MAX][ETHER_ADDR_LEN]; /* joined MACs */
	uint32_t if_mcrefs[IF_MULTI_MAX];                /* their references */
	unsigned if_nmulti;
	uint32_t if_amcount; /* if_allmulti() references: every group passes */
	/*
	 * Software receive coalescing (netinet/tcp_lro.c, FreeBSD's struct
	 * lro_ctrl): the table, made from the stack's memory when a burst
	 * first offers it a segment (if_lro_size bytes, freed at detach), the
	 * flows it holds, and its flush, which if_poll_rx runs at the end of
	 * every burst while it holds any.  if_lro_burst is set while
	 * if_poll_rx hands up a burst of 2+ frames from an interface without
	 * UST_IFCAP_LRO: only then may IP offer segments (frames other stacks
	 * of a group hand over and loopback never are).
	 */
	void *if_lro;
	size_t if_lro_size;
	void (*if_lro_flush)(struct ifnet *ifp);
	uint16_t if_lro_held;
	uint8_t if_lro_burst;
	/*
	 * ip_input's last verdict on a (source, destination) pair from this
	 * interface (the address-list walks of its source, broadcast and
	 * "ours" checks), one entry, valid while ic_gen equals the stack's
	 * st_route_gen, which every address, route and interface change
	 * bumps.  ic_gen 0 never matches.
	 */
	struct {
		uint32_t ic_gen;
		uint32_t ic_src, ic_dst; /* network order */
		uint8_t ic_verdict;      /* ip_input.c's IPC_* bits */
	} if_ipcache;
};

/* The public handle is the ifnet itself. */
#define IFP_FROM_UST(u) ((struct ifnet *)(void *)(u))
#define IFP_TO_UST(i) ((struct ust_if *)(void *)(i))

/* Frame received by a driver: counts, taps, hands it to the link layer.
 * Consumes m. */
void if_input(struct ifnet *ifp, struct mbuf *m);
/* Queues a link-layer frame for the next flush.  Consumes m.  Returns 0
 * or UST_ENOBUFS (queue full, counted in oqdrops). */
int if_transmit(struct ifnet *ifp, struct mbuf *m);
/* Hands queued frames to the driver.  Returns the number it took. */
int if_flush(struct ifnet *ifp);
/* Takes up to max frames from the driver and passes them to if_input.
 * Returns the number taken. */
int if_poll_rx(struct ifnet *ifp, uint32_t max);
/* Frees everything queued (detach). */
void if_purge(struct ifnet *ifp);
/* The live interface of index idx, or NULL (FreeBSD ifnet_byindex). */
struct ifnet *ifnet_byindex(struct ust_stack *st, unsigned idx);

/* Joins the link-layer group mac (a multicast address) on ifp, or takes
 * one more reference to it; tells the driver (set_multicast) when the list
 * changes.  0, UST_EINVAL (not a group address, or broadcast) or
 * UST_ENOSPC (IF_MULTI_MAX groups already). */
int if_addmulti(struct ifnet *ifp, const uint8_t mac[ETHER_ADDR_LEN]);
/* Drops one reference to mac; the last one leaves the group.  0 or
 * UST_ENOENT (not joined). */
int if_delmulti(struct ifnet *ifp, const uint8_t mac[ETHER_ADDR_LEN]);
/* Nonzero when frames to mac pass ifp's filter: a joined group, or any
 * group while someone holds allmulti. */
int if_multi_accept(const struct ifnet *ifp, const uint8_t mac[ETHER_ADDR_LEN]);
/* Takes (on nonzero) or drops a reference to "every multicast frame"
 * (FreeBSD if_allmulti, for multicast routing or MLD snooping-free
 * hosts); the driver hears of the first and the last. */
void if_allmulti(struct ifnet *ifp, int on);

#endif /* _USTACK_NET_IF_VAR_H_ */
