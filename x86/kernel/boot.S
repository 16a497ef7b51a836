/* Multiboot 1 entry: the loader (QEMU's -kernel, GRUB) jumps here in 32-bit protected
 * mode with paging off, eax holding its magic and ebx the boot information. */
#define MULTIBOOT_MAGIC 0x1badb002
/* Modules page aligned; memory information wanted. */
#define MULTIBOOT_FLAGS 0x3

	.section .multiboot, "a"
	.align 4
	.long MULTIBOOT_MAGIC
	.long MULTIBOOT_FLAGS
	.long -(MULTIBOOT_MAGIC + MULTIBOOT_FLAGS)

	.section .bss
	.align 16
boot_stack:
	.skip 16384
boot_stack_top:

	.section .text
	.global _start
_start:
	cli
	mov $boot_stack_top, %esp
	push %ebx
	push %eax
	call kmain
1:	cli
	hlt
	jmp 1b

	.section .note.GNU-stack, "", @progbits
