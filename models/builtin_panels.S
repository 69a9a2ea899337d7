// The built-in demo model's matrices as f16 panels (models/builtin.h, "The panels blob"),
// made at build time by gpt2_demo_panelgen (models/panelgen/main.cpp) from models/demo and
// included byte for byte with .incbin (models/CMakeLists.txt adds the -I of the build
// directory that holds demo_panels.bin). Page aligned: each matrix starts on its own page.

        .section .rodata.gpt2_demo_panels, "a", @progbits
        .balign 4096
        .globl gpt2_demo_panels_start
        .globl gpt2_demo_panels_end
gpt2_demo_panels_start:
        .incbin "demo_panels.bin"
gpt2_demo_panels_end:
        .byte 0

        .section .note.GNU-stack, "", @progbits
