# netstack/netinet6: the inet6 domain (inet6domain, in6_proto.c): IPv6,
# ICMPv6, neighbor discovery, MLD, raw ICMPv6 sockets and the IPv6 sides of
# UDP and TCP.  Compiled only with UST_INET6 (ustack_opts.h); without it a
# stub keeps the public IPv6 calls linking (they return -UST_EAFNOSUPPORT).
if(UST_OPT_INET6)
  list(APPEND USTACK_NETSTACK_SOURCES
    netstack/netinet6/frag6.c
    netstack/netinet6/icmp6.c
    netstack/netinet6/in6.c
    netstack/netinet6/in6_cksum.c
    netstack/netinet6/in6_ifattach.c
    netstack/netinet6/in6_pcb.c
    netstack/netinet6/in6_proto.c
    netstack/netinet6/in6_route.c
    netstack/netinet6/in6_src.c
    netstack/netinet6/ip6_input.c
    netstack/netinet6/ip6_output.c
    netstack/netinet6/mld6.c
    netstack/netinet6/nd6.c
    netstack/netinet6/nd6_nbr.c
    netstack/netinet6/nd6_rtr.c
    netstack/netinet6/raw_ip6.c
    netstack/netinet6/scope6.c
    netstack/netinet6/udp6_usrreq.c)
else()
  list(APPEND USTACK_NETSTACK_SOURCES netstack/netinet6/in6_none.c)
endif()
