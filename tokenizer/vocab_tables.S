/* The tokenizer's tables, written at build time by gpt2_vocab_tablegen (tokenizer/tablegen/,
   layout in tokenizer.cpp, Impl::TablesHeader) from the rank files of vocab_blob.S, linked
   into the program as read-only bytes. 16-byte aligned: every part of a table is aligned.
   The symbols are vocab_blob.S's names: the program links this file, the generator that one. */
    .section .rodata.gpt2_vocab_tables,"a"
    .balign 16
    .global gpt2_vocab_blob_begin
    .global gpt2_vocab_blob_end
gpt2_vocab_blob_begin:
    .incbin "vocab_tables_gpt2.bin"
gpt2_vocab_blob_end:

    .balign 16
    .global gpt2_p50k_blob_begin
    .global gpt2_p50k_blob_end
gpt2_p50k_blob_begin:
    .incbin "vocab_tables_p50k.bin"
gpt2_p50k_blob_end:

    .balign 16
    .global gpt2_cl100k_blob_begin
    .global gpt2_cl100k_blob_end
gpt2_cl100k_blob_begin:
    .incbin "vocab_tables_cl100k.bin"
gpt2_cl100k_blob_end:

    .balign 16
    .global gpt2_o200k_blob_begin
    .global gpt2_o200k_blob_end
gpt2_o200k_blob_begin:
    .incbin "vocab_tables_o200k.bin"
gpt2_o200k_blob_end:
    .byte 0
    .section .note.GNU-stack,"",@progbits
