/*
 * The C fast path of blocking socket calls (python_bindings/ext/wait.c):
 * ust_py_wait tries a recv/send/accept/connect and, while it would block,
 * polls every stack of a world and moves its virtual clock as
 * ustack.world's loop does, returning to Python at the idle moments that
 * loop handles itself.  Python callbacks call ust_py_wait_note() when
 * they store an exception (and Stack.close when it frees a stack), so
 * that the wait stops after that poll.
 */
static const ptrdiff_t ust_py_wait_more;
#define UST_PY_WAIT_DONE 0
#define UST_PY_WAIT_IDLE 1
#define UST_PY_WAIT_ERROR 2
#define UST_PY_WAIT_STEPS 3
#define UST_PY_WAIT_NOTED 4
#define UST_PY_WAIT_YIELD 5
#define UST_PY_WAIT_FOREVER -1
#define UST_PY_WAIT_NOW -2
#define UST_PY_OP_RECV 1
#define UST_PY_OP_SEND 2
#define UST_PY_OP_ACCEPT 3
#define UST_PY_OP_CONNECT 4
struct ust_py_world {
	struct ust_stack **stacks;
	uint32_t nstacks;
	struct ust_vclock *vc;
	uint64_t tick_ns;
	uint64_t errors_seen;
	uint64_t repeat_min_jump;
	uint32_t repeat_every;
	uint64_t max_steps;
	uint64_t last_ns;
	uint64_t bumps;
};
struct ust_py_op {
	int op;
	struct ust_socket *so;
	void *buf;
	size_t len;
	int flags;
	struct ust_mbuf *chain;
	const void *data;
	struct ust_socket *newso;
	struct ust_sockaddr *addr;
	ust_socklen_t addrlen;
	ptrdiff_t result;
	int64_t timeout_ns;
	int solo;
	uint64_t start;
	int has_limit;
	uint64_t limit;
	int watch;
	uint64_t steps;
	uint64_t idle_moments;
	uint64_t c_idles;
	uint64_t works;
	uint64_t now;
	uint64_t nd;
};
void ust_py_wait_note(void);
uint64_t ust_py_wait_notes(void);
ptrdiff_t ust_py_wait_call(struct ust_py_world *w, struct ust_py_op *o, int op, char *buf,
    size_t len, int64_t timeout_ns);
uint64_t ust_py_wait_waits(void);
int ust_py_wait_resume(struct ust_py_world *w, struct ust_py_op *o);
int ust_py_wait_try(struct ust_py_op *o);
