"""The data layer's details that tests/test_data.py leaves open: where the cache lives by
default, how a URL mirror's prefix is joined, which failures are retried and how long it waits,
what a failed attempt reports, file modes, the temporary file of a transfer in progress, and
d2l's ``download`` of plain files and of registered archives (original or rebuilt).

No network: ``urllib.request.urlopen`` is replaced by :class:`FakeNet`, ``time.sleep`` is
recorded instead of slept, mirrors are folders in ``tmp_path``.
"""
import hashlib
import io
import os
import pathlib
import tarfile
import time
import urllib.error
import urllib.request
import zipfile

import pytest

import d2lmini as d2l
from d2lmini import data as dl
from helpers import fetch_error, files_in, zip_bytes

GOOD = b'checked content\n' * 64
GOOD_SHA1 = hashlib.sha1(GOOD).hexdigest()
OTHER = b'another checked file\n' * 32
OTHER_SHA1 = hashlib.sha1(OTHER).hexdigest()
URL = 'http://files.example.test/data/'
_NOT_GIVEN = object()


class _Response(io.BytesIO):
    def __init__(self, body, on_read):
        super().__init__(body)
        self.on_read = on_read

    def read(self, *args):
        self.on_read()
        return super().read(*args)


class FakeNet:
    """Stands in for the network: ``files`` maps URL -> bytes, ``failures`` maps URL -> a list
    of exceptions raised by successive requests (the last one repeats). Records every request."""
    def __init__(self, monkeypatch, files=(), failures=()):
        self.files, self.failures = dict(files), dict(failures)
        self.calls, self.timeouts, self.on_read = [], [], lambda: None
        monkeypatch.setattr(urllib.request, 'urlopen', self.urlopen)

    def urlopen(self, url, timeout=_NOT_GIVEN):
        self.calls.append(url)
        self.timeouts.append(timeout)
        if url in self.failures:
            errors = self.failures[url]
            error = errors.pop(0) if len(errors) > 1 else errors[0]
            if error is not None:
                raise error
        if url not in self.files:
            raise urllib.error.HTTPError(url, 404, 'Not Found', {}, None)
        return _Response(self.files[url], self.on_read)


def _http_error(url, code, reason):
    return urllib.error.HTTPError(url, code, reason, {}, None)


@pytest.fixture
def sleeps(monkeypatch):
    """The waits between retries, recorded instead of slept, at the module's real schedule."""
    waits = []
    monkeypatch.setattr(dl, 'RETRY_WAIT', 1.0)
    monkeypatch.setattr(dl, 'RETRIES', 3)
    monkeypatch.setattr(time, 'sleep', waits.append)
    return waits


def _mirror(tmp_path, monkeypatch, files):
    mirror = tmp_path / 'mirror'
    for rel, blob in files.items():
        (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
        (mirror / rel).write_bytes(blob)
    mirror.mkdir(exist_ok=True)
    monkeypatch.setenv('D2LMINI_MIRROR', str(mirror))
    return mirror


# -- where the cache lives ---------------------------------------------------------------
def test_default_cache_is_under_xdg_cache_home(cache, tmp_path, monkeypatch):
    monkeypatch.delenv('D2LMINI_DATA')
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    monkeypatch.setenv('XDG_CACHE_HOME', str(tmp_path / 'xdg'))
    _mirror(tmp_path, monkeypatch, {'sub/a.txt': GOOD})
    dl.register('a', 'sub/a.txt', GOOD_SHA1, [URL + 'a.txt'])
    assert d2l.data_dir() == tmp_path / 'xdg' / 'd2lmini'
    assert d2l.fetch('a') == tmp_path / 'xdg' / 'd2lmini' / 'sub' / 'a.txt'
    assert files_in(tmp_path / 'xdg') == ['d2lmini/sub/a.txt']
    assert not (tmp_path / 'home').exists()


def test_default_cache_without_any_setting_is_in_the_home_folder(cache, tmp_path, monkeypatch):
    monkeypatch.setenv('D2LMINI_DATA', '')  # set but empty counts as unset
    monkeypatch.delenv('XDG_CACHE_HOME', raising=False)
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    _mirror(tmp_path, monkeypatch, {'sub/a.txt': GOOD})
    dl.register('a', 'sub/a.txt', GOOD_SHA1, [URL + 'a.txt'])
    assert d2l.fetch('a') == tmp_path / 'home' / '.cache' / 'd2lmini' / 'sub' / 'a.txt'
    assert files_in(tmp_path / 'home') == ['.cache/d2lmini/sub/a.txt']


# -- mirrors -------------------------------------------------------------------------------
def test_url_mirror_prefix_is_joined_with_one_slash(cache, monkeypatch):
    # a prefix typed as "$BASE/" where BASE already ends with a slash; its last folder ends in X
    monkeypatch.setenv('D2LMINI_MIRROR', ' http://mirror.test/MIX// ')
    net = FakeNet(monkeypatch, files={'http://mirror.test/MIX/sub/a.txt': GOOD})
    dl.register('a', 'sub/a.txt', GOOD_SHA1, [URL + 'a.txt'])
    assert d2l.fetch('a').read_bytes() == GOOD
    assert net.calls == ['http://mirror.test/MIX/sub/a.txt']  # the canonical URL is not asked


def test_a_corrupt_mirror_copy_is_refused_and_the_network_used(cache, tmp_path, monkeypatch):
    mirror = _mirror(tmp_path, monkeypatch, {'a.txt': b'stale version'})
    net = FakeNet(monkeypatch, files={URL + 'a.txt': GOOD})
    dl.register('a', 'a.txt', GOOD_SHA1, [URL + 'a.txt'])
    assert d2l.fetch('a').read_bytes() == GOOD
    assert net.calls == [URL + 'a.txt']
    assert (mirror / 'a.txt').read_bytes() == b'stale version'  # the mirror is never written


def test_local_sources_are_tried_once_without_waiting(cache, tmp_path, monkeypatch, sleeps):
    # an unreadable local copy (here: a folder where the file should be) is not retried,
    # whether it comes from a mirror folder or a file:// URL
    mirror = _mirror(tmp_path, monkeypatch, {})
    (mirror / 'a.txt').mkdir()
    (tmp_path / 'b.txt').mkdir()
    url = (tmp_path / 'b.txt').as_uri()
    dl.register('a', 'a.txt', GOOD_SHA1, [url])
    message = fetch_error('a')
    assert f'- {mirror / "a.txt"}: IsADirectoryError' in message
    assert f'- {url}: IsADirectoryError' in message
    assert sleeps == []
    assert files_in(cache) == []


# -- retries -------------------------------------------------------------------------------
def test_network_errors_are_retried_with_doubling_waits(cache, monkeypatch, sleeps):
    url = URL + 'a.txt'
    net = FakeNet(monkeypatch, failures={url: [ConnectionResetError('connection reset by peer')]})
    dl.register('a', 'a.txt', GOOD_SHA1, [url])
    message = fetch_error('a')
    assert net.calls == [url] * 3
    assert sleeps == [1.0, 2.0]
    assert f'- {url}: ConnectionResetError: connection reset by peer' in message
    assert files_in(cache) == []


def test_server_errors_are_retried_then_reported(cache, monkeypatch, sleeps):
    url = URL + 'a.txt'
    net = FakeNet(monkeypatch, failures={url: [_http_error(url, 500, 'Internal Server Error')]})
    dl.register('a', 'a.txt', GOOD_SHA1, [url])
    message = fetch_error('a')
    assert net.calls == [url] * 3 and sleeps == [1.0, 2.0]
    assert f'- {url}: HTTP 500 Internal Server Error' in message
    assert not (cache / 'a.txt').exists()


def test_a_server_error_then_success_gives_the_file(cache, monkeypatch, sleeps):
    url = URL + 'a.txt'
    net = FakeNet(monkeypatch, files={url: GOOD},
                  failures={url: [_http_error(url, 503, 'Service Unavailable'), None]})
    dl.register('a', 'a.txt', GOOD_SHA1, [url])
    assert d2l.fetch('a').read_bytes() == GOOD
    assert net.calls == [url] * 2 and sleeps == [1.0]


@pytest.mark.parametrize('code, reason', [(400, 'Bad Request'), (403, 'Forbidden')])
def test_client_errors_are_not_retried(cache, monkeypatch, sleeps, code, reason):
    url = URL + 'a.txt'
    net = FakeNet(monkeypatch, failures={url: [_http_error(url, code, reason)]})
    dl.register('a', 'a.txt', GOOD_SHA1, [url])
    message = fetch_error('a')
    assert net.calls == [url] and sleeps == []
    assert f'- {url}: HTTP {code} {reason}' in message


@pytest.mark.parametrize('retries', [0, 1])
def test_no_retries_still_means_one_try(cache, monkeypatch, sleeps, retries):
    # RETRIES = 0 once made fetch() return a path to a file it never wrote
    monkeypatch.setattr(dl, 'RETRIES', retries)
    url = URL + 'a.txt'
    net = FakeNet(monkeypatch, failures={url: [ConnectionResetError('connection reset by peer')]})
    dl.register('a', 'a.txt', GOOD_SHA1, [url])
    assert 'ConnectionResetError' in fetch_error('a')
    assert net.calls == [url] and sleeps == [] and files_in(cache) == []
    net.failures.clear()
    net.files[url] = GOOD
    assert d2l.fetch('a').read_bytes() == GOOD


def test_every_request_has_a_timeout(cache, monkeypatch):
    net = FakeNet(monkeypatch, files={URL + 'a.txt': GOOD})
    dl.register('a', 'a.txt', GOOD_SHA1, [URL + 'a.txt'])
    d2l.fetch('a')
    assert net.timeouts == [dl.TIMEOUT]  # a stalled server cannot hang the notebook


# -- what ends up in the cache -------------------------------------------------------------
def test_a_transfer_in_progress_is_a_hidden_part_file_next_to_the_target(cache, monkeypatch):
    # partial downloads are recognisable (and removable: rm .d2lmini-*.part) if a process dies
    seen = []
    net = FakeNet(monkeypatch, files={URL + 'a.txt': GOOD})
    net.on_read = lambda: seen.append(sorted(os.listdir(cache / 'sub')))
    dl.register('a', 'sub/a.txt', GOOD_SHA1, [URL + 'a.txt'])
    d2l.fetch('a')
    assert seen and all(len(names) == 1 for names in seen)
    (partial,) = seen[0]
    assert pathlib.Path(partial).match('.d2lmini-*.part')
    assert files_in(cache) == ['sub/a.txt']


def test_placed_files_are_readable_but_not_executable(cache, tmp_path, monkeypatch):
    _mirror(tmp_path, monkeypatch, {'a.txt': GOOD})
    dl.register('a', 'a.txt', GOOD_SHA1, [URL + 'a.txt'])
    assert d2l.fetch('a').stat().st_mode & 0o777 == 0o644


def test_a_corrupt_cached_copy_that_cannot_be_replaced_is_reported(cache):
    cache.mkdir()
    (cache / 'a.txt').write_bytes(b'truncated')
    dl.register('a', 'a.txt', GOOD_SHA1, [])
    message = fetch_error('a')
    bad = hashlib.sha1(b'truncated').hexdigest()
    assert f'- {cache / "a.txt"}: cached copy has wrong sha1 {bad}' in message


def test_fetch_of_an_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError) as info:
        d2l.fetch('time-machine')
    message = info.value.args[0]
    assert message.startswith("'time-machine' is not a registered data file")
    assert message.split('known: ')[1].split(', ') == sorted(d2l.DATA_HUB)


def test_extract_writes_into_the_folder_not_the_working_directory(tmp_path, monkeypatch):
    zipped, tarred = tmp_path / 'pack.zip', tmp_path / 'pack.tar'
    with zipfile.ZipFile(zipped, 'w') as z:
        z.writestr('pack/a.txt', GOOD)
    with tarfile.open(tarred, 'w') as t:
        info = tarfile.TarInfo('pack/b.txt')
        info.size = len(OTHER)
        t.addfile(info, io.BytesIO(OTHER))
    (tmp_path / 'cwd').mkdir()
    monkeypatch.chdir(tmp_path / 'cwd')
    d2l.extract(zipped, tmp_path / 'out')
    # a Python without tarfile's extraction filters (before 3.12 and its backports)
    monkeypatch.delattr(tarfile, 'data_filter', raising=False)
    d2l.extract(tarred, tmp_path / 'out')
    assert files_in(tmp_path / 'out') == ['pack/a.txt', 'pack/b.txt']
    assert (tmp_path / 'out' / 'pack' / 'b.txt').read_bytes() == OTHER
    assert files_in(tmp_path / 'cwd') == []


# -- d2l's download ------------------------------------------------------------------------
def test_download_of_an_unregistered_url_lands_in_the_given_folder(cache, tmp_path, monkeypatch):
    net = FakeNet(monkeypatch, files={URL + 'x.bin': GOOD})
    path = d2l.download(URL + 'x.bin', folder=tmp_path / 'mine', sha1_hash=GOOD_SHA1)
    assert pathlib.Path(path) == tmp_path / 'mine' / 'x.bin'
    assert pathlib.Path(path).read_bytes() == GOOD and net.calls == [URL + 'x.bin']
    assert not cache.exists()


def test_failed_download_names_the_file(cache, monkeypatch):
    FakeNet(monkeypatch)
    with pytest.raises(dl.DataUnavailable) as info:
        d2l.download(URL + 'x.bin', sha1_hash=GOOD_SHA1)
    lines = str(info.value).splitlines()
    assert lines[0] == "Could not get data file 'x.bin'."
    assert f'Expected file: {cache / "x.bin"}' in lines


def test_download_of_a_registered_url_honours_the_folder(cache, tmp_path, monkeypatch):
    _mirror(tmp_path, monkeypatch, {'reg/a.txt': GOOD})
    dl.register('reg', 'reg/a.txt', GOOD_SHA1, [URL + 'a.txt'])
    path = d2l.download(URL + 'a.txt', folder=tmp_path / 'mine')
    assert pathlib.Path(path) == tmp_path / 'mine' / 'reg' / 'a.txt'
    assert not cache.exists()


# -- d2l's download of a registered archive ------------------------------------------------
PACK = URL + 'pack.zip'


ORIGINAL = zip_bytes({'pack/a.txt': GOOD, 'pack/b.txt': OTHER})
ORIGINAL_SHA1 = hashlib.sha1(ORIGINAL).hexdigest()


@pytest.fixture
def pack(cache):
    """Two registered members of the archive at PACK (like d2l's fra-eng.zip)."""
    dl.register('pack/b', 'pack/b.txt', OTHER_SHA1, [PACK], 'pack.zip', ORIGINAL_SHA1)
    dl.register('pack/a', 'pack/a.txt', GOOD_SHA1, [PACK], 'pack.zip', ORIGINAL_SHA1)
    return cache


def test_a_cached_archive_is_used_as_it_is(pack, monkeypatch):
    net = FakeNet(monkeypatch)
    pack.mkdir()
    (pack / 'pack.zip').write_bytes(ORIGINAL)
    assert pathlib.Path(d2l.download(PACK)) == pack / 'pack.zip'  # default folder: the cache
    assert net.calls == [] and files_in(pack) == ['pack.zip']


def test_a_corrupt_cached_archive_is_rebuilt_from_its_members(pack, tmp_path, monkeypatch):
    _mirror(tmp_path, monkeypatch, {'pack/a.txt': GOOD, 'pack/b.txt': OTHER})
    FakeNet(monkeypatch)
    pack.mkdir()
    (pack / 'pack.zip').write_bytes(b'truncated zip')
    path = pathlib.Path(d2l.download(PACK))
    assert path == pack / 'pack.zip'
    with zipfile.ZipFile(path) as z:
        assert z.read('pack/a.txt') == GOOD and z.read('pack/b.txt') == OTHER


def test_a_mirrored_archive_is_checked_before_use(pack, tmp_path, monkeypatch):
    _mirror(tmp_path, monkeypatch, {'pack.zip': ORIGINAL})
    assert pathlib.Path(d2l.download(PACK)).read_bytes() == ORIGINAL
    (pack / 'pack.zip').unlink()
    # a mirror with a different zip but the right members: the archive is rebuilt instead
    _mirror(tmp_path, monkeypatch, {'pack.zip': zip_bytes({'pack/a.txt': b'old'}),
                                    'pack/a.txt': GOOD, 'pack/b.txt': OTHER})
    FakeNet(monkeypatch)
    with zipfile.ZipFile(d2l.download(PACK)) as z:
        assert sorted(z.namelist()) == ['pack/a.txt', 'pack/b.txt']
        assert z.read('pack/a.txt') == GOOD


def test_a_rebuilt_archive_extracts_to_the_registered_files(pack, tmp_path, monkeypatch):
    _mirror(tmp_path, monkeypatch, {'pack/a.txt': GOOD, 'pack/b.txt': OTHER})
    net = FakeNet(monkeypatch)
    path = pathlib.Path(d2l.download(PACK))
    assert path == pack / 'pack.zip' and net.calls == []  # the mirror's members suffice
    assert path.stat().st_mode & 0o777 == 0o644
    out = d2l.extract(path, tmp_path / 'out')
    assert files_in(out) == ['pack/a.txt', 'pack/b.txt']
    assert (out / 'pack' / 'a.txt').read_bytes() == GOOD
    with zipfile.ZipFile(path) as z:
        # fixed timestamps (the zip epoch), so a rebuild gives the same bytes
        assert [i.date_time for i in z.infolist()] == [(1980, 1, 1, 0, 0, 0)] * 2
        assert [i.compress_type for i in z.infolist()] == [zipfile.ZIP_DEFLATED] * 2
    again = pathlib.Path(d2l.download(PACK, folder=tmp_path / 'elsewhere'))
    assert again == tmp_path / 'elsewhere' / 'pack.zip'
    assert again.read_bytes() == path.read_bytes()


def test_an_archive_whose_member_is_missing_names_the_member(pack, tmp_path, monkeypatch):
    _mirror(tmp_path, monkeypatch, {'pack/a.txt': GOOD})
    FakeNet(monkeypatch)
    with pytest.raises(dl.DataUnavailable) as info:
        d2l.download(PACK)
    assert str(info.value).startswith("Could not get data file 'pack/b'.")
    assert 'pack.zip' not in os.listdir(pack)
    assert not [n for n in os.listdir(pack) if n.endswith('.part')]


def test_rebuilding_an_archive_writes_a_hidden_part_file_and_cleans_up_on_failure(
        pack, tmp_path, monkeypatch):
    _mirror(tmp_path, monkeypatch, {'pack/a.txt': GOOD, 'pack/b.txt': OTHER})
    FakeNet(monkeypatch)
    seen = []

    def disk_full(self, info, data):
        seen.append(sorted(os.listdir(pack)))
        raise OSError(28, 'No space left on device')
    monkeypatch.setattr(zipfile.ZipFile, 'writestr', disk_full)
    with pytest.raises(OSError, match='No space left on device'):
        d2l.download(PACK)
    (names,) = seen
    partial = [n for n in names if n != 'pack']
    assert len(partial) == 1 and pathlib.Path(partial[0]).match('.d2lmini-*.part')
    assert files_in(pack) == ['pack/a.txt', 'pack/b.txt']  # the checked members stay
