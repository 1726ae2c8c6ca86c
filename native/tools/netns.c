/*
 * skiff-netns: makes and removes the pinned network namespaces of network/netns.ts (Node can neither
 * unshare nor mount). A pinned namespace outlives every process in it, so CNI can set it up before
 * the container exists and tear it down after the container is gone (DESIGN.md, "Process model").
 *
 *   skiff-netns create PATH   a new network namespace, loopback up, bind-mounted on PATH (a new file)
 *   skiff-netns remove PATH   unmounts PATH if it is mounted and removes the file (absent: success)
 *
 * create refuses an existing PATH (O_EXCL), so two callers never share a namespace by accident; on
 * failure it leaves no file behind. On failure: one line naming the operation, the path and the errno,
 * exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

static int fail(const char *op, const char *path)
{
	int err = errno;
	fprintf(stderr, "skiff-netns: %s `%s`: %s (%s)\n", op, path, strerrorname_np(err) ? strerrorname_np(err) : "E?",
		strerror(err));
	return 1;
}

/* A new namespace's loopback is down; containers and CNI plugins expect it up (runc and netavark do this). */
static int loopback_up(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct ifreq req;
	memset(&req, 0, sizeof(req));
	strcpy(req.ifr_name, "lo");
	int rc = ioctl(fd, SIOCGIFFLAGS, &req);
	if (rc == 0) {
		req.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &req);
	}
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

static int create(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0444);
	if (fd < 0)
		return fail("create", path);
	close(fd);
	const char *op = NULL;
	if (unshare(CLONE_NEWNET) < 0)
		op = "unshare(CLONE_NEWNET) for";
	else if (loopback_up() < 0)
		op = "bring up the loopback of";
	else if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
		op = "bind-mount the namespace on";
	if (!op)
		return 0;
	int err = errno;
	unlink(path);
	errno = err;
	return fail(op, path);
}

static int remove_pinned(const char *path)
{
	/* EINVAL: not a mount point (a create that failed, or a second remove). */
	if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL && errno != ENOENT)
		return fail("umount", path);
	if (unlink(path) < 0 && errno != ENOENT)
		return fail("unlink", path);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "create") == 0)
		return create(argv[2]);
	if (argc == 3 && strcmp(argv[1], "remove") == 0)
		return remove_pinned(argv[2]);
	fprintf(stderr, "usage: skiff-netns create PATH\n"
			"       skiff-netns remove PATH\n");
	return 2;
}
