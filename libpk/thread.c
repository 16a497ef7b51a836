/* Threads and contexts (pk/thread.h): the context calls are plain kernel calls; threads are
 * the port's (backend_thread_start). pk_recv_any is in pk.c, beside pk_recv. */
#include <pk/thread.h>

#include "backend.h"

static int call(unsigned nr, uint64_t a0, uint64_t a1, struct pk_kresult *r)
{
	struct pk_kcall c = {.nr = nr, .arg = {a0, a1, 0}};
	return pk_call(&c, r);
}

int pk_context_create(pk_context_t *ret_context)
{
	struct pk_kresult r;
	int err = call(PK_KC_context_create, 0, 0, &r);
	if (err == 0)
		*ret_context = r.ret[0];
	return err;
}

int pk_context_destroy(pk_context_t context)
{
	struct pk_kresult r;
	return call(PK_KC_context_destroy, context, 0, &r);
}

int pk_context_bind(pk_context_t context, pk_endpoint_t endpoint, unsigned *ret_slot)
{
	struct pk_kresult r;
	int err = call(PK_KC_context_bind, context, endpoint, &r);
	if (err == 0 && ret_slot != NULL)
		*ret_slot = (unsigned)r.ret[0];
	return err;
}

int pk_context_unbind(pk_context_t context, pk_endpoint_t endpoint)
{
	struct pk_kresult r;
	return call(PK_KC_context_unbind, context, endpoint, &r);
}

int pk_thread_start(struct pk_thread *thread, void (*body)(void *arg), void *arg)
{
	return backend_thread_start(body, arg, &thread->backend);
}

int pk_thread_join(struct pk_thread *thread)
{
	int err = backend_thread_join(thread->backend);
	thread->backend = 0;
	return err;
}
