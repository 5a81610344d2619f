/*
 * wait.c - compiled into the cffi extension ustack._ffi (not into
 * libustack), declared for Python in cdef/92_python_wait.h: the C fast
 * path of blocking socket calls (ustack.world.World._fast_call, inlined in
 * ustack.sockets.Socket.recv and send).
 *
 * A blocking recv/send/accept/connect on a world of stacks without threads
 * tries the call, and while it would block polls every stack of the world
 * (in order) until all are idle, tries again after every round of polls,
 * and when all are idle moves the virtual clock to the next deadline --
 * the loop of ustack.world._Loop, without leaving C.  Whatever that loop
 * does besides, the C loop leaves to Python by returning UST_PY_WAIT_IDLE
 * at that idle moment, before doing anything: nothing pending (Deadlock
 * detection), an idle moment where the Python loop looks for a repeat, the
 * time limit reached, any idle moment on the real clock (Python sleeps, up
 * to 1 ms, releasing the lock), any while other threads exist
 * (ust_py_op.solo == 0: they may need the lock or act in the world), and
 * one in UST_PY_WAIT_IDLES_IN_C anyway so that Python handles signals.
 * Python runs that moment as its own loop does and calls back in, which
 * resumes with a round of polls, as the Python loop does after an idle
 * moment.  The state (steps, idle moments) is kept in the caller's struct
 * so that the two halves count together; two figures of the world's that
 * Python keeps (its generation, the time of its user's last call) are
 * counted in struct ust_py_world, which Python folds in when it looks.
 *
 * Python callbacks (upcalls, input and capture hooks, log lines) run inside
 * ust_stack_poll and report the exceptions they raise into their stack's
 * list; they also call ust_py_wait_note(), which bumps a counter the
 * loop compares after each poll, so that an exception propagates right
 * after the poll that raised it, as Stack.poll() raises it.  Closing a
 * stack notes too (a callback may close another stack of the world): the
 * loop then hands over before it polls a freed stack.
 */
#include <stdatomic.h>
#include <time.h>

/* Socket.recv's one copy (zc.c, later in the same translation unit). */
static ptrdiff_t ust_py_recv(struct ust_socket *so, void *scratch, size_t len, int flags,
    struct ust_mbuf **chain, const void **data);

/* Notes from Python (exceptions stored by callbacks, stacks closed), ever. */
static _Atomic uint64_t ust_py_wait_notes_total;

static void
ust_py_wait_note(void)
{
	atomic_fetch_add_explicit(&ust_py_wait_notes_total, 1, memory_order_relaxed);
}

static uint64_t
ust_py_wait_notes(void)
{
	return (atomic_load_explicit(&ust_py_wait_notes_total, memory_order_relaxed));
}

/*
 * What ust_py_wait_call returns when the call did not end: UST_PY_WAIT_MORE
 * minus one of these (a call that ended returns its own result: >= 0, or a
 * negative UST_E* code, -UST_EAGAIN when timeout_ns is UST_PY_WAIT_NOW).
 */
#define UST_PY_WAIT_MORE (-((ptrdiff_t)1 << 40))
#define UST_PY_WAIT_DONE 0  /* ust_py_wait_resume: the call ended (result) */
#define UST_PY_WAIT_IDLE 1  /* idle moment for Python: now, nd */
#define UST_PY_WAIT_ERROR 2 /* a note came: the stacks' errors, the stacks */
#define UST_PY_WAIT_STEPS 3 /* more than max_steps rounds of polls */
#define UST_PY_WAIT_NOTED 4 /* ust_py_wait_call: a note came, nothing done */
#define UST_PY_WAIT_YIELD 5 /* nothing to do: back to Python for its signals */

/* Idle moments, and rounds of polls, the C loop runs before it lets Python
 * run (a pending signal such as Ctrl-C is handled only there). */
#define UST_PY_WAIT_IDLES_IN_C 64
#define UST_PY_WAIT_STEPS_IN_C 4096

#define UST_PY_WAIT_FOREVER (-1) /* timeout_ns: no limit */
#define UST_PY_WAIT_NOW (-2)     /* timeout_ns: a non-blocking call */

static const ptrdiff_t ust_py_wait_more = UST_PY_WAIT_MORE;

/* Blocking calls that waited in C, ever (process-wide): tests look. */
static _Atomic uint64_t ust_py_wait_waits_total;

static uint64_t
ust_py_wait_waits(void)
{
	return (atomic_load_explicit(&ust_py_wait_waits_total, memory_order_relaxed));
}

#define UST_PY_OP_RECV 1    /* ust_py_recv(so, buf, len, flags, &chain, &data) */
#define UST_PY_OP_SEND 2    /* ust_send(so, buf, len, flags) */
#define UST_PY_OP_ACCEPT 3  /* ust_accept(so, &newso, addr, &addrlen) */
#define UST_PY_OP_CONNECT 4 /* SO_ERROR (result > 0), else connected (0) */

/* The world: its stacks in poll order and their clock. */
struct ust_py_world {
	struct ust_stack **stacks;
	uint32_t nstacks;
	struct ust_vclock *vc; /* NULL: the real clock */
	uint64_t tick_ns;      /* the smallest tick of the stacks (>= 1) */
	uint64_t errors_seen;  /* ust_py_wait_notes() Python has looked at */
	uint64_t repeat_min_jump;
	uint32_t repeat_every;
	uint64_t max_steps; /* rounds of polls a wait may take (0: no bound) */
	/* Python's bookkeeping, kept here so that a call costs it nothing
	 * (World._fast_fold adds them to the Python figures): */
	uint64_t last_ns; /* CLOCK_MONOTONIC(_COARSE) at the end of the last call */
	uint64_t bumps;   /* rounds with work + clock moves (the generation) */
};

/* One blocking call: the operation and the wait's state. */
struct ust_py_op {
	int op;
	struct ust_socket *so;
	void *buf;
	size_t len;
	int flags;
	struct ust_mbuf *chain;    /* OP_RECV: as ust_py_recv */
	const void *data;          /* OP_RECV: as ust_py_recv */
	struct ust_socket *newso;  /* OP_ACCEPT */
	struct ust_sockaddr *addr; /* OP_ACCEPT: a ust_sockaddr_storage */
	ust_socklen_t addrlen;     /* OP_ACCEPT: in/out */
	ptrdiff_t result;          /* DONE: the call's return value */
	/* the wait */
	int64_t timeout_ns; /* of the wait (UST_PY_WAIT_FOREVER: none) */
	int solo;           /* no other thread may need the lock or the world */
	/* set by the first call */
	uint64_t start; /* when the wait began */
	int has_limit;
	uint64_t limit; /* start + timeout_ns */
	int watch;      /* repeat detection on (virtual clock, no limit) */
	uint64_t steps;
	uint64_t idle_moments;
	uint64_t c_idles; /* idle moments the C loop ran */
	uint64_t works;   /* rounds with work */
	uint64_t now;     /* IDLE: time, next deadline (UINT64_MAX: none) */
	uint64_t nd;
};

static ptrdiff_t
ust_py_wait_attempt(struct ust_py_op *o)
{
	switch (o->op) {
	case UST_PY_OP_RECV:
		o->chain = NULL;
		return (ust_py_recv(o->so, o->buf, o->len, o->flags, &o->chain, &o->data));
	case UST_PY_OP_SEND:
		return (ust_send(o->so, o->buf, o->len, o->flags));
	case UST_PY_OP_ACCEPT:
		o->newso = NULL;
		o->addrlen = (ust_socklen_t)sizeof(struct ust_sockaddr_storage);
		return (ust_accept(o->so, &o->newso, o->addr, &o->addrlen));
	case UST_PY_OP_CONNECT: {
		int err = 0;
		size_t elen = sizeof(err);
		struct ust_sockaddr_storage ss;
		ust_socklen_t sl = sizeof(ss);
		int rc = ust_getsockopt(o->so, UST_SOL_SOCKET, UST_SO_ERROR, &err, &elen);

		if (rc < 0)
			return (rc);
		if (err != 0)
			return (err);
		if (ust_getpeername(o->so, (struct ust_sockaddr *)&ss, &sl) == 0)
			return (0);
		return (-UST_EAGAIN);
	}
	default:
		return (-UST_EINVAL);
	}
}

/* time.monotonic(), to the few ms that THREAD_GRACE (1 s) needs: the
 * coarse clock costs a few ns where the fine one costs tens, per call. */
static uint64_t
ust_py_wait_mono(void)
{
	struct timespec ts;

#ifdef CLOCK_MONOTONIC_COARSE
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
	clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

static uint64_t
ust_py_wait_deadline(const struct ust_py_world *w)
{
	uint64_t nd = UINT64_MAX;

	for (uint32_t i = 0; i < w->nstacks; i++) {
		uint64_t d = ust_stack_next_deadline(w->stacks[i]);
		if (d < nd)
			nd = d;
	}
	return (nd);
}

/*
 * Resume a wait after an idle moment Python ran (or start one): waits as
 * ustack.world._Loop.run does.  Returns UST_PY_WAIT_*; the caller holds the
 * world's lock.
 */
static int
ust_py_wait_resume(struct ust_py_world *w, struct ust_py_op *o)
{
	for (;;) {
		uint64_t now, nd, target;
		int64_t jump;

		/* Poll every stack until all of them are idle. */
		for (;;) {
			int work = 0;

			o->steps++;
			if (w->max_steps != 0 && o->steps > w->max_steps)
				return (UST_PY_WAIT_STEPS);
			if (o->steps % UST_PY_WAIT_STEPS_IN_C == 0)
				return (UST_PY_WAIT_YIELD); /* signals, now and then */
			for (uint32_t i = 0; i < w->nstacks; i++) {
				int n = ust_stack_poll(w->stacks[i]);

				if (n > 0)
					work += n;
				if (ust_py_wait_notes() != w->errors_seen) {
					if (work) {
						w->bumps++;
						o->works++;
					}
					return (UST_PY_WAIT_ERROR);
				}
			}
			if (work) {
				w->bumps++;
				o->works++;
			}
			o->result = ust_py_wait_attempt(o);
			if (o->result != -UST_EAGAIN)
				return (UST_PY_WAIT_DONE);
			if (work == 0)
				break;
		}
		now = ust_stack_now(w->stacks[0]);
		nd = ust_py_wait_deadline(w);
		o->now = now;
		o->nd = nd;
		/* Python's: the real clock's sleeps (_COND.wait, which lets
		 * other threads in and signals be handled), waits that other
		 * threads may need to see, nothing pending, and every so often
		 * a moment anyway, so that Python handles signals (Ctrl-C). */
		if (!o->solo || w->vc == NULL || nd == UINT64_MAX ||
		    ++o->c_idles % UST_PY_WAIT_IDLES_IN_C == 0)
			return (UST_PY_WAIT_IDLE);
		jump = nd >= now ? (int64_t)(nd - now) : -(int64_t)(now - nd);
		if (o->watch) {
			if (jump >= (int64_t)w->repeat_min_jump ||
			    (o->idle_moments + 1) % w->repeat_every == 0)
				return (UST_PY_WAIT_IDLE);
			o->idle_moments++;
		}
		if (o->has_limit && nd > o->limit) {
			if (now >= o->limit)
				return (UST_PY_WAIT_IDLE);
			target = o->limit;
		} else {
			target = nd > now ? nd : now + w->tick_ns;
		}
		ust_vclock_set(w->vc, target);
		w->bumps++;
	}
}

/* The call once more (the Python loop's predicate): 1 when it ended. */
static int
ust_py_wait_try(struct ust_py_op *o)
{
	o->result = ust_py_wait_attempt(o);
	return (o->result != -UST_EAGAIN);
}

/*
 * A blocking call: op (UST_PY_OP_*) on o->so with buf/len (RECV, SEND),
 * tried once; while it would block, a wait of at most timeout_ns from now
 * (UST_PY_WAIT_FOREVER: no limit; UST_PY_WAIT_NOW: none, the call returns
 * -UST_EAGAIN; 0: polls until idle, then the limit).  Returns the
 * call's result when it ended, else UST_PY_WAIT_MORE - UST_PY_WAIT_*:
 * NOTED (before anything, when a note came since Python last looked: a
 * stack may be gone, an exception may be pending), or what
 * ust_py_wait_resume returned.  The first idle moment goes to Python,
 * which sets o->solo (no other thread may need the lock: the C loop then
 * moves the clock and sleeps by itself) before it resumes.
 */
static ptrdiff_t
ust_py_wait_call(struct ust_py_world *w, struct ust_py_op *o, int op, char *buf, size_t len,
    int64_t timeout_ns)
{
	int rc;

	if (ust_py_wait_notes() != w->errors_seen)
		return (UST_PY_WAIT_MORE - UST_PY_WAIT_NOTED);
	o->op = op;
	o->buf = buf;
	o->len = len;
	o->works = 0;
	o->result = ust_py_wait_attempt(o);
	if (o->result != -UST_EAGAIN || timeout_ns == UST_PY_WAIT_NOW) {
		w->last_ns = ust_py_wait_mono();
		return (o->result);
	}
	atomic_fetch_add_explicit(&ust_py_wait_waits_total, 1, memory_order_relaxed);
	o->timeout_ns = timeout_ns;
	o->solo = 0;
	o->start = ust_stack_now(w->stacks[0]);
	o->has_limit = timeout_ns >= 0;
	o->limit = o->has_limit ? o->start + (uint64_t)timeout_ns : 0;
	o->watch = w->vc != NULL && !o->has_limit;
	o->steps = 0;
	o->idle_moments = 0;
	o->c_idles = 0;
	rc = ust_py_wait_resume(w, o);
	w->last_ns = ust_py_wait_mono();
	return (rc == UST_PY_WAIT_DONE ? o->result : UST_PY_WAIT_MORE - rc);
}
