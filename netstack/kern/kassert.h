/*
 * kassert.h - invariants of the stack's own state (FreeBSD's KASSERT and
 * MPASS from sys/systm.h and sys/kassert.h).
 *
 *   KASSERT(so->so_pcb != NULL, ("%s: so %p has no PCB", __func__, so));
 *   MPASS(tp->t_state == TCPS_SYN_SENT);
 *
 * With UST_DEBUG 1 (CMake -DUSTACK_DEBUG=ON; the sanitizer tier, the
 * simulations and the fuzzers) a false expression stops the program:
 * kassert_panic() formats "file:line: KASSERT(expr) failed: message" and
 * calls the port's ust_osal_panic(), which does not return.  With UST_DEBUG
 * 0 nothing is evaluated and no code is generated, but the expression and
 * the message are still compiled (sizeof), so a release build type-checks
 * them, checks the format against its arguments and sees the variables
 * they use.  The expression must therefore have no side effects.
 *
 * What to assert: state the stack itself keeps (a tcpcb's state on entry
 * to a per-state handler, a socket buffer's byte count, an mbuf chain's
 * length, a PCB's hash bucket).  Never what arrives from the wire: a bad
 * packet is dropped and counted, whatever the build (STYLE.md "Errors").
 */
#ifndef _USTACK_KERN_KASSERT_H_
#define _USTACK_KERN_KASSERT_H_

#include <ustack/ustack_opts.h>
#include <ustack/ustack_osal.h>

/* Reports a broken invariant and never returns (kern_assert.c; only in
 * UST_DEBUG builds).  expr is the failed expression as text; fmt and what
 * follows describe the state that broke it. */
void
kassert_panic(const char *file, int line, const char *expr, const char *fmt, ...) UST_PRINTF(4, 5)
__attribute__((noreturn, cold));
/* Declared, never defined: a disabled KASSERT passes its message here
 * inside sizeof, which type-checks it without generating a call. */
int kassert_fmtcheck(const char *fmt, ...) UST_PRINTF(1, 2);

/* KASSERT_ARGS_ ("fmt", a, b) -> "fmt", a, b: FreeBSD's parenthesised
 * message becomes the tail of an argument list. */
#define KASSERT_ARGS_(...) __VA_ARGS__

#if UST_DEBUG
#define KASSERT(exp, msg)                                                           \
	do {                                                                        \
		if (__builtin_expect(!(exp), 0))                                    \
			kassert_panic(__FILE__, __LINE__, #exp, KASSERT_ARGS_ msg); \
	} while (0)
#else
#define KASSERT(exp, msg)                           \
	do {                                        \
		(void)sizeof(!(exp));               \
		(void)sizeof(kassert_fmtcheck msg); \
	} while (0)
#endif

/* An assertion whose expression says it all. */
#define MPASS(exp) KASSERT(exp, ("%s", ""))

#endif /* _USTACK_KERN_KASSERT_H_ */
