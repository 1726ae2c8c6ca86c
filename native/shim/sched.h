/* Per-process scheduling the init sets for the container's program: I/O priority, CPU scheduler, personality. */
#ifndef SKIFF_SCHED_H
#define SKIFF_SCHED_H

#include "init.h"

int step_ioprio(struct init_ctx *ctx, const struct record *r);
int step_sched(struct init_ctx *ctx, const struct record *r);
int step_personality(struct init_ctx *ctx, const struct record *r);

#endif
