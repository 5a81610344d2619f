# netstack/net: interfaces, Ethernet framing and the routing table.
list(APPEND USTACK_NETSTACK_SOURCES
  netstack/net/if.c
  netstack/net/if_ethersubr.c
  netstack/net/route.c)
