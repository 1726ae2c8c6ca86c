/* CVE-2019-5736: the shim runs from a sealed memfd copy of itself, never from the host's file. */
#ifndef SKIFF_CLONED_BINARY_H
#define SKIFF_CLONED_BINARY_H

/* Returns when the shim already runs from a sealed copy; otherwise re-executes from one (or fails, -1). */
int ensure_cloned_binary(char **argv);

#endif
