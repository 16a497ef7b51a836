/* The one instruction between a program and the x86 kernel (x86/include/x86/call_page.h
 * says what each operation does). */
#ifndef LIBPK_X86_TRAP_H
#define LIBPK_X86_TRAP_H

#include <stdint.h>

#include <x86/call_page.h>

static inline int32_t x86_trap(enum x86_trap_op op, uint32_t operand)
{
	int32_t status;
	__asm__ volatile("int $0x80" : "=a"(status) : "a"(op), "b"(operand) : "memory");
	return status;
}

static inline struct x86_call_page *x86_call_page(void)
{
	return (struct x86_call_page *)X86_CALL_PAGE;
}

/* Called by crt0.S with the stack ready: builds argv from the boot record, runs main and
 * exits with its status. */
__attribute__((noreturn)) void pk__x86_start(void);

#endif
