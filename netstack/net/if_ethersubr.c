/*
 * if_ethersubr.c - Ethernet II framing (FreeBSD net/if_ethersubr.c): input
 * filtering and demultiplexing by ethertype to the network layers the
 * domains register, and output of a frame around a packet whose next hop
 * the network layer has resolved.
 *
 *   ust_stack_create -> domains_init -> ether_proto_register() (each
 *                       domain's dom_ethertypes, e.g. IPv4 and ARP)
 *   if_input() -> ether_input() -> st_ether_protos[type].ep_input()
 *   netinet: ip_output() -> ether_output() -> arpresolve() ->
 *            ether_output_frame() -> if_transmit()
 *
 * Input accepts frames addressed to the interface's MAC or to the
 * broadcast address (marked M_BCAST, so that IP can tell a link broadcast,
 * RFC 1122 3.3.6), and multicast frames to a group the interface joined
 * (if_addmulti, net/if.c; marked M_MCAST and counted as if_data.imcasts);
 * other multicast frames are not ours, whatever a driver without a
 * hardware filter passed up.  802.1Q tagged frames and ethertypes no
 * domain registered are counted and dropped (if_data.noproto).
 *
 * The ethertype table is per stack and filled once, at creation: a few
 * entries, searched in registration order, so that the first family's
 * main protocol (IPv4) costs one compare, as the switch it replaces did.
 *
 * Output does not pad frames to the 60-byte minimum (IEEE 802.3 4.2.3.3):
 * the driver or the hardware pads on the wire, as with most NICs, and the
 * receivers' length checks (IP total length, ARP's fixed size) ignore the
 * pad.  The frames a driver sees are the exact header plus payload.
 */
#include <stddef.h>
#include <string.h>

#include "kern/endian.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"

const uint8_t etherbroadcastaddr[ETHER_ADDR_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

#define ETHER_IS_MULTICAST(a) (((a)[0] & 0x01) != 0) /* group bit, incl. broadcast */

void
ether_input(struct ifnet *ifp, struct mbuf *m)
{
	struct ust_stack *st = ifp->if_stack;
	const struct ether_proto *ep;
	uint8_t eh[ETHER_HDR_LEN];
	uint16_t type;
	unsigned i;

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
	} else if (ETHER_IS_MULTICAST(eh)) {
		if (!if_multi_accept(ifp, eh)) {
			ETHERSTAT_INC(st, ether_notours);
			goto drop;
		}
		m->m_flags |= M_MCAST;
		ifp->if_data.imcasts++;
	} else if (memcmp(eh, ifp->if_hwaddr, ETHER_ADDR_LEN) != 0) {
		ETHERSTAT_INC(st, ether_notours);
		goto drop;
	}
	type = be16dec(eh + 2 * ETHER_ADDR_LEN);
	for (i = 0, ep = st->st_ether_protos; i < st->st_nether_protos; i++, ep++) {
		if (ep->ep_type == type) {
			m_adj(m, ETHER_HDR_LEN);
			ep->ep_input(ifp, m, eh + ETHER_ADDR_LEN);
			return;
		}
	}
	if (type == ETHERTYPE_VLAN) {
		ETHERSTAT_INC(st, ether_vlan);
	} else {
		/* 802.3 length fields (< 0x0600), families not compiled in. */
		ETHERSTAT_INC(st, ether_unknowntype);
	}
	ifp->if_data.noproto++;
drop:
	m_freem(m);
}

int
ether_proto_register(struct ust_stack *st, const struct ether_proto *ep)
{
	unsigned i;

	if (ep->ep_input == NULL || ep->ep_type < ETHERTYPE_MIN)
		return (UST_EINVAL);
	for (i = 0; i < st->st_nether_protos; i++)
		if (st->st_ether_protos[i].ep_type == ep->ep_type)
			return (UST_EEXIST);
	if (st->st_nether_protos >= ETHER_NPROTO_MAX)
		return (UST_ENOSPC);
	st->st_ether_protos[st->st_nether_protos++] = *ep;
	return (0);
}

void
ether_proto_flush(struct ust_stack *st)
{
	st->st_nether_protos = 0;
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

#if UST_STATS
/* The link layer's counters, first in ust_stats_describe(). */
const struct ust_stat_desc ether_stats[] = { UST_ETHERSTAT_FIELDS(DOM_STAT, DOM_STAT_ARRAY,
    ether) };
const unsigned ether_nstats = sizeof(ether_stats) / sizeof(ether_stats[0]);
#endif

void
ust_stats_ether(const struct ust_stack *st, struct ust_etherstat *out)
{
	*out = st->st_etherstat;
}
