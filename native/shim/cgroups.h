/* Cgroups are made by the engine; the shim only enters them. */
#ifndef SKIFF_CGROUPS_H
#define SKIFF_CGROUPS_H

#include "plan.h"

/*
 * Enters the cgroups of the `cgroup` records, so that the init is born in them. On cgroup v1 the
 * caller's own thread moves (the intermediate is single-threaded); a cgroup v2 directory is not
 * joined but returned in *v2fd (or -1) for clone3(CLONE_INTO_CGROUP). See cgroups.c for why.
 */
int cgroups_join(const struct plan *plan, int *v2fd);

/* Moves the caller into the cgroup v2 directory `dirfd` by cgroup.procs (when clone3 cannot). */
int cgroups_join_v2_procs(int dirfd);

#endif
