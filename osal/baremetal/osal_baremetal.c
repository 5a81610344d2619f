/*
 * osal_baremetal.c - the OSAL port for a machine with no operating system
 * (a Cortex-M board, a QEMU machine): the "port" half of ustack_osal.h.
 *
 *   memory    a static arena of UST_BAREMETAL_HEAP_SIZE bytes managed by a
 *             first-fit free list, kept in address order so that a freed
 *             block merges with its free neighbours.  ust_osal_mem_free()
 *             is given the size back, so allocated blocks carry no header.
 *             Not for interrupt handlers: nothing locks the free list.
 *   locking   one context runs the stack (run to completion from main or a
 *             single task), so mutexes and condition variables are no-ops
 *             on a static dummy object.
 *   clock     ust_board_clock_ns(), entropy ust_board_entropy(), log output
 *             ust_board_putc(): board hooks with weak defaults (ust_board.h).
 *   panic     prints through the board, calls ust_board_panic() (weak
 *             default: nothing) and spins forever.
 *
 * Global state.  ustack keeps no mutable globals: every piece of protocol
 * state hangs off struct ust_stack, so that many stacks share a process.
 * This file is the exception the rule allows, because it is not stack
 * state: it is the machine.  The arena is the board's RAM handed out as a
 * heap, and the free list (with the fallback clock counter) describes that
 * machine, exactly as malloc's state and the hardware timer do under the
 * POSIX port.  Every stack on the board draws from the one heap, as every
 * stack in a process draws from malloc.
 *
 * Call order: ust_mem_alloc() (osal/common, per-stack accounting) ->
 * ust_osal_mem_alloc() -> bm_heap_init() on first use -> first fit.
 */
#include <stddef.h>
#include <stdint.h>

#include <ustack/ustack.h>
#include <ustack/ustack_osal.h>

#include "ust_board.h"

/* Bytes in the heap arena.  Override with -DUST_BAREMETAL_HEAP_SIZE=...
 * (CMake: -DUSTACK_BAREMETAL_HEAP_SIZE=...) to fit the board's RAM. */
#ifndef UST_BAREMETAL_HEAP_SIZE
#define UST_BAREMETAL_HEAP_SIZE (256u * 1024u)
#endif

/* How far the fallback clock moves at each read when the board has no
 * clock hook: one callout tick, so that timers fire after as many polls as
 * they have ticks to wait. */
#ifndef UST_BAREMETAL_FALLBACK_TICK_NS
#define UST_BAREMETAL_FALLBACK_TICK_NS 1000000u
#endif

/*
 * A free block.  The header lives in the free memory itself, so the
 * smallest block, and the granule of every size, is BM_UNIT: the header
 * rounded up to the strictest alignment the C implementation needs.
 */
struct bm_free {
	size_t size;          /* bytes in this block, a multiple of BM_UNIT */
	struct bm_free *next; /* the next free block, at a higher address */
};

#define BM_ALIGN _Alignof(max_align_t)
#define BM_UNIT ((sizeof(struct bm_free) + BM_ALIGN - 1) / BM_ALIGN * BM_ALIGN)
#define BM_HEAP_BYTES (UST_BAREMETAL_HEAP_SIZE / BM_UNIT * BM_UNIT)

_Static_assert(UST_BAREMETAL_HEAP_SIZE >= 4 * sizeof(struct bm_free),
    "UST_BAREMETAL_HEAP_SIZE is too small: set -DUST_BAREMETAL_HEAP_SIZE=65536");

/* The machine's heap (see "Global state" above). */
static _Alignas(max_align_t) unsigned char bm_arena[UST_BAREMETAL_HEAP_SIZE];
static struct {
	struct bm_free *free; /* free blocks in address order */
	int ready;            /* the arena has been made one free block */
} bm_heap;

static void
bm_heap_init(void)
{
	struct bm_free *blk;

	blk = (struct bm_free *)(void *)bm_arena;
	blk->size = BM_HEAP_BYTES;
	blk->next = NULL;
	bm_heap.free = blk;
	bm_heap.ready = 1;
}

/* The size of the block that serves a request of `size` bytes, or 0 when
 * no block that large can exist.  free() rounds the same way as alloc(),
 * so a caller that passes back the size it asked for frees what it got. */
static size_t
bm_round(size_t size)
{
	if (size == 0)
		size = 1;
	if (size > BM_HEAP_BYTES)
		return (0);
	return ((size + BM_UNIT - 1) / BM_UNIT * BM_UNIT);
}

void *
ust_osal_mem_alloc(size_t size)
{
	struct bm_free *blk, **prevp;
	size_t need;

	if (!bm_heap.ready)
		bm_heap_init();
	need = bm_round(size);
	if (need == 0)
		return (NULL);
	for (prevp = &bm_heap.free; (blk = *prevp) != NULL; prevp = &blk->next) {
		if (blk->size < need)
			continue;
		if (blk->size == need) {
			*prevp = blk->next;
			return (blk);
		}
		/* Hand out the tail: the block stays where it is in the list. */
		blk->size -= need;
		return ((unsigned char *)blk + blk->size);
	}
	return (NULL);
}

void
ust_osal_mem_free(void *p, size_t size)
{
	struct bm_free *blk, *prev, *next;
	unsigned char *cp;
	size_t len;

	if (p == NULL)
		return;
	cp = p;
	len = bm_round(size);
#if UST_DEBUG
	if (!bm_heap.ready || len == 0 || cp < bm_arena || cp + len > bm_arena + BM_HEAP_BYTES ||
	    (size_t)(cp - bm_arena) % BM_UNIT != 0)
		ust_osal_panic("ust_osal_mem_free: not a block of the heap");
#endif
	/* Find the free neighbours: prev below p, next above it. */
	prev = NULL;
	for (next = bm_heap.free; next != NULL && (unsigned char *)next < cp; next = next->next)
		prev = next;
#if UST_DEBUG
	if ((prev != NULL && (unsigned char *)prev + prev->size > cp) ||
	    (next != NULL && cp + len > (unsigned char *)next))
		ust_osal_panic("ust_osal_mem_free: block already free or wrong size");
#endif
	blk = (struct bm_free *)p;
	blk->size = len;
	blk->next = next;
	if (next != NULL && cp + len == (unsigned char *)next) {
		blk->size += next->size;
		blk->next = next->next;
	}
	if (prev == NULL) {
		bm_heap.free = blk;
	} else if ((unsigned char *)prev + prev->size == cp) {
		prev->size += blk->size;
		prev->next = blk->next;
	} else {
		prev->next = blk;
	}
}

/*
 * Mutex and condition variable.  C has no empty structs, so each dummy
 * holds a byte that nothing ever writes; create hands out the same object
 * every time and destroy leaves it alone.
 */
struct ust_osal_mutex {
	unsigned char unused;
};
struct ust_osal_cond {
	unsigned char unused;
};
static struct ust_osal_mutex bm_mutex;
static struct ust_osal_cond bm_cond;

struct ust_osal_mutex *
ust_osal_mutex_create(void)
{
	return (&bm_mutex);
}

void
ust_osal_mutex_destroy(struct ust_osal_mutex *mtx)
{
	(void)mtx;
}

void
ust_osal_mutex_lock(struct ust_osal_mutex *mtx)
{
	(void)mtx;
}

void
ust_osal_mutex_unlock(struct ust_osal_mutex *mtx)
{
	(void)mtx;
}

struct ust_osal_cond *
ust_osal_cond_create(void)
{
	return (&bm_cond);
}

void
ust_osal_cond_destroy(struct ust_osal_cond *cv)
{
	(void)cv;
}

/*
 * With one context there is nobody to signal, so a wait can only end by
 * its deadline (or never).  Return at once, as after a spurious wakeup or
 * at the deadline: the caller re-checks its predicate and goes back to
 * polling the stack, which is the only thing that can make it true.
 */
void
ust_osal_cond_wait(struct ust_osal_cond *cv, struct ust_osal_mutex *mtx)
{
	(void)cv;
	(void)mtx;
}

int
ust_osal_cond_timedwait(struct ust_osal_cond *cv, struct ust_osal_mutex *mtx, uint64_t deadline_ns)
{
	(void)cv;
	(void)mtx;
	(void)deadline_ns;
	return (UST_ETIMEDOUT);
}

void
ust_osal_cond_signal(struct ust_osal_cond *cv)
{
	(void)cv;
}

void
ust_osal_cond_broadcast(struct ust_osal_cond *cv)
{
	(void)cv;
}

/* ---------------------------------------------------------------------
 * Threads: none here (groups of stacks run with threads = 0).
 * ------------------------------------------------------------------- */

int
ust_osal_thread_create(struct ust_osal_thread **out, void (*fn)(void *arg), void *arg, int cpu,
    const char *name)
{
	(void)fn, (void)arg, (void)cpu, (void)name;
	*out = NULL;
	return (-UST_EOPNOTSUPP);
}

void
ust_osal_thread_join(struct ust_osal_thread *t)
{
	(void)t;
}

uintptr_t
ust_osal_thread_self(void)
{
	return (1); /* one thread */
}

unsigned
ust_osal_ncpus(void)
{
	return (1);
}

/* A flag an interrupt handler may set (plain loads and stores only:
 * ARMv6-M has no atomic read-modify-write).  A wake between the test and
 * the clear below is taken by this wait, never lost for the next. */
struct ust_osal_waiter {
	volatile int woken;
};

struct ust_osal_waiter *
ust_osal_waiter_create(void)
{
	struct ust_osal_waiter *w = ust_osal_mem_alloc(sizeof(*w));

	if (w != NULL)
		w->woken = 0;
	return (w);
}

void
ust_osal_waiter_destroy(struct ust_osal_waiter *w)
{
	if (w != NULL)
		ust_osal_mem_free(w, sizeof(*w));
}

void
ust_osal_waiter_wake(struct ust_osal_waiter *w)
{
	w->woken = 1;
}

int
ust_osal_waiter_wait(struct ust_osal_waiter *w, const int *fds, unsigned nfds, uint64_t deadline_ns)
{
	(void)fds, (void)nfds;
	for (;;) {
		if (w->woken) {
			w->woken = 0;
			return (1);
		}
		if (ust_osal_clock_ns() >= deadline_ns)
			return (0);
	}
}

/*
 * Board hooks: weak defaults that a board's strong definitions replace.
 * GCC never inlines a weak function, so the calls below always reach the
 * definition the linker picked.
 */
__attribute__((weak)) uint64_t
ust_board_clock_ns(void)
{
	/* The board's missing timer, counted in software (machine state). */
	static uint64_t fallback_ns;

	fallback_ns += UST_BAREMETAL_FALLBACK_TICK_NS;
	return (fallback_ns);
}

__attribute__((weak)) int
ust_board_entropy(void *buf, size_t len)
{
	(void)buf;
	(void)len;
	return (UST_EIO);
}

__attribute__((weak)) void
ust_board_putc(int c)
{
	(void)c;
}

__attribute__((weak)) void
ust_board_panic(const char *msg)
{
	(void)msg;
}

uint64_t
ust_osal_clock_ns(void)
{
	return (ust_board_clock_ns());
}

int
ust_osal_entropy(void *buf, size_t len)
{
	if (len == 0)
		return (0);
	return (ust_board_entropy(buf, len));
}

static void
bm_puts(const char *s)
{
	while (*s != '\0')
		ust_board_putc((unsigned char)*s++);
}

/* One line per call; the board's putc turns '\n' into "\r\n" if its
 * terminal wants it. */
void
ust_osal_log_write(int level, const char *line)
{
	(void)level;
	bm_puts(line);
	ust_board_putc('\n');
}

void
ust_osal_panic(const char *msg)
{
	bm_puts("ustack panic: ");
	bm_puts(msg);
	ust_board_putc('\n');
	/* The board's last word: a breakpoint, a reset, a semihosting exit
	 * (QEMU tests end the run with a failure here). */
	ust_board_panic(msg);
	/* Nothing to return to: park here for the debugger or the watchdog. */
	for (;;)
		__asm__ volatile("" ::: "memory");
}
