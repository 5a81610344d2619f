/*
 * zc.c - compiled into the cffi extension ustack._ffi (not into
 * libustack), declared for Python in cdef/91_python_zc.h: the completion
 * ring of Socket.send_zc, and ust_py_recv under Socket.recv.
 *
 * The ring.  A completion never runs Python under a stack's
 * lock (on a stack's thread that would invert the GIL and the stack
 * lock): ust_py_zc_done, the done function of every send_zc, pushes the
 * send's id; Python reaps at its next call.  Single producer (done
 * functions, serialised by the stack lock), single consumer (Python,
 * under its own lock); release/acquire order the entries.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * Socket.recv: the bytes it returns are made by a copy in Python, so the
 * copy into a scratch buffer first (ust_recv) is the one to avoid.  The
 * data are taken with ust_recv_mbuf; when they lie in one buffer of at
 * least UST_PY_RECV_LEND bytes, *data points into it and *chain is the
 * chain Python releases (ust_mbuf_release) after its copy: one copy in
 * all.  Otherwise they are gathered into scratch here and released at
 * once (*chain NULL, *data scratch): a small read pays no second call,
 * and a read of many small buffers costs what ust_recv costs.  Chains
 * held (recv_mbuf) may refuse a take (EAGAIN): ust_recv then reads.  A
 * read of less than UST_PY_RECV_LEND bytes, which nothing is lent for,
 * is ust_recv's at once (no chain taken and freed, no second call when
 * there is nothing to read: the blocking calls' tries, ext/wait.c).
 */
#define UST_PY_RECV_LEND 1024

static ptrdiff_t
ust_py_recv(struct ust_socket *so, void *scratch, size_t len, int flags, struct ust_mbuf **chain,
    const void **data)
{
	struct ust_mbuf *m, *p;
	ptrdiff_t n;
	size_t off = 0;

	*chain = NULL;
	*data = scratch;
	if (len < UST_PY_RECV_LEND) /* nothing would be lent: ust_recv's one copy */
		return (ust_recv(so, scratch, len, flags));
	n = ust_recv_mbuf(so, &m, len, flags);
	if (n == -UST_EAGAIN || n == -UST_EINVAL) /* held chains, or MSG_PEEK/OOB */
		return (ust_recv(so, scratch, len, flags));
	if (n <= 0)
		return (n);
	if (ust_mbuf_next(m) == NULL && ust_mbuf_len(m) >= UST_PY_RECV_LEND) {
		*chain = m;
		*data = ust_mbuf_data(m);
		return (n);
	}
	for (p = m; p != NULL; p = ust_mbuf_next(p)) {
		memcpy((char *)scratch + off, ust_mbuf_data(p), ust_mbuf_len(p));
		off += ust_mbuf_len(p);
	}
	ust_mbuf_release(so, m);
	return (n);
}
