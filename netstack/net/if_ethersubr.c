/*
 * if_ethersubr.c - Ethernet II framing (FreeBSD net/if_ethersubr.c): input
 * filtering and demultiplexing by ethertype, and output with next-hop
 * resolution through ARP.
 *
 *   if_input() -> ether_input() -> arp_input()      (ETHERTYPE_ARP)
 *                               -> ip_input()       (ETHERTYPE_IP)
 *   ip_output() -> ether_output() -> arpresolve() -> ether_output_frame()
 *               -> if_transmit()
 *   arp_input() -> (hold queue flush, replies) -> ether_output_frame()
 *
 * Input accepts frames addressed to the interface's MAC or to the
 * broadcast address (marked M_BCAST, so that IP can tell a link broadcast,
 * RFC 1122 3.3.6).  We join no multicast group yet, so multicast frames
 * are not ours.  802.1Q tagged frames and ethertypes we do not speak are
 * counted and dropped (if_data.noproto).
 *
 * Output does not pad frames to the 60-byte minimum (IEEE 802.3 4.2.3.3):
 * the driver or the hardware pads on the wire, as with most NICs, and the
 * receivers' length checks (IP total length, ARP's fixed size) ignore the
 * pad.  The frames a driver sees are the exact header plus payload.
 */
#include <stddef.h>
#include <string.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "netinet/if_ether.h"
#include "netinet/in_var.h"
#include "netinet/ip_var.h"

static const uint8_t etherbroadcastaddr[ETHER_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define ETHER_IS_MULTICAST(a) (((a)[0] & 0x01) != 0) /* group bit, incl. broadcast */

void
ether_input(struct ifnet *ifp, struct mbuf *m)
{
	struct ust_stack *st = ifp->if_stack;
	uint8_t eh[ETHER_HDR_LEN];
	uint16_t type;

	ETHERSTAT_INC(st, ether_ipackets);
	if (m->m_pkthdr.len < ETHER_HDR_LEN || m_copydata(m, 0, ETHER_HDR_LEN, eh) != 0) {
		ETHERSTAT_INC(st, ether_tooshort);
		ifp->if_data.ierrors++;
		goto drop;
	}
	/* IEEE 802.3 3.2.3: a source address is always an individual one. */
	if (ETHER_IS_MULTICAST(eh + ETHER_ADDR_LEN)) {
		ETHERSTAT_INC(st, ether_srcbcast);
		ifp->if_data.ierrors++;
		goto drop;
	}
	m->m_flags &= (uint16_t) ~(M_BCAST | M_MCAST);
	if (memcmp(eh, etherbroadcastaddr, ETHER_ADDR_LEN) == 0) {
		m->m_flags |= M_BCAST;
	} else if (ETHER_IS_MULTICAST(eh) || memcmp(eh, ifp->if_hwaddr, ETHER_ADDR_LEN) != 0) {
		/* Multicast: no group memberships yet, so never ours. */
		ETHERSTAT_INC(st, ether_notours);
		goto drop;
	}
	type = be16dec(eh + 2 * ETHER_ADDR_LEN);
	switch (type) {
	case ETHERTYPE_IP:
		m_adj(m, ETHER_HDR_LEN);
		ip_input(ifp, m);
		return;
	case ETHERTYPE_ARP:
		m_adj(m, ETHER_HDR_LEN);
		arp_input(ifp, m, eh + ETHER_ADDR_LEN);
		return;
	case ETHERTYPE_VLAN:
		ETHERSTAT_INC(st, ether_vlan);
		ifp->if_data.noproto++;
		goto drop;
	default:
		/* IPv6, 802.3 length fields (< 0x0600), everything else. */
		ETHERSTAT_INC(st, ether_unknowntype);
		ifp->if_data.noproto++;
		goto drop;
	}
drop:
	m_freem(m);
}

int
ether_output_frame(struct ifnet *ifp, struct mbuf *m, const uint8_t dst[ETHER_ADDR_LEN],
    uint16_t ethertype)
{
	struct ust_stack *st = ifp->if_stack;
	uint8_t *eh;
	int error;

	M_PREPEND(m, ETHER_HDR_LEN);
	if (m == NULL) {
		ETHERSTAT_INC(st, ether_nombuf);
		return (UST_ENOBUFS);
	}
	if (m->m_len < ETHER_HDR_LEN) {
		m = m_pullup(m, ETHER_HDR_LEN);
		if (m == NULL) {
			ETHERSTAT_INC(st, ether_nombuf);
			return (UST_ENOBUFS);
		}
	}
	eh = mtod(m, uint8_t *);
	memcpy(eh, dst, ETHER_ADDR_LEN);
	memcpy(eh + ETHER_ADDR_LEN, ifp->if_hwaddr, ETHER_ADDR_LEN);
	be16enc(eh + 2 * ETHER_ADDR_LEN, ethertype);
	m->m_pkthdr.rcvif = NULL;
	/* No padding to ETHER_MIN_LEN here: see the file comment. */
	error = if_transmit(ifp, m);
	if (error == 0)
		ETHERSTAT_INC(st, ether_opackets);
	return (error);
}

int
ether_output(struct ifnet *ifp, struct mbuf *m, struct in_addr nexthop, int flags)
{
	uint8_t dst[ETHER_ADDR_LEN];
	uint32_t hn = ntohl(nexthop.s_addr);
	int error;

	if ((flags & ETHER_OUT_BCAST) != 0 || in_broadcast(nexthop, ifp)) {
		memcpy(dst, etherbroadcastaddr, ETHER_ADDR_LEN);
	} else if (IN_MULTICAST(hn)) {
		/* RFC 1112 6.4: 01:00:5e and the low 23 bits of the group. */
		dst[0] = 0x01;
		dst[1] = 0x00;
		dst[2] = 0x5e;
		dst[3] = (uint8_t)((hn >> 16) & 0x7f);
		dst[4] = (uint8_t)(hn >> 8);
		dst[5] = (uint8_t)hn;
	} else {
		error = arpresolve(ifp, m, nexthop, dst);
		if (error == UST_EWOULDBLOCK)
			return (0); /* held; sent when the reply comes */
		if (error != 0) {
			ETHERSTAT_INC(ifp->if_stack, ether_noresolve);
			return (error); /* arpresolve freed m */
		}
	}
	return (ether_output_frame(ifp, m, dst, ETHERTYPE_IP));
}

/* The link layer's counters, first in ust_stats_describe(). */
const struct ust_stat_desc ether_stats[] = { UST_ETHERSTAT_FIELDS(DOM_STAT, DOM_STAT_ARRAY,
    ether) };
const unsigned ether_nstats = sizeof(ether_stats) / sizeof(ether_stats[0]);

void
ust_stats_ether(const struct ust_stack *st, struct ust_etherstat *out)
{
	*out = st->st_etherstat;
}
