// The built-in demo model, linked into the executable as read-only data (models/builtin.cpp
// wraps the symbols below in a BuiltinModel):
//   - models/demo/config.json, byte for byte;
//   - its matrices (wte, which is the tied LM head, and each block's four) as the f16 kernels
//     read them, in the panels blob (models/builtin.h) that gpt2_demo_panelgen makes at build
//     time, page aligned (each matrix starts on its own page);
//   - the rest of models/demo/model.safetensors (wpe, the layernorms, the biases) as a
//     safetensors file of its own, made by the same tool (the matrices are not stored twice:
//     the loader takes them from the panels).
// The build-directory files are found through the -I that models/CMakeLists.txt adds, which
// also rebuilds this object when they change. The safetensors bytes start 64-byte aligned
// and their data section is 64-byte aligned within them.

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
        .incbin "demo_rest.safetensors"
gpt2_demo_safetensors_end:
        .byte 0

        .section .rodata.gpt2_demo_panels, "a", @progbits
        .balign 4096
        .globl gpt2_demo_panels_start
        .globl gpt2_demo_panels_end
gpt2_demo_panels_start:
        .incbin "demo_panels.bin"
gpt2_demo_panels_end:
        .byte 0

        .section .note.GNU-stack, "", @progbits
