/* Trap entry and exit. Each stub makes the stack look the same (a vector and an error
 * code), saves the general registers and calls trap_dispatch with the frame. The way out
 * reloads the user data segments, because a program may have left anything in them, and
 * returns with iret through whatever the frame now says. */
#define KERNEL_DATA 0x10
#define USER_DATA 0x23

.macro stub vector, has_error
	.global trap_stub_\vector
trap_stub_\vector:
	.if \has_error == 0
	push $0
	.endif
	push $\vector
	jmp trap_common
.endm

	.text
	.irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,22,23,24,25,26,27,28,29,31
	stub \v, 0
	.endr
	.irp v, 8,10,11,12,13,14,17,21,30
	stub \v, 1
	.endr
	.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	stub \v, 0
	.endr
	stub 128, 0

	.global trap_stub_kernel_call
	.set trap_stub_kernel_call, trap_stub_128

trap_common:
	pusha
	mov $KERNEL_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	push %esp
	call trap_dispatch
	add $4, %esp
	jmp trap_exit

	.global trap_return
trap_return:
	mov 4(%esp), %esp
trap_exit:
	mov $USER_DATA, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	popa
	add $8, %esp
	iret

	.section .rodata
	.align 4
	.global trap_stubs
trap_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long trap_stub_\v
	.endr
	.irp v, 32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.long trap_stub_\v
	.endr

	.section .note.GNU-stack, "", @progbits
