#!/usr/bin/env python3
"""make_torch_bin.py - PyTorch checkpoints (torch.save's ZIP format) written
without torch, as an independent reference for mergelang's reader
(runtime/io/torchbin.c). Standard library only.

The pickle is made by Python's own pickler, protocol 2 as torch.save uses,
with stand-ins registered as the modules `torch` and `torch._utils`, so that
it holds exactly what torch writes for a state dict: GLOBAL
'collections OrderedDict', GLOBAL 'torch._utils _rebuild_tensor_v2' reduced
with (storage, storage_offset, size, stride, requires_grad, hooks), and
persistent ids ('storage', torch.FloatStorage, key, 'cpu', numel) for the
storages, whose bytes go to ARCHIVE/data/KEY.

  make_torch_bin.py convert SRC DST [--shards N]
      SRC: a safetensors model folder (model.safetensors or its index); DST
      gets pytorch_model.bin (or N shards and pytorch_model.bin.index.json)
      with the same tensors, and SRC's config.json.
  make_torch_bin.py tiny DST.bin [--zip64]
      a small state dict (f32, f16, bf16, a view at a storage offset
      sharing a storage, a Parameter, _metadata); --zip64 writes every
      central-directory record and the end record in ZIP64 form. Prints
      each tensor's name, dtype, shape and values.
  make_torch_bin.py hostile KIND DST.bin
      a broken file of the kind asked (see HOSTILE below).
"""
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

# ---- stand-ins for torch ------------------------------------------------------
torch = types.ModuleType("torch")
torch_utils = types.ModuleType("torch._utils")
torch._utils = torch_utils
sys.modules["torch"] = torch
sys.modules["torch._utils"] = torch_utils


def _rebuild_tensor_v2(*args):
    raise RuntimeError("stand-in: never called")


def _rebuild_parameter(*args):
    raise RuntimeError("stand-in: never called")


for fn in (_rebuild_tensor_v2, _rebuild_parameter):
    fn.__module__ = "torch._utils"
    setattr(torch_utils, fn.__name__, fn)

# safetensors dtype -> (storage class name, element size)
STORAGES = {
    "F32": ("FloatStorage", 4), "F16": ("HalfStorage", 2), "BF16": ("BFloat16Storage", 2),
    "F64": ("DoubleStorage", 8), "I64": ("LongStorage", 8), "I32": ("IntStorage", 4),
    "I16": ("ShortStorage", 2), "I8": ("CharStorage", 1), "U8": ("ByteStorage", 1),
    "BOOL": ("BoolStorage", 1),
}
for cls_name, _ in STORAGES.values():
    cls = type(cls_name, (), {"__module__": "torch"})
    setattr(torch, cls_name, cls)


class Storage:
    def __init__(self, dtype, key, data):
        self.dtype, self.key, self.data = dtype, key, data
        self.numel = len(data) // STORAGES[dtype][1]


class Tensor:
    def __init__(self, storage, offset, size, stride=None):
        if stride is None:
            stride, step = [], 1
            for d in reversed(size):
                stride.insert(0, step)
                step *= d
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def __reduce_ex__(self, proto):
        return (_rebuild_tensor_v2,
                (self.storage, self.offset, self.size, self.stride, False, collections.OrderedDict()))


class Parameter:
    def __init__(self, tensor):
        self.tensor = tensor

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.tensor, True, collections.OrderedDict()))


class TorchPickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, Storage):
            return ("storage", getattr(torch, STORAGES[obj.dtype][0]), obj.key, "cpu", obj.numel)
        return None


def pickle_state_dict(sd):
    buf = io.BytesIO()
    TorchPickler(buf, protocol=2).dump(sd)
    return buf.getvalue()


def storages_of(sd):
    seen = {}
    for v in sd.values():
        t = v.tensor if isinstance(v, Parameter) else v
        seen[t.storage.key] = t.storage
    return seen


def archive_entries(sd, prefix="archive", pkl=None):
    entries = [(prefix + "/data.pkl", pkl if pkl is not None else pickle_state_dict(sd)),
               (prefix + "/byteorder", b"little")]
    for key, st in sorted(storages_of(sd).items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else 0):
        entries.append((prefix + "/data/" + key, st.data))
    entries.append((prefix + "/version", b"3\n"))
    return entries


def write_zip(path, entries, compress=()):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in entries:
            z.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED if name in compress else zipfile.ZIP_STORED)


def write_zip64(path, entries):
    """Every size and offset in ZIP64 fields (0xffffffff in the 32-bit ones),
    as a writer must for shards over 4 GB; checked with zipfile afterwards."""
    out, central = bytearray(), bytearray()
    for name, data in entries:
        n = name.encode()
        local = len(out)
        crc = zipfile.crc32(data)
        out += struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 0, 0, 0x21, crc, len(data), len(data), len(n), 0)
        out += n + data
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(data), local)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 0, 0, 0x21, crc,
                               0xffffffff, 0xffffffff, len(n), len(extra), 0, 0, 0, 0, 0xffffffff)
        central += n + extra
    cd_at = len(out)
    out += central
    z64_at = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, len(entries), len(entries), len(central), cd_at)
    out += struct.pack("<IIQI", 0x07064b50, 0, z64_at, 1)
    out += struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xffff, 0xffff, 0xffffffff, 0xffffffff, 0)
    with open(path, "wb") as f:
        f.write(out)
    with zipfile.ZipFile(path) as z:
        for name, data in entries:
            assert z.read(name) == data, name


# ---- safetensors in ------------------------------------------------------------
def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, e in header.items():
        b, end = e["data_offsets"]
        out[name] = (e["dtype"], e["shape"], blob[8 + n + b:8 + n + end])
    return out


def read_model(src):
    single = os.path.join(src, "model.safetensors")
    if os.path.exists(single):
        return read_safetensors(single)
    with open(os.path.join(src, "model.safetensors.index.json")) as f:
        weight_map = json.load(f)["weight_map"]
    out = {}
    for shard in sorted(set(weight_map.values())):
        out.update(read_safetensors(os.path.join(src, shard)))
    return out


def convert(src, dst, shards):
    tensors = read_model(src)
    names = list(tensors)
    os.makedirs(dst, exist_ok=True)
    groups = [names[i::shards] for i in range(shards)]
    weight_map = {}
    for k, group in enumerate(groups):
        sd = collections.OrderedDict()
        for i, name in enumerate(group):
            dtype, shape, data = tensors[name]
            sd[name] = Tensor(Storage(dtype, str(i), data), 0, shape)
        sd._metadata = collections.OrderedDict([("", {"version": 1})])
        fname = "pytorch_model.bin" if shards == 1 else "pytorch_model-%05d-of-%05d.bin" % (k + 1, shards)
        write_zip(os.path.join(dst, fname), archive_entries(sd, prefix="pytorch_model"))
        for name in group:
            weight_map[name] = fname
    if shards > 1:
        with open(os.path.join(dst, "pytorch_model.bin.index.json"), "w") as f:
            json.dump({"metadata": {}, "weight_map": weight_map}, f, indent=2)
    cfg = os.path.join(src, "config.json")
    if os.path.exists(cfg):
        with open(cfg, "rb") as a, open(os.path.join(dst, "config.json"), "wb") as b:
            b.write(a.read())


# ---- the tiny state dict ---------------------------------------------------------
def f16_bits(x):
    return struct.pack("<e", x)


def bf16_bits(x):
    # exact for the values used: their low 16 float32 bits are zero
    b = struct.pack("<f", x)
    assert b[:2] == b"\0\0", x
    return b[2:]


def tiny():
    f32 = [0.5, -1.25, 2.0, 3.5, -0.75, 8.0]
    shared = Storage("F32", "0", struct.pack("<6f", *f32))
    half = Storage("F16", "1", b"".join(f16_bits(x) for x in (1.5, -2.0, 0.25, 4.0)))
    bf = Storage("BF16", "2", b"".join(bf16_bits(x) for x in (1.0, -3.0, 0.5)))
    sd = collections.OrderedDict()
    sd["w.f32"] = Tensor(shared, 0, [2, 3])
    sd["w.view"] = Tensor(shared, 3, [3])             # shares the storage, at offset 3
    sd["w.f16"] = Tensor(half, 0, [2, 2])
    sd["w.bf16"] = Parameter(Tensor(bf, 0, [3, 1], [1, 7]))  # size-1 dim: its stride is free
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("w", {"version": 1})])
    values = {"w.f32": ("float32", [2, 3], f32), "w.view": ("float32", [3], f32[3:]),
              "w.f16": ("float16", [2, 2], [1.5, -2.0, 0.25, 4.0]),
              "w.bf16": ("bfloat16", [3, 1], [1.0, -3.0, 0.5])}
    return sd, values


# ---- broken files ------------------------------------------------------------------
def one_tensor_sd(size=(2,), stride=None, offset=0, nbytes=8):
    sd = collections.OrderedDict()
    sd["w"] = Tensor(Storage("F32", "0", b"\0" * nbytes), offset, list(size), stride)
    return sd


def hostile(kind, dst):
    good = archive_entries(one_tensor_sd())
    pkl = None
    if kind == "os_system":
        pkl = b"\x80\x02cos\nsystem\nq\x00X\x07\x00\x00\x00echo hiq\x01\x85q\x02Rq\x03."
    elif kind == "unknown_opcode":
        pkl = b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01I42\ns."
    elif kind == "huge_string":
        pkl = b"\x80\x02}q\x00X\xf0\xff\xff\xffw"
    elif kind == "huge_memo":
        pkl = b"\x80\x02}r\xff\xff\xff\xff."
    elif kind == "deep_nesting":
        pkl = b"\x80\x02" + b"(" * 100000 + b"."
    elif kind == "not_a_dict":
        pkl = b"\x80\x02]q\x00."
    if pkl is not None:
        write_zip(dst, archive_entries(one_tensor_sd(), pkl=pkl))
    elif kind == "compressed":
        write_zip(dst, good, compress={"archive/data.pkl"})
    elif kind == "truncated":
        write_zip(dst, good)
        with open(dst, "rb") as f:
            blob = f.read()
        with open(dst, "wb") as f:
            f.write(blob[:len(blob) // 2])
    elif kind == "offset_past_storage":
        write_zip(dst, archive_entries(one_tensor_sd(size=(2,), offset=1)))
    elif kind == "storage_short":
        sd = one_tensor_sd()
        sd["w"].storage.numel = 1000   # the pickle claims more than the entry holds
        write_zip(dst, archive_entries(sd))
    elif kind == "non_contiguous":
        write_zip(dst, archive_entries(one_tensor_sd(size=(2, 3), stride=(1, 2), nbytes=24)))
    elif kind == "legacy":
        with open(dst, "wb") as f:
            f.write(b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.")
    elif kind == "huge_entry_count":
        write_zip(dst, good)
        with open(dst, "r+b") as f:
            f.seek(-22 + 8, os.SEEK_END)
            f.write(struct.pack("<HH", 0xfff0, 0xfff0))
    else:
        sys.exit("unknown kind " + kind)


def main(argv):
    if len(argv) >= 3 and argv[0] == "convert":
        shards = int(argv[argv.index("--shards") + 1]) if "--shards" in argv else 1
        convert(argv[1], argv[2], shards)
    elif len(argv) >= 2 and argv[0] == "tiny":
        sd, values = tiny()
        entries = archive_entries(sd)
        if "--zip64" in argv:
            write_zip64(argv[1], entries)
        else:
            write_zip(argv[1], entries)
        for name in sorted(values):
            dtype, shape, vals = values[name]
            print(name, dtype, json.dumps(shape).replace(" ", ""), " ".join(repr(v) for v in vals))
    elif len(argv) == 3 and argv[0] == "hostile":
        hostile(argv[1], argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
