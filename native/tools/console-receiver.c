/*
 * console-receiver: a tiny conmon for tests. Listens on a unix socket, receives the pty master that a
 * runtime sends for process.terminal (SCM_RIGHTS, as runc's --console-socket), and relays: its stdin
 * to the master, the master to its stdout, until the container's side of the pty is closed.
 *
 *   console-receiver SOCKET        prints "listening" then "received PAYLOAD" on stderr
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char *what)
{
	fprintf(stderr, "console-receiver: %s: %s\n", what, strerror(errno));
	return 1;
}

static int receive_fd(int conn, char *payload, size_t size)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = payload, .iov_len = size - 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
	ssize_t n;
	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	payload[n] = '\0';
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	if (!cmsg || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
		errno = EBADMSG;
		return -1;
	}
	int fd;
	memcpy(&fd, CMSG_DATA(cmsg), sizeof fd);
	return fd;
}

static bool copy(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof buf);
	if (n <= 0)
		return n < 0 && (errno == EINTR || errno == EAGAIN);
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

static void relay(int master)
{
	struct pollfd fds[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = master, .events = POLLIN } };
	for (;;) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		/* The master first: what the container said before it hung up must still come out. */
		if (fds[1].revents & POLLIN) {
			if (!copy(master, STDOUT_FILENO))
				return;
			continue;
		}
		if (fds[1].revents & (POLLHUP | POLLERR))
			return;
		if (fds[0].revents & (POLLIN | POLLHUP)) {
			if (!copy(STDIN_FILENO, master))
				fds[0].fd = -1; /* our input ended; the container may still talk */
		}
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: console-receiver SOCKET\n");
		return 2;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", argv[1]);
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return die("socket");
	unlink(argv[1]);
	if (bind(sock, (struct sockaddr *)&addr, sizeof addr) < 0)
		return die("bind");
	if (listen(sock, 1) < 0)
		return die("listen");
	fprintf(stderr, "listening\n");
	int conn = accept4(sock, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		return die("accept");
	char payload[256];
	int master = receive_fd(conn, payload, sizeof payload);
	if (master < 0)
		return die("recvmsg");
	close(conn);
	close(sock);
	unlink(argv[1]);
	fprintf(stderr, "received %s\n", payload);
	relay(master);
	return 0;
}
