/*
 * The plan's `host-mount` records (PLAN.md): the container's rootfs mounted by the shim in the host's
 * mount namespace before the init is cloned, and unmounted again when the create fails.
 */
#ifndef SKIFF_ROOTFS_MOUNTS_H
#define SKIFF_ROOTFS_MOUNTS_H

#include <stdbool.h>

#include "plan.h"

bool host_mounts_planned(const struct plan *plan);
/* Each `host-mount` in record order; 0, or -1 after fail() (what was mounted stays until undo). */
int host_mounts_perform(const struct plan *plan);
/* A failed create: unmounts what host_mounts_perform() mounted, the last first. */
void host_mounts_undo(void);
/* The container was created: its mounts are the monitor's (--unmount) and the engine's now. */
void host_mounts_forget(void);

#endif
