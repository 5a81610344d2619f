/*
 * in6_knobs.h - the run-time knobs of netinet6, once, in the shape of
 * netinet/in_knobs.h: KNOB(name, field, default, min, max, flags,
 * description) with FreeBSD's sysctl names and defaults (docs/ipv6.md
 * lists them and every deliberate difference).  in6_proto.c registers the
 * table with inet6domain; conf/domains.h adds the fields to struct
 * ust_knobs.  Times are in the unit the name or description says.
 */

/* IPv6 (net.inet6.ip6). */
KNOB("net.inet6.ip6.hlim", ip6_hlim, 64, 1, 255, 0, "Default hop limit of outgoing packets")
KNOB("net.inet6.ip6.v6only", ip6_v6only, 1, 0, 1, 0,
    "New AF_INET6 sockets are IPv6 only (IPV6_V6ONLY)")
KNOB("net.inet6.ip6.hdrnestlimit", ip6_hdrnestlimit, 15, 0, 255, 0,
    "Extension headers a packet may have (0: no limit)")
KNOB("net.inet6.ip6.maxfragpackets", ip6_maxfragpackets, 1024, 0, 65536, 0,
    "Datagrams under reassembly at once")
KNOB("net.inet6.ip6.maxfrags", ip6_maxfrags, 4096, 0, 1048576, 0,
    "Fragments held for reassembly at once")
KNOB("net.inet6.ip6.maxfragsperpacket", ip6_maxfragsperpacket, 64, 1, 8192, 0,
    "Fragments one datagram may have")
KNOB("net.inet6.ip6.maxfragbucketsize", ip6_maxfragbucketsize, 16, 1, 8192, 0,
    "Datagrams under reassembly per hash bucket")
KNOB("net.inet6.ip6.fragttl", ip6_fragttl, 60000, 1, 600000, 0,
    "Milliseconds a datagram may take to reassemble (ustack; FreeBSD: 60 s fixed)")
KNOB("net.inet6.ip6.auto_flowlabel", ip6_auto_flowlabel, 1, 0, 1, 0,
    "Give outgoing packets a per-flow label (RFC 6437)")
KNOB("net.inet6.ip6.pmtu_expire", ip6_pmtu_expire, 600, 300, 86400, 0,
    "Seconds a learned path MTU lasts (ustack; RFC 8201 5.3)")
KNOB("net.inet6.ip6.dad_count", ip6_dad_count, 1, 0, 16, 0,
    "Neighbor solicitations sent for duplicate address detection")
KNOB("net.inet6.ip6.dad_enhanced", ip6_dad_enhanced, 1, 0, 1, 0,
    "Enhanced duplicate address detection (RFC 7527)")
KNOB("net.inet6.ip6.accept_rtadv", ip6_accept_rtadv, 0, 0, 1, 0,
    "New interfaces accept router advertisements")
KNOB("net.inet6.ip6.no_radr", ip6_no_radr, 0, 0, 1, 0,
    "New interfaces take no default router from advertisements")
KNOB("net.inet6.ip6.auto_linklocal", ip6_auto_linklocal, 1, 0, 1, 0,
    "New interfaces get a link-local address")
KNOB("net.inet6.ip6.use_stableaddr", ip6_use_stableaddr, 0, 0, 1, 0,
    "Stable interface identifiers (RFC 7217) for SLAAC")
KNOB("net.inet6.ip6.use_tempaddr", ip6_use_tempaddr, 0, 0, 1, 0, "Temporary addresses (RFC 8981)")
KNOB("net.inet6.ip6.prefer_tempaddr", ip6_prefer_tempaddr, 0, 0, 1, 0,
    "Prefer temporary addresses as source")
KNOB("net.inet6.ip6.temppltime", ip6_temppltime, 86400, 1, 4294967295, 0,
    "Preferred lifetime of a temporary address, seconds")
KNOB("net.inet6.ip6.tempvltime", ip6_tempvltime, 604800, 1, 4294967295, 0,
    "Valid lifetime of a temporary address, seconds")
KNOB("net.inet6.ip6.use_deprecated", ip6_use_deprecated, 1, 0, 1, 0,
    "Deprecated addresses may be a source")
KNOB("net.inet6.ip6.use_defaultzone", ip6_use_defaultzone, 0, 0, 1, 0,
    "A link-local address without a scope id uses the default zone")
KNOB("net.inet6.ip6.rfc6204w3", ip6_rfc6204w3, 0, 0, 1, 0,
    "Accept the default router of an RA when forwarding (RFC 6204 W-3)")
KNOB("net.inet6.ip6.maxifprefixes", ip6_maxifprefixes, 16, 1, 1024, 0,
    "Prefixes learned from advertisements per interface")
KNOB("net.inet6.ip6.maxifdefrouters", ip6_maxifdefrouters, 16, 1, 1024, 0,
    "Default routers learned per interface")

/* ICMPv6 and neighbor discovery (net.inet6.icmp6). */
KNOB("net.inet6.icmp6.errppslimit", icmp6_errppslimit, 100, 0, 1000000, 0,
    "ICMPv6 errors sent per second (0: no limit)")
KNOB("net.inet6.icmp6.rediraccept", icmp6_rediraccept, 0, 0, 1, 0,
    "Accept redirects (FreeBSD: 1; ustack: 0)")
KNOB("net.inet6.icmp6.redirtimeout", icmp6_redirtimeout, 600, 0, 86400, 0,
    "Seconds a route from a redirect lasts")
KNOB("net.inet6.icmp6.nd6_prune", nd6_prune, 1, 1, 3600, 0,
    "Seconds between walks of the prefix and router lists")
KNOB("net.inet6.icmp6.nd6_delay", nd6_delay, 5, 1, 3600, 0,
    "Seconds in DELAY before a neighbor is probed")
KNOB("net.inet6.icmp6.nd6_umaxtries", nd6_umaxtries, 3, 1, 100, 0,
    "Unicast solicitations before a neighbor is unreachable")
KNOB("net.inet6.icmp6.nd6_mmaxtries", nd6_mmaxtries, 3, 1, 100, 0,
    "Multicast solicitations before an address is unresolvable")
KNOB("net.inet6.icmp6.nd6_maxnudhint", nd6_maxnudhint, 0, 0, 1000000, 0,
    "Upper-layer reachability hints in a row (0: no limit)")
KNOB("net.inet6.icmp6.nd6_maxqueuelen", nd6_maxqueuelen, 16, 1, 1024, 0,
    "Packets held per neighbor while its address is resolved")
KNOB("net.inet6.icmp6.nd6_gctimer", nd6_gctimer, 86400, 1, 4294967295, 0,
    "Seconds a STALE neighbor entry lives")
KNOB("net.inet6.icmp6.nd6_maxentries", nd6_maxentries, 1024, 1, 1048576, 0,
    "Most neighbor cache entries (ustack)")

/* MLD (net.inet6.mld). */
KNOB("net.inet6.mld.v1enable", mld_v1enable, 1, 0, 1, 0, "Answer MLDv1 queries")
KNOB("net.inet6.mld.use_allow", mld_use_allow, 1, 0, 1, 0,
    "Use ALLOW/BLOCK records for state changes")
