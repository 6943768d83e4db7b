"""The compiled twin of :func:`socialscore.modeling.featurizers.hash_kernel._count_python` (numba, no GIL).

MurmurHash3 x86 32-bit is written out in int64 arithmetic masked to 32 bits after every step
(numba would turn mixed unsigned/signed arithmetic into floats). Compiled on first use and cached
on disk when the package directory or the user cache is writable.
"""

from __future__ import annotations

import numpy as np

from socialscore.text.token_numba import jit_cached

_M32 = 0xFFFFFFFF
_C1 = 0xCC9E2D51
_C2 = 0x1B873593


_jit = jit_cached


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
    if n_buckets & (n_buckets - 1) == 0:  # a power of two (the featurizer's): a mask, not a division
        return abs(h) & (n_buckets - 1)
    return abs(h) % n_buckets


@_jit
def _column(buf, start, length, n_buckets, vocab) -> int:
    """An n-gram's column: its hash bucket, or with a vocabulary table (``vocab_table``) its entry (-1: absent)."""
    slots, grams, gram_start = vocab
    if len(slots) == 0:
        return _bucket(buf, start, length, n_buckets)
    hashed = murmur3_32(buf, start, length) & 0x7FFFFFFF
    mask = len(slots) - 1
    slot = hashed & mask
    while slots[slot, 0] >= 0:
        col = slots[slot, 0]
        if slots[slot, 1] == hashed and _same_token(buf, start, start + length, gram_start[col], gram_start[col + 1], grams):
            return col
        slot = (slot + 1) & mask
    return -1


@_jit
def vocab_table(grams, gram_start):
    """Open-addressing table (column, hash) over n-grams given as UTF-8 bytes back to back (column
    ``i`` is ``grams[gram_start[i]:gram_start[i + 1]]``), at most half full."""
    n = len(gram_start) - 1
    size = 2
    while size < 2 * n:
        size *= 2
    slots = np.full((size, 2), -1, np.int64)
    for col in range(n):
        hashed = murmur3_32(grams, gram_start[col], gram_start[col + 1] - gram_start[col]) & 0x7FFFFFFF
        slot = hashed & (size - 1)
        while slots[slot, 0] >= 0:
            slot = (slot + 1) & (size - 1)
        slots[slot, 0], slots[slot, 1] = col, hashed
    return slots


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
def _sort_ids(ids, n, tmp, hist, bits) -> None:
    """Sort ``ids[:n]`` (non-negative, below ``2**bits``) in place: insertion sort for short
    rows, else LSD radix sort on 8-bit digits."""
    if n < 40:
        for i in range(1, n):
            v, j = ids[i], i - 1
            while j >= 0 and ids[j] > v:
                ids[j + 1] = ids[j]
                j -= 1
            ids[j + 1] = v
        return
    src, dst = ids, tmp
    shift, passes = 0, 0
    while shift < bits:
        hist[:] = 0
        for i in range(n):
            hist[((src[i] >> shift) & 255) + 1] += 1
        for k in range(256):
            hist[k + 1] += hist[k]
        for i in range(n):
            d = (src[i] >> shift) & 255
            dst[hist[d]] = src[i]
            hist[d] += 1
        src, dst = dst, src
        shift += 8
        passes += 1
    if passes % 2 == 1:
        ids[:n] = tmp[:n]


@_jit
def _emit(row, n, indices, out_counts, out, work, bits) -> int:
    """Sort the row's ``n`` ids and write each distinct id and its count at ``out``; new ``out``.

    Sorting then counting runs (LSD radix sort) beat hash-table counting here: sequential access.
    """
    if n == 0:
        return out
    tmp, hist = work
    ids = row
    _sort_ids(ids, n, tmp, hist, bits)
    current, run = ids[0], 1
    for j in range(1, n):
        if ids[j] == current:
            run += 1
        else:
            indices[out], out_counts[out] = current, run
            out += 1
            current, run = ids[j], 1
    indices[out], out_counts[out] = current, run
    return out + 1


@_jit
def _same_token(data, a, b, c, d, other) -> bool:
    """``data[a:b] == other[c:d]``."""
    if b - a != d - c:
        return False
    for i in range(b - a):
        if data[a + i] != other[c + i]:
            return False
    return True


@_jit
def _char_buckets(data, tok_start, tok_chars, t, cl, ch, n_buckets, vocab, padded_buf, offsets, out, at) -> int:
    """The char n-gram columns of token ``t`` (``_column``; absent ones left out) written to ``out[at:]``;
    returns the new end."""
    a, b = tok_start[t], tok_start[t + 1]
    padded_buf[0] = 32
    for i in range(b - a):
        padded_buf[1 + i] = data[a + i]
    padded_buf[1 + b - a] = 32
    chars = tok_chars[t] + 2
    offsets[0], offsets[1] = 0, 1
    for k in range(1, chars - 1):
        offsets[k + 1] = offsets[k] + _utf8_len(padded_buf[offsets[k]])
    offsets[chars] = offsets[chars - 1] + 1
    for n in range(cl, ch + 1):
        if n >= chars:
            col = _column(padded_buf, 0, offsets[chars], n_buckets, vocab)
            if col >= 0:
                out[at] = col
                at += 1
            return at
        for s in range(chars - n + 1):
            col = _column(padded_buf, offsets[s], offsets[s + n] - offsets[s], n_buckets, vocab)
            if col >= 0:
                out[at] = col
                at += 1
    return at


@_jit
def _grown(table):
    """The token cache table at twice the size, rows re-placed by their stored hash (column 4)."""
    out = np.full((2 * len(table), table.shape[1]), -1, table.dtype)
    for row in range(len(table)):
        if table[row, 0] >= 0:
            slot = table[row, 4] & (len(out) - 1)
            while out[slot, 0] >= 0:
                slot = (slot + 1) & (len(out) - 1)
            out[slot] = table[row]
    return out


@_jit
def _room(arena, need):
    """``arena``, or a copy at least twice as long when ``need`` entries do not fit."""
    if need <= len(arena):
        return arena
    out = np.empty(max(need, 2 * len(arena)), arena.dtype)
    out[: len(arena)] = arena
    return out


@_jit
def count_batch(data, tok_chars, doc_tokens, wl, wh, cl, ch, n_buckets, w_vocab, c_vocab, table, keys, ids, used):
    """Hashed n-gram counts of a batch of texts (or, given ``vocab_table`` tables ``w_vocab`` /
    ``c_vocab``, their vocabulary columns' counts, absent n-grams left out; ``n_buckets``: above every column).

    ``data``: UTF-8 bytes of all tokens back to back; ``tok_chars``: characters per token;
    ``doc_tokens``: tokens per text; (``wl``, ``wh``) and (``cl``, ``ch``): word and character
    n-gram ranges (0, 0 = off). Returns word then char CSR arrays (indptr, indices, counts), each
    row's ids sorted, then the token cache's ``table``, ``keys`` and ``ids`` (new arrays when they grew).

    The token cache holds each distinct token's char n-gram columns and unigram column (words repeat),
    across calls when the caller keeps it: ``table`` rows (key start, key end, ids start, ids end, hash,
    unigram column; -1: free) point into ``keys`` (the tokens' UTF-8) and ``ids``; ``used`` (tokens, key
    bytes, ids) is updated in place. A cache serves one featurizer (its buckets or vocabularies) only.
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
    # upper bounds of each kind's entries (before de-duplication) and of one row's
    w_total, c_total, row_max = 0, 0, 1
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
        w_total += w
        c_total += c
        row_max = max(row_max, w, c)
        first += ntok
    bits = 1
    while (1 << bits) < n_buckets:
        bits += 1
    row = np.empty(row_max, np.int64)  # the current row's bucket ids, repeats included
    work = (np.empty(row_max, np.int64), np.zeros(257, np.int64))  # radix sort scratch
    w_indptr = np.zeros(n_docs + 1, np.int64)
    c_indptr = np.zeros(n_docs + 1, np.int64)
    w_indices = np.empty(w_total, np.int32)
    w_counts = np.empty(w_total, np.float32)
    c_indices = np.empty(c_total, np.int32)
    c_counts = np.empty(c_total, np.float32)
    joined = np.empty(len(data) + n_tok + 1, np.uint8)  # a word n-gram: tokens joined by spaces
    padded_buf = np.empty(4 * longest + 2, np.uint8)  # " " + token + " "
    offsets = np.empty(longest + 3, np.int64)  # byte offset of each character of the padded token
    tok_lo = np.empty(n_tok, np.int64)  # token t's char columns: ids[tok_lo[t]:tok_hi[t]] (the cache's)
    tok_hi = np.empty(n_tok, np.int64)
    tok_word = np.empty(n_tok, np.int64)  # token t's unigram column (wl == 1)
    cached = cl > 0 or wl == 1
    w_out, c_out, first = 0, 0, 0
    for d in range(n_docs):
        ntok = doc_tokens[d]
        for t in range(first, first + ntok if cached else first):
            a, b = tok_start[t], tok_start[t + 1]
            hashed = murmur3_32(data, a, b - a) & 0x7FFFFFFF
            slot = hashed & (len(table) - 1)
            while table[slot, 0] >= 0:
                if table[slot, 4] == hashed and _same_token(data, a, b, table[slot, 0], table[slot, 1], keys):
                    break
                slot = (slot + 1) & (len(table) - 1)
            if table[slot, 0] < 0:
                key_end = used[1] + b - a
                keys = _room(keys, key_end)
                keys[used[1] : key_end] = data[a:b]
                end = used[2]
                if cl > 0:
                    ids = _room(ids, used[2] + (tok_chars[t] + 2) * (ch - cl + 1))
                    end = _char_buckets(data, tok_start, tok_chars, t, cl, ch, n_buckets, c_vocab, padded_buf, offsets, ids, used[2])
                table[slot, 0], table[slot, 1], table[slot, 2], table[slot, 3] = used[1], key_end, used[2], end
                table[slot, 4] = hashed
                table[slot, 5] = _column(data, a, b - a, n_buckets, w_vocab) if wl == 1 else -1
                used[0] += 1
                used[1], used[2] = key_end, end
            tok_lo[t], tok_hi[t], tok_word[t] = table[slot, 2], table[slot, 3], table[slot, 5]
            if 2 * used[0] > len(table):
                table = _grown(table)
        if wl > 0:
            n_row = 0
            for n in range(wl, wh + 1):
                for i in range(first, first + ntok - n + 1):
                    if n == 1:
                        bucket = tok_word[i]
                    else:
                        size = 0
                        for t in range(i, i + n):
                            if t > i:
                                joined[size] = 32
                                size += 1
                            for b in range(tok_start[t], tok_start[t + 1]):
                                joined[size] = data[b]
                                size += 1
                        bucket = _column(joined, 0, size, n_buckets, w_vocab)
                    if bucket >= 0:
                        row[n_row] = bucket
                        n_row += 1
            w_out = _emit(row, n_row, w_indices, w_counts, w_out, work, bits)
            w_indptr[d + 1] = w_out
        if cl > 0:
            n_row = 0
            for t in range(first, first + ntok):
                for k in range(tok_lo[t], tok_hi[t]):
                    row[n_row] = ids[k]
                    n_row += 1
            c_out = _emit(row, n_row, c_indices, c_counts, c_out, work, bits)
            c_indptr[d + 1] = c_out
        first += ntok
    words = (w_indptr, w_indices[:w_out].copy(), w_counts[:w_out].copy())
    chars = (c_indptr, c_indices[:c_out].copy(), c_counts[:c_out].copy())
    return words[0], words[1], words[2], chars[0], chars[1], chars[2], table, keys, ids


@_jit
def _pairwise_sum(a, start, n) -> float:
    """numpy's pairwise summation of ``a[start:start+n]`` (float64 ``add.reduce``), same rounding."""
    if n < 8:
        res = 0.0
        for i in range(start, start + n):
            res += a[i]
        return res
    if n <= 128:
        r = a[start : start + 8].copy()
        i = 8
        while i < n - (n % 8):
            for j in range(8):
                r[j] += a[start + i + j]
            i += 8
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
        while i < n:
            res += a[start + i]
            i += 1
        return res
    n2 = n // 2
    n2 -= n2 % 8
    return _pairwise_sum(a, start, n2) + _pairwise_sum(a, start + n2, n - n2)


@_jit
def weigh_rows(indptr, indices, counts, idf, tf_table):
    """:func:`socialscore.modeling.featurizers.hashing.weigh_block`'s arithmetic in one pass: masked buckets
    dropped, ``tf_table[count]`` × idf, rows divided by their L2 norm summed as numpy's ``reduceat``."""
    n_rows = len(indptr) - 1
    out_ptr = np.zeros(n_rows + 1, np.int64)
    out_idx = np.empty(len(indices), np.int32)
    out_val = np.empty(len(indices), np.float32)
    squares = np.empty(len(indices), np.float64)
    at = 0
    for r in range(n_rows):
        first = at
        for k in range(indptr[r], indptr[r + 1]):
            w = idf[indices[k]]
            if w > 0:
                v = tf_table[np.int64(counts[k])] * w
                out_idx[at], out_val[at] = indices[k], v
                squares[at] = np.float64(v) * np.float64(v)
                at += 1
        if at > first:  # reduceat: the first element, then the rest pairwise
            norm = np.float32(np.sqrt(squares[first] + _pairwise_sum(squares, first + 1, at - first - 1)))
            for k in range(first, at):
                out_val[k] = out_val[k] / norm
        out_ptr[r + 1] = at
    return out_ptr, out_idx[:at].copy(), out_val[:at].copy()


@_jit
def join_rows(w_ptr, w_idx, w_val, c_ptr, c_idx, c_val, c_offset, eng, eng_offset):
    """One CSR (int32 indptr and indices) of the weighted word block, the char block at column
    ``c_offset`` and the non-zero scaled engineered values at ``eng_offset``, row by row: what
    ``sp.hstack`` of the three blocks gives, without building them (an empty ``*_ptr``: no block)."""
    n_rows = eng.shape[0]
    nnz = 0
    for r in range(n_rows):
        for j in range(eng.shape[1]):
            if eng[r, j] != 0:
                nnz += 1
    nnz += len(w_idx) + len(c_idx)
    indptr = np.zeros(n_rows + 1, np.int32)
    indices = np.empty(nnz, np.int32)
    data = np.empty(nnz, np.float32)
    at = 0
    for r in range(n_rows):
        if len(w_ptr):
            for k in range(w_ptr[r], w_ptr[r + 1]):
                indices[at], data[at] = w_idx[k], w_val[k]
                at += 1
        if len(c_ptr):
            for k in range(c_ptr[r], c_ptr[r + 1]):
                indices[at], data[at] = c_idx[k] + c_offset, c_val[k]
                at += 1
        for j in range(eng.shape[1]):
            if eng[r, j] != 0:
                indices[at], data[at] = eng_offset + j, eng[r, j]
                at += 1
        indptr[r + 1] = at
    return indptr, indices, data
