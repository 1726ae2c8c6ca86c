/* Namespaces: joins by path, the new time namespace, clone3 of the init, and its id maps. */
#ifndef SKIFF_NAMESPACES_H
#define SKIFF_NAMESPACES_H

#include <sys/types.h>

#include "plan.h"

/* setns() into each `join` record's namespace, in record order. */
int namespaces_join(const struct plan *plan);
/* unshare(CLONE_NEWTIME) and write the offsets, so that the next child is born in the new namespace. */
int timens_enter(const struct plan *plan, int procfd);
/* clone3() of the init into new namespaces: returns its pid, 0 in the init, -1 on failure. */
pid_t clone_init(const struct plan *plan);
/* setgroups, gid_map and uid_map of the init (a new user namespace), through the host's /proc. */
int id_maps_write(const struct plan *plan, int procfd, pid_t init);

#endif
