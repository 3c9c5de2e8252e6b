"""The Content-Security-Policy: sent on every page, and nothing in our templates needs it
loosened (no inline script, style attribute, inline event handler or htmx eval)."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
# Not pages a browser renders under the policy: the PDF renderer and e-mail clients read these.
NOT_PAGES = ("billing/invoice_pdf.html", "email/")
INLINE = {
    "an inline <script>": re.compile(r"<script(?![^>]*\b(?:src|nonce)=)[^>]*>"),
    "a style attribute": re.compile(r"\sstyle=\""),
    "a <style> element": re.compile(r"<style[\s>]"),
    "an inline event handler": re.compile(r"\son[a-z]+=\""),
    "an hx-on handler (htmx eval)": re.compile(r"\shx-on[:-]"),
}


def test_the_policy_is_sent_and_strict(client, db):
    response = client.get(reverse("catalog:coverage"))
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"].startswith("'self'")
    assert directives["style-src"].startswith("'self'")
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_an_inline_script_may_carry_the_requests_nonce(rf):
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse
    from django.template import engines

    template = engines["django"].from_string('<script nonce="{{ request.csp_nonce }}"></script>')

    def view(request):
        return HttpResponse(template.render({}, request))

    response = CSPMiddleware(view)(rf.get("/"))
    nonce = re.search(r'nonce="([^"]+)"', response.content.decode())[1]
    assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "template",
    sorted(
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if not str(path.relative_to(TEMPLATES)).startswith(NOT_PAGES) and "/email/" not in str(path)
    ),
)
def test_templates_need_nothing_the_policy_blocks(template):
    text = (TEMPLATES / template).read_text()
    found = [what for what, pattern in INLINE.items() if pattern.search(text)]
    assert not found, f"{template} has {', '.join(found)}: move it to static/js or css"
