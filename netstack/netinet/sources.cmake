# netstack/netinet: the Internet domain (inetdomain, in_proto.c): ARP,
# IPv4, ICMP, raw IP, UDP, TCP and its congestion control modules.
list(APPEND USTACK_NETSTACK_SOURCES
  netstack/netinet/if_ether.c
  netstack/netinet/in.c
  netstack/netinet/in_cksum.c
  netstack/netinet/in_pcb.c
  netstack/netinet/in_proto.c
  netstack/netinet/in_route.c
  netstack/netinet/ip_icmp.c
  netstack/netinet/ip_input.c
  netstack/netinet/ip_output.c
  netstack/netinet/ip_reass.c
  netstack/netinet/raw_ip.c
  netstack/netinet/udp_usrreq.c
  netstack/netinet/cc/cc.c
  netstack/netinet/cc/cc_newreno.c
  netstack/netinet/cc/cc_cubic.c
  netstack/netinet/tcp_autobuf.c
  netstack/netinet/tcp_fastopen.c
  netstack/netinet/tcp_input.c
  netstack/netinet/tcp_lro.c
  netstack/netinet/tcp_md5.c
  netstack/netinet/tcp_output.c
  netstack/netinet/tcp_outq.c
  netstack/netinet/tcp_reass.c
  netstack/netinet/tcp_sack.c
  netstack/netinet/tcp_pcblist.c
  netstack/netinet/tcp_prr.c
  netstack/netinet/tcp_subr.c
  netstack/netinet/tcp_syncache.c
  netstack/netinet/tcp_timer.c
  netstack/netinet/tcp_tso.c
  netstack/netinet/tcp_udp_tunnel.c
  netstack/netinet/tcp_usrreq.c
  netstack/netinet/tcp_stacks/tcp_stacks.c
  netstack/netinet/tcp_stacks/rack.c)
