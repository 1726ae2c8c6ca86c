// skiff-client: the front of bin/skiff. When a resident service (`skiff system service`) listens on
// $SKIFF_RUNROOT/skiff.sock, the command runs there — warm, without a Node start-up — and this
// program only relays the terminal: argv, cwd, environment and tty facts out; stdout/stderr in;
// stdin when the command reads it; signals and window sizes out; the exit status back. Without a
// service, or when the service declines the command, it execs Node on the CLI bundle as before.
//
// usage: skiff-client NODE SCRIPT [ARG...]
//
// Frames both ways: 1 byte type, 3 zero bytes, 4 bytes big-endian length, payload (as docker's
// attach). See src/cli/service/protocol.ts for the types.
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;

enum {
	TO_HELLO = 1,
	TO_STDIN = 2,
	TO_STDIN_EOF = 3,
	TO_SIGNAL = 4,
	TO_RESIZE = 5,
	FROM_STDOUT = 1,
	FROM_STDERR = 2,
	FROM_EXIT = 3,
	FROM_RAW = 4,
	FROM_DECLINE = 5,
	FROM_READ_STDIN = 6,
	FROM_ACCEPT = 7,
};

static int sigpipe_fds[2] = { -1, -1 };
static struct termios saved_termios;
static int raw_on;

static void on_signal(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;
	if (write(sigpipe_fds[1], &b, 1) < 0) {
		// The pipe is full: the signal is dropped, as a coalesced kernel signal would be.
	}
	errno = saved;
}

static void fallback(char **node_argv) __attribute__((noreturn));
static void fallback(char **node_argv)
{
	execv(node_argv[0], node_argv);
	fprintf(stderr, "skiff: cannot run %s: %s\n", node_argv[0], strerror(errno));
	exit(127);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				struct pollfd pfd = { .fd = fd, .events = POLLOUT };
				poll(&pfd, 1, -1);
				continue;
			}
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_frame(int sock, int type, const void *payload, size_t len)
{
	unsigned char head[8] = { (unsigned char)type, 0, 0, 0, (unsigned char)(len >> 24),
				  (unsigned char)(len >> 16), (unsigned char)(len >> 8), (unsigned char)len };
	if (write_all(sock, head, sizeof head) < 0)
		return -1;
	return len > 0 ? write_all(sock, payload, len) : 0;
}

// The hello: NUL-terminated strings — cwd, "tty0 tty1 tty2", "rows cols", argc, argv..., then env.
struct buf {
	char *data;
	size_t len, cap;
};

static void put(struct buf *b, const char *s)
{
	size_t n = strlen(s) + 1;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->data = realloc(b->data, b->cap);
		if (!b->data) {
			perror("skiff");
			exit(125);
		}
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

static void window_size(char *out, size_t size)
{
	struct winsize ws = { 0 };
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0)
		ws.ws_row = ws.ws_col = 0;
	snprintf(out, size, "%u %u", ws.ws_row, ws.ws_col);
}

static int send_hello(int sock, int argc, char **argv)
{
	struct buf b = { 0 };
	char cwd[4096], text[64];
	put(&b, getcwd(cwd, sizeof cwd) ? cwd : "/");
	snprintf(text, sizeof text, "%d %d %d", isatty(0), isatty(1), isatty(2));
	put(&b, text);
	window_size(text, sizeof text);
	put(&b, text);
	snprintf(text, sizeof text, "%d", argc);
	put(&b, text);
	for (int i = 0; i < argc; i++)
		put(&b, argv[i]);
	for (char **e = environ; *e; e++)
		put(&b, *e);
	int rc = send_frame(sock, TO_HELLO, b.data, b.len);
	free(b.data);
	return rc;
}

static int connect_service(void)
{
	const char *runroot = getenv("SKIFF_RUNROOT");
	if (!runroot || !*runroot)
		runroot = "/run/skiff";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if ((size_t)snprintf(addr.sun_path, sizeof addr.sun_path, "%s/skiff.sock", runroot) >= sizeof addr.sun_path)
		return -1;
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return -1;
	if (connect(sock, (struct sockaddr *)&addr, sizeof addr) < 0) {
		close(sock);
		return -1;
	}
	return sock;
}

static void set_raw(int on)
{
	if (!isatty(STDIN_FILENO) || on == raw_on)
		return;
	if (on) {
		if (tcgetattr(STDIN_FILENO, &saved_termios) < 0)
			return;
		// Exactly libuv's raw mode (uv_tty_set_mode), so a served -it behaves as one run by Node.
		struct termios t = saved_termios;
		t.c_iflag &= ~(tcflag_t)(BRKINT | ICRNL | INPCK | ISTRIP | IXON);
		t.c_oflag |= ONLCR;
		t.c_cflag |= CS8;
		t.c_lflag &= ~(tcflag_t)(ECHO | ICANON | IEXTEN | ISIG);
		t.c_cc[VMIN] = 1;
		t.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSADRAIN, &t);
	} else {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved_termios);
	}
	raw_on = on;
}

static void quit(int status) __attribute__((noreturn));
static void quit(int status)
{
	set_raw(0);
	exit(status);
}

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

// One frame from the service; exits when the command has ended (or runs it here when declined).
static void on_frame(int sock, int *read_stdin, char **node_argv, int *served)
{
	unsigned char head[8];
	if (read_full(sock, head, sizeof head) < 0) {
		if (!*served)
			fallback(node_argv); // the service went away before it took the command: run it here
		fprintf(stderr, "skiff: the service closed the connection before the command ended\n");
		quit(125);
	}
	uint32_t len = (uint32_t)head[4] << 24 | (uint32_t)head[5] << 16 | (uint32_t)head[6] << 8 | head[7];
	char stack[65536];
	char *payload = len <= sizeof stack ? stack : malloc(len);
	if (!payload || (len > 0 && read_full(sock, payload, len) < 0)) {
		fprintf(stderr, "skiff: the service closed the connection before the command ended\n");
		quit(125);
	}
	switch (head[0]) {
	case FROM_STDOUT:
	case FROM_STDERR:
		write_all(head[0] == FROM_STDOUT ? STDOUT_FILENO : STDERR_FILENO, payload, len);
		break;
	case FROM_EXIT: {
		char code[16] = { 0 };
		memcpy(code, payload, len < sizeof code - 1 ? len : sizeof code - 1);
		quit(atoi(code));
	}
	case FROM_RAW:
		set_raw(len > 0 && payload[0] == '1');
		break;
	case FROM_DECLINE:
		close(sock);
		fallback(node_argv);
	case FROM_READ_STDIN:
		*read_stdin = 1;
		break;
	case FROM_ACCEPT:
		*served = 1; // from here on the command runs there, and must never run twice
		break;
	default:
		break;
	}
	if (payload != stack)
		free(payload);
}

static void forward_signal(int sock, int signo)
{
	char text[64];
	if (signo == SIGWINCH) {
		window_size(text, sizeof text);
		send_frame(sock, TO_RESIZE, text, strlen(text));
		return;
	}
	snprintf(text, sizeof text, "%d", signo);
	send_frame(sock, TO_SIGNAL, text, strlen(text));
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: skiff-client NODE SCRIPT [ARG...]\n");
		return 125;
	}
	char **node_argv = argv + 1;
	int sock = connect_service();
	if (sock < 0)
		fallback(node_argv);
	if (pipe2(sigpipe_fds, O_CLOEXEC | O_NONBLOCK) < 0)
		fallback(node_argv);
	const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++)
		sigaction(forwarded[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (send_hello(sock, argc - 3, argv + 3) < 0)
		fallback(node_argv);
	int read_stdin = 0, stdin_open = 1, served = 0;
	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = sigpipe_fds[0], .events = POLLIN },
			{ .fd = read_stdin && stdin_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		if (poll(fds, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			quit(125);
		}
		if (fds[1].revents & POLLIN) {
			unsigned char signo;
			while (read(sigpipe_fds[0], &signo, 1) == 1)
				forward_signal(sock, signo);
		}
		if (fds[2].revents & (POLLIN | POLLHUP | POLLERR)) {
			char chunk[65536];
			ssize_t n = read(STDIN_FILENO, chunk, sizeof chunk);
			if (n > 0) {
				send_frame(sock, TO_STDIN, chunk, (size_t)n);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				stdin_open = 0;
				send_frame(sock, TO_STDIN_EOF, NULL, 0);
			}
		}
		if (fds[0].revents & (POLLIN | POLLHUP | POLLERR))
			on_frame(sock, &read_stdin, node_argv, &served);
	}
}
