/* The interrupt descriptor table: every exception and IRQ stub, and the kernel-call trap,
 * the one gate ring 3 may raise itself. */
#ifndef X86_IDT_H
#define X86_IDT_H

void idt_init(void);

#endif
