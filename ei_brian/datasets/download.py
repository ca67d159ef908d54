"""Downloads with :mod:`pooch` (imported only when something is downloaded), ``file://`` URLs
included (Fashion-MNIST and SHD share this)."""
import contextlib
import os
import pathlib
import shutil
import urllib.error
import urllib.parse
import urllib.request


def pooch_downloader(progress):
    """A :mod:`pooch` downloader (HTTP(S) and FTP as pooch does them) that also reads
    ``file://`` URLs, such as the tests' offline mirrors."""
    import pooch  # pooch (0.1 s) only when a file is downloaded

    http = pooch.HTTPDownloader(progressbar=progress)

    def download(url, output_file, pooch_object, check_only=False):
        if urllib.parse.urlparse(url).scheme == "file":
            with urllib.request.urlopen(url, timeout=60) as response:
                if check_only:
                    return True
                with open(output_file, "wb") if isinstance(output_file, (str, os.PathLike)) \
                        else contextlib.nullcontext(output_file) as out:
                    shutil.copyfileobj(response, out, 1 << 20)
            return None
        if urllib.parse.urlparse(url).scheme in ("ftp", "sftp", "doi"):
            return pooch.downloaders.choose_downloader(url, progressbar=progress)(
                url, output_file, pooch_object, check_only=check_only)
        return http(url, output_file, pooch_object, check_only=check_only)

    return download



def _download(url, target, progress):
    """Download ``url`` to the path ``target`` (which must not exist yet) with :mod:`pooch`."""
    import pooch  # pooch (0.1 s) only when a file is downloaded
    target = pathlib.Path(target)
    try:
        pooch.retrieve(url, known_hash=None, fname=target.name, path=target.parent,
                       downloader=pooch_downloader(progress), progressbar=progress)
    except Exception as error:  # noqa: BLE001 - requests' and pooch's errors: say which URL
        if isinstance(error, (urllib.error.URLError, OSError, ValueError)):
            raise
        raise OSError(f"{type(error).__name__}: {error}") from error
