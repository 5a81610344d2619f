# The pcap writer: a capture hook for any interface (ustack_pcap.h).
ustack_driver(NAME pcap
  DOC "Compile the pcap writer"
  SOURCES pcap_writer.c
  HEADERS include/ustack/ustack_pcap.h)
