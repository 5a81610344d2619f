/*
 * kern_errno.c - names of ustack's error codes (FreeBSD's errno numbers,
 * never the host's), for ust_strerror() and the Python exception mapping.
 */
#include <ustack/ustack.h>

struct errname {
	int code;
	const char *name;
	const char *text;
};

static const struct errname errnames[] = {
	{ UST_EPERM, "EPERM", "EPERM: Operation not permitted" },
	{ UST_ENOENT, "ENOENT", "ENOENT: No such file or directory" },
	{ UST_EIO, "EIO", "EIO: Input/output error" },
	{ UST_E2BIG, "E2BIG", "E2BIG: Argument list too long" },
	{ UST_EBADF, "EBADF", "EBADF: Bad file descriptor" },
	{ UST_ENOMEM, "ENOMEM", "ENOMEM: Cannot allocate memory" },
	{ UST_EACCES, "EACCES", "EACCES: Permission denied" },
	{ UST_EFAULT, "EFAULT", "EFAULT: Bad address" },
	{ UST_EBUSY, "EBUSY", "EBUSY: Device busy" },
	{ UST_EEXIST, "EEXIST", "EEXIST: File exists" },
	{ UST_ENODEV, "ENODEV", "ENODEV: Operation not supported by device" },
	{ UST_EINVAL, "EINVAL", "EINVAL: Invalid argument" },
	{ UST_ENFILE, "ENFILE", "ENFILE: Too many open files in system" },
	{ UST_EMFILE, "EMFILE", "EMFILE: Too many open files" },
	{ UST_ENOSPC, "ENOSPC", "ENOSPC: No space left on device" },
	{ UST_EPIPE, "EPIPE", "EPIPE: Broken pipe" },
	{ UST_ERANGE, "ERANGE", "ERANGE: Result too large" },
	{ UST_EAGAIN, "EAGAIN", "EAGAIN: Resource temporarily unavailable" },
	{ UST_EINPROGRESS, "EINPROGRESS", "EINPROGRESS: Operation now in progress" },
	{ UST_EALREADY, "EALREADY", "EALREADY: Operation already in progress" },
	{ UST_ENOTSOCK, "ENOTSOCK", "ENOTSOCK: Socket operation on non-socket" },
	{ UST_EDESTADDRREQ, "EDESTADDRREQ", "EDESTADDRREQ: Destination address required" },
	{ UST_EMSGSIZE, "EMSGSIZE", "EMSGSIZE: Message too long" },
	{ UST_EPROTOTYPE, "EPROTOTYPE", "EPROTOTYPE: Protocol wrong type for socket" },
	{ UST_ENOPROTOOPT, "ENOPROTOOPT", "ENOPROTOOPT: Protocol not available" },
	{ UST_EPROTONOSUPPORT, "EPROTONOSUPPORT", "EPROTONOSUPPORT: Protocol not supported" },
	{ UST_EOPNOTSUPP, "EOPNOTSUPP", "EOPNOTSUPP: Operation not supported" },
	{ UST_EAFNOSUPPORT, "EAFNOSUPPORT",
	    "EAFNOSUPPORT: Address family not supported by protocol family" },
	{ UST_EADDRINUSE, "EADDRINUSE", "EADDRINUSE: Address already in use" },
	{ UST_EADDRNOTAVAIL, "EADDRNOTAVAIL", "EADDRNOTAVAIL: Can't assign requested address" },
	{ UST_ENETDOWN, "ENETDOWN", "ENETDOWN: Network is down" },
	{ UST_ENETUNREACH, "ENETUNREACH", "ENETUNREACH: Network is unreachable" },
	{ UST_ECONNABORTED, "ECONNABORTED", "ECONNABORTED: Software caused connection abort" },
	{ UST_ECONNRESET, "ECONNRESET", "ECONNRESET: Connection reset by peer" },
	{ UST_ENOBUFS, "ENOBUFS", "ENOBUFS: No buffer space available" },
	{ UST_EISCONN, "EISCONN", "EISCONN: Socket is already connected" },
	{ UST_ENOTCONN, "ENOTCONN", "ENOTCONN: Socket is not connected" },
	{ UST_ESHUTDOWN, "ESHUTDOWN", "ESHUTDOWN: Can't send after socket shutdown" },
	{ UST_ETIMEDOUT, "ETIMEDOUT", "ETIMEDOUT: Operation timed out" },
	{ UST_ECONNREFUSED, "ECONNREFUSED", "ECONNREFUSED: Connection refused" },
	{ UST_EHOSTDOWN, "EHOSTDOWN", "EHOSTDOWN: Host is down" },
	{ UST_EHOSTUNREACH, "EHOSTUNREACH", "EHOSTUNREACH: No route to host" },
};

static const struct errname *
errname_find(int err)
{
	size_t i;

	if (err < 0)
		err = -err;
	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].code == err)
			return (&errnames[i]);
	return (NULL);
}

const char *
ust_strerror(int err)
{
	const struct errname *e;

	if (err == 0)
		return ("Success");
	e = errname_find(err);
	return (e != NULL ? e->text : "Unknown error");
}

const char *
ust_errname(int err)
{
	const struct errname *e = errname_find(err);

	return (e != NULL ? e->name : NULL);
}

const char *
ust_version(void)
{
#define UST_STR2(x) #x
#define UST_STR(x) UST_STR2(x)
	return (UST_STR(UST_VERSION_MAJOR) "." UST_STR(UST_VERSION_MINOR) "." UST_STR(
	    UST_VERSION_PATCH));
}
