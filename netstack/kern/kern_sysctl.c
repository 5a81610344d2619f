/*
 * kern_sysctl.c - the knob registry: ust_sysctl_get/set/info over the
 * table in sysctl_knobs.h, by FreeBSD's names.  The conformance runner sets
 * knobs exactly as FreeBSD's test scripts do with `sysctl -w`.
 *
 * Integer knobs live in struct ust_knobs (V(st, field)).  String knobs
 * (ust_sysctl_get_str/set_str) are the few FreeBSD has as strings, each
 * read and written through handlers of the subsystem that owns it, as
 * FreeBSD's SYSCTL_PROC handlers are: net.inet.tcp.cc.algorithm and
 * net.inet.tcp.cc.available (netinet/cc/cc.c).  ust_sysctl_info lists the
 * integer knobs, then the string knobs (UST_SYSCTL_STRING).
 */
#include <stddef.h>
#include <string.h>

#include "kern/stack_var.h"
#include "netinet/cc/cc.h"
#include "netinet/tcp_var.h"

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

/* String knobs: handlers return 0 or a positive UST_E*. */
struct strknob_desc {
	const char *name;
	const char *def;
	uint32_t flags;
	const char *descr;
	int (*get)(const struct ust_stack *st, char *buf, size_t len);
	int (*set)(struct ust_stack *st, const char *value);
};

/* Copies s into buf; UST_ENOMEM (and a truncated copy) when it does not fit. */
static int
strknob_copyout(const char *s, char *buf, size_t len)
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

static int
sysctl_cc_algorithm_get(const struct ust_stack *st, char *buf, size_t len)
{
	return (strknob_copyout(cc_default_algo(st)->name, buf, len));
}

static int
sysctl_cc_algorithm_set(struct ust_stack *st, const char *value)
{
	return (cc_set_default_algo(st, value));
}

static int
sysctl_cc_available_get(const struct ust_stack *st, char *buf, size_t len)
{
	(void)st;
	if (len == 0 || cc_algo_list(buf, len) >= len)
		return (UST_ENOMEM);
	return (0);
}

static const struct strknob_desc strknob_table[] = {
	{ "net.inet.tcp.cc.algorithm", "cubic", UST_SYSCTL_STRING,
	    "Congestion control module of new connections (cc(4))", sysctl_cc_algorithm_get,
	    sysctl_cc_algorithm_set },
	{ "net.inet.tcp.cc.available", "newreno, cubic", UST_SYSCTL_STRING | UST_SYSCTL_RDONLY,
	    "Congestion control modules compiled in", sysctl_cc_available_get, NULL },
};

#define NSTRKNOBS (sizeof(strknob_table) / sizeof(strknob_table[0]))

static const struct strknob_desc *
strknob_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return (NULL);
	for (i = 0; i < NSTRKNOBS; i++)
		if (strcmp(strknob_table[i].name, name) == 0)
			return (&strknob_table[i]);
	return (NULL);
}

int
ust_sysctl_get_str(const struct ust_stack *st, const char *name, char *buf, size_t len)
{
	const struct strknob_desc *sd = strknob_find(name);

	if (sd == NULL)
		return (knob_find(name) != NULL ? -UST_EINVAL : -UST_ENOENT);
	if (buf == NULL && len > 0)
		return (-UST_EINVAL);
	return (-sd->get(st, buf, len));
}

int
ust_sysctl_set_str(struct ust_stack *st, const char *name, const char *value)
{
	const struct strknob_desc *sd = strknob_find(name);

	if (sd == NULL)
		return (knob_find(name) != NULL ? -UST_EINVAL : -UST_ENOENT);
	if ((sd->flags & UST_SYSCTL_RDONLY) || sd->set == NULL)
		return (-UST_EPERM);
	if (value == NULL)
		return (-UST_EINVAL);
	return (-sd->set(st, value));
}

int
ust_sysctl_get(const struct ust_stack *st, const char *name, int64_t *value)
{
	const struct knob_desc *kd = knob_find(name);

	if (kd == NULL)
		return (strknob_find(name) != NULL ? -UST_EINVAL : -UST_ENOENT);
	memcpy(value, (const char *)&st->st_knobs + kd->off, sizeof(int64_t));
	return (0);
}

int
ust_sysctl_set(struct ust_stack *st, const char *name, int64_t value)
{
	const struct knob_desc *kd = knob_find(name);

	if (kd == NULL)
		return (strknob_find(name) != NULL ? -UST_EINVAL : -UST_ENOENT);
	if (kd->flags & UST_SYSCTL_RDONLY)
		return (-UST_EPERM);
	if (value < kd->min || value > kd->max)
		return (-UST_EINVAL);
	memcpy((char *)&st->st_knobs + kd->off, &value, sizeof(int64_t));
	/* Like FreeBSD's sysctl_maxsockets: the zones sized from the limit
	 * at start-up follow it, so that a stack can be raised to a million
	 * connections after creation. */
	if (kd->off == offsetof(struct ust_knobs, ipc_maxsockets))
		tcp_maxsockets_changed(st);
	return (0);
}

int
ust_sysctl_info(unsigned idx, struct ust_sysctl_info *out)
{
	const struct knob_desc *kd;
	const struct strknob_desc *sd;

	if (idx >= NKNOBS + NSTRKNOBS)
		return (-UST_ENOENT);
	if (idx >= NKNOBS) {
		sd = &strknob_table[idx - NKNOBS];
		out->name = sd->name;
		out->descr = sd->descr;
		out->defval = 0;
		out->min = 0;
		out->max = 0;
		out->flags = sd->flags;
		out->defstr = sd->def;
		return (0);
	}
	kd = &knob_table[idx];
	out->name = kd->name;
	out->descr = kd->descr;
	out->defval = kd->def;
	out->min = kd->min;
	out->max = kd->max;
	out->flags = kd->flags;
	out->defstr = NULL;
	return (0);
}
