/*
 * sysctl_knobs.h - the socket layer's run-time knobs (kern.ipc), once:
 * FreeBSD's sysctl name, the field in struct ust_knobs (read with V(st,
 * field)), the default (FreeBSD's, see FREEBSD_DEFAULTS.md), the accepted
 * range, flags and a description.  Each domain has a table of the same
 * shape for its own knobs (netinet/in_knobs.h), listed in conf/domains.h.
 * struct ust_knobs, its defaults, the registry behind ust_sysctl_*(), the
 * Python bindings and the CLI are all generated from these tables, so
 * they cannot drift apart.
 *
 * KNOB(name, field, default, min, max, flags, description)
 * Times are in milliseconds unless the name says otherwise.
 */

/* Sockets (kern.ipc). */
KNOB("kern.ipc.maxsockbuf", ipc_maxsockbuf, 2097152, 4096, 4294967295, 0,
    "Largest socket buffer SO_SNDBUF/SO_RCVBUF may ask for")
KNOB("kern.ipc.maxsockets", ipc_maxsockets, 65536, 1, 16777216, 0,
    "Sockets one stack may have open (raising it raises the TCP zones)")
KNOB("kern.ipc.somaxconn", ipc_somaxconn, 128, 1, 65535, 0, "Largest listen backlog")
KNOB("kern.ipc.zc_min", ipc_zc_min, 1024, 0, 4294967295, 0,
    "ust_send_zc copies sends shorter than this instead of lending them (0: always lend)")
