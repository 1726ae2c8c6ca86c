/*
 * The container's terminal, as runc makes it: the process opens /dev/ptmx of the container (after the
 * pivot, or after joining the container's mount namespace), so the pty lives in the container's devpts;
 * it sends the master over the console socket (SCM_RIGHTS, with "/dev/ptmx" as the payload, as runc's
 * utils.SendRawFd of console.NewPty()'s file), and makes the slave its controlling terminal and stdio.
 */
#include "terminal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "report.h"

static int console_socket = -1;

int terminal_connect(const struct plan *plan)
{
	const struct record *r = plan->console;
	if (!r)
		return 0;
	report_step(r->name, r->index);
	const char *path = r->argv[0];
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof addr.sun_path)
		return failf(ENAMETOOLONG, "connect", path, "a unix socket path holds at most %zu bytes",
			     sizeof addr.sun_path - 1);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(errno, "socket", path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
		int err = errno;
		close(fd);
		return fail(err, "connect", path);
	}
	console_socket = fd;
	return 0;
}

void terminal_use_socket(int fd)
{
	console_socket = fd;
}

void terminal_forget(void)
{
	if (console_socket >= 0)
		close(console_socket);
	console_socket = -1;
}

static int send_master(int sock, int master)
{
	static const char payload[] = "/dev/ptmx";
	char control[CMSG_SPACE(sizeof(int))];
	memset(control, 0, sizeof control);
	struct iovec iov = { .iov_base = (void *)payload, .iov_len = sizeof payload - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &master, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n < 0 ? fail(errno, "sendmsg", "console socket") : 0;
}

/* runc's mountConsole: the slave bound on /dev/console (created empty when missing). */
static int mount_console(const char *slave)
{
	int fd = open("/dev/console", O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail(errno, "open", "/dev/console");
	close(fd);
	if (mount(slave, "/dev/console", NULL, MS_BIND, NULL) < 0)
		return failf(errno, "mount", "/dev/console", "bind %s on /dev/console", slave);
	return 0;
}

/* The slave becomes the controlling terminal and fds 0, 1 and 2; it is given to the process's user. */
static int take_slave(const char *slave, const struct record *r)
{
	int fd = open(slave, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno, "open", slave);
	int rc = 0;
	if (fchown(fd, (uid_t)r->num[2], (gid_t)r->num[3]) < 0)
		rc = fail(errno, "fchown", slave);
	else if (setsid() < 0)
		rc = fail(errno, "setsid", slave);
	else if (ioctl(fd, TIOCSCTTY, 0) < 0)
		rc = fail(errno, "ioctl(TIOCSCTTY)", slave);
	for (int i = 0; rc == 0 && i <= 2; i++)
		if (dup3(fd, i, 0) < 0)
			rc = fail(errno, "dup3", slave);
	close(fd);
	return rc;
}

int step_terminal(struct init_ctx *ctx, const struct record *r)
{
	(void)ctx;
	if (console_socket < 0)
		return failf(EBADF, "sendmsg", "console socket", "the plan has a `terminal` but no `console-socket` or `console-relay`");
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return fail(errno, "open", "/dev/ptmx");
	int rc = 0;
	char slave[64];
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		rc = fail(errno, "ioctl(TIOCSPTLCK)", "/dev/ptmx");
	else if (ptsname_r(master, slave, sizeof slave) != 0)
		rc = fail(errno, "ptsname", "/dev/ptmx");
	struct winsize size = { .ws_row = (unsigned short)r->num[0], .ws_col = (unsigned short)r->num[1] };
	if (rc == 0 && (size.ws_row || size.ws_col) && ioctl(master, TIOCSWINSZ, &size) < 0)
		rc = fail(errno, "ioctl(TIOCSWINSZ)", slave);
	if (rc == 0 && strcmp(r->argv[4], "console") == 0)
		rc = mount_console(slave);
	if (rc == 0)
		rc = send_master(console_socket, master);
	/* Neither the master nor the socket may reach the container's program. */
	close(master);
	terminal_forget();
	return rc < 0 ? rc : take_slave(slave, r);
}
