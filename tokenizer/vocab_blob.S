/* The rank files (see data/README.md) linked into the binary as read-only bytes:
   gpt2_vocab_blob_*   data/gpt2.tiktoken (gpt2 / r50k_base, base64 text)
   gpt2_p50k_blob_*    data/p50k_base.ranks   (length-prefixed bytes per rank,
   gpt2_cl100k_blob_*  data/cl100k_base.ranks  scripts/convert-tiktoken-ranks)
   gpt2_o200k_blob_*   data/o200k_base.ranks */
    .section .rodata.gpt2_vocab,"a"
    .global gpt2_vocab_blob_begin
    .global gpt2_vocab_blob_end
    .balign 16
gpt2_vocab_blob_begin:
    .incbin "data/gpt2.tiktoken"
gpt2_vocab_blob_end:
    .byte 0

    .global gpt2_p50k_blob_begin
    .global gpt2_p50k_blob_end
    .balign 16
gpt2_p50k_blob_begin:
    .incbin "data/p50k_base.ranks"
gpt2_p50k_blob_end:
    .byte 0

    .global gpt2_cl100k_blob_begin
    .global gpt2_cl100k_blob_end
    .balign 16
gpt2_cl100k_blob_begin:
    .incbin "data/cl100k_base.ranks"
gpt2_cl100k_blob_end:
    .byte 0

    .global gpt2_o200k_blob_begin
    .global gpt2_o200k_blob_end
    .balign 16
gpt2_o200k_blob_begin:
    .incbin "data/o200k_base.ranks"
gpt2_o200k_blob_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
