/* COM1, polled. Output only: the kernel's console and, through it, every program's. */
#include <stdint.h>

#include "io.h"
#include "serial.h"

enum {
	COM1 = 0x3f8,
	DATA = 0,
	INTERRUPTS = 1,
	DIVISOR_LOW = 0,
	DIVISOR_HIGH = 1,
	FIFO = 2,
	LINE_CONTROL = 3,
	MODEM_CONTROL = 4,
	LINE_STATUS = 5,
	TRANSMIT_EMPTY = 0x20,
	DIVISOR_LATCH = 0x80,
};

void serial_init(void)
{
	outb(COM1 + INTERRUPTS, 0);
	outb(COM1 + LINE_CONTROL, DIVISOR_LATCH);
	outb(COM1 + DIVISOR_LOW, 1); /* 115200 baud */
	outb(COM1 + DIVISOR_HIGH, 0);
	outb(COM1 + LINE_CONTROL, 0x03); /* 8 bits, no parity, one stop bit */
	outb(COM1 + FIFO, 0xc7);	 /* FIFOs on and cleared */
	outb(COM1 + MODEM_CONTROL, 0x03);
}

void serial_putc(char c)
{
	if (c == '\n')
		serial_putc('\r');
	while ((inb(COM1 + LINE_STATUS) & TRANSMIT_EMPTY) == 0)
		;
	outb(COM1 + DATA, (uint8_t)c);
}
