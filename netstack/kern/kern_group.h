/*
 * kern_group.h - the hooks a group of stacks (kern/kern_group.c,
 * ustack_group.h) has in the stack's own paths.  Each is called only when
 * st->st_rss (or st->st_grp) is set, so a stack made alone pays one
 * predicted branch per poll, per received frame and per unlock.
 *
 *   ust_stack_poll():  grp_poll_start()  hand-offs in, originals back
 *                      if_poll_rx() -> if_input() -> grp_if_input()
 *                      grp_poll_end()    wake the owners handed frames
 *   ust_stack_lock()/ust_stack_unlock(): grp_lock() / grp_unlock()
 */
#ifndef _USTACK_KERN_GROUP_H_
#define _USTACK_KERN_GROUP_H_

#include <ustack/ustack_opts.h>

#if UST_SMP
struct ust_stack;
struct ifnet;
struct mbuf;

/* Frame m arrived on ifp of a stack in a group: 1 when handed to its
 * owner (or dropped: ring full; m consumed either way), 0 when this stack
 * takes it (ether_input). */
int grp_if_input(struct ifnet *ifp, struct mbuf *m);
/* Under the stack lock, in the poll: frees what the owners gave back and
 * passes up what other stacks handed over.  Returns the frames taken. */
int grp_poll_start(struct ust_stack *st);
/* Under the stack lock, at the end of the poll: wakes the sleeping
 * threads of the stacks this poll handed frames to. */
void grp_poll_end(struct ust_stack *st);
/* Frames are waiting in st's incoming rings (ust_stack_next_deadline). */
int grp_input_pending(struct ust_stack *st);
void grp_lock(struct ust_stack *st);
void grp_unlock(struct ust_stack *st);
/* The stack lock as the stack's own thread or poll takes it (records the
 * owner for grp_enter). */
void grp_owner_set(struct ust_stack *st);
void grp_owner_clear(struct ust_stack *st);
/* A socket call on a threaded stack from a thread that does not hold its
 * lock takes it for the call: 1 when it did (then grp_exit). */
int grp_enter(struct ust_stack *st);
void grp_exit(struct ust_stack *st);
#endif

#endif /* _USTACK_KERN_GROUP_H_ */
