/* The two 8259 interrupt controllers: remapped above the exceptions, only the timer open. */
#ifndef X86_PIC_H
#define X86_PIC_H

void pic_init(void);
void pic_end_of_interrupt(unsigned irq);

#endif
