/*
 * kern_sysctl.c - the knob registry: ust_sysctl_get/set/info over the
 * table in sysctl_knobs.h, by FreeBSD's names.  The conformance runner sets
 * knobs exactly as FreeBSD's test scripts do with `sysctl -w`.
 */
#include <stddef.h>
#include <string.h>

#include "kern/stack_var.h"

struct knob_desc {
	const char *name;
	size_t off;
	int64_t def, min, max;
	uint32_t flags;
	const char *descr;
};

static const struct knob_desc knob_table[] = {
#define KNOB(name, field, def, min, max, flags, descr) \
	{ name, offsetof(struct ust_knobs, field), def, min, max, flags, descr },
#include "kern/sysctl_knobs.h"
#undef KNOB
};

#define NKNOBS (sizeof(knob_table) / sizeof(knob_table[0]))

void
sysctl_knobs_init(struct ust_knobs *k)
{
	size_t i;

	for (i = 0; i < NKNOBS; i++)
		memcpy((char *)k + knob_table[i].off, &knob_table[i].def, sizeof(int64_t));
}

static const struct knob_desc *
knob_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return (NULL);
	for (i = 0; i < NKNOBS; i++)
		if (strcmp(knob_table[i].name, name) == 0)
			return (&knob_table[i]);
	return (NULL);
}

int
ust_sysctl_get(const struct ust_stack *st, const char *name, int64_t *value)
{
	const struct knob_desc *kd = knob_find(name);

	if (kd == NULL)
		return (-UST_ENOENT);
	memcpy(value, (const char *)&st->st_knobs + kd->off, sizeof(int64_t));
	return (0);
}

int
ust_sysctl_set(struct ust_stack *st, const char *name, int64_t value)
{
	const struct knob_desc *kd = knob_find(name);

	if (kd == NULL)
		return (-UST_ENOENT);
	if (kd->flags & UST_SYSCTL_RDONLY)
		return (-UST_EPERM);
	if (value < kd->min || value > kd->max)
		return (-UST_EINVAL);
	memcpy((char *)&st->st_knobs + kd->off, &value, sizeof(int64_t));
	return (0);
}

int
ust_sysctl_info(unsigned idx, struct ust_sysctl_info *out)
{
	const struct knob_desc *kd;

	if (idx >= NKNOBS)
		return (-UST_ENOENT);
	kd = &knob_table[idx];
	out->name = kd->name;
	out->descr = kd->descr;
	out->defval = kd->def;
	out->min = kd->min;
	out->max = kd->max;
	out->flags = kd->flags;
	return (0);
}
