/*
 * sysctl.h - the per-stack knobs (struct ust_knobs) generated from the
 * socket layer's table (sysctl_knobs.h) and every domain's (listed in
 * conf/domains.h), V() to read them: V(st, ip_ttl), and the shape of the
 * tables a domain registers (struct domain, socketvar.h).
 */
#ifndef _USTACK_KERN_SYSCTL_H_
#define _USTACK_KERN_SYSCTL_H_

#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack_opts.h>

struct ust_stack;

struct ust_knobs {
#define KNOB(name, field, def, min, max, flags, descr) int64_t field;
#define KNOB_ALL_FIELDS /* compiled-out features' knobs too (in_knobs.h) */
#include "kern/sysctl_knobs.h"
#define DOMAIN_KNOBS
#include "conf/domains.h"
#undef DOMAIN_KNOBS
#undef KNOB_ALL_FIELDS
#undef KNOB
};

#define V(st, field) ((st)->st_knobs.field)

/* An integer knob: a field of struct ust_knobs.  UST_SYSCTL_NAMES 0
 * keeps only what setting it by index needs (ustack_opts.h).  Defaults
 * and bounds are 0 .. 2^32 - 1 (a constant outside is a -Woverflow
 * error); the value itself is an int64_t in struct ust_knobs. */
struct sysctl_knob {
	uint32_t def;
	uint16_t off;   /* offsetof(struct ust_knobs, field) */
	uint16_t flags; /* UST_SYSCTL_* */
#if UST_SYSCTL_NAMES
	const char *name;
	const char *descr;
#endif
};

/* One entry of a KNOB() table: { SYSCTL_KNOB_ENTRY KNOB-arguments }. */
#if UST_SYSCTL_NAMES
#define SYSCTL_KNOB(name, field, def, min, max, flags, descr) \
	{ def, offsetof(struct ust_knobs, field), flags, name, descr },
#else
#define SYSCTL_KNOB(name, field, def, min, max, flags, descr) \
	{ def, offsetof(struct ust_knobs, field), flags },
#endif

/* The accepted range of the knob at the same index of a parallel table
 * (kern_sysctl.c's own; a domain's through conf/domains.h
 * DOMAIN_KNOB_BOUNDS).  Apart from struct sysctl_knob, which stack
 * creation reads for the defaults, so that only a program that sets or
 * lists knobs links the bounds. */
struct sysctl_knob_bounds {
	uint32_t min, max;
};

#define SYSCTL_KNOB_BOUNDS(name, field, def, min, max, flags, descr) { min, max },

/* A string knob, read and written through handlers of the subsystem that
 * owns it (FreeBSD's SYSCTL_PROC); the handlers return 0 or a positive
 * UST_E*. */
struct sysctl_strknob {
	const char *name;
	const char *def;
	uint32_t flags; /* UST_SYSCTL_STRING | ... */
	const char *descr;
	int (*get)(const struct ust_stack *st, char *buf, size_t len);
	int (*set)(struct ust_stack *st, const char *value);
};

/* Copies s into buf for a string knob's get handler; UST_ENOMEM (and a
 * truncated copy) when it does not fit. */
int sysctl_copyout_str(const char *s, char *buf, size_t len);

/* Fills k with every default (the socket layer's and every domain's). */
void sysctl_knobs_init(struct ust_knobs *k);

#endif /* _USTACK_KERN_SYSCTL_H_ */
