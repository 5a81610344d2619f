/*
 * zc_ring.c - compiled into the cffi extension ustack._ffi (not into
 * libustack): the completion ring of Socket.send_zc, declared for Python
 * in cdef/91_python_zc.h.  A completion never runs Python under a stack's
 * lock (on a stack's thread that would invert the GIL and the stack
 * lock): ust_py_zc_done, the done function of every send_zc, pushes the
 * send's id; Python reaps at its next call.  Single producer (done
 * functions, serialised by the stack lock), single consumer (Python,
 * under its own lock); release/acquire order the entries.
 */
#include <stdatomic.h>
#include <stdlib.h>

struct ust_py_zc_ring {
	uint32_t mask;
	_Atomic uint32_t head; /* next entry the producer fills */
	_Atomic uint32_t tail; /* next entry the consumer takes */
	_Atomic uint64_t overflows;
	uint64_t *ids;
	int32_t *status;
};

struct ust_py_zc_tok {
	struct ust_py_zc_ring *ring;
	uint64_t id;
};

static struct ust_py_zc_ring *
ust_py_zc_ring_new(uint32_t cap)
{
	struct ust_py_zc_ring *r;

	if (cap == 0 || (cap & (cap - 1)) != 0)
		return (NULL);
	r = calloc(1, sizeof(*r));
	if (r == NULL)
		return (NULL);
	r->ids = calloc(cap, sizeof(*r->ids));
	r->status = calloc(cap, sizeof(*r->status));
	if (r->ids == NULL || r->status == NULL) {
		free(r->ids);
		free(r->status);
		free(r);
		return (NULL);
	}
	r->mask = cap - 1;
	return (r);
}

static void
ust_py_zc_ring_free(struct ust_py_zc_ring *r)
{
	if (r == NULL)
		return;
	free(r->ids);
	free(r->status);
	free(r);
}

static void
ust_py_zc_done(void *arg, const void *buf, size_t len, int status)
{
	const struct ust_py_zc_tok *t = arg;
	struct ust_py_zc_ring *r = t->ring;
	uint32_t h = atomic_load_explicit(&r->head, memory_order_relaxed);

	(void)buf;
	(void)len;
	if (h - atomic_load_explicit(&r->tail, memory_order_acquire) > r->mask) {
		atomic_fetch_add_explicit(&r->overflows, 1, memory_order_relaxed);
		return;
	}
	r->ids[h & r->mask] = t->id;
	r->status[h & r->mask] = status;
	atomic_store_explicit(&r->head, h + 1, memory_order_release);
}

static size_t
ust_py_zc_reap(struct ust_py_zc_ring *r, uint64_t *ids, int32_t *status, size_t max)
{
	uint32_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t h = atomic_load_explicit(&r->head, memory_order_acquire);
	size_t n = 0;

	while (t != h && n < max) {
		ids[n] = r->ids[t & r->mask];
		status[n] = r->status[t & r->mask];
		n++;
		t++;
	}
	atomic_store_explicit(&r->tail, t, memory_order_release);
	return (n);
}

static uint64_t
ust_py_zc_overflows(const struct ust_py_zc_ring *r)
{
	return (atomic_load_explicit(&((struct ust_py_zc_ring *)(uintptr_t)r)->overflows,
	    memory_order_relaxed));
}
