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

/* An AF_INET address as the caller passed it. */
static int
sa_check(const struct ust_sockaddr_in *sin)
{
	if (sin == NULL)
		return (UST_EFAULT);
	if (sin->sin_len != sizeof(*sin))
		return (UST_EINVAL);
	if (sin->sin_family != UST_AF_INET)
		return (UST_EAFNOSUPPORT);
	return (0);
}

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
	if (domain != UST_AF_INET)
		return (ERR(UST_EAFNOSUPPORT));
	if (protocol < 0)
		return (ERR(UST_EPROTONOSUPPORT));
	error = socreate(st, type, protocol, &so);
	if (error != 0)
		return (ERR(error));
	*out = SO_TO_UST(so);
	return (0);
}

int
ust_bind(struct ust_socket *uso, const struct ust_sockaddr_in *addr)
{
	struct socket *so = so_get(uso);
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if ((error = sa_check(addr)) != 0)
		return (ERR(error));
	return (ERR(sobind(so, addr)));
}

int
ust_connect(struct ust_socket *uso, const struct ust_sockaddr_in *addr)
{
	struct socket *so = so_get(uso);
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if ((error = sa_check(addr)) != 0)
		return (ERR(error));
	return (ERR(soconnect(so, addr)));
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
ust_accept(struct ust_socket *uso, struct ust_socket **out, struct ust_sockaddr_in *peer)
{
	struct socket *so = so_get(uso), *nso;
	struct ust_sockaddr_in sin;
	int error;

	if (out == NULL)
		return (ERR(UST_EFAULT));
	*out = NULL;
	if (so == NULL)
		return (ERR(UST_EBADF));
	if (so->so_type != UST_SOCK_STREAM)
		return (ERR(UST_EOPNOTSUPP));
	memset(&sin, 0, sizeof(sin));
	error = soaccept(so, &nso, &sin);
	if (error != 0)
		return (ERR(error));
	if (peer != NULL)
		*peer = sin;
	*out = SO_TO_UST(nso);
	return (0);
}

static ptrdiff_t
dosend(struct ust_socket *uso, const void *buf, size_t len, int flags,
    const struct ust_sockaddr_in *to)
{
	struct socket *so = so_get(uso);
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
	if (to != NULL && (error = sa_check(to)) != 0)
		return (ERR(error));
	error = sosend(so, buf, len, flags, to, &sent);
	if (error != 0)
		return (ERR(error));
	return ((ptrdiff_t)sent);
}

ptrdiff_t
ust_send(struct ust_socket *so, const void *buf, size_t len, int flags)
{
	return (dosend(so, buf, len, flags, NULL));
}

ptrdiff_t
ust_sendto(struct ust_socket *so, const void *buf, size_t len, int flags,
    const struct ust_sockaddr_in *to)
{
	return (dosend(so, buf, len, flags, to));
}

static ptrdiff_t
dorecv(struct ust_socket *uso, void *buf, size_t len, int flags, struct ust_sockaddr_in *from)
{
	struct socket *so = so_get(uso);
	struct ust_sockaddr_in sin;
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
	memset(&sin, 0, sizeof(sin));
	error = soreceive(so, buf, len, flags, from != NULL ? &sin : NULL, &got);
	if (error != 0)
		return (ERR(error));
	if (from != NULL)
		*from = sin;
	return ((ptrdiff_t)got);
}

ptrdiff_t
ust_recv(struct ust_socket *so, void *buf, size_t len, int flags)
{
	return (dorecv(so, buf, len, flags, NULL));
}

ptrdiff_t
ust_recvfrom(struct ust_socket *so, void *buf, size_t len, int flags, struct ust_sockaddr_in *from)
{
	return (dorecv(so, buf, len, flags, from));
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
ust_getsockname(struct ust_socket *uso, struct ust_sockaddr_in *addr)
{
	struct socket *so = so_get(uso);
	struct ust_sockaddr_in sin;
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (addr == NULL)
		return (ERR(UST_EFAULT));
	if (so->so_proto->pr_usrreqs->pru_sockaddr == NULL)
		return (ERR(UST_EOPNOTSUPP));
	error = so->so_proto->pr_usrreqs->pru_sockaddr(so, &sin);
	if (error == 0)
		*addr = sin;
	return (ERR(error));
}

int
ust_getpeername(struct ust_socket *uso, struct ust_sockaddr_in *addr)
{
	struct socket *so = so_get(uso);
	struct ust_sockaddr_in sin;
	int error;

	if (so == NULL)
		return (ERR(UST_EBADF));
	if (addr == NULL)
		return (ERR(UST_EFAULT));
	if (!(so->so_state & SS_ISCONNECTED))
		return (ERR(UST_ENOTCONN));
	if (so->so_proto->pr_usrreqs->pru_peeraddr == NULL)
		return (ERR(UST_EOPNOTSUPP));
	error = so->so_proto->pr_usrreqs->pru_peeraddr(so, &sin);
	if (error == 0)
		*addr = sin;
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
