// The demo model's own files for gpt2_demo_panelgen (models/panelgen/main.cpp), under the
// symbols the program's models/builtin_blobs.S defines: config.json and the full
// model.safetensors, byte for byte (the assembler finds them through the -I that
// models/CMakeLists.txt adds).

        .section .rodata.gpt2_demo_config, "a", @progbits
        .balign 8
        .globl gpt2_demo_config_start
        .globl gpt2_demo_config_end
gpt2_demo_config_start:
        .incbin "demo/config.json"
gpt2_demo_config_end:
        .byte 0

        .section .rodata.gpt2_demo_safetensors, "a", @progbits
        .balign 64
        .globl gpt2_demo_safetensors_start
        .globl gpt2_demo_safetensors_end
gpt2_demo_safetensors_start:
        .incbin "demo/model.safetensors"
gpt2_demo_safetensors_end:
        .byte 0

        .section .note.GNU-stack, "", @progbits
