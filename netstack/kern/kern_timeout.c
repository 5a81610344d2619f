/*
 * kern_timeout.c - the callout wheel: FreeBSD's callout(9) interface on a
 * hierarchical timing wheel (Varghese & Lauck, scheme 7) driven by the
 * stack clock, which the caller passes in as absolute nanoseconds.
 *
 * Call order:
 *   callout_wheel_init()                      once per stack
 *   callout_init()                            once per embedded callout
 *   callout_reset() / callout_reset_at()      arm or re-arm, O(1)
 *   callout_stop()                            cancel, O(1)
 *   ust_stack_poll() -> callout_process(now)  run what is due
 *   ust_stack_next_deadline() -> callout_next_deadline()
 *
 * Geometry.  Times are kept in ticks since the wheel's origin; a callout's
 * tick is its time rounded UP to a tick, so it never runs early.  Level 0
 * has CALLOUT_L0_SLOTS slots of one tick; level k >= 1 has CALLOUT_LN_SLOTS
 * slots of 2^shift(k) ticks each.  Where a callout sits is decided by the
 * highest bits in which its tick differs from cw_now (the last tick
 * processed):
 *
 *   level k < top: the tick agrees with cw_now above shift(k + 1) and is
 *       in a later level-k slot than cw_now's, so every slot of these
 *       levels at or before cw_now's index is empty and each slot covers
 *       exactly one aligned range of ticks;
 *   top level:     a ring of CALLOUT_LN_SLOTS blocks after cw_now's block;
 *       a callout further out than the ring reaches sits in the farthest
 *       slot (the one just behind cw_now's) and is placed again when that
 *       slot is cascaded, so it may hop round the ring more than once.
 *
 * Hence everything on level k is due before everything on level k + 1,
 * and the earliest pending callout is in the first occupied slot found by
 * scanning the occupancy bitmaps level by level from cw_now's position:
 * O(levels * bitmap words) however far away it is.  callout_process()
 * jumps cw_now straight to that slot (never walking empty ticks, so a
 * two-hour jump costs the callouts in it, not 7.2 million ticks), cascades
 * the slot down if it is on an outer level, runs level 0's slot for that
 * tick, and repeats until the next slot starts after `now`.
 *
 * Level 0's slot for cw_now itself is never used by a future callout, so
 * it holds the late ones: callouts armed at or before the tick already
 * processed (delay 0, or a time in the past).  They run at the start of the
 * next callout_process() whatever its `now`, and move along with cw_now.
 *
 * Bucket lists are doubly linked through c_next/c_pprev and kept newest
 * first; a slot is reversed when it is run or cascaded, so callouts due in
 * the same tick run in the order they were armed.
 *
 * Flags follow FreeBSD: callout_reset() sets PENDING and ACTIVE;
 * callout_stop() clears both; when a callout fires PENDING is cleared
 * before its function runs and ACTIVE is left set, so the function (or
 * its owner, later) can tell "fired" (active, not pending) from "stopped"
 * (neither) and clears it with callout_deactivate().
 *
 * A callout function may re-arm itself, arm or stop any callout, including
 * ones due in the same pass: the due slot is detached onto a local list
 * whose back links are real, so callout_stop()/callout_reset() unlink an
 * entry from it like from any bucket, and entries are taken one at a time.
 * A callout armed from a function for a tick already processed runs on a
 * later tick of the same pass or on the next callout_process(), never in
 * the current tick again, so a callout re-arming itself with delay 0 cannot
 * loop.  callout_process() must not be called from a callout function.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kern/callout.h"

_Static_assert(UST_CALLOUT_LEVELS >= 2 && UST_CALLOUT_LEVELS <= 15,
    "UST_CALLOUT_LEVELS must be 2..15");
_Static_assert(UST_CALLOUT_L0_BITS >= 1 && UST_CALLOUT_L0_BITS <= 12,
    "UST_CALLOUT_L0_BITS must be 1..12");
_Static_assert(UST_CALLOUT_LN_BITS >= 1 && UST_CALLOUT_LN_BITS <= 12,
    "UST_CALLOUT_LN_BITS must be 1..12");
_Static_assert(UST_CALLOUT_L0_BITS + (UST_CALLOUT_LEVELS - 1) * UST_CALLOUT_LN_BITS < 64,
    "callout wheel spans more than 64 bits of ticks");

#define CW_TOP (UST_CALLOUT_LEVELS - 1)
#define CW_L0_MASK ((uint64_t)CALLOUT_L0_SLOTS - 1)
#define CW_LN_MASK ((uint64_t)CALLOUT_LN_SLOTS - 1)
#define CW_MAP_WORDS(n) (((n) + 63) / 64)

/* c_bucket: level in the top four bits, slot below (both fit by the
 * assertions above); CW_BUCKET_DUE marks the local list of a pass. */
#define CW_BUCKET(level, slot) ((uint16_t)(((unsigned)(level) << 12) | (unsigned)(slot)))
#define CW_BUCKET_LEVEL(b) ((unsigned)(b) >> 12)
#define CW_BUCKET_SLOT(b) ((unsigned)(b)&0xfffu)
#define CW_BUCKET_DUE 0xffffu

/* Ticks covered by one slot of level k, as a shift. */
static inline unsigned
cw_shift(unsigned k)
{
	if (k == 0)
		return (0);
	return (UST_CALLOUT_L0_BITS + (k - 1) * UST_CALLOUT_LN_BITS);
}

static inline struct callout **
cw_head(struct callout_wheel *cw, unsigned level, unsigned slot)
{
	if (level == 0)
		return (&cw->cw_l0[slot]);
	return (&cw->cw_ln[level - 1][slot]);
}

static inline uint64_t *
cw_map(struct callout_wheel *cw, unsigned level)
{
	if (level == 0)
		return (cw->cw_l0_map);
	return (cw->cw_ln_map[level - 1]);
}

/* First set bit at index >= from in an nbits-wide map, or nbits. */
static unsigned
cw_map_find(const uint64_t *map, unsigned nbits, unsigned from)
{
	unsigned w;
	uint64_t bits;

	if (from >= nbits)
		return (nbits);
	w = from / 64;
	bits = map[w] & (~(uint64_t)0 << (from % 64));
	for (;;) {
		if (bits != 0)
			return (w * 64 + (unsigned)__builtin_ctzll(bits));
		if (++w >= CW_MAP_WORDS(nbits))
			return (nbits);
		bits = map[w];
	}
}

static inline void
cw_map_set(uint64_t *map, unsigned slot)
{
	map[slot / 64] |= (uint64_t)1 << (slot % 64);
}

static inline void
cw_map_clear(uint64_t *map, unsigned slot)
{
	map[slot / 64] &= ~((uint64_t)1 << (slot % 64));
}

/* Time to tick, rounded up: a callout never runs before its time. */
static uint64_t
cw_tick_ceil(const struct callout_wheel *cw, uint64_t when_ns)
{
	uint64_t d, q;

	if (when_ns <= cw->cw_origin_ns)
		return (0);
	d = when_ns - cw->cw_origin_ns;
	q = d / cw->cw_tick_ns;
	if (q * cw->cw_tick_ns != d)
		q++;
	return (q);
}

/* Time to tick, rounded down: the last tick whose time has come. */
static uint64_t
cw_tick_floor(const struct callout_wheel *cw, uint64_t now_ns)
{
	if (now_ns <= cw->cw_origin_ns)
		return (0);
	return ((now_ns - cw->cw_origin_ns) / cw->cw_tick_ns);
}

/* Tick to time; a tick past the end of 64-bit time saturates. */
static uint64_t
cw_tick_to_ns(const struct callout_wheel *cw, uint64_t tick)
{
	if (tick > (UINT64_MAX - cw->cw_origin_ns) / cw->cw_tick_ns)
		return (UINT64_MAX);
	return (cw->cw_origin_ns + tick * cw->cw_tick_ns);
}

static void
cw_link(struct callout_wheel *cw, struct callout *c, unsigned level, unsigned slot)
{
	struct callout **head = cw_head(cw, level, slot);

	c->c_next = *head;
	if (c->c_next != NULL)
		c->c_next->c_pprev = &c->c_next;
	c->c_pprev = head;
	*head = c;
	c->c_bucket = CW_BUCKET(level, slot);
	cw_map_set(cw_map(cw, level), slot);
}

static void
cw_unlink(struct callout_wheel *cw, struct callout *c)
{
	*c->c_pprev = c->c_next;
	if (c->c_next != NULL)
		c->c_next->c_pprev = c->c_pprev;
	/* A bucket that became empty leaves the bitmap, or scans would stop
	 * at it; the local due list of a pass has no bit. */
	if (c->c_bucket != CW_BUCKET_DUE) {
		unsigned level = CW_BUCKET_LEVEL(c->c_bucket);
		unsigned slot = CW_BUCKET_SLOT(c->c_bucket);

		if (*cw_head(cw, level, slot) == NULL)
			cw_map_clear(cw_map(cw, level), slot);
	}
	c->c_next = NULL;
	c->c_pprev = NULL;
}

/* Puts c in the bucket its c_tick belongs to relative to cw_now (see the
 * invariants in the header comment). */
static void
cw_place(struct callout_wheel *cw, struct callout *c)
{
	uint64_t t = c->c_tick, now = cw->cw_now, blk, nblk;
	unsigned k;

	if (t <= now) {
		cw_link(cw, c, 0, (unsigned)(now & CW_L0_MASK));
		return;
	}
	for (k = 0; k < CW_TOP; k++) {
		if ((t >> cw_shift(k + 1)) != (now >> cw_shift(k + 1)))
			continue;
		if (k == 0)
			cw_link(cw, c, 0, (unsigned)(t & CW_L0_MASK));
		else
			cw_link(cw, c, k, (unsigned)((t >> cw_shift(k)) & CW_LN_MASK));
		return;
	}
	blk = t >> cw_shift(CW_TOP);
	nblk = now >> cw_shift(CW_TOP);
	if (blk - nblk >= CALLOUT_LN_SLOTS)
		blk = nblk + CALLOUT_LN_SLOTS - 1;
	cw_link(cw, c, CW_TOP, (unsigned)(blk & CW_LN_MASK));
}

/*
 * The first tick of the earliest occupied slot after cw_now's, with its
 * level and slot, or UINT64_MAX if the wheel holds nothing but late
 * callouts.  Exact on level 0; the start of the slot on outer levels.
 */
static uint64_t
cw_next_slot(const struct callout_wheel *cw, unsigned *levelp, unsigned *slotp)
{
	uint64_t now = cw->cw_now;
	unsigned k, cur, i, sh;

	cur = (unsigned)(now & CW_L0_MASK);
	i = cw_map_find(cw->cw_l0_map, CALLOUT_L0_SLOTS, cur + 1);
	if (i < CALLOUT_L0_SLOTS) {
		*levelp = 0;
		*slotp = i;
		return ((now & ~CW_L0_MASK) | i);
	}
	for (k = 1; k < CW_TOP; k++) {
		sh = cw_shift(k);
		cur = (unsigned)((now >> sh) & CW_LN_MASK);
		i = cw_map_find(cw->cw_ln_map[k - 1], CALLOUT_LN_SLOTS, cur + 1);
		if (i < CALLOUT_LN_SLOTS) {
			*levelp = k;
			*slotp = i;
			return (
			    ((now >> cw_shift(k + 1)) << cw_shift(k + 1)) | ((uint64_t)i << sh));
		}
	}
	/* The top level is a ring starting just after cw_now's block; its
	 * own slot is never occupied. */
	sh = cw_shift(CW_TOP);
	cur = (unsigned)((now >> sh) & CW_LN_MASK);
	i = cw_map_find(cw->cw_ln_map[CW_TOP - 1], CALLOUT_LN_SLOTS, cur + 1);
	if (i >= CALLOUT_LN_SLOTS) {
		i = cw_map_find(cw->cw_ln_map[CW_TOP - 1], CALLOUT_LN_SLOTS, 0);
		if (i >= cur)
			return (UINT64_MAX);
	}
	*levelp = CW_TOP;
	*slotp = i;
	return (((now >> sh) + (((uint64_t)i - cur) & CW_LN_MASK)) << sh);
}

/*
 * Moves cw_now forward to tick t, which must not pass an occupied slot.
 * Late callouts left in the old current slot follow it to the new one,
 * behind whatever is due at t: lists run in reverse, so they still run
 * first, being the earliest due.
 */
static void
cw_advance(struct callout_wheel *cw, uint64_t t)
{
	unsigned from = (unsigned)(cw->cw_now & CW_L0_MASK);
	unsigned to = (unsigned)(t & CW_L0_MASK);
	struct callout *late, *c, **tailp;

	if (t <= cw->cw_now)
		return;
	cw->cw_now = t;
	late = cw->cw_l0[from];
	if (late == NULL || from == to)
		return;
	cw->cw_l0[from] = NULL;
	cw_map_clear(cw->cw_l0_map, from);
	tailp = &cw->cw_l0[to];
	while (*tailp != NULL)
		tailp = &(*tailp)->c_next;
	*tailp = late;
	late->c_pprev = tailp;
	for (c = late; c != NULL; c = c->c_next)
		c->c_bucket = CW_BUCKET(0, to);
	cw_map_set(cw->cw_l0_map, to);
}

/* Places every callout of an outer slot again relative to cw_now, oldest
 * first so that the buckets stay newest first. */
static void
cw_cascade(struct callout_wheel *cw, unsigned level, unsigned slot)
{
	struct callout **head = cw_head(cw, level, slot);
	struct callout *c, *next, *rev = NULL;

	c = *head;
	*head = NULL;
	cw_map_clear(cw_map(cw, level), slot);
	for (; c != NULL; c = next) {
		next = c->c_next;
		c->c_next = rev;
		rev = c;
	}
	for (c = rev; c != NULL; c = next) {
		next = c->c_next;
		cw_place(cw, c);
	}
}

/* Runs the callouts in cw_now's level-0 slot; returns how many ran. */
static uint64_t
cw_run_current(struct callout_wheel *cw)
{
	unsigned cur = (unsigned)(cw->cw_now & CW_L0_MASK);
	struct callout *due = NULL, *c, *next;
	uint64_t ran = 0;

	c = cw->cw_l0[cur];
	if (c == NULL)
		return (0);
	cw->cw_l0[cur] = NULL;
	cw_map_clear(cw->cw_l0_map, cur);
	/*
	 * Detach the slot onto a local list in arming order, with real back
	 * links: a callout function may stop or re-arm a later entry, which
	 * unlinks it from here, and whatever it arms for this tick lands in
	 * the (now empty) wheel slot instead of running again in this tick.
	 */
	for (; c != NULL; c = next) {
		next = c->c_next;
		c->c_next = due;
		if (due != NULL)
			due->c_pprev = &c->c_next;
		c->c_bucket = CW_BUCKET_DUE;
		due = c;
	}
	due->c_pprev = &due;
	while ((c = due) != NULL) {
		due = c->c_next;
		if (due != NULL)
			due->c_pprev = &due;
		c->c_next = NULL;
		c->c_pprev = NULL;
		/* FreeBSD: PENDING goes, ACTIVE stays until callout_deactivate(). */
		c->c_flags &= (uint16_t)~CALLOUT_PENDING;
		cw->cw_pending--;
		cw->cw_fired++;
		ran++;
		if (c->c_func != NULL)
			c->c_func(c->c_arg);
	}
	return (ran);
}

void
callout_wheel_init(struct callout_wheel *cw, uint64_t tick_ns, uint64_t now_ns)
{
	memset(cw, 0, sizeof(*cw));
	/* A zero tick would divide by zero; one nanosecond is the finest. */
	cw->cw_tick_ns = tick_ns != 0 ? tick_ns : 1;
	cw->cw_origin_ns = now_ns;
	cw->cw_now = 0;
}

void
callout_init(struct callout *c)
{
	memset(c, 0, sizeof(*c));
}

int
callout_reset_at(struct callout_wheel *cw, struct callout *c, uint64_t when_ns,
    callout_func_t *func, void *arg)
{
	int was_pending = 0;

	if (c->c_flags & CALLOUT_PENDING) {
		cw_unlink(cw, c);
		cw->cw_pending--;
		was_pending = 1;
	}
	c->c_func = func;
	c->c_arg = arg;
	c->c_tick = cw_tick_ceil(cw, when_ns);
	c->c_flags |= CALLOUT_PENDING | CALLOUT_ACTIVE;
	cw_place(cw, c);
	cw->cw_pending++;
	return (was_pending);
}

int
callout_reset(struct callout_wheel *cw, struct callout *c, uint64_t now_ns, uint64_t delay_ns,
    callout_func_t *func, void *arg)
{
	uint64_t when_ns;

	/* Saturate: a delay past the end of time means never. */
	if (delay_ns > UINT64_MAX - now_ns)
		when_ns = UINT64_MAX;
	else
		when_ns = now_ns + delay_ns;
	return (callout_reset_at(cw, c, when_ns, func, arg));
}

int
callout_stop(struct callout_wheel *cw, struct callout *c)
{
	int was_pending = 0;

	if (c->c_flags & CALLOUT_PENDING) {
		cw_unlink(cw, c);
		cw->cw_pending--;
		was_pending = 1;
	}
	c->c_flags &= (uint16_t) ~(CALLOUT_PENDING | CALLOUT_ACTIVE);
	return (was_pending);
}

uint64_t
callout_process(struct callout_wheel *cw, uint64_t now_ns)
{
	uint64_t target, t, ran;
	unsigned level, slot;

	/* A clock that stepped back does not move the wheel back; late
	 * callouts still run. */
	target = cw_tick_floor(cw, now_ns);
	if (target < cw->cw_now)
		target = cw->cw_now;
	ran = cw_run_current(cw);
	/* Still in the tick of the last call (a busy-polling loop comes back
	 * within microseconds): every other slot lies after it, so the
	 * search below could find nothing due. */
	if (target == cw->cw_now)
		return (ran);
	for (;;) {
		t = cw_next_slot(cw, &level, &slot);
		if (t > target)
			break;
		cw_advance(cw, t);
		if (level != 0)
			cw_cascade(cw, level, slot);
		ran += cw_run_current(cw);
	}
	/* Nothing is due until after target, so no bucket moves. */
	cw_advance(cw, target);
	return (ran);
}

uint64_t
callout_next_deadline(const struct callout_wheel *cw)
{
	unsigned level, slot;
	uint64_t t;

	if (cw->cw_pending == 0)
		return (UINT64_MAX);
	/* Late callouts are due now (at the time of the last tick run). */
	if (cw->cw_l0[cw->cw_now & CW_L0_MASK] != NULL)
		t = cw->cw_now;
	else
		t = cw_next_slot(cw, &level, &slot);
	if (t == UINT64_MAX)
		return (UINT64_MAX);
	return (cw_tick_to_ns(cw, t));
}
