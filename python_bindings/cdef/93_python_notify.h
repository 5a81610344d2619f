/*
 * Socket.fileno() (python_bindings/ext/notify.c): a socketpair per socket
 * whose end ufd is readable exactly when the ustack socket has EV_IN, ERR
 * or HUP and writable exactly when it has EV_OUT, ERR or HUP, kept so by
 * the socket's upcall and by ust_py_fd_refresh after Python's own calls.
 */
/* ustack.h: the socket's UST_EV_* set, fn(arg, so, set) called under the
 * stack lock first when not NULL. */
uint32_t ust_socket_events(struct ust_socket *so, ust_upcall_fn fn, void *arg);

struct ust_py_fd;
/* A new pair (NULL with errno set on failure). */
struct ust_py_fd *ust_py_fd_new(void);
int ust_py_fd_fileno(const struct ust_py_fd *f);
/* The set last applied, and how many sets were applied (tests). */
uint32_t ust_py_fd_events(const struct ust_py_fd *f);
uint64_t ust_py_fd_applies(const struct ust_py_fd *f);
void ust_py_fd_apply(struct ust_py_fd *f, uint32_t events);
/* ust_upcall_fn with a struct ust_py_fd * as arg: apply, then the chain. */
void ust_py_fd_upcall(void *arg, struct ust_socket *so, uint32_t events);
void ust_py_fd_attach(struct ust_socket *so, struct ust_py_fd *f, ust_upcall_fn fn, void *arg);
void ust_py_fd_set_chain(struct ust_py_fd *f, ust_upcall_fn fn, void *arg);
uint32_t ust_py_fd_refresh(struct ust_socket *so, struct ust_py_fd *f);
void ust_py_fd_free(struct ust_py_fd *f);
