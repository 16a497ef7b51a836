/* The backend of fake_backend.h: backend.h implemented over the fake port's kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <pk/netif.h>

#include "backend.h"
#include "fake_backend.h"

struct fake_backend fake_backend;

void fake_backend_start(struct fake_port *port, pk_proc_t proc, const uint64_t *iids,
			unsigned count)
{
	assert_true(count <= FAKE_BACKEND_ENDPOINTS);
	fake_backend = (struct fake_backend){.port = port, .proc = proc, .endpoint_count = count};
	for (unsigned i = 0; i < count; i++) {
		fake_backend.endpoint[i] = fake_port_endpoint(port, proc, iids[i]);
		fake_port_address(port, iids[i], fake_backend.address[i]);
	}
}

int backend_init(struct backend_boot *ret_boot)
{
	*ret_boot = (struct backend_boot){.name = "test",
					  .endpoint_count = fake_backend.endpoint_count};
	memcpy(ret_boot->kan_prefix, fake_backend.port->cfg.kan_prefix, PK_KAN_PREFIX_SIZE);
	for (unsigned i = 0; i < fake_backend.endpoint_count; i++) {
		ret_boot->endpoint[i] = fake_backend.endpoint[i];
		memcpy(ret_boot->address[i], fake_backend.address[i], PK_IPV6_ADDR_SIZE);
	}
	return 0;
}

void backend_call_batch(const struct backend_call *calls, struct pk_kresult *results,
			unsigned count)
{
	fake_backend.batches++;
	for (unsigned i = 0; i < count; i++) {
		if (calls[i].linked && i > 0 && results[i - 1].status < 0) {
			results[i] = (struct pk_kresult){.status = -PK_ECANCELED};
			continue;
		}
		kernel_call(fake_backend.port->k, fake_backend.proc, &calls[i].call, &results[i]);
		if (calls[i].wait && results[i].status == -PK_EWOULDBLOCK) {
			if (calls[i].wait_ms == 0)
				fail_msg("a receive would wait for ever on an empty queue");
			fake_backend.now_ns += (uint64_t)calls[i].wait_ms * 1000000u;
			results[i].status = -PK_ETIMEDOUT;
		}
	}
}

uint8_t *backend_frame_map(pk_frame_t frame)
{
	return fake_port_frame_bytes(fake_backend.port, frame);
}

void backend_frame_unmap(pk_frame_t frame, uint8_t *data)
{
	(void)frame, (void)data;
}

/* As the simulator's remap isolation, so that tests reach the lazy paths. */
bool backend_lazy_mapping_pays(void)
{
	return true;
}

int backend_frame_read(pk_frame_t frame, uint32_t offset, void *buffer, uint32_t length)
{
	const uint8_t *data = fake_port_frame_bytes(fake_backend.port, frame);
	if (data == NULL)
		return -PK_EINVAL;
	memcpy(buffer, data + offset, length);
	return 0;
}

int backend_frame_write(pk_frame_t frame, uint32_t offset, const void *buffer, uint32_t length)
{
	uint8_t *data = fake_port_frame_bytes(fake_backend.port, frame);
	if (data == NULL)
		return -PK_EINVAL;
	memcpy(data + offset, buffer, length);
	return 0;
}

uint64_t backend_now_ns(void)
{
	return fake_backend.now_ns;
}

/* Predictable on purpose: a test's run is the same every time. */
void backend_random(void *buffer, uint32_t length)
{
	uint8_t *at = buffer;
	for (uint32_t i = 0; i < length; i++)
		at[i] = (uint8_t)(i * 37u + 11u);
}

void backend_sleep_ns(uint64_t ns)
{
	fake_backend.now_ns += ns;
}

/* The hosted kernel serves one caller: no threads. */
int backend_thread_start(void (*body)(void *arg), void *arg, void **ret_thread)
{
	(void)body, (void)arg, (void)ret_thread;
	return -PK_ENOTSUP;
}

int backend_thread_join(void *thread)
{
	(void)thread;
	return -PK_EINVAL;
}

/* One thread: nothing can change a word while the program waits on it. */
void backend_yield(void)
{
}

int backend_wait(_Atomic uint32_t *word, uint32_t expected, uint64_t timeout_ns)
{
	if (*word != expected)
		return 0;
	if (timeout_ns == BACKEND_WAIT_FOREVER)
		fail_msg("a wait would last for ever: no other thread can change the word");
	fake_backend.now_ns += timeout_ns;
	return -PK_ETIMEDOUT;
}

void backend_wake(_Atomic uint32_t *word, unsigned count)
{
	(void)word, (void)count;
}

int fake_backend_group_teardown(void **state)
{
	(void)state;
	fake_port_stop(fake_backend.port);
	return 0;
}

void fake_backend_send_as(pk_proc_t proc, const uint8_t *bytes, uint32_t length)
{
	struct fake_port *port = fake_backend.port;
	pk_frame_t frame = fake_port_frame(port, proc);
	memcpy(fake_port_frame_bytes(port, frame), bytes, length);
	assert_int_equal(fake_port_call(port, proc, PK_KC_send, frame, length, 0, NULL), 0);
}

uint32_t fake_backend_receive_as(pk_proc_t proc, pk_endpoint_t endpoint, uint8_t *buffer)
{
	struct fake_port *port = fake_backend.port;
	struct pk_kresult r;
	if (fake_port_call(port, proc, PK_KC_recv, endpoint, 0, 0, &r) < 0)
		return 0;
	uint32_t length = PK_RECV_LENGTH(r.ret[1]);
	memcpy(buffer, fake_port_frame_bytes(port, r.ret[0]), length);
	assert_int_equal(fake_port_call(port, proc, PK_KC_frame_free, r.ret[0], 0, 0, NULL), 0);
	return length;
}

void fake_backend_assert_clean(void)
{
	pk_netif_trim(); /* its spares are the program's to keep, not a leak */
	struct kernel_proc_info info;
	assert_int_equal(kernel_proc_info(fake_backend.port->k, fake_backend.proc, &info), 0);
	assert_int_equal(info.frames_owned, 0);
	fake_port_assert_audit(fake_backend.port);
}
