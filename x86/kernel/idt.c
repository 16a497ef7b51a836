/* Interrupt gates only, so the CPU clears IF on every entry: the kernel is never
 * interrupted except where it halts with interrupts on, waiting for work. */
#include <stdint.h>

#include <x86/call_page.h>

#include "gdt.h"
#include "idt.h"
#include "trap.h"

struct gate {
	uint16_t offset_low;
	uint16_t selector;
	uint8_t zero;
	uint8_t type; /* present, ring allowed to raise it, 32-bit interrupt gate */
	uint16_t offset_high;
} __attribute__((packed));

static struct gate idt[256];

enum { GATE_KERNEL = 0x8e, GATE_USER = 0xee };

static void set_gate(unsigned vector, uint32_t handler, uint8_t type)
{
	idt[vector] = (struct gate){.offset_low = (uint16_t)handler,
				    .selector = GDT_KERNEL_CODE,
				    .type = type,
				    .offset_high = (uint16_t)(handler >> 16)};
}

void idt_init(void)
{
	for (unsigned v = 0; v < TRAP_STUB_COUNT; v++)
		set_gate(v, trap_stubs[v], GATE_KERNEL);
	set_gate(X86_TRAP_VECTOR, (uint32_t)trap_stub_kernel_call, GATE_USER);
	struct {
		uint16_t limit;
		uint32_t base;
	} __attribute__((packed)) idtr = {sizeof idt - 1, (uint32_t)idt};
	__asm__ volatile("lidt %0" : : "m"(idtr));
}
