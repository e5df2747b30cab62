# tools/ -- purchasectl, the operator's tool.
sbin_PROGRAMS += tools/purchasectl
tools_purchasectl_SOURCES = tools/purchasectl.c
tools_purchasectl_LDADD = lib/libpurchase.la
