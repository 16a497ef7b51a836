/* bytes-server: the baseline for bench_http. It serves what httpd's /bytes/N serves (the
 * same generator, servers/httpd/http_bytes.c) over Linux's own TCP, with keep-alive, so a
 * run can put PackOS's HTTP beside Linux's on the same machine. Only GET /bytes/N;
 * anything else is answered 404. One thread, poll(2), non-blocking sockets.
 *   bytes-server ADDRESS PORT */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_bytes.h"

#define CLIENTS	   64
#define CHUNK_SIZE (64 * 1024)

struct client {
	int fd; /* -1: free */
	char request[4096];
	size_t request_length;
	char head[256];
	size_t head_length, head_sent;
	uint64_t body_size, body_sent;
};

static struct client clients[CLIENTS];
static uint8_t chunk[CHUNK_SIZE];

/* Takes a complete request from the buffer, if there is one, and starts its response. */
static void take_request(struct client *c)
{
	char *end = memmem(c->request, c->request_length, "\r\n\r\n", 4);
	if (end == NULL)
		return;
	unsigned long long n = 0;
	bool found = sscanf(c->request, "GET /bytes/%llu ", &n) == 1;
	c->body_size = found ? n : 0;
	c->body_sent = 0;
	c->head_sent = 0;
	c->head_length = (size_t)snprintf(
		c->head, sizeof c->head,
		"HTTP/1.1 %s\r\nContent-Type: application/octet-stream\r\nContent-Length: "
		"%llu\r\n\r\n",
		found ? "200 OK" : "404 Not Found", (unsigned long long)c->body_size);
	size_t used = (size_t)(end + 4 - c->request);
	memmove(c->request, c->request + used, c->request_length - used);
	c->request_length -= used;
}

static bool responding(const struct client *c)
{
	return c->head_sent < c->head_length || c->body_sent < c->body_size;
}

/* Writes what the socket takes; false when the connection is over. */
static bool write_response(struct client *c)
{
	while (responding(c)) {
		ssize_t n;
		if (c->head_sent < c->head_length) {
			n = send(c->fd, c->head + c->head_sent, c->head_length - c->head_sent,
				 MSG_NOSIGNAL);
			if (n > 0)
				c->head_sent += (size_t)n;
		} else {
			uint64_t left = c->body_size - c->body_sent;
			size_t length = left < CHUNK_SIZE ? (size_t)left : CHUNK_SIZE;
			http_bytes_fill(c->body_sent, chunk, length);
			n = send(c->fd, chunk, length, MSG_NOSIGNAL);
			if (n > 0)
				c->body_sent += (uint64_t)n;
		}
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK;
	}
	return true;
}

/* Reads and answers what it can; false when the connection is over. */
static bool serve(struct client *c)
{
	for (;;) {
		if (!write_response(c))
			return false;
		if (responding(c))
			return true;
		take_request(c);
		if (responding(c))
			continue;
		if (c->request_length == sizeof c->request)
			return false;
		ssize_t n = recv(c->fd, c->request + c->request_length,
				 sizeof c->request - c->request_length, 0);
		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			return false;
		if (n < 0)
			return true;
		c->request_length += (size_t)n;
	}
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bytes-server ADDRESS PORT\n");
		return 2;
	}
	struct sockaddr_in6 addr = {.sin6_family = AF_INET6,
				    .sin6_port = htons((uint16_t)atoi(argv[2]))};
	int listener = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (inet_pton(AF_INET6, argv[1], &addr.sin6_addr) != 1 ||
	    bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0 || listen(listener, 64) < 0) {
		perror("bytes-server");
		return 1;
	}
	for (int i = 0; i < CLIENTS; i++)
		clients[i].fd = -1;
	for (;;) {
		struct pollfd set[CLIENTS + 1] = {{.fd = listener, .events = POLLIN}};
		for (int i = 0; i < CLIENTS; i++)
			set[i + 1] = (struct pollfd){
				.fd = clients[i].fd,
				.events = (short)(responding(&clients[i]) ? POLLOUT : POLLIN)};
		if (poll(set, CLIENTS + 1, -1) < 0 && errno != EINTR) {
			perror("bytes-server: poll");
			return 1;
		}
		int fd;
		while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
			int i = 0;
			while (i < CLIENTS && clients[i].fd >= 0)
				i++;
			if (i == CLIENTS) {
				close(fd);
				continue;
			}
			clients[i] = (struct client){.fd = fd};
		}
		for (int i = 0; i < CLIENTS; i++) {
			if (clients[i].fd >= 0 && set[i + 1].revents != 0 && !serve(&clients[i])) {
				close(clients[i].fd);
				clients[i].fd = -1;
			}
		}
	}
}
