/*
 * tl_sysctl.c - knobs by name for the tests of a build without the
 * sysctl name table (UST_SYSCTL_NAMES 0, ustack_opts.h): the names come
 * from the same KNOB tables the library registers, in the same order
 * (kern/sysctl_knobs.h, then each domain's from conf/domains.h), so the
 * index found here is the library's ust_sysctl_info index.  tl_net.h
 * maps ust_sysctl_get/set onto these in such a build.
 */
#include <string.h>

#include "tl_net.h"

#if !UST_SYSCTL_NAMES
static const char *const tl_knob_names[] = {
#define KNOB(name, field, def, min, max, flags, descr) name,
#include "kern/sysctl_knobs.h"
#define DOMAIN_KNOBS
#include "conf/domains.h"
#undef DOMAIN_KNOBS
#undef KNOB
};

static int
tl_knob_id(const char *name, unsigned *idx)
{
	unsigned i;

	for (i = 0; name != NULL && i < sizeof(tl_knob_names) / sizeof(tl_knob_names[0]); i++) {
		if (strcmp(tl_knob_names[i], name) == 0) {
			*idx = i;
			return (0);
		}
	}
	return (-UST_ENOENT);
}

int
tl_sysctl_set(struct ust_stack *st, const char *name, int64_t value)
{
	unsigned idx;
	int error = tl_knob_id(name, &idx);

	return (error != 0 ? error : ust_sysctl_set_id(st, idx, value));
}

int
tl_sysctl_get(const struct ust_stack *st, const char *name, int64_t *value)
{
	unsigned idx;
	int error = tl_knob_id(name, &idx);

	return (error != 0 ? error : ust_sysctl_get_id(st, idx, value));
}
#endif /* !UST_SYSCTL_NAMES */
