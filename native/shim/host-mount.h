/*
 * Mounts in the caller's own mount namespace (the host's), shared by the shim's `host-mount` record
 * and the skiff-mount tool: no report.c here, failures come back as the failing call and errno.
 */
#ifndef SKIFF_HOST_MOUNT_H
#define SKIFF_HOST_MOUNT_H

/*
 * mount(source, target, type, flags, data) onto the directory target, opened O_PATH|O_NOFOLLOW
 * first (the mount goes onto /proc/self/fd/N, so a symlink swapped in at target cannot redirect it).
 * cwd (may be empty) is where relative paths in data resolve (overlay's short lowerdir links); the
 * caller's working directory is restored afterwards. A bind is a bind followed by a remount with its
 * ro/nosuid/nodev/noexec flags (the kernel ignores them on the first call). Returns 0, or -1 with
 * errno set and *op naming the failing call (`chdir`, `open`, `mount`, `remount`).
 */
int host_mount(const char *target, const char *type, const char *source, unsigned long flags, const char *data,
	       const char *cwd, const char **op);

/*
 * umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW) while target is still a mount point, at most `max`
 * times (one per stacked mount). Returns the number unmounted, or -1 with errno set when the first
 * attempt fails for another reason than "not a mount point" (EINVAL).
 */
int host_unmount(const char *target, int max);

#endif
