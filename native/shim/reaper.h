/* `reaper` (PLAN.md): Docker's --init, the init stays PID 1 and the program runs as its child. */
#ifndef SKIFF_REAPER_H
#define SKIFF_REAPER_H

#include "init.h"
#include "plan.h"

int step_reaper(struct init_ctx *ctx, const struct record *r);

#endif
