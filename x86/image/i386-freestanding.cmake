# Toolchain for the x86 image: the host's gcc (or clang) emitting freestanding i386 code.
# Nothing from the host's C library or start files is used: the kernel and the programs
# bring their own runtime (x86/rt, libpk/x86/libc).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR i386)
# The compiler checks would try to link a hosted program, which needs a 32-bit libc.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)

set(target_flags "-m32 -march=i686")
if(CMAKE_C_COMPILER MATCHES "clang")
  set(target_flags "--target=i686-pc-none-elf -march=i686")
endif()
set(CMAKE_C_FLAGS_INIT "${target_flags} -ffreestanding -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables -mno-sse -mno-mmx")
set(CMAKE_ASM_FLAGS_INIT "${target_flags} -fno-pie")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${target_flags} -nostdlib -static -no-pie -fuse-ld=bfd -Wl,-m,elf_i386 -Wl,--build-id=none -Wl,-z,noexecstack")
