/*
 * The monitor's event loop (poll + signalfd): the container's output to the log and to every attach
 * client, the clients' frames to the container, and on the init's exit the drain, the exit record,
 * the EXIT frames and the exit command. Nothing here blocks: a slow client is dropped, not waited on.
 */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "intermediate.h"
#include "relay.h"
#include "report.h"

enum frame {
	F_STDIN = 0,
	F_STDOUT = 1,
	F_STDERR = 2,
	F_EXIT = 0x10,
	F_RESIZE = 0x11,
	F_CLAIM = 0x12,
	F_CLEANUP_DONE = 0x13,
	F_HELLO = 0x14,
};

#define CLIENT_QUEUE_MAX (4u << 20)
#define STDIN_QUEUE_MAX (1u << 20)
#define DRAIN_QUIET_MS 200
#define FLUSH_GRACE_MS 2000

struct buf {
	char *data;
	size_t head, len, cap;
};

struct client {
	int fd;
	struct buf q;
	unsigned char hdr[8];
	size_t hdr_len;
	uint32_t need, got;
	unsigned char resize[4];
	bool claimed, shut;
};

static const struct monitor_options *opts;
static int listen_fd = -1, sig_fd = -1, relay_fd = -1, master = -1;
static int out_r = -1, err_r = -1, in_w = -1;
static int created_r = -1, created_w = -1; /* a byte once the init reported `created` */
static bool created;
static int child_in = -1, child_out = -1, child_err = -1;
static struct buf stdin_q;
static bool stdin_closing;
static struct client *clients;
static size_t nclients;
static bool exited, cleanup_done, claim_lost;
static char exit_json[256];
static int exit_json_len;

static int devnull(void)
{
	return open("/dev/null", O_RDWR | O_CLOEXEC);
}

static int set_nonblock(int fd)
{
	int flags = fcntl(fd, F_GETFL);
	return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/*
 * DIR/attach as a socket address. A unix socket path holds 107 bytes; a longer DIR is reached
 * through an fd of it (/proc/self/fd/N/attach, which the kernel resolves at bind/connect time), so a
 * deep run root works too. *dirfd is that fd (closed by the caller after the call), or -1.
 */
static int attach_address(const char *dir, struct sockaddr_un *addr, int *dirfd)
{
	*dirfd = -1;
	int n = snprintf(addr->sun_path, sizeof addr->sun_path, "%s/attach", dir);
	if (n >= 0 && (size_t)n < sizeof addr->sun_path)
		return 0;
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return fail(errno, "open", dir);
	snprintf(addr->sun_path, sizeof addr->sun_path, "/proc/self/fd/%d/attach", *dirfd);
	return 0;
}

static int bind_attach(const char *dir)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int dirfd;
	if (attach_address(dir, &addr, &dirfd) < 0)
		return -1;
	int rc = -1;
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (listen_fd < 0) {
		fail(errno, "socket", addr.sun_path);
		goto out;
	}
	unlink(addr.sun_path);
	mode_t mask = umask(0177);
	int bound = bind(listen_fd, (struct sockaddr *)&addr, sizeof addr);
	umask(mask);
	if (bound < 0)
		fail(errno, "bind", addr.sun_path);
	else if (listen(listen_fd, 64) < 0)
		fail(errno, "listen", addr.sun_path);
	else
		rc = 0;
out:
	if (dirfd >= 0)
		close(dirfd);
	return rc;
}

static int write_pid_file(const char *dir)
{
	char path[4096], pid[32];
	snprintf(path, sizeof path, "%s/monitor.pid", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(errno, "open", path);
	int len = snprintf(pid, sizeof pid, "%d", getpid());
	int rc = write(fd, pid, (size_t)len) == len ? 0 : fail(errno ? errno : EIO, "write", path);
	close(fd);
	return rc;
}

static int make_stdio(const struct plan *plan)
{
	int p[2];
	if (plan->relay) {
		/* The init makes the pty slave its stdio; until then, and for the shim, nothing. */
		child_in = devnull();
		child_out = devnull();
		child_err = devnull();
		if (child_in < 0 || child_out < 0 || child_err < 0)
			return fail(errno, "open", "/dev/null");
		relay_fd = relay_take_socket();
		return 0;
	}
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(errno, "pipe2", "stdout");
	out_r = p[0];
	child_out = p[1];
	if (pipe2(p, O_CLOEXEC) < 0)
		return fail(errno, "pipe2", "stderr");
	err_r = p[0];
	child_err = p[1];
	if (opts->stdin_pipe) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return fail(errno, "pipe2", "stdin");
		child_in = p[0];
		in_w = p[1];
	} else if ((child_in = devnull()) < 0) {
		return fail(errno, "open", "/dev/null");
	}
	set_nonblock(out_r);
	set_nonblock(err_r);
	if (in_w >= 0)
		set_nonblock(in_w);
	return 0;
}

int monitor_prepare(const struct monitor_options *o, const struct plan *plan, sigset_t *old)
{
	opts = o;
	report_step("monitor", -1);
	setsid(); /* EPERM when the engine already made us a session leader: as good */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return fail(errno, "prctl", "PR_SET_CHILD_SUBREAPER");
	if (make_stdio(plan) < 0)
		return -1;
	if (o->log && jsonlog_open(o->log, o->log_max_size, o->log_max_files) < 0)
		return -1;
	if (bind_attach(o->dir) < 0 || write_pid_file(o->dir) < 0)
		return -1;
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return fail(errno, "pipe2", "created");
	created_r = pipefd[0];
	created_w = pipefd[1];
	set_nonblock(created_r);
	report_set_created_fd(created_w);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, old);
	return 0;
}

void monitor_child_stdio(void)
{
	dup2(child_in, STDIN_FILENO);
	dup2(child_out, STDOUT_FILENO);
	dup2(child_err, STDERR_FILENO);
	/* A `reaper` init never execs: it must not keep the monitor's ends (stdin would never see EOF). */
	int mine[] = { child_in, child_out, child_err, out_r, err_r, in_w, listen_fd, relay_fd, created_r };
	for (size_t i = 0; i < sizeof mine / sizeof mine[0]; i++)
		if (mine[i] > STDERR_FILENO)
			close(mine[i]);
}

/* --- buffers and clients --- */

static bool buf_put(struct buf *b, const void *data, size_t len)
{
	if (len == 0)
		return true;
	if (b->head > 0 && b->head + b->len + len > b->cap) {
		memmove(b->data, b->data + b->head, b->len);
		b->head = 0;
	}
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		char *grown = realloc(b->data, cap);
		if (!grown)
			return false;
		b->data = grown;
		b->cap = cap;
	}
	memcpy(b->data + b->head + b->len, data, len);
	b->len += len;
	return true;
}

static void buf_drop(struct buf *b, size_t n)
{
	b->head += n;
	b->len -= n;
	if (b->len == 0) {
		b->head = 0;
		/* An idle monitor keeps no big buffer around. */
		if (b->cap > 65536) {
			free(b->data);
			b->data = NULL;
			b->cap = 0;
		}
	}
}

static void buf_free(struct buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

static void client_drop(size_t i)
{
	struct client *c = &clients[i];
	if (c->claimed && !cleanup_done)
		claim_lost = true;
	close(c->fd);
	buf_free(&c->q);
	clients[i] = clients[--nclients];
}

/* Sends what the socket takes now; false when the client is broken. */
static bool client_flush(struct client *c)
{
	while (c->q.len > 0) {
		ssize_t n = send(c->fd, c->q.data + c->q.head, c->q.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n < 0)
			return false;
		buf_drop(&c->q, (size_t)n);
	}
	if (c->shut)
		shutdown(c->fd, SHUT_WR);
	return true;
}

static bool client_send(struct client *c, int type, const void *data, size_t len)
{
	unsigned char hdr[8] = { (unsigned char)type, 0, 0, 0, (unsigned char)(len >> 24), (unsigned char)(len >> 16),
				 (unsigned char)(len >> 8), (unsigned char)len };
	if (c->q.len + sizeof hdr + len > CLIENT_QUEUE_MAX)
		return false; /* it does not read: it must not hold the container or the log back */
	bool was_empty = c->q.len == 0;
	if (!buf_put(&c->q, hdr, sizeof hdr) || !buf_put(&c->q, data, len))
		return false;
	return !was_empty || client_flush(c);
}

static void broadcast(int type, const void *data, size_t len)
{
	for (size_t i = 0; i < nclients;) {
		if (!clients[i].shut && !client_send(&clients[i], type, data, len))
			client_drop(i);
		else
			i++;
	}
}

/* EXIT, then the end of the server's side once it is sent. */
static bool send_exit(struct client *c)
{
	bool ok = client_send(c, F_EXIT, exit_json, (size_t)exit_json_len);
	c->shut = true;
	if (ok && c->q.len == 0)
		shutdown(c->fd, SHUT_WR);
	return ok;
}

static void accept_clients(void)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		struct client *grown = realloc(clients, (nclients + 1) * sizeof *grown);
		if (!grown) {
			close(fd);
			return;
		}
		clients = grown;
		struct client *c = &clients[nclients++];
		memset(c, 0, sizeof *c);
		c->fd = fd;
		bool ok = client_send(c, F_HELLO, NULL, 0);
		if (ok && exited)
			ok = send_exit(c);
		if (!ok)
			client_drop(nclients - 1);
	}
}

/* --- input from clients --- */

static int input_fd(void)
{
	return master >= 0 ? master : in_w;
}

static void stdin_close(void)
{
	if (master >= 0) {
		/* A terminal has no end of input but the line discipline's: VEOF (^D) at the line start. */
		buf_put(&stdin_q, "\x04", 1);
		return;
	}
	stdin_closing = true;
	if (stdin_q.len == 0 && in_w >= 0) {
		close(in_w);
		in_w = -1;
	}
}

static void stdin_flush(void)
{
	int fd = input_fd();
	if (fd < 0 && relay_fd < 0)
		buf_drop(&stdin_q, stdin_q.len); /* the input is gone (a terminal's master closed) */
	while (fd >= 0 && stdin_q.len > 0) {
		ssize_t n = write(fd, stdin_q.data + stdin_q.head, stdin_q.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0) {
			/* The container closed its stdin: what is left has no reader. */
			buf_drop(&stdin_q, stdin_q.len);
			break;
		}
		buf_drop(&stdin_q, (size_t)n);
	}
	if (stdin_closing && stdin_q.len == 0 && in_w >= 0) {
		close(in_w);
		in_w = -1;
	}
}

static void frame_done(struct client *c)
{
	switch (c->hdr[0]) {
	case F_STDIN:
		if (c->need == 0 && opts->stdin_pipe)
			stdin_close();
		break;
	case F_RESIZE:
		if (c->need >= 4 && master >= 0) {
			struct winsize ws = { .ws_row = (unsigned short)(c->resize[0] << 8 | c->resize[1]),
					      .ws_col = (unsigned short)(c->resize[2] << 8 | c->resize[3]) };
			ioctl(master, TIOCSWINSZ, &ws);
		}
		break;
	case F_CLAIM:
		c->claimed = true;
		break;
	case F_CLEANUP_DONE:
		if (c->claimed)
			cleanup_done = true;
		break;
	default:
		break; /* unknown frames are skipped: newer clients may say more */
	}
	c->hdr_len = 0;
}

/* Consumes bytes of the client's frames; false when the client breaks the protocol. */
static bool client_parse(struct client *c, const unsigned char *p, size_t len)
{
	while (len > 0) {
		if (c->hdr_len < 8) {
			size_t n = 8 - c->hdr_len < len ? 8 - c->hdr_len : len;
			memcpy(c->hdr + c->hdr_len, p, n);
			c->hdr_len += n;
			p += n;
			len -= n;
			if (c->hdr_len < 8)
				break;
			c->need = (uint32_t)c->hdr[4] << 24 | (uint32_t)c->hdr[5] << 16 | (uint32_t)c->hdr[6] << 8 | c->hdr[7];
			c->got = 0;
			if (c->need == 0) {
				frame_done(c);
				continue;
			}
		}
		size_t n = c->need - c->got < len ? c->need - c->got : len;
		/* Without --stdin (a terminal too) the container's input is nobody's: data is dropped. */
		if (c->hdr[0] == F_STDIN && opts->stdin_pipe && !stdin_closing && !buf_put(&stdin_q, p, n))
			return false;
		for (size_t i = 0; c->hdr[0] == F_RESIZE && i < n && c->got + i < 4; i++)
			c->resize[c->got + i] = p[i];
		c->got += (uint32_t)n;
		p += n;
		len -= n;
		if (c->got == c->need)
			frame_done(c);
	}
	return true;
}

static void client_input(size_t i)
{
	struct client *c = &clients[i];
	unsigned char buf[8192];
	ssize_t n = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0 || !client_parse(c, buf, (size_t)n)) {
		client_drop(i);
		return;
	}
	stdin_flush();
}

/* --- output of the container --- */

static char io_buf[16384];

/* Reads one chunk of a stream; false at its end. */
static bool pump_output(int fd, int stream)
{
	ssize_t n = read(fd, io_buf, sizeof io_buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false; /* EOF, or EIO from a master whose slaves are all closed */
	jsonlog_write(stream, io_buf, (size_t)n);
	broadcast(stream, io_buf, (size_t)n);
	return true;
}

static void close_output(int *fd, int stream)
{
	close(*fd);
	*fd = -1;
	jsonlog_flush(stream);
}

static void receive_master(void)
{
	char payload[64], control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = payload, .iov_len = sizeof payload };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
	ssize_t n = recvmsg(relay_fd, &msg, MSG_CMSG_CLOEXEC);
	if (n < 0 && errno == EINTR)
		return;
	struct cmsghdr *cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
	if (cmsg && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
		memcpy(&master, CMSG_DATA(cmsg), sizeof master);
		set_nonblock(master);
	}
	close(relay_fd);
	relay_fd = -1;
}

/* --- the loop --- */

/* Whether the init reported `created` (its byte is in the pipe before its exit is seen). */
static bool check_created(void)
{
	char byte;
	if (!created && created_r >= 0 && read(created_r, &byte, 1) == 1)
		created = true;
	if (created && created_r >= 0) {
		close(created_r);
		created_r = -1;
	}
	return created;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


struct children {
	pid_t intermediate, init;
	bool intermediate_failed;
	int init_status;
	bool init_exited;
};

static void reap(struct children *ch)
{
	struct signalfd_siginfo info;
	while (read(sig_fd, &info, sizeof info) == (ssize_t)sizeof info)
		;
	int status;
	pid_t pid;
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == ch->intermediate) {
			ch->intermediate = 0;
			if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
				ch->intermediate_failed = true;
			/* Its work is done: the engine sees EOF on the sync fd once the init has closed it too. */
			report_close();
		} else if (pid == ch->init) {
			ch->init_status = status;
			ch->init_exited = true;
			/* No periodic command runs for a container that is gone. */
			monitor_timer_stop();
		} else {
			monitor_timer_reaped(pid);
		}
	}
}

static void record_exit(int status)
{
	exit_json_len = monitor_write_exit(opts->dir, status, opts->oom_file, exit_json, sizeof exit_json);
	if (exit_json_len < 0) /* the clients still learn it; the engine will find no file and reconcile */
		exit_json_len = (int)strlen(exit_json);
	exited = true;
	for (size_t i = 0; i < nclients;)
		if (!send_exit(&clients[i]))
			client_drop(i);
		else
			i++;
}

static bool clients_flushed(void)
{
	for (size_t i = 0; i < nclients; i++)
		if (clients[i].q.len > 0)
			return false;
	return true;
}

static bool claimed(void)
{
	for (size_t i = 0; i < nclients; i++)
		if (clients[i].claimed)
			return true;
	return false;
}

enum { P_SIG, P_LISTEN, P_OUT, P_ERR, P_MASTER, P_RELAY, P_STDIN, P_TIMER, P_CLIENTS };

static void finish(void)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/attach", opts->dir);
	unlink(path);
	for (size_t i = nclients; i > 0; i--)
		client_drop(i - 1);
	free(clients);
	buf_free(&stdin_q);
	close(listen_fd);
	close(sig_fd);
	monitor_timer_stop();
	if (created_r >= 0)
		close(created_r);
}

int monitor_run(pid_t intermediate, int pid_r, struct plan *plan)
{
	/* The engine's process may go at any moment: no signal of its session may take the monitor. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	int null = devnull();
	for (int fd = 0; null >= 0 && fd <= 2; fd++)
		dup2(null, fd);
	if (null > STDERR_FILENO)
		close(null);
	close(child_in);
	close(child_out);
	close(child_err);
	report_set_created_fd(-1);
	close(created_w);
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sig_fd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);

	struct children ch = { .intermediate = intermediate, .init = intermediate_read_init_pid(pid_r) };
	plan_free(plan); /* the rest of the monitor's life needs none of it */
	if (ch.init == 0 || sig_fd < 0) {
		while (waitpid(intermediate, NULL, 0) < 0 && errno == EINTR)
			;
		finish();
		return 1;
	}

	int timer_fd = opts->timer.interval_ms ? monitor_timer_start(&opts->timer) : -1;
	long quiet_since = 0, exited_at = 0;
	bool drained = false;
	struct pollfd *fds = NULL;
	for (;;) {
		if (ch.init_exited && !drained &&
		    ((out_r < 0 && err_r < 0 && master < 0) || now_ms() - quiet_since >= DRAIN_QUIET_MS))
			drained = true;
		if (drained && !exited && !check_created()) {
			/* The create failed (the engine has its error): no exit to record, no cleanup to run. */
			finish();
			free(fds);
			return 1;
		}
		if (drained && !exited) {
			jsonlog_flush(1);
			jsonlog_flush(2);
			/* Before the record: whoever sees the exit may take the rootfs for gone (rm, export). */
			if (opts->unmount)
				monitor_unmount(opts->unmount);
			record_exit(ch.init_status);
			exited_at = now_ms();
		}
		/* The end: nobody (left) to wait for, and the EXIT frames sent (or a grace period over). */
		if (exited && (cleanup_done || claim_lost || !claimed()) &&
		    (clients_flushed() || now_ms() - exited_at >= FLUSH_GRACE_MS)) {
			finish();
			free(fds);
			if (!cleanup_done)
				monitor_exit_command(opts->exit_command, opts->exit_args);
			return 0;
		}
		struct pollfd *grown = realloc(fds, (P_CLIENTS + nclients) * sizeof *fds);
		if (!grown)
			continue;
		fds = grown;
		bool stdin_full = stdin_q.len > STDIN_QUEUE_MAX;
		fds[P_SIG] = (struct pollfd){ .fd = sig_fd, .events = POLLIN };
		fds[P_LISTEN] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
		fds[P_OUT] = (struct pollfd){ .fd = out_r, .events = POLLIN };
		fds[P_ERR] = (struct pollfd){ .fd = err_r, .events = POLLIN };
		fds[P_MASTER] = (struct pollfd){ .fd = master, .events = POLLIN };
		fds[P_RELAY] = (struct pollfd){ .fd = relay_fd, .events = POLLIN };
		fds[P_STDIN] = (struct pollfd){ .fd = stdin_q.len && master < 0 ? in_w : -1, .events = POLLOUT };
		fds[P_TIMER] = (struct pollfd){ .fd = ch.init_exited ? -1 : timer_fd, .events = POLLIN };
		if (master >= 0 && stdin_q.len)
			fds[P_MASTER].events |= POLLOUT;
		for (size_t i = 0; i < nclients; i++)
			fds[P_CLIENTS + i] = (struct pollfd){ .fd = clients[i].fd,
							      .events = (short)((stdin_full ? 0 : POLLIN) |
										(clients[i].q.len ? POLLOUT : 0)) };
		int timeout = -1;
		if (ch.init_exited && !drained)
			timeout = DRAIN_QUIET_MS;
		else if (exited && !clients_flushed())
			timeout = 100;
		int n = poll(fds, P_CLIENTS + nclients, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			continue; /* a child left behind may hold the pipes: 200 ms of quiet is the end (above) */
		if (fds[P_SIG].revents) {
			bool was_running = !ch.init_exited;
			reap(&ch);
			if (ch.intermediate_failed) {
				/* It has reported why; the engine kills what is left and the monitor is not needed. */
				finish();
				free(fds);
				return 1;
			}
			if (was_running && ch.init_exited)
				quiet_since = now_ms();
		}
		size_t before = nclients;
		for (size_t i = before; i > 0; i--) {
			short ev = fds[P_CLIENTS + i - 1].revents;
			if (ev & POLLOUT && !client_flush(&clients[i - 1]))
				client_drop(i - 1);
			else if (ev & (POLLIN | POLLHUP | POLLERR))
				client_input(i - 1);
		}
		if (fds[P_LISTEN].revents)
			accept_clients();
		if (fds[P_TIMER].revents && !ch.init_exited)
			monitor_timer_fire();
		if (fds[P_RELAY].revents)
			receive_master();
		if (fds[P_STDIN].revents)
			stdin_flush();
		if (fds[P_MASTER].revents & POLLOUT)
			stdin_flush();
		bool data = false;
		if (fds[P_OUT].revents) {
			data = true;
			if (!pump_output(out_r, F_STDOUT))
				close_output(&out_r, 1);
		}
		if (fds[P_ERR].revents) {
			data = true;
			if (!pump_output(err_r, F_STDERR))
				close_output(&err_r, 2);
		}
		if (fds[P_MASTER].revents & (POLLIN | POLLHUP | POLLERR)) {
			data = true;
			if (!pump_output(master, F_STDOUT)) {
				close(master);
				master = -1;
				jsonlog_flush(1);
			}
		}
		if (data && ch.init_exited)
			quiet_since = now_ms();
	}
}
