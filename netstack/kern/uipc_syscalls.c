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

int
ust_socket(struct ust_stack *st, int domain, int type, int protocol, struct ust_socket **out)
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

int
ust_bind(struct ust_socket *uso, const struct sockaddr *addr, ust_socklen_t len)
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

int
ust_connect(struct ust_socket *uso, const struct sockaddr *addr, ust_socklen_t len)
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

int
ust_listen(struct ust_socket *uso, int backlog)
{
	struct socket *so = so_get(uso);

	if (so == NULL)
		return (ERR(UST_EBADF));
	return (ERR(solisten(so, backlog)));
}

int
ust_accept(struct ust_socket *uso, struct ust_socket **out, struct sockaddr *peer,
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

ptrdiff_t
ust_send(struct ust_socket *so, const void *buf, size_t len, int flags)
{
	return (dosend(so, buf, len, flags, NULL, 0));
}

ptrdiff_t
ust_sendto(struct ust_socket *so, const void *buf, size_t len, int flags, const struct sockaddr *to,
    ust_socklen_t tolen)
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

ptrdiff_t
ust_recv(struct ust_socket *so, void *buf, size_t len, int flags)
{
	return (dorecv(so, buf, len, flags, NULL, NULL));
}

ptrdiff_t
ust_recvfrom(struct ust_socket *so, void *buf, size_t len, int flags, struct sockaddr *from,
    ust_socklen_t *fromlen)
{
	return (dorecv(so, buf, len, flags, from, fromlen));
}

int
ust_shutdown(struct ust_socket *uso, int how)
{
	struct socket *so = so_get(uso);

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (how != UST_SHUT_RD && how != UST_SHUT_WR && how != UST_SHUT_RDWR)
		return (ERR(UST_EINVAL));
	return (ERR(soshutdown(so, how)));
}

int
ust_close(struct ust_socket *uso)
{
	struct socket *so = so_get(uso);

	if (so == NULL)
		return (ERR(UST_EBADF));
	return (ERR(soclose(so)));
}

int
ust_getsockname(struct ust_socket *uso, struct sockaddr *addr, ust_socklen_t *len)
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

int
ust_getpeername(struct ust_socket *uso, struct sockaddr *addr, ust_socklen_t *len)
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

int
ust_setsockopt(struct ust_socket *uso, int level, int name, const void *val, size_t len)
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

int
ust_getsockopt(struct ust_socket *uso, int level, int name, void *val, size_t *len)
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

struct ust_stack *
ust_socket_stack(const struct ust_socket *uso)
{
	const struct socket *so = so_get(uso);

	return (so != NULL ? so->so_stack : NULL);
}
