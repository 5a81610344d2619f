/*
 * Callbacks from C into Python (cffi extern "Python").  Each takes a
 * ffi.new_handle() as its void * argument; the Python side keeps the handle
 * alive for as long as C may call back with it.  Exceptions raised inside are
 * stored and re-raised after the C call that triggered them returns.
 */

/* ust_if_input_fn: a raw-frame input hook. */
extern "Python" int _ust_py_input_hook(void *arg, struct ust_if *ifp,
    const struct ust_mbuf *m);
/* ust_capture_fn: a Python capture tap. */
extern "Python" void _ust_py_capture(void *arg, struct ust_if *ifp, int dir, uint64_t ts_ns,
    const struct ust_mbuf *m);
/* ust_log_fn: stack log lines into the logging module. */
extern "Python" void _ust_py_log(void *arg, int level, const char *line);
/* ust_upcall_fn: a socket's readiness upcall. */
extern "Python" void _ust_py_upcall(void *arg, struct ust_socket *so, uint32_t events);
