// The built-in demo model, linked into the executable as read-only data.
// models/demo/config.json and models/demo/model.safetensors are included byte for byte
// with .incbin (the assembler finds them through the -I that models/CMakeLists.txt adds;
// OBJECT_DEPENDS there rebuilds this object when they change). models/builtin.cpp wraps
// the symbols below in a BuiltinModel. The safetensors bytes start 64-byte aligned: the
// file's data section is 64-byte aligned within the file, so tensors viewed in place
// (F16/F32 kernels) are aligned too.

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
