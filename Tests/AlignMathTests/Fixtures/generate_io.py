#!/usr/bin/env python3
"""Small IO fixtures for TensorIOTests.swift, written ONCE with numpy (and by hand for
safetensors, whose format is an 8-byte little-endian header length, a JSON header, then
the raw little-endian data). Run: python3 Tests/AlignMathTests/Fixtures/generate_io.py

io_expected.json lists, per file and array, dtype (as moonlab loads it), shape and the
values as float64 (strings "inf"/"-inf"/"nan" for the non-finite ones).
"""
import json
import math
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def enc(a):
    return [("nan" if math.isnan(v) else "inf" if v == math.inf else "-inf" if v == -math.inf else v)
            for v in np.asarray(a, dtype=np.float64).ravel().tolist()]


def bf16_bits(a):
    """float32 -> bfloat16 bits (round to nearest even), as torch does."""
    u = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return u.astype(np.uint16)


def main():
    exp = {}
    arrays = {
        "io_f32.npy": (np.array([[1.5, -2.25, 3.0], [0.1, np.inf, -np.inf]], dtype=np.float32), "f32"),
        "io_f64.npy": (np.array([0.1, -1e300, 5e-324, np.nan], dtype=np.float64), "f64"),
        "io_f16.npy": (np.array([1.0, -0.5, 65504.0, 6e-8, np.inf], dtype=np.float16), "f32"),
        "io_i32.npy": (np.arange(-3, 3, dtype=np.int32).reshape(2, 3), "i64"),
        "io_i64.npy": (np.array([2**53, -(2**40), 7], dtype=np.int64), "i64"),
        "io_f64_be.npy": (np.array([1.25, -3.5], dtype=">f8"), "f64"),
        "io_bool.npy": (np.array([True, False, True]), "bool"),
        "io_u8.npy": (np.array([0, 255, 7], dtype=np.uint8), "i64"),
        "io_scalar.npy": (np.array(4.5), "f64"),
        "io_empty.npy": (np.zeros((0, 3), dtype=np.float32), "f32"),
        # Fortran order (column-major bytes): read as a strided view of the same values
        "io_fortran.npy": (np.asfortranarray(np.arange(6.0).reshape(2, 3)), "f64"),
        "io_fortran3_i32.npy": (np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4) - 5), "i64"),
    }
    for name, (a, dt) in arrays.items():
        np.save(os.path.join(HERE, name), a)
        exp[name] = {"": {"dtype": dt, "shape": list(a.shape), "values": enc(a.astype(np.float64))}}

    named = {"logits": np.linspace(-2, 2, 12, dtype=np.float32).reshape(3, 4),
             "rewards": np.array([0.5, -1.0, 2.0]),
             "ids": np.array([3, 1, 4], dtype=np.int64)}
    np.savez(os.path.join(HERE, "io_stored.npz"), **named)
    big = (np.arange(20000) % 97) * 0.5 + np.where(np.arange(20000) < 300, np.sin(np.arange(20000.0)), 0.0)  # dynamic Huffman blocks, matches and literals
    np.savez_compressed(os.path.join(HERE, "io_deflated.npz"), **named, big=big, zeros=np.zeros(5000, np.float32))
    dts = {"logits": "f32", "rewards": "f64", "ids": "i64"}
    exp["io_stored.npz"] = {k: {"dtype": dts[k], "shape": list(v.shape), "values": enc(v)} for k, v in named.items()}
    exp["io_deflated.npz"] = dict(exp["io_stored.npz"])
    exp["io_deflated.npz"]["big"] = {"dtype": "f64", "shape": [20000], "values_at": {"index": [0, 1, 12345, 19999], "value": enc(big[[0, 1, 12345, 19999]])}}
    exp["io_deflated.npz"]["zeros"] = {"dtype": "f32", "shape": [5000], "values_at": {"index": [0, 4999], "value": [0.0, 0.0]}}

    # safetensors by hand: F32, F64, F16, BF16, I32, I64.
    st = {
        "w.f32": ("F32", np.array([[1.0, 2.5], [-3.0, 0.125]], dtype=np.float32)),
        "w.f64": ("F64", np.array([1e-310, 2.0, -0.1])),
        "w.f16": ("F16", np.array([0.333, -2.0, 1024.0], dtype=np.float16)),
        "w.bf16": ("BF16", np.array([1.0, -3.140625, 1e30], dtype=np.float32)),
        "ids.i32": ("I32", np.array([-1, 0, 2147483647], dtype=np.int32)),
        "ids.i64": ("I64", np.array([[-5], [9007199254740993]], dtype=np.int64)),
    }
    header, blobs, off = {"__metadata__": {"format": "pt"}}, [], 0
    for name, (code, a) in st.items():
        raw = bf16_bits(a).tobytes() if code == "BF16" else a.astype(a.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": code, "shape": list(a.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
        if code == "BF16":
            vals = (bf16_bits(a).astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        else:
            vals = a.astype(np.float64)
        dt = {"F64": "f64", "I32": "i64", "I64": "i64"}.get(code, "f32")
        exp.setdefault("io_model.safetensors", {})[name] = {"dtype": dt, "shape": list(a.shape), "values": enc(vals)}
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(os.path.join(HERE, "io_model.safetensors"), "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    # I64 2^53+1 is not a double: note the value moonlab gives (nearest double).
    with open(os.path.join(HERE, "io_expected.json"), "w") as f:
        json.dump(exp, f, indent=1)
    print("wrote", len(exp), "expectations")


if __name__ == "__main__":
    main()
