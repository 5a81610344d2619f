/*
 * uipc_syscalls.c - the public socket API (FreeBSD kern/uipc_syscalls.c):
 * the one boundary where caller arguments are checked and the stack's
 * positive UST_E* errors become negative return values.
 *
 *   ust_socket -> socreate          ust_bind -> sobind -> pru_bind
 *   ust_sendto -> sosend            ust_recvfrom -> soreceive
 *   ust_close -> soclose            ust_setsockopt -> sosetopt
 *
 * Every call is non-blocking and runs on the stack's thread or under
 * ust_stack_lock().  A socket handle is the struct socket itself; a NULL
 * or closed handle gives -UST_EBADF, a NULL buffer -UST_EFAULT.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kern/kern_group.h"
#include "kern/socketvar.h"
#include "kern/stack_var.h"

#define ERR(e) (-(e))

/* A live socket the user still holds, or NULL. */
static struct socket *
so_get(const struct ust_socket *uso)
{
	struct socket *so = (struct socket *)(uintptr_t)uso;

	if (so == NULL || so->so_magic != SO_MAGIC || (so->so_state & SS_NOFDREF))
		return (NULL);
	return (so);
}

/*
 * An input address as the caller passed it (FreeBSD getsockaddr): at
 * least the sa_len/sa_family header, sa_len within the caller's len and
 * a struct sockaddr_storage, the socket's family.  Copied into *ss, which
 * is aligned for every family's struct; the protocol then checks sa_len
 * against its own struct (in_pcbbind: EINVAL).
 */
static int
sa_check(const struct socket *so, const struct sockaddr *sa, ust_socklen_t len,
    struct sockaddr_storage *ss)
{
	if (sa == NULL)
		return (UST_EFAULT);
	if (len < offsetof(struct sockaddr, sa_data) || len < sa->sa_len ||
	    sa->sa_len < offsetof(struct sockaddr, sa_data) || sa->sa_len > sizeof(*ss))
		return (UST_EINVAL);
	if (sa->sa_family != so->so_family)
		return (UST_EAFNOSUPPORT);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, sa, sa->sa_len);
	return (0);
}

/*
 * An output address to the caller: as much of it as *len allows (BSD
 * truncates), then *len = the size the whole address needs (sa_len; 0
 * when the protocol gave none).
 */
static int
sa_copyout(const struct sockaddr_storage *ss, struct sockaddr *sa, ust_socklen_t *len)
{
	ust_socklen_t n = ss->ss_len;

	if (sa == NULL)
		return (0);
	if (len == NULL)
		return (UST_EFAULT);
	if (n > sizeof(*ss))
		n = 0;
	memcpy(sa, ss, n < *len ? n : *len);
	*len = n;
	return (0);
}

/* The generic view of an address in storage. */
#define SS_SA(ss) ((struct sockaddr *)(void *)(ss))
#define SS_CSA(ss) ((const struct sockaddr *)(const void *)(ss))

static int
socket_call(struct ust_stack *st, int domain, int type, int protocol, struct ust_socket **out)
{
	struct socket *so;
	int error;

	if (out == NULL)
		return (ERR(UST_EFAULT));
	*out = NULL;
	if (st == NULL)
		return (ERR(UST_EINVAL));
	/* socreate: EAFNOSUPPORT for a family without a domain in this
	 * stack (AF_INET6 until netinet6 exists), then EPROTONOSUPPORT for a
	 * protocol no entry has (a negative one included). */
	error = socreate(st, domain, type, protocol, &so);
	if (error != 0)
		return (ERR(error));
	*out = SO_TO_UST(so);
	return (0);
}

static int
bind_call(struct ust_socket *uso, const struct sockaddr *addr, ust_socklen_t len)
{
	struct socket *so = so_get(uso);
	struct sockaddr_storage ss;
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if ((error = sa_check(so, addr, len, &ss)) != 0)
		return (ERR(error));
	return (ERR(sobind(so, SS_CSA(&ss))));
}

static int
connect_call(struct ust_socket *uso, const struct sockaddr *addr, ust_socklen_t len)
{
	struct socket *so = so_get(uso);
	struct sockaddr_storage ss;
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if ((error = sa_check(so, addr, len, &ss)) != 0)
		return (ERR(error));
	return (ERR(soconnect(so, SS_CSA(&ss))));
}

static int
listen_call(struct ust_socket *uso, int backlog)
{
	struct socket *so = so_get(uso);

	if (so == NULL)
		return (ERR(UST_EBADF));
	return (ERR(solisten(so, backlog)));
}

static int
accept_call(struct ust_socket *uso, struct ust_socket **out, struct sockaddr *peer,
    ust_socklen_t *len)
{
	struct socket *so = so_get(uso), *nso;
	struct sockaddr_storage ss;
	int error;

	if (out == NULL)
		return (ERR(UST_EFAULT));
	*out = NULL;
	if (so == NULL)
		return (ERR(UST_EBADF));
	if (peer != NULL && len == NULL)
		return (ERR(UST_EFAULT));
	if (so->so_type != UST_SOCK_STREAM)
		return (ERR(UST_EOPNOTSUPP));
	memset(&ss, 0, sizeof(ss));
	error = soaccept(so, &nso, SS_SA(&ss));
	if (error != 0)
		return (ERR(error));
	(void)sa_copyout(&ss, peer, len);
	*out = SO_TO_UST(nso);
	return (0);
}

static ptrdiff_t
dosend(struct ust_socket *uso, const void *buf, size_t len, int flags, const struct sockaddr *to,
    ust_socklen_t tolen)
{
	struct socket *so = so_get(uso);
	struct sockaddr_storage ss;
	size_t sent;
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (buf == NULL && len > 0)
		return (ERR(UST_EFAULT));
	if (len > (size_t)PTRDIFF_MAX)
		return (ERR(UST_EINVAL));
	/* Out-of-band data exists on streams only (TCP urgent data). */
	if ((flags & UST_MSG_OOB) && so->so_type != UST_SOCK_STREAM)
		return (ERR(UST_EOPNOTSUPP));
	if (flags & ~(UST_MSG_DONTWAIT | UST_MSG_OOB))
		return (ERR(UST_EINVAL));
	if (to != NULL && (error = sa_check(so, to, tolen, &ss)) != 0)
		return (ERR(error));
	error = sosend(so, buf, len, flags, to != NULL ? SS_CSA(&ss) : NULL, &sent);
	if (error != 0)
		return (ERR(error));
	return ((ptrdiff_t)sent);
}

static ptrdiff_t
send_call(struct ust_socket *so, const void *buf, size_t len, int flags)
{
	return (dosend(so, buf, len, flags, NULL, 0));
}

static ptrdiff_t
sendto_call(struct ust_socket *so, const void *buf, size_t len, int flags,
    const struct sockaddr *to, ust_socklen_t tolen)
{
	return (dosend(so, buf, len, flags, to, tolen));
}

static ptrdiff_t
dorecv(struct ust_socket *uso, void *buf, size_t len, int flags, struct sockaddr *from,
    ust_socklen_t *fromlen)
{
	struct socket *so = so_get(uso);
	struct sockaddr_storage ss;
	size_t got;
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (buf == NULL && len > 0)
		return (ERR(UST_EFAULT));
	if (len > (size_t)PTRDIFF_MAX)
		return (ERR(UST_EINVAL));
	if ((flags & UST_MSG_OOB) && so->so_type != UST_SOCK_STREAM)
		return (ERR(UST_EOPNOTSUPP));
	if (flags & ~(UST_MSG_PEEK | UST_MSG_DONTWAIT | UST_MSG_OOB))
		return (ERR(UST_EINVAL));
	if (from != NULL && fromlen == NULL)
		return (ERR(UST_EFAULT));
	memset(&ss, 0, sizeof(ss));
	error = soreceive(so, buf, len, flags, from != NULL ? SS_SA(&ss) : NULL, &got);
	if (error != 0)
		return (ERR(error));
	(void)sa_copyout(&ss, from, fromlen);
	return ((ptrdiff_t)got);
}

static ptrdiff_t
recv_call(struct ust_socket *so, void *buf, size_t len, int flags)
{
	return (dorecv(so, buf, len, flags, NULL, NULL));
}

static ptrdiff_t
recvfrom_call(struct ust_socket *so, void *buf, size_t len, int flags, struct sockaddr *from,
    ust_socklen_t *fromlen)
{
	return (dorecv(so, buf, len, flags, from, fromlen));
}

/* Gather sends take at most this many buffers (POSIX IOV_MAX). */
#define SO_IOV_MAX 1024

static ptrdiff_t
sendv_call(struct ust_socket *uso, const struct ust_iovec *iov, int iovcnt, int flags)
{
	struct socket *so = so_get(uso);
	size_t sent;
	int error, i;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (iovcnt < 0 || iovcnt > SO_IOV_MAX)
		return (ERR(UST_EINVAL));
	if (iov == NULL && iovcnt > 0)
		return (ERR(UST_EFAULT));
	for (i = 0; i < iovcnt; i++)
		if (iov[i].iov_base == NULL && iov[i].iov_len > 0)
			return (ERR(UST_EFAULT));
	if ((flags & UST_MSG_OOB) && so->so_type != UST_SOCK_STREAM)
		return (ERR(UST_EOPNOTSUPP));
	if (flags & ~(UST_MSG_DONTWAIT | UST_MSG_OOB))
		return (ERR(UST_EINVAL));
	error = sosendv(so, iov, iovcnt, flags, &sent);
	if (error != 0)
		return (ERR(error));
	return ((ptrdiff_t)sent);
}

static ptrdiff_t
send_zc_call(struct ust_socket *uso, const void *buf, size_t len, int flags, ust_zc_done_fn done,
    void *arg)
{
	struct socket *so = so_get(uso);
	size_t sent;
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (buf == NULL && len > 0)
		return (ERR(UST_EFAULT));
	if (done == NULL || len > (size_t)PTRDIFF_MAX)
		return (ERR(UST_EINVAL));
	/* Lent bytes are stream or datagram data, never urgent data. */
	if (flags & ~UST_MSG_DONTWAIT)
		return (ERR(UST_EINVAL));
	error = sosend_zc(so, buf, len, flags, done, arg, &sent);
	if (error != 0)
		return (ERR(error));
	return ((ptrdiff_t)sent);
}

static ptrdiff_t
recv_mbuf_call(struct ust_socket *uso, struct ust_mbuf **chain, size_t max, int flags,
    struct sockaddr *from, ust_socklen_t *fromlen)
{
	struct socket *so = so_get(uso);
	struct sockaddr_storage ss;
	struct mbuf *m;
	size_t got;
	int error;

	if (chain == NULL)
		return (ERR(UST_EFAULT));
	*chain = NULL;
	if (so == NULL)
		return (ERR(UST_EBADF));
	if (max > (size_t)PTRDIFF_MAX)
		return (ERR(UST_EINVAL));
	/* A chain taken out cannot also stay queued: no MSG_PEEK; and no
	 * MSG_OOB (the urgent byte is not in so_rcv). */
	if (flags & ~UST_MSG_DONTWAIT)
		return (ERR(UST_EINVAL));
	if (from != NULL && fromlen == NULL)
		return (ERR(UST_EFAULT));
	memset(&ss, 0, sizeof(ss));
	error = soreceive_mbuf(so, &m, max, flags, from != NULL ? SS_SA(&ss) : NULL, &got);
	if (error != 0)
		return (ERR(error));
	(void)sa_copyout(&ss, from, fromlen);
	*chain = (struct ust_mbuf *)(void *)m;
	return ((ptrdiff_t)got);
}

/* The stack whose zones an mbuf came from (every mbuf a socket hands out
 * is its stack's: struct ust_stack embeds them). */
static struct ust_stack *
mbuf_stack(const struct ust_mbuf *um)
{
	const struct mbuf *m = (const struct mbuf *)(const void *)um;

	return (
	    (struct ust_stack *)(void *)((char *)m->m_zones - offsetof(struct ust_stack, st_mbz)));
}

static int
mbuf_release_call(struct ust_socket *uso, struct ust_mbuf *chain)
{
	struct socket *so = so_get(uso);
	struct ust_stack *st = mbuf_stack(chain);

	/* A socket closed since (or another one now) is not charged. */
	so_mbuf_release(so != NULL && so->so_stack == st ? so : NULL, (struct mbuf *)(void *)chain);
	return (0);
}

static int
shutdown_call(struct ust_socket *uso, int how)
{
	struct socket *so = so_get(uso);

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (how != UST_SHUT_RD && how != UST_SHUT_WR && how != UST_SHUT_RDWR)
		return (ERR(UST_EINVAL));
	return (ERR(soshutdown(so, how)));
}

static int
close_call(struct ust_socket *uso)
{
	struct socket *so = so_get(uso);

	if (so == NULL)
		return (ERR(UST_EBADF));
	return (ERR(soclose(so)));
}

static int
getsockname_call(struct ust_socket *uso, struct sockaddr *addr, ust_socklen_t *len)
{
	struct socket *so = so_get(uso);
	struct sockaddr_storage ss;
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (addr == NULL || len == NULL)
		return (ERR(UST_EFAULT));
	if (so->so_proto->pr_usrreqs->pru_sockaddr == NULL)
		return (ERR(UST_EOPNOTSUPP));
	memset(&ss, 0, sizeof(ss));
	error = so->so_proto->pr_usrreqs->pru_sockaddr(so, SS_SA(&ss));
	if (error == 0)
		error = sa_copyout(&ss, addr, len);
	return (ERR(error));
}

static int
getpeername_call(struct ust_socket *uso, struct sockaddr *addr, ust_socklen_t *len)
{
	struct socket *so = so_get(uso);
	struct sockaddr_storage ss;
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (addr == NULL || len == NULL)
		return (ERR(UST_EFAULT));
	if (!(so->so_state & SS_ISCONNECTED))
		return (ERR(UST_ENOTCONN));
	if (so->so_proto->pr_usrreqs->pru_peeraddr == NULL)
		return (ERR(UST_EOPNOTSUPP));
	memset(&ss, 0, sizeof(ss));
	error = so->so_proto->pr_usrreqs->pru_peeraddr(so, SS_SA(&ss));
	if (error == 0)
		error = sa_copyout(&ss, addr, len);
	return (ERR(error));
}

static int
setsockopt_call(struct ust_socket *uso, int level, int name, const void *val, size_t len)
{
	struct socket *so = so_get(uso);
	struct sockopt sopt;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (val == NULL && len > 0)
		return (ERR(UST_EFAULT));
	memset(&sopt, 0, sizeof(sopt));
	sopt.sopt_dir = SOPT_SET;
	sopt.sopt_level = level;
	sopt.sopt_name = name;
	/* The value is only read on a set. */
	sopt.sopt_val = (void *)(uintptr_t)val;
	sopt.sopt_valsize = len;
	return (ERR(sosetopt(so, &sopt)));
}

static int
getsockopt_call(struct ust_socket *uso, int level, int name, void *val, size_t *len)
{
	struct socket *so = so_get(uso);
	struct sockopt sopt;
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (len == NULL || (val == NULL && *len > 0))
		return (ERR(UST_EFAULT));
	memset(&sopt, 0, sizeof(sopt));
	sopt.sopt_dir = SOPT_GET;
	sopt.sopt_level = level;
	sopt.sopt_name = name;
	sopt.sopt_val = val;
	sopt.sopt_valsize = *len;
	error = sogetopt(so, &sopt);
	if (error == 0)
		*len = sopt.sopt_valsize;
	return (ERR(error));
}

/* ---------------------------------------------------------------------
 * The socket calls as applications make them.  On a stack whose thread
 * runs (a group started with threads), a call from a thread that does not
 * hold the stack lock takes it for the duration of the call
 * (docs/multicore.md), so any thread may call; a holder (ust_stack_lock,
 * ust_stack_exec's commands, upcalls on the stack's thread) calls
 * straight through.  A lone stack pays one test of st_grp.
 * ------------------------------------------------------------------- */

/* The stack of a socket, or NULL for a bad one (the call then says EBADF). */
static struct ust_stack *
so_stack_of(const struct ust_socket *uso)
{
	const struct socket *so = so_get(uso);

	return (so != NULL ? so->so_stack : NULL);
}

/* After a call: the zero-copy sends it completed hear of it (their done
 * functions were kept from inside m_free until here, docs/zerocopy.md). */
#define SO_ZC_DRAIN(st)                                      \
	do {                                                 \
		if ((st) != NULL && so_zc_owed((st)->st_so)) \
			so_zc_drain(st);                     \
	} while (0)

#if UST_SMP
#define SO_CALL(st, type, call)                                                     \
	do {                                                                        \
		struct ust_stack *st_ = (st);                                       \
		int locked_ = st_ != NULL && st_->st_grp != NULL && grp_enter(st_); \
		int outer_ = stack_call_enter(st_);                                 \
		type r_ = (call);                                                   \
		SO_ZC_DRAIN(st_);                                                   \
		stack_call_exit(st_, outer_);                                       \
		if (locked_)                                                        \
			grp_exit(st_);                                              \
		return (r_);                                                        \
	} while (0)
#else
/* Without groups no call ever locks. */
#define SO_CALL(st, type, call)                     \
	do {                                        \
		struct ust_stack *st_ = (st);       \
		int outer_ = stack_call_enter(st_); \
		type r_ = (call);                   \
		SO_ZC_DRAIN(st_);                   \
		stack_call_exit(st_, outer_);       \
		return (r_);                        \
	} while (0)
#endif

int
ust_socket(struct ust_stack *st, int domain, int type, int protocol, struct ust_socket **out)
{
	SO_CALL(st, int, socket_call(st, domain, type, protocol, out));
}

int
ust_bind(struct ust_socket *uso, const struct sockaddr *addr, ust_socklen_t len)
{
	SO_CALL(so_stack_of(uso), int, bind_call(uso, addr, len));
}

int
ust_connect(struct ust_socket *uso, const struct sockaddr *addr, ust_socklen_t len)
{
	SO_CALL(so_stack_of(uso), int, connect_call(uso, addr, len));
}

int
ust_listen(struct ust_socket *uso, int backlog)
{
	SO_CALL(so_stack_of(uso), int, listen_call(uso, backlog));
}

int
ust_accept(struct ust_socket *uso, struct ust_socket **out, struct sockaddr *peer,
    ust_socklen_t *len)
{
	SO_CALL(so_stack_of(uso), int, accept_call(uso, out, peer, len));
}

ptrdiff_t
ust_send(struct ust_socket *so, const void *buf, size_t len, int flags)
{
	SO_CALL(so_stack_of(so), ptrdiff_t, send_call(so, buf, len, flags));
}

ptrdiff_t
ust_sendto(struct ust_socket *so, const void *buf, size_t len, int flags, const struct sockaddr *to,
    ust_socklen_t tolen)
{
	SO_CALL(so_stack_of(so), ptrdiff_t, sendto_call(so, buf, len, flags, to, tolen));
}

ptrdiff_t
ust_recv(struct ust_socket *so, void *buf, size_t len, int flags)
{
	SO_CALL(so_stack_of(so), ptrdiff_t, recv_call(so, buf, len, flags));
}

ptrdiff_t
ust_recvfrom(struct ust_socket *so, void *buf, size_t len, int flags, struct sockaddr *from,
    ust_socklen_t *fromlen)
{
	SO_CALL(so_stack_of(so), ptrdiff_t, recvfrom_call(so, buf, len, flags, from, fromlen));
}

ptrdiff_t
ust_sendv(struct ust_socket *so, const struct ust_iovec *iov, int iovcnt, int flags)
{
	SO_CALL(so_stack_of(so), ptrdiff_t, sendv_call(so, iov, iovcnt, flags));
}

ptrdiff_t
ust_send_zc(struct ust_socket *so, const void *buf, size_t len, int flags, ust_zc_done_fn done,
    void *arg)
{
	SO_CALL(so_stack_of(so), ptrdiff_t, send_zc_call(so, buf, len, flags, done, arg));
}

ptrdiff_t
ust_recv_mbuf(struct ust_socket *so, struct ust_mbuf **chain, size_t max, int flags)
{
	SO_CALL(so_stack_of(so), ptrdiff_t, recv_mbuf_call(so, chain, max, flags, NULL, NULL));
}

ptrdiff_t
ust_recvfrom_mbuf(struct ust_socket *so, struct ust_mbuf **chain, size_t max, int flags,
    struct sockaddr *from, ust_socklen_t *fromlen)
{
	SO_CALL(so_stack_of(so), ptrdiff_t, recv_mbuf_call(so, chain, max, flags, from, fromlen));
}

/* From any thread: the chain's own stack is locked (a threaded one; a
 * lone stack's caller holds ust_stack_lock or is its thread, as for every
 * socket call), whether or not so is still open. */
static int
mbuf_release(struct ust_socket *so, struct ust_mbuf *chain)
{
	SO_CALL(mbuf_stack(chain), int, mbuf_release_call(so, chain));
}

void
ust_mbuf_release(struct ust_socket *so, struct ust_mbuf *chain)
{
	if (chain != NULL)
		(void)mbuf_release(so, chain);
}

int
ust_shutdown(struct ust_socket *uso, int how)
{
	SO_CALL(so_stack_of(uso), int, shutdown_call(uso, how));
}

int
ust_close(struct ust_socket *uso)
{
	SO_CALL(so_stack_of(uso), int, close_call(uso));
}

int
ust_getsockname(struct ust_socket *uso, struct sockaddr *addr, ust_socklen_t *len)
{
	SO_CALL(so_stack_of(uso), int, getsockname_call(uso, addr, len));
}

int
ust_getpeername(struct ust_socket *uso, struct sockaddr *addr, ust_socklen_t *len)
{
	SO_CALL(so_stack_of(uso), int, getpeername_call(uso, addr, len));
}

int
ust_setsockopt(struct ust_socket *uso, int level, int name, const void *val, size_t len)
{
	SO_CALL(so_stack_of(uso), int, setsockopt_call(uso, level, name, val, len));
}

int
ust_getsockopt(struct ust_socket *uso, int level, int name, void *val, size_t *len)
{
	SO_CALL(so_stack_of(uso), int, getsockopt_call(uso, level, name, val, len));
}

struct ust_stack *
ust_socket_stack(const struct ust_socket *uso)
{
	const struct socket *so = so_get(uso);

	return (so != NULL ? so->so_stack : NULL);
}

static uint32_t
events_call(struct ust_socket *uso, ust_upcall_fn fn, void *arg)
{
	struct socket *so = so_get(uso);
	uint32_t ev;

	if (so == NULL)
		return (0);
	ev = so_events(so);
	if (fn != NULL)
		fn(arg, uso, ev);
	return (ev);
}

uint32_t
ust_socket_events(struct ust_socket *uso, ust_upcall_fn fn, void *arg)
{
	SO_CALL(so_stack_of(uso), uint32_t, events_call(uso, fn, arg));
}
