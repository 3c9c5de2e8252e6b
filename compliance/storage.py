"""Where compliance documents are kept: a file system storage with no URL at all.

Documents are opened only through ``compliance:document_file``, which checks who asks. A
storage without a base URL makes that the only way: ``document.file.url`` raises instead of
pointing at a path a web server might serve. (In production, an S3-compatible bucket that is
not publicly readable plays the same part: ``COMPLIANCE_STORAGE_BACKEND``.)
"""

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    def __init__(self, location=None, **kwargs):
        kwargs.pop("base_url", None)
        super().__init__(location=location, base_url=None, **kwargs)

    @property
    def base_url(self):
        return None

    def url(self, name):
        raise ValueError(
            "Compliance documents have no public URL: open them through "
            "compliance:document_file, which checks who asks."
        )
