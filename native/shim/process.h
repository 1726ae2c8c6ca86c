/* The process the container runs: limits, identity, environment, and the exec itself. */
#ifndef SKIFF_PROCESS_H
#define SKIFF_PROCESS_H

#include "init.h"
#include "plan.h"

int step_become_root(struct init_ctx *ctx, const struct record *r);
int step_oom_score_adj(struct init_ctx *ctx, const struct record *r);
int step_hostname(struct init_ctx *ctx, const struct record *r);
int step_domainname(struct init_ctx *ctx, const struct record *r);
int step_rlimit(struct init_ctx *ctx, const struct record *r);
int step_user(struct init_ctx *ctx, const struct record *r);
int step_umask(struct init_ctx *ctx, const struct record *r);
int step_cwd(struct init_ctx *ctx, const struct record *r);
int step_env(struct init_ctx *ctx, const struct record *r);
int step_sync(struct init_ctx *ctx, const struct record *r);
/* Returns only on a failure that can still be reported (before `created`). */
int step_exec(struct init_ctx *ctx, const struct record *r);

#endif
