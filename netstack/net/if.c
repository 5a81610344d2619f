/*
 * if.c - interfaces (FreeBSD net/if.c): attaching drivers to a stack,
 * counters, the capture tap and raw input hook, and the per-interface
 * transmit queue.
 *
 * Receive:  ust_stack_poll() -> if_poll_rx() -> driver rx_burst -> if_input()
 *           -> capture tap -> input hook -> [in a group: grp_if_input(),
 *           which hands the frame to the stack owning its flow] -> ether_input()
 * Transmit: protocols -> if_transmit() (queue) ... ust_stack_poll() ->
 *           if_flush() -> capture tap -> driver tx_burst
 */
#include <string.h>

#include "kern/kern_group.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"

static void
ifq_enqueue(struct ifqueue *q, struct mbuf *m)
{
	m->m_nextpkt = NULL;
	if (q->ifq_tail != NULL)
		q->ifq_tail->m_nextpkt = m;
	else
		q->ifq_head = m;
	q->ifq_tail = m;
	q->ifq_len++;
}

static struct mbuf *
ifq_dequeue(struct ifqueue *q)
{
	struct mbuf *m = q->ifq_head;

	if (m == NULL)
		return (NULL);
	q->ifq_head = m->m_nextpkt;
	if (q->ifq_head == NULL)
		q->ifq_tail = NULL;
	m->m_nextpkt = NULL;
	q->ifq_len--;
	return (m);
}

/* Every cached route and address verdict is re-checked (st_route_gen;
 * 0 never matches, so it is skipped on wrap). */
static void
if_route_gen_bump(struct ust_stack *st)
{
	if (++st->st_route_gen == 0)
		st->st_route_gen = 1;
}

/* The lowest index no live interface holds (FreeBSD's ifindex table):
 * an interface keeps its index for life, so scope ids and the indexes
 * routes and neighbours report stay valid across another's detach. */
static unsigned
if_index_alloc(const struct ust_stack *st)
{
	unsigned idx, i;

	for (idx = 1;; idx++) {
		for (i = 0; i < st->st_nifnet; i++)
			if (st->st_ifnet[i]->if_index == idx)
				break;
		if (i == st->st_nifnet)
			return (idx);
	}
}

struct ifnet *
ifnet_byindex(struct ust_stack *st, unsigned idx)
{
	unsigned i;

	for (i = 0; i < st->st_nifnet; i++)
		if (st->st_ifnet[i]->if_index == idx)
			return (st->st_ifnet[i]);
	return (NULL);
}

int
ust_if_attach(struct ust_stack *st, const char *name, const struct ust_driver_ops *ops, void *softc,
    struct ust_if **out)
{
	struct ifnet *ifp;
	size_t len;

	*out = NULL;
	if (name == NULL || ops == NULL || ops->rx_burst == NULL || ops->tx_burst == NULL ||
	    ops->get_mac == NULL || ops->get_mtu == NULL)
		return (-UST_EINVAL);
	len = strlen(name);
	if (len == 0 || len >= IFNAMSIZ)
		return (-UST_EINVAL);
	if (ust_if_by_name(st, name) != NULL)
		return (-UST_EEXIST);
	if (st->st_nifnet >= UST_MAX_IFNET)
		return (-UST_ENOSPC);
	ifp = st_malloc(st, sizeof(*ifp));
	if (ifp == NULL)
		return (-UST_ENOMEM);
	ifp->if_stack = st;
	memcpy(ifp->if_xname, name, len + 1);
	ifp->if_ops = ops;
	ifp->if_softc = softc;
	ops->get_mac(softc, ifp->if_hwaddr);
	ifp->if_mtu = ops->get_mtu(softc);
	ifp->if_capabilities = ops->get_caps != NULL ? ops->get_caps(softc) : 0;
	ifp->if_hw_tsomax = ops->get_tso_max != NULL ? ops->get_tso_max(softc) : IF_MAXTSO;
	if (ifp->if_hw_tsomax > IF_MAXTSO)
		ifp->if_hw_tsomax = IF_MAXTSO;
	ifp->if_snd.ifq_maxlen = st->st_cfg.ifq_maxlen;
	ifp->if_index = if_index_alloc(st);
	st->st_ifnet[st->st_nifnet++] = ifp;
	/* A new interface, MTU and capabilities: cached routes and verdicts
	 * are re-checked (stack_var.h). */
	if_route_gen_bump(st);
	/* Each family's per-interface state (FreeBSD if_attachdomain): the
	 * interface is complete and listed, so a family may already send
	 * (IPv6's DAD and MLD reports). */
	domains_ifattach(ifp);
	*out = IFP_TO_UST(ifp);
	return (0);
}

void
ust_if_detach(struct ust_if *uifp)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);
	struct ust_stack *st = ifp->if_stack;
	unsigned i, j;

	/* Each family drops its addresses, routes and neighbours on ifp
	 * (netinet: in_ifdetach, which also empties ARP's entries) and frees
	 * its if_afdata. */
	domains_ifdetach(ifp);
	if_purge(ifp);
	if_route_gen_bump(st);
	if (ifp->if_lro != NULL) {
		/* Empty: a table holds frames only inside if_poll_rx. */
		st_free(st, ifp->if_lro, ifp->if_lro_size);
		ifp->if_lro = NULL;
	}
	if (ifp->if_ops->detach != NULL)
		ifp->if_ops->detach(ifp->if_softc);
	for (i = 0; i < st->st_nifnet; i++) {
		if (st->st_ifnet[i] != ifp)
			continue;
		/* The others keep their order and their indexes. */
		for (j = i; j + 1 < st->st_nifnet; j++)
			st->st_ifnet[j] = st->st_ifnet[j + 1];
		st->st_nifnet--;
		break;
	}
	st_free(st, ifp, sizeof(*ifp));
}

/* Names are a few bytes and looked up at set-up only: a byte loop, as
 * newlib's word-at-a-time strcmp is 0.4 KB of Cortex-M code a program
 * would otherwise link for this alone. */
static int
if_name_eq(const char *a, const char *b)
{
	for (; *a == *b; a++, b++)
		if (*a == '\0')
			return (1);
	return (0);
}

struct ust_if *
ust_if_by_name(struct ust_stack *st, const char *name)
{
	unsigned i;

	for (i = 0; i < st->st_nifnet; i++)
		if (if_name_eq(st->st_ifnet[i]->if_xname, name))
			return (IFP_TO_UST(st->st_ifnet[i]));
	return (NULL);
}

struct ust_stack *
ust_if_stack(const struct ust_if *uifp)
{
	return (((const struct ifnet *)(const void *)uifp)->if_stack);
}

const char *
ust_if_name(const struct ust_if *uifp)
{
	return (((const struct ifnet *)(const void *)uifp)->if_xname);
}

unsigned
ust_if_index(const struct ust_if *uifp)
{
	return (((const struct ifnet *)(const void *)uifp)->if_index);
}

void
ust_if_get_mac(const struct ust_if *uifp, uint8_t mac[6])
{
	memcpy(mac, ((const struct ifnet *)(const void *)uifp)->if_hwaddr, ETHER_ADDR_LEN);
}

uint32_t
ust_if_mtu(const struct ust_if *uifp)
{
	return (((const struct ifnet *)(const void *)uifp)->if_mtu);
}

uint32_t
ust_if_caps(const struct ust_if *uifp)
{
	return (((const struct ifnet *)(const void *)uifp)->if_capabilities);
}

void
ust_if_get_stats(const struct ust_if *uifp, struct ust_if_stats *out)
{
	const struct ifnet *ifp = (const struct ifnet *)(const void *)uifp;
	uint64_t (*get)(void *, int) = ifp->if_ops != NULL ? ifp->if_ops->get_counter : NULL;

	*out = ifp->if_data;
	/* What only the device saw (FreeBSD if_get_counter). */
	if (get != NULL) {
		out->ierrors += get(ifp->if_softc, UST_IFCOUNTER_IERRORS);
		out->iqdrops += get(ifp->if_softc, UST_IFCOUNTER_IQDROPS);
		out->oerrors += get(ifp->if_softc, UST_IFCOUNTER_OERRORS);
	}
}

void
ust_if_set_capture(struct ust_if *uifp, ust_capture_fn fn, void *arg)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);

	ifp->if_bpf = fn;
	ifp->if_bpf_arg = fn != NULL ? arg : NULL;
}

void
ust_if_set_input_hook(struct ust_if *uifp, ust_if_input_fn fn, void *arg)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);

	ifp->if_input_hook = fn;
	ifp->if_input_hook_arg = fn != NULL ? arg : NULL;
}

int
ust_if_output_frame(struct ust_if *uifp, const void *frame, size_t len)
{
	struct ifnet *ifp = IFP_FROM_UST(uifp);
	struct mbuf *m;
	int error;

	if (frame == NULL || len < ETHER_HDR_LEN ||
	    len > (size_t)ifp->if_mtu + ETHER_HDR_LEN + ETHER_VLAN_ENCAP_LEN)
		return (-UST_EMSGSIZE);
	m = m_devget(ifp, frame, len);
	if (m == NULL) {
		ifp->if_data.oqdrops++;
		return (-UST_ENOBUFS);
	}
	m->m_pkthdr.rcvif = NULL;
	error = if_transmit(ifp, m);
	return (error != 0 ? -error : 0);
}

void
if_input(struct ifnet *ifp, struct mbuf *m)
{
	/* A driver hands over a well-formed packet (ustack_driver.h). */
	M_ASSERTPKTHDR(m);
	M_SANITY(m);
	ifp->if_data.ipackets++;
	ifp->if_data.ibytes += m->m_pkthdr.len;
	m->m_pkthdr.rcvif = ifp;
	if (ifp->if_bpf != NULL)
		ifp->if_bpf(ifp->if_bpf_arg, IFP_TO_UST(ifp), UST_CAPTURE_IN,
		    stack_now(ifp->if_stack), (const struct ust_mbuf *)(void *)m);
	if (ifp->if_input_hook != NULL &&
	    ifp->if_input_hook(ifp->if_input_hook_arg, IFP_TO_UST(ifp),
	        (const struct ust_mbuf *)(void *)m) != 0) {
		m_freem(m);
		return;
	}
#if UST_SMP
	/* A lone stack pays this one branch. */
	if (__builtin_expect(ifp->if_stack->st_rss != NULL, 0) && grp_if_input(ifp, m))
		return;
#endif
	ether_input(ifp, m);
}

int
if_transmit(struct ifnet *ifp, struct mbuf *m)
{
	M_ASSERTPKTHDR(m);
	M_SANITY(m);
	if (ifp->if_snd.ifq_len >= ifp->if_snd.ifq_maxlen) {
		ifp->if_data.oqdrops++;
		m_freem(m);
		return (UST_ENOBUFS);
	}
	ifq_enqueue(&ifp->if_snd, m);
	return (0);
}

int
if_flush(struct ifnet *ifp)
{
	struct mbuf *batch[UST_RX_BURST_MAX];
	uint32_t lens[UST_RX_BURST_MAX];
	int total = 0, n, taken, i;
	uint64_t now;

	while (ifp->if_snd.ifq_len > 0) {
		n = 0;
		while (n < UST_RX_BURST_MAX && ifp->if_snd.ifq_head != NULL)
			batch[n++] = ifq_dequeue(&ifp->if_snd);
		/* The tap sees a frame before the driver owns (and may free) it. */
		if (ifp->if_bpf != NULL) {
			now = stack_now(ifp->if_stack);
			for (i = 0; i < n; i++)
				ifp->if_bpf(ifp->if_bpf_arg, IFP_TO_UST(ifp), UST_CAPTURE_OUT, now,
				    (const struct ust_mbuf *)(void *)batch[i]);
		}
		/* Lengths are read before the driver owns (and may free) the frames. */
		for (i = 0; i < n; i++)
			lens[i] = batch[i]->m_pkthdr.len;
		taken = ifp->if_ops->tx_burst(ifp->if_softc, (struct ust_mbuf **)(void *)batch, n);
		if (taken < 0)
			taken = 0;
		if (taken > n)
			taken = n;
		for (i = 0; i < taken; i++) {
			ifp->if_data.opackets++;
			ifp->if_data.obytes += lens[i];
		}
		ifp->if_stack->st_stats.tx_frames += (uint64_t)taken;
		total += taken;
		if (taken < n) {
			/* Driver full: put the rest back at the head, in order, and
			 * stop until the next poll. */
			for (i = n - 1; i >= taken; i--) {
				batch[i]->m_nextpkt = ifp->if_snd.ifq_head;
				ifp->if_snd.ifq_head = batch[i];
				if (ifp->if_snd.ifq_tail == NULL)
					ifp->if_snd.ifq_tail = batch[i];
				ifp->if_snd.ifq_len++;
			}
			break;
		}
	}
	return (total);
}

int
if_poll_rx(struct ifnet *ifp, uint32_t max)
{
	struct ust_mbuf *pkts[UST_RX_BURST_MAX];
	int n, i;

	if (max > UST_RX_BURST_MAX)
		max = UST_RX_BURST_MAX;
	n = ifp->if_ops->rx_burst(ifp->if_softc, IFP_TO_UST(ifp), pkts, (int)max);
	if (n <= 0)
		return (0);
	if ((uint32_t)n > max)
		n = (int)max;
	ifp->if_stack->st_stats.rx_frames += (uint64_t)n;
	/* Software LRO may hold TCP segments of a burst (netinet/tcp_lro.c);
	 * they go up before the poll goes on, in the order of their flows. */
	ifp->if_lro_burst = n > 1 && !(ifp->if_capabilities & UST_IFCAP_LRO);
	for (i = 0; i < n; i++)
		if_input(ifp, (struct mbuf *)(void *)pkts[i]);
	ifp->if_lro_burst = 0;
	if (ifp->if_lro_held > 0)
		ifp->if_lro_flush(ifp);
	return (n);
}

void
if_purge(struct ifnet *ifp)
{
	struct mbuf *m;

	while ((m = ifq_dequeue(&ifp->if_snd)) != NULL)
		m_freem(m);
}

/* ---------------------------------------------------------------------
 * Link-layer multicast memberships (FreeBSD if_addmulti/if_delmulti).
 * ------------------------------------------------------------------- */

static int
if_multi_find(const struct ifnet *ifp, const uint8_t mac[ETHER_ADDR_LEN])
{
	unsigned i;

	for (i = 0; i < ifp->if_nmulti; i++)
		if (memcmp(ifp->if_mcaddr[i], mac, ETHER_ADDR_LEN) == 0)
			return ((int)i);
	return (-1);
}

/* The driver's filter follows the list (FreeBSD's SIOCADDMULTI). */
static void
if_multi_sync(struct ifnet *ifp)
{
	if (ifp->if_ops->set_multicast != NULL)
		ifp->if_ops->set_multicast(ifp->if_softc,
		    (const uint8_t(*)[ETHER_ADDR_LEN])ifp->if_mcaddr, ifp->if_nmulti,
		    ifp->if_amcount > 0);
}

int
if_addmulti(struct ifnet *ifp, const uint8_t mac[ETHER_ADDR_LEN])
{
	int i;

	/* A group address, and not the broadcast one, which always passes. */
	if ((mac[0] & 0x01) == 0 || memcmp(mac, etherbroadcastaddr, ETHER_ADDR_LEN) == 0)
		return (UST_EINVAL);
	if ((i = if_multi_find(ifp, mac)) >= 0) {
		ifp->if_mcrefs[i]++;
		return (0);
	}
	if (ifp->if_nmulti >= IF_MULTI_MAX)
		return (UST_ENOSPC);
	memcpy(ifp->if_mcaddr[ifp->if_nmulti], mac, ETHER_ADDR_LEN);
	ifp->if_mcrefs[ifp->if_nmulti] = 1;
	ifp->if_nmulti++;
	if_multi_sync(ifp);
	return (0);
}

int
if_delmulti(struct ifnet *ifp, const uint8_t mac[ETHER_ADDR_LEN])
{
	int i = if_multi_find(ifp, mac);
	unsigned j;

	if (i < 0)
		return (UST_ENOENT);
	if (--ifp->if_mcrefs[i] > 0)
		return (0);
	/* Keep the join order, so that the driver sees a stable list. */
	for (j = (unsigned)i; j + 1 < ifp->if_nmulti; j++) {
		memcpy(ifp->if_mcaddr[j], ifp->if_mcaddr[j + 1], ETHER_ADDR_LEN);
		ifp->if_mcrefs[j] = ifp->if_mcrefs[j + 1];
	}
	ifp->if_nmulti--;
	if_multi_sync(ifp);
	return (0);
}

int
if_multi_accept(const struct ifnet *ifp, const uint8_t mac[ETHER_ADDR_LEN])
{
	return (ifp->if_amcount > 0 || if_multi_find(ifp, mac) >= 0);
}

void
if_allmulti(struct ifnet *ifp, int on)
{
	if (on) {
		if (ifp->if_amcount++ == 0)
			if_multi_sync(ifp);
	} else if (ifp->if_amcount > 0) {
		if (--ifp->if_amcount == 0)
			if_multi_sync(ifp);
	}
}
