"""``manage.py create_api_key EMAIL --name NAME [--read-only]``."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from api.keys import secret_hash
from api.models import ApiKey
from tests.api.conftest import jsonapi_client

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("create_api_key", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_prints_only_the_secret_of_a_working_key(customer_admin):
    out, _err = run(f"  {customer_admin.email.upper()} ", "--name", " Provisioning ")
    secret = out.strip()
    assert out == secret + "\n" and secret.startswith("dpk_")
    key = ApiKey.objects.get(key_hash=secret_hash(secret))
    assert (key.name, key.read_only, key.created_by) == ("Provisioning", False, customer_admin)
    assert key.account == customer_admin.account
    assert jsonapi_client().get("/v3/balance", HTTP_API_KEY=secret).status_code == 200


def test_read_only_keys(reseller_admin):
    out, _err = run(reseller_admin.email, "--name", "Reports", "--read-only")
    key = ApiKey.objects.get(key_hash=secret_hash(out.strip()))
    assert key.read_only and key.account == reseller_admin.account
    assert jsonapi_client().post("/v3/balance", {}, HTTP_API_KEY=out.strip()).status_code == 403


def test_a_full_key_says_on_stderr_what_its_creator_must_agree_to(customer_admin, regulated):
    out, err = run(customer_admin.email, "--name", "Orders")
    assert "must agree to their requirement texts on the API keys page" in err
    assert out.strip() not in err and out.count("\n") == 1


def test_unknown_inactive_and_platform_users_are_clear_errors(
    customer_member, platform_admin, customer_admin
):
    with pytest.raises(CommandError, match="No user has the e-mail address 'nobody@x.test'"):
        run("nobody@x.test", "--name", "x")
    customer_member.is_active = False
    customer_member.save()
    with pytest.raises(CommandError, match="is deactivated"):
        run(customer_member.email, "--name", "x")
    with pytest.raises(CommandError, match="platform staff have none"):
        run(platform_admin.email, "--name", "x")
    with pytest.raises(CommandError, match="Give the key a name"):
        run(customer_admin.email, "--name", "   ")
    with pytest.raises(CommandError, match="--name"):
        run(customer_admin.email)
    assert not ApiKey.objects.exists()
