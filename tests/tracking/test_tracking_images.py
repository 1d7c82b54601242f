from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tracking_pngs import read_png

from mizzen.tracking.images import array_to_png, image_bytes


def test_rgb_float_array_becomes_a_png_with_the_same_pixels() -> None:
    array = np.zeros((2, 3, 3))
    array[0, 0] = [1.0, 0.0, 0.0]
    array[1, 2] = [0.0, 0.5, 1.0]
    width, height, channels, rows = read_png(array_to_png(array))
    assert (width, height, channels) == (3, 2, 3)
    assert rows[0][:3] == [255, 0, 0]
    assert rows[1][6:9] == [0, 128, 255]
    assert rows[0][3:] == [0] * 6


def test_grey_uint8_and_chw_arrays() -> None:
    grey = np.array([[0, 10], [200, 255]], dtype=np.uint8)
    assert read_png(array_to_png(grey)) == (2, 2, 1, [[0, 10], [200, 255]])
    chw = np.stack([np.full((2, 6), 7), np.full((2, 6), 8), np.full((2, 6), 9)]).astype(np.uint8)
    width, height, channels, rows = read_png(array_to_png(chw))  # recognised as CHW
    assert (width, height, channels) == (6, 2, 3)
    assert rows[0][:6] == [7, 8, 9, 7, 8, 9]
    ambiguous = chw[:, :, :4]  # (3, 2, 4) could be HWC: say it
    assert read_png(array_to_png(ambiguous, dataformats="CHW"))[:3] == (4, 2, 3)
    assert read_png(array_to_png(ambiguous))[:3] == (2, 3, 4)


def test_rgba_and_values_out_of_range_are_clipped() -> None:
    array = np.array([[[300, -5, 20, 128]]])
    assert read_png(array_to_png(array)) == (1, 1, 4, [[255, 0, 20, 128]])


def test_bad_image_shape_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="HW, HWC or CHW"):
        array_to_png(np.zeros((2, 2, 7)))


def test_paths_and_encoded_bytes_are_kept_as_they_are(tmp_path: Path) -> None:
    png = array_to_png(np.zeros((1, 1)))
    (tmp_path / "x.png").write_bytes(png)
    assert image_bytes(tmp_path / "x.png") == (png, "png")
    assert image_bytes(png) == (png, "png")
    assert image_bytes(b"\xff\xd8\xff\xe0rest")[1] == "jpg"
    with pytest.raises(ValueError, match="not a PNG"):
        image_bytes(b"hello")
    with pytest.raises(TypeError, match="log_image takes"):
        image_bytes(3.5)
