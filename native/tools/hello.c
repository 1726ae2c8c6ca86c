/*
 * hello: the program of skiff's built-in hello-world image (image/hello-world.ts). Static, so the
 * image needs nothing else: one layer holding /hello.
 */
#include <string.h>
#include <unistd.h>

static const char message[] =
	"\n"
	"Hello from skiff!\n"
	"This message shows that your installation appears to be working correctly.\n"
	"\n"
	"To generate this message, skiff took the following steps:\n"
	" 1. The skiff CLI asked the engine for the \"hello-world\" image.\n"
	" 2. The engine found it in the local store (it is built locally, no registry needed).\n"
	" 3. The engine created a container from that image, which runs the\n"
	"    executable that produced the output you are currently reading.\n"
	" 4. skiff-shim relayed that output to the CLI, which sent it to your terminal.\n"
	"\n"
	"To try something more ambitious, make a busybox image from Debian's busybox-static\n"
	"and run a shell in it:\n"
	" $ mkdir -p rootfs/bin && cp /bin/busybox rootfs/bin/ && chroot rootfs /bin/busybox --install -s /bin\n"
	" $ tar -C rootfs -c . | skiff import - busybox\n"
	" $ skiff run -it busybox sh\n"
	"\n";

int main(void)
{
	size_t done = 0, len = sizeof(message) - 1;

	while (done < len) {
		ssize_t n = write(STDOUT_FILENO, message + done, len - done);

		if (n < 0)
			return 1;
		done += (size_t)n;
	}
	return 0;
}
