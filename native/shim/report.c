/* JSON-line messages on the sync fd, with the one failure of the process recorded where it happens. */
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "utf8.h"

static int sync_fd = -1;

static struct {
	const char *step;
	int index;
} current = { "shim", -1 };

static struct {
	bool set;
	bool reported;
	int err;
	const char *step;
	int index;
	char syscall[32];
	char path[PATH_MAX];
	char detail[512];
} failure;

void report_set_fd(int fd)
{
	sync_fd = fd;
}

int report_fd(void)
{
	return sync_fd;
}

void report_close(void)
{
	if (sync_fd >= 0)
		close(sync_fd);
	sync_fd = -1;
}

void report_step(const char *step, int index)
{
	current.step = step;
	current.index = index;
}

static void copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

int failf(int err, const char *syscall, const char *path, const char *fmt, ...)
{
	if (failure.set)
		return -1;
	failure.set = true;
	failure.err = err;
	failure.step = current.step;
	failure.index = current.index;
	copy(failure.syscall, sizeof failure.syscall, syscall);
	copy(failure.path, sizeof failure.path, path);
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(failure.detail, sizeof failure.detail, fmt, ap);
		va_end(ap);
	}
	errno = err;
	return -1;
}

int fail(int err, const char *syscall, const char *path)
{
	return failf(err, syscall, path, NULL);
}

void report_forget_failure(void)
{
	if (!failure.reported)
		memset(&failure, 0, sizeof failure);
}

/* A growable line would be overkill: the longest message holds two paths of PATH_MAX, escaped. */
struct line {
	char buf[65536];
	size_t len;
	bool overflow;
};

static void put(struct line *l, const char *s, size_t n)
{
	if (l->len + n >= sizeof l->buf) {
		l->overflow = true;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

static void puts_raw(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}


static void put_string(struct line *l, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];
	put(l, "\"", 1);
	while (*p) {
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(l, esc, 2);
			p++;
		} else if (*p == '\n') {
			puts_raw(l, "\\n");
			p++;
		} else if (*p == '\t') {
			puts_raw(l, "\\t");
			p++;
		} else if (*p < 0x20) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			puts_raw(l, esc);
			p++;
		} else if (*p < 0x80) {
			put(l, (const char *)p, 1);
			p++;
		} else {
			size_t n = utf8_len(p, strlen((const char *)p)); /* JSON must be UTF-8; paths need not be */
			if (n) {
				put(l, (const char *)p, n);
				p += n;
			} else {
				/* A byte that is not UTF-8 becomes U+FFFD, as a UTF-8 decoder would make it. */
				puts_raw(l, "\\ufffd");
				p++;
			}
		}
	}
	put(l, "\"", 1);
}

static void put_field(struct line *l, const char *key, const char *value)
{
	puts_raw(l, l->len > 1 ? ",\"" : "\"");
	puts_raw(l, key);
	puts_raw(l, "\":");
	put_string(l, value);
}

static void put_number(struct line *l, const char *key, long long value)
{
	char num[32];
	snprintf(num, sizeof num, "%lld", value);
	puts_raw(l, l->len > 1 ? ",\"" : "\"");
	puts_raw(l, key);
	puts_raw(l, "\":");
	puts_raw(l, num);
}

/* Writes all of buf; MSG_NOSIGNAL so that an engine gone away is EPIPE, not a SIGPIPE death. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, buf, len); /* a pipe or tty when run by hand */
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int send_line(struct line *l)
{
	puts_raw(l, "}\n");
	if (l->overflow)
		return fail(EOVERFLOW, "report", "");
	int fd = sync_fd >= 0 ? sync_fd : STDERR_FILENO;
	if (write_all(fd, l->buf, l->len) < 0)
		return fail(errno, "write", "sync fd");
	return 0;
}

static struct line *begin(const char *type)
{
	static struct line l;
	l.len = 0;
	l.overflow = false;
	puts_raw(&l, "{");
	put_field(&l, "type", type);
	return &l;
}

static void compose_message(char *msg, size_t size)
{
	const char *why = strerror(failure.err);
	int n = snprintf(msg, size, "%s", failure.step);
	if (failure.path[0] && n >= 0 && (size_t)n < size)
		n += snprintf(msg + n, size - (size_t)n, " `%s`", failure.path);
	if (failure.detail[0] && n >= 0 && (size_t)n < size)
		n += snprintf(msg + n, size - (size_t)n, ": %s", failure.detail);
	if (n >= 0 && (size_t)n < size)
		snprintf(msg + n, size - (size_t)n, ": %s", why);
}

void report_failure(void)
{
	static char msg[PATH_MAX + 1024];
	if (!failure.set) /* a bug: a path returned -1 without saying why */
		failf(EIO, "", "", "failed without a recorded cause");
	if (failure.reported)
		return;
	failure.reported = true;
	compose_message(msg, sizeof msg);

	struct line *l = begin("error");
	put_field(l, "step", failure.step);
	if (failure.index >= 0)
		put_number(l, "index", failure.index);
	put_field(l, "path", failure.path);
	const char *name = strerrorname_np(failure.err);
	put_field(l, "errno", name ? name : "EUNKNOWN");
	put_number(l, "code", failure.err);
	if (failure.syscall[0])
		put_field(l, "syscall", failure.syscall);
	put_field(l, "message", msg);
	if (send_line(l) < 0 && sync_fd >= 0) {
		/* The engine is gone; stderr is the last place left to say why the create failed. */
		dprintf(STDERR_FILENO, "skiff-shim: %s\n", msg);
	}
}

int report_pid(pid_t pid)
{
	struct line *l = begin("pid");
	put_number(l, "pid", pid);
	return send_line(l);
}

/* The monitor's own "created" pipe (report.h); -1 without a monitor. */
static int created_fd = -1;

void report_set_created_fd(int fd)
{
	created_fd = fd;
}

int report_created(void)
{
	int rc = send_line(begin("created"));
	if (created_fd >= 0) {
		ssize_t n;
		do
			n = write(created_fd, "c", 1);
		while (n < 0 && errno == EINTR);
		close(created_fd);
		created_fd = -1;
	}
	return rc;
}

int report_sync(const char *name)
{
	struct line *l = begin("sync");
	put_field(l, "name", name);
	return send_line(l);
}
