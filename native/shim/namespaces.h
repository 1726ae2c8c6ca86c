/* Namespaces: joins by path, the new time namespace, clone3 of the init, and its id maps. */
#ifndef SKIFF_NAMESPACES_H
#define SKIFF_NAMESPACES_H

#include <sys/types.h>

#include <stdbool.h>

#include "plan.h"

/* setns() into each `join` record's namespace, in record order. */
int namespaces_join(const struct plan *plan);
/* unshare(CLONE_NEWTIME) and write the offsets, so that the next child is born in the new namespace. */
int timens_enter(const struct plan *plan, int procfd);
/* clone3() of the init into new namespaces: returns its pid, 0 in the init, -1 on failure. */
/*
 * clone3 of the init with the plan's new namespaces; born into the cgroup v2 directory `v2fd` when it
 * is not -1. Sets cgroupns_deferred when the init must unshare its cgroup namespace itself.
 */
pid_t clone_init(const struct plan *plan, int v2fd);
extern bool cgroupns_deferred;
/* setgroups, gid_map and uid_map of the init (a new user namespace), through the host's /proc. */
int id_maps_write(const struct plan *plan, int procfd, pid_t init);

#endif
