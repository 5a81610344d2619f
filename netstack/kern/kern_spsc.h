/*
 * kern_spsc.h - a single-producer single-consumer ring of pointers (C11
 * atomics), for handing packets from one stack's thread to another's
 * (kern/kern_group.c).  Lock-free and wait-free: a push into a full ring
 * fails at once, a pop from an empty one too; neither side ever waits for
 * the other.
 *
 * The producer writes the slot, then publishes it with a release store of
 * its tail; the consumer reads the tail with acquire, so the slot (and
 * everything the producer wrote before it, the packet included) is
 * visible to it, and gives the slot back with a release store of its
 * head.  Each side keeps a private copy of the other's index and reloads
 * it only when the copy says full (producer) or empty (consumer), so the
 * two cache lines are not shared on every operation.
 *
 * "One producer" means one at a time with a happens-before between them
 * (a stack's lock serialises whoever polls it): the same for the consumer.
 */
#ifndef _USTACK_KERN_SPSC_H_
#define _USTACK_KERN_SPSC_H_

#include <stdatomic.h>
#include <stdint.h>

#define SPSC_LINE 64 /* keeps the producer's and consumer's fields apart */

struct spsc {
	/* consumer */
	_Atomic uint32_t sp_head;
	uint32_t sp_tail_seen; /* consumer's copy of sp_tail */
	char sp_pad0[SPSC_LINE - 2 * sizeof(uint32_t)];
	/* producer */
	_Atomic uint32_t sp_tail;
	uint32_t sp_head_seen; /* producer's copy of sp_head */
	char sp_pad1[SPSC_LINE - 2 * sizeof(uint32_t)];
	uint32_t sp_mask; /* slots - 1, slots a power of two */
	void **sp_slot;
};

static inline void
spsc_init(struct spsc *r, void **slots, uint32_t nslots)
{
	atomic_init(&r->sp_head, 0);
	atomic_init(&r->sp_tail, 0);
	r->sp_tail_seen = 0;
	r->sp_head_seen = 0;
	r->sp_mask = nslots - 1;
	r->sp_slot = slots;
}

/* Producer: 0, or -1 (full: p stays the caller's). */
static inline int
spsc_push(struct spsc *r, void *p)
{
	uint32_t tail = atomic_load_explicit(&r->sp_tail, memory_order_relaxed);

	if (tail - r->sp_head_seen > r->sp_mask) {
		r->sp_head_seen = atomic_load_explicit(&r->sp_head, memory_order_acquire);
		if (tail - r->sp_head_seen > r->sp_mask)
			return (-1);
	}
	r->sp_slot[tail & r->sp_mask] = p;
	atomic_store_explicit(&r->sp_tail, tail + 1, memory_order_release);
	return (0);
}

/* Producer: free slots now (at least; the consumer may free more). */
static inline uint32_t
spsc_space(struct spsc *r)
{
	uint32_t tail = atomic_load_explicit(&r->sp_tail, memory_order_relaxed);

	r->sp_head_seen = atomic_load_explicit(&r->sp_head, memory_order_acquire);
	return (r->sp_mask + 1 - (tail - r->sp_head_seen));
}

/* Consumer: the oldest pointer, or NULL when empty. */
static inline void *
spsc_pop(struct spsc *r)
{
	uint32_t head = atomic_load_explicit(&r->sp_head, memory_order_relaxed);
	void *p;

	if (head == r->sp_tail_seen) {
		r->sp_tail_seen = atomic_load_explicit(&r->sp_tail, memory_order_acquire);
		if (head == r->sp_tail_seen)
			return (NULL);
	}
	p = r->sp_slot[head & r->sp_mask];
	atomic_store_explicit(&r->sp_head, head + 1, memory_order_release);
	return (p);
}

/* Consumer: nothing to pop (reads the producer's index only when its copy
 * says empty). */
static inline int
spsc_empty(struct spsc *r)
{
	uint32_t head = atomic_load_explicit(&r->sp_head, memory_order_relaxed);

	if (head != r->sp_tail_seen)
		return (0);
	r->sp_tail_seen = atomic_load_explicit(&r->sp_tail, memory_order_acquire);
	return (head == r->sp_tail_seen);
}

/* Producer: nothing queued (by its own index and the consumer's). */
static inline int
spsc_empty_p(struct spsc *r)
{
	return (atomic_load_explicit(&r->sp_tail, memory_order_relaxed) ==
	    atomic_load_explicit(&r->sp_head, memory_order_acquire));
}

/* Anyone: is something queued?  A hint (exact for the consumer). */
static inline int
spsc_nonempty(struct spsc *r)
{
	return (atomic_load_explicit(&r->sp_tail, memory_order_acquire) !=
	    atomic_load_explicit(&r->sp_head, memory_order_acquire));
}

/*
 * For a consumer that sleeps when its rings are empty (a Dekker pair,
 * every access seq_cst): the consumer says it sleeps, then checks with
 * spsc_nonempty_sc(); the producer, after its pushes, calls
 * spsc_publish_sc() (a seq_cst read-modify-write of its tail, which
 * changes nothing), then reads whether the consumer sleeps.  One of the
 * two sees the other: a frame is never left with its owner asleep.
 */
static inline void
spsc_publish_sc(struct spsc *r)
{
	(void)atomic_fetch_add_explicit(&r->sp_tail, 0, memory_order_seq_cst);
}

static inline int
spsc_nonempty_sc(struct spsc *r)
{
	return (atomic_load_explicit(&r->sp_tail, memory_order_seq_cst) !=
	    atomic_load_explicit(&r->sp_head, memory_order_relaxed));
}

/* The same pair for the other direction: a producer that waits for room
 * checks spsc_full_sc() after saying it sleeps; the consumer, having made
 * room, calls spsc_publish_head_sc() before reading whether it sleeps. */
static inline void
spsc_publish_head_sc(struct spsc *r)
{
	(void)atomic_fetch_add_explicit(&r->sp_head, 0, memory_order_seq_cst);
}

static inline int
spsc_full_sc(struct spsc *r)
{
	return (atomic_load_explicit(&r->sp_tail, memory_order_relaxed) -
	        atomic_load_explicit(&r->sp_head, memory_order_seq_cst) >
	    r->sp_mask);
}

#endif /* _USTACK_KERN_SPSC_H_ */
