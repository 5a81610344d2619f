/*
 * uipc_domain.c - the registered protocol families (FreeBSD
 * kern/uipc_domain.c): their list, from netstack/conf/domains.h, stack
 * creation and teardown through their protocol switches, and the lookup
 * of a protocol for socket(2).
 *
 *   ust_stack_create -> domains_init -> dom_init, pr_init (table order)
 *   ust_stack_destroy -> domains_fini -> pr_fini (reverse), dom_fini
 *   socreate -> pffindproto(type, proto)
 */
#include "kern/socketvar.h"
#include "kern/stack_var.h"

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

const struct protosw *
pffindproto(int type, int proto)
{
	const struct protosw *pr;
	size_t d;
	unsigned i;

	/* proto 0 takes the first protocol of the type, as socket(2) does,
	 * except for raw sockets (raw(4)), whose caller names the protocol. */
	for (d = 0; d < NDOMAINS; d++) {
		for (i = 0; i < domains[d]->dom_nprotosw; i++) {
			pr = &domains[d]->dom_protosw[i];
			if (pr->pr_type == 0 || pr->pr_type != type || pr->pr_usrreqs == NULL)
				continue;
			if ((proto == 0 && type != UST_SOCK_RAW) || pr->pr_protocol == proto)
				return (pr);
		}
	}
	return (NULL);
}
