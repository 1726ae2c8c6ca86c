/* Cgroups are made by the engine; the shim only enters them. */
#ifndef SKIFF_CGROUPS_H
#define SKIFF_CGROUPS_H

#include "plan.h"

/* Writes the caller's pid to every `cgroup` record's cgroup.procs, so that its children are born there. */
int cgroups_join(const struct plan *plan);

#endif
