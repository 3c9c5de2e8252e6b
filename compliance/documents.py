"""Checks on an uploaded compliance document, before anything is stored.

``document_check(upload)`` reads an upload (a Django ``UploadedFile`` or any file object with
``name`` and ``size``) and returns a ``CheckedDocument`` (its bytes, content type, size,
SHA-256 and scan result), or raises ``DocumentRefused`` (a ``ValidationError``) with one
reason a person understands:

1. size first, from the upload's declared size before reading it (and again while reading,
   never more than the cap plus one byte): empty files and files over
   ``COMPLIANCE_DOCUMENT_MAX_BYTES`` are refused;
2. the type from the content's first bytes (never the name or the browser's content type):
   PDF, JPEG or PNG only, and a name whose extension says otherwise is refused ("named
   .pdf but is a PNG image");
3. images must decode (Pillow, with a pixel cap against decompression bombs); PDFs must
   parse (pypdf), be unencrypted, and carry no JavaScript, launch action, embedded file,
   or action run on opening;
4. when ``CLAMD_URL`` is set, ClamAV scans the bytes (``clamd_scan``): a file found
   infected is refused naming the signature, and a file that could not be scanned is
   refused too (never stored unscanned when a scanner is configured).
"""

import hashlib
import io
import logging
import os
import socket
import struct
import warnings
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

logger = logging.getLogger(__name__)

PDF, JPEG, PNG = "application/pdf", "image/jpeg", "image/png"
TYPE_NAMES = {PDF: "a PDF", JPEG: "a JPEG image", PNG: "a PNG image"}
EXTENSIONS = {
    ".pdf": PDF,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".jpe": JPEG,
    ".jfif": JPEG,
    ".png": PNG,
}
# Other types people try to upload, named in the refusal (first bytes → words).
OTHER_SIGNATURES = (
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive or an Office document"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"BM", "a BMP image"),
    (b"{\\rtf", "an RTF document"),
    (b"MZ", "a Windows program"),
    (b"\x7fELF", "a program"),
)
ACCEPTED_WORDS = "a PDF, JPEG or PNG file"
# An image larger than this many pixels is refused before being decoded (a small file may
# claim a huge canvas: a decompression bomb). 80 megapixels covers any scanner or phone.
MAX_IMAGE_PIXELS = 80_000_000
# PDF dictionary keys that make a reader do something besides showing pages.
PDF_FORBIDDEN_KEYS = {
    "/JS": "contains JavaScript",
    "/JavaScript": "contains JavaScript",
    "/Launch": "asks to launch a program",
    "/EmbeddedFiles": "contains embedded files",
    "/EmbeddedFile": "contains embedded files",
    "/EF": "contains embedded files",
    "/AA": "runs actions automatically",
    "/XFA": "contains an XFA form (it can run scripts)",
    "/RichMedia": "contains embedded media",
}
PDF_FORBIDDEN_ACTIONS = {
    "/JavaScript": "contains JavaScript",
    "/Launch": "asks to launch a program",
    "/ImportData": "asks to import data",
    "/SubmitForm": "submits a form",
    "/Rendition": "plays embedded media",
}
# A document's object graph larger than this is refused (parsing must stay cheap).
PDF_MAX_OBJECTS = 200_000


class DocumentRefused(ValidationError):
    """An upload refused, with the reason in ``message``."""


class ScanUnavailable(Exception):
    """The virus scanner could not give an answer."""


@dataclass(frozen=True)
class CheckedDocument:
    content: bytes
    content_type: str
    size: int
    sha256: str
    scan: str  # Document.Scan values: "clean" or "not_scanned"
    original_name: str


def _refuse(reason):
    raise DocumentRefused(reason, code="refused")


def display_name(name):
    """The upload's file name, without any path, trimmed to what the database keeps."""
    base = os.path.basename(str(name or "").replace("\\", "/")).strip()
    base = "".join(c for c in base if c.isprintable())
    return (base or "document")[:255]


def sniff(head: bytes):
    """The accepted type ``head`` starts with, or None."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    return None


def _what_else(head: bytes):
    for signature, words in OTHER_SIGNATURES:
        if head.startswith(signature):
            return words
    if b"%PDF-" in head[:1024]:
        return "a PDF with something before its header"
    return None


def _read_capped(upload, limit):
    """At most ``limit + 1`` bytes of ``upload`` (one more tells it is over the cap)."""
    if hasattr(upload, "seek"):
        upload.seek(0)
    chunks, total = [], 0
    if hasattr(upload, "chunks"):
        stream = upload.chunks()
    else:
        stream = iter(lambda: upload.read(64 * 1024), b"")
    for chunk in stream:
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            break
    return b"".join(chunks)[: limit + 1]


def _damaged(content_type):
    return f"The file looks like {TYPE_NAMES[content_type]} but is damaged: it cannot be opened."


def _check_image(content, content_type):
    from PIL import Image, UnidentifiedImageError

    expected = {JPEG: "JPEG", PNG: "PNG"}[content_type]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[expected]) as image:
                width, height = image.size
                if width * height > MAX_IMAGE_PIXELS:
                    _refuse(
                        f"The image is {width} × {height} pixels: too large to check. "
                        "Scan it at a lower resolution."
                    )
                image.load()
    except DocumentRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        _refuse("The image is too large in pixels to check. Scan it at a lower resolution.")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError):
        _refuse(_damaged(content_type))
    except Exception:  # Pillow's decoders raise more kinds than they document
        logger.info("Image refused: decoder error", exc_info=True)
        _refuse(_damaged(content_type))


def _pdf_problem(reader):
    """Why the PDF ``reader`` holds must be refused, or None. Walks every object reachable
    from the trailer (pages, annotations, name trees, forms…)."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    seen, stack, count = set(), [reader.trailer], 0
    opens_with_action = False
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            key = (node.idnum, node.generation)
            if key in seen:
                continue
            seen.add(key)
            node = node.get_object()
        count += 1
        if count > PDF_MAX_OBJECTS:
            return "is too complex to check"
        if isinstance(node, DictionaryObject):
            for name, value in node.items():
                if name in PDF_FORBIDDEN_KEYS:
                    return PDF_FORBIDDEN_KEYS[name]
                if name == "/S" and isinstance(value, NameObject):
                    if value in PDF_FORBIDDEN_ACTIONS:
                        return PDF_FORBIDDEN_ACTIONS[value]
                if name == "/Type" and value == "/EmbeddedFile":
                    return "contains embedded files"
                if name == "/OpenAction":
                    target = value.get_object() if isinstance(value, IndirectObject) else value
                    # A destination (open at a page) is harmless; an action is not (said
                    # after the walk, in case the action is something more precise).
                    if isinstance(target, DictionaryObject):
                        opens_with_action = True
                stack.append(value)
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return "runs an action when opened" if opens_with_action else None


def _check_pdf(content):
    from pypdf import PdfReader

    unreadable = "The file starts like a PDF but cannot be read as one: it may be damaged."
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reader = PdfReader(io.BytesIO(content), strict=False)
            if reader.is_encrypted:
                _refuse(
                    "The PDF is encrypted or password-protected: save or print it as a PDF "
                    "without a password and upload that."
                )
            if len(reader.pages) < 1:
                _refuse("The PDF has no pages.")
            problem = _pdf_problem(reader)
    except DocumentRefused:
        raise
    except RecursionError:
        _refuse(unreadable)
    except Exception:  # pypdf raises many kinds on broken files
        logger.info("PDF refused: unreadable", exc_info=True)
        _refuse(unreadable)
    if problem:
        _refuse(
            f"The PDF {problem}, which we do not accept. Upload a plain scan or export "
            "of the document."
        )


# --- ClamAV ------------------------------------------------------------------------------------

CLAMD_CHUNK = 64 * 1024


def _clamd_connect(url, timeout):
    """A socket to clamd at ``url``: ``tcp://host:port``, ``unix:///path`` or a socket path."""
    parts = urlsplit(url)
    if parts.scheme == "tcp":
        if not parts.hostname or not parts.port:
            raise ScanUnavailable(f"CLAMD_URL {url!r} needs a host and a port")
        return socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    path = parts.path if parts.scheme == "unix" else url
    if not path.startswith("/"):
        raise ScanUnavailable(f"CLAMD_URL {url!r} is neither tcp://host:port nor a socket path")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        raise
    return sock


def clamd_scan(content: bytes, *, url, timeout):
    """Scan ``content`` with clamd's INSTREAM command. Returns None when clean, or the name
    of the signature found; raises ``ScanUnavailable`` when clamd cannot answer (not
    reachable, timed out, an error reply such as its stream size limit)."""
    try:
        with _clamd_connect(url, timeout) as sock:
            sock.sendall(b"zINSTREAM\0")
            for start in range(0, len(content), CLAMD_CHUNK):
                chunk = content[start : start + CLAMD_CHUNK]
                sock.sendall(struct.pack("!L", len(chunk)) + chunk)
            sock.sendall(struct.pack("!L", 0))
            reply = b""
            while not reply.endswith(b"\0") and len(reply) < 4096:
                data = sock.recv(4096)
                if not data:
                    break
                reply += data
    except ScanUnavailable:
        raise
    except OSError as exc:  # refused, unreachable, timed out, reset
        raise ScanUnavailable(str(exc)) from exc
    answer = reply.rstrip(b"\0").decode("utf-8", "replace").strip()
    # "stream: OK", "stream: Eicar-Signature FOUND", "INSTREAM size limit exceeded. ERROR"
    if answer.endswith(" OK") or answer == "OK":
        return None
    if answer.endswith(" FOUND"):
        signature = answer.removesuffix(" FOUND").split(": ", 1)[-1].strip()
        return signature or "unknown"
    raise ScanUnavailable(f"clamd answered {answer[:200]!r}")


def _scan(content):
    url = getattr(settings, "CLAMD_URL", "")
    if not url:
        return "not_scanned"
    try:
        found = clamd_scan(content, url=url, timeout=settings.CLAMD_TIMEOUT)
    except ScanUnavailable as exc:
        logger.warning("Compliance upload not scanned: %s", exc)
        _refuse(
            "The file could not be scanned for viruses just now, so it was not saved. "
            "Try again later."
        )
    if found:
        _refuse(f"The virus scanner found “{found}” in the file: it was not saved.")
    return "clean"


# --- The whole check -----------------------------------------------------------------------------


def document_check(upload) -> CheckedDocument:
    """Every check, cheapest first; see the module's docstring."""
    limit = settings.COMPLIANCE_DOCUMENT_MAX_BYTES
    name = display_name(getattr(upload, "name", ""))
    too_big = (
        f"The file is larger than {filesizeformat(limit)}: scan it at a lower resolution "
        "or split it."
    )
    declared = getattr(upload, "size", None)
    if declared is not None and declared > limit:
        _refuse(too_big)
    content = _read_capped(upload, limit)
    if not content:
        _refuse("The file is empty (0 bytes).")
    if len(content) > limit:
        _refuse(too_big)
    content_type = sniff(content[:16])
    if content_type is None:
        other = _what_else(content[:1024])
        found = f"it is {other}" if other else "its content is not one of these"
        _refuse(f"Upload {ACCEPTED_WORDS}: {found}.")
    extension = os.path.splitext(name)[1].lower()
    if extension and EXTENSIONS.get(extension) != content_type:
        _refuse(
            f"The file is named {extension} but is {TYPE_NAMES[content_type]}: rename it "
            f"or upload the right file."
        )
    if content_type == PDF:
        _check_pdf(content)
    else:
        _check_image(content, content_type)
    scan = _scan(content)
    return CheckedDocument(
        content=content,
        content_type=content_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        scan=scan,
        original_name=name,
    )
