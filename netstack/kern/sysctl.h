/*
 * sysctl.h - the per-stack knobs (struct ust_knobs) generated from
 * sysctl_knobs.h, and V() to read them: V(st, ip_ttl).
 */
#ifndef _USTACK_KERN_SYSCTL_H_
#define _USTACK_KERN_SYSCTL_H_

#include <stdint.h>

struct ust_knobs {
#define KNOB(name, field, def, min, max, flags, descr) int64_t field;
#include "kern/sysctl_knobs.h"
#undef KNOB
};

#define V(st, field) ((st)->st_knobs.field)

/* Fills k with every default. */
void sysctl_knobs_init(struct ust_knobs *k);

#endif /* _USTACK_KERN_SYSCTL_H_ */
