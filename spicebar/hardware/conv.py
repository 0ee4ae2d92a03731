"""Convolution as a matrix product (im2col) and the pooling windows, NCHW, pure numpy.

A 2-D convolution with weights ``(M, C/groups, KH, KW)`` is, per group ``g``, the matrix
``W_g`` ``(M/groups, C/groups * KH * KW)`` applied to every patch of the padded input:
:func:`im2col` returns those patches as rows ``(N * OH * OW, C/groups * KH * KW)`` in the
order ``(channel, kernel row, kernel column)`` of ``W.reshape(M, -1)``, so a crossbar
layer computes a convolution exactly as it computes a dense layer, one patch per input
vector. :func:`col2im_outputs` puts the rows of outputs back as ``(N, M_g, OH, OW)``.

``pads`` follow ONNX: ``(top, left, bottom, right)``; strides and dilations are
``(rows, columns)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SpecError


@dataclass(frozen=True)
class Window:
    """A sliding window over the two spatial axes (a kernel, or a pooling window)."""

    kernel: tuple[int, int]
    strides: tuple[int, int] = (1, 1)
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)
    dilations: tuple[int, int] = (1, 1)
    ceil_mode: bool = False

    def output_size(self, h: int, w: int) -> tuple[int, int]:
        """``(OH, OW)`` for an ``h x w`` input."""
        out = []
        for size, k, s, d, p0, p1 in zip((h, w), self.kernel, self.strides, self.dilations,
                                         self.pads[:2], self.pads[2:]):
            span = d * (k - 1) + 1
            n = size + p0 + p1 - span
            o = (-(-n // s) if self.ceil_mode else n // s) + 1
            if self.ceil_mode and (o - 1) * s >= size + p0:  # the last window starts in the padding
                o -= 1
            out.append(o)
        if min(out) < 1:
            raise SpecError("window", f"kernel {self.kernel} (dilations {self.dilations}, pads "
                            f"{self.pads}) does not fit a {h}x{w} input", "a window inside the padded input")
        return out[0], out[1]


def pad_nchw(x: np.ndarray, pads, value: float = 0.0, extra=(0, 0)) -> np.ndarray:
    """``x`` ``(N, C, H, W)`` padded by ``pads`` (top, left, bottom, right) plus ``extra``
    (bottom, right: room for ceil-mode windows) with ``value``."""
    t, l, b, r = pads
    return np.pad(x, ((0, 0), (0, 0), (t, b + extra[0]), (l, r + extra[1])), constant_values=value)


def _windows(xp: np.ndarray, win: Window, oh: int, ow: int) -> np.ndarray:
    """``(N, C, KH, KW, OH, OW)``: every window position of the padded ``xp``."""
    kh, kw = win.kernel
    (sh, sw), (dh, dw) = win.strides, win.dilations
    n, c = xp.shape[:2]
    out = np.empty((n, c, kh, kw, oh, ow), dtype=xp.dtype)
    for i in range(kh):
        for j in range(kw):
            out[:, :, i, j] = xp[:, :, i * dh:i * dh + sh * (oh - 1) + 1:sh,
                                 j * dw:j * dw + sw * (ow - 1) + 1:sw]
    return out


def _extra(xp_shape, win: Window, oh: int, ow: int) -> tuple[int, int]:
    need = [(o - 1) * s + d * (k - 1) + 1 for o, s, d, k in
            zip((oh, ow), win.strides, win.dilations, win.kernel)]
    return max(0, need[0] - xp_shape[2]), max(0, need[1] - xp_shape[3])


def im2col(x: np.ndarray, win: Window) -> tuple[np.ndarray, tuple[int, int]]:
    """Patches ``(N * OH * OW, C * KH * KW)`` of ``x`` ``(N, C, H, W)`` and ``(OH, OW)``.

    Row ``(n * OH + p) * OW + q`` is the patch under output pixel ``(p, q)`` of image ``n``.
    """
    oh, ow = win.output_size(x.shape[2], x.shape[3])
    xp = pad_nchw(x, win.pads)
    xp = pad_nchw(xp, (0, 0, 0, 0), extra=_extra(xp.shape, win, oh, ow))
    cols = _windows(xp, win, oh, ow)                     # (N, C, KH, KW, OH, OW)
    n = x.shape[0]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1), (oh, ow)


def col2im_outputs(z: np.ndarray, n: int, oh: int, ow: int) -> np.ndarray:
    """Rows of outputs ``(N * OH * OW, M)`` -> ``(N, M, OH, OW)``."""
    return z.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)


def max_pool(x: np.ndarray, win: Window) -> np.ndarray:
    """ONNX ``MaxPool``: the padding never wins (it is -inf)."""
    oh, ow = win.output_size(x.shape[2], x.shape[3])
    xp = pad_nchw(x, win.pads, -np.inf)
    xp = pad_nchw(xp, (0, 0, 0, 0), -np.inf, _extra(xp.shape, win, oh, ow))
    return _windows(xp, win, oh, ow).max(axis=(2, 3))


def average_pool(x: np.ndarray, win: Window, count_include_pad: bool = False) -> np.ndarray:
    """ONNX ``AveragePool``: the mean over the window, the explicit padding counted only
    with ``count_include_pad`` (ceil-mode overhang is never counted)."""
    oh, ow = win.output_size(x.shape[2], x.shape[3])
    ones = np.ones((1, 1) + x.shape[2:])
    xp = pad_nchw(x, win.pads)
    inside = pad_nchw(ones, win.pads, 1.0 if count_include_pad else 0.0)
    extra = _extra(xp.shape, win, oh, ow)
    total = _windows(pad_nchw(xp, (0, 0, 0, 0), extra=extra), win, oh, ow).sum(axis=(2, 3))
    count = _windows(pad_nchw(inside, (0, 0, 0, 0), extra=extra), win, oh, ow).sum(axis=(2, 3))
    return total / count
