/* `console-relay` (PLAN.md): the shim in --foreground receives the pty master itself and relays it. */
#ifndef SKIFF_RELAY_H
#define SKIFF_RELAY_H

#include <signal.h>
#include <stdbool.h>

#include "plan.h"

/* Before the fork: a socketpair whose one end the `terminal` step sends the master over. */
int relay_prepare(const struct plan *plan);
bool relay_active(void);
/*
 * As sigwaitinfo(waited) for the foreground loop, relaying stdin → master → stdout meanwhile; handles
 * SIGWINCH itself (the pty gets the shim's terminal size; the kernel signals the container).
 */
int relay_next_signal(const sigset_t *waited);
/* After the container's exit: what it still wrote, then the caller's terminal mode back. */
void relay_finish(void);
/* The monitor runs its own loop: it takes the socket the master comes over (-1 without a relay). */
int relay_take_socket(void);

#endif
