/*
 * tcp_stacks.c - the TCP function-block framework (FreeBSD's
 * tcp_function_block registry in tcp_subr.c, TCP_FUNCTION_BLK in
 * tcp_usrreq.c), in its essentials: a const table of the blocks compiled
 * in, the per-stack default and counts, attach/detach/switch of a
 * connection, and the socket option.  See tcp_stacks.h.
 *
 * Differences from FreeBSD: blocks are compiled in, not loaded
 * (register/deregister and TCP_FUNCTION_ALIAS are not needed); the
 * connection counts are per stack.  A switch on a live connection is the
 * target's decision (tfb_tcp_handoff_ok), as in FreeBSD.
 */
#include <string.h>

#include "kern/socketvar.h"
#include "kern/stack_var.h"
#include "netinet/in_pcb.h"
#include "netinet/tcp_stacks/tcp_stacks.h"
#include "netinet/tcp_var.h"

/* The default stack: nothing to set up, every live switch to it is
 * fine (the default recovers from the SACK scoreboard and the
 * retransmission timer whatever the previous block left). */
static int
tcp_def_handoff_ok(struct tcpcb *tp)
{
	(void)tp;
	return (0);
}

const struct tcp_function_block tcp_def_funcblk = {
	.tfb_tcp_block_name = "freebsd",
	.tfb_tcp_output = tcp_output,
	.tfb_tcp_do_segment = tcp_do_segment,
	.tfb_tcp_handoff_ok = tcp_def_handoff_ok,
	.tfb_flags = TCP_FUNC_DEFAULT_OK,
};

/* The registry, in net.inet.tcp.functions_available's order. */
static const struct tcp_function_block *const tcp_fbs[] = {
	&tcp_def_funcblk,
#if UST_TCP_RACK
	&tcp_rack_funcblk,
#endif
};

#define TCP_NFBS (sizeof(tcp_fbs) / sizeof(tcp_fbs[0]))
_Static_assert(TCP_NFBS <= TCP_FB_MAX, "st_tcp_fb_count is too small");
_Static_assert(sizeof(((struct ust_tcp_function_set *)0)->function_set_name) ==
        TCP_FUNCTION_NAME_LEN_MAX,
    "block names fit TCP_FUNCTION_BLK");

static unsigned
tcp_fb_index(const struct tcp_function_block *fb)
{
	unsigned i;

	for (i = 0; i < TCP_NFBS; i++)
		if (tcp_fbs[i] == fb)
			return (i);
	return (0);
}

const struct tcp_function_block *
tcp_fb_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return (NULL);
	for (i = 0; i < TCP_NFBS; i++)
		if (strcmp(tcp_fbs[i]->tfb_tcp_block_name, name) == 0)
			return (tcp_fbs[i]);
	return (NULL);
}

const struct tcp_function_block *
tcp_fb_get(unsigned idx)
{
	return (idx < TCP_NFBS ? tcp_fbs[idx] : NULL);
}

const struct tcp_function_block *
tcp_fb_default(const struct ust_stack *st)
{
	if (st == NULL || st->st_tcp_fb_default == NULL)
		return (&tcp_def_funcblk);
	return (st->st_tcp_fb_default);
}

int
tcp_fb_set_default(struct ust_stack *st, const char *name)
{
	const struct tcp_function_block *fb = tcp_fb_find(name);

	if (fb == NULL || !(fb->tfb_flags & TCP_FUNC_DEFAULT_OK))
		return (UST_ENOENT);
	st->st_tcp_fb_default = fb;
	return (0);
}

uint32_t
tcp_fb_pcbcnt(const struct ust_stack *st, const struct tcp_function_block *fb)
{
	return (st->st_tcp_fb_count[tcp_fb_index(fb)]);
}

/* Appends s to buf at *n (what does not fit is counted, not stored). */
static void
tcp_fb_put(char *buf, size_t len, size_t *n, const char *s)
{
	for (; *s != '\0'; s++, (*n)++)
		if (*n + 1 < len)
			buf[*n] = *s;
}

size_t
tcp_fb_list(const struct ust_stack *st, char *buf, size_t len)
{
	const struct tcp_function_block *def = tcp_fb_default(st);
	char num[16];
	size_t i, n = 0, w;
	uint32_t c;
	int d;

	/* FreeBSD's layout: "Stack  D Alias  PCB count" and a line per
	 * block (no aliases here). */
	tcp_fb_put(buf, len, &n, "\nStack                           D PCB count");
	for (i = 0; i < TCP_NFBS; i++) {
		tcp_fb_put(buf, len, &n, "\n");
		tcp_fb_put(buf, len, &n, tcp_fbs[i]->tfb_tcp_block_name);
		for (w = strlen(tcp_fbs[i]->tfb_tcp_block_name); w < 32; w++)
			tcp_fb_put(buf, len, &n, " ");
		tcp_fb_put(buf, len, &n, tcp_fbs[i] == def ? "* " : "  ");
		c = st->st_tcp_fb_count[i];
		d = (int)sizeof(num) - 1;
		num[d] = '\0';
		do {
			num[--d] = (char)('0' + c % 10);
			c /= 10;
		} while (c != 0 && d > 0);
		tcp_fb_put(buf, len, &n, num + d);
	}
	if (len > 0)
		buf[n < len ? n : len - 1] = '\0';
	return (n);
}

/* ---------------------------------------------------------------------
 * Connections.
 * ------------------------------------------------------------------- */

void
tcp_fb_attach(struct tcpcb *tp, const struct tcp_function_block *fb)
{
	tp->t_fb_ptr = NULL;
	if (fb->tfb_tcp_fb_init != NULL) {
		tp->t_fb = fb;
		if (fb->tfb_tcp_fb_init(tp) != 0)
			fb = &tcp_def_funcblk; /* FreeBSD: back to the default */
	}
	tp->t_fb = fb;
	tp->t_stack->st_tcp_fb_count[tcp_fb_index(fb)]++;
}

void
tcp_fb_detach(struct tcpcb *tp)
{
	const struct tcp_function_block *fb = tp->t_fb;

	if (fb == NULL)
		return;
	if (fb->tfb_tcp_fb_fini != NULL)
		fb->tfb_tcp_fb_fini(tp, 1);
	tp->t_fb_ptr = NULL;
	tp->t_stack->st_tcp_fb_count[tcp_fb_index(fb)]--;
	tp->t_fb = NULL;
}

int
tcp_fb_switch(struct tcpcb *tp, const struct tcp_function_block *fb)
{
	const struct tcp_function_block *old = tp->t_fb;
	void *oldptr = tp->t_fb_ptr;
	int error;

	if (fb == old)
		return (0);
	/* FreeBSD: a connection past the handshake moves only when the
	 * target takes it over as it stands. */
	if (tp->t_state > TCPS_LISTEN && fb->tfb_tcp_handoff_ok != NULL &&
	    fb->tfb_tcp_handoff_ok(tp) != 0)
		return (UST_EINVAL);
	tp->t_fb_ptr = NULL;
	if (fb->tfb_tcp_fb_init != NULL) {
		tp->t_fb = fb;
		if ((error = fb->tfb_tcp_fb_init(tp)) != 0) {
			tp->t_fb = old;
			tp->t_fb_ptr = oldptr;
			return (error);
		}
	}
	/* The old block's state goes once the new one has its own. */
	if (old != NULL) {
		void *newptr = tp->t_fb_ptr;

		tp->t_fb = old;
		tp->t_fb_ptr = oldptr;
		if (old->tfb_tcp_fb_fini != NULL)
			old->tfb_tcp_fb_fini(tp, 0);
		tp->t_fb_ptr = newptr;
		tp->t_stack->st_tcp_fb_count[tcp_fb_index(old)]--;
	}
	tp->t_fb = fb;
	tp->t_stack->st_tcp_fb_count[tcp_fb_index(fb)]++;
	return (0);
}

int
tcp_fb_ctloutput(struct tcpcb *tp, struct sockopt *sopt)
{
	struct ust_tcp_function_set fs;
	const struct tcp_function_block *fb;
	size_t n;

	if (sopt->sopt_dir == SOPT_GET) {
		memset(&fs, 0, sizeof(fs));
		memcpy(fs.function_set_name, tp->t_fb->tfb_tcp_block_name,
		    strlen(tp->t_fb->tfb_tcp_block_name));
		fs.pcbcnt = tcp_fb_pcbcnt(tp->t_stack, tp->t_fb);
		if (sopt->sopt_valsize < sizeof(fs))
			return (UST_EINVAL);
		memcpy(sopt->sopt_val, &fs, sizeof(fs));
		sopt->sopt_valsize = sizeof(fs);
		return (0);
	}
	/* The name ends at a NUL or at the end of the value; a value as
	 * long as the whole structure must hold a NUL in the name field. */
	memset(&fs, 0, sizeof(fs));
	n = sopt->sopt_valsize < sizeof(fs.function_set_name) ? sopt->sopt_valsize :
	                                                        sizeof(fs.function_set_name);
	memcpy(fs.function_set_name, sopt->sopt_val, n);
	if (memchr(fs.function_set_name, '\0', sizeof(fs.function_set_name)) == NULL)
		return (UST_EINVAL);
	if ((fb = tcp_fb_find(fs.function_set_name)) == NULL)
		return (UST_ENOENT);
	return (tcp_fb_switch(tp, fb));
}

int
tcp_stacks_init(struct ust_stack *st)
{
	memset(st->st_tcp_fb_count, 0, sizeof(st->st_tcp_fb_count));
#if UST_TCP_RACK
	return (rack_init(st));
#else
	return (0);
#endif
}

void
tcp_stacks_fini(struct ust_stack *st)
{
#if UST_TCP_RACK
	rack_fini(st);
#else
	(void)st;
#endif
}
