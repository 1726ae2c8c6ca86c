/*
 * Docker's json-file log driver, byte for byte: one JSON object per message
 * {"log":"…","stream":"stdout","time":"…"} with Go's encoding/json escaping, messages cut at 16 KiB
 * (the parts carry no newline), and size-based rotation FILE -> FILE.1 -> … -> FILE.(N-1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"
#include "report.h"
#include "utf8.h"

#define LINE_MAX_BYTES (16 * 1024) /* Docker's logger buffer: longer lines become partial messages */

static struct {
	int fd;
	const char *path;
	uint64_t size, max_size;
	unsigned int max_files;
} log_file = { .fd = -1 };

static struct {
	char buf[LINE_MAX_BYTES];
	size_t len;
} pending[3];

int jsonlog_open(const char *path, uint64_t max_size, unsigned int max_files)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return fail(errno, "open", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return fail(errno, "fstat", path);
	}
	log_file.fd = fd;
	log_file.path = path;
	log_file.size = (uint64_t)st.st_size;
	log_file.max_size = max_size;
	log_file.max_files = max_files ? max_files : 1;
	return 0;
}

void jsonlog_time(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (ts.tv_nsec) {
		char frac[16];
		snprintf(frac, sizeof frac, ".%09ld", ts.tv_nsec);
		size_t end = strlen(frac);
		while (frac[end - 1] == '0')
			frac[--end] = '\0';
		n += (size_t)snprintf(buf + n, size - n, "%s", frac);
	}
	snprintf(buf + n, size - n, "Z");
}


/*
 * The escaped form of one byte sequence as Go's encoding/json writes it (HTML-safe: < > & escaped,
 * U+2028 and U+2029 too, each invalid byte U+FFFD). Writes into out (when not NULL); returns its
 * length and how many input bytes it took.
 */
static size_t escape_one(const unsigned char *p, size_t len, char out[8], size_t *took)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = p[0];
	*took = 1;
	if (c < 0x80) {
		const char *s = NULL;
		switch (c) {
		case '"': s = "\\\""; break;
		case '\\': s = "\\\\"; break;
		case '\n': s = "\\n"; break;
		case '\r': s = "\\r"; break;
		case '\t': s = "\\t"; break;
		default: break;
		}
		if (s) {
			memcpy(out, s, 2);
			return 2;
		}
		if (c < 0x20 || c == '<' || c == '>' || c == '&') {
			memcpy(out, "\\u00", 4);
			out[4] = hex[c >> 4];
			out[5] = hex[c & 15];
			return 6;
		}
		out[0] = (char)c;
		return 1;
	}
	size_t n = utf8_len(p, len);
	if (n == 0) {
		memcpy(out, "\\ufffd", 6);
		return 6;
	}
	*took = n;
	if (n == 3 && p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
		memcpy(out, p[2] == 0xa8 ? "\\u2028" : "\\u2029", 6);
		return 6;
	}
	memcpy(out, p, n);
	return n;
}

static size_t escaped_len(const char *data, size_t len)
{
	size_t total = 0, took;
	char tmp[8];
	for (size_t i = 0; i < len; i += took)
		total += escape_one((const unsigned char *)data + i, len - i, tmp, &took);
	return total;
}

struct out {
	char buf[4096];
	size_t len;
};

static void out_flush(struct out *o)
{
	for (size_t done = 0; done < o->len;) {
		ssize_t n = write(log_file.fd, o->buf + done, o->len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* a full disk loses log lines; it must not stop the container */
		done += (size_t)n;
	}
	o->len = 0;
}

static void out_put(struct out *o, const char *s, size_t n)
{
	if (o->len + n > sizeof o->buf)
		out_flush(o);
	memcpy(o->buf + o->len, s, n);
	o->len += n;
}

static void rotate(void)
{
	if (log_file.max_files <= 1) {
		if (ftruncate(log_file.fd, 0) == 0)
			log_file.size = 0;
		return;
	}
	char from[4096], to[4096];
	for (unsigned int i = log_file.max_files - 1; i >= 1; i--) {
		snprintf(to, sizeof to, "%s.%u", log_file.path, i);
		if (i == 1)
			snprintf(from, sizeof from, "%s", log_file.path);
		else
			snprintf(from, sizeof from, "%s.%u", log_file.path, i - 1);
		rename(from, to); /* ENOENT: that generation does not exist yet */
	}
	int fd = open(log_file.path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return; /* keeps writing to the renamed file rather than lose lines */
	close(log_file.fd);
	log_file.fd = fd;
	log_file.size = 0;
}

static void write_message(int stream, const char *data, size_t len)
{
	if (log_file.fd < 0)
		return;
	static const char *const names[] = { "", "stdout", "stderr" };
	char time[48];
	jsonlog_time(time, sizeof time);
	const char *name = names[stream];
	/* {"log":"…","stream":"…","time":"…"}\n */
	uint64_t total = 8 + escaped_len(data, len) + 12 + strlen(name) + 10 + strlen(time) + 3;
	if (log_file.max_size && log_file.size > 0 && log_file.size + total > log_file.max_size)
		rotate();
	static struct out o;
	o.len = 0;
	out_put(&o, "{\"log\":\"", 8);
	char esc[8];
	size_t took;
	for (size_t i = 0; i < len; i += took) {
		size_t n = escape_one((const unsigned char *)data + i, len - i, esc, &took);
		out_put(&o, esc, n);
	}
	out_put(&o, "\",\"stream\":\"", 12);
	out_put(&o, name, strlen(name));
	out_put(&o, "\",\"time\":\"", 10);
	out_put(&o, time, strlen(time));
	out_put(&o, "\"}\n", 3);
	out_flush(&o);
	log_file.size += total;
}

void jsonlog_write(int stream, const char *data, size_t len)
{
	if (log_file.fd < 0 || stream < 1 || stream > 2)
		return;
	typeof(pending[0]) *p = &pending[stream];
	while (len > 0) {
		size_t room = sizeof p->buf - p->len;
		size_t n = len < room ? len : room;
		const char *nl = memchr(data, '\n', n);
		if (nl)
			n = (size_t)(nl - data) + 1;
		memcpy(p->buf + p->len, data, n);
		p->len += n;
		data += n;
		len -= n;
		if (nl || p->len == sizeof p->buf) {
			write_message(stream, p->buf, p->len);
			p->len = 0;
		}
	}
}

void jsonlog_flush(int stream)
{
	if (stream < 1 || stream > 2 || pending[stream].len == 0)
		return;
	write_message(stream, pending[stream].buf, pending[stream].len);
	pending[stream].len = 0;
}
