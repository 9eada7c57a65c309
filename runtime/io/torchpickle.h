/* torchpickle.h - a restricted reader of the pickle (data.pkl) inside a
 * torch.save archive: the state dict as a list of tensor descriptions.
 *
 * Nothing is executed. The pickle is interpreted as data: a dozen opcodes
 * (those Python's pickler emits for a dict of tensors, protocols 2 to 5)
 * and a fixed list of globals, each with a meaning known here:
 * collections.OrderedDict, torch._utils._rebuild_tensor_v2 /
 * _rebuild_tensor / _rebuild_parameter, and the typed storages
 * (torch.FloatStorage, HalfStorage, BFloat16Storage, ...) named in the
 * persistent ids ('storage', type, key, location, numel). Any other global
 * or opcode is refused with an error naming it. Memo, stack, marks, values
 * and string lengths are bounded, and no step loops or recurses over data,
 * so a hostile pickle costs time and memory linear in its size at most. */
#ifndef MERGELANG_TORCHPICKLE_H
#define MERGELANG_TORCHPICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/core/dtype.h"
#include "runtime/core/errbuf.h"
#include "runtime/core/shape.h"

typedef struct TpklTensor {
    char *name;
    DType dtype;               /* from the storage type */
    Shape shape;               /* strides were checked to be contiguous row-major */
    char *storage_key;         /* the archive holds its bytes as PREFIX/data/KEY */
    uint64_t storage_offset;   /* in elements */
    uint64_t storage_numel;    /* elements the storage holds, as the pickle says */
} TpklTensor;

typedef struct TpklStateDict {
    size_t n_tensors;
    TpklTensor *tensors;       /* in pickle order */
} TpklStateDict;

/* Interprets buf[0, len) (a data.pkl). label is how messages name it. The
 * top-level object must be a dict (or OrderedDict) of string -> tensor; each
 * tensor is validated (dtype, shape, contiguity, offset + numel within the
 * storage, name length and UTF-8). On failure fills err, leaves *out empty. */
int tpkl_parse(const char *label, const uint8_t *buf, size_t len, TpklStateDict *out, ErrBuf *err);
void tpkl_free(TpklStateDict *sd);

#endif
