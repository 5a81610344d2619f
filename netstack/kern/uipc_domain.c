/*
 * uipc_domain.c - the registered protocol families (FreeBSD
 * kern/uipc_domain.c): their list, from netstack/conf/domains.h, stack
 * creation and teardown through their protocol switches, and the lookup
 * of a protocol for socket(2).
 *
 *   ust_stack_create -> domains_init -> ether_proto_register(dom_ethertypes),
 *                       dom_init, pr_init (table order)
 *   ust_stack_destroy -> domains_fini -> pr_fini (reverse), dom_fini
 *   ust_if_attach -> domains_ifattach -> dom_ifattach (table order),
 *                    result in ifp->if_afdata[family]
 *   ust_if_detach -> domains_ifdetach -> dom_ifdetach (reverse), which
 *                    frees if_afdata[family]
 *   socreate -> pffindproto(family, type, proto)
 */
#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "net/ethernet.h"

#define DOMAIN(d) extern const struct domain d;
#include "conf/domains.h"
#undef DOMAIN

static const struct domain *const domains[] = {
#define DOMAIN(d) &d,
#include "conf/domains.h"
#undef DOMAIN
};

#define NDOMAINS (sizeof(domains) / sizeof(domains[0]))

unsigned
domain_count(void)
{
	return ((unsigned)NDOMAINS);
}

const struct domain *
domain_at(unsigned idx)
{
	return (idx < NDOMAINS ? domains[idx] : NULL);
}

static void
domain_fini(struct ust_stack *st, const struct domain *dp)
{
	unsigned i;

	for (i = dp->dom_nprotosw; i-- > 0;)
		if (dp->dom_protosw[i].pr_fini != NULL)
			dp->dom_protosw[i].pr_fini(st);
	if (dp->dom_fini != NULL)
		dp->dom_fini(st);
}

void
domains_fini(struct ust_stack *st)
{
	size_t d;

	/* Top down: the last family first, each one's protocols before its
	 * own state.  Every fini tolerates state its init never made. */
	for (d = NDOMAINS; d-- > 0;)
		domain_fini(st, domains[d]);
	/* No frame reaches a family whose state is gone. */
	ether_proto_flush(st);
}

void
domain_ifattach(const struct domain *dp, struct ifnet *ifp)
{
	int slot = IF_AFDATA_IDX(dp->dom_family);

	if (dp->dom_ifattach == NULL)
		return;
	KASSERT(slot >= 0, ("domain_ifattach: family %d has no if_afdata slot", dp->dom_family));
	ifp->if_afdata[slot] = dp->dom_ifattach(ifp);
}

void
domain_ifdetach(const struct domain *dp, struct ifnet *ifp)
{
	int slot = IF_AFDATA_IDX(dp->dom_family);

	if (dp->dom_ifdetach != NULL)
		dp->dom_ifdetach(ifp);
	/* dom_ifdetach freed what dom_ifattach returned. */
	if (slot >= 0)
		ifp->if_afdata[slot] = NULL;
}

void
domains_ifattach(struct ifnet *ifp)
{
	size_t d;

	for (d = 0; d < NDOMAINS; d++)
		domain_ifattach(domains[d], ifp);
}

void
domains_ifdetach(struct ifnet *ifp)
{
	size_t d;

	for (d = NDOMAINS; d-- > 0;)
		domain_ifdetach(domains[d], ifp);
}

int
domains_init(struct ust_stack *st)
{
	const struct domain *dp;
	size_t d;
	unsigned i;
	int error;

	for (d = 0; d < NDOMAINS; d++) {
		dp = domains[d];
		for (i = 0; i < dp->dom_nethertypes; i++) {
			if ((error = ether_proto_register(st, &dp->dom_ethertypes[i])) != 0)
				goto fail;
		}
		if (dp->dom_init != NULL && (error = dp->dom_init(st)) != 0)
			goto fail;
		for (i = 0; i < dp->dom_nprotosw; i++) {
			if (dp->dom_protosw[i].pr_init == NULL)
				continue;
			if ((error = dp->dom_protosw[i].pr_init(st)) != 0)
				goto fail;
		}
	}
	return (0);
fail:
	domains_fini(st);
	return (error);
}

const struct domain *
pffinddomain(int family)
{
	size_t d;

	for (d = 0; d < NDOMAINS; d++) {
		if (domains[d]->dom_family == family)
			return (domains[d]);
	}
	return (NULL);
}

const struct protosw *
pffindproto(int family, int type, int proto)
{
	const struct domain *dp = pffinddomain(family);
	const struct protosw *pr;
	unsigned i;

	if (dp == NULL)
		return (NULL);
	/* proto 0 takes the first protocol of the type, as socket(2) does,
	 * except for raw sockets (raw(4)), whose caller names the protocol. */
	for (i = 0; i < dp->dom_nprotosw; i++) {
		pr = &dp->dom_protosw[i];
		if (pr->pr_type == 0 || pr->pr_type != type || pr->pr_usrreqs == NULL)
			continue;
		if ((proto == 0 && type != UST_SOCK_RAW) || pr->pr_protocol == proto)
			return (pr);
	}
	return (NULL);
}
