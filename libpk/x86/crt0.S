/* A program's first instruction: the kernel starts it with esp at the top of its stack
 * and every other register zero. */
	.text
	.global _start
_start:
	xor %ebp, %ebp
	and $-16, %esp
	call pk__x86_start
	ud2

	.section .note.GNU-stack, "", @progbits
