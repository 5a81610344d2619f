# netstack/net: interfaces and Ethernet framing (no network protocol: the
# domains register their ethertypes, see tests/cmake/kern_protocols.sh).
list(APPEND USTACK_NETSTACK_SOURCES
  netstack/net/if.c
  netstack/net/if_ethersubr.c
  netstack/net/toeplitz.c)
