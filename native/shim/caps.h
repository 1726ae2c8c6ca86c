/* Capabilities and no_new_privs (PLAN.md, "Security records"), in runc's order around `user`. */
#ifndef SKIFF_CAPS_H
#define SKIFF_CAPS_H

#include "init.h"
#include "plan.h"

int step_bounding(struct init_ctx *ctx, const struct record *r);
int step_keep_caps(struct init_ctx *ctx, const struct record *r);
int step_caps(struct init_ctx *ctx, const struct record *r);
int step_no_new_privs(struct init_ctx *ctx, const struct record *r);

#endif
