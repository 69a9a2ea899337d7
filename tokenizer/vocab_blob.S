/* The GPT-2 rank file (data/gpt2.tiktoken, see data/README.md) linked into the binary as
   read-only bytes between gpt2_vocab_blob_begin and gpt2_vocab_blob_end. */
    .section .rodata.gpt2_vocab,"a"
    .global gpt2_vocab_blob_begin
    .global gpt2_vocab_blob_end
    .balign 16
gpt2_vocab_blob_begin:
    .incbin "data/gpt2.tiktoken"
gpt2_vocab_blob_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
