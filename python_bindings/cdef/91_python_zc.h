/*
 * The extension's own C helpers (python_bindings/ext/zc.c).  For ust_send_zc:
 * completions are never Python.  ust_py_zc_done, the done function of
 * every send_zc, runs on the stack's thread under its lock and only
 * pushes (id, status) onto the stack's ring; Python reaps the ring at its
 * next call and unpins the buffers.  One producer at a time (the stack
 * lock), one consumer (Python, under its own lock).
 */
struct ust_py_zc_ring;
/* A send's completion token: its ring and the id Python pinned it under. */
struct ust_py_zc_tok {
	struct ust_py_zc_ring *ring;
	uint64_t id;
};
/* A ring of cap entries (a power of two), NULL when out of memory. */
struct ust_py_zc_ring *ust_py_zc_ring_new(uint32_t cap);
void ust_py_zc_ring_free(struct ust_py_zc_ring *r);
/* ust_zc_done_fn: arg is a struct ust_py_zc_tok *. */
void ust_py_zc_done(void *arg, const void *buf, size_t len, int status);
/* Takes up to max completions: ids[i], status[i]; returns how many. */
size_t ust_py_zc_reap(struct ust_py_zc_ring *r, uint64_t *ids, int32_t *status, size_t max);
/* Completions the ring had no room for (0 unless Python outran its bound). */
uint64_t ust_py_zc_overflows(const struct ust_py_zc_ring *r);
/* Socket.recv's one copy: ust_recv_mbuf; one large buffer: *data in it,
 * *chain for Python to release after copying; else gathered into scratch
 * (*chain NULL, *data scratch).  Returns as ust_recv. */
ptrdiff_t ust_py_recv(struct ust_socket *so, void *scratch, size_t len, int flags,
    struct ust_mbuf **chain, const void **data);
