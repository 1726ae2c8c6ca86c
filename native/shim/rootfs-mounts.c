/* `host-mount` records: mounts of the shim in the host's mount namespace (rootfs-mounts.h). */
#include "rootfs-mounts.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "host-mount.h"
#include "report.h"

static char **mounted; /* targets, in mount order */
static size_t nmounted;

bool host_mounts_planned(const struct plan *plan)
{
	for (size_t i = 0; i < plan->nrecords; i++)
		if (plan->records[i].op == OP_HOST_MOUNT)
			return true;
	return false;
}

static int remember(const char *target)
{
	char **grown = realloc(mounted, (nmounted + 1) * sizeof *grown);
	char *copy = strdup(target);
	if (grown)
		mounted = grown;
	if (!grown || !copy) {
		free(copy);
		/* Mounted but not remembered: undo it now, as the failure will not reach it. */
		umount2(target, MNT_DETACH | UMOUNT_NOFOLLOW);
		return fail(ENOMEM, "malloc", target);
	}
	mounted[nmounted++] = copy;
	return 0;
}

int host_mounts_perform(const struct plan *plan)
{
	for (size_t i = 0; i < plan->nrecords; i++) {
		const struct record *r = &plan->records[i];
		if (r->op != OP_HOST_MOUNT)
			continue;
		const char *target = r->argv[0], *cwd = r->argv[5], *op = "mount";
		report_step(r->name, r->index);
		if (host_mount(target, r->argv[1], r->argv[2], (unsigned long)r->num[3], r->argv[4], cwd, &op) < 0) {
			int err = errno;
			if (strcmp(op, "chdir") == 0)
				return fail(err, op, cwd);
			return failf(err, op, target, "%s `%s` on `%s`", r->argv[1], r->argv[2], target);
		}
		if (remember(target) < 0)
			return -1;
	}
	return 0;
}

void host_mounts_undo(void)
{
	for (size_t i = nmounted; i > 0; i--)
		umount2(mounted[i - 1], MNT_DETACH | UMOUNT_NOFOLLOW);
	host_mounts_forget();
}

void host_mounts_forget(void)
{
	for (size_t i = 0; i < nmounted; i++)
		free(mounted[i]);
	free(mounted);
	mounted = NULL;
	nmounted = 0;
}
