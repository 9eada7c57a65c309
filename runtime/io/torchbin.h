/* torchbin.h - a PyTorch checkpoint file (pytorch_model.bin as torch.save
 * writes it since torch 1.6: a ZIP archive of data.pkl and one entry per
 * storage) opened as an StFile, so that the rest of the program sees its
 * tensors exactly as a safetensors file's.
 *
 * The file is mapped read-only and validated whole before anything is
 * handed out: the ZIP directory (runtime/io/torchzip.h), the pickle
 * (runtime/io/torchpickle.h, interpreted, never executed), every tensor's
 * bytes within its storage entry, names unique. Tensor data pointers point
 * into the mapping (lazy, like safetensors: memory stays flat). Files from
 * before torch 1.6 (a bare pickle or a tar archive) are refused by name.
 * Close with tbin_close, not st_close. */
#ifndef MERGELANG_TORCHBIN_H
#define MERGELANG_TORCHBIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/core/errbuf.h"
#include "runtime/io/safetensors.h"

/* Largest data.pkl read (real ones are a few MB for thousands of tensors). */
#define TBIN_MAX_PICKLE (256u * 1000u * 1000u)

StFile *tbin_open(const char *path, ErrBuf *err);
/* The same checks on an image in memory, which the StFile borrows (for tests
 * and fuzzing). */
StFile *tbin_open_memory(const char *label, const uint8_t *buf, size_t len, ErrBuf *err);
void tbin_close(StFile *f);

#endif
