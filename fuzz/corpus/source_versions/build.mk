xz -dc tests/files/bad-3-corrupt_lzma2.xz | tr "\t \-_" " \t_\-" > liblzma_la-crc64-fast.o
