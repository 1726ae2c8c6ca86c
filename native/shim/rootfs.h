/* The container's filesystem: mounts resolved inside the rootfs, devices, masks, sysctls, the pivot. */
#ifndef SKIFF_ROOTFS_H
#define SKIFF_ROOTFS_H

#include "init.h"
#include "plan.h"

int step_propagation(struct init_ctx *ctx, const struct record *r);
int step_rootfs(struct init_ctx *ctx, const struct record *r);
int step_mount(struct init_ctx *ctx, const struct record *r);
int step_remount(struct init_ctx *ctx, const struct record *r);
int step_propagate(struct init_ctx *ctx, const struct record *r);
int step_mknod(struct init_ctx *ctx, const struct record *r);
int step_symlink(struct init_ctx *ctx, const struct record *r);
int step_mask(struct init_ctx *ctx, const struct record *r);
int step_readonly(struct init_ctx *ctx, const struct record *r);
int step_sysctl(struct init_ctx *ctx, const struct record *r);
int step_remount_root(struct init_ctx *ctx, const struct record *r);
int step_pivot(struct init_ctx *ctx, const struct record *r);
int step_mkdir_cwd(struct init_ctx *ctx, const struct record *r);

#endif
