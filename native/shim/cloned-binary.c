/*
 * CVE-2019-5736: a container that can reach the runtime's process (a shared pid namespace, `exec`)
 * can open /proc/<pid>/exe and, once the runtime has exec'd the container's program, write through it
 * into the runtime's binary on the host. As runc's nsexec did (cloned_binary.c), the shim copies itself
 * into a memfd, seals it against every change, and re-executes from it: /proc/<pid>/exe is then that
 * copy, which nobody can write. A shim that runs from such a copy (F_GET_SEALS on /proc/self/exe)
 * goes on.
 */
#include "cloned-binary.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

static int complain(const char *call, const char *object)
{
	fprintf(stderr, "skiff-shim: %s `%s`: %s\n", call, object, strerror(errno));
	return -1;
}

static int copy_into(int to, int from, off_t size)
{
	off_t done = 0;
	while (done < size) {
		ssize_t n = sendfile(to, from, NULL, (size_t)(size - done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		done += n;
	}
	return 0;
}

int ensure_cloned_binary(char **argv)
{
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		return complain("open", "/proc/self/exe");
	int seals = fcntl(exe, F_GET_SEALS);
	if (seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS) {
		close(exe);
		/* fexecve names the process after its fd number; ps and the probe look for "skiff-shim". */
		prctl(PR_SET_NAME, "skiff-shim", 0, 0, 0);
		return 0;
	}
	struct stat st;
	if (fstat(exe, &st) < 0) {
		complain("fstat", "/proc/self/exe");
		close(exe);
		return -1;
	}
	int memfd = memfd_create("skiff-shim", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (memfd < 0) {
		complain("memfd_create", "skiff-shim");
		close(exe);
		return -1;
	}
	int rc = copy_into(memfd, exe, st.st_size);
	close(exe);
	if (rc < 0)
		complain("sendfile", "/proc/self/exe");
	else if (fcntl(memfd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
		complain("fcntl F_ADD_SEALS", "memfd:skiff-shim");
	else {
		fexecve(memfd, argv, environ);
		complain("fexecve", "memfd:skiff-shim");
	}
	close(memfd);
	return -1;
}
