/*
 * kern_errno.c - names of ustack's error codes (FreeBSD's errno numbers,
 * never the host's), for ust_strerror() and the Python exception mapping.
 */
#include <ustack/ustack.h>

/* UST_STRERROR 0 keeps the names (ust_errname, and what ust_strerror
 * returns then) and drops the sentences. */
#if UST_STRERROR
#define ERRTEXT(text) text
#else
#define ERRTEXT(text)
#endif

struct errname {
	int code;
	const char *name;
#if UST_STRERROR
	const char *text;
#endif
};

static const struct errname errnames[] = {
	{ UST_EPERM, "EPERM", ERRTEXT("EPERM: Operation not permitted") },
	{ UST_ENOENT, "ENOENT", ERRTEXT("ENOENT: No such file or directory") },
	{ UST_EIO, "EIO", ERRTEXT("EIO: Input/output error") },
	{ UST_E2BIG, "E2BIG", ERRTEXT("E2BIG: Argument list too long") },
	{ UST_EBADF, "EBADF", ERRTEXT("EBADF: Bad file descriptor") },
	{ UST_ENOMEM, "ENOMEM", ERRTEXT("ENOMEM: Cannot allocate memory") },
	{ UST_EACCES, "EACCES", ERRTEXT("EACCES: Permission denied") },
	{ UST_EFAULT, "EFAULT", ERRTEXT("EFAULT: Bad address") },
	{ UST_EBUSY, "EBUSY", ERRTEXT("EBUSY: Device busy") },
	{ UST_EEXIST, "EEXIST", ERRTEXT("EEXIST: File exists") },
	{ UST_ENODEV, "ENODEV", ERRTEXT("ENODEV: Operation not supported by device") },
	{ UST_EINVAL, "EINVAL", ERRTEXT("EINVAL: Invalid argument") },
	{ UST_ENFILE, "ENFILE", ERRTEXT("ENFILE: Too many open files in system") },
	{ UST_EMFILE, "EMFILE", ERRTEXT("EMFILE: Too many open files") },
	{ UST_ENOSPC, "ENOSPC", ERRTEXT("ENOSPC: No space left on device") },
	{ UST_EPIPE, "EPIPE", ERRTEXT("EPIPE: Broken pipe") },
	{ UST_ERANGE, "ERANGE", ERRTEXT("ERANGE: Result too large") },
	{ UST_EAGAIN, "EAGAIN", ERRTEXT("EAGAIN: Resource temporarily unavailable") },
	{ UST_EINPROGRESS, "EINPROGRESS", ERRTEXT("EINPROGRESS: Operation now in progress") },
	{ UST_EALREADY, "EALREADY", ERRTEXT("EALREADY: Operation already in progress") },
	{ UST_ENOTSOCK, "ENOTSOCK", ERRTEXT("ENOTSOCK: Socket operation on non-socket") },
	{ UST_EDESTADDRREQ, "EDESTADDRREQ", ERRTEXT("EDESTADDRREQ: Destination address required") },
	{ UST_EMSGSIZE, "EMSGSIZE", ERRTEXT("EMSGSIZE: Message too long") },
	{ UST_EPROTOTYPE, "EPROTOTYPE", ERRTEXT("EPROTOTYPE: Protocol wrong type for socket") },
	{ UST_ENOPROTOOPT, "ENOPROTOOPT", ERRTEXT("ENOPROTOOPT: Protocol not available") },
	{ UST_EPROTONOSUPPORT, "EPROTONOSUPPORT",
	    ERRTEXT("EPROTONOSUPPORT: Protocol not supported") },
	{ UST_EOPNOTSUPP, "EOPNOTSUPP", ERRTEXT("EOPNOTSUPP: Operation not supported") },
	{ UST_EAFNOSUPPORT, "EAFNOSUPPORT",
	    ERRTEXT("EAFNOSUPPORT: Address family not supported by protocol family") },
	{ UST_EADDRINUSE, "EADDRINUSE", ERRTEXT("EADDRINUSE: Address already in use") },
	{ UST_EADDRNOTAVAIL, "EADDRNOTAVAIL",
	    ERRTEXT("EADDRNOTAVAIL: Can't assign requested address") },
	{ UST_ENETDOWN, "ENETDOWN", ERRTEXT("ENETDOWN: Network is down") },
	{ UST_ENETUNREACH, "ENETUNREACH", ERRTEXT("ENETUNREACH: Network is unreachable") },
	{ UST_ECONNABORTED, "ECONNABORTED",
	    ERRTEXT("ECONNABORTED: Software caused connection abort") },
	{ UST_ECONNRESET, "ECONNRESET", ERRTEXT("ECONNRESET: Connection reset by peer") },
	{ UST_ENOBUFS, "ENOBUFS", ERRTEXT("ENOBUFS: No buffer space available") },
	{ UST_EISCONN, "EISCONN", ERRTEXT("EISCONN: Socket is already connected") },
	{ UST_ENOTCONN, "ENOTCONN", ERRTEXT("ENOTCONN: Socket is not connected") },
	{ UST_ESHUTDOWN, "ESHUTDOWN", ERRTEXT("ESHUTDOWN: Can't send after socket shutdown") },
	{ UST_ETIMEDOUT, "ETIMEDOUT", ERRTEXT("ETIMEDOUT: Operation timed out") },
	{ UST_ECONNREFUSED, "ECONNREFUSED", ERRTEXT("ECONNREFUSED: Connection refused") },
	{ UST_EHOSTDOWN, "EHOSTDOWN", ERRTEXT("EHOSTDOWN: Host is down") },
	{ UST_EHOSTUNREACH, "EHOSTUNREACH", ERRTEXT("EHOSTUNREACH: No route to host") },
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
