/* AppArmor and SELinux (PLAN.md, "Security records"): exec labels for the container's program. */
#ifndef SKIFF_LSM_H
#define SKIFF_LSM_H

#include "init.h"
#include "plan.h"

/* At parse time, on the host: a requested profile or label needs the LSM, else a clear error. */
int lsm_check_host(const struct record *r);

int step_apparmor(struct init_ctx *ctx, const struct record *r);
int step_selinux_label(struct init_ctx *ctx, const struct record *r);
int step_selinux_mount_label(struct init_ctx *ctx, const struct record *r);

#endif
