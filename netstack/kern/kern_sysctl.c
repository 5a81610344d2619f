/*
 * kern_sysctl.c - the knob registry: ust_sysctl_get/set/info over the
 * tables of the socket layer and the domains, by FreeBSD's names.  The
 * conformance runner sets knobs exactly as FreeBSD's test scripts do with
 * `sysctl -w`.
 *
 * Integer knobs live in struct ust_knobs (V(st, field)).  String knobs
 * (ust_sysctl_get_str/set_str) are the few FreeBSD has as strings, each
 * read and written through handlers of the subsystem that owns it, as
 * FreeBSD's SYSCTL_PROC handlers are.  The socket layer's knobs are here;
 * every other knob comes from the domain that owns it (struct domain:
 * dom_knobs, dom_strknobs; netinet/in_proto.c), so this file names no
 * protocol.  ust_sysctl_info lists the integer knobs (kern.ipc, then each
 * domain's), then the string knobs (UST_SYSCTL_STRING).
 */
#include <stddef.h>
#include <string.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"

/* The socket layer's own knobs; each domain brings its tables. */
static const struct sysctl_knob kern_knobs[] = {
#define KNOB SYSCTL_KNOB
#include "kern/sysctl_knobs.h"
#undef KNOB
};

#define NKERNKNOBS (sizeof(kern_knobs) / sizeof(kern_knobs[0]))

/* The bounds, entry for entry: the socket layer's, then each domain's
 * (conf/domains.h), named only below by the code that sets or lists
 * knobs, so that a program that only creates stacks links none. */
static const struct sysctl_knob_bounds kern_knob_bounds[] = {
#define KNOB SYSCTL_KNOB_BOUNDS
#include "kern/sysctl_knobs.h"
#undef KNOB
};

#define DOMAIN_KNOB_BOUNDS(d, tbl)    \
	extern const struct domain d; \
	extern const struct sysctl_knob_bounds tbl[];
#include "conf/domains.h"
#undef DOMAIN_KNOB_BOUNDS

/* Each domain's follower of knob changes (conf/domains.h). */
#define DOMAIN_KNOB_CHANGED(d, fn) void fn(struct ust_stack *st, size_t off);
#include "conf/domains.h"
#undef DOMAIN_KNOB_CHANGED

static const struct sysctl_knob_bounds *
knob_bounds_at(unsigned idx)
{
	if (idx < NKERNKNOBS)
		return (&kern_knob_bounds[idx]);
	idx -= (unsigned)NKERNKNOBS;
#define DOMAIN_KNOB_BOUNDS(d, tbl)  \
	if (idx < d.dom_nknobs)     \
		return (&tbl[idx]); \
	idx -= d.dom_nknobs;
#include "conf/domains.h"
#undef DOMAIN_KNOB_BOUNDS
	return (NULL);
}

/* sysctl_knob.off is 16 bits. */
_Static_assert(sizeof(struct ust_knobs) <= 65535, "struct ust_knobs outgrew sysctl_knob.off");

/* Every integer knob in ust_sysctl_info order: kern.ipc, then each
 * domain's; the string knobs follow all of them. */
static const struct sysctl_knob *
knob_at(unsigned idx)
{
	const struct domain *dp;
	unsigned d;

	if (idx < NKERNKNOBS)
		return (&kern_knobs[idx]);
	idx -= (unsigned)NKERNKNOBS;
	for (d = 0; (dp = domain_at(d)) != NULL; d++) {
		if (idx < dp->dom_nknobs)
			return (&dp->dom_knobs[idx]);
		idx -= dp->dom_nknobs;
	}
	return (NULL);
}

static const struct sysctl_strknob *
strknob_at(unsigned idx)
{
	const struct domain *dp;
	unsigned d;

	for (d = 0; (dp = domain_at(d)) != NULL; d++) {
		if (idx < dp->dom_nstrknobs)
			return (&dp->dom_strknobs[idx]);
		idx -= dp->dom_nstrknobs;
	}
	return (NULL);
}

void
sysctl_knobs_init(struct ust_knobs *k)
{
	const struct sysctl_knob *kd;
	unsigned i;
	int64_t def;

	for (i = 0; (kd = knob_at(i)) != NULL; i++) {
		def = kd->def;
		memcpy((char *)k + kd->off, &def, sizeof(def));
	}
}

static unsigned
knob_count(void)
{
	unsigned n;

	for (n = 0; knob_at(n) != NULL; n++)
		;
	return (n);
}

static int
knob_set(struct ust_stack *st, unsigned idx, int64_t value)
{
	const struct sysctl_knob *kd = knob_at(idx);
	const struct sysctl_knob_bounds *kb = knob_bounds_at(idx);
	if (kd == NULL || kb == NULL)
		return (-UST_ENOENT);
	if (kd->flags & UST_SYSCTL_RDONLY)
		return (-UST_EPERM);
	if (value < kb->min || value > kb->max)
		return (-UST_EINVAL);
	memcpy((char *)&st->st_knobs + kd->off, &value, sizeof(int64_t));
	/* As FreeBSD's EVENTHANDLERs: a domain whose state is sized from a
	 * knob (kern.ipc.maxsockets and the TCP zones) follows it. */
#define DOMAIN_KNOB_CHANGED(d, fn) fn(st, kd->off);
#include "conf/domains.h"
#undef DOMAIN_KNOB_CHANGED
	return (0);
}

int
ust_sysctl_get_id(const struct ust_stack *st, unsigned idx, int64_t *value)
{
	const struct sysctl_knob *kd = knob_at(idx);

	if (kd == NULL)
		return (-UST_ENOENT);
	memcpy(value, (const char *)&st->st_knobs + kd->off, sizeof(int64_t));
	return (0);
}

int
ust_sysctl_set_id(struct ust_stack *st, unsigned idx, int64_t value)
{
	return (knob_set(st, idx, value));
}

int
sysctl_copyout_str(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);

	if (len == 0)
		return (UST_ENOMEM);
	if (n >= len) {
		memcpy(buf, s, len - 1);
		buf[len - 1] = '\0';
		return (UST_ENOMEM);
	}
	memcpy(buf, s, n + 1);
	return (0);
}

#if UST_SYSCTL_NAMES
/* The index of the integer knob called name, or -1. */
static int
knob_find(const char *name)
{
	const struct sysctl_knob *kd;
	unsigned i;

	if (name == NULL)
		return (-1);
	for (i = 0; (kd = knob_at(i)) != NULL; i++)
		if (strcmp(kd->name, name) == 0)
			return ((int)i);
	return (-1);
}

static const struct sysctl_strknob *
strknob_find(const char *name)
{
	const struct sysctl_strknob *sd;
	unsigned i;

	if (name == NULL)
		return (NULL);
	for (i = 0; (sd = strknob_at(i)) != NULL; i++)
		if (strcmp(sd->name, name) == 0)
			return (sd);
	return (NULL);
}

int
ust_sysctl_get_str(const struct ust_stack *st, const char *name, char *buf, size_t len)
{
	const struct sysctl_strknob *sd = strknob_find(name);

	if (sd == NULL)
		return (knob_find(name) >= 0 ? -UST_EINVAL : -UST_ENOENT);
	if (buf == NULL && len > 0)
		return (-UST_EINVAL);
	return (-sd->get(st, buf, len));
}

int
ust_sysctl_set_str(struct ust_stack *st, const char *name, const char *value)
{
	const struct sysctl_strknob *sd = strknob_find(name);

	if (sd == NULL)
		return (knob_find(name) >= 0 ? -UST_EINVAL : -UST_ENOENT);
	if ((sd->flags & UST_SYSCTL_RDONLY) || sd->set == NULL)
		return (-UST_EPERM);
	if (value == NULL)
		return (-UST_EINVAL);
	return (-sd->set(st, value));
}

int
ust_sysctl_get(const struct ust_stack *st, const char *name, int64_t *value)
{
	int idx = knob_find(name);

	if (idx < 0)
		return (strknob_find(name) != NULL ? -UST_EINVAL : -UST_ENOENT);
	return (ust_sysctl_get_id(st, (unsigned)idx, value));
}

int
ust_sysctl_set(struct ust_stack *st, const char *name, int64_t value)
{
	int idx = knob_find(name);

	if (idx < 0)
		return (strknob_find(name) != NULL ? -UST_EINVAL : -UST_ENOENT);
	return (knob_set(st, (unsigned)idx, value));
}
#else  /* !UST_SYSCTL_NAMES: by index only (ust_sysctl_get_id/set_id). */
int
ust_sysctl_get_str(const struct ust_stack *st, const char *name, char *buf, size_t len)
{
	(void)st, (void)name, (void)buf, (void)len;
	return (-UST_EOPNOTSUPP);
}

int
ust_sysctl_set_str(struct ust_stack *st, const char *name, const char *value)
{
	(void)st, (void)name, (void)value;
	return (-UST_EOPNOTSUPP);
}

int
ust_sysctl_get(const struct ust_stack *st, const char *name, int64_t *value)
{
	(void)st, (void)name, (void)value;
	return (-UST_EOPNOTSUPP);
}

int
ust_sysctl_set(struct ust_stack *st, const char *name, int64_t value)
{
	(void)st, (void)name, (void)value;
	return (-UST_EOPNOTSUPP);
}
#endif /* UST_SYSCTL_NAMES */

int
ust_sysctl_info(unsigned idx, struct ust_sysctl_info *out)
{
	const struct sysctl_knob *kd;
	const struct sysctl_strknob *sd;
	unsigned nknobs;

	nknobs = knob_count();
	if (idx >= nknobs) {
		if ((sd = strknob_at(idx - nknobs)) == NULL)
			return (-UST_ENOENT);
		out->name = sd->name;
		out->descr = sd->descr;
		out->defval = 0;
		out->min = 0;
		out->max = 0;
		out->flags = sd->flags;
		out->defstr = sd->def;
		return (0);
	}
	kd = knob_at(idx);
#if UST_SYSCTL_NAMES
	out->name = kd->name;
	out->descr = kd->descr;
#else
	out->name = NULL;
	out->descr = NULL;
#endif
	out->defval = kd->def;
	out->min = knob_bounds_at(idx)->min;
	out->max = knob_bounds_at(idx)->max;
	out->flags = kd->flags;
	out->defstr = NULL;
	return (0);
}
