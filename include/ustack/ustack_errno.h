/*
 * ustack_errno.h - the host's errno as ustack's -UST_E* code, for drivers
 * on a hosted system (TAP, netmap, AF_XDP): a failed open/ioctl/bind
 * reaches the caller as the same condition, FileNotFoundError or
 * PermissionError in Python.  Header only: it needs the host's <errno.h>,
 * which a bare-metal build of the core does not.
 */
#ifndef USTACK_ERRNO_H
#define USTACK_ERRNO_H

#include <errno.h>

#include <ustack/ustack.h>

/* -UST_E* for host errno e (positive); EINVAL for codes ustack lacks. */
static inline int
ust_errno_neg(int e)
{
	switch (e) {
	case EPERM:
		return (-UST_EPERM);
	case EACCES:
		return (-UST_EACCES);
	case ENOENT:
		return (-UST_ENOENT);
	case ENODEV:
	case ENXIO:
		return (-UST_ENODEV);
	case EIO:
		return (-UST_EIO);
	case EBADF:
		return (-UST_EBADF);
	case ENOMEM:
		return (-UST_ENOMEM);
	case ENOBUFS:
		return (-UST_ENOBUFS);
	case EFAULT:
		return (-UST_EFAULT);
	case EBUSY:
		return (-UST_EBUSY);
	case EEXIST:
		return (-UST_EEXIST);
	case ENFILE:
		return (-UST_ENFILE);
	case EMFILE:
		return (-UST_EMFILE);
	case ENOSPC:
		return (-UST_ENOSPC);
	case ERANGE:
		return (-UST_ERANGE);
	case EAGAIN:
		return (-UST_EAGAIN);
	case EMSGSIZE:
		return (-UST_EMSGSIZE);
	case EOPNOTSUPP:
		return (-UST_EOPNOTSUPP);
	case EAFNOSUPPORT:
		return (-UST_EAFNOSUPPORT);
	case EADDRINUSE:
		return (-UST_EADDRINUSE);
	case EADDRNOTAVAIL:
		return (-UST_EADDRNOTAVAIL);
	case ENETDOWN:
		return (-UST_ENETDOWN);
	default:
		return (-UST_EINVAL);
	}
}

#endif /* USTACK_ERRNO_H */
