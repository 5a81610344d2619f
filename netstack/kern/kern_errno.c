/*
 * kern_errno.c - names of ustack's error codes (FreeBSD's errno numbers,
 * never the host's), for ust_strerror() and the Python exception mapping.
 */
#include <ustack/ustack.h>

/* UST_STRERROR 0 keeps the names (ust_errname, and what ust_strerror
 * returns then) and drops the sentences. */
#if UST_STRERROR
#define ERRNAME(code, name, text) { code, name, text }
#else
#define ERRNAME(code, name, text) { code, name }
#endif

struct errname {
	int code;
	const char *name;
#if UST_STRERROR
	const char *text;
#endif
};

static const struct errname errnames[] = {
	ERRNAME(UST_EPERM, "EPERM", "EPERM: Operation not permitted"),
	ERRNAME(UST_ENOENT, "ENOENT", "ENOENT: No such file or directory"),
	ERRNAME(UST_EIO, "EIO", "EIO: Input/output error"),
	ERRNAME(UST_E2BIG, "E2BIG", "E2BIG: Argument list too long"),
	ERRNAME(UST_EBADF, "EBADF", "EBADF: Bad file descriptor"),
	ERRNAME(UST_ENOMEM, "ENOMEM", "ENOMEM: Cannot allocate memory"),
	ERRNAME(UST_EACCES, "EACCES", "EACCES: Permission denied"),
	ERRNAME(UST_EFAULT, "EFAULT", "EFAULT: Bad address"),
	ERRNAME(UST_EBUSY, "EBUSY", "EBUSY: Device busy"),
	ERRNAME(UST_EEXIST, "EEXIST", "EEXIST: File exists"),
	ERRNAME(UST_ENODEV, "ENODEV", "ENODEV: Operation not supported by device"),
	ERRNAME(UST_EINVAL, "EINVAL", "EINVAL: Invalid argument"),
	ERRNAME(UST_ENFILE, "ENFILE", "ENFILE: Too many open files in system"),
	ERRNAME(UST_EMFILE, "EMFILE", "EMFILE: Too many open files"),
	ERRNAME(UST_ENOSPC, "ENOSPC", "ENOSPC: No space left on device"),
	ERRNAME(UST_EPIPE, "EPIPE", "EPIPE: Broken pipe"),
	ERRNAME(UST_ERANGE, "ERANGE", "ERANGE: Result too large"),
	ERRNAME(UST_EAGAIN, "EAGAIN", "EAGAIN: Resource temporarily unavailable"),
	ERRNAME(UST_EINPROGRESS, "EINPROGRESS", "EINPROGRESS: Operation now in progress"),
	ERRNAME(UST_EALREADY, "EALREADY", "EALREADY: Operation already in progress"),
	ERRNAME(UST_ENOTSOCK, "ENOTSOCK", "ENOTSOCK: Socket operation on non-socket"),
	ERRNAME(UST_EDESTADDRREQ, "EDESTADDRREQ", "EDESTADDRREQ: Destination address required"),
	ERRNAME(UST_EMSGSIZE, "EMSGSIZE", "EMSGSIZE: Message too long"),
	ERRNAME(UST_EPROTOTYPE, "EPROTOTYPE", "EPROTOTYPE: Protocol wrong type for socket"),
	ERRNAME(UST_ENOPROTOOPT, "ENOPROTOOPT", "ENOPROTOOPT: Protocol not available"),
	ERRNAME(UST_EPROTONOSUPPORT, "EPROTONOSUPPORT", "EPROTONOSUPPORT: Protocol not supported"),
	ERRNAME(UST_EOPNOTSUPP, "EOPNOTSUPP", "EOPNOTSUPP: Operation not supported"),
	ERRNAME(UST_EAFNOSUPPORT, "EAFNOSUPPORT",
	    "EAFNOSUPPORT: Address family not supported by protocol family"),
	ERRNAME(UST_EADDRINUSE, "EADDRINUSE", "EADDRINUSE: Address already in use"),
	ERRNAME(UST_EADDRNOTAVAIL, "EADDRNOTAVAIL", "EADDRNOTAVAIL: Can't assign requested address"),
	ERRNAME(UST_ENETDOWN, "ENETDOWN", "ENETDOWN: Network is down"),
	ERRNAME(UST_ENETUNREACH, "ENETUNREACH", "ENETUNREACH: Network is unreachable"),
	ERRNAME(UST_ECONNABORTED, "ECONNABORTED", "ECONNABORTED: Software caused connection abort"),
	ERRNAME(UST_ECONNRESET, "ECONNRESET", "ECONNRESET: Connection reset by peer"),
	ERRNAME(UST_ENOBUFS, "ENOBUFS", "ENOBUFS: No buffer space available"),
	ERRNAME(UST_EISCONN, "EISCONN", "EISCONN: Socket is already connected"),
	ERRNAME(UST_ENOTCONN, "ENOTCONN", "ENOTCONN: Socket is not connected"),
	ERRNAME(UST_ESHUTDOWN, "ESHUTDOWN", "ESHUTDOWN: Can't send after socket shutdown"),
	ERRNAME(UST_ETIMEDOUT, "ETIMEDOUT", "ETIMEDOUT: Operation timed out"),
	ERRNAME(UST_ECONNREFUSED, "ECONNREFUSED", "ECONNREFUSED: Connection refused"),
	ERRNAME(UST_EHOSTDOWN, "EHOSTDOWN", "EHOSTDOWN: Host is down"),
	ERRNAME(UST_EHOSTUNREACH, "EHOSTUNREACH", "EHOSTUNREACH: No route to host"),
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
#if UST_STRERROR
	return (e != NULL ? e->text : "Unknown error");
#else
	return (e != NULL ? e->name : "Unknown error");
#endif
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
