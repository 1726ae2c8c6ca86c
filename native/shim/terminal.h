/* The container's terminal (PLAN.md `console-socket`, `terminal`): a pty whose master goes to the caller. */
#ifndef SKIFF_TERMINAL_H
#define SKIFF_TERMINAL_H

#include "init.h"
#include "plan.h"

/*
 * Connects to the `console-socket` of the plan, if any, in the shim itself: before any namespace is
 * joined or made, so that the path is the caller's. Returns 0 (or -1 after fail()).
 */
int terminal_connect(const struct plan *plan);
/* Closes the socket in a process that will not send the master (the shim once it has forked). */
void terminal_forget(void);
/* The socket to send the master over, made by the shim itself (`console-relay`). */
void terminal_use_socket(int fd);

int step_terminal(struct init_ctx *ctx, const struct record *r);

#endif
