// The HTTP transport module (server/httplib/, built as a loadable module; design in
// server/transport.h), linked into the executable as read-only data with .incbin: the
// assembler finds the module through the -I that server/CMakeLists.txt adds, and
// OBJECT_DEPENDS there rebuilds this object when the module changes.

        .section .rodata.gpt2_http_module, "a", @progbits
        .balign 64
        .globl gpt2_http_module_start
        .globl gpt2_http_module_end
gpt2_http_module_start:
        .incbin "libgpt2_http_transport.so"
gpt2_http_module_end:
        .byte 0

        .section .note.GNU-stack, "", @progbits
