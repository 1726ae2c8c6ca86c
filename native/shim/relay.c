/*
 * The runtime's own terminal relay (runc run -t without --console-socket): the init sends the master
 * to the shim over a socketpair instead of a caller's socket; the shim, which stays in the foreground,
 * puts its terminal in raw mode, copies its window size to the pty, and relays bytes both ways.
 */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "report.h"
#include "terminal.h"

static int relay_sock = -1; /* our end of the socketpair, until the master has come */
static int master = -1;
static int sigfd = -1;
static bool input_open = true;
static bool raw;
static struct termios saved;

int relay_prepare(const struct plan *plan)
{
	if (!plan->relay)
		return 0;
	report_step(plan->relay->name, plan->relay->index);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return fail(errno, "socketpair", "console relay");
	relay_sock = sv[0];
	terminal_use_socket(sv[1]);
	return 0;
}

bool relay_active(void)
{
	return relay_sock >= 0 || master >= 0;
}

static void copy_size(void)
{
	struct winsize size;
	if (master >= 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &size) == 0)
		ioctl(master, TIOCSWINSZ, &size);
}

static void receive_master(void)
{
	char payload[64], control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof payload };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
	ssize_t n = recvmsg(relay_sock, &msg, MSG_CMSG_CLOEXEC);
	struct cmsghdr *cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
		memcpy(&master, CMSG_DATA(cmsg), sizeof master);
	if (n < 0 && errno == EINTR)
		return;
	close(relay_sock);
	relay_sock = -1;
	if (master < 0)
		return;
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
		struct termios mode = saved;
		cfmakeraw(&mode);
		raw = tcsetattr(STDIN_FILENO, TCSANOW, &mode) == 0;
	}
	copy_size();
}

static bool pump(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	for (ssize_t done = 0; done < n;) {
		ssize_t w = write(to, buf + done, (size_t)(n - done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return false;
		done += w;
	}
	return true;
}

int relay_next_signal(const sigset_t *waited)
{
	if (sigfd < 0)
		sigfd = signalfd(-1, waited, SFD_CLOEXEC);
	for (;;) {
		struct pollfd fds[4] = {
			{ .fd = sigfd, .events = POLLIN },
			{ .fd = relay_sock, .events = POLLIN },
			{ .fd = master >= 0 && input_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = master, .events = POLLIN },
		};
		if (poll(fds, 4, -1) < 0)
			continue; /* EINTR: every signal we take is blocked and read from sigfd */
		if (fds[0].revents & POLLIN) {
			struct signalfd_siginfo info;
			if (read(sigfd, &info, sizeof info) == (ssize_t)sizeof info) {
				if ((int)info.ssi_signo != SIGWINCH || master < 0)
					return (int)info.ssi_signo;
				copy_size();
			}
		}
		if (fds[1].revents)
			receive_master();
		if (fds[3].revents && !pump(master, STDOUT_FILENO)) {
			/* EIO: every slave fd is closed; the container is going. Its exit comes as SIGCHLD. */
			close(master);
			master = -1;
		}
		if (fds[2].revents && !pump(STDIN_FILENO, master))
			input_open = false;
	}
}

void relay_finish(void)
{
	while (master >= 0) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		if (poll(&pfd, 1, 200) <= 0 || !pump(master, STDOUT_FILENO)) {
			close(master);
			master = -1;
		}
	}
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	raw = false;
}

int relay_take_socket(void)
{
	int fd = relay_sock;
	relay_sock = -1;
	return fd;
}
