"""Where dataset files come from: a local data folder first, then a checksummed download.

Every file the library reads is listed in ``FILES`` with its SHA-256 and the canonical
places to fetch it. ``fetch`` looks in the data folder (``--data-dir`` / ``REWIRE_DATA``),
then in the download cache, and only then downloads, verifying the checksum before the file
is used. A file that fails its checksum is never read.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import cast

__all__ = ["DataError", "FILES", "data_dirs", "fetch", "find_local", "sha256sum"]


class DataError(ValueError):
    """A data file is missing, corrupt or cannot be fetched."""


@dataclass(frozen=True)
class Source:
    """One data file: its path under the data folder, checksum and where to fetch it.

    ``archive`` names a download that holds this file as a member (EMNIST ships as one zip,
    CIFAR-10 as one tarball); ``archive_md5`` is that archive's published ``md5``.
    ``content_sha256`` is the SHA-256 of a ``.gz`` file's decompressed content: a file
    compressed again, or kept uncompressed (``…-ubyte`` without ``.gz``, as other libraries
    keep them), is accepted when its content is right.
    """

    path: str
    sha256: str | None
    urls: tuple[str, ...] = ()
    archive: str | None = None
    member: str | None = None
    archive_md5: str | None = None
    content_sha256: str | None = None


# SHA-256 of the decompressed IDX files (the same bytes however they are compressed)
_CONTENT = {
    "mnist/t10k-images": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "mnist/t10k-labels": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    "mnist/train-images": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "mnist/train-labels": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "fashion-mnist/t10k-images":
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "fashion-mnist/t10k-labels":
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    "fashion-mnist/train-images":
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "fashion-mnist/train-labels":
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "kmnist/t10k-images": "76fbd229ce87db80dd281af5e6670de4ad0e42fb30a7bd643972994c47c1f42e",
    "kmnist/t10k-labels": "a11dc742be8e781a40a92f53d6a4957e7b7d36df2faa097659131ebfd8fd60c6",
    "emnist/emnist-byclass-test-images":
        "385559d7d5c96f49cd6b55b3e9e76d7ecbf568897b6067e8cac8f1ffc2f50f81",
    "emnist/emnist-byclass-test-labels":
        "842d01413932b3ce7afbc9990376a16f8880a212bb42d66fa2922b4218cf300a",
    "emnist/emnist-mnist-test-images":
        "0a5442aeabc1ec6cf0a8335d81debf853b46a7570f5d93805a4d6ef8b7281063",
    "emnist/emnist-mnist-test-labels":
        "a0ffd2d4ce92418e020d53cf36f2b6c154c4f59344098a5e8d3c6e588109f0a0",
}


def _content(path: str) -> str | None:
    return _CONTENT.get(path.removesuffix(".gz").rsplit("-idx", 1)[0])


_MNIST = ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/")
_FASHION = ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
_KMNIST = ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",)
_EMNIST_ZIP = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
_EMNIST_MD5 = "58c8d27c78d21e728a6bc7b3cc06412e"
_CIFAR_TAR = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
_CIFAR_MD5 = "c58f30108f718f92721af3b95e74349a"
_REBER = ("https://raw.githubusercontent.com/innvariant/sparsity-experiments-2021/"
          "ff2109d6730959413a0dde6bd230d0e2c81d04cd/rnn/dataset/")


def _idx(folder: str, name: str, sha: str | None, bases: tuple[str, ...]) -> Source:
    path = f"{folder}/{name}"
    return Source(path, sha, tuple(b + name for b in bases), content_sha256=_content(path))


def _emnist(name: str, sha: str | None) -> Source:
    path = f"emnist/{name}"
    return Source(path, sha, archive=_EMNIST_ZIP, member=f"gzip/{name}",
                  archive_md5=_EMNIST_MD5, content_sha256=_content(path))


FILES: dict[str, Source] = {
    s.path: s
    for s in [
        _idx("mnist", "train-images-idx3-ubyte.gz",
             "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", _MNIST),
        _idx("mnist", "train-labels-idx1-ubyte.gz",
             "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", _MNIST),
        _idx("mnist", "t10k-images-idx3-ubyte.gz",
             "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", _MNIST),
        _idx("mnist", "t10k-labels-idx1-ubyte.gz",
             "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", _MNIST),
        _idx("fashion-mnist", "train-images-idx3-ubyte.gz",
             "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", _FASHION),
        _idx("fashion-mnist", "train-labels-idx1-ubyte.gz",
             "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", _FASHION),
        _idx("fashion-mnist", "t10k-images-idx3-ubyte.gz",
             "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", _FASHION),
        _idx("fashion-mnist", "t10k-labels-idx1-ubyte.gz",
             "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", _FASHION),
        _idx("kmnist", "t10k-images-idx3-ubyte.gz",
             "edd7a857845ad6bb1d0ba43fe7e794d164fe2dce499a1694695a792adfac43c5", _KMNIST),
        _idx("kmnist", "t10k-labels-idx1-ubyte.gz",
             "20bb9a0ef54c7db3efc55a92eef5582c109615df22683c380526788f98e42a1c", _KMNIST),
        # official training files: read when a data folder has them (no published SHA-256;
        # the IDX header and sizes are checked), else the test file is split (see datasets)
        _idx("kmnist", "train-images-idx3-ubyte.gz", None, _KMNIST),
        _idx("kmnist", "train-labels-idx1-ubyte.gz", None, _KMNIST),
        *[_emnist(f"emnist-{s}-train-{kind}-idx{d}-ubyte.gz", None)
          for s in ("byclass", "mnist") for kind, d in (("images", 3), ("labels", 1))],
        _emnist("emnist-byclass-test-images-idx3-ubyte.gz",
                "5ec835bd5d5b1a66378a132e727fef20fe994b3cc666899befcca5ac766f50cd"),
        _emnist("emnist-byclass-test-labels-idx1-ubyte.gz",
                "501e305eeeacb093b162592d80e8a2632040872360fa6d85cfcb2200d91ca92a"),
        _emnist("emnist-mnist-test-images-idx3-ubyte.gz",
                "b25640fa9e356c618132f5df347c95ef5bae6d9c2596be1de40f7e0ae1c3eac6"),
        _emnist("emnist-mnist-test-labels-idx1-ubyte.gz",
                "bcc5385d38f083dba046f5f756e99b32f5ea7fad122c6243c71c2239873065ca"),
        _idx("reber-deepstruct", "reber_sequences.csv",
             "55e414168727dbfa529f22dd84336c04d5e48ea6d7c3d1c911ba431464769310", (_REBER,)),
        _idx("reber-deepstruct", "train_data.csv",
             "a49309775bbbbac32e79102740b3c49b351dfc582d4b8b5b878a9fc69accbe49", (_REBER,)),
        _idx("reber-deepstruct", "test_data.csv",
             "df63cf5a6afeeaa2b735eda16203b430618284ed33a16849967aebf1ef4990f4", (_REBER,)),
        Source("cifar-10-subset/cifar10-train-10k.npz",
               "2d384d1ef7dc901f964a33fbf69c6617c8d9d5a5727e77e5a1e5fe43f593b7e7"),
        Source("cifar-10-subset/cifar10-test-1k.npz",
               "7a60430f4a08a3883b92f22716cd2aeab13181016b965db56efc1c1289b9da37"),
        *[
            Source(f"cifar-10-batches-py/{n}", None, archive=_CIFAR_TAR,
                   member=f"cifar-10-batches-py/{n}", archive_md5=_CIFAR_MD5)
            for n in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]
        ],
    ]
}


def default_cache() -> Path:
    """The download cache: ``$XDG_CACHE_HOME/rewire`` or ``~/.cache/rewire``."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rewire"


def data_dirs(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched for data, in order: the option, ``REWIRE_DATA``, the cache.

    Args:
        data_dir: A data folder to search first (``--data-dir``); ``None``: none.

    Returns:
        The folders, ``data_dir`` and ``$REWIRE_DATA`` when given, then the download cache
            (``$XDG_CACHE_HOME/rewire`` or ``~/.cache/rewire``), which comes last.

    Example:
        >>> dirs = data_dirs("/data")
        >>> dirs[0].as_posix(), dirs[-1].name
        ('/data', 'rewire')
    """
    dirs = [Path(d) for d in (data_dir, os.environ.get("REWIRE_DATA")) if d]
    return [*dirs, default_cache()]


def sha256sum(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_VERIFIED: set[tuple[str, float, int]] = set()


def _content_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open_maybe_gz(path) as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify(path: Path, source: Source) -> Path:
    """Check a file once per process (keyed by path, mtime and size): its SHA-256, or else
    the SHA-256 of its decompressed content (a file compressed differently, or not at all)."""
    if source.sha256 is None and source.content_sha256 is None:
        return path
    st = path.stat()
    key = (str(path), st.st_mtime, st.st_size)
    if key in _VERIFIED:
        return path
    canonical = path.name == Path(source.path).name  # not the uncompressed form
    if canonical and source.sha256 and sha256sum(path) == source.sha256:
        _VERIFIED.add(key)
        return path
    if source.content_sha256 is None:
        expected = source.sha256 or ""  # not None here: one of the two checksums is set
        raise DataError(f"{path}: checksum mismatch (expected sha256 {expected[:12]}…); "
                        f"the file is corrupt or truncated: delete it and retry")
    try:
        got = _content_sha256(path)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot decompress ({exc}); the file is corrupt or "
                        f"truncated: delete it and retry") from None
    if got != source.content_sha256:
        raise DataError(f"{path}: its content differs from the canonical file (sha256 "
                        f"{got[:12]}…, expected {source.content_sha256[:12]}…); it is "
                        f"corrupt or another version: delete it and retry")
    _VERIFIED.add(key)
    return path


def find_local(relpath: str, data_dir=None) -> Path | None:
    """The first local copy of ``relpath`` (or of its uncompressed form), unverified."""
    for d in data_dirs(data_dir):
        for candidate in (d / relpath, d / relpath.removesuffix(".gz")):
            if candidate.is_file():
                return candidate
    return None


def fetch(relpath: str, data_dir: str | os.PathLike | None = None, download: bool = True) -> Path:
    """Return a verified local path for the data file ``relpath`` (a key of ``FILES``).

    Looks in each folder of :func:`data_dirs` (for ``x.gz``, also for ``x``); downloads into
    the cache when allowed. A ``data_dir`` that does not exist is an error, not a download.

    Args:
        relpath: The file's path under a data folder, a key of ``FILES``
            (``"mnist/train-images-idx3-ubyte.gz"``).
        data_dir: A data folder to search first (it must exist).
        download: Download a file found in no folder into the cache; ``False``: an error.

    Returns:
        The path of the local file, its checksum verified (once per process).

    Raises:
        DataError: the file is corrupt, or absent and cannot be downloaded; also an unknown
            ``relpath`` or a ``data_dir`` that does not exist.

    Example:
        >>> fetch("no/such/file")
        Traceback (most recent call last):
        ...
        rewire.data.sources.DataError: unknown data file 'no/such/file'
    """
    source = FILES.get(relpath)
    if source is None:
        raise DataError(f"unknown data file {relpath!r}")
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DataError(f"data folder {data_dir} does not exist")
    dirs = data_dirs(data_dir)
    local = find_local(relpath, data_dir)
    if local is not None:
        return _verify(local, source)
    where = f"{relpath} not found in " + ", ".join(str(d) for d in dirs)
    if not download:
        hint = "" if data_dir else " (pass a data folder with --data-dir)"
        raise DataError(f"{where}; downloading is off{hint}")
    target = dirs[-1] / relpath
    try:
        _download(source, target)
    except OSError as exc:  # URLError is an OSError
        raise DataError(
            f"{where}, and the download failed ({exc.__class__.__name__}: {exc}); "
            "offline? put the files in a folder and pass --data-dir or set REWIRE_DATA"
        ) from None
    return _verify(target, source)


def _download(source: Source, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.archive:
        archive = default_cache() / "archives" / Path(source.archive).name
        if not archive.is_file():
            _get([source.archive], archive, md5=source.archive_md5)
        _extract(archive, cast(str, source.member), target)  # an archive names its member
        return
    _get(list(source.urls), target)


def _get(urls: list[str], target: Path, md5: str | None = None) -> None:
    """Download the first URL that answers into ``target`` atomically (temp file + rename)."""
    errors = []
    for url in urls:
        tmp = target.with_suffix(target.suffix + ".part")
        try:
            print(f"downloading {url}", flush=True)
            with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
                shutil.copyfileobj(r, f)
            if md5 is not None and hashlib.md5(tmp.read_bytes()).hexdigest() != md5:
                raise OSError(f"md5 mismatch for {url}")
            tmp.replace(target)
            return
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            errors.append(f"{url}: {exc}")
    raise OSError("; ".join(errors))


def _extract(archive: Path, member: str, target: Path) -> None:
    tmp = target.with_suffix(target.suffix + ".part")
    if archive.suffix == ".zip":
        with zipfile.ZipFile(archive) as z, z.open(member) as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
    else:
        with tarfile.open(archive) as t:
            found = t.extractfile(member)
            if found is None:
                raise OSError(f"{member} missing from {archive}")
            with open(tmp, "wb") as dst:
                shutil.copyfileobj(found, dst)
    tmp.replace(target)


def open_maybe_gz(path: Path):
    """Open a file, decompressing it when it is gzip (by its magic bytes, not its name)."""
    with open(path, "rb") as f:
        magic = f.read(2)
    return gzip.open(path, "rb") if magic == b"\x1f\x8b" else open(path, "rb")
