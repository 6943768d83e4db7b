"""The compiled twin of :func:`socialscore.modeling.hash_kernel._count_python` (numba, no GIL).

MurmurHash3 x86 32-bit is written out in int64 arithmetic masked to 32 bits after every step
(numba would turn mixed unsigned/signed arithmetic into floats). Compiled on first use and cached
on disk when the package directory or the user cache is writable.
"""

from __future__ import annotations

import numba
import numpy as np

_M32 = 0xFFFFFFFF
_C1 = 0xCC9E2D51
_C2 = 0x1B873593


def _jit(function):
    try:
        return numba.njit(cache=True, nogil=True)(function)
    except RuntimeError:  # no writable cache location (read-only install): compile per process
        return numba.njit(cache=False, nogil=True)(function)


@_jit
def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (32 - r))) & _M32


@_jit
def murmur3_32(buf: np.ndarray, start: int, length: int) -> int:
    """Signed 32-bit MurmurHash3 (x86, seed 0) of ``buf[start:start+length]``, as sklearn computes it."""
    h = 0
    end_blocks = start + (length // 4) * 4
    i = start
    while i < end_blocks:
        k = np.int64(buf[i]) | (np.int64(buf[i + 1]) << 8) | (np.int64(buf[i + 2]) << 16) | (np.int64(buf[i + 3]) << 24)
        k = (k * _C1) & _M32
        k = _rotl(k, 15)
        k = (k * _C2) & _M32
        h ^= k
        h = _rotl(h, 13)
        h = (h * 5 + 0xE6546B64) & _M32
        i += 4
    rem = length & 3
    k = 0
    if rem >= 3:
        k ^= np.int64(buf[end_blocks + 2]) << 16
    if rem >= 2:
        k ^= np.int64(buf[end_blocks + 1]) << 8
    if rem >= 1:
        k ^= np.int64(buf[end_blocks])
        k = (k * _C1) & _M32
        k = _rotl(k, 15)
        k = (k * _C2) & _M32
        h ^= k
    h ^= length
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h - (1 << 32) if h >= (1 << 31) else h


@_jit
def _bucket(buf: np.ndarray, start: int, length: int, n_buckets: int) -> int:
    h = murmur3_32(buf, start, length)
    if h == -(1 << 31):
        return ((1 << 31) - 1 - (n_buckets - 1)) % n_buckets
    return abs(h) % n_buckets


@_jit
def _utf8_len(lead: int) -> int:
    if lead < 0x80:
        return 1
    if (lead >> 5) == 0x6:
        return 2
    if (lead >> 4) == 0xE:
        return 3
    return 4


@_jit
def _dedupe(raw: np.ndarray, raw_ptr: np.ndarray):
    """Per row: sorted unique bucket ids and their counts (CSR arrays)."""
    n_rows = len(raw_ptr) - 1
    indptr = np.zeros(n_rows + 1, np.int64)
    indices = np.empty(len(raw), np.int32)
    counts = np.empty(len(raw), np.float32)
    out = 0
    for r in range(n_rows):
        a, b = raw_ptr[r], raw_ptr[r + 1]
        if b > a:
            seg = np.sort(raw[a:b])
            current, run = seg[0], 1
            for j in range(1, b - a):
                if seg[j] == current:
                    run += 1
                else:
                    indices[out], counts[out] = current, run
                    out += 1
                    current, run = seg[j], 1
            indices[out], counts[out] = current, run
            out += 1
        indptr[r + 1] = out
    return indptr, indices[:out].copy(), counts[:out].copy()


@_jit
def count_batch(data, tok_chars, doc_tokens, wl, wh, cl, ch, n_buckets):
    """Hashed n-gram counts of a batch of texts.

    ``data``: UTF-8 bytes of all tokens back to back; ``tok_chars``: characters per token;
    ``doc_tokens``: tokens per text; (``wl``, ``wh``) and (``cl``, ``ch``): word and character
    n-gram ranges (0, 0 = off). Returns word then char CSR arrays (indptr, indices, counts).
    """
    n_docs, n_tok = len(doc_tokens), len(tok_chars)
    tok_start = np.empty(n_tok + 1, np.int64)
    pos, longest = 0, 0
    for t in range(n_tok):
        tok_start[t] = pos
        for _ in range(tok_chars[t]):
            pos += _utf8_len(data[pos])
        longest = max(longest, tok_chars[t])
    tok_start[n_tok] = pos
    # sizes of the raw (repeated) bucket lists, per text
    w_ptr = np.zeros(n_docs + 1, np.int64)
    c_ptr = np.zeros(n_docs + 1, np.int64)
    first = 0
    for d in range(n_docs):
        ntok = doc_tokens[d]
        w = 0
        if wl > 0:
            for n in range(wl, wh + 1):
                w += max(0, ntok - n + 1)
        c = 0
        if cl > 0:
            for t in range(first, first + ntok):
                padded = tok_chars[t] + 2
                for n in range(cl, ch + 1):
                    if n >= padded:
                        c += 1
                        break
                    c += padded - n + 1
        w_ptr[d + 1] = w_ptr[d] + w
        c_ptr[d + 1] = c_ptr[d] + c
        first += ntok
    w_raw = np.empty(w_ptr[n_docs], np.int64)
    c_raw = np.empty(c_ptr[n_docs], np.int64)
    joined = np.empty(len(data) + n_tok + 1, np.uint8)  # a word n-gram: tokens joined by spaces
    padded_buf = np.empty(4 * longest + 2, np.uint8)  # " " + token + " "
    offsets = np.empty(longest + 3, np.int64)  # byte offset of each character of the padded token
    first = 0
    for d in range(n_docs):
        ntok = doc_tokens[d]
        w_out, c_out = w_ptr[d], c_ptr[d]
        if wl > 0:
            for n in range(wl, wh + 1):
                for i in range(first, first + ntok - n + 1):
                    if n == 1:
                        w_raw[w_out] = _bucket(data, tok_start[i], tok_start[i + 1] - tok_start[i], n_buckets)
                    else:
                        size = 0
                        for t in range(i, i + n):
                            if t > i:
                                joined[size] = 32
                                size += 1
                            for b in range(tok_start[t], tok_start[t + 1]):
                                joined[size] = data[b]
                                size += 1
                        w_raw[w_out] = _bucket(joined, 0, size, n_buckets)
                    w_out += 1
        if cl > 0:
            for t in range(first, first + ntok):
                a, b = tok_start[t], tok_start[t + 1]
                padded_buf[0] = 32
                padded_buf[1 : 1 + b - a] = data[a:b]
                padded_buf[1 + b - a] = 32
                chars = tok_chars[t] + 2
                offsets[0], offsets[1] = 0, 1
                for k in range(1, chars - 1):
                    offsets[k + 1] = offsets[k] + _utf8_len(padded_buf[offsets[k]])
                offsets[chars] = offsets[chars - 1] + 1
                for n in range(cl, ch + 1):
                    if n >= chars:
                        c_raw[c_out] = _bucket(padded_buf, 0, offsets[chars], n_buckets)
                        c_out += 1
                        break
                    for s in range(chars - n + 1):
                        c_raw[c_out] = _bucket(padded_buf, offsets[s], offsets[s + n] - offsets[s], n_buckets)
                        c_out += 1
        first += ntok
    w_indptr, w_indices, w_counts = _dedupe(w_raw, w_ptr)
    c_indptr, c_indices, c_counts = _dedupe(c_raw, c_ptr)
    return w_indptr, w_indices, w_counts, c_indptr, c_indices, c_counts
