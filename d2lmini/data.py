"""The data layer: every file the book downloads, checked and cached.

Each registered file has its canonical URL(s) and sha1. :func:`fetch` looks in
the cache folder (``D2LMINI_DATA``, default ``~/.cache/d2lmini``), then in the
mirror (``D2LMINI_MIRROR``: a local folder or a URL prefix, tried before the
network), then at the canonical URLs. Every copy is written to a temporary file
in the cache, checked against its sha1 and only then renamed into place, so a
failed or corrupted transfer never leaves a file behind. When nothing works,
one error lists what was tried and how to place the file by hand.
"""
import dataclasses
import hashlib
import os
import pathlib
import shutil
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile

DATA_URL = 'http://d2l-data.s3-accelerate.amazonaws.com/'
FASHION_MNIST_URL = 'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/'
RETRIES = 3         # attempts per network URL
RETRY_WAIT = 1.0    # seconds before the first retry; doubles each time
TIMEOUT = 60        # seconds per network request


@dataclasses.dataclass(frozen=True)
class Resource:
    """A file the book needs: where it lives in the cache and where it comes from.

    ``archive`` is set when the canonical URLs serve an archive (with sha1
    ``archive_sha1``) that contains ``path``; mirrors hold ``path`` itself.
    """
    path: str
    sha1: str
    urls: tuple
    archive: str = None
    archive_sha1: str = None


DATA_HUB = {}


def register(name, path, sha1, urls, archive=None, archive_sha1=None):
    """Add a file to :data:`DATA_HUB` under ``name``."""
    DATA_HUB[name] = Resource(path, sha1, tuple(urls), archive, archive_sha1)
    return DATA_HUB[name]


for _f, _sha1 in [
        ('train-images-idx3-ubyte.gz', '95978b76b6897f6ca69a25145d01716efb615989'),
        ('train-labels-idx1-ubyte.gz', '09814cfef5a041118ceace42f8dae995319d331a'),
        ('t10k-images-idx3-ubyte.gz', '5edda96c6d8c36ff915115a0e8136d370a021576'),
        ('t10k-labels-idx1-ubyte.gz', '9caad14e1aff9adac77d3744963212d36af15bee')]:
    register(f'fashion_mnist/{_f}', f'FashionMNIST/raw/{_f}', _sha1,
             [FASHION_MNIST_URL + _f])
register('time_machine', 'timemachine.txt',
         '090b5e7e70c295757f55df93cb0a180b9691891a', [DATA_URL + 'timemachine.txt'])
register('kaggle_house_train', 'kaggle_house_pred_train.csv',
         '585e9cc93e70b39160e7921475f9bcd7d31219ce',
         [DATA_URL + 'kaggle_house_pred_train.csv'])
register('kaggle_house_test', 'kaggle_house_pred_test.csv',
         'fa19780a7b011d9b009e8bff8e99922a8ee2eb90',
         [DATA_URL + 'kaggle_house_pred_test.csv'])
register('fra-eng', 'fra-eng/fra.txt', 'c43f99dce27311d3afd4d3e0716848194cfcc103',
         [DATA_URL + 'fra-eng.zip'], archive='fra-eng.zip',
         archive_sha1='94646ad1522d915e7b0f9296181140edcf86a4f5')
register('fra-eng/_about', 'fra-eng/_about.txt', '87b442abcc81d52654ddcff60235873c1466a052',
         [DATA_URL + 'fra-eng.zip'], archive='fra-eng.zip',
         archive_sha1='94646ad1522d915e7b0f9296181140edcf86a4f5')


class DataUnavailable(RuntimeError):
    """No source could provide a file with the expected sha1."""


def data_dir():
    """The cache folder for downloaded data (``D2LMINI_DATA`` or ~/.cache/d2lmini)."""
    root = os.environ.get('D2LMINI_DATA') or os.path.join(
        os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'd2lmini')
    return pathlib.Path(root)


def sha1_of(path, chunk=1 << 20):
    digest = hashlib.sha1()
    with open(path, 'rb') as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _mirror_candidates(relpath):
    mirror = os.environ.get('D2LMINI_MIRROR', '').strip()
    if not mirror:
        return []
    if '://' in mirror:
        return [mirror.rstrip('/') + '/' + relpath]
    return [os.path.join(mirror, relpath)]


def _copy_to_temp(source, folder):
    """Copy a local path or URL into a new temporary file in ``folder``."""
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.d2lmini-', suffix='.part')
    try:
        with os.fdopen(fd, 'wb') as out:
            if '://' in source and not source.startswith('file://'):
                with urllib.request.urlopen(source, timeout=TIMEOUT) as response:
                    shutil.copyfileobj(response, out)
            else:
                local = source[len('file://'):] if source.startswith('file://') else source
                with open(local, 'rb') as f:
                    shutil.copyfileobj(f, out)
    except BaseException:
        os.unlink(tmp)
        raise
    return tmp


def _place(source, target, sha1, attempts):
    """Copy ``source`` to ``target`` if its sha1 matches; return None or why not."""
    target.parent.mkdir(parents=True, exist_ok=True)
    last_error = None
    for attempt in range(max(1, attempts)):  # RETRIES = 0 still means one try
        if attempt:
            time.sleep(RETRY_WAIT * 2 ** (attempt - 1))
        try:
            tmp = _copy_to_temp(source, target.parent)
        except FileNotFoundError:
            return 'not there'
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500:  # the server says no: asking again won't help
                return f'HTTP {e.code} {e.reason}'
            last_error = f'HTTP {e.code} {e.reason}'
            continue
        except OSError as e:  # network errors are OSErrors too: retry those
            last_error = f'{type(e).__name__}: {e}'
            continue
        got = sha1_of(tmp)
        if sha1 is not None and got != sha1:
            os.unlink(tmp)
            return f'wrong sha1 {got} (file corrupt or a different version)'
        os.chmod(tmp, 0o644)  # mkstemp makes it private
        os.replace(tmp, target)
        return None
    return last_error


def _attempts_for(source):
    return RETRIES if '://' in source and not source.startswith('file://') else 1


def fetch(name, folder=None):
    """Local path of the registered file ``name``, fetching it if needed."""
    if name not in DATA_HUB:
        raise KeyError(f'{name!r} is not a registered data file; known: '
                       f'{", ".join(sorted(DATA_HUB))}')
    return _obtain(name, DATA_HUB[name], folder)


def _obtain(name, res, folder):
    """The file of ``res`` in ``folder`` (default: the cache): cached, mirrored or downloaded."""
    folder = pathlib.Path(folder) if folder is not None else data_dir()
    target = folder / res.path
    if target.exists() and (res.sha1 is None or sha1_of(target) == res.sha1):
        return target
    tried = []
    if target.exists():
        tried.append((str(target), f'cached copy has wrong sha1 {sha1_of(target)}; replacing'))
    for source in _mirror_candidates(res.path):
        why = _place(source, target, res.sha1, _attempts_for(source))
        if why is None:
            return target
        tried.append((source, why))
    for url in res.urls:
        if res.archive is None:
            why = _place(url, target, res.sha1, _attempts_for(url))
        else:
            why = _fetch_from_archive(url, res, folder, target)
        if why is None:
            return target
        tried.append((url, why))
    raise DataUnavailable(_unavailable_message(name, res, target, tried))


def _fetch_from_archive(url, res, folder, target):
    archive = folder / res.archive
    why = _place(url, archive, res.archive_sha1, _attempts_for(url))
    if why is not None:
        return why
    try:
        extract(archive, folder)
    finally:
        archive.unlink()
    if not target.exists():
        return f'{res.archive} holds no {res.path}'
    if sha1_of(target) != res.sha1:
        target.unlink()
        return f'{res.path} inside {res.archive} has the wrong sha1'
    return None


def _unavailable_message(name, res, target, tried):
    lines = [f'Could not get data file {name!r}.', 'Tried:']
    lines += [f'  - {source}: {why}' for source, why in tried] or ['  - nothing']
    lines += [
        f'Expected file: {target}',
        f'Expected sha1: {res.sha1 or "(not given)"}',
        'To fix: download it from ' + ' or '.join(res.urls) +
        (f' (extract {res.path} from the archive)' if res.archive else '') +
        f' and place it at the path above, or set D2LMINI_MIRROR to a folder '
        f'(or URL prefix) that holds {res.path}. D2LMINI_DATA moves the cache folder.']
    return '\n'.join(lines)


def download(url, folder=None, sha1_hash=None):
    """Download ``url`` into ``folder`` (default: the cache) and return the local path.

    d2l's signature. A registered canonical URL goes through :func:`fetch` (mirror,
    hash, retries). The URL of a registered archive (d2l's ``fra-eng.zip``) gives
    that archive: the original, checked against its sha1, if the cache or the
    mirror holds it; otherwise one assembled from the archive's registered members,
    each fetched (cache, mirror, then the archive from the network, extracted and
    removed) and checked against its own sha1, so that ``extract(download(url))``
    yields the registered files. An offline mirror holds the extracted ``fra-eng/``
    folder, not the zip; files of the original archive that are not registered are
    not in an assembled one. Any other URL is checked
    against ``sha1_hash`` when given, and the mirror is tried first under the
    URL's file name.
    """
    for name, res in DATA_HUB.items():
        if url in res.urls and res.archive is None:
            return str(fetch(name, folder))
    members = {name: res for name, res in DATA_HUB.items() if res.archive and url in res.urls}
    if members:
        return str(_archive(members, folder))
    fname = url.split('/')[-1]
    return str(_obtain(fname, Resource(fname, sha1_hash, (url,)), folder))


def _archive(members, folder):
    """The archive that holds ``members``: the original if cached or mirrored, else rebuilt
    from its checked members (a zip with fixed timestamps, written atomically)."""
    folder = pathlib.Path(folder) if folder is not None else data_dir()
    first = next(iter(members.values()))
    target = folder / first.archive
    if target.exists() and sha1_of(target) == first.archive_sha1:
        return target
    for source in _mirror_candidates(first.archive):
        if _place(source, target, first.archive_sha1, _attempts_for(source)) is None:
            return target
    paths = {name: _obtain(name, res, folder) for name, res in members.items()}  # checked
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.d2lmini-', suffix='.part')
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, 'w') as archive:
            for name in sorted(paths):
                info = zipfile.ZipInfo(members[name].path)  # dated 1980-01-01, never "now"
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, paths[name].read_bytes())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def _is_within(base, path):
    base, path = os.path.realpath(base), os.path.realpath(path)
    return os.path.commonpath([base, path]) == base


def extract(filename, folder=None):
    """Safely extract a zip or tar archive into ``folder`` (default: next to it).

    Members with absolute paths, ``..`` components or links pointing outside the
    folder are refused with a ValueError before anything is written.
    """
    filename = pathlib.Path(filename)
    folder = pathlib.Path(folder) if folder is not None else filename.parent
    if zipfile.is_zipfile(filename):
        with zipfile.ZipFile(filename) as archive:
            for member in archive.namelist():
                if os.path.isabs(member) or not _is_within(folder, folder / member):
                    raise ValueError(f'refusing to extract {member!r} from {filename}: '
                                     'it would land outside the target folder')
            archive.extractall(folder)
    elif tarfile.is_tarfile(filename):
        with tarfile.open(filename) as archive:
            for member in archive.getmembers():
                if (os.path.isabs(member.name)
                        or not _is_within(folder, folder / member.name)
                        or (member.issym() or member.islnk()) and not _is_within(
                            folder, folder / os.path.dirname(member.name) / member.linkname)):
                    raise ValueError(f'refusing to extract {member.name!r} from {filename}: '
                                     'it would land or point outside the target folder')
            if hasattr(tarfile, 'data_filter'):  # Python >= 3.12 (and backports)
                archive.extractall(folder, filter='data')
            else:
                archive.extractall(folder)
    else:
        raise ValueError(f'{filename} is neither a zip nor a tar archive')
    return folder
