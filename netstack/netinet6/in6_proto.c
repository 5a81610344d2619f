/*
 * in6_proto.c - the inet6 domain (FreeBSD netinet6/in6_proto.c): the
 * protocol switch inet6sw, the state below the protocols, the knobs of
 * netinet6 and the descriptions of its counters, registered with the
 * socket layer as inet6domain (conf/domains.h, after inetdomain).
 *
 *   domains_init -> ether_proto_register(in6_ethertypes) ->
 *                   in6_dom_init (routes, neighbors, IPv6) -> inet6sw[i].pr_init
 *   ether_input -> ip6_ether_input -> ip6_input -> st_ip6_protox[nxt] ->
 *                   inet6sw[i].pr_input
 *   icmp6_input (errors) -> ip6_protosw_find(quoted nxt)->pr_ctl6input
 *   socreate -> pffindproto(UST_AF_INET6, type, proto) -> inet6sw[i].pr_usrreqs
 *   ust_if_attach -> domains_ifattach -> in6_domifattach; detach likewise
 *
 * TCP and UDP have no pr_init here: their PCB tables and state belong to
 * inetsw's entries and hold both families (FreeBSD's inet6sw has none
 * either).
 */
#include <stddef.h>
#include <string.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"
#include "netinet6/in6.h"
#include "netinet6/in6_pcb.h"
#include "netinet6/in6_var.h"
#include "netinet6/ip6_var.h"
#include "netinet6/nd6.h"

const struct in6_addr in6addr_any = IN6ADDR_ANY_INIT;
const struct in6_addr in6addr_loopback = IN6ADDR_LOOPBACK_INIT;
const struct in6_addr in6addr_linklocal_allnodes = IN6ADDR_LINKLOCAL_ALLNODES_INIT;
const struct in6_addr in6addr_linklocal_allrouters = IN6ADDR_LINKLOCAL_ALLROUTERS_INIT;
const struct in6_addr in6addr_linklocal_allv2routers = IN6ADDR_LINKLOCAL_ALLV2ROUTERS_INIT;

/* The zones of the family (conf/domains.h DOMAIN_ZONES): reassembly's
 * (the neighbor cache allocates from the stack's memory account); the PCB
 * zones are inetdomain's. */
unsigned
in6_zones(const struct ust_stack *st, const struct ust_zone **zones, unsigned max)
{
	return (frag6_zones(st, zones, max));
}

/*
 * The protocol switch.  ICMPv6's entry also makes raw ICMPv6 sockets
 * (RFC 3542 3), whose PCBs live in IPv4's raw table (INP_IPV6).
 */
static const struct protosw inet6sw[] = {
	{
#if UST_RAW_IP
	    .pr_type = UST_SOCK_RAW,
	    .pr_usrreqs = &rip6_usrreqs,
#endif
	    .pr_protocol = IPPROTO_ICMPV6,
	    .pr_flags = PR_ATOMIC | PR_ADDR,
	    .pr_init = icmp6_init,
	    .pr_fini = icmp6_fini,
	    .pr_input = icmp6_input,
	},
	{
	    .pr_type = UST_SOCK_DGRAM,
	    .pr_protocol = IPPROTO_UDP,
	    .pr_flags = PR_ATOMIC | PR_ADDR,
	    .pr_input = udp6_input,
	    .pr_ctl6input = udp6_ctlinput,
	    .pr_usrreqs = &udp6_usrreqs,
	},
	{
	    .pr_type = UST_SOCK_STREAM,
	    .pr_protocol = IPPROTO_TCP,
	    .pr_flags = PR_CONNREQUIRED | PR_WANTRCVD | (UST_TCP_TFO ? PR_IMPLOPCL : 0),
	    .pr_input = tcp6_input,
	    .pr_ctl6input = tcp6_ctlinput,
	    .pr_usrreqs = &tcp6_usrreqs,
	},
};

#define NINET6SW (sizeof(inet6sw) / sizeof(inet6sw[0]))

/* Socket options of levels other than SOL_SOCKET for AF_INET6 sockets
 * (conf/domains.h DOMAIN_CTLOUTPUT), by protocol. */
int
in6_ctloutput(struct socket *so, struct sockopt *sopt)
{
	switch (so->so_proto->pr_protocol) {
	case IPPROTO_TCP:
		return (tcp6_ctloutput(so, sopt));
	case IPPROTO_UDP:
		return (udp6_ctloutput(so, sopt));
#if UST_RAW_IP
	case IPPROTO_ICMPV6:
		return (rip6_ctloutput(so, sopt));
#endif
	default:
		return (UST_ENOPROTOOPT);
	}
}

static void
ip6_protox_init(struct ust_stack *st)
{
	unsigned i;

	memset(st->st_ip6_protox, 0, sizeof(st->st_ip6_protox));
	for (i = NINET6SW; i-- > 0;)
		if (inet6sw[i].pr_input != NULL)
			st->st_ip6_protox[(uint8_t)inet6sw[i].pr_protocol] = (uint8_t)(i + 1);
}

const struct protosw *
ip6_protosw_find(const struct ust_stack *st, uint8_t nxt)
{
	unsigned i = st->st_ip6_protox[nxt];

	return (i != 0 ? &inet6sw[i - 1] : NULL);
}

static void
ip6_ether_input(struct ifnet *ifp, struct mbuf *m, const uint8_t esrc[ETHER_ADDR_LEN])
{
	(void)esrc;
	ip6_input(ifp, m);
}

static const struct ether_proto in6_ethertypes[] = {
	{ ETHERTYPE_IPV6, ip6_ether_input },
};

/* Below the protocols: addresses, routes, the neighbor cache, IPv6
 * (identification, flow label key, reassembly). */
static void
in6_dom_fini(struct ust_stack *st)
{
	rip6_fini(st);
	ip6_fini(st);
	nd6_fini(st);
	in6_ifaddr_fini(st);
	rt6_fini(st);
}

static int
in6_dom_init(struct ust_stack *st)
{
	int error;

	ip6_protox_init(st);
	if ((error = rt6_init(st)) != 0 || (error = nd6_init(st)) != 0 ||
	    (error = ip6_init(st)) != 0) {
		in6_dom_fini(st);
		return (error);
	}
	return (0);
}

static const struct sysctl_knob in6_knobs[] = {
#define KNOB SYSCTL_KNOB
#include "netinet6/in6_knobs.h"
#undef KNOB
};

const struct sysctl_knob_bounds in6_knob_bounds[] = {
#define KNOB SYSCTL_KNOB_BOUNDS
#include "netinet6/in6_knobs.h"
#undef KNOB
};
_Static_assert(sizeof(in6_knob_bounds) / sizeof(in6_knob_bounds[0]) ==
        sizeof(in6_knobs) / sizeof(in6_knobs[0]),
    "in6_knob_bounds and in6_knobs differ");

#if UST_STATS
/* clang-format off */
static const struct ust_stat_desc in6_stats[] = {
	UST_IP6STAT_FIELDS(DOM_STAT, DOM_STAT_ARRAY, ip6)
	UST_ICMP6STAT_FIELDS(DOM_STAT, DOM_STAT_ARRAY, icmp6)
};
/* clang-format on */
#endif

void
ust_stats_ip6(const struct ust_stack *st, struct ust_ip6stat *out)
{
	*out = st->st_ip6stat;
}

void
ust_stats_icmp6(const struct ust_stack *st, struct ust_icmp6stat *out)
{
	*out = st->st_icmp6stat;
}

const struct domain inet6domain = {
	.dom_family = UST_AF_INET6,
	.dom_name = "internet6",
	.dom_init = in6_dom_init,
	.dom_fini = in6_dom_fini,
	.dom_protosw = inet6sw,
	.dom_nprotosw = NINET6SW,
	.dom_ethertypes = in6_ethertypes,
	.dom_nethertypes = sizeof(in6_ethertypes) / sizeof(in6_ethertypes[0]),
	.dom_ifattach = in6_domifattach,
	.dom_ifdetach = in6_domifdetach,
	.dom_knobs = in6_knobs,
	.dom_nknobs = sizeof(in6_knobs) / sizeof(in6_knobs[0]),
#if UST_STATS
	.dom_stats = in6_stats,
	.dom_nstats = sizeof(in6_stats) / sizeof(in6_stats[0]),
#endif
};
