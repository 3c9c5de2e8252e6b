"""Upload checks (``compliance.documents``): type from content, size, names that lie, broken
images, dangerous or encrypted PDFs, and the ClamAV hook against a tiny fake clamd speaking
the INSTREAM protocol over a real socket."""

import io
import os
import socket
import struct
import tempfile
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject

from compliance.documents import DocumentRefused, clamd_scan, display_name, document_check
from tests.compliance.factories import TINY_PDF, TINY_PNG


def upload(content, name="scan.pdf"):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def refusal(content, name="scan.pdf"):
    with pytest.raises(DocumentRefused) as caught:
        document_check(upload(content, name))
    return caught.value.messages[0]


def jpeg_bytes(size=(4, 4)):
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="JPEG")
    return out.getvalue()


def pdf_with(mutate=None, password=None):
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    if mutate:
        mutate(writer)
    if password:
        writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- accepted ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (TINY_PDF, "passport.pdf", "application/pdf"),
        (TINY_PNG, "bill.PNG", "image/png"),
        (jpeg_bytes(), "id.jpeg", "image/jpeg"),
        (jpeg_bytes(), "photo.JPG", "image/jpeg"),
        (TINY_PDF, "no-extension", "application/pdf"),
    ],
)
def test_accepted_files_are_typed_by_their_content(settings, content, name, content_type):
    settings.CLAMD_URL = ""
    checked = document_check(upload(content, name))
    assert checked.content_type == content_type
    assert checked.size == len(content)
    assert checked.content == content
    assert checked.scan == "not_scanned"
    assert checked.original_name == name


def test_the_browser_content_type_is_ignored():
    # The browser says PDF; the content is a PNG named .png: accepted as what it is.
    fake = SimpleUploadedFile("bill.png", TINY_PNG, content_type="application/pdf")
    assert document_check(fake).content_type == "image/png"


def test_a_path_in_the_name_is_dropped():
    assert display_name("C:\\Users\\me\\passport.pdf") == "passport.pdf"
    assert display_name("../../etc/passwd") == "passwd"
    assert display_name("") == "document"


def test_a_generated_pdf_with_a_destination_open_action_is_accepted():
    def open_at_page(writer):
        page = writer.pages[0].indirect_reference
        writer._root_object[NameObject("/OpenAction")] = writer._add_object(
            __import__("pypdf").generic.ArrayObject([page, NameObject("/Fit")])
        )

    assert document_check(upload(pdf_with(open_at_page))).content_type == "application/pdf"


# --- refused, each with its reason ----------------------------------------------------------


def test_zero_bytes_are_refused():
    assert refusal(b"") == "The file is empty (0 bytes)."


def test_the_size_cap_is_checked_before_reading(settings):
    settings.COMPLIANCE_DOCUMENT_MAX_BYTES = 1000

    class Huge:
        name = "big.pdf"
        size = 5_000_000_000

        def read(self, *args):
            raise AssertionError("read before the size check")

    with pytest.raises(DocumentRefused, match="larger than 1000"):
        document_check(Huge())


def test_a_file_larger_than_declared_is_cut_at_the_cap(settings):
    settings.COMPLIANCE_DOCUMENT_MAX_BYTES = 1000

    class Liar(io.BytesIO):
        name = "lie.pdf"
        size = 10

    with pytest.raises(DocumentRefused, match="larger than"):
        document_check(Liar(TINY_PDF + b"0" * 5000))


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b"GIF89a\x01\x00\x01\x00", "it is a GIF image"),
        (b"PK\x03\x04rest-of-a-docx", "it is a ZIP archive or an Office document"),
        (b"MZ\x90\x00 windows program", "it is a Windows program"),
        (b"hello, plain text", "its content is not one of these"),
        (b"junk%PDF-1.4 later", "it is a PDF with something before its header"),
    ],
)
def test_other_types_are_refused_naming_what_they_are(content, found):
    assert refusal(content, "x") == f"Upload a PDF, JPEG or PNG file: {found}."


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (TINY_PNG, "scan.pdf", "The file is named .pdf but is a PNG image"),
        (TINY_PDF, "photo.jpg", "The file is named .jpg but is a PDF"),
        (jpeg_bytes(), "bill.png", "The file is named .png but is a JPEG image"),
        (TINY_PDF, "invoice.exe", "The file is named .exe but is a PDF"),
    ],
)
def test_an_extension_that_contradicts_the_content_is_refused(content, name, message):
    assert refusal(content, name).startswith(message)


def test_a_truncated_png_is_refused():
    assert refusal(TINY_PNG[:40], "a.png") == (
        "The file looks like a PNG image but is damaged: it cannot be opened."
    )


def test_a_jpeg_header_alone_is_refused():
    assert "damaged" in refusal(b"\xff\xd8\xff\xe0" + b"\0" * 100, "a.jpg")


def test_an_image_claiming_a_huge_canvas_is_refused():
    # A valid PNG header claiming 100000 × 100000 pixels (a decompression bomb's shape).
    import zlib

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 0, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + chunk(b"IEND", b"")
    )
    assert "too large" in refusal(bomb, "bomb.png")


def test_an_unparsable_pdf_is_refused():
    assert refusal(b"%PDF-1.7\n this is not a pdf at all") == (
        "The file starts like a PDF but cannot be read as one: it may be damaged."
    )


def test_an_encrypted_pdf_is_refused():
    assert refusal(pdf_with(password="secret")).startswith(
        "The PDF is encrypted or password-protected"
    )


def _javascript_open_action(writer):
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/JavaScript"),
            NameObject("/JS"): TextStringObject("app.alert('hi');"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


def _launch_action(writer):
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/Launch"),
            NameObject("/F"): TextStringObject("calc.exe"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


def _launch_in_annotation(writer):
    action = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("x")}
    )
    annotation = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Annot"),
            NameObject("/Subtype"): NameObject("/Link"),
            NameObject("/A"): action,
        }
    )
    writer.pages[0][NameObject("/Annots")] = __import__("pypdf").generic.ArrayObject(
        [writer._add_object(annotation)]
    )


def _embedded_file(writer):
    writer.add_attachment("payload.exe", b"MZ evil")


def _uri_open_action(writer):
    action = DictionaryObject(
        {
            NameObject("/S"): NameObject("/URI"),
            NameObject("/URI"): TextStringObject("https://example.com"),
        }
    )
    writer._root_object[NameObject("/OpenAction")] = writer._add_object(action)


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (_javascript_open_action, "contains JavaScript"),
        (_launch_action, "asks to launch a program"),
        (_launch_in_annotation, "asks to launch a program"),
        (_embedded_file, "contains embedded files"),
        (_uri_open_action, "runs an action when opened"),
    ],
)
def test_active_content_in_a_pdf_is_refused(mutate, words):
    assert refusal(pdf_with(mutate)) == (
        f"The PDF {words}, which we do not accept. Upload a plain scan or export of the document."
    )


def test_javascript_hidden_by_a_name_escape_is_still_found():
    """``/J#61vaScript`` is the name ``/JavaScript`` written with a hex escape."""
    sneaky = TINY_PDF.replace(
        b"1 0 obj<</Type/Catalog/Pages 2 0 R>>",
        b"1 0 obj<</Type/Catalog/Pages 2 0 R/Names<</J#61vaScript 9 0 R>>>>",
    )
    assert "JavaScript" in refusal(sneaky)


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from([b"", b"%PDF-1.4\n", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff"]),
    body=st.binary(max_size=2000),
    name=st.sampled_from(["a.pdf", "a.png", "a.jpg", "a", "a.txt", "a.pdf.exe"]),
)
def test_random_bytes_are_accepted_or_refused_with_a_reason(prefix, body, name):
    try:
        checked = document_check(upload(prefix + body, name))
    except DocumentRefused as exc:
        assert exc.messages and all(exc.messages)
    else:
        assert checked.content_type in ("application/pdf", "image/png", "image/jpeg")


# --- ClamAV: a fake clamd that speaks INSTREAM -----------------------------------------------

EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class FakeClamd:
    """A clamd on a real socket: reads ``zINSTREAM\\0`` and length-prefixed chunks up to the
    zero chunk, then answers like clamd (``stream: OK`` / ``stream: <name> FOUND``)."""

    def __init__(self, *, family=socket.AF_INET, path=None, answer=None, silent=False):
        self.received = []
        self.answer = answer
        self.silent = silent
        self.server = socket.socket(family, socket.SOCK_STREAM)
        if family == socket.AF_INET:
            self.server.bind(("127.0.0.1", 0))
            self.url = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        else:
            self.server.bind(path)
            self.url = path
        self.server.listen(4)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _read_exact(self, conn, n):
        data = b""
        while len(data) < n:
            more = conn.recv(n - len(data))
            if not more:
                raise ConnectionError("closed")
            data += more
        return data

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn:
                command = b""
                while not command.endswith(b"\0"):
                    command += self._read_exact(conn, 1)
                assert command == b"zINSTREAM\0"
                content = b""
                while True:
                    (length,) = struct.unpack("!L", self._read_exact(conn, 4))
                    if length == 0:
                        break
                    content += self._read_exact(conn, length)
                self.received.append(content)
                if self.silent:
                    threading.Event().wait(2)
                    continue
                answer = self.answer or (
                    b"stream: Eicar-Test-Signature FOUND" if EICAR in content else b"stream: OK"
                )
                conn.sendall(answer + b"\0")

    def close(self):
        self.server.close()


@pytest.fixture
def clamd():
    server = FakeClamd()
    yield server
    server.close()


def test_clean_files_are_streamed_whole_and_marked_clean(settings, clamd):
    settings.CLAMD_URL = clamd.url
    big_png = io.BytesIO()
    Image.new("RGB", (400, 400)).save(big_png, format="PNG", compress_level=0)
    content = big_png.getvalue()  # several INSTREAM chunks
    assert len(content) > 3 * 64 * 1024
    checked = document_check(upload(content, "big.png"))
    assert checked.scan == "clean"
    assert clamd.received == [content]


def test_an_infected_file_is_refused_naming_the_signature(settings, clamd):
    settings.CLAMD_URL = clamd.url
    infected = TINY_PNG + EICAR  # image readers ignore what follows the last chunk
    assert refusal(infected, "bill.png") == (
        "The virus scanner found “Eicar-Test-Signature” in the file: it was not saved."
    )


def test_clamd_over_a_unix_socket():
    directory = tempfile.mkdtemp()
    path = os.path.join(directory, "clamd.sock")
    server = FakeClamd(family=socket.AF_UNIX, path=path)
    try:
        assert clamd_scan(b"hello", url=path, timeout=5) is None
        assert clamd_scan(EICAR, url=f"unix://{path}", timeout=5) == "Eicar-Test-Signature"
    finally:
        server.close()


UNAVAILABLE = (
    "The file could not be scanned for viruses just now, so it was not saved. Try again later."
)


def test_an_unreachable_scanner_refuses_the_file(settings):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    settings.CLAMD_URL = f"tcp://127.0.0.1:{port}"
    assert refusal(TINY_PDF) == UNAVAILABLE


def test_a_scanner_that_does_not_answer_in_time_refuses_the_file(settings):
    server = FakeClamd(silent=True)
    settings.CLAMD_URL, settings.CLAMD_TIMEOUT = server.url, 0.3
    try:
        assert refusal(TINY_PDF) == UNAVAILABLE
    finally:
        server.close()


def test_a_scanner_error_refuses_the_file(settings):
    server = FakeClamd(answer=b"INSTREAM size limit exceeded. ERROR")
    settings.CLAMD_URL = server.url
    try:
        assert refusal(TINY_PDF) == UNAVAILABLE
    finally:
        server.close()


def test_a_malformed_clamd_url_refuses_the_file(settings):
    settings.CLAMD_URL = "clamd-somewhere"
    assert refusal(TINY_PDF) == UNAVAILABLE
