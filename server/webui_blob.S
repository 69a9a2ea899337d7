// The web page (server/webui/index.html), linked into the executable as read-only data with
// .incbin (the assembler finds it through the -I that server/CMakeLists.txt adds;
// OBJECT_DEPENDS there rebuilds this object when the page changes). server/webui.cpp wraps
// the symbols in a string_view.

        .section .rodata.gpt2_webui, "a", @progbits
        .balign 8
        .globl gpt2_webui_start
        .globl gpt2_webui_end
gpt2_webui_start:
        .incbin "webui/index.html"
gpt2_webui_end:
        .byte 0

        .section .note.GNU-stack, "", @progbits
