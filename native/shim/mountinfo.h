#ifndef SKIFF_MOUNTINFO_H
#define SKIFF_MOUNTINFO_H

/*
 * pivot_root(2) refuses a new root whose parent mount is shared (EINVAL). When the configured
 * rootfsPropagation leaves it shared, make that one mount private in our namespace, as runc's
 * rootfsParentMountPrivate does. Returns 0, or -1 after fail().
 */
int make_parent_mount_private(const char *path);

#endif
