/* OCI hooks run by the init: createContainer (before the pivot) and startContainer (after start). */
#ifndef SKIFF_HOOKS_H
#define SKIFF_HOOKS_H

#include "init.h"

/* `hook-state WHEN`: reads the state JSON for the hooks of WHEN (`create` or `start`) from the sync fd. */
int step_hook_state(struct init_ctx *ctx, const struct record *r);
/* `hook WHEN PATH TIMEOUT NARGS ARGS… ENV…`: runs it now (`now`) or queues it for after start. */
int step_hook(struct init_ctx *ctx, const struct record *r);
/* Runs the queued startContainer hooks, in order; on failure says why on stderr and returns -1. */
int hooks_run_start(void);
/* Parse-time check of a `hook` record's shape; returns a message or NULL. */
const char *hook_check(const struct record *r);

#endif
