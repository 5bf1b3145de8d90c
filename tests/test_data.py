"""Unit tests of the data layer, against a real HTTP server on loopback."""
import hashlib
import http.server
import os
import pathlib
import tarfile
import threading
import zipfile

import pytest

import d2lmini as d2l
from d2lmini import data as dl
from helpers import files_in, zip_bytes

GOOD = b'the right bytes\n' * 100
GOOD_SHA1 = hashlib.sha1(GOOD).hexdigest()


class Server:
    """Serves ``files`` (path -> bytes) and counts requests per path."""
    def __init__(self, files):
        self.files, self.hits = files, {}
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.httpd.server_address[1]}'
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server({'/files/a.txt': GOOD, '/files/bad.txt': b'corrupted'})
    yield s
    s.close()


def test_download_verifies_and_caches(server, cache):
    dl.register('a', 'sub/a.txt', GOOD_SHA1, [server.url + '/files/a.txt'])
    path = d2l.fetch('a')
    assert path == cache / 'sub' / 'a.txt' and path.read_bytes() == GOOD
    d2l.fetch('a')  # second call: served from the cache
    assert server.hits == {'/files/a.txt': 1}


def test_corrupted_download_is_rejected_and_leaves_no_file(server, cache):
    dl.register('bad', 'bad.txt', GOOD_SHA1, [server.url + '/files/bad.txt'])
    with pytest.raises(dl.DataUnavailable, match='wrong sha1'):
        d2l.fetch('bad')
    assert files_in(cache) == []  # no half-written or temporary file


def test_corrupted_cache_file_is_replaced(server, cache):
    dl.register('a', 'a.txt', GOOD_SHA1, [server.url + '/files/a.txt'])
    cache.mkdir()
    (cache / 'a.txt').write_bytes(b'truncated')
    assert d2l.fetch('a').read_bytes() == GOOD


def test_mirror_is_used_before_the_network(server, cache, tmp_path, monkeypatch):
    mirror = tmp_path / 'mirror'
    (mirror / 'sub').mkdir(parents=True)
    (mirror / 'sub' / 'a.txt').write_bytes(GOOD)
    os.chmod(mirror / 'sub' / 'a.txt', 0o444)
    monkeypatch.setenv('D2LMINI_MIRROR', str(mirror))
    dl.register('a', 'sub/a.txt', GOOD_SHA1, [server.url + '/files/a.txt'])
    assert d2l.fetch('a').read_bytes() == GOOD
    assert server.hits == {}                       # the network was never asked
    assert files_in(mirror) == ['sub/a.txt']       # and the mirror was not written


def test_url_mirror_then_fallback_to_canonical_url(server, cache, monkeypatch):
    monkeypatch.setenv('D2LMINI_MIRROR', server.url + '/mirror')
    dl.register('a', 'a.txt', GOOD_SHA1, [server.url + '/files/a.txt'])
    assert d2l.fetch('a').read_bytes() == GOOD
    assert server.hits == {'/mirror/a.txt': 1, '/files/a.txt': 1}


def test_offline_error_names_path_hash_and_urls(cache, monkeypatch):
    monkeypatch.setattr(dl, 'RETRIES', 2)
    url = 'http://127.0.0.1:9/nothing-listens-here/a.txt'  # port 9: discard, closed
    dl.register('a', 'sub/a.txt', GOOD_SHA1, [url])
    with pytest.raises(dl.DataUnavailable) as info:
        d2l.fetch('a')
    message = str(info.value)
    for needed in (url, str(cache / 'sub' / 'a.txt'), GOOD_SHA1, 'D2LMINI_MIRROR'):
        assert needed in message
    assert files_in(cache) == []


def test_retries_then_succeeds(cache, monkeypatch):
    calls = []
    real = dl._copy_to_temp

    def flaky(source, folder):
        calls.append(source)
        if len(calls) < 3:
            raise ConnectionResetError('connection reset')
        folder.mkdir(parents=True, exist_ok=True)
        return real(str(src), folder)
    src = cache.parent / 'src.txt'
    src.write_bytes(GOOD)
    monkeypatch.setattr(dl, '_copy_to_temp', flaky)
    dl.register('a', 'a.txt', GOOD_SHA1, ['http://example.invalid/a.txt'])
    assert d2l.fetch('a').read_bytes() == GOOD
    assert len(calls) == 3


def test_every_file_of_the_shared_mirror_is_registered():
    registered = {res.path for res in d2l.DATA_HUB.values()}
    assert registered == {
        'FashionMNIST/raw/train-images-idx3-ubyte.gz',
        'FashionMNIST/raw/train-labels-idx1-ubyte.gz',
        'FashionMNIST/raw/t10k-images-idx3-ubyte.gz',
        'FashionMNIST/raw/t10k-labels-idx1-ubyte.gz',
        'timemachine.txt', 'kaggle_house_pred_train.csv', 'kaggle_house_pred_test.csv',
        'fra-eng/fra.txt', 'fra-eng/_about.txt'}


@pytest.mark.skipif(not os.environ.get('D2LMINI_MIRROR'), reason='no data mirror configured')
def test_registered_hashes_match_the_mirror(tmp_path):
    for name in d2l.DATA_HUB:
        path = d2l.fetch(name, folder=tmp_path)
        assert dl.sha1_of(path) == d2l.DATA_HUB[name].sha1


def test_archive_resource_is_extracted_and_checked(server, cache):
    blob = zip_bytes({'pack/a.txt': GOOD})
    server.files['/files/pack.zip'] = blob
    dl.register('packed', 'pack/a.txt', GOOD_SHA1, [server.url + '/files/pack.zip'],
                archive='pack.zip', archive_sha1=hashlib.sha1(blob).hexdigest())
    assert d2l.fetch('packed').read_bytes() == GOOD
    assert files_in(cache) == ['pack/a.txt']  # the archive itself is removed


def test_download_keeps_d2l_signature(server, cache):
    path = d2l.download(server.url + '/files/a.txt', sha1_hash=GOOD_SHA1)
    assert pathlib.Path(path).read_bytes() == GOOD
    with pytest.raises(dl.DataUnavailable, match='wrong sha1'):
        d2l.download(server.url + '/files/bad.txt', sha1_hash=GOOD_SHA1)


def test_extract_refuses_paths_outside_the_folder(tmp_path):
    evil_zip = tmp_path / 'evil.zip'
    with zipfile.ZipFile(evil_zip, 'w') as z:
        z.writestr('../escaped.txt', b'x')
    with pytest.raises(ValueError, match='outside'):
        d2l.extract(evil_zip, tmp_path / 'out')
    evil_tar = tmp_path / 'evil.tar'
    with tarfile.open(evil_tar, 'w') as t:
        info = tarfile.TarInfo('link')
        info.type, info.linkname = tarfile.SYMTYPE, '/etc/passwd'
        t.addfile(info)
    with pytest.raises(ValueError, match='outside'):
        d2l.extract(evil_tar, tmp_path / 'out')
    assert not (tmp_path / 'escaped.txt').exists() and not (tmp_path / 'out' / 'link').exists()
    with pytest.raises(ValueError, match='neither a zip nor a tar'):
        d2l.extract(_text(tmp_path), tmp_path)


def _text(folder):
    path = folder / 'plain.txt'
    path.write_text('not an archive')
    return path


def test_download_of_a_registered_url_goes_through_the_mirror(cache, tmp_path, monkeypatch):
    mirror = tmp_path / 'mirror'
    mirror.mkdir()
    (mirror / 'kaggle_house_pred_train.csv').write_bytes(GOOD)
    monkeypatch.setenv('D2LMINI_MIRROR', str(mirror))
    res = d2l.DATA_HUB['kaggle_house_train']
    monkeypatch.setitem(d2l.DATA_HUB, 'kaggle_house_train', dl.Resource(res.path, GOOD_SHA1, res.urls))
    path = d2l.download(d2l.DATA_URL + 'kaggle_house_pred_train.csv', sha1_hash=GOOD_SHA1)
    assert pathlib.Path(path) == cache / 'kaggle_house_pred_train.csv'
    assert pathlib.Path(path).read_bytes() == GOOD


def test_an_archive_member_with_the_wrong_content_is_refused(server, cache):
    blob = zip_bytes({'pack2/a.txt': b'not what was registered\n'})
    server.files['/files/pack2.zip'] = blob
    dl.register('packed-bad', 'pack2/a.txt', GOOD_SHA1, [server.url + '/files/pack2.zip'],
                archive='pack2.zip', archive_sha1=hashlib.sha1(blob).hexdigest())
    with pytest.raises(dl.DataUnavailable, match='wrong sha1'):
        d2l.fetch('packed-bad')
    assert files_in(cache) == []  # neither the member nor the archive is left behind
