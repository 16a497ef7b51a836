/* The legacy PICs. Only IRQ 0 (the PIT) is unmasked: devices are for user-space drivers,
 * which will get their interrupts as KAN packets. */
#include "io.h"
#include "pic.h"
#include "trap.h"

enum {
	MASTER_COMMAND = 0x20,
	MASTER_DATA = 0x21,
	SLAVE_COMMAND = 0xa0,
	SLAVE_DATA = 0xa1,
	INIT_WITH_ICW4 = 0x11,
	MODE_8086 = 0x01,
	END_OF_INTERRUPT = 0x20,
};

void pic_init(void)
{
	outb(MASTER_COMMAND, INIT_WITH_ICW4);
	outb(SLAVE_COMMAND, INIT_WITH_ICW4);
	outb(MASTER_DATA, TRAP_IRQ_BASE);
	outb(SLAVE_DATA, TRAP_IRQ_BASE + 8);
	outb(MASTER_DATA, 1 << 2); /* the slave hangs off IRQ 2 */
	outb(SLAVE_DATA, 2);
	outb(MASTER_DATA, MODE_8086);
	outb(SLAVE_DATA, MODE_8086);
	outb(MASTER_DATA, 0xfe); /* IRQ 0 only */
	outb(SLAVE_DATA, 0xff);
}

void pic_end_of_interrupt(unsigned irq)
{
	if (irq >= 8)
		outb(SLAVE_COMMAND, END_OF_INTERRUPT);
	outb(MASTER_COMMAND, END_OF_INTERRUPT);
}
