import gzip
import shutil
import struct

import numpy as np
import pytest
import torch

from rewire.data import DataError, fetch, load_dataset, read_idx, sources


def test_digits_splits_are_deterministic_and_disjoint():
    a, b = load_dataset("digits"), load_dataset("digits")
    assert a.input_shape == (1, 8, 8) and a.num_classes == 10
    assert len(a.train) + len(a.val) + len(a.test) == 1797
    assert (a.train.x == b.train.x).all() and (a.val.y == b.val.y).all()
    assert float(a.train.x.max()) == 1.0 and float(a.train.x.min()) == 0.0


def test_validation_comes_from_training_data():
    d = load_dataset("digits", val_fraction=0.25)
    assert len(d.val) == round(0.25 * (len(d.train) + len(d.val)))
    other = load_dataset("digits", val_fraction=0.25, split_seed=1)
    assert not (other.val.y == d.val.y).all()


def test_unknown_dataset_and_bad_fraction():
    with pytest.raises(ValueError, match="unknown dataset 'mnsit'"):
        load_dataset("mnsit")
    with pytest.raises(ValueError, match="val_fraction"):
        load_dataset("digits", val_fraction=1.0)


def _write_idx(path, array, magic_type=0x08):
    header = bytes([0, 0, magic_type, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_read_idx_checks_the_header(tmp_path):
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    _write_idx(tmp_path / "ok.gz", arr)
    assert (read_idx(tmp_path / "ok.gz") == arr).all()
    (tmp_path / "bad.gz").write_bytes(gzip.compress(b"\x01\x02\x08\x03" + b"\0" * 12))
    with pytest.raises(DataError, match="magic"):
        read_idx(tmp_path / "bad.gz")
    raw = gzip.decompress((tmp_path / "ok.gz").read_bytes())
    (tmp_path / "short.gz").write_bytes(gzip.compress(raw[:-5]))
    with pytest.raises(DataError, match="header says"):
        read_idx(tmp_path / "short.gz")
    (tmp_path / "trunc.gz").write_bytes((tmp_path / "ok.gz").read_bytes()[:20])
    with pytest.raises(DataError, match="corrupt or truncated"):
        read_idx(tmp_path / "trunc.gz")


@pytest.mark.parametrize("download", [False, True])
def test_a_data_folder_that_does_not_exist_is_an_error_not_a_download(tmp_path, download,
                                                                       monkeypatch):
    monkeypatch.setattr(sources, "_download", lambda *a: pytest.fail("no download"))
    with pytest.raises(DataError, match=r"data folder .*nope does not exist$"):
        load_dataset("mnist", tmp_path / "nope", download=download)


def test_failed_download_says_what_to_do(tmp_path, monkeypatch):
    src = sources.FILES["mnist/t10k-labels-idx1-ubyte.gz"]
    monkeypatch.setitem(sources.FILES, src.path, sources.Source(
        src.path, src.sha256, (f"file://{tmp_path}/missing.gz",)))
    with pytest.raises(DataError, match="download failed.*--data-dir"):
        fetch(src.path, tmp_path)


def test_download_verifies_checksum(tmp_path, monkeypatch, shared_data):
    """A download goes to the cache and is checked; a wrong file is refused."""
    src = sources.FILES["mnist/t10k-labels-idx1-ubyte.gz"]
    good = shared_data / src.path
    monkeypatch.setitem(sources.FILES, src.path, sources.Source(
        src.path, src.sha256, (f"file://{tmp_path}/missing.gz", f"file://{good}")))
    (tmp_path / "empty").mkdir()
    path = fetch(src.path, tmp_path / "empty")
    assert path.is_relative_to(sources.default_cache())
    assert read_idx(path).shape == (10000,)
    path.unlink()
    bad = tmp_path / "bad.gz"
    bad.write_bytes(good.read_bytes()[:-10])
    monkeypatch.setitem(sources.FILES, src.path, sources.Source(
        src.path, src.sha256, (f"file://{bad}",)))
    with pytest.raises(DataError, match="corrupt or truncated"):
        fetch(src.path, tmp_path / "empty")


def test_corrupt_local_file_fails_its_checksum(tmp_path, shared_data):
    (tmp_path / "mnist").mkdir()
    for name in ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
                 "train-labels-idx1-ubyte.gz"]:
        shutil.copy(shared_data / "mnist" / name, tmp_path / "mnist" / name)
    blob = (shared_data / "mnist" / "train-images-idx3-ubyte.gz").read_bytes()
    (tmp_path / "mnist" / "train-images-idx3-ubyte.gz").write_bytes(blob[: len(blob) // 2])
    with pytest.raises(DataError, match="corrupt or truncated"):
        load_dataset("mnist", tmp_path, download=False)


def test_right_content_in_another_compression_is_accepted(tmp_path, shared_data):
    """Re-gzipped files and plain IDX files (as other libraries keep them) pass the check on
    their decompressed content; a changed content does not."""
    import gzip

    (tmp_path / "mnist").mkdir()
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte"]
    for i, name in enumerate(names):
        raw = gzip.decompress((shared_data / "mnist" / f"{name}.gz").read_bytes())
        if i % 2:  # plain IDX, no .gz
            (tmp_path / "mnist" / name).write_bytes(raw)
        else:  # gzipped again at another level: other bytes, same content
            (tmp_path / "mnist" / f"{name}.gz").write_bytes(gzip.compress(raw, 1))
    mine = load_dataset("mnist", tmp_path, download=False)
    real = load_dataset("mnist", shared_data, download=False)
    assert torch.equal(mine.train.x, real.train.x) and torch.equal(mine.test.y, real.test.y)
    raw = bytearray((tmp_path / "mnist" / names[1]).read_bytes())
    raw[-1] = (raw[-1] + 1) % 10
    (tmp_path / "mnist" / names[1]).write_bytes(bytes(raw))
    with pytest.raises(DataError, match="content differs from the canonical file"):
        load_dataset("mnist", tmp_path, download=False)


def test_kmnist_split_from_its_test_file_says_so(shared_data):
    d = load_dataset("kmnist", shared_data, download=False)
    assert (len(d.train) + len(d.val), len(d.test)) == (8000, 2000)
    assert "official test file (10000 images) is split 80/20" in d.note
    assert load_dataset("mnist", shared_data, download=False).note == ""


@pytest.mark.parametrize("name,train,test,classes,shape", [
    ("mnist", 54000, 10000, 10, (1, 28, 28)),
    ("fashion-mnist", 54000, 10000, 10, (1, 28, 28)),
    ("emnist", 83752, 23265, 62, (1, 28, 28)),
    ("emnist-mnist", 7200, 2000, 10, (1, 28, 28)),
    ("kmnist", 7200, 2000, 10, (1, 28, 28)),
    ("cifar10", 9000, 1000, 10, (3, 32, 32)),
])
def test_real_datasets(shared_data, name, train, test, classes, shape):
    d = load_dataset(name, shared_data, download=False)
    assert (len(d.train), len(d.test), d.num_classes, d.input_shape) == (
        train, test, classes, shape)
    assert int(d.train.y.max()) == classes - 1 and int(d.train.y.min()) == 0
    assert 0.0 <= float(d.test.x.min()) and float(d.test.x.max()) <= 1.0


def test_mnist_first_labels_and_pixels(shared_data):
    d = load_dataset("mnist", shared_data, download=False)
    assert d.test.y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert abs(float(d.test.x.mean()) - 0.1325) < 1e-3  # canonical MNIST test mean


def test_emnist_images_are_upright(shared_data):
    """EMNIST files store images transposed; after loading, digits look like MNIST's."""
    em = load_dataset("emnist-mnist", shared_data, download=False)
    mn = load_dataset("mnist", shared_data, download=False)
    def mean_img(d, label):
        return d.test.x[d.test.y == label].mean(0)[0]
    upright = float((mean_img(em, 1) - mean_img(mn, 1)).abs().mean())
    flipped = float((mean_img(em, 1).T - mean_img(mn, 1)).abs().mean())
    assert upright < flipped
