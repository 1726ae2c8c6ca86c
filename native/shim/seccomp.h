/* The seccomp filter (PLAN.md, "Security records"): built record by record with libseccomp, loaded by `seccomp-load`. */
#ifndef SKIFF_SECCOMP_H
#define SKIFF_SECCOMP_H

#include "init.h"
#include "plan.h"

/* Parse-time check of `seccomp`, `seccomp-arch` and `seccomp-rule` (action names, conditions). */
int seccomp_check_record(const struct record *r);

struct seccomp_program;
/*
 * Builds the filter of records p->first … p->load - 1 with libseccomp, as the steps would, and sets
 * p->insns (malloc'd BPF), p->ninsns, p->flags and p->notify. -1 when it cannot; nothing is reported.
 */
int seccomp_compile(const struct plan *plan, struct seccomp_program *p);

int step_seccomp(struct init_ctx *ctx, const struct record *r);
int step_seccomp_arch(struct init_ctx *ctx, const struct record *r);
int step_seccomp_rule(struct init_ctx *ctx, const struct record *r);
int step_seccomp_load(struct init_ctx *ctx, const struct record *r);
/* Connects to the seccomp agent (listenerPath) while host paths are reachable; `seccomp-load` sends to it. */
int step_seccomp_listener(struct init_ctx *ctx, const struct record *r);

#endif
