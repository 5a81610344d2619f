/*
 * kern_ratecheck.h - events per second, as FreeBSD's ppsratecheck(9):
 * the ICMP and ICMPv6 error limits (net.inet.icmp.icmplim,
 * net.inet6.icmp6.errppslimit) count their messages in one-second windows
 * of stack time.
 */
#ifndef UST_KERN_RATECHECK_H
#define UST_KERN_RATECHECK_H

#include <stdint.h>

struct ppsrate {
	uint64_t pr_window; /* start of the current second */
	uint32_t pr_count;  /* events in it */
};

/* 1 when one more event fits into the second now falls in (and counts
 * it), 0 when maxpps are already spent; maxpps 0 means no limit (the
 * knobs' meaning here; FreeBSD uses -1).  A clock seen going back starts
 * a new window. */
static inline int
ppsratecheck(struct ppsrate *r, uint64_t now, uint32_t maxpps)
{
	if (maxpps == 0)
		return (1);
	if (now - r->pr_window >= 1000000000ull /* 1 s */ || now < r->pr_window) {
		r->pr_window = now;
		r->pr_count = 0;
	}
	if (r->pr_count >= maxpps)
		return (0);
	r->pr_count++;
	return (1);
}

#endif /* UST_KERN_RATECHECK_H */
